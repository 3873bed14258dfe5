//! The one error type every binding sees: `CameraError` (Kotlin `CameraException`).

use std::fmt;
use std::io;

use openmvproto::client::Error;
use openmvproto::transport::{is_link_lost, link_lost};

/// Why an operation failed. One variant per cause an app may act on; `Callback` is an
/// exception thrown by the app's own listener or transport that was not a `CameraError`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum CameraError {
    /// No answer (or no next fragment of one) within `timeout_ms`.
    Timeout { timeout_ms: u64 },
    /// The cam saw a payload checksum error (NAK CHECKSUM).
    Checksum,
    /// Host and cam disagree on the sequence counter (NAK SEQUENCE).
    Sequence,
    /// The cam refused the request: `status` is the NAK code (1 FAILED, 2 INVALID, 4 BUSY, ...).
    Nak { status: u16, name: String },
    /// The transport failed; the link may still be up.
    Io { detail: String },
    /// The link is gone (unplugged, closed by the peer); `reconnect` may bring it back.
    LinkLost { reason: String },
    /// The camera was disconnected on purpose (`disconnect`, `reset`, `boot`).
    Disconnected,
    /// The cam has no channel by that name.
    NoSuchChannel { name: String },
    /// An answer that does not fit its request.
    BadAnswer { detail: String },
    /// A request larger than the cam accepts.
    TooLarge,
    /// A frame's pixels could not be converted to RGB888.
    Decode { detail: String },
    /// An argument that cannot be sent.
    InvalidArgument { detail: String },
    /// The app's listener or transport threw something other than a `CameraError`.
    Callback { detail: String },
    /// The cam restarted (soft reboot after a script) during the request.
    CamRestarted,
    /// An answer grew past what was asked for.
    AnswerTooLong,
    /// The cam offered more bytes than the client takes in at once.
    SizeLimit { claimed: u64, limit: u64 },
    /// A request that is never repeated (EXEC, a consuming read, an ioctl, a push-button
    /// press) may or may not have run.
    OutcomeUnknown { op: String, detail: String },
}

impl fmt::Display for CameraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CameraError::Timeout { timeout_ms } => write!(f, "no answer from the cam within {timeout_ms} ms"),
            CameraError::Checksum => f.write_str("the cam saw a checksum error"),
            CameraError::Sequence => f.write_str("sequence counter out of step with the cam"),
            CameraError::Nak { status, name } => write!(f, "the cam answered NAK {name} ({status})"),
            CameraError::Io { detail } => write!(f, "transport: {detail}"),
            CameraError::LinkLost { reason } => write!(f, "link lost: {reason}"),
            CameraError::Disconnected => f.write_str("not connected"),
            CameraError::NoSuchChannel { name } => write!(f, "no such channel: {name}"),
            CameraError::BadAnswer { detail } => write!(f, "bad answer from the cam: {detail}"),
            CameraError::TooLarge => f.write_str("request larger than the cam accepts"),
            CameraError::Decode { detail } => write!(f, "cannot decode frame: {detail}"),
            CameraError::InvalidArgument { detail } => write!(f, "invalid argument: {detail}"),
            CameraError::Callback { detail } => write!(f, "app callback failed: {detail}"),
            CameraError::CamRestarted => f.write_str("the cam restarted (soft reboot) during the request"),
            CameraError::AnswerTooLong => f.write_str("answer longer than requested"),
            CameraError::SizeLimit { claimed, limit } => {
                write!(f, "the cam offers {claimed} bytes, more than the {limit}-byte limit")
            }
            CameraError::OutcomeUnknown { op, detail } => write!(f, "{op}: outcome unknown ({detail})"),
        }
    }
}

impl std::error::Error for CameraError {}

impl From<Error> for CameraError {
    fn from(e: Error) -> Self {
        match e {
            Error::Timeout(d) => CameraError::Timeout { timeout_ms: d.as_millis().try_into().unwrap_or(u64::MAX) },
            Error::Checksum => CameraError::Checksum,
            Error::Sequence => CameraError::Sequence,
            Error::Nak(s) => CameraError::Nak { status: s as u16, name: format!("{s:?}").to_uppercase() },
            Error::Io(e) => CameraError::Io { detail: e.to_string() },
            Error::LinkLost(reason) => CameraError::LinkLost { reason },
            Error::Disconnected => CameraError::Disconnected,
            Error::NoSuchChannel(name) => CameraError::NoSuchChannel { name },
            Error::BadAnswer(detail) => CameraError::BadAnswer { detail },
            Error::TooLarge => CameraError::TooLarge,
            Error::Decode(detail) => CameraError::Decode { detail },
            Error::InvalidArgument(detail) => CameraError::InvalidArgument { detail: detail.into() },
            Error::Controls(e) => crate::controls::camera_error(&e),
            Error::CamRestarted => CameraError::CamRestarted,
            Error::AnswerTooLong => CameraError::AnswerTooLong,
            Error::SizeLimit { claimed, limit } => CameraError::SizeLimit { claimed, limit: limit as u64 },
            Error::OutcomeUnknown { op, cause } => {
                CameraError::OutcomeUnknown { op: op.into(), detail: cause.to_string() }
            }
        }
    }
}

/// A foreign callback that threw something UniFFI could not lift as a `CameraError` (a Kotlin
/// `RuntimeException`, a Swift error of another type): an error value instead of a panic in Rust.
impl From<uniffi::UnexpectedUniFFICallbackError> for CameraError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CameraError::Callback { detail: e.reason }
    }
}

impl CameraError {
    /// The error an app transport's failure becomes inside the client: `LinkLost` keeps its
    /// meaning (the client marks the link lost), anything else is a plain I/O error.
    pub(crate) fn into_io(self) -> io::Error {
        match self {
            CameraError::LinkLost { reason } => link_lost(reason),
            CameraError::Disconnected => link_lost("app transport disconnected"),
            other => io::Error::other(other.to_string()),
        }
    }
}

impl From<io::Error> for CameraError {
    fn from(e: io::Error) -> Self {
        if is_link_lost(&e) {
            CameraError::LinkLost { reason: e.to_string() }
        } else {
            CameraError::Io { detail: e.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmvproto::Status;
    use std::time::Duration;

    #[test]
    fn client_errors_map_one_to_one() {
        assert_eq!(CameraError::from(Error::Nak(Status::Busy)), CameraError::Nak { status: 4, name: "BUSY".into() });
        assert_eq!(
            CameraError::from(Error::Timeout(Duration::from_millis(1500))),
            CameraError::Timeout { timeout_ms: 1500 }
        );
        assert_eq!(CameraError::from(Error::Disconnected), CameraError::Disconnected);
        let cb = CameraError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
        assert_eq!(cb, CameraError::Callback { detail: "boom".into() });
        assert!(is_link_lost(&CameraError::LinkLost { reason: "x".into() }.into_io()));
        assert!(!is_link_lost(&CameraError::Callback { detail: "x".into() }.into_io()));
    }
}
