"""The UniFFI Python bindings against the virtual cam: once over the built-in TCP transport,
once over a Transport implemented here in Python (a socket) feeding bytes back through
ByteFeed."""

import gc
import socket
import threading
import time

import pytest

import openmvproto as omv

WIDTH, HEIGHT = 320, 240  # omv-vcam's default frame size
NOTIFY = 0xFFFF
STREAM_ID = 3


class Recorder(omv.EventListener):
    """Collects every event."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        self.lost = []

    def on_event(self, channel, code):
        with self.lock:
            self.events.append((channel, code))

    def on_link_lost(self, reason):
        with self.lock:
            self.lost.append(reason)

    def on_reconnected(self):
        pass

    def count(self, channel, code):
        with self.lock:
            return self.events.count((channel, code))


class Thrower(omv.EventListener):
    """Throws from every callback: Rust must log it and carry on, never panic."""

    def __init__(self):
        self.calls = 0

    def on_event(self, channel, code):
        self.calls += 1
        raise ValueError("listener failure on purpose")

    def on_link_lost(self, reason):
        raise ValueError("listener failure on purpose")

    def on_reconnected(self):
        raise omv.CameraError.Callback("typed failure on purpose")


class SocketTransport(omv.Transport):
    """An app transport: a plain TCP socket, read by a thread that pushes into the feed.
    With throw_on_close, close_link raises after closing (Rust must log it, not panic)."""

    def __init__(self, addr, throw_on_close=False):
        host, port = addr.rsplit(":", 1)
        self.addr = (host, int(port))
        self.sock = None
        self.reader = None
        self.opened = 0
        self.closed = 0
        self.written = 0
        self.throw_on_close = throw_on_close

    def open_link(self, feed):
        self.opened += 1
        sock = socket.create_connection(self.addr, timeout=3)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self.sock = sock

        def pump():
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        feed.link_lost("peer closed")
                        return
                    feed.push(data)
            except OSError as e:
                feed.link_lost(f"socket: {e}")

        self.reader = threading.Thread(target=pump, name="socket-pump", daemon=True)
        self.reader.start()

    def write(self, data):
        if self.sock is None:
            raise omv.CameraError.LinkLost("socket closed")
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise omv.CameraError.LinkLost(str(e))
        self.written += len(data)

    def close_link(self):
        self.closed += 1
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self.reader is not None and self.reader is not threading.current_thread():
            self.reader.join(5)
        if self.throw_on_close:
            raise RuntimeError("close_link failure on purpose")

    def describe(self):
        return f"py-socket:{self.addr[0]}:{self.addr[1]}"


def wait_for(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def check_frame(frame):
    """Every pixel of a grayscale test frame: (x + y + n) % 256, n read from pixel (0, 0)."""
    assert (frame.width, frame.height) == (WIDTH, HEIGHT)
    assert frame.format == omv.PixelFormat.GRAYSCALE
    assert frame.format_code == 0x08020001
    data = frame.data
    assert len(data) == WIDTH * HEIGHT
    n = data[0]
    for y in range(HEIGHT):
        row = data[y * WIDTH:(y + 1) * WIDTH]
        expected = bytes((x + y + n) % 256 for x in range(WIDTH))
        assert row == expected, f"row {y} of frame n={n}"
    return n


def exercise(cam):
    """Everything a host does, through the bindings."""
    assert cam.is_connected()
    names = [c.name for c in cam.list()]
    for name in ("stdin", "stdout", "stream", "config", "ticks"):
        assert name in names
    stream = next(c for c in cam.channels() if c.name == "stream")
    assert stream.id == STREAM_ID and stream.readable and stream.needs_lock and stream.stream
    assert cam.channel_id("config") == 4
    assert cam.has_channel("config") and not cam.has_channel("nope")

    rec, thrower = Recorder(), Thrower()
    rec_id = cam.subscribe(rec)
    cam.subscribe(thrower)

    # config: 64 KiB out and back, fragmented both ways.
    value = bytes((i * 7 + 3) % 256 for i in range(64 * 1024))
    cam.write("config", 0, value)
    assert cam.size("config") == len(value)
    assert cam.shape("config") == [len(value)]
    assert cam.read("config", 0, len(value)) == value
    assert cam.read_available("config") == value

    caps = cam.caps()
    assert caps.crc and caps.seq and caps.events and caps.max_payload >= 50

    versions = cam.version()
    assert (versions.protocol.major, versions.protocol.minor) == (1, 0)
    info = cam.system_info()
    assert len(info.dev_id) == 3 and len(info.chip_id) == 3 and len(info.hw_caps) == 2
    assert info.usb_vid != 0

    # Frames: three different ones, every pixel checked.
    cam.streaming(True, False, None)
    seen = []
    deadline = time.monotonic() + 10
    while len(seen) < 3 and time.monotonic() < deadline:
        frame = cam.read_frame(len(seen) == 0)
        if frame is None:
            time.sleep(0.01)
            continue
        n = check_frame(frame)
        if len(seen) == 0:
            gray = frame.data
            assert frame.rgb888 == bytes(b for g in gray for b in (g, g, g))
            assert omv.frame_to_rgb888(frame) == frame.rgb888
        else:
            assert frame.rgb888 is None
        if n not in seen:
            seen.append(n)
    assert len(seen) == 3, f"frames seen: {seen}"
    assert cam.frames_received() >= 3
    assert wait_for(lambda: rec.count(STREAM_ID, NOTIFY) > 0), "no stream NOTIFY event"
    cam.streaming(False, False, None)
    assert thrower.calls > 0  # it threw every time and the camera kept going

    with pytest.raises(omv.CameraError.NoSuchChannel):
        cam.read("nope", 0, 1)
    with pytest.raises(omv.CameraError.InvalidArgument):
        cam.streaming(True, True, None)

    host = cam.host_stats()
    assert host.sent > 0 and host.received > 0
    dev = cam.device_stats()
    assert dev.received > 0

    assert cam.unsubscribe(rec_id)
    assert not cam.unsubscribe(rec_id)


def close(cam):
    cam.disconnect()
    assert not cam.is_connected()
    with pytest.raises(omv.CameraError.Disconnected):
        cam.list()


def test_defaults():
    opts = omv.ConnectOptions()
    assert opts == omv.default_connect_options()
    assert opts.max_payload == 4082 and opts.timeout_ms == 1000
    assert omv.protocol_version().major == 1
    assert omv.library_version()


def test_builtin_tcp(vcam_addr):
    cam = omv.Camera.open_tcp(vcam_addr, omv.ConnectOptions())
    assert cam.describe() == f"tcp:{vcam_addr}"
    exercise(cam)
    close(cam)
    del cam
    gc.collect()


def test_python_transport(vcam_addr):
    transport = SocketTransport(vcam_addr)
    cam = omv.Camera.with_transport(transport, omv.ConnectOptions())
    assert cam.describe() == transport.describe()
    assert transport.opened == 1
    exercise(cam)
    assert transport.written > 64 * 1024
    close(cam)
    assert transport.closed >= 1
    del cam
    gc.collect()


def test_app_transport_link_lost_and_reconnect(vcam_addr):
    transport = SocketTransport(vcam_addr, throw_on_close=True)
    rec = Recorder()
    cam = omv.Camera.with_transport(transport, omv.ConnectOptions())
    cam.subscribe(rec)
    # The app's device goes away: the camera hears of it through the feed.
    transport.sock.shutdown(socket.SHUT_RDWR)
    assert wait_for(lambda: len(rec.lost) == 1), "no on_link_lost"
    with pytest.raises(omv.CameraError.LinkLost):
        cam.list()
    cam.reconnect()
    assert transport.opened == 2
    assert "config" in [c.name for c in cam.list()]
    close(cam)
    assert transport.closed >= 2
    del cam
    gc.collect()


def test_script_output_and_events(vcam_addr):
    cam = omv.Camera.open_tcp(vcam_addr, omv.ConnectOptions())
    rec = Recorder()
    cam.subscribe(rec)
    cam.exec("print('hello from a script')")
    out = []
    assert wait_for(lambda: out.append(cam.read_stdout()) or "hello from a script" in "".join(out), 10)
    # SOFT_REBOOT (system event 2) before the script, stdin 1 when it starts, 0 when it ends.
    assert wait_for(lambda: rec.count(0, 2) >= 1 and rec.count(1, 1) >= 1 and rec.count(1, 0) >= 1, 10), rec.events
    close(cam)
    del cam
    gc.collect()


def test_unreachable_cam_is_an_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(omv.CameraError):
        omv.Camera.open_tcp(f"127.0.0.1:{port}", omv.ConnectOptions(timeout_ms=300))
