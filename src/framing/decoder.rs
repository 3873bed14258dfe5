//! The streaming decoder: bytes in, in chunks of any size; packets out. It allocates nothing,
//! holds at most one packet, and recovers from garbage as PROTOCOL.md section 3.5 says.

use core::ptr::addr_of_mut;

use super::{max_payload_u16, Checksum, Flags, Header, Opcode, HEADER_LEN, SYNC};

/// A decoded packet; the payload borrows the decoder or the input chunk (no copy when the whole
/// packet was inside one chunk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The header; its CRC was checked if CRCs are on.
    pub header: Header,
    /// `header.length` bytes, without the payload CRC.
    pub payload: &'a [u8],
}

/// Which end decodes: they differ in two rules of PROTOCOL.md 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// ACK / NAK from the host are exempt from the seq check, and a stalled packet is
    /// abandoned for a complete PROTO_SYNC found in the bytes held (3.5).
    Device,
    /// Answers, ACK and NAK included, must carry the host's counter.
    Host,
}

/// A packet with a valid header that must not be used; the device NAKs each with its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The header claims more than `max_payload` bytes (NAK OVERFLOW). One byte was dropped.
    Oversize(Header),
    /// The header's seq is not the expected one (NAK SEQUENCE). One byte was dropped.
    Sequence(Header),
    /// The payload failed its CRC-32 (NAK CHECKSUM). One byte was dropped.
    PayloadChecksum(Header),
}

impl FrameError {
    /// The refused packet's header, whose opcode and channel a NAK repeats.
    pub fn header(&self) -> &Header {
        match self {
            FrameError::Oversize(h) | FrameError::Sequence(h) | FrameError::PayloadChecksum(h) => h,
        }
    }
}

/// What one call to [`Decoder::feed`] found.
pub type FeedResult<'a> = Option<Result<Packet<'a>, FrameError>>;

enum HeaderCheck {
    /// Not a header (bad CRC): drop one byte, silently.
    Bad,
    Error(FrameError),
    Good(Header),
}

/// What the bytes at a packet candidate are (see `Decoder::step`).
enum Step {
    /// Not a packet start (garbage, or a header that failed its CRC): drop this many bytes.
    Skip(usize),
    /// This many more bytes decide (the header is incomplete).
    Need(usize),
    /// A good header; this many more bytes complete its packet of the given length.
    NeedBody(usize, usize),
    /// A whole, verified packet of this length.
    Packet(Header, usize),
    /// A header that must be refused, or a payload that failed its CRC: drop one byte.
    Error(FrameError),
}

// Where the packet to hand out lies, found before any borrow is taken.
enum Found {
    None,
    /// Payload at `buf[.1...2]`; the first `.3` held bytes are handed out.
    InBuf(Header, usize, usize, usize),
    InInput(Header, usize, usize),
    Error(FrameError),
}

/// A streaming packet decoder with an `N`-byte packet buffer. `IN_PLACE`: a packet wholly
/// inside one input chunk is handed out from the chunk, not copied (the host's choice, for
/// throughput); without it every packet goes through the buffer, one path only, which is
/// what a cam's flash wants (its requests are small and arrive in UART-sized chunks).
/// `repr(C)`: the state before the buffer, so a cam reaches both from one base register.
#[derive(Debug)]
#[repr(C)]
pub struct Decoder<const N: usize, const IN_PLACE: bool = true> {
    /// The held bytes are `buf[start..len]`, starting at a packet candidate. Dropping bytes
    /// moves `start` (no copy), so garbage costs linear time; the held bytes move to the
    /// front only when an append would not fit behind them.
    start: usize,
    len: usize,
    /// Held bytes handed out by the last call, dropped at the next.
    handed_out: usize,
    /// Positions of `buf` below this were searched for a stall-breaking PROTO_SYNC.
    scanned: usize,
    /// The held candidate's header passed its checks and the packet is this long (0: not
    /// checked yet), so a packet arriving in many chunks has its header CRC computed once.
    verified: u16,
    /// A length field is a u16, so no header claims more than that.
    max_payload: u16,
    crc: bool,
    expected_seq: Option<u8>,
    role: Role,
    buf: [u8; N],
}

impl<const N: usize, const IN_PLACE: bool> Decoder<N, IN_PLACE> {
    /// The largest payload `N` holds (and a length field can claim).
    const LIMIT: u16 = max_payload_u16(N);

    /// A decoder with CRC checking on, no sequence check, and the largest `max_payload` that
    /// fits `N`.
    pub const fn new(role: Role) -> Self {
        Decoder {
            buf: [0; N],
            start: 0,
            len: 0,
            handed_out: 0,
            scanned: 0,
            verified: 0,
            max_payload: Self::LIMIT,
            crc: true,
            expected_seq: None,
            role,
        }
    }

    /// Writes a decoder like [`Decoder::new`] into `p` field by field, zeroing the buffer in
    /// place instead of building it on the stack.
    ///
    /// # Safety
    /// `p` must be valid for writes and aligned for `Self`.
    pub(crate) unsafe fn init_raw(p: *mut Self, role: Role) {
        // SAFETY: the caller guarantees `p` is writable and aligned; once zeroed it is what
        // `init_zeroed` asks for.
        unsafe {
            p.write_bytes(0, 1);
            Self::init_zeroed(p, role);
        }
    }

    /// [`Decoder::init_raw`] for memory already zeroed: the buffer and the positions start at
    /// zero, so only the other fields are written.
    ///
    /// # Safety
    /// `p` must be valid for writes, aligned for `Self`, and all its bytes zero.
    pub(crate) unsafe fn init_zeroed(p: *mut Self, role: Role) {
        // SAFETY: the caller guarantees `p` is writable, aligned and zeroed; zero bytes are a
        // valid buffer, position, `verified` count and `bool`, and the fields whose start-up
        // value is not zero bytes are written here, each once through its own raw pointer.
        unsafe {
            addr_of_mut!((*p).max_payload).write(Self::LIMIT);
            addr_of_mut!((*p).crc).write(true);
            addr_of_mut!((*p).expected_seq).write(None);
            addr_of_mut!((*p).role).write(role);
        }
    }

    /// The three checks at once: CRCs checked or not, headers claiming more than
    /// `max_payload` refused (clamped to what `N` holds), and the seq that non-exempt packets
    /// must carry (`None`: any). A change forgets whether the held header passed them.
    pub fn set_rules(&mut self, crc: bool, max_payload: usize, expected_seq: Option<u8>) {
        let max = max_payload.min(Self::LIMIT as usize) as u16;
        if (crc, max, expected_seq) != (self.crc, self.max_payload, self.expected_seq) {
            self.verified = 0;
            self.crc = crc;
            self.max_payload = max;
            self.expected_seq = expected_seq;
        }
    }

    /// Headers claiming more than this are refused; clamped to what `N` holds.
    pub fn set_max_payload(&mut self, max: usize) {
        self.set_rules(self.crc, max, self.expected_seq);
    }

    /// Largest payload a header may claim, in bytes (already clamped to what `N` holds).
    pub fn max_payload(&self) -> usize {
        self.max_payload as usize
    }

    /// Whether CRCs are checked (the `crc` capability).
    pub fn set_crc(&mut self, on: bool) {
        self.set_rules(on, self.max_payload as usize, self.expected_seq);
    }

    /// The seq that non-exempt packets must carry, or `None` to accept any.
    pub fn set_expected_seq(&mut self, seq: Option<u8>) {
        self.set_rules(self.crc, self.max_payload as usize, seq);
    }

    /// Bytes waiting for the rest of a packet.
    pub fn buffered(&self) -> usize {
        self.len - self.start - self.handed_out
    }

    /// Forgets any partial packet.
    pub fn clear(&mut self) {
        self.verified = 0;
        self.start = 0;
        self.len = 0;
        self.handed_out = 0;
        self.scanned = 0;
    }

    /// Feeds bytes. Returns how many bytes of `input` were used and at most one packet or
    /// error; call again with the rest until it uses nothing and finds nothing.
    #[inline(never)] // one body for every caller; inlined, it costs a cam 84 B
    pub fn feed<'a>(&'a mut self, input: &'a [u8], crc: &dyn Checksum) -> (usize, FeedResult<'a>) {
        if self.handed_out > 0 {
            self.drop_front(self.handed_out);
            self.handed_out = 0;
        }
        let (used, found) = self.locate(input, crc);
        let res = match found {
            Found::None => None,
            Found::Error(e) => Some(Err(e)),
            Found::InBuf(header, start, end, consumed) => {
                self.handed_out = consumed;
                Some(Ok(Packet { header, payload: &self.buf[start..end] }))
            }
            Found::InInput(header, start, end) => Some(Ok(Packet { header, payload: &input[start..end] })),
        };
        (used, res)
    }

    fn locate(&mut self, input: &[u8], crc: &dyn Checksum) -> (usize, Found) {
        if !IN_PLACE {
            return self.locate_copying(input, crc);
        }
        let mut used = 0;
        // Complete what the buffer holds, taking only the bytes each decision needs.
        while self.len > 0 {
            match self.examine_buffer(crc) {
                Ok(need) => {
                    if used == input.len() {
                        return (used, self.scan_stall_for_sync(crc));
                    }
                    used += self.append(&input[used..], need);
                }
                // The buffer emptied: the rest of the input is decoded in place below.
                Err(Found::None) => break,
                Err(found) => return (used, found),
            }
        }
        // Empty buffer: decode in place from the input.
        let mut i = used;
        while i < input.len() {
            let rest = &input[i..];
            match self.step(rest, false, crc) {
                Step::Skip(n) => i += n,
                Step::Need(_) => return (input.len(), self.keep(rest)),
                Step::NeedBody(_, total) => {
                    self.keep(rest);
                    self.verified = u16::try_from(total).unwrap_or(0);
                    return (input.len(), self.scan_stall_for_sync(crc));
                }
                Step::Packet(h, total) => {
                    return (i + total, Found::InInput(h, i + HEADER_LEN, i + HEADER_LEN + h.length as usize))
                }
                // A bad packet costs one byte, like a bad header.
                Step::Error(e) => return (i + 1, Found::Error(e)),
            }
        }
        (input.len(), Found::None)
    }

    /// `locate` without in-place decoding: garbage before a candidate is skipped in the
    /// input, and a candidate's bytes are taken into the buffer, where `examine_buffer` decides.
    fn locate_copying(&mut self, input: &[u8], crc: &dyn Checksum) -> (usize, Found) {
        let mut used = 0;
        loop {
            if self.len == 0 {
                let rest = &input[used..];
                let Some(p) = find_sync_start(rest) else { return (input.len(), Found::None) };
                used += p + 1;
                self.keep(&rest[p..p + 1]);
            }
            match self.examine_buffer(crc) {
                Ok(_) if used == input.len() => return (used, self.scan_stall_for_sync(crc)),
                Ok(need) => {
                    used += self.append(&input[used..], need);
                }
                Err(Found::None) => {} // the buffer emptied: on with the input
                Err(found) => return (used, found),
            }
        }
    }

    /// Looks at the buffered bytes: `Ok(n)` when `n` more bytes are needed, `Err` with what was
    /// found (a packet in the buffer, an error, or `Found::None` once the buffer is empty).
    fn examine_buffer(&mut self, crc: &dyn Checksum) -> Result<usize, Found> {
        loop {
            let s = self.start;
            match self.step(&self.buf[s..self.len], self.verified != 0, crc) {
                Step::Skip(n) => {
                    self.drop_front(n);
                    if self.len == 0 {
                        return Err(Found::None);
                    }
                }
                Step::Need(n) => return Ok(n),
                Step::NeedBody(n, total) => {
                    self.verified = u16::try_from(total).unwrap_or(0);
                    return Ok(n);
                }
                Step::Packet(h, total) => {
                    self.verified = 0;
                    return Err(Found::InBuf(h, s + HEADER_LEN, s + HEADER_LEN + h.length as usize, total));
                }
                Step::Error(e) => {
                    self.drop_front(1);
                    return Err(Found::Error(e));
                }
            }
        }
    }

    /// One decision about the non-empty bytes `b`, which start where a packet may start: the
    /// same rules for buffered bytes and for input decoded in place. `verified`: the header at
    /// the front already passed its checks.
    fn step(&self, b: &[u8], verified: bool, crc: &dyn Checksum) -> Step {
        match find_sync_start(b) {
            Some(0) => {}
            Some(p) => return Step::Skip(p),
            None => return Step::Skip(b.len()),
        }
        if b.len() < 2 {
            return Step::Need(1);
        }
        if b[1] != SYNC[1] {
            return Step::Skip(1);
        }
        let Some(head) = b.first_chunk::<HEADER_LEN>() else { return Step::Need(HEADER_LEN - b.len()) };
        let h = match verified {
            true => Header::parse(head),
            false => match self.check_header(head, crc) {
                HeaderCheck::Bad => return Step::Skip(1),
                HeaderCheck::Error(e) => return Step::Error(e),
                HeaderCheck::Good(h) => h,
            },
        };
        let total = HEADER_LEN + h.body_len();
        let Some(packet) = b.get(..total) else { return Step::NeedBody(total - b.len(), total) };
        match self.verify(h, packet, crc) {
            Ok(()) => Step::Packet(h, total),
            Err(e) => Step::Error(e),
        }
    }

    fn check_header(&self, head: &[u8; HEADER_LEN], crc: &dyn Checksum) -> HeaderCheck {
        if self.crc && !Header::crc_ok(head, crc) {
            return HeaderCheck::Bad;
        }
        let h = Header::parse(head);
        if h.length > self.max_payload {
            return HeaderCheck::Error(FrameError::Oversize(h));
        }
        let exempt = h.seq_exempt() || (self.role == Role::Device && h.flags.intersects(Flags::ACK | Flags::NAK));
        match self.expected_seq {
            Some(s) if s != h.seq && !exempt => HeaderCheck::Error(FrameError::Sequence(h)),
            _ => HeaderCheck::Good(h),
        }
    }

    fn verify(&self, h: Header, packet: &[u8], crc: &dyn Checksum) -> Result<(), FrameError> {
        if self.crc && h.length > 0 {
            // `packet` is header, payload and CRC-32 (`step` sized it): checked slicing, one
            // test instead of a bounds check per byte.
            let end = HEADER_LEN + h.length as usize;
            let body = packet.get(HEADER_LEN..end);
            let want = packet.get(end..).and_then(|t| t.first_chunk::<4>());
            match (body, want) {
                (Some(body), Some(want)) if crc.crc32(body) == u32::from_le_bytes(*want) => {}
                _ => return Err(FrameError::PayloadChecksum(h)),
            }
        }
        Ok(())
    }

    /// Buffers the start of a packet that the input ends in (always fits: a header was checked
    /// against `max_payload`, or fewer than 10 bytes are kept).
    fn keep(&mut self, rest: &[u8]) -> Found {
        self.buf[..rest.len()].copy_from_slice(rest);
        self.verified = 0;
        self.start = 0;
        self.len = rest.len();
        self.scanned = 0;
        Found::None
    }

    /// Forgets the first `n` held bytes. Positions already searched for a SYNC stay searched:
    /// the bytes there have not changed.
    #[inline(never)] // called from several places, once per packet or garbage run
    fn drop_front(&mut self, n: usize) {
        self.verified = 0;
        self.start += n;
        if self.start >= self.len {
            self.start = 0;
            self.len = 0;
            self.scanned = 0;
        }
    }

    /// Takes up to `need` bytes of `input` behind the held ones; returns how many.
    fn append(&mut self, input: &[u8], need: usize) -> usize {
        let n = need.min(input.len());
        self.make_room(n);
        self.buf[self.len..self.len + n].copy_from_slice(&input[..n]);
        self.len += n;
        n
    }

    /// Moves the held bytes to the front when `n` more would not fit behind them (a held
    /// candidate plus what it still needs always fits `N`).
    fn make_room(&mut self, n: usize) {
        if self.len + n > N {
            self.buf.copy_within(self.start..self.len, 0);
            self.len -= self.start;
            self.scanned = self.scanned.saturating_sub(self.start);
            self.start = 0;
        }
    }

    /// A device stalled inside a packet still obeys a complete, valid PROTO_SYNC among the bytes
    /// it holds (PROTOCOL.md 3.5): the stalled packet is abandoned and the SYNC handed out.
    fn scan_stall_for_sync(&mut self, crc: &dyn Checksum) -> Found {
        if self.role != Role::Device || self.len - self.start <= HEADER_LEN {
            return Found::None;
        }
        let from = self.scanned.max(self.start + 1);
        let hit = self.buf[from..self.len].windows(HEADER_LEN).position(|w| self.is_sync(w, crc));
        self.scanned = self.len - HEADER_LEN + 1; // positions where a whole header fits
        let Some(off) = hit else { return Found::None };
        let q = from + off;
        let mut head = [0; HEADER_LEN];
        head.copy_from_slice(&self.buf[q..q + HEADER_LEN]);
        Found::InBuf(Header::parse(&head), q + HEADER_LEN, q + HEADER_LEN, q + HEADER_LEN - self.start)
    }

    /// Whether `w` (a header's 10 bytes) is a valid PROTO_SYNC request. The CRC last: most
    /// candidates inside a payload fail the cheap checks.
    fn is_sync(&self, w: &[u8], crc: &dyn Checksum) -> bool {
        let Some(head) = w.first_chunk::<HEADER_LEN>() else { return false };
        let h = Header::parse(head);
        head[..2] == SYNC
            && h.opcode == Opcode::PROTO_SYNC
            && h.length == 0
            && !h.flags.intersects(Flags::ACK | Flags::NAK | Flags::EVENT)
            && (Header::crc_ok(head, crc) || (!self.crc && head[8] == 0 && head[9] == 0))
    }
}

/// Index of the first byte that may start a sync word (0xAA).
fn find_sync_start(b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == SYNC[0])
}
