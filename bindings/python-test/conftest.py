"""Fixtures for the Python binding tests: the generated module and a virtual cam.

OPENMVPROTO_PY_DIR: folder with openmvproto.py and libopenmvproto_uniffi.so
(scripts/gen-bindings.sh puts them in $CARGO_TARGET_DIR/uniffi-python).
OMV_VCAM_ADDR: host:port of a running `omv-vcam --tcp` (scripts/test-bindings.sh starts one);
without it, OMV_VCAM_BIN is started here for the session.
"""

import os
import subprocess
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(_ROOT, "target"))
sys.path.insert(0, os.environ.get("OPENMVPROTO_PY_DIR", os.path.join(_TARGET, "uniffi-python")))


@pytest.fixture(scope="session")
def vcam_addr():
    addr = os.environ.get("OMV_VCAM_ADDR")
    if addr:
        yield addr
        return
    binary = os.environ.get("OMV_VCAM_BIN", os.path.join(_TARGET, "release", "omv-vcam"))
    proc = subprocess.Popen([binary, "--tcp", "127.0.0.1:0", "--log-level", "warn"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), f"omv-vcam said {line!r}"
        yield line[len("listening on "):]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
