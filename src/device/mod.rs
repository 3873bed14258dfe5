//! The device role: what a cam runs. No heap; one packet buffer each way.
//!
//! Sans-IO contract, called from one thread (or one main loop):
//! - [`Device::handle_input`] with received bytes and the current time; it returns how many
//!   bytes it took (it stops taking requests while an answer is still being sent);
//! - [`Device::poll_transmit`] after every input, until it returns `None`, writing each packet;
//! - [`Device::handle_timeout`] when [`Device::poll_at`] has passed (retransmissions);
//! - [`Device::queue_event`] to tell the host something happened.

mod board;
#[cfg(test)]
mod event_queue_tests;
mod registry;

pub use board::{Board, NoBoard};
pub use registry::{Entries, Registry, RegistryError, MAX_CHANNELS, MAX_STATIC_ID};

use crate::channels::Channel;
use crate::framing::payload::{ChannelEntry, ChannelFlags, IoctlRequest, MemoryEntry, ReadRequest, WriteRequest};
use crate::framing::{
    max_payload_u16, seal, ChannelId, Checksum, Decoder, FastCrc, Flags, FrameError, Header, Opcode, Packet, Role,
    Status, HEADER_LEN,
};
use crate::reliability::{validate_caps, AckWait, Caps, Expiry, RetransmitPolicy, SeqCounter, Stats};
use crate::time::Instant;
use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

/// Events waiting to be sent; a repeat of a channel's newest waiting event is coalesced.
pub const EVENT_QUEUE: usize = 8;
/// Largest answer that is not channel data (CHANNEL_LIST of 32 channels).
const SMALL_ANSWER_MAX: usize = MAX_CHANNELS * ChannelEntry::LEN;
/// SYS_MEMORY pools reported at most.
const MEMORY_POOLS_MAX: usize = 8;

/// How a device behaves; `Default` is the reference firmware's behaviour, except that channel
/// reads go out in fragments of up to 4082 bytes where the firmware's copying reads use 512.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceConfig {
    /// Start-up capabilities, restored by PROTO_SYNC; `max_payload` is the device's maximum.
    pub caps: Caps,
    /// How the device waits for the host's ACK of each ACK_REQ packet: timeout and retries
    /// (default 500 ms, doubled after each timeout, 3 retries).
    pub retransmit: RetransmitPolicy,
    /// CHANNEL_LOCK within this many milliseconds of the last successful lock answers BUSY.
    pub lock_interval_ms: u32,
    /// Largest fragment of a channel read (never above the negotiated max_payload).
    pub fragment_size: u16,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            caps: Caps::DEFAULT,
            retransmit: RetransmitPolicy::default(),
            lock_interval_ms: 10,
            fragment_size: crate::framing::DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// An event the cam wants the host to see (PROTOCOL.md 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// 0 for system events (SYS_EVENT), else the channel (CHANNEL_EVENT).
    pub channel: ChannelId,
    /// The code; `event::NOTIFY` is sent without payload.
    pub code: u16,
    /// Ask the host to ACK it (needs the `ack` capability).
    pub confirmed: bool,
}

/// Why an event was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventError {
    /// The host did not enable the `events` capability.
    Disabled,
    /// [`EVENT_QUEUE`] events are already waiting.
    QueueFull,
}

/// The channel flag a channel request needs (empty: any registered channel), or `None` for a
/// request that is not about one channel: the table behind `Core::on_channel_request`.
fn channel_need(op: Opcode) -> Option<ChannelFlags> {
    Some(match op {
        Opcode::CHANNEL_LOCK | Opcode::CHANNEL_UNLOCK => ChannelFlags::LOCK,
        Opcode::CHANNEL_READ => ChannelFlags::READ,
        Opcode::CHANNEL_WRITE => ChannelFlags::WRITE,
        Opcode::CHANNEL_SHAPE | Opcode::CHANNEL_SIZE | Opcode::CHANNEL_IOCTL => ChannelFlags::empty(),
        _ => return None,
    })
}

/// An answer still being sent, fragment by fragment: channel data for CHANNEL_READ, else a
/// small answer, rendered whole again for each fragment (one fragment loop for both).
#[derive(Clone, Copy, Debug)]
struct Job {
    /// The request's opcode and channel.
    opcode: Opcode,
    channel: ChannelId,
    /// The next byte to send: in the channel, or in the rendered answer.
    offset: u32,
    /// Bytes still to send after the next fragment (a read's, until it is rendered).
    remaining: u32,
    /// No fragment has been sent: a failure is the request's own status, later ones FAILED.
    first: bool,
}

/// A device engine with an `N`-byte receive packet buffer and a `T`-byte transmit buffer
/// (`N` unless given). A `T` below `N` bounds every answer packet: channel reads are sent in
/// fragments of at most `T - 14` bytes (as the reference firmware sends copying reads in
/// 512-byte fragments), which lets a cam keep one full-size buffer only, for requests.
// `repr(C)`, declared order: the core's small fields first, the buffers last (the decoder's
// 4 KiB behind everything), so a cam reaches the state it touches most with short offsets
// from one base register (36 B of flash with the hardware CRC, 56 B with the software one).
#[derive(Debug)]
#[repr(C)]
pub struct Device<C: Checksum = FastCrc, const N: usize = 4096, const T: usize = N> {
    core: Core<C, T>,
    /// Copying: one decode path (requests are small; a cam's flash matters more).
    decoder: Decoder<N, false>,
}

#[derive(Debug)]
#[repr(C)]
struct Core<C, const T: usize> {
    /// `tx` holds a packet not yet taken by `poll_transmit`.
    tx_ready: bool,
    /// The packet in `tx` carries ACK_REQ.
    tx_needs_ack: bool,
    /// Waiting events: `events[..queued]`.
    queued: u8,
    seq: SeqCounter,
    caps: Caps,
    job: Option<Job>,
    ack_wait: Option<AckWait>,
    tx_len: usize,
    stats: Stats,
    locked: u32,
    config: DeviceConfig,
    crc: C,
    now: Instant,
    /// The earliest CHANNEL_LOCK that is not BUSY, in milliseconds (`lock_interval_ms` after
    /// the last successful one; 0: any).
    lock_free_ms: u64,
    /// Waiting events, oldest first.
    events: [Event; EVENT_QUEUE],
    tx: [u8; T],
}

impl<C: Checksum + Default, const N: usize, const T: usize> Default for Device<C, N, T> {
    fn default() -> Self {
        Self::new(DeviceConfig::default(), C::default())
    }
}

impl<C: Checksum, const N: usize, const T: usize> Device<C, N, T> {
    /// The smallest packet buffer the protocol allows (max_payload 50).
    const TX_HOLDS_A_PACKET: () = assert!(T >= 64);

    /// A device in its start-up state. `config.caps.max_payload` is clamped to what `N` holds.
    pub fn new(config: DeviceConfig, crc: C) -> Self {
        let mut slot = MaybeUninit::uninit();
        Self::new_in(&mut slot, config, crc);
        // SAFETY: `new_in` initialised every field of `slot`.
        unsafe { slot.assume_init() }
    }

    /// Builds a device directly in `slot`: a `Device` holds two packet buffers (8 KiB at the
    /// default size), which firmware should not first build on its stack and then copy.
    pub fn new_in(slot: &mut MaybeUninit<Self>, mut config: DeviceConfig, crc: C) -> &mut Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::TX_HOLDS_A_PACKET;
        let max = max_payload_u16(N);
        config.caps.max_payload = config.caps.max_payload.clamp(crate::framing::MIN_MAX_PAYLOAD, max);
        let p = slot.as_mut_ptr();
        // The decoder gets the capabilities' rules before each packet (`handle_input`).
        // SAFETY: `p` comes from a `&mut MaybeUninit<Self>`, so it is writable and aligned.
        // All of it is zeroed first (one memset): zero bytes are the start-up value of every
        // buffer, counter, clock and flag here (integers, bools and arrays of them: the
        // decoder's positions, `tx`, the event queue, the stats), so only the other fields are
        // written, each through its own raw pointer, before the memory is read as a `Self`.
        unsafe {
            p.write_bytes(0, 1);
            Decoder::init_zeroed(addr_of_mut!((*p).decoder), Role::Device);
            let c = addr_of_mut!((*p).core);
            addr_of_mut!((*c).crc).write(crc);
            addr_of_mut!((*c).config).write(config);
            addr_of_mut!((*c).caps).write(config.caps);
            addr_of_mut!((*c).ack_wait).write(None);
            addr_of_mut!((*c).job).write(None);
            slot.assume_init_mut()
        }
    }

    /// The capabilities in force.
    pub fn caps(&self) -> Caps {
        self.core.caps
    }

    /// The device's sequence counter.
    pub fn seq(&self) -> u8 {
        self.core.seq.get()
    }

    /// The link counters, as PROTO_STATS reports them.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// Counts a transport error (reported in PROTO_STATS).
    pub fn note_transport_error(&mut self) {
        Stats::bump(&mut self.core.stats.transport_errors);
    }

    /// Whether an answer is still being sent or acknowledged.
    pub fn is_busy(&self) -> bool {
        self.core.tx_ready || self.core.ack_wait.is_some() || self.core.job.is_some()
    }

    /// When [`Device::handle_timeout`] must be called next.
    pub fn poll_at(&self) -> Option<Instant> {
        self.core.ack_wait.map(|w| w.deadline)
    }

    /// Queues an event; it is sent between packets, also between the fragments of an answer.
    /// A repeat of the newest event waiting on its channel adds nothing and is dropped; one
    /// behind a different event of its channel is queued, so each channel's events keep
    /// their order (SCRIPT_STARTED, SCRIPT_STOPPED, SCRIPT_STARTED all reach the host).
    #[inline(never)] // reached from several exports of the firmware
    pub fn queue_event(&mut self, event: Event) -> Result<(), EventError> {
        let core = &mut self.core;
        if !core.caps.events() {
            return Err(EventError::Disabled);
        }
        let n = core.queued as usize;
        let waiting = core.events.get(..n).unwrap_or_default();
        if waiting.iter().rev().find(|e| e.channel == event.channel).is_some_and(|e| e.code == event.code) {
            return Ok(());
        }
        let slot = core.events.get_mut(n).ok_or(EventError::QueueFull)?;
        *slot = event;
        core.queued += 1;
        Ok(())
    }

    /// Takes received bytes. Returns how many were used: while an answer is pending the
    /// device takes no new request, so feed the rest after draining [`Device::poll_transmit`].
    #[inline(never)] // a cam calls it from one place, but inlined there it cost 44 B
    pub fn handle_input<Ch: Channel + ?Sized, B: Board + ?Sized>(
        &mut self,
        now: Instant,
        input: &[u8],
        reg: &mut Registry<'_, Ch, B>,
    ) -> usize {
        self.core.now = now;
        let mut used = 0;
        loop {
            if self.core.blocked() {
                break;
            }
            self.apply_caps();
            let (n, res) = self.decoder.feed(&input[used..], &self.core.crc);
            used += n;
            match res {
                None => break,
                Some(Ok(pkt)) => self.core.on_packet(pkt, reg),
                Some(Err(e)) => self.core.on_frame_error(e),
            }
        }
        used
    }

    /// The next packet to write to the transport, if any. Call until `None` after every input.
    pub fn poll_transmit<Ch: Channel + ?Sized, B: Board + ?Sized>(
        &mut self,
        now: Instant,
        reg: &mut Registry<'_, Ch, B>,
    ) -> Option<&[u8]> {
        self.core.now = now;
        self.core.poll_transmit(reg)
    }

    /// Retransmits (RTX) or gives up on an unacknowledged packet whose deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let core = &mut self.core;
        core.now = now;
        let Some(w) = core.ack_wait.as_mut() else { return };
        if now < w.deadline {
            return;
        }
        match w.expire(now) {
            Expiry::Retransmit => {
                // Same packet and seq with RTX set, sealed again by the one send path.
                let h = core.tx_header();
                core.send(h.opcode, h.channel, h.flags | Flags::RTX, h.seq, h.length as usize);
                Stats::bump(&mut core.stats.retransmits);
            }
            Expiry::GiveUp => core.give_up(),
        }
    }

    fn apply_caps(&mut self) {
        let caps = self.core.caps;
        // While waiting for an ACK only ACKs and SYNC matter, both exempt from the seq check.
        self.decoder.set_rules(caps.crc(), caps.max_payload as usize, caps.seq().then_some(self.core.seq.get()));
    }
}

impl<C: Checksum, const T: usize> Core<C, T> {
    fn blocked(&self) -> bool {
        self.tx_ready || (self.job.is_some() && self.ack_wait.is_none())
    }

    fn give_up(&mut self) {
        // The host stopped answering: drop the exchange; it will resynchronise.
        self.ack_wait = None;
        self.tx_ready = false;
        self.job = None;
    }

    fn poll_transmit<Ch: Channel + ?Sized, B: Board + ?Sized>(
        &mut self,
        reg: &mut Registry<'_, Ch, B>,
    ) -> Option<&[u8]> {
        // Queued events go before the next fragment of an answer.
        if !self.tx_ready && self.ack_wait.is_none() && !self.emit_event() {
            self.emit_fragment(reg);
        }
        if !self.tx_ready {
            return None;
        }
        self.tx_ready = false;
        Stats::bump(&mut self.stats.sent);
        if self.tx_needs_ack && self.ack_wait.is_none() {
            let h = self.tx_header();
            let r = self.config.retransmit;
            self.ack_wait = Some(AckWait::start(h.opcode, h.seq, self.now, r.timeout_ms, r.retries));
        }
        Some(&self.tx[..self.tx_len])
    }

    fn tx_header(&self) -> Header {
        let mut head = [0u8; HEADER_LEN];
        head.copy_from_slice(&self.tx[..HEADER_LEN]);
        Header::parse(&head)
    }

    /// Writes a packet whose payload is already at `tx[HEADER_LEN..]`: the one send path.
    #[inline(never)] // once per packet, from many places: kept out of line for flash
    fn send(&mut self, opcode: Opcode, channel: ChannelId, flags: Flags, seq: u8, payload_len: usize) {
        let needs_ack = flags.contains(Flags::ACK_REQ);
        let h = Header { seq, channel, flags, opcode, length: 0 };
        let crc = self.caps.crc().then_some(&self.crc as &dyn Checksum);
        // Lengths are bounded by max_payload <= N - 14, so sealing cannot fail.
        if let Ok(n) = seal(&h, payload_len, crc, &mut self.tx) {
            self.tx_len = n;
            self.tx_ready = true;
            self.tx_needs_ack = needs_ack;
        }
    }

    /// A non-event packet: seq is the counter, which then advances (PROTOCOL.md 3.1).
    fn send_answer(&mut self, opcode: Opcode, channel: ChannelId, mut flags: Flags, payload_len: usize) {
        if self.caps.ack() && !flags.intersects(Flags::ACK | Flags::NAK) {
            flags |= Flags::ACK_REQ;
        }
        let seq = self.seq.get();
        self.send(opcode, channel, flags, seq, payload_len);
        self.seq.advance();
    }

    fn ack(&mut self, h: &Header) {
        self.reply(h, Ok(()));
    }

    fn nak(&mut self, h: &Header, status: Status) {
        self.reply(h, Err(status));
    }

    /// ACK, or NAK with its status: every reply goes through here.
    #[inline(never)]
    fn reply(&mut self, h: &Header, r: Result<(), Status>) {
        let (flags, len) = match r {
            Ok(()) => (Flags::ACK, 0),
            Err(s) => {
                self.tx[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&s.to_bytes());
                (Flags::NAK, 2)
            }
        };
        self.send_answer(h.opcode, h.channel, flags, len);
    }

    fn emit_event(&mut self) -> bool {
        // The queue is kept packed from index 0: take the oldest, shift the rest forward.
        if self.queued == 0 {
            return false;
        }
        let ev = self.events[0];
        self.events.copy_within(1.., 0);
        self.queued -= 1;
        if !self.caps.events() {
            return false;
        }
        let opcode = if ev.channel == ChannelId::TRANSPORT { Opcode::SYS_EVENT } else { Opcode::CHANNEL_EVENT };
        let mut flags = Flags::EVENT;
        if ev.confirmed && self.caps.ack() {
            flags |= Flags::ACK_REQ;
        }
        let len = if ev.code == crate::framing::payload::event::NOTIFY {
            0
        } else {
            self.tx[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&ev.code.to_le_bytes());
            2
        };
        // Events carry the counter without advancing it.
        self.send(opcode, ev.channel, flags, self.seq.get(), len);
        Stats::bump(&mut self.stats.events);
        true
    }

    fn on_frame_error(&mut self, e: FrameError) {
        let h = *e.header();
        match e {
            FrameError::PayloadChecksum(_) => Stats::bump(&mut self.stats.checksum_errors),
            FrameError::Sequence(_) => Stats::bump(&mut self.stats.sequence_errors),
            FrameError::Oversize(_) => {}
        }
        // Only requests are answered, and not while an ACK is awaited.
        if self.ack_wait.is_some() || h.flags.intersects(Flags::ACK | Flags::NAK | Flags::EVENT) {
            return;
        }
        match e {
            FrameError::Oversize(_) => self.nak(&h, Status::Overflow),
            FrameError::PayloadChecksum(_) => self.nak(&h, Status::Checksum),
            FrameError::Sequence(_) => {
                // Echo the request's seq so the host can tie the NAK to its request; the
                // counter stays: the host resynchronises after any NAK but BUSY.
                self.tx[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&Status::Sequence.to_bytes());
                self.send(h.opcode, h.channel, Flags::NAK, h.seq, 2);
            }
        }
    }

    fn on_packet<Ch: Channel + ?Sized, B: Board + ?Sized>(&mut self, pkt: Packet<'_>, reg: &mut Registry<'_, Ch, B>) {
        Stats::bump(&mut self.stats.received);
        let h = pkt.header;
        let is_sync = h.opcode == Opcode::PROTO_SYNC && !h.flags.intersects(Flags::ACK | Flags::NAK | Flags::EVENT);
        if let Some(w) = self.ack_wait {
            let request = !h.flags.intersects(Flags::ACK | Flags::NAK | Flags::EVENT);
            if h.flags.contains(Flags::ACK) && w.matches(h.opcode, h.seq) {
                self.ack_wait = None;
                self.tx_needs_ack = false;
                return;
            } else if is_sync {
                return self.sync(&h, reg);
            } else if !(request && self.job.is_none()) {
                return;
            }
            // A new request while the last packet of an answer waits for its ACK: the host
            // had the whole answer and its ACK was lost (openmv's drop_rate does this). Take
            // the request as the ACK rather than drop it and force a resync.
            self.ack_wait = None;
            self.tx_needs_ack = false;
        }
        if h.flags.intersects(Flags::ACK | Flags::NAK | Flags::EVENT) {
            return; // stray ACK (e.g. a repeated one) or a packet only a device sends
        }
        if h.opcode.is_system() && h.channel != ChannelId::TRANSPORT {
            return self.nak(&h, Status::Invalid);
        }
        let p = pkt.payload;
        if let Some(need) = channel_need(h.opcode) {
            // The checks every channel request shares, once: a registered channel that has
            // the flag the operation needs, else NAK INVALID.
            let r = match reg.get_with_entry(h.channel) {
                Some((e, c)) if e.flags.contains(need) => self.on_channel_request(&h, p, c),
                _ => Some(Err(Status::Invalid)),
            };
            if let Some(r) = r {
                self.reply(&h, r);
            }
            return;
        }
        match h.opcode {
            Opcode::PROTO_SYNC => self.sync(&h, reg),
            Opcode::PROTO_GET_CAPS
            | Opcode::PROTO_STATS
            | Opcode::PROTO_VERSION
            | Opcode::SYS_INFO
            | Opcode::SYS_MEMORY
            | Opcode::CHANNEL_LIST
            | Opcode::CHANNEL_POLL => self.start_small(h),
            Opcode::PROTO_SET_CAPS => match validate_caps(p, self.config.caps.max_payload) {
                Some(caps) => {
                    self.ack(&h); // with the old settings, then switch
                    self.caps = caps;
                }
                None => self.nak(&h, Status::Invalid),
            },
            Opcode::SYS_RESET => {
                reg.board().reset();
            }
            Opcode::SYS_BOOT => {
                reg.board().boot();
            }
            _ => self.nak(&h, Status::Invalid),
        }
    }

    /// A request on channel `c`, which has the flag [`channel_need`] asks for. `Some`: the ACK
    /// or NAK to send; `None`: an answer was started (sent by `emit_fragment`).
    fn on_channel_request<Ch: Channel + ?Sized>(
        &mut self,
        h: &Header,
        p: &[u8],
        c: &mut Ch,
    ) -> Option<Result<(), Status>> {
        let bit = 1u32 << h.channel.0; // registered ids are below MAX_CHANNELS (32)
        Some(match h.opcode {
            Opcode::CHANNEL_LOCK => self.lock(c).map(|()| self.locked |= bit),
            Opcode::CHANNEL_UNLOCK => c.unlock().then(|| self.locked &= !bit).ok_or(Status::Busy),
            Opcode::CHANNEL_READ => return self.start_read(h, p, c),
            Opcode::CHANNEL_WRITE => {
                WriteRequest::parse(p).map_err(|_| Status::Invalid).and_then(|w| c.write(w.offset, w.data))
            }
            Opcode::CHANNEL_IOCTL => {
                IoctlRequest::parse(p).map_err(|_| Status::Invalid).and_then(|io| c.ioctl(io.request, io.arg))
            }
            // CHANNEL_SHAPE, CHANNEL_SIZE: rendered when sent.
            _ => {
                self.start_small(*h);
                return None;
            }
        })
    }

    /// PROTO_SYNC: back to start-up settings, locks released, answered with those settings,
    /// then the counter restarts at 0.
    fn sync<Ch: Channel + ?Sized, B: Board + ?Sized>(&mut self, h: &Header, reg: &mut Registry<'_, Ch, B>) {
        self.job = None;
        self.ack_wait = None;
        self.tx_ready = false;
        self.caps = self.config.caps;
        for id in 0..MAX_CHANNELS as u8 {
            if self.locked & (1 << id) != 0 {
                if let Some(c) = reg.get(ChannelId(id)) {
                    c.unlock();
                }
            }
        }
        self.locked = 0;
        self.lock_free_ms = 0;
        self.send(h.opcode, h.channel, Flags::ACK, h.seq, 0);
        self.seq.reset();
    }

    /// CHANNEL_LOCK on a channel that has the LOCK flag; the caller records the lock.
    fn lock<Ch: Channel + ?Sized>(&mut self, c: &mut Ch) -> Result<(), Status> {
        let now = self.now.as_millis();
        if now < self.lock_free_ms || !c.lock() {
            return Err(Status::Busy);
        }
        // Wrapping, not saturating (less code): a clock within the interval of u64::MAX ms would
        // only skip the rate limit, where saturating would refuse every later lock.
        self.lock_free_ms = now.wrapping_add(self.config.lock_interval_ms.into());
        Ok(())
    }

    fn start_small(&mut self, h: Header) {
        self.job = Some(Job { opcode: h.opcode, channel: h.channel, offset: 0, remaining: 0, first: true });
        self.tx_ready = false;
    }

    /// CHANNEL_READ on a channel that has the READ flag: `None` once the read is started.
    fn start_read<Ch: Channel + ?Sized>(&mut self, h: &Header, p: &[u8], c: &mut Ch) -> Option<Result<(), Status>> {
        let Ok(rq) = ReadRequest::parse(p) else { return Some(Err(Status::Invalid)) };
        // A read past what the channel holds would stream garbage (or for ever): refuse it.
        let end = rq.offset as u64 + rq.length as u64;
        if c.size().is_some_and(|s| end > s as u64) {
            return Some(Err(Status::Invalid));
        }
        self.job =
            Some(Job { opcode: h.opcode, channel: h.channel, offset: rq.offset, remaining: rq.length, first: true });
        None
    }

    /// Renders a small answer whole into the payload area of `tx` (a fragment of it is moved
    /// to the front by the caller); `Err` if the request must be NAKed instead.
    fn render_small<Ch: Channel + ?Sized, B: Board + ?Sized>(
        h: &Header,
        caps: Caps,
        stats: &Stats,
        reg: &mut Registry<'_, Ch, B>,
        out: &mut [u8; SMALL_ANSWER_MAX],
    ) -> Result<usize, Status> {
        let mut put = |bytes: &[u8]| {
            out[..bytes.len()].copy_from_slice(bytes);
            Ok(bytes.len())
        };
        match h.opcode {
            Opcode::PROTO_GET_CAPS => put(&caps.to_bytes()),
            Opcode::PROTO_STATS => Ok(stats.write(out)),
            // Without a board, `NoBoard`'s answers (the defaults of the `Board` trait).
            Opcode::PROTO_VERSION => put(&reg.board().version().to_bytes()),
            Opcode::SYS_INFO => Ok(reg.board().sys_info().write(out)),
            Opcode::SYS_MEMORY => {
                let mut pools = [MemoryEntry::default(); MEMORY_POOLS_MAX];
                let n = reg.board().memory(&mut pools).min(MEMORY_POOLS_MAX);
                out[..MemoryEntry::PREFIX].copy_from_slice(&[n as u8, 0, 0, 0]);
                for (i, m) in pools[..n].iter().enumerate() {
                    let at = MemoryEntry::PREFIX + i * MemoryEntry::LEN;
                    out[at..at + MemoryEntry::LEN].copy_from_slice(&m.to_bytes());
                }
                Ok(MemoryEntry::PREFIX + n * MemoryEntry::LEN)
            }
            Opcode::CHANNEL_LIST => {
                let mut n = 0;
                for e in reg.entries() {
                    out[n..n + ChannelEntry::LEN].copy_from_slice(&e.to_bytes());
                    n += ChannelEntry::LEN;
                }
                Ok(n)
            }
            Opcode::CHANNEL_POLL => put(&reg.poll_bits().to_le_bytes()),
            Opcode::CHANNEL_SIZE | Opcode::CHANNEL_SHAPE => {
                // Looked up again: the channel may have gone since the request was taken.
                let c = reg.get(h.channel).ok_or(Status::Invalid)?;
                if h.opcode == Opcode::CHANNEL_SIZE {
                    return put(&c.size().ok_or(Status::Invalid)?.to_le_bytes());
                }
                let mut dims = [0u32; 4];
                let n = c.shape(&mut dims).ok_or(Status::Invalid)?.clamp(1, 4);
                for (i, d) in dims[..n].iter().enumerate() {
                    out[i * 4..i * 4 + 4].copy_from_slice(&d.to_le_bytes());
                }
                Ok(n * 4)
            }
            _ => Err(Status::Invalid),
        }
    }

    /// Produces the next packet of the current answer into `tx`.
    fn emit_fragment<Ch: Channel + ?Sized, B: Board + ?Sized>(&mut self, reg: &mut Registry<'_, Ch, B>) {
        let Some(mut job) = self.job else { return };
        let max = (self.caps.max_payload as usize).min(T - HEADER_LEN - crate::framing::PAYLOAD_CRC_LEN);
        let h = Header { seq: 0, channel: job.channel, flags: Flags::empty(), opcode: job.opcode, length: 0 };
        let r = if job.opcode == Opcode::CHANNEL_READ {
            let n = (job.remaining as usize).min(max.min(self.config.fragment_size.max(1) as usize));
            job.remaining -= n as u32;
            // Straight into the packet: a lent slice (`readp`) would be copied here all the same.
            let dst = &mut self.tx[HEADER_LEN..HEADER_LEN + n];
            match reg.get(job.channel) {
                Some(c) => c.read(job.offset, dst).map(|()| n),
                None => Err(Status::Invalid),
            }
        } else {
            self.small_fragment(&h, &mut job, max, reg)
        };
        match r {
            Ok(n) => {
                job.offset = job.offset.wrapping_add(n as u32);
                job.first = false;
                let more = job.remaining > 0;
                self.job = more.then_some(job);
                let flags = if more { Flags::FRAGMENT } else { Flags::empty() };
                self.send_answer(job.opcode, job.channel, flags, n);
            }
            Err(s) => {
                self.job = None;
                self.nak(&h, if job.first { s } else { Status::Failed });
            }
        }
    }

    /// Renders a small answer and moves the fragment at `job.offset` to the front of the
    /// payload area; sets what remains after it. Returns the fragment's length.
    #[inline(always)] // one caller; out of line it cost 116 B of flash (spills of the job)
    fn small_fragment<Ch: Channel + ?Sized, B: Board + ?Sized>(
        &mut self,
        h: &Header,
        job: &mut Job,
        max: usize,
        reg: &mut Registry<'_, Ch, B>,
    ) -> Result<usize, Status> {
        let caps = Caps { max_payload: self.config.caps.max_payload, ..self.caps };
        let stats = &self.stats;
        // Rendered whole into `tx` when it holds every small answer (then the fragment is
        // moved to the front), else on the stack; `T` is a constant, so each build keeps one
        // of the two.
        let (total, scratch) = match self.tx[HEADER_LEN..].first_chunk_mut::<SMALL_ANSWER_MAX>() {
            Some(out) => (Self::render_small(h, caps, stats, reg, out)?, None),
            None => {
                let mut scratch = [0u8; SMALL_ANSWER_MAX];
                (Self::render_small(h, caps, stats, reg, &mut scratch)?, Some(scratch))
            }
        };
        let sent = (job.offset as usize).min(total);
        let n = (total - sent).min(max);
        match scratch {
            None => self.tx.copy_within(HEADER_LEN + sent..HEADER_LEN + sent + n, HEADER_LEN),
            Some(b) => self.tx[HEADER_LEN..HEADER_LEN + n].copy_from_slice(&b[sent..sent + n]),
        }
        job.remaining = (total - sent - n) as u32;
        Ok(n)
    }
}
