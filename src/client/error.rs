//! What can go wrong talking to a cam, one variant per cause the caller may act on.

use std::io;
use std::time::Duration;

use crate::framing::Status;
use crate::host::{RequestError, StartError};

/// Errors of [`super::Camera`] operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No answer (or no next fragment of one) in time.
    #[error("no answer from the cam within {0:?}")]
    Timeout(Duration),
    /// The cam got a packet whose payload failed its CRC (NAK CHECKSUM).
    #[error("the cam saw a checksum error")]
    Checksum,
    /// The cam and the host disagree on the sequence counter (NAK SEQUENCE).
    #[error("sequence counter out of step with the cam")]
    Sequence,
    /// The cam refused the request with this status.
    #[error("the cam answered NAK {0:?}")]
    Nak(Status),
    /// The transport failed, the link may still be up.
    #[error("transport: {0}")]
    Io(#[from] io::Error),
    /// The link is gone (unplugged, closed by the peer); `reconnect` may bring it back.
    #[error("link lost: {0}")]
    LinkLost(String),
    /// The client was disconnected on purpose (`disconnect`, `reset`, `boot`).
    #[error("not connected")]
    Disconnected,
    /// The cam has no channel by that name or id.
    #[error("no such channel: {0}")]
    NoSuchChannel(String),
    /// An answer that does not fit its request (wrong opcode, short or malformed payload).
    #[error("bad answer from the cam: {0}")]
    BadAnswer(String),
    /// A request payload above the negotiated maximum.
    #[error("request larger than the cam accepts")]
    TooLarge,
    /// A frame's pixels could not be converted (short data, unknown format, bad JPEG).
    #[error("cannot decode frame: {0}")]
    Decode(String),
    /// The caller asked for something that cannot be sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The cam restarted its protocol engine (soft reboot after a script) while the request
    /// was in flight.
    #[error("the cam restarted (soft reboot) during the request")]
    CamRestarted,
    /// An answer grew past what was asked for.
    #[error("answer longer than requested")]
    AnswerTooLong,
    /// The cam claims more data than [`super::Options::max_answer`] allows to take in.
    #[error("the cam offers {claimed} bytes, more than the {limit}-byte limit")]
    SizeLimit {
        /// Bytes the read would take in: a size the cam reported, or the length asked for.
        claimed: u64,
        /// The [`super::Options::max_answer`] in force, in bytes.
        limit: usize,
    },
    /// A request that must not be repeated (a script's EXEC, a consuming read, an ioctl, a
    /// button press) failed in a way that leaves unknown whether the cam carried it out; the
    /// link was resynchronised.
    #[error("{op}: outcome unknown ({cause})")]
    OutcomeUnknown {
        /// The operation that was not repeated: "exec", "read_stdout", "ioctl" or
        /// "set_controls".
        op: &'static str,
        /// The error that ended it.
        cause: Box<Error>,
    },
    /// A controls channel's blob is malformed, or a control cannot take a value.
    #[error("controls: {0}")]
    Controls(#[from] crate::controls::Error),
}

/// Results of [`super::Camera`] operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Errors after which the client resynchronises and retries once, as openmv 1.0.7 does:
    /// the link is up but the two ends may no longer agree.
    pub fn is_protocol_error(&self) -> bool {
        match self {
            Error::Timeout(_)
            | Error::Checksum
            | Error::Sequence
            | Error::BadAnswer(_)
            | Error::CamRestarted
            | Error::AnswerTooLong => true,
            Error::Nak(s) => *s != Status::Busy,
            _ => false,
        }
    }

    /// Whether the link is down (lost or closed) rather than one request failing.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Error::LinkLost(_) | Error::Disconnected)
    }

    pub(crate) fn bad(what: impl Into<String>) -> Error {
        Error::BadAnswer(what.into())
    }

    pub(crate) fn from_request(e: RequestError, timeout: Duration) -> Error {
        match e {
            RequestError::Nak(Status::Checksum) => Error::Checksum,
            RequestError::Nak(Status::Sequence) => Error::Sequence,
            RequestError::Nak(s) => Error::Nak(s),
            RequestError::Timeout => Error::Timeout(timeout),
            RequestError::Unexpected => Error::bad("answer to another request"),
            RequestError::Aborted => Error::bad("request aborted by a resync"),
            RequestError::BadCaps => Error::bad("malformed capabilities"),
            RequestError::TooLong => Error::AnswerTooLong,
            RequestError::Sequence => Error::Sequence,
            RequestError::Reset => Error::CamRestarted,
        }
    }

    pub(crate) fn from_start(e: StartError) -> Error {
        match e {
            StartError::TooLarge => Error::TooLarge,
            // Requests are serialised by the operation lock: a busy host is a client bug
            // the resync-and-retry path recovers from.
            StartError::Busy => Error::bad("host engine busy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_not_a_protocol_error() {
        assert!(!Error::Nak(Status::Busy).is_protocol_error());
        assert!(Error::Nak(Status::Failed).is_protocol_error());
        assert!(Error::Timeout(Duration::from_secs(1)).is_protocol_error());
        assert!(!Error::LinkLost("x".into()).is_protocol_error());
        assert!(Error::Disconnected.is_disconnected());
        assert!(matches!(Error::from_request(RequestError::Nak(Status::Sequence), Duration::ZERO), Error::Sequence));
    }
}
