//! `omv_status`, the one result type of the C ABI, and the per-thread last-error message.
//!
//! Every mapping from a Rust error (client [`Error`], protocol [`Status`], `io::Error`, device
//! registry and event errors) to an `omv_status` lives in this file.

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt;
use std::io;

use crate::client::Error;
use crate::device::{EventError, RegistryError};
use crate::framing::Status;
use crate::transport::is_link_lost;

/// What every `omv_*` function returns: `OMV_STATUS_OK` (0) on success, an error otherwise.
/// After an error, `omv_last_error` gives a message explaining it.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum omv_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument (handle, out-pointer, buffer) was NULL.
    NullArgument = 1,
    /// An argument is out of range, misaligned, not UTF-8, or a struct carries the wrong
    /// `struct_size`; or the call is not allowed in the handle's state.
    InvalidArgument = 2,
    /// The caller's buffer or array is too small; the count / length out-parameter says how
    /// much is needed.
    BufferTooSmall = 3,
    /// No answer from the cam in time.
    Timeout = 4,
    /// The cam saw a checksum error (NAK CHECKSUM).
    Checksum = 5,
    /// Host and cam disagree on the sequence counter (NAK SEQUENCE).
    Sequence = 6,
    /// The cam answered NAK BUSY (where BUSY is not reported as a plain "no"), or the device
    /// handle is in use (called from inside one of its own callbacks, or from two threads).
    Busy = 7,
    /// The cam answered NAK FAILED.
    NakFailed = 8,
    /// The cam answered NAK INVALID (unknown channel or operation, bad request).
    NakInvalid = 9,
    /// The cam answered NAK TIMEOUT.
    NakTimeout = 10,
    /// The cam answered NAK OVERFLOW.
    NakOverflow = 11,
    /// The cam answered NAK FRAGMENT.
    NakFragment = 12,
    /// The cam answered NAK UNKNOWN, or a status this protocol version does not define.
    NakUnknown = 13,
    /// The transport failed (the link may still be up).
    Io = 14,
    /// The link is gone (unplugged, closed by the peer or by `omv_host_feed_close`, a write
    /// callback returned nonzero), or could not be opened: `omv_host_open_serial` on a port
    /// that does not exist (or is held exclusively by another program).
    LinkLost = 15,
    /// Not connected: the link was closed on purpose (reset, boot, or `omv_host_close` while
    /// the call was in flight), or a handle from `omv_host_new_callback` is not connected yet
    /// (`omv_host_connect` has not succeeded).
    Disconnected = 16,
    /// The cam has no channel by that name.
    NoSuchChannel = 17,
    /// An answer that does not fit its request.
    BadAnswer = 18,
    /// A request larger than the cam accepts.
    TooLarge = 19,
    /// A frame the cam sent is malformed (data offset, unknown pixel format, fewer pixel
    /// bytes than its size needs, JPEG without a start marker), or could not be converted to
    /// RGB888.
    Decode = 20,
    /// The handle was closed with `omv_host_close`; only `omv_host_free` remains.
    Closed = 21,
    /// No room: the device's channel table is full (31 channels, ids 1-31; id 0 is the
    /// transport), or its event queue is (`omv_device_send_event`).
    Full = 22,
    /// The host turned events off: its last PROTO_SET_CAPS lacked the events bit. Events are
    /// on from `omv_device_new` and again after each PROTO_SYNC.
    EventsDisabled = 23,
    /// The cam restarted (soft reboot after a script) during the call; the session was
    /// restored, the call may be repeated if it is safe to.
    CamRestarted = 24,
    /// An answer grew past what was asked for.
    AnswerTooLong = 25,
    /// The cam offered more bytes than the host takes in at once.
    SizeLimit = 26,
    /// A request that is never repeated (EXEC, a consuming stdout read, an ioctl, a
    /// push-button press) may or may not have been carried out.
    OutcomeUnknown = 27,
    /// A bug in the library (an invariant did not hold).
    Internal = 254,
    /// A Rust panic was caught at the boundary; the handle may be unusable.
    Panic = 255,
}

impl omv_status {
    /// Every status, for `omv_status_str` and the tests.
    pub(crate) const ALL: [omv_status; 30] = [
        omv_status::Ok,
        omv_status::NullArgument,
        omv_status::InvalidArgument,
        omv_status::BufferTooSmall,
        omv_status::Timeout,
        omv_status::Checksum,
        omv_status::Sequence,
        omv_status::Busy,
        omv_status::NakFailed,
        omv_status::NakInvalid,
        omv_status::NakTimeout,
        omv_status::NakOverflow,
        omv_status::NakFragment,
        omv_status::NakUnknown,
        omv_status::Io,
        omv_status::LinkLost,
        omv_status::Disconnected,
        omv_status::NoSuchChannel,
        omv_status::BadAnswer,
        omv_status::TooLarge,
        omv_status::Decode,
        omv_status::Closed,
        omv_status::Full,
        omv_status::EventsDisabled,
        omv_status::CamRestarted,
        omv_status::AnswerTooLong,
        omv_status::SizeLimit,
        omv_status::OutcomeUnknown,
        omv_status::Internal,
        omv_status::Panic,
    ];

    /// The status's name as the header spells it, NUL-terminated.
    pub(crate) fn name(self) -> &'static str {
        match self {
            omv_status::Ok => "OMV_STATUS_OK\0",
            omv_status::NullArgument => "OMV_STATUS_NULL_ARGUMENT\0",
            omv_status::InvalidArgument => "OMV_STATUS_INVALID_ARGUMENT\0",
            omv_status::BufferTooSmall => "OMV_STATUS_BUFFER_TOO_SMALL\0",
            omv_status::Timeout => "OMV_STATUS_TIMEOUT\0",
            omv_status::Checksum => "OMV_STATUS_CHECKSUM\0",
            omv_status::Sequence => "OMV_STATUS_SEQUENCE\0",
            omv_status::Busy => "OMV_STATUS_BUSY\0",
            omv_status::NakFailed => "OMV_STATUS_NAK_FAILED\0",
            omv_status::NakInvalid => "OMV_STATUS_NAK_INVALID\0",
            omv_status::NakTimeout => "OMV_STATUS_NAK_TIMEOUT\0",
            omv_status::NakOverflow => "OMV_STATUS_NAK_OVERFLOW\0",
            omv_status::NakFragment => "OMV_STATUS_NAK_FRAGMENT\0",
            omv_status::NakUnknown => "OMV_STATUS_NAK_UNKNOWN\0",
            omv_status::Io => "OMV_STATUS_IO\0",
            omv_status::LinkLost => "OMV_STATUS_LINK_LOST\0",
            omv_status::Disconnected => "OMV_STATUS_DISCONNECTED\0",
            omv_status::NoSuchChannel => "OMV_STATUS_NO_SUCH_CHANNEL\0",
            omv_status::BadAnswer => "OMV_STATUS_BAD_ANSWER\0",
            omv_status::TooLarge => "OMV_STATUS_TOO_LARGE\0",
            omv_status::Decode => "OMV_STATUS_DECODE\0",
            omv_status::Closed => "OMV_STATUS_CLOSED\0",
            omv_status::Full => "OMV_STATUS_FULL\0",
            omv_status::EventsDisabled => "OMV_STATUS_EVENTS_DISABLED\0",
            omv_status::CamRestarted => "OMV_STATUS_CAM_RESTARTED\0",
            omv_status::AnswerTooLong => "OMV_STATUS_ANSWER_TOO_LONG\0",
            omv_status::SizeLimit => "OMV_STATUS_SIZE_LIMIT\0",
            omv_status::OutcomeUnknown => "OMV_STATUS_OUTCOME_UNKNOWN\0",
            omv_status::Internal => "OMV_STATUS_INTERNAL\0",
            omv_status::Panic => "OMV_STATUS_PANIC\0",
        }
    }

    /// A status from its number; `None` for numbers no status has.
    pub(crate) fn from_i64(v: i64) -> Option<omv_status> {
        Self::ALL.iter().copied().find(|s| *s as i64 == v)
    }

    /// The status of a NAK the cam sent.
    pub(crate) fn from_nak(s: Status) -> omv_status {
        match s {
            // A NAK SUCCESS makes no sense; treat it as an answer that does not fit.
            Status::Success => omv_status::BadAnswer,
            Status::Failed => omv_status::NakFailed,
            Status::Invalid => omv_status::NakInvalid,
            Status::Timeout => omv_status::NakTimeout,
            Status::Busy => omv_status::Busy,
            Status::Checksum => omv_status::Checksum,
            Status::Sequence => omv_status::Sequence,
            Status::Overflow => omv_status::NakOverflow,
            Status::Fragment => omv_status::NakFragment,
            Status::Unknown => omv_status::NakUnknown,
        }
    }

    fn from_io(e: &io::Error) -> omv_status {
        if is_link_lost(e) {
            omv_status::LinkLost
        } else if e.kind() == io::ErrorKind::TimedOut {
            omv_status::Timeout
        } else if e.kind() == io::ErrorKind::InvalidInput {
            omv_status::InvalidArgument
        } else {
            omv_status::Io
        }
    }

    /// The status of a client error.
    pub(crate) fn from_client(e: &Error) -> omv_status {
        match e {
            Error::Timeout(_) => omv_status::Timeout,
            Error::Checksum => omv_status::Checksum,
            Error::Sequence => omv_status::Sequence,
            Error::Nak(s) => Self::from_nak(*s),
            Error::Io(io) => Self::from_io(io),
            Error::LinkLost(_) => omv_status::LinkLost,
            Error::Disconnected => omv_status::Disconnected,
            Error::NoSuchChannel(_) => omv_status::NoSuchChannel,
            Error::BadAnswer(_) => omv_status::BadAnswer,
            Error::TooLarge => omv_status::TooLarge,
            Error::Decode(_) => omv_status::Decode,
            Error::InvalidArgument(_) => omv_status::InvalidArgument,
            Error::Controls(e) => super::controls::status_of(e),
            Error::CamRestarted => omv_status::CamRestarted,
            Error::AnswerTooLong => omv_status::AnswerTooLong,
            Error::SizeLimit { .. } => omv_status::SizeLimit,
            Error::OutcomeUnknown { .. } => omv_status::OutcomeUnknown,
        }
    }

    /// The protocol status a device answers with when a C channel callback returns `v`:
    /// 0 is success, 1..=9 the protocol's NAK statuses, anything else FAILED.
    pub(crate) fn nak_of_callback(v: i32) -> Result<(), Status> {
        match v {
            0 => Ok(()),
            1..=9 => Err(Status::from_u16(v as u16)),
            _ => Err(Status::Failed),
        }
    }
}

/// A failed call: the status to return and the message `omv_last_error` gives.
#[derive(Debug)]
pub(crate) struct Fail {
    pub status: omv_status,
    pub msg: String,
}

impl Fail {
    pub fn new(status: omv_status, msg: impl Into<String>) -> Fail {
        Fail { status, msg: msg.into() }
    }

    pub fn null(what: &str) -> Fail {
        Fail::new(omv_status::NullArgument, format!("`{what}` is NULL"))
    }

    pub fn invalid(msg: impl Into<String>) -> Fail {
        Fail::new(omv_status::InvalidArgument, msg)
    }

    pub fn closed() -> Fail {
        Fail::new(omv_status::Closed, "the handle was closed")
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::new(omv_status::from_client(&e), e.to_string())
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::new(omv_status::from_io(&e), e.to_string())
    }
}

impl From<RegistryError> for Fail {
    fn from(e: RegistryError) -> Fail {
        match e {
            RegistryError::BadName => {
                Fail::invalid("channel name empty, longer than 13 bytes, containing NUL, or taken")
            }
            RegistryError::Full => Fail::new(omv_status::Full, "all 31 channel ids (1-31) are taken"),
            RegistryError::BadId => Fail::invalid("channel id taken, or not a static id (1-4)"),
        }
    }
}

impl From<EventError> for Fail {
    fn from(e: EventError) -> Fail {
        match e {
            EventError::Disabled => Fail::new(omv_status::EventsDisabled, "the host turned events off (SET_CAPS)"),
            EventError::QueueFull => Fail::new(omv_status::Full, "the event queue is full"),
        }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.status.name();
        write!(f, "{}: {}", &name[..name.len() - 1], self.msg)
    }
}

thread_local! {
    /// The message of the last failure on this thread (`omv_last_error`).
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `fail` as this thread's last error: "function: STATUS: message".
pub(crate) fn set_last_error(function: &str, fail: &Fail) {
    let msg = format!("{function}: {fail}");
    // `try_with`: during thread teardown the slot may be gone; the status still says enough.
    let _ = LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            *e = msg;
        }
    });
}

/// Copies this thread's last error into `buf` (see `omv_last_error`).
pub(crate) fn copy_last_error(buf: &mut [u8]) -> (usize, bool) {
    LAST_ERROR
        .try_with(|e| {
            let e = e.borrow();
            copy_c_string(e.as_bytes(), buf)
        })
        .unwrap_or((0, true))
}

/// Copies `src` into `buf` as a NUL-terminated string, truncated to fit. Returns the bytes
/// copied (without the NUL) and whether all of `src` fit. `buf` must not be empty.
pub(crate) fn copy_c_string(src: &[u8], buf: &mut [u8]) -> (usize, bool) {
    let Some(room) = buf.len().checked_sub(1) else { return (0, src.is_empty()) };
    let n = src.len().min(room);
    buf[..n].copy_from_slice(&src[..n]);
    buf[n] = 0;
    (n, n == src.len())
}

/// `omv_status_str`'s answer for a number no status has.
pub(crate) const UNKNOWN_STATUS: &str = "OMV_STATUS_<unknown>\0";

/// The name of a status, as a pointer to a static NUL-terminated string.
pub(crate) fn status_name_ptr(v: i64) -> *const c_char {
    omv_status::from_i64(v).map_or(UNKNOWN_STATUS, |s| s.name()).as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_and_numbers_round_trip() {
        for s in omv_status::ALL {
            assert_eq!(omv_status::from_i64(s as i64), Some(s));
            assert!(s.name().starts_with("OMV_STATUS_") && s.name().ends_with('\0'));
        }
        assert_eq!(omv_status::from_i64(100), None);
        assert_eq!(omv_status::Ok as i32, 0);
    }

    #[test]
    fn client_errors_map_in_one_place() {
        assert_eq!(omv_status::from_client(&Error::Nak(Status::Busy)), omv_status::Busy);
        assert_eq!(omv_status::from_client(&Error::Nak(Status::Invalid)), omv_status::NakInvalid);
        assert_eq!(omv_status::from_client(&Error::Timeout(Duration::ZERO)), omv_status::Timeout);
        assert_eq!(omv_status::from_client(&Error::Io(crate::transport::link_lost("x"))), omv_status::LinkLost);
        assert_eq!(omv_status::from_client(&Error::Io(io::ErrorKind::PermissionDenied.into())), omv_status::Io);
        assert_eq!(omv_status::nak_of_callback(0), Ok(()));
        assert_eq!(omv_status::nak_of_callback(4), Err(Status::Busy));
        assert_eq!(omv_status::nak_of_callback(-3), Err(Status::Failed));
    }

    #[test]
    fn c_strings_truncate_and_terminate() {
        let mut b = [0xAAu8; 4];
        assert_eq!(copy_c_string(b"hello", &mut b), (3, false));
        assert_eq!(&b, b"hel\0");
        assert_eq!(copy_c_string(b"hi", &mut b), (2, true));
        assert_eq!(&b[..3], b"hi\0");
        assert_eq!(copy_c_string(b"x", &mut []), (0, false));
    }
}
