//! The exception hierarchy of openmv 1.0.7 (same names, same bases) and the one place Rust
//! client errors become Python exceptions.

use openmvproto::client::Error;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::{create_exception, PyErr};

create_exception!(openmvproto, OMVException, PyException, "Base class of every error talking to a cam.");
create_exception!(openmvproto, TimeoutException, OMVException, "No answer from the cam in time.");
create_exception!(openmvproto, ChecksumException, OMVException, "The cam saw a CRC error (NAK CHECKSUM).");
create_exception!(openmvproto, SequenceException, OMVException, "Sequence counters out of step (NAK SEQUENCE).");
create_exception!(
    openmvproto,
    DisconnectedException,
    OMVException,
    "The link is down: never opened, closed, reset, or lost (unplugged)."
);

create_exception!(
    openmvproto,
    ControlException,
    OMVException,
    "A control that does not exist, cannot take the value, or a malformed controls channel."
);

create_exception!(
    openmvproto,
    OutcomeUnknownException,
    OMVException,
    "A request that is never repeated (exec, read_stdout, ioctl, a push-button press) lost its answer: the cam may have carried it out."
);

/// Maps a client error to its exception; the message is the error's own text.
pub fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Timeout(_) => TimeoutException::new_err(msg),
        Error::Checksum => ChecksumException::new_err(msg),
        Error::Sequence => SequenceException::new_err(msg),
        Error::LinkLost(_) | Error::Disconnected => DisconnectedException::new_err(msg),
        Error::InvalidArgument(_) => PyValueError::new_err(msg),
        Error::Controls(_) => ControlException::new_err(msg),
        Error::OutcomeUnknown { .. } => OutcomeUnknownException::new_err(msg),
        // NAKs, transport errors, missing channels, malformed answers, restarts, limits.
        _ => OMVException::new_err(msg),
    }
}
