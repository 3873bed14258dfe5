"""Starting and stopping `omv-vcam` for the tests and the benchmark, with deadlines."""

import os
import selectors
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("OMV_VCAM_BIN", os.path.join(TARGET, "release", "omv-vcam"))


class VirtualCam:
    """One omv-vcam process: `tcp=True` serves 127.0.0.1 on a free port (`addr`), else a pty
    whose path is `link`."""

    def __init__(self, *args, tcp=True, start_timeout=20.0):
        self.addr = None
        self.link = None
        cmd = [BINARY, "--log-level", "warn", *map(str, args)]
        if tcp:
            cmd += ["--tcp", "127.0.0.1:0"]
        else:
            self._dir = tempfile.mkdtemp(prefix="omv-vcam-")
            self.link = os.path.join(self._dir, "cam")
            cmd += ["--pty", self.link]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + start_timeout
        try:
            if tcp:
                self.addr = self._read_address(deadline)
            else:
                self._wait_link(deadline)
        except BaseException:
            self.stop()
            raise

    def _read_address(self, deadline):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError("omv-vcam did not say where it listens")
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"omv-vcam exited ({self.proc.wait()})")
                if line.startswith("listening on "):
                    return line[len("listening on "):].strip()
        finally:
            sel.close()

    def _wait_link(self, deadline):
        # The pty appears as a symbolic link; nothing to select on, so check until the deadline.
        while not os.path.islink(self.link):
            if self.proc.poll() is not None:
                raise RuntimeError(f"omv-vcam exited ({self.proc.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError("omv-vcam made no pty link")
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_until(what, fn, timeout=10.0, interval=0.01):
    """Calls fn() until it returns something true, at most `timeout` seconds; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
