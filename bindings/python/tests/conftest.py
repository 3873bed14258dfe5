"""Fixtures: virtual cams (omv-vcam over TCP) and connected cameras on them."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vcam import VirtualCam  # noqa: E402

import openmvproto  # noqa: E402


@pytest.fixture(scope="session")
def gray_cam():
    """A 320x240 grayscale cam at 100 fps, shared by the session."""
    with VirtualCam("--fps", 100) as vc:
        yield vc


@pytest.fixture
def cam(gray_cam):
    with openmvproto.Camera(tcp=gray_cam.addr, timeout=2.0) as c:
        yield c
        drain(c)


def drain(cam):
    """Streaming off and the last frame taken: the shared cam announces the next one again."""
    cam.streaming(False)
    for _ in range(5):
        if cam.wait_frame(0.2) is None:
            return
    raise AssertionError("frames keep coming with streaming off")


@pytest.fixture
def make_cam():
    """Starts extra virtual cams (other formats, sizes) for one test."""
    started = []

    def make(*args, **kw):
        vc = VirtualCam(*args, **kw)
        started.append(vc)
        return vc

    yield make
    for vc in started:
        vc.stop()
