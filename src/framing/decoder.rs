//! The streaming decoder: bytes in, in chunks of any size; packets out. It allocates nothing,
//! holds at most one packet, and recovers from garbage as PROTOCOL.md section 3.5 says.

use core::ptr::addr_of_mut;

use super::{max_payload_for, Checksum, Flags, Header, Opcode, HEADER_LEN, SYNC};

/// A decoded packet; the payload borrows the decoder or the input chunk (no copy when the whole
/// packet was inside one chunk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    pub header: Header,
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

// Where the packet to hand out lies, found before any borrow is taken.
enum Found {
    None,
    InBuf(Header, usize, usize, usize),
    InInput(Header, usize, usize),
    Error(FrameError),
}

/// A streaming packet decoder with an `N`-byte packet buffer.
#[derive(Debug)]
pub struct Decoder<const N: usize> {
    buf: [u8; N],
    /// Bytes held in `buf`; `buf[..len]` always starts at a packet candidate.
    len: usize,
    /// Bytes at the front of `buf` handed out by the last call, dropped at the next.
    handed_out: usize,
    /// Positions of `buf` below this were searched for a stall-breaking PROTO_SYNC.
    scanned: usize,
    max_payload: usize,
    crc: bool,
    expected_seq: Option<u8>,
    role: Role,
    /// Bytes skipped because they were no packet (garbage, bad header CRC).
    pub skipped_bytes: u32,
    /// Headers that failed their CRC.
    pub header_errors: u32,
}

impl<const N: usize> Decoder<N> {
    /// A decoder with CRC checking on, no sequence check, and the largest `max_payload` that
    /// fits `N`.
    pub const fn new(role: Role) -> Self {
        Decoder {
            buf: [0; N],
            len: 0,
            handed_out: 0,
            scanned: 0,
            max_payload: max_payload_for(N),
            crc: true,
            expected_seq: None,
            role,
            skipped_bytes: 0,
            header_errors: 0,
        }
    }

    /// Writes a decoder like [`Decoder::new`] into `p` field by field, zeroing the buffer in
    /// place instead of building it on the stack.
    ///
    /// # Safety
    /// `p` must be valid for writes and aligned for `Self`.
    pub(crate) unsafe fn init_raw(p: *mut Self, role: Role) {
        // SAFETY: the caller guarantees `p` is writable and aligned; each field is written
        // once through its own raw pointer, and zero bytes are a valid `[u8; N]`.
        unsafe {
            addr_of_mut!((*p).buf).write_bytes(0, 1);
            addr_of_mut!((*p).len).write(0);
            addr_of_mut!((*p).handed_out).write(0);
            addr_of_mut!((*p).scanned).write(0);
            addr_of_mut!((*p).max_payload).write(max_payload_for(N));
            addr_of_mut!((*p).crc).write(true);
            addr_of_mut!((*p).expected_seq).write(None);
            addr_of_mut!((*p).role).write(role);
            addr_of_mut!((*p).skipped_bytes).write(0);
            addr_of_mut!((*p).header_errors).write(0);
        }
    }

    /// Headers claiming more than this are refused; clamped to what `N` holds.
    pub fn set_max_payload(&mut self, max: usize) {
        self.max_payload = max.min(max_payload_for(N));
    }

    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Whether CRCs are checked (the `crc` capability).
    pub fn set_crc(&mut self, on: bool) {
        self.crc = on;
    }

    /// The seq that non-exempt packets must carry, or `None` to accept any.
    pub fn set_expected_seq(&mut self, seq: Option<u8>) {
        self.expected_seq = seq;
    }

    /// Bytes waiting for the rest of a packet.
    pub fn buffered(&self) -> usize {
        self.len - self.handed_out
    }

    /// Forgets any partial packet.
    pub fn clear(&mut self) {
        self.len = 0;
        self.handed_out = 0;
        self.scanned = 0;
    }

    /// Feeds bytes. Returns how many bytes of `input` were used and at most one packet or
    /// error; call again with the rest until it uses nothing and finds nothing.
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
        let mut used = 0;
        // Complete what the buffer holds, taking only the bytes each decision needs.
        while self.len > 0 {
            match self.examine_buffer(crc) {
                Ok(need) => {
                    if used == input.len() {
                        return (used, self.scan_stall_for_sync(crc));
                    }
                    let n = need.min(input.len() - used);
                    self.buf[self.len..self.len + n].copy_from_slice(&input[used..used + n]);
                    self.len += n;
                    used += n;
                }
                Err(found) => return (used, found),
            }
        }
        // Empty buffer: decode in place from the input.
        let mut i = used;
        loop {
            let Some(p) = find_sync_start(&input[i..]).map(|p| p + i) else {
                self.skip(input.len() - i);
                return (input.len(), Found::None);
            };
            self.skip(p - i);
            let rest = &input[p..];
            if rest.len() < 2 || (rest.len() < HEADER_LEN && rest[1] == SYNC[1]) {
                return (input.len(), self.keep(rest));
            }
            if rest[1] != SYNC[1] {
                self.skip(1);
                i = p + 1;
                continue;
            }
            let head: &[u8; HEADER_LEN] = rest[..HEADER_LEN].try_into().unwrap_or(&[0; HEADER_LEN]);
            match self.check_header(head, crc) {
                HeaderCheck::Bad => {
                    self.skip(1);
                    i = p + 1;
                }
                HeaderCheck::Error(e) => return (p + 1, Found::Error(e)),
                HeaderCheck::Good(h) => {
                    let total = HEADER_LEN + h.body_len();
                    if rest.len() < total {
                        self.keep(rest);
                        return (input.len(), self.scan_stall_for_sync(crc));
                    }
                    // A payload failing its CRC costs one byte, like a bad header.
                    return match self.verify(h, &rest[..total], crc) {
                        Ok(()) => (p + total, Found::InInput(h, p + HEADER_LEN, p + HEADER_LEN + h.length as usize)),
                        Err(e) => (p + 1, Found::Error(e)),
                    };
                }
            }
        }
    }

    /// Looks at the buffered bytes: `Ok(n)` when `n` more bytes are needed, `Err` with what was
    /// found (a packet in the buffer, an error, or `Found::None` once the buffer is empty).
    fn examine_buffer(&mut self, crc: &dyn Checksum) -> Result<usize, Found> {
        loop {
            if self.len == 0 {
                return Err(Found::None);
            }
            match find_sync_start(&self.buf[..self.len]) {
                Some(0) => {}
                Some(p) => {
                    self.skip(p);
                    self.drop_front(p);
                }
                None => {
                    self.skip(self.len);
                    self.len = 0;
                    return Err(Found::None);
                }
            }
            if self.len < 2 {
                return Ok(1);
            }
            if self.buf[1] != SYNC[1] {
                self.skip(1);
                self.drop_front(1);
                continue;
            }
            if self.len < HEADER_LEN {
                return Ok(HEADER_LEN - self.len);
            }
            let mut head = [0; HEADER_LEN];
            head.copy_from_slice(&self.buf[..HEADER_LEN]);
            match self.check_header(&head, crc) {
                HeaderCheck::Bad => {
                    self.skip(1);
                    self.drop_front(1);
                }
                HeaderCheck::Error(e) => {
                    self.drop_front(1);
                    return Err(Found::Error(e));
                }
                HeaderCheck::Good(h) => {
                    let total = HEADER_LEN + h.body_len();
                    if self.len < total {
                        return Ok(total - self.len);
                    }
                    return Err(match self.verify(h, &self.buf[..total], crc) {
                        Ok(()) => Found::InBuf(h, HEADER_LEN, HEADER_LEN + h.length as usize, total),
                        Err(e) => {
                            self.drop_front(1);
                            Found::Error(e)
                        }
                    });
                }
            }
        }
    }

    fn check_header(&mut self, head: &[u8; HEADER_LEN], crc: &dyn Checksum) -> HeaderCheck {
        if self.crc && !Header::crc_ok(head, crc) {
            self.header_errors = self.header_errors.wrapping_add(1);
            return HeaderCheck::Bad;
        }
        let h = Header::parse(head);
        if h.length as usize > self.max_payload {
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
            let (body, tail) = packet[HEADER_LEN..].split_at(h.length as usize);
            let want = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
            if crc.crc32(body) != want {
                return Err(FrameError::PayloadChecksum(h));
            }
        }
        Ok(())
    }

    /// Buffers the start of a packet that the input ends in (always fits: a header was checked
    /// against `max_payload`, or fewer than 10 bytes are kept).
    fn keep(&mut self, rest: &[u8]) -> Found {
        self.buf[..rest.len()].copy_from_slice(rest);
        self.len = rest.len();
        self.scanned = 0;
        Found::None
    }

    fn skip(&mut self, n: usize) {
        self.skipped_bytes = self.skipped_bytes.wrapping_add(n as u32);
    }

    fn drop_front(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
        self.scanned = 0;
    }

    /// A device stalled inside a packet still obeys a complete, valid PROTO_SYNC among the bytes
    /// it holds (PROTOCOL.md 3.5): the stalled packet is abandoned and the SYNC handed out.
    fn scan_stall_for_sync(&mut self, crc: &dyn Checksum) -> Found {
        if self.role != Role::Device || self.len <= HEADER_LEN {
            return Found::None;
        }
        let from = self.scanned.max(1);
        let last = self.len - HEADER_LEN; // last position where a whole header fits
        let mut q = from;
        while q <= last {
            let Some(off) = find_sync_start(&self.buf[q..=last + 1]) else { break };
            q += off;
            if q > last {
                break;
            }
            let mut head = [0; HEADER_LEN];
            head.copy_from_slice(&self.buf[q..q + HEADER_LEN]);
            let h = Header::parse(&head);
            let crc_field = u16::from_le_bytes([head[8], head[9]]);
            let crc_valid = Header::crc_ok(&head, crc) || (!self.crc && crc_field == 0);
            if head[1] == SYNC[1]
                && h.opcode == Opcode::PROTO_SYNC
                && h.length == 0
                && !h.flags.intersects(Flags::ACK | Flags::NAK | Flags::EVENT)
                && crc_valid
            {
                self.skip(q);
                return Found::InBuf(h, q + HEADER_LEN, q + HEADER_LEN, q + HEADER_LEN);
            }
            q += 1;
        }
        self.scanned = last + 1;
        Found::None
    }
}

/// Index of the first byte that may start a sync word (0xAA).
fn find_sync_start(b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == SYNC[0])
}
