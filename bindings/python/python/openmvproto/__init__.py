"""openmvproto: an OpenMV camera host client in Rust, a faster drop-in for `openmv`.

    from openmvproto import Camera      # instead of: from openmv.camera import Camera

    with Camera("/dev/ttyACM0") as cam:
        cam.streaming(True)
        for frame in cam.frames(timeout=2.0, count=10):
            img = frame.array()         # numpy: H x W (grayscale) or H x W x 3 (RGB)
"""

from ._native import (
    PROTOCOL_VERSION,
    VERSION as __version__,
    ChecksumException,
    ControlException,
    DisconnectedException,
    Event,
    Frame,
    NativeCamera,
    OMVException,
    OutcomeUnknownException,
    SequenceException,
    TimeoutException,
    format_name,
    list_ports,
)
from .camera import Camera

PIXFORMAT_GRAYSCALE = 0x08020001
PIXFORMAT_RGB565 = 0x0C030002
PIXFORMAT_JPEG = 0x06060000

__all__ = [
    "Camera",
    "Frame",
    "Event",
    "NativeCamera",
    "OMVException",
    "TimeoutException",
    "ChecksumException",
    "SequenceException",
    "DisconnectedException",
    "ControlException",
    "OutcomeUnknownException",
    "list_ports",
    "format_name",
    "PROTOCOL_VERSION",
    "PIXFORMAT_GRAYSCALE",
    "PIXFORMAT_RGB565",
    "PIXFORMAT_JPEG",
]
