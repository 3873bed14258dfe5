"""openmvproto.Camera against omv-vcam: every method, the openmv-shaped results, and what the
package adds (numpy frames, events, waiting without the GIL, asyncio)."""

import asyncio
import socket
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import openmvproto
from openmvproto import (
    PIXFORMAT_GRAYSCALE,
    PIXFORMAT_JPEG,
    PIXFORMAT_RGB565,
    Camera,
    ChecksumException,
    DisconnectedException,
    OMVException,
    SequenceException,
    TimeoutException,
)
from conftest import drain
from vcam import wait_until

# The built-in channels and the two user channels every omv-vcam has.
CHANNELS = ["stdin", "stdout", "stream", "config", "ticks"]


def gray_frame_number(rgb):
    """vcam grayscale frames are pixel(x, y) = (x + y + n) % 256: checks that, returns n % 256."""
    h, w = rgb.shape[:2]
    n = int(rgb[0, 0, 0]) if rgb.ndim == 3 else int(rgb[0, 0])
    ys, xs = np.indices((h, w))
    want = ((xs + ys + n) % 256).astype(np.uint8)
    got = rgb[:, :, 0] if rgb.ndim == 3 else rgb
    assert np.array_equal(got, want)
    if rgb.ndim == 3:
        assert np.array_equal(rgb[:, :, 1], want) and np.array_equal(rgb[:, :, 2], want)
    return n


def openmv_rgb565(raw):
    """openmv 1.0.7's RGB565 -> RGB888 formula, in numpy, as the reference."""
    v = np.frombuffer(raw, dtype="<u2")
    r = (((v & 0xF800) >> 11) * 255.0 / 31.0).astype(np.uint8)
    g = (((v & 0x07E0) >> 5) * 255.0 / 63.0).astype(np.uint8)
    b = ((v & 0x001F) * 255.0 / 31.0).astype(np.uint8)
    return np.column_stack((r, g, b)).tobytes()


def read_all_stdout(cam, lines, timeout=15.0):
    text = ""

    def more():
        nonlocal text
        chunk = cam.read_stdout()
        if chunk:
            text += chunk
        return all(line in text for line in lines)

    wait_until(f"script output {lines}", more, timeout=timeout)
    return text


# ---- package surface ----

def test_exceptions_form_openmvs_hierarchy():
    for exc in (TimeoutException, ChecksumException, SequenceException, DisconnectedException,
                openmvproto.ControlException, openmvproto.OutcomeUnknownException):
        assert issubclass(exc, OMVException)
    assert issubclass(OMVException, Exception)
    from openmvproto.exceptions import OMVException as same
    assert same is OMVException
    from openmvproto.camera import Camera as same_camera
    assert same_camera is Camera


def test_version_constants():
    assert openmvproto.PROTOCOL_VERSION == (1, 0, 2)
    assert openmvproto.__version__.count(".") == 2
    assert openmvproto.format_name(PIXFORMAT_GRAYSCALE) == "GRAY"
    assert openmvproto.format_name(PIXFORMAT_RGB565) == "RGB565"
    assert openmvproto.format_name(PIXFORMAT_JPEG) == "JPEG"
    assert openmvproto.format_name(0x1234) == "0x00001234"


def test_list_ports_gives_dicts():
    ports = openmvproto.list_ports()
    assert isinstance(ports, list)
    for p in ports:
        assert set(p) == {"path", "vid", "pid", "serial_number", "manufacturer", "product"}
        assert p["vid"] in (0x37C5, 0x2341, 0x1209)


def test_no_target_and_no_cam_plugged_in_fails():
    if openmvproto.list_ports():
        pytest.skip("a cam is plugged in")
    with pytest.raises(OMVException, match="no cam found"):
        Camera().connect()


def test_two_targets_are_refused():
    with pytest.raises(ValueError):
        Camera("/dev/null", tcp="127.0.0.1:1")


def test_unknown_serial_number_fails():
    with pytest.raises(OMVException, match="Failed to connect"):
        Camera(serial_number="no-such-cam-serial", timeout=0.3).connect()


def test_silent_peer_times_out():
    # A TCP peer that accepts and never answers: every SYNC attempt times out.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    try:
        cam = Camera(tcp="127.0.0.1:%d" % srv.getsockname()[1], timeout=0.2, max_retry=2)
        t0 = time.monotonic()
        with pytest.raises(TimeoutException, match="Failed to connect"):
            cam.connect()
        assert time.monotonic() - t0 < 10
        assert not cam.is_connected()
    finally:
        srv.close()


def test_drop_rate_is_accepted_with_a_warning(caplog):
    with caplog.at_level("WARNING", logger="openmvproto"):
        Camera("/dev/null", drop_rate=0.1)
    assert any("drop_rate" in r.getMessage() for r in caplog.records)


def test_calls_before_connect_raise():
    cam = Camera("/dev/null")
    assert not cam.is_connected()
    with pytest.raises(DisconnectedException):
        cam.version()
    assert cam.frame_event is False


# ---- connection ----

def test_context_manager_connects_and_disconnects(gray_cam):
    with Camera(tcp=gray_cam.addr) as cam:
        assert cam.is_connected()
        assert cam.describe().startswith("tcp")
        assert "Camera" in repr(cam)
    assert not cam.is_connected()
    with pytest.raises(DisconnectedException):
        cam.read_status()
    cam.connect()  # the same object opens again
    try:
        assert cam.has_channel("stream")
    finally:
        cam.close()
    assert not cam.is_connected()


def test_connect_caches_caps_channels_version_sysinfo(cam):
    assert cam.caps == {"crc": True, "seq": True, "ack": True, "events": True, "max_payload": cam.caps["max_payload"]}
    assert 52 <= cam.caps["max_payload"] <= 4096
    assert set(CHANNELS) <= set(cam.channels_by_name)
    assert list(cam.channels_by_name) == [ch["name"] for ch in cam.channels_by_id.values()]
    for name, cid in cam.channels_by_name.items():
        assert cam.channels_by_id[cid]["name"] == name
        assert isinstance(cam.channels_by_id[cid]["flags"], int)
    assert cam.verinfo == cam.version()
    assert cam.sysinfo == cam.system_info()
    assert cam.pending_channel_events == 0


def test_capability_keywords_are_negotiated(gray_cam):
    with Camera(tcp=gray_cam.addr, crc=False, seq=False, ack=False, events=False, max_payload=512) as cam:
        assert cam.caps == {"crc": False, "seq": False, "ack": False, "events": False, "max_payload": 512}
        assert cam.version()["protocol_version"] == (1, 0, 2)
        cam.update_capabilities()
        assert cam.caps["max_payload"] == 512
        # Writes are split at max_payload - 8: a 2000-byte write takes several packets.
        data = bytes(range(256)) * 8
        assert cam.channel_write("config", data[:1024])
        assert cam.channel_read("config") == data[:1024]


def test_update_channels_and_get_channel(cam):
    cam.update_channels()
    sid = cam.get_channel(name="stream")
    assert sid == cam.channels_by_name["stream"]
    assert cam.get_channel(channel_id=sid) == "stream"
    assert cam.get_channel(name="nope") is None
    assert cam.get_channel(channel_id=200) is None
    with pytest.raises(ValueError):
        cam.get_channel()
    assert cam.has_channel("stdout") and not cam.has_channel("nope")
    cam.poll_events()


# ---- system ----

def test_version(cam):
    v = cam.version()
    assert set(v) == {"protocol_version", "bootloader_version", "firmware_version"}
    assert v["protocol_version"] == (1, 0, 2)
    assert all(isinstance(t, tuple) and len(t) == 3 for t in v.values())


def test_system_info(cam):
    i = cam.system_info()
    assert list(i) == [
        "cpu_id", "device_id", "usb_vid", "usb_pid", "chip_id", "gpu_present", "npu_present",
        "isp_present", "venc_present", "jpeg_present", "dram_present", "crc_present", "pmu_present",
        "pmu_eventcnt", "wifi_present", "bt_present", "sd_present", "eth_present", "usb_highspeed",
        "multicore_present", "flash_size_kb", "ram_size_kb", "framebuffer_size_kb",
        "stream_buffer_size_kb"]
    assert i["usb_vid"] == 0x37C5
    assert isinstance(i["device_id"], tuple) and len(i["device_id"]) == 3
    assert isinstance(i["chip_id"], tuple) and len(i["chip_id"]) == 3
    assert i["jpeg_present"] is True and i["gpu_present"] is False
    assert i["stream_buffer_size_kb"] > 0


def test_stats(cam):
    before = cam.host_stats()
    assert set(before) == {"sent", "received", "checksum", "sequence"}
    d = cam.device_stats()
    assert list(d) == ["sent", "received", "checksum", "sequence", "retransmit", "transport",
                       "sent_events", "max_ack_queue_depth"]
    assert d["received"] > 0 and d["checksum"] == 0
    cam.version()
    after = cam.host_stats()
    assert after["sent"] > before["sent"] and after["received"] > before["received"]


def test_memory(cam):
    pools = cam.memory()
    assert pools and all(p["total"] >= p["used"] for p in pools)


def test_read_status(cam):
    st = cam.read_status()
    assert list(st) == list(cam.channels_by_name)
    assert all(isinstance(v, bool) for v in st.values())


# ---- channels ----

def test_channel_write_read_size(cam):
    payload = b"threshold=42;roi=1,2,3,4"
    assert cam.channel_write("config", payload) is True
    assert cam.channel_size("config") == len(payload)
    assert cam.channel_read("config") == payload
    assert cam.channel_read("config", 9) == payload[:9]
    assert cam.channel_write("config", memoryview(b"mv")) is True
    assert cam.channel_read("config", 2) == b"mv"


def test_missing_channel(cam):
    assert cam.channel_size("nope") == 0
    assert cam.channel_read("nope") is None
    assert cam.channel_write("nope", b"x") is False


def test_native_low_level(cam):
    n = cam.native
    sid = cam.channels_by_name["stream"]
    assert n.channel_id("stream") == sid
    assert isinstance(n.poll(), int)
    assert n.shape("config") and n.size(sid) >= 0
    n.write("config", b"0123456789")
    assert n.read("config", 2, 3) == b"234"
    n.ioctl("stream", 0, (0).to_bytes(4, "little"))
    with pytest.raises(OMVException):
        n.size("nope")


# ---- scripts ----

def test_exec_and_read_stdout(cam):
    lines = ["hello from openmvproto", "line two 7"]
    cam.exec("".join(f"print({line!r})\n" for line in lines))
    text = read_all_stdout(cam, lines)
    # The script's lines in order; the cam's "MPY: soft reboot" may already follow them.
    got = [line for line in text.splitlines() if "soft reboot" not in line]
    assert got[-2:] == lines
    wait_until("stdout drained", lambda: cam.read_stdout() is None)


def test_exec_accepts_bytes(cam):
    cam.exec(b"print('bytes script')\n")
    assert "bytes script" in read_all_stdout(cam, ["bytes script"])


def test_stop_interrupts_a_script(cam):
    cam.exec("import time\nprint('started')\nwhile True:\n    time.sleep(0.01)\n")
    read_all_stdout(cam, ["started"])
    assert cam.read_status()["stdin"] is True
    cam.stop()
    wait_until("script stopped", lambda: cam.read_status()["stdin"] is False)


# ---- frames ----

def test_read_frame_is_openmvs_dict(cam):
    cam.streaming(True)
    try:
        f = wait_until("a frame", cam.read_frame)
    finally:
        cam.streaming(False)
    assert set(f) == {"width", "height", "format", "depth", "data", "raw_size"}
    assert (f["width"], f["height"], f["format"]) == (320, 240, PIXFORMAT_GRAYSCALE)
    assert f["depth"] == 0 and f["raw_size"] == 320 * 240
    assert isinstance(f["data"], bytes) and len(f["data"]) == 320 * 240 * 3
    gray_frame_number(np.frombuffer(f["data"], np.uint8).reshape(240, 320, 3))


def test_frames_iterator_numpy_and_timeout(cam):
    cam.streaming(True)
    try:
        got = list(cam.frames(timeout=3.0, count=8))
    finally:
        cam.streaming(False)
    assert [f.counter for f in got] == sorted({f.counter for f in got})
    numbers = []
    for f in got:
        a = f.array()
        assert a.shape == (240, 320) and a.dtype == np.uint8 and a.flags.writeable
        numbers.append(gray_frame_number(a))
        assert np.array_equal(np.asarray(f), a)
        assert f.rgb_array().shape == (240, 320, 3)
        assert np.array_equal(f.raw_array(), a)
        assert f.data == a.tobytes()
        assert f.fps is None or f.fps > 0
        assert abs(f.timestamp - time.time()) < 60
        assert f.format_name == "GRAY" and "320x240" in repr(f)
    assert len(set(numbers)) == len(numbers)  # distinct frames
    # Streaming is off: once the last frame is taken nothing comes, and the iterator says so.
    drain(cam)
    with pytest.raises(TimeoutException):
        next(cam.frames(timeout=0.3))
    assert cam.wait_frame(0.2) is None


def test_read_image_and_frame_event(cam):
    cam.streaming(True)
    try:
        wait_until("frame_event", lambda: cam.frame_event, timeout=5)
        img = wait_until("an image", cam.read_image)
        assert isinstance(img, openmvproto.Frame)
        assert cam.native.frames_received() >= 1
    finally:
        cam.streaming(False)


def test_raw_streaming_needs_resolution(cam):
    with pytest.raises(ValueError):
        cam.streaming(True, raw=True)
    cam.streaming(True, raw=True, resolution=(64, 48))
    cam.streaming(False)


def test_rgb565_frames_convert_as_openmv(make_cam):
    vc = make_cam("--format", "rgb565", "--width", 64, "--height", 48, "--fps", 100)
    with Camera(tcp=vc.addr) as cam:
        cam.streaming(True)
        f = cam.wait_frame(5.0)
        d = wait_until("a frame dict", cam.read_frame)
        cam.streaming(False)
    assert f.format == PIXFORMAT_RGB565 and f.raw_size == 64 * 48 * 2
    raw = f.raw_array()
    assert raw.shape == (48, 64) and raw.dtype == np.dtype("<u2")
    want = openmv_rgb565(f.data)
    assert f.rgb888() == want
    assert f.array().shape == (48, 64, 3) and f.array().tobytes() == want
    assert d["format"] == PIXFORMAT_RGB565 and d["raw_size"] == 64 * 48 * 2
    assert isinstance(d["data"], bytes) and len(d["data"]) == 64 * 48 * 3


def test_jpeg_frames_decode(make_cam):
    vc = make_cam("--format", "jpeg", "--width", 64, "--height", 48, "--fps", 100)
    with Camera(tcp=vc.addr) as cam:
        cam.streaming(True)
        f = cam.wait_frame(5.0)
        d = wait_until("a frame dict", cam.read_frame)
        cam.streaming(False)
    assert f.format == PIXFORMAT_JPEG and f.data[:2] == b"\xff\xd8"
    assert f.depth == f.raw_size == len(f.data)
    assert f.array().shape == (48, 64, 3)
    with pytest.raises(OMVException):
        f.raw_array()
    assert d["depth"] == d["raw_size"] and len(d["data"]) == 64 * 48 * 3


# ---- events ----

def test_event_callback_and_iterator(cam):
    seen = []
    got_stream = threading.Event()
    sid = cam.channels_by_name["stream"]

    def on_event(ev):
        seen.append(ev)
        if ev.kind == "device" and ev.channel == sid:
            got_stream.set()

    drain(cam)
    cb = cam.subscribe(on_event)
    while cam.native.next_event(0) is not None:  # old events out of the way
        pass
    cam.streaming(True)
    try:
        assert got_stream.wait(5.0)
        # Events keep coming while streaming: take the first stream event, at most 500 in all.
        first = None
        for i, e in enumerate(cam.events(timeout=1.0)):
            if e.channel == sid or i == 500:
                first = e
                break
        assert first is not None and first.channel == sid and first.code == 0xFFFF
        assert "device" in repr(first)
    finally:
        cam.streaming(False)
    assert cam.unsubscribe(cb) is True and cam.unsubscribe(cb) is False
    assert cam.native.dropped_events() >= 0


def test_on_event_keyword_and_failing_callback(gray_cam, monkeypatch):
    calls = []
    reported = []
    # An exception in a callback goes where Python puts exceptions it cannot raise to anyone.
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_type))

    def bad(ev):
        calls.append(ev)
        raise RuntimeError("callback bug")

    with Camera(tcp=gray_cam.addr, on_event=bad) as cam:
        cam.exec("print('x')\n")
        read_all_stdout(cam, ["x"])
        wait_until("a callback call", lambda: calls)
        assert cam.version()  # a raising callback breaks nothing
        wait_until("the error reported", lambda: RuntimeError in reported)
    names = {e.name for e in calls if e.channel == 0}
    assert names <= {"CHANNEL_REGISTERED", "CHANNEL_UNREGISTERED", "SOFT_REBOOT", None}


# ---- the GIL and asyncio ----

def test_blocking_calls_release_the_gil(cam):
    # The camera waits for a frame that never comes (streaming off) on another thread; this
    # thread must keep running Python meanwhile.
    done = threading.Event()
    spins = 0

    def waiter():
        cam.wait_frame(0.6)
        done.set()

    t = threading.Thread(target=waiter)
    t0 = time.monotonic()
    t.start()
    while not done.is_set():
        spins += 1
    t.join()
    assert time.monotonic() - t0 >= 0.5
    assert spins > 10000, f"only {spins} iterations while another thread waited"


def test_asyncio_helpers(cam):
    async def main():
        cam.streaming(True)
        try:
            one = await cam.wait_frame_async(5.0)
            many = [f async for f in cam.frames_async(timeout=5.0, count=3)]
        finally:
            cam.streaming(False)
        return one, many

    one, many = asyncio.run(main())
    assert one.width == 320 and len(many) == 3


# ---- profiler (omv-vcam has no profile channel: openmv's no-op results) ----

def test_profiler_without_profile_channel(cam):
    assert cam.read_profile() is None
    assert cam.profiler_reset() is None
    assert cam.profiler_reset(config={}) is None
    assert cam.profiler_mode(exclusive=True) is None
    assert cam.profiler_event(0, 0x11) is None
    with pytest.raises(OMVException):
        cam.native.profiler_reset()


# ---- reset and boot close the link ----

@pytest.mark.parametrize("what", ["reset", "boot"])
def test_reset_and_boot_disconnect(make_cam, what):
    vc = make_cam()
    cam = Camera(tcp=vc.addr)
    cam.connect()
    getattr(cam, what)()
    assert not cam.is_connected()
    with pytest.raises(DisconnectedException):
        cam.version()


def test_lost_link_raises_disconnected(make_cam):
    vc = make_cam()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Camera(tcp=vc.addr, timeout=0.5) as cam:
            vc.stop()
            with pytest.raises(OMVException):
                cam.version()
            wait_until("the link down", lambda: not cam.is_connected(), timeout=5)


class AnswerDropper:
    """A TCP proxy in front of a cam that swallows everything the cam sends from the first
    CHANNEL_IOCTL on `channel` until the host's next request: the ioctl's answer is lost."""

    def __init__(self, upstream, channel):
        self.channel = channel
        self.ioctls = 0
        self.dropping = False
        self._srv = socket.socket()
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(1)
        self.addr = "127.0.0.1:%d" % self._srv.getsockname()[1]
        host, port = upstream.rsplit(":", 1)
        self._up = socket.create_connection((host, int(port)), timeout=5)
        self._up.settimeout(None)
        self._down = None
        threading.Thread(target=self._pump, args=(self._to_cam,), daemon=True).start()

    @staticmethod
    def _pump(f):
        try:
            f()
        except OSError:
            pass  # close() ended the connection

    def _to_cam(self):
        self._down, _ = self._srv.accept()
        threading.Thread(target=self._pump, args=(self._to_host,), daemon=True).start()
        buf = b""
        while True:
            data = self._down.recv(65536)
            if not data:
                return
            buf += data
            # Whole packets: AA D5, header of 10, payload and its CRC-32 when length > 0.
            while True:
                at = buf.find(b"\xaa\xd5")
                if at < 0 or len(buf) - at < 10:
                    break
                length = int.from_bytes(buf[at + 6:at + 8], "little")
                end = at + 10 + (length + 4 if length else 0)
                if len(buf) < end:
                    break
                channel, flags, opcode = buf[at + 3], buf[at + 4], buf[at + 5]
                if opcode == 0x28 and channel == self.channel:
                    self.dropping |= not self.ioctls  # only the first one's answer is lost
                    self.ioctls += 1
                elif not flags & 0x03:  # a request, not an ACK or NAK
                    self.dropping = False
                buf = buf[end:]
            self._up.sendall(data)

    def _to_host(self):
        while True:
            data = self._up.recv(65536)
            if not data:
                return
            if not self.dropping:
                self._down.sendall(data)

    def close(self):
        for s in (self._srv, self._up, self._down):
            if s is not None:
                s.close()


def test_ioctl_whose_answer_is_lost_raises_outcome_unknown(make_cam):
    # Repeating it could act twice on the cam: the client reports instead, and recovers.
    vc = make_cam()
    proxy = AnswerDropper(vc.addr, channel=CHANNELS.index("config") + 1)
    try:
        with Camera(tcp=proxy.addr, timeout=0.5) as cam:
            t0 = time.monotonic()
            with pytest.raises(openmvproto.OutcomeUnknownException, match="ioctl"):
                cam.native.ioctl("config", 7, b"\x01")
            assert time.monotonic() - t0 < 10
            assert proxy.ioctls == 1, "the ioctl reached the cam more than once"
            assert cam.version()  # the link was recovered
    finally:
        proxy.close()


# ---- typed controls (omv-vcam's controls channel; its own cam: controls change frames) ----

def test_controls_list_read_and_set(make_cam):
    vc = make_cam("--width", 64, "--height", 48, "--fps", 100)
    with Camera(tcp=vc.addr) as cam:
        fields = {c["name"]: c for c in cam.controls()}
        assert {"threshold", "mirror", "pattern", "shade", "note", "fps", "status", "brightness",
                "depth", "reset roi"} <= set(fields)
        t = fields["threshold"]
        assert (t["widget"], t["min"], t["max"], t["input"]) == ("slider", 0, 255, True)
        assert fields["pattern"]["widget"] == "select" and "checkers" in fields["pattern"]["options"]
        assert fields["shade"]["widget"] == "radio"
        assert fields["mirror"]["widget"] == "toggle" and fields["mirror"]["value"] is False
        assert fields["fps"]["widget"] == "label" and fields["fps"]["input"] is False
        assert (fields["depth"]["width"], fields["depth"]["height"]) == (16, 12)
        wave = fields["brightness"]
        assert wave["widget"] == "waveform" and isinstance(wave["typecode"], str)
        assert wave["data"] is None or isinstance(wave["data"], list)

        cam.set_control("threshold", 128)
        cam.set_controls({"mirror": True, "note": "from python"})
        assert cam.control("threshold")["value"] == 128
        assert cam.control("mirror")["value"] is True
        assert cam.control("note")["value"] == "from python"
        # threshold 128: every pixel is 0 or 255.
        cam.streaming(True)
        f = cam.wait_frame(5.0)
        f = cam.wait_frame(5.0)  # the first may predate the write
        cam.streaming(False)
        assert set(np.unique(f.array())) <= {0, 255}

        with pytest.raises(openmvproto.ControlException):
            cam.set_control("threshold", 300)  # out of range
        with pytest.raises(openmvproto.ControlException):
            cam.set_control("mirror", 3)  # a toggle takes a bool
        with pytest.raises(openmvproto.ControlException):
            cam.set_control("fps", 1.0)  # read-only
        with pytest.raises(openmvproto.ControlException):
            cam.control("no such control")
        with pytest.raises(openmvproto.ControlException):
            cam.set_controls({"threshold": 10, "mirror": "yes"})
        assert cam.control("threshold")["value"] == 128  # nothing written when one fails
        with pytest.raises(TypeError):
            cam.set_control("note", object())
        with pytest.raises(OMVException):
            cam.controls("stdout")  # not CBOR


def test_bad_timeouts_are_value_errors(cam):
    for bad in (-1.0, float("nan"), float("inf"), 1e12):
        with pytest.raises(ValueError):
            cam.wait_frame(bad)
        with pytest.raises(ValueError):
            cam.native.next_event(bad)
    with pytest.raises(ValueError):
        Camera(tcp="127.0.0.1:1", timeout=-1).connect()


def test_close_wakes_a_waiting_thread(gray_cam):
    cam = Camera(tcp=gray_cam.addr)
    cam.connect()
    result = []
    t = threading.Thread(target=lambda: result.append(_catch(lambda: cam.native.wait_frame(30.0))))
    native = cam.native
    t.start()
    wait_until("the waiter to start", lambda: t.is_alive())
    t0 = time.monotonic()
    native.close()
    t.join(10)
    assert not t.is_alive() and time.monotonic() - t0 < 10
    assert result and (result[0] is None or isinstance(result[0], OMVException))
    cam.disconnect()


def _catch(fn):
    try:
        return fn()
    except OMVException as exc:
        return exc
