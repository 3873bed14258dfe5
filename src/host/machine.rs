//! The host role without a heap: [`HostMachine`] runs requests, fragments, ACKs, resync,
//! events and capabilities; where answers and outgoing bytes go is the caller's choice
//! ([`ByteBuf`]: growable, fixed-capacity or caller memory), events go into a fixed ring of
//! `EV`, and the receive decoder holds packets of up to `PKT` bytes. The alloc
//! [`super::Host`] is this machine over `Vec`s.
//!
//! - [`HostMachine::start`] a request (or [`HostMachine::resync`]), then send what
//!   [`HostMachine::tx_mut`] holds and clear it;
//! - [`HostMachine::handle_input`] with every received chunk; ACKs the host owes are queued
//!   for transmit at once;
//! - [`HostMachine::poll_event`] for device events and [`HostMachine::poll_completion`] for
//!   the result, whose data is in [`HostMachine::answer`];
//! - [`HostMachine::handle_timeout`] once [`HostMachine::poll_at`] has passed.
//!
//! One request is in flight at a time, with one exception: a request started with an
//! answer limit of 0 is answered by exactly one packet (an ACK or a NAK), which moves the
//! counter by exactly one, so one more request may be started behind it before that answer
//! comes (a CHANNEL_LOCK and the CHANNEL_READ it guards leave in one write). Completions come
//! out in the order the requests were started.

use core::mem::MaybeUninit;
use core::ptr::addr_of_mut;

use super::buffers::{ByteBuf, EventRing, FixedBuf};
use super::types::{DeviceEvent, HostConfig, RequestError, StartError};
use crate::framing::payload::{event, CapFlags, Caps};
use crate::framing::{
    encode_parts, encoded_len, ChannelId, Checksum, Decoder, Flags, FrameError, Header, Opcode, Packet, Role, Status,
    MIN_MAX_PAYLOAD,
};
use crate::reliability::{negotiate, SeqCounter, Stats};
use crate::time::Instant;

/// A successful answer; its data (for [`Outcome::Data`]) is in [`HostMachine::answer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A bare ACK.
    Ack,
    /// Data of this many bytes, fragments joined.
    Data(usize),
}

/// Why a request of a [`HostMachine`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineError {
    /// What any host reports (NAK, timeout, ...).
    Request(RequestError),
    /// The answer is longer than the answer buffer holds (its first part is there); the rest
    /// of it was not kept. A growable buffer never reports this.
    AnswerFull,
}

impl From<RequestError> for MachineError {
    fn from(e: RequestError) -> Self {
        MachineError::Request(e)
    }
}

/// A fixed-capacity host: packets of up to `PKT` bytes in, answers of up to `ANS` bytes,
/// `TX` bytes of requests and ACKs waiting for transmit, `EV` events held.
pub type FixedHost<C, const PKT: usize, const ANS: usize, const TX: usize, const EV: usize> =
    HostMachine<C, FixedBuf<ANS>, FixedBuf<TX>, PKT, EV>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    User,
    Sync,
    GetCaps,
    SetCaps(Caps),
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    step: Step,
    opcode: Opcode,
    channel: ChannelId,
    /// Answer bytes received so far.
    got: usize,
    limit: usize,
    /// Set when the request is sent; only an answer fragment that brings new data moves it.
    deadline: Instant,
}

/// The host engine without a heap (see the module documentation).
#[derive(Debug)]
pub struct HostMachine<C: Checksum, A: ByteBuf, T: ByteBuf, const PKT: usize, const EV: usize> {
    decoder: Decoder<PKT>,
    core: Core<C, A, T, EV>,
}

/// Everything but the decoder, so a packet borrowed from the decoder can be handled.
#[derive(Debug)]
struct Core<C: Checksum, A: ByteBuf, T: ByteBuf, const EV: usize> {
    crc: C,
    config: HostConfig,
    caps: Caps,
    seq: SeqCounter,
    pending: Option<Pending>,
    /// A request sent behind `pending` (whose answer is one status packet).
    queued: Option<Pending>,
    answer: A,
    /// The answers of a resync's own requests (GET_CAPS is the longest).
    internal: FixedBuf<{ Caps::LEN }>,
    tx: T,
    /// Packets (requests, ACKs) that found no room in `tx`.
    tx_dropped: u32,
    events: EventRing<EV>,
    events_dropped: u64,
    /// The cam announced (or began) a restart since the last resync.
    restarted: bool,
    /// Completions not yet taken, oldest first (two when a queued request completed too).
    done: [Option<Result<Outcome, MachineError>>; 2],
    stats: Stats,
    now: Instant,
}

/// A resync step that completed, and what the next one needs.
enum Advance {
    Synced,
    DeviceCaps,
    CapsSet(Caps),
}

impl<C: Checksum, A: ByteBuf, T: ByteBuf, const PKT: usize, const EV: usize> HostMachine<C, A, T, PKT, EV> {
    /// A host assuming the device's start-up settings (CRC and seq on, counter 0), answers
    /// going into `answer`, outgoing bytes into `tx`.
    pub fn new(config: HostConfig, crc: C, answer: A, tx: T) -> Self {
        let mut m = HostMachine { decoder: Decoder::new(Role::Host), core: Core::new(config, crc, answer, tx) };
        m.apply_caps();
        m
    }

    /// Builds a machine directly in `slot`, so firmware does not first build the decoder's
    /// `PKT` bytes on its stack and then copy them.
    pub fn new_in(slot: &mut MaybeUninit<Self>, config: HostConfig, crc: C, answer: A, tx: T) -> &mut Self {
        let p = slot.as_mut_ptr();
        // SAFETY: `p` comes from a `&mut MaybeUninit<Self>`, so it is writable and aligned;
        // both fields are written once through their own raw pointers before the memory is
        // read as a `Self`.
        let m = unsafe {
            Decoder::init_raw(addr_of_mut!((*p).decoder), Role::Host);
            addr_of_mut!((*p).core).write(Core::new(config, crc, answer, tx));
            slot.assume_init_mut()
        };
        m.apply_caps();
        m
    }

    /// The settings in force on the link.
    pub fn caps(&self) -> Caps {
        self.core.caps
    }

    /// The host's sequence counter (PROTOCOL.md 3.1): the seq the next request carries when
    /// none is in flight. It advances with every non-event packet received; 0 after a resync.
    pub fn seq(&self) -> u8 {
        self.core.seq.get()
    }

    /// This end's link counters: packets sent and received, checksum and sequence errors,
    /// retransmits and events seen.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// The settings in use: answer timeout and resync wish.
    pub fn config(&self) -> &HostConfig {
        &self.core.config
    }

    /// Replaces the settings. The timeout counts from the next deadline set (a request sent or
    /// a fragment received); the wish applies at the next [`HostMachine::resync`].
    pub fn set_config(&mut self, config: HostConfig) {
        self.core.config = config;
    }

    /// Events dropped because `EV` were waiting unread.
    pub fn events_dropped(&self) -> u64 {
        self.core.events_dropped
    }

    /// Packets (requests, ACKs) dropped because the transmit buffer was full.
    pub fn tx_dropped(&self) -> u32 {
        self.core.tx_dropped
    }

    /// Whether the cam has restarted its protocol engine (a SOFT_REBOOT event, or stdin's
    /// script-stopped event that precedes it) since the last resync.
    pub fn cam_restarted(&self) -> bool {
        self.core.restarted
    }

    /// Whether a request (or resync) is in flight.
    pub fn is_busy(&self) -> bool {
        self.core.pending.is_some()
    }

    /// The answer buffer: the data of the last completed request (the part received so far
    /// while one is in flight). Cleared when a request starts.
    pub fn answer(&self) -> &A {
        &self.core.answer
    }

    /// The answer buffer, to take its data or to hand it other memory between requests.
    pub fn answer_mut(&mut self) -> &mut A {
        &mut self.core.answer
    }

    /// Bytes waiting to be written to the transport; the caller sends and clears them.
    pub fn tx_mut(&mut self) -> &mut T {
        &mut self.core.tx
    }

    /// Sends a request whose answer may carry at most `limit` bytes (more fails it with
    /// [`RequestError::TooLong`]). Its result arrives through
    /// [`HostMachine::poll_completion`]. While a request started with `limit` 0 waits for
    /// its answer, one more may start behind it (see the module documentation); its
    /// sequence number is the one that answer leaves.
    pub fn start(
        &mut self,
        now: Instant,
        opcode: Opcode,
        channel: ChannelId,
        payload: &[u8],
        limit: usize,
    ) -> Result<(), StartError> {
        let c = &mut self.core;
        let behind = match c.pending {
            None => false,
            Some(p) if p.step == Step::User && p.limit == 0 && c.queued.is_none() => true,
            Some(_) => return Err(StartError::Busy),
        };
        if payload.len() > c.caps.max_payload as usize || encoded_len(payload.len()) > c.tx.spare() {
            return Err(StartError::TooLarge);
        }
        c.now = now;
        if behind {
            let seq = c.seq.get().wrapping_add(1);
            c.queued = Some(c.push_request(Step::User, seq, opcode, channel, payload, limit));
        } else {
            // A completion nobody took belongs to an older request.
            c.done = [None, None];
            c.answer.clear();
            c.send_request(Step::User, opcode, channel, payload, limit);
        }
        Ok(())
    }

    /// Resynchronises: PROTO_SYNC with CRC and seq on, counter reset, capabilities
    /// renegotiated from the configured wish. Aborts the requests in flight (one
    /// [`RequestError::Aborted`] for them). Completes with `Ok(Outcome::Ack)` once the new
    /// settings are in force.
    pub fn resync(&mut self, now: Instant) {
        let c = &mut self.core;
        c.now = now;
        c.done = [None, None];
        // One report for what was cut short (a queued request with the one ahead of it), so
        // the resync's own completion has its slot.
        let user = c.pending.take().is_some_and(|p| p.step == Step::User);
        if c.queued.take().is_some() || user {
            c.complete(Err(RequestError::Aborted.into()));
        }
        c.caps = Caps { flags: CapFlags::CRC | CapFlags::SEQ, max_payload: c.caps.max_payload };
        c.seq.reset();
        c.restarted = false;
        c.send_request(Step::Sync, Opcode::PROTO_SYNC, ChannelId::TRANSPORT, &[], 0);
    }

    /// The next device event received.
    pub fn poll_event(&mut self) -> Option<DeviceEvent> {
        self.core.events.pop()
    }

    /// The result of the request, once. A resync reports only its final step.
    pub fn poll_completion(&mut self) -> Option<Result<Outcome, MachineError>> {
        let d = &mut self.core.done;
        let first = d[0].take();
        d[0] = d[1].take();
        first
    }

    /// When [`HostMachine::handle_timeout`] must be called.
    pub fn poll_at(&self) -> Option<Instant> {
        self.core.pending.as_ref().map(|p| p.deadline)
    }

    /// Fails the request if its deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let c = &mut self.core;
        c.now = now;
        if c.pending.as_ref().is_some_and(|p| now >= p.deadline) {
            c.fail(RequestError::Timeout.into());
        }
    }

    /// Takes received bytes (all of them).
    pub fn handle_input(&mut self, now: Instant, mut input: &[u8]) {
        self.core.now = now;
        loop {
            self.apply_caps();
            let (n, res) = self.decoder.feed(input, &self.core.crc);
            input = &input[n..];
            match res {
                Some(Ok(pkt)) => {
                    if let Some(next) = self.core.on_packet(pkt) {
                        self.core.after(next);
                    }
                }
                Some(Err(e)) => match e {
                    FrameError::PayloadChecksum(_) => Stats::bump(&mut self.core.stats.checksum_errors),
                    // The host checks sequence numbers itself (on_packet); kept for completeness.
                    FrameError::Sequence(_) => Stats::bump(&mut self.core.stats.sequence_errors),
                    FrameError::Oversize(_) => {}
                },
                None if input.is_empty() => break,
                None => {}
            }
        }
    }

    fn apply_caps(&mut self) {
        // Sequence numbers are checked per packet in on_packet, where a mismatch can end the
        // request at once instead of costing one byte and a wait for the timeout.
        let caps = self.core.caps;
        self.decoder.set_rules(caps.crc(), caps.max_payload.max(MIN_MAX_PAYLOAD) as usize, None);
    }
}

impl<C: Checksum, A: ByteBuf, T: ByteBuf, const EV: usize> Core<C, A, T, EV> {
    fn new(config: HostConfig, crc: C, answer: A, tx: T) -> Self {
        Core {
            crc,
            config,
            caps: Caps::DEFAULT,
            seq: SeqCounter::default(),
            pending: None,
            queued: None,
            answer,
            internal: FixedBuf::new(),
            tx,
            tx_dropped: 0,
            events: EventRing::new(),
            events_dropped: 0,
            restarted: false,
            done: [None, None],
            stats: Stats::default(),
            now: Instant::ZERO,
        }
    }

    /// Runs the next step of a resync after one completed.
    fn after(&mut self, done: Advance) {
        match done {
            Advance::Synced => {
                self.seq.reset();
                self.send_request(Step::GetCaps, Opcode::PROTO_GET_CAPS, ChannelId::TRANSPORT, &[], Caps::LEN);
            }
            Advance::DeviceCaps => match Caps::parse(self.internal.as_slice()) {
                Ok(device) => {
                    let caps = negotiate(device, self.config.wish);
                    self.send_request(
                        Step::SetCaps(caps),
                        Opcode::PROTO_SET_CAPS,
                        ChannelId::TRANSPORT,
                        &caps.to_bytes(),
                        0,
                    );
                }
                Err(_) => self.complete(Err(RequestError::BadCaps.into())),
            },
            Advance::CapsSet(caps) => {
                self.caps = caps;
                self.complete(Ok(Outcome::Ack));
            }
        }
    }

    fn send_request(&mut self, step: Step, opcode: Opcode, channel: ChannelId, payload: &[u8], limit: usize) {
        self.internal.clear();
        self.pending = Some(self.push_request(step, self.seq.get(), opcode, channel, payload, limit));
    }

    /// Queues a request packet with sequence number `seq`; returns what waits for its answer.
    fn push_request(
        &mut self,
        step: Step,
        seq: u8,
        opcode: Opcode,
        channel: ChannelId,
        payload: &[u8],
        limit: usize,
    ) -> Pending {
        let h = Header { seq, channel, flags: Flags::empty(), opcode, length: 0 };
        self.push_packet(&h, payload);
        Pending { step, opcode, channel, got: 0, limit, deadline: self.now + self.config.timeout }
    }

    fn complete(&mut self, r: Result<Outcome, MachineError>) {
        match self.done {
            [None, _] => self.done[0] = Some(r),
            // Two requests at most are in flight after `start` emptied both slots.
            [Some(_), _] => self.done[1] = Some(r),
        }
    }

    /// The request in flight ended with its answer: the one queued behind it (if any) now
    /// waits for its own, with a fresh deadline.
    fn finish(&mut self, r: Result<Outcome, MachineError>) {
        self.complete(r);
        self.pending = self.queued.take().map(|q| Pending { deadline: self.now + self.config.timeout, ..q });
    }

    /// Queues one packet whole, or counts it dropped (a lost packet ends in a timeout, as on
    /// a lossy link).
    fn push_packet(&mut self, h: &Header, payload: &[u8]) {
        // Payloads are bounded by max_payload (u16) before they get here.
        let Ok(p) = encode_parts(h, payload, self.caps.crc().then_some(&self.crc as &dyn Checksum)) else {
            return;
        };
        let crc = p.crc_bytes();
        if self.tx.spare() < p.header.len() + p.payload.len() + crc.len() {
            self.tx_dropped = self.tx_dropped.wrapping_add(1);
            return;
        }
        self.tx.append(&p.header);
        self.tx.append(p.payload);
        self.tx.append(crc);
        Stats::bump(&mut self.stats.sent);
    }

    /// Ends the request in flight without a proper answer; one queued behind it cannot be
    /// told apart from the confusion and ends with it.
    fn fail(&mut self, e: MachineError) {
        if self.pending.take().is_some() {
            self.complete(Err(e));
        }
        if self.queued.take().is_some() {
            self.complete(Err(e));
        }
    }

    fn on_event(&mut self, ev: DeviceEvent) {
        let reboot = ev.channel == ChannelId::TRANSPORT && ev.code == event::SOFT_REBOOT;
        let script_stopped = ev.channel == ChannelId::STDIN && ev.code == event::SCRIPT_STOPPED;
        if reboot || script_stopped {
            self.restarted = true;
        }
        if reboot && self.pending.as_ref().is_some_and(|p| p.step == Step::User) {
            // The engine that took the request is going away; its answer will not come.
            self.fail(RequestError::Reset.into());
        }
        if !self.events.push(ev) {
            self.events_dropped += 1;
        }
    }

    fn ack(&mut self, h: &Header) {
        let ack = Header { seq: h.seq, channel: h.channel, flags: Flags::ACK, opcode: h.opcode, length: 0 };
        self.push_packet(&ack, &[]);
    }

    /// Keeps answer bytes of the request in flight.
    fn keep(&mut self, user: bool, bytes: &[u8]) -> bool {
        if user {
            self.answer.append(bytes)
        } else {
            self.internal.append(bytes)
        }
    }

    /// Handles one packet; returns the resync step that just completed, if any.
    fn on_packet(&mut self, pkt: Packet<'_>) -> Option<Advance> {
        let h = pkt.header;
        Stats::bump(&mut self.stats.received);
        if h.flags.contains(Flags::EVENT) {
            if h.flags.contains(Flags::ACK_REQ) {
                self.ack(&h);
            }
            let code = match pkt.payload {
                [a, b, ..] => u16::from_le_bytes([*a, *b]),
                _ => event::NOTIFY,
            };
            Stats::bump(&mut self.stats.events);
            self.on_event(DeviceEvent { channel: h.channel, code });
            // Events never move a request's deadline: a cam printing every 50 ms must not keep
            // a lost request waiting for ever.
            return None;
        }
        if h.flags.contains(Flags::RTX) {
            Stats::bump(&mut self.stats.retransmits);
            if h.seq != self.seq.get() {
                // Seen already: its ACK was lost. ACK again, drop it.
                if h.flags.contains(Flags::ACK_REQ) {
                    self.ack(&h);
                }
                return None;
            }
        }
        if h.flags.contains(Flags::ACK_REQ) {
            self.ack(&h);
        }
        if self.pending.as_ref().is_some_and(|p| p.step == Step::Sync) && h.opcode != Opcode::PROTO_SYNC {
            // Left over from before the resync (the cam's counter is unknown until it
            // answers PROTO_SYNC): not an answer to anything now.
            return None;
        }
        if self.caps.seq() && h.seq != self.seq.get() && !h.flags.contains(Flags::RTX) {
            // Not the answer this counter expects: the cam restarted or the ends slipped.
            // End the request now; the caller resynchronises.
            Stats::bump(&mut self.stats.sequence_errors);
            self.fail(RequestError::Sequence.into());
            return None;
        }
        self.seq.advance();
        let p = self.pending?;
        if h.opcode != p.opcode || h.channel != p.channel {
            self.fail(RequestError::Unexpected.into());
            return None;
        }
        let nak = h.flags.contains(Flags::NAK);
        if !nak && p.got.saturating_add(pkt.payload.len()) > p.limit {
            self.fail(RequestError::TooLong.into());
            return None;
        }
        let user = p.step == Step::User;
        if h.flags.contains(Flags::FRAGMENT) {
            if !pkt.payload.is_empty() {
                if !self.keep(user, pkt.payload) {
                    self.fail(MachineError::AnswerFull);
                    return None;
                }
                // Real progress toward a bounded length: only this may move the deadline.
                let deadline = self.now + self.config.timeout;
                if let Some(p) = self.pending.as_mut() {
                    p.got += pkt.payload.len();
                    p.deadline = deadline;
                }
            }
            return None;
        }
        let result = if nak {
            let status = match pkt.payload {
                [a, b, ..] => Status::from_u16(u16::from_le_bytes([*a, *b])),
                _ => Status::Unknown,
            };
            Err(MachineError::Request(RequestError::Nak(status)))
        } else if h.flags.contains(Flags::ACK) && p.got == 0 {
            Ok(Outcome::Ack)
        } else if self.keep(user, pkt.payload) {
            Ok(Outcome::Data(p.got + pkt.payload.len()))
        } else {
            Err(MachineError::AnswerFull)
        };
        self.pending = None;
        match (p.step, result) {
            // A status-only request (limit 0) succeeded, whatever empty packet said so.
            (Step::User, r) if p.limit == 0 => self.finish(r.map(|_| Outcome::Ack)),
            (Step::User, r) => self.finish(r),
            (Step::Sync, Ok(Outcome::Ack)) => return Some(Advance::Synced),
            (Step::GetCaps, Ok(Outcome::Data(_))) => return Some(Advance::DeviceCaps),
            (Step::SetCaps(caps), Ok(Outcome::Ack)) => return Some(Advance::CapsSet(caps)),
            (_, Err(e)) => self.complete(Err(e)),
            (_, Ok(_)) => self.complete(Err(RequestError::Unexpected.into())),
        }
        None
    }
}
