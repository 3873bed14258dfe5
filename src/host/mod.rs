//! The host role as a sans-IO machine: one request at a time, any opcode.
//!
//! - [`Host::start`] a request (or [`Host::resync`]), then write what [`Host::poll_transmit`]
//!   gives to the transport;
//! - [`Host::handle_input`] with every received chunk; ACKs the host owes are queued for
//!   transmit at once;
//! - [`Host::poll_event`] for device events and [`Host::poll_completion`] for the result;
//! - [`Host::handle_timeout`] once [`Host::poll_at`] has passed.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use crate::framing::payload::{event, CapFlags, Caps};
use crate::framing::{
    encode_parts, ChannelId, Checksum, Decoder, FastCrc, Flags, FrameError, Header, Opcode, Packet, Role, Status,
    MIN_MAX_PAYLOAD,
};
use crate::reliability::{negotiate, SeqCounter, Stats};
use crate::time::Instant;

/// Largest packet a host can take: a u16 length plus header and CRC.
pub const HOST_PACKET_BUF: usize = u16::MAX as usize + 14;

/// The most data a non-read answer may carry (the largest, CHANNEL_LIST of 32 channels, is
/// 512 bytes; the slack is for firmware that grows its structures).
pub const ANSWER_LIMIT: usize = 64 * 1024;

/// Most device events held for [`Host::poll_event`]; older ones are dropped and counted.
pub const EVENT_QUEUE: usize = 256;

/// A request to the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub channel: ChannelId,
    pub opcode: Opcode,
    pub payload: Vec<u8>,
    /// The answer may carry at most this many bytes; more fails the request with
    /// [`RequestError::TooLong`] before anything past it is kept.
    pub limit: usize,
}

impl Request {
    /// A request whose answer limit follows from what it asks: a CHANNEL_READ's own length,
    /// [`ANSWER_LIMIT`] for everything else.
    pub fn new(opcode: Opcode, channel: ChannelId, payload: Vec<u8>) -> Self {
        let limit = match (opcode, payload.get(4..8)) {
            (Opcode::CHANNEL_READ, Some(&[a, b, c, d])) => u32::from_le_bytes([a, b, c, d]) as usize,
            _ => ANSWER_LIMIT,
        };
        Request { channel, opcode, payload, limit }
    }
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// A bare ACK.
    Ack,
    /// Data, fragments joined.
    Data(Vec<u8>),
}

impl Response {
    /// The data of the answer (empty for an ACK).
    pub fn into_data(self) -> Vec<u8> {
        match self {
            Response::Ack => Vec::new(),
            Response::Data(d) => d,
        }
    }
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The device answered NAK with this status.
    Nak(Status),
    /// No answer (or no next fragment) within the timeout.
    Timeout,
    /// An answer that does not belong to the request.
    Unexpected,
    /// [`Host::resync`] or a new connection cut the request short.
    Aborted,
    /// The GET_CAPS answer was malformed.
    BadCaps,
    /// The answer grew past the request's limit (a read longer than asked for).
    TooLong,
    /// A non-event packet carried another sequence number than the host's: the cam's
    /// counter restarted (soft reboot) or the ends fell out of step.
    Sequence,
    /// The cam announced a soft reboot while the request was in flight: it may or may not
    /// have been carried out, and its answer will not come.
    Reset,
}

/// Why a request could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// Another request is in flight.
    Busy,
    /// The payload is larger than the negotiated max_payload.
    TooLarge,
}

/// A device event (PROTOCOL.md 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceEvent {
    /// 0 for system events.
    pub channel: ChannelId,
    /// The code; [`event::NOTIFY`] when the event had no payload.
    pub code: u16,
}

/// Host settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostConfig {
    /// Wait for an answer, or for its next fragment, at most this long.
    pub timeout: Duration,
    /// What [`Host::resync`] asks the device for (max_payload = min(device, this)).
    pub wish: Caps,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig { timeout: Duration::from_millis(1000), wish: Caps::DEFAULT }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    User,
    Sync,
    GetCaps,
    SetCaps(Caps),
}

#[derive(Debug)]
struct Pending {
    step: Step,
    opcode: Opcode,
    channel: ChannelId,
    data: Vec<u8>,
    limit: usize,
    /// Set when the request is sent; only an answer fragment that brings new data moves it.
    deadline: Instant,
}

/// The host engine.
#[derive(Debug)]
pub struct Host<C: Checksum = FastCrc> {
    crc: C,
    config: HostConfig,
    decoder: Box<Decoder<HOST_PACKET_BUF>>,
    caps: Caps,
    seq: SeqCounter,
    pending: Option<Pending>,
    tx: Vec<u8>,
    events: VecDeque<DeviceEvent>,
    events_dropped: u64,
    /// The cam announced (or began) a restart since the last resync.
    restarted: bool,
    done: Option<Result<Response, RequestError>>,
    stats: Stats,
    now: Instant,
}

impl Default for Host {
    fn default() -> Self {
        Host::new(HostConfig::default(), FastCrc)
    }
}

impl<C: Checksum> Host<C> {
    /// A host assuming the device's start-up settings (CRC and seq on, counter 0).
    pub fn new(config: HostConfig, crc: C) -> Self {
        let mut h = Host {
            crc,
            config,
            decoder: Box::new(Decoder::new(Role::Host)),
            caps: Caps::DEFAULT,
            seq: SeqCounter::default(),
            pending: None,
            tx: Vec::new(),
            events: VecDeque::new(),
            events_dropped: 0,
            restarted: false,
            done: None,
            stats: Stats::default(),
            now: Instant::ZERO,
        };
        h.apply_caps();
        h
    }

    /// The settings in force on the link.
    pub fn caps(&self) -> Caps {
        self.caps
    }

    pub fn seq(&self) -> u8 {
        self.seq.get()
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn set_config(&mut self, config: HostConfig) {
        self.config = config;
    }

    /// Events dropped because [`EVENT_QUEUE`] were waiting unread.
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped
    }

    /// Whether the cam has restarted its protocol engine (a SOFT_REBOOT event, or stdin's
    /// script-stopped event that precedes it) since the last [`Host::resync`]. Its counter,
    /// capabilities, locks and user channels are back to their start-up state.
    pub fn cam_restarted(&self) -> bool {
        self.restarted
    }

    /// Whether a request (or resync) is in flight.
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Sends a request. Its result arrives through [`Host::poll_completion`].
    pub fn start(&mut self, now: Instant, req: &Request) -> Result<(), StartError> {
        if self.pending.is_some() {
            return Err(StartError::Busy);
        }
        if req.payload.len() > self.caps.max_payload as usize {
            return Err(StartError::TooLarge);
        }
        self.now = now;
        self.send_request(Step::User, req.opcode, req.channel, &req.payload, req.limit);
        Ok(())
    }

    /// Resynchronises: PROTO_SYNC with CRC and seq on, counter reset, capabilities
    /// renegotiated from the configured wish. Aborts a request in flight. Completes with
    /// `Ok(Response::Ack)` once the new settings are in force.
    pub fn resync(&mut self, now: Instant) {
        self.now = now;
        if self.pending.take().is_some_and(|p| p.step == Step::User) {
            self.done = Some(Err(RequestError::Aborted));
        }
        self.caps = Caps { flags: CapFlags::CRC | CapFlags::SEQ, max_payload: self.caps.max_payload };
        self.seq.reset();
        self.restarted = false;
        self.send_request(Step::Sync, Opcode::PROTO_SYNC, ChannelId::TRANSPORT, &[], 0);
    }

    /// Bytes to write to the transport (requests and ACKs), if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.tx.is_empty()).then(|| core::mem::take(&mut self.tx))
    }

    /// The next device event received.
    pub fn poll_event(&mut self) -> Option<DeviceEvent> {
        self.events.pop_front()
    }

    /// The result of the request, once. A resync reports only its final step.
    pub fn poll_completion(&mut self) -> Option<Result<Response, RequestError>> {
        self.done.take()
    }

    /// When [`Host::handle_timeout`] must be called.
    pub fn poll_at(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// Fails the request if its deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.pending.as_ref().is_some_and(|p| now >= p.deadline) {
            self.pending = None;
            self.done = Some(Err(RequestError::Timeout));
        }
    }

    /// Takes received bytes (all of them).
    pub fn handle_input(&mut self, now: Instant, mut input: &[u8]) {
        self.now = now;
        loop {
            self.apply_caps();
            let (n, res) = self.decoder.feed(input, &self.crc);
            input = &input[n..];
            match res {
                Some(Ok(pkt)) => {
                    let mut core = HostCore {
                        crc: &self.crc,
                        caps: self.caps,
                        seq: &mut self.seq,
                        pending: &mut self.pending,
                        tx: &mut self.tx,
                        events: &mut self.events,
                        events_dropped: &mut self.events_dropped,
                        restarted: &mut self.restarted,
                        done: &mut self.done,
                        stats: &mut self.stats,
                        timeout: self.config.timeout,
                        now,
                    };
                    if let Some(next) = core.on_packet(pkt) {
                        self.after(next);
                    }
                }
                Some(Err(e)) => match e {
                    FrameError::PayloadChecksum(_) => Stats::bump(&mut self.stats.checksum_errors),
                    // The host checks sequence numbers itself (on_packet); kept for completeness.
                    FrameError::Sequence(_) => Stats::bump(&mut self.stats.sequence_errors),
                    FrameError::Oversize(_) => {}
                },
                None if input.is_empty() => break,
                None => {}
            }
        }
    }

    /// Runs the next step of a resync after one completed.
    fn after(&mut self, done: Advance) {
        match done {
            Advance::Synced => {
                self.seq.reset();
                self.send_request(Step::GetCaps, Opcode::PROTO_GET_CAPS, ChannelId::TRANSPORT, &[], Caps::LEN);
            }
            Advance::DeviceCaps(answer) => match Caps::parse(&answer) {
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
                Err(_) => self.done = Some(Err(RequestError::BadCaps)),
            },
            Advance::CapsSet(caps) => {
                self.caps = caps;
                self.done = Some(Ok(Response::Ack));
            }
        }
    }

    fn send_request(&mut self, step: Step, opcode: Opcode, channel: ChannelId, payload: &[u8], limit: usize) {
        let h = Header { seq: self.seq.get(), channel, flags: Flags::empty(), opcode, length: 0 };
        push_packet(&mut self.tx, &h, payload, self.caps.crc().then_some(&self.crc as &dyn Checksum));
        Stats::bump(&mut self.stats.sent);
        let deadline = self.now + self.config.timeout;
        self.pending = Some(Pending { step, opcode, channel, data: Vec::new(), limit, deadline });
    }

    fn apply_caps(&mut self) {
        self.decoder.set_crc(self.caps.crc());
        self.decoder.set_max_payload(self.caps.max_payload.max(MIN_MAX_PAYLOAD) as usize);
        // Sequence numbers are checked per packet in on_packet, where a mismatch can end the
        // request at once instead of costing one byte and a wait for the timeout.
        self.decoder.set_expected_seq(None);
    }
}

/// A resync step that completed, and what the next one needs.
enum Advance {
    Synced,
    DeviceCaps(Vec<u8>),
    CapsSet(Caps),
}

fn push_packet(tx: &mut Vec<u8>, h: &Header, payload: &[u8], crc: Option<&dyn Checksum>) {
    // Payloads are bounded by max_payload (u16) before they get here.
    if let Ok(p) = encode_parts(h, payload, crc) {
        tx.extend_from_slice(&p.header);
        tx.extend_from_slice(p.payload);
        tx.extend_from_slice(p.crc_bytes());
    }
}

/// The host's state minus its decoder, so a packet borrowed from the decoder can be handled.
struct HostCore<'h> {
    crc: &'h dyn Checksum,
    caps: Caps,
    seq: &'h mut SeqCounter,
    pending: &'h mut Option<Pending>,
    tx: &'h mut Vec<u8>,
    events: &'h mut VecDeque<DeviceEvent>,
    events_dropped: &'h mut u64,
    restarted: &'h mut bool,
    done: &'h mut Option<Result<Response, RequestError>>,
    stats: &'h mut Stats,
    timeout: Duration,
    now: Instant,
}

impl HostCore<'_> {
    fn fail(&mut self, e: RequestError) {
        if self.pending.take().is_some() {
            *self.done = Some(Err(e));
        }
    }

    fn on_event(&mut self, ev: DeviceEvent) {
        let reboot = ev.channel == ChannelId::TRANSPORT && ev.code == event::SOFT_REBOOT;
        let script_stopped = ev.channel == ChannelId::STDIN && ev.code == event::SCRIPT_STOPPED;
        if reboot || script_stopped {
            *self.restarted = true;
        }
        if reboot && self.pending.as_ref().is_some_and(|p| p.step == Step::User) {
            // The engine that took the request is going away; its answer will not come.
            self.fail(RequestError::Reset);
        }
        if self.events.len() >= EVENT_QUEUE {
            self.events.pop_front();
            *self.events_dropped += 1;
        }
        self.events.push_back(ev);
    }

    fn ack(&mut self, h: &Header) {
        let ack = Header { seq: h.seq, channel: h.channel, flags: Flags::ACK, opcode: h.opcode, length: 0 };
        push_packet(self.tx, &ack, &[], self.caps.crc().then_some(self.crc));
        Stats::bump(&mut self.stats.sent);
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
            self.fail(RequestError::Sequence);
            return None;
        }
        self.seq.advance();
        let p = self.pending.as_mut()?;
        if h.opcode != p.opcode || h.channel != p.channel {
            self.fail(RequestError::Unexpected);
            return None;
        }
        if !h.flags.contains(Flags::NAK) && p.data.len().saturating_add(pkt.payload.len()) > p.limit {
            self.fail(RequestError::TooLong);
            return None;
        }
        if h.flags.contains(Flags::FRAGMENT) {
            if !pkt.payload.is_empty() {
                // Real progress toward a bounded length: only this may move the deadline.
                p.data.extend_from_slice(pkt.payload);
                p.deadline = self.now + self.timeout;
            }
            return None;
        }
        let p = self.pending.take()?;
        let result = if h.flags.contains(Flags::NAK) {
            let status = match pkt.payload {
                [a, b, ..] => Status::from_u16(u16::from_le_bytes([*a, *b])),
                _ => Status::Unknown,
            };
            Err(RequestError::Nak(status))
        } else if h.flags.contains(Flags::ACK) && p.data.is_empty() {
            Ok(Response::Ack)
        } else {
            let mut data = p.data;
            data.extend_from_slice(pkt.payload);
            Ok(Response::Data(data))
        };
        match (p.step, result) {
            (Step::User, r) => *self.done = Some(r),
            (Step::Sync, Ok(Response::Ack)) => return Some(Advance::Synced),
            (Step::GetCaps, Ok(Response::Data(d))) => return Some(Advance::DeviceCaps(d)),
            (Step::SetCaps(caps), Ok(Response::Ack)) => return Some(Advance::CapsSet(caps)),
            (_, Err(e)) => *self.done = Some(Err(e)),
            (_, Ok(_)) => *self.done = Some(Err(RequestError::Unexpected)),
        }
        None
    }
}
