"""The exception hierarchy, under the module name openmv 1.0.7 uses (`openmv.exceptions`)."""

from ._native import (
    ChecksumException,
    ControlException,
    DisconnectedException,
    OMVException,
    OutcomeUnknownException,
    SequenceException,
    TimeoutException,
)

__all__ = ["OMVException", "TimeoutException", "ChecksumException", "SequenceException",
           "DisconnectedException", "ControlException", "OutcomeUnknownException"]
