//! [`Host`]: the [`HostMachine`] over growable buffers, with owned requests and answers.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::machine::{HostMachine, MachineError, Outcome};
use super::types::{DeviceEvent, HostConfig, RequestError, StartError, ANSWER_LIMIT, EVENT_QUEUE, HOST_PACKET_BUF};
use crate::framing::payload::Caps;
use crate::framing::{ChannelId, Checksum, FastCrc, Opcode};
use crate::reliability::Stats;
use crate::time::Instant;

/// A request to the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The channel addressed; [`ChannelId::TRANSPORT`] (0) for protocol opcodes.
    pub channel: ChannelId,
    /// The command (PROTOCOL.md 4).
    pub opcode: Opcode,
    /// The request's payload, at most the negotiated max_payload bytes (else
    /// [`StartError::TooLarge`]).
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

type Machine<C> = HostMachine<C, Vec<u8>, Vec<u8>, HOST_PACKET_BUF, EVENT_QUEUE>;

/// The host engine: owns the machine's storage (boxed: the decoder holds 64 KiB) and
/// converts its results into owned values.
#[derive(Debug)]
pub struct Host<C: Checksum = FastCrc> {
    m: Box<Machine<C>>,
}

impl Default for Host {
    fn default() -> Self {
        Host::new(HostConfig::default(), FastCrc)
    }
}

impl<C: Checksum> Host<C> {
    /// A host assuming the device's start-up settings (CRC and seq on, counter 0).
    pub fn new(config: HostConfig, crc: C) -> Self {
        let mut slot = Box::<Machine<C>>::new_uninit();
        Machine::new_in(&mut slot, config, crc, Vec::new(), Vec::new());
        // SAFETY: `new_in` initialised every field of the slot.
        Host { m: unsafe { slot.assume_init() } }
    }

    /// The settings in force on the link.
    pub fn caps(&self) -> Caps {
        self.m.caps()
    }

    /// The host's sequence counter (PROTOCOL.md 3.1): the seq the next request carries when
    /// none is in flight. It advances with every non-event packet received; 0 after a resync.
    pub fn seq(&self) -> u8 {
        self.m.seq()
    }

    /// This end's link counters: packets sent and received, checksum and sequence errors,
    /// retransmits and events seen.
    pub fn stats(&self) -> Stats {
        self.m.stats()
    }

    /// The settings in use: answer timeout and resync wish.
    pub fn config(&self) -> &HostConfig {
        self.m.config()
    }

    /// Replaces the settings. The timeout counts from the next deadline set (a request sent or
    /// a fragment received); the wish applies at the next [`Host::resync`].
    pub fn set_config(&mut self, config: HostConfig) {
        self.m.set_config(config)
    }

    /// Events dropped because [`EVENT_QUEUE`] were waiting unread.
    pub fn events_dropped(&self) -> u64 {
        self.m.events_dropped()
    }

    /// Whether the cam has restarted its protocol engine (a SOFT_REBOOT event, or stdin's
    /// script-stopped event that precedes it) since the last [`Host::resync`]. Its counter,
    /// capabilities, locks and user channels are back to their start-up state.
    pub fn cam_restarted(&self) -> bool {
        self.m.cam_restarted()
    }

    /// Whether a request (or resync) is in flight.
    pub fn is_busy(&self) -> bool {
        self.m.is_busy()
    }

    /// Sends a request. Its result arrives through [`Host::poll_completion`]. Behind a
    /// request whose `limit` is 0 (answered by one ACK or NAK) one more may start before
    /// that answer comes; completions come in order ([`HostMachine::start`]).
    pub fn start(&mut self, now: Instant, req: &Request) -> Result<(), StartError> {
        self.m.start(now, req.opcode, req.channel, &req.payload, req.limit)
    }

    /// Resynchronises: PROTO_SYNC with CRC and seq on, counter reset, capabilities
    /// renegotiated from the configured wish. Aborts a request in flight. Completes with
    /// `Ok(Response::Ack)` once the new settings are in force.
    pub fn resync(&mut self, now: Instant) {
        self.m.resync(now)
    }

    /// Bytes to write to the transport (requests and ACKs), if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let tx = self.m.tx_mut();
        (!tx.is_empty()).then(|| core::mem::take(tx))
    }

    /// The bytes waiting to be written, borrowed (empty when there are none); call
    /// [`Host::transmitted`] once they are written. Unlike [`Host::poll_transmit`] this keeps
    /// the transmit buffer, so a busy link allocates nothing per packet.
    pub fn transmit_bytes(&mut self) -> &[u8] {
        self.m.tx_mut().as_slice()
    }

    /// Forgets the bytes [`Host::transmit_bytes`] gave (written, or lost with the link).
    pub fn transmitted(&mut self) {
        self.m.tx_mut().clear();
    }

    /// The next device event received.
    pub fn poll_event(&mut self) -> Option<DeviceEvent> {
        self.m.poll_event()
    }

    /// The result of the request, once. A resync reports only its final step.
    pub fn poll_completion(&mut self) -> Option<Result<Response, RequestError>> {
        Some(match self.m.poll_completion()? {
            Ok(Outcome::Ack) => Ok(Response::Ack),
            Ok(Outcome::Data(_)) => Ok(Response::Data(core::mem::take(self.m.answer_mut()))),
            Err(MachineError::Request(e)) => Err(e),
            // A Vec always has room; the nearest meaning if it ever had not.
            Err(MachineError::AnswerFull) => Err(RequestError::TooLong),
        })
    }

    /// When [`Host::handle_timeout`] must be called.
    pub fn poll_at(&self) -> Option<Instant> {
        self.m.poll_at()
    }

    /// Fails the request if its deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.m.handle_timeout(now)
    }

    /// Takes received bytes (all of them).
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) {
        self.m.handle_input(now, input)
    }
}
