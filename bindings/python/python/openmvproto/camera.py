"""`Camera`: the interface of `openmv.camera.Camera` (openmv 1.0.7) on the Rust client.

Same constructor keywords, methods, arguments, return values and exceptions; what differs is
listed in the package README. Beyond openmv: `tcp=` / `serial_number=`, numpy frames
(`wait_frame`, `frames`), event callbacks and an event iterator, asyncio helpers.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, Union

from . import _native
from ._native import DisconnectedException, Event, Frame, NativeCamera, OMVException, TimeoutException

log = logging.getLogger("openmvproto")

# PMU events profiler_reset() programs when no config is given, counters 0 to 7 in order; the
# same set openmv 1.0.7 programs (CPU cycles and cache events on Cortex-M55 / Ethos cams).
DEFAULT_PROFILER_EVENTS = (0x0039, 0x0023, 0x0024, 0x0001, 0x0003, 0xC102, 0x02CC, 0xC303)

# SYS_INFO hw_caps word 0, bit by bit, under openmv's dictionary keys.
_HW_CAP_BITS = (
    ("gpu_present", 0),
    ("npu_present", 1),
    ("isp_present", 2),
    ("venc_present", 3),
    ("jpeg_present", 4),
    ("dram_present", 5),
    ("crc_present", 6),
    ("pmu_present", 7),
    ("wifi_present", 16),
    ("bt_present", 17),
    ("sd_present", 18),
    ("eth_present", 19),
    ("usb_highspeed", 20),
    ("multicore_present", 21),
)

ChannelArg = Union[str, int]

# Pixel formats read_frame() converts to RGB888 (GRAYSCALE, RGB565, JPEG).
_CONVERTED = (0x08020001, 0x0C030002, 0x06060000)


def _frame_dict(frame: Frame) -> Optional[Dict[str, Any]]:
    """openmv's read_frame() dictionary; None when the pixels do not convert (a JPEG that does
    not decode). Frames the client refuses (unknown format, short pixels) raised before this."""
    try:
        # Defensive: the client refuses other formats, so this keeps the pixels as they came.
        data = frame.rgb888() if frame.format in _CONVERTED else frame.data
    except OMVException as exc:
        log.warning("frame %dx%d %s not converted: %s", frame.width, frame.height, frame.format_name, exc)
        return None
    return {
        "width": frame.width,
        "height": frame.height,
        "format": frame.format,
        "depth": frame.depth,
        "data": data,
        "raw_size": frame.raw_size,
    }


class Camera:
    """A connection to one OpenMV cam (protocol 1.0.x), openmv 1.0.7's interface.

    Give one of `port` (a serial device, as openmv), `tcp` ("host:port") or `serial_number`
    (the USB serial number of a plugged-in cam). With none, `connect()` opens the first cam
    `list_ports()` finds. Nothing is opened before `connect()` or `with Camera(...) as cam:`.
    """

    def __init__(self, port: Optional[str] = None, baudrate: int = 921600,
                 crc: bool = True, seq: bool = True, ack: bool = True, events: bool = True,
                 timeout: float = 1.0, max_retry: int = 3, max_payload: int = 4096,
                 drop_rate: float = 0.0, *, tcp: Optional[str] = None,
                 serial_number: Optional[str] = None, auto_reconnect: bool = False,
                 on_event: Optional[Callable[[Event], Any]] = None) -> None:
        if sum(x is not None for x in (port, tcp, serial_number)) > 1:
            raise ValueError("give at most one of port, tcp and serial_number")
        self.port = port
        self.tcp = tcp
        self.serial_number = serial_number
        self.baudrate = baudrate
        self.timeout = timeout
        self.max_retry = max_retry
        self.drop_rate = drop_rate
        self.auto_reconnect = auto_reconnect
        self.caps: Dict[str, Any] = {
            "crc": crc, "seq": seq, "ack": ack, "events": events, "max_payload": max_payload,
        }
        self.channels_by_name: Dict[str, int] = {}
        self.channels_by_id: Dict[int, Dict[str, Any]] = {}
        self.pending_channel_events = 0
        self.sysinfo: Dict[str, Any] = {}
        self.verinfo: Dict[str, Any] = {}
        self.transport = None
        self._native: Optional[NativeCamera] = None
        self._finalizer: Optional[weakref.finalize] = None
        self._callbacks: List[Callable[[Event], Any]] = [on_event] if on_event is not None else []
        if drop_rate:
            log.warning("drop_rate=%s is accepted for compatibility but not simulated", drop_rate)

    # ---- context manager, connection ----

    def __enter__(self) -> "Camera":
        self.connect()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self.disconnect()

    def connect(self) -> None:
        """Open the link: resync, capabilities, channel list, version and system info."""
        if self._native is not None:
            self.disconnect()
        target: Dict[str, Any] = {}
        if self.tcp is not None:
            target["tcp"] = self.tcp
        elif self.serial_number is not None:
            target["serial_number"] = self.serial_number
        elif self.port is not None:
            target["port"] = self.port
        else:
            ports = _native.list_ports()
            if not ports:
                raise OMVException("Failed to connect: no cam found (give port=, tcp= or serial_number=)")
            target["port"] = self.port = ports[0]["path"]
        try:
            native = NativeCamera(
                baudrate=self.baudrate, crc=bool(self.caps["crc"]), seq=bool(self.caps["seq"]),
                ack=bool(self.caps["ack"]), events=bool(self.caps["events"]),
                timeout=float(self.timeout), max_retry=int(self.max_retry),
                max_payload=int(self.caps["max_payload"]), auto_reconnect=self.auto_reconnect, **target)
        except OMVException as exc:
            raise type(exc)(f"Failed to connect: {exc}") from exc
        self._native = native
        self._finalizer = weakref.finalize(self, native.close)
        for cb in self._callbacks:
            native.subscribe(cb)
        try:
            self.caps.update(native.caps())
            self.update_channels()
            self.verinfo = self.version()
            self.sysinfo = self.system_info()
            self.print_system_info()
        except OMVException as exc:
            self.disconnect()
            raise type(exc)(f"Failed to connect: {exc}") from exc

    def disconnect(self) -> None:
        """Close the link and stop the client's threads; `connect()` may open it again."""
        native, self._native = self._native, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if native is not None:
            native.close()

    def close(self) -> None:
        """The same as disconnect()."""
        self.disconnect()

    def is_connected(self) -> bool:
        return self._native is not None and self._native.is_connected()

    def reconnect(self) -> None:
        """Reopen a lost link and restore the session (listeners get a "reconnected" event)."""
        self._cam().reconnect()
        self.update_channels()

    def _cam(self) -> NativeCamera:
        if self._native is None:
            raise DisconnectedException("Not connected")
        return self._native

    def update_capabilities(self) -> None:
        """Negotiate capabilities again (resync: the cam releases every lock)."""
        cam = self._cam()
        cam.resync()
        self.caps.update(cam.caps())

    def poll_events(self) -> None:
        """Nothing to do: the client reads events on its own thread as they arrive."""
        self._cam()

    @property
    def frame_event(self) -> bool:
        """A stream event arrived since the last read_frame()."""
        return self._native is not None and self._native.frame_event()

    # ---- channel list ----

    def update_channels(self) -> None:
        """Read the channel list from the cam now."""
        if self.pending_channel_events > 0:
            self.pending_channel_events -= 1
        listing = self._cam().list_channels()
        self.channels_by_id = {cid: {"name": name, "flags": flags} for cid, flags, name in listing}
        self.channels_by_name = {name: cid for cid, _, name in listing}

    def get_channel(self, name: Optional[str] = None, channel_id: Optional[int] = None) -> Any:
        """The id of channel `name`, or the name of channel `channel_id`; None if there is none."""
        if name is not None:
            cid = self._cam().channel_id(name)
            if cid is not None and self.channels_by_name.get(name) != cid:
                self.update_channels()
            return cid
        if channel_id is not None:
            for cid, flags, cname in self._cam().channels():
                if cid == channel_id:
                    return cname
            return None
        raise ValueError("Must specify either name or channel_id")

    def has_channel(self, channel: str) -> bool:
        return self._cam().has_channel(channel)

    # ---- channel data ----

    def read_status(self) -> Dict[str, bool]:
        """Which channels have something for the host, by name."""
        return dict(self._cam().read_status())

    def channel_size(self, channel: str) -> int:
        """Bytes available on `channel`; 0 if the cam has no such channel."""
        cam = self._cam()
        if cam.channel_id(channel) is None:
            return 0
        return cam.size(channel)

    def channel_read(self, channel: str, size: Optional[int] = None) -> Optional[bytes]:
        """`size` bytes (default: all available) from `channel`; None if there is no such channel."""
        cam = self._cam()
        if cam.channel_id(channel) is None:
            return None
        if size is None:
            return cam.read_available(channel)
        return cam.read(channel, 0, size)

    def channel_write(self, channel: str, data: Union[bytes, bytearray, memoryview]) -> bool:
        """Write `data` to `channel` from offset 0; False if there is no such channel."""
        cam = self._cam()
        if cam.channel_id(channel) is None:
            return False
        if not isinstance(data, (bytes, bytearray)):
            data = bytes(data)
        cam.write(channel, data)
        return True

    # ---- scripts, stream, stdout ----

    def exec(self, script: Union[str, bytes]) -> None:
        """Upload and run a MicroPython script."""
        self._cam().exec(script.encode("utf-8") if isinstance(script, str) else bytes(script))

    def stop(self) -> None:
        """Interrupt the running script."""
        self._cam().stop()

    def streaming(self, enable: bool, raw: bool = False,
                  resolution: Optional[Tuple[int, int]] = None) -> None:
        """Turn the frame stream on or off; `raw` (uncompressed at `resolution`) needs a resolution."""
        pair = None
        if resolution is not None:
            w, h = resolution  # a list does too; another length is a ValueError
            pair = (w, h)
        self._cam().streaming(bool(enable), bool(raw), pair)

    def read_stdout(self) -> Optional[str]:
        """The script output the cam holds (taken by the read); None when there is none."""
        # Not read_available: this read consumes, so it must not be repeated after a recovery.
        data = self._cam().read_stdout()
        return data.decode("utf-8", errors="ignore") if data else None

    def read_frame(self) -> Optional[Dict[str, Any]]:
        """The latest frame as openmv gives it (data in RGB888 bytes), or None if none is ready."""
        frame = self._cam().read_frame()
        return None if frame is None else _frame_dict(frame)

    # ---- frames beyond openmv ----

    def read_image(self) -> Optional[Frame]:
        """The latest frame as a `Frame` (numpy via .array()), or None if none is ready."""
        return self._cam().read_frame()

    def wait_frame(self, timeout: Optional[float] = None) -> Optional[Frame]:
        """The next frame, waiting up to `timeout` seconds (None: no limit); None on timeout."""
        return self._cam().wait_frame(timeout)

    def frames(self, timeout: Optional[float] = 1.0, count: Optional[int] = None) -> Iterator[Frame]:
        """Frames as they come (streaming must be on); raises TimeoutException if none
        arrives within `timeout` seconds. Stops after `count` frames if given."""
        n = 0
        while count is None or n < count:
            frame = self._cam().wait_frame(timeout)
            if frame is None:
                raise TimeoutException(f"no frame within {timeout} s")
            n += 1
            yield frame

    async def wait_frame_async(self, timeout: Optional[float] = None) -> Optional[Frame]:
        """wait_frame() in the event loop's default executor (the wait holds no GIL)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.wait_frame, timeout)

    async def frames_async(self, timeout: Optional[float] = 1.0,
                           count: Optional[int] = None) -> AsyncIterator[Frame]:
        """frames() for asyncio: `async for frame in cam.frames_async(): ...`."""
        n = 0
        while count is None or n < count:
            frame = await self.wait_frame_async(timeout)
            if frame is None:
                raise TimeoutException(f"no frame within {timeout} s")
            n += 1
            yield frame

    # ---- events beyond openmv ----

    def subscribe(self, callback: Callable[[Event], Any]) -> int:
        """Call `callback(event)` for every event, on the client's event thread; returns an id."""
        return self._cam().subscribe(callback)

    def unsubscribe(self, callback_id: int) -> bool:
        return self._cam().unsubscribe(callback_id)

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """Events as they arrive; ends when none arrives within `timeout` seconds (None: never)."""
        while True:
            ev = self._cam().next_event(timeout)
            if ev is None:
                return
            yield ev

    # ---- system ----

    def version(self) -> Dict[str, Tuple[int, int, int]]:
        proto, boot, fw = self._cam().version()
        return {"protocol_version": proto, "bootloader_version": boot, "firmware_version": fw}

    def system_info(self) -> Dict[str, Any]:
        raw = self._cam().system_info()
        caps = raw["hw_caps"][0]
        info: Dict[str, Any] = {
            "cpu_id": raw["cpu_id"],
            "device_id": raw["dev_id"],
            "usb_vid": (raw["usb_id"] >> 16) & 0xFFFF,
            "usb_pid": raw["usb_id"] & 0xFFFF,
            "chip_id": raw["chip_id"],
        }
        for key, bit in _HW_CAP_BITS[:8]:
            info[key] = bool(caps & (1 << bit))
        info["pmu_eventcnt"] = (caps >> 8) & 0xFF
        for key, bit in _HW_CAP_BITS[8:]:
            info[key] = bool(caps & (1 << bit))
        info.update({
            "flash_size_kb": raw["flash_kb"],
            "ram_size_kb": raw["ram_kb"],
            "framebuffer_size_kb": raw["framebuffer_kb"],
            "stream_buffer_size_kb": raw["stream_buffer_kb"],
        })
        return info

    def device_stats(self) -> Dict[str, Optional[int]]:
        """The cam's link counters (PROTO_STATS)."""
        s = self._cam().device_stats()
        return {
            "sent": s["sent"], "received": s["received"], "checksum": s["checksum"],
            "sequence": s["sequence"], "retransmit": s["retransmit"], "transport": s["transport"],
            "sent_events": s["events"],
            # The Rust client does not keep PROTO_STATS' eighth word.
            "max_ack_queue_depth": None,
        }

    def host_stats(self) -> Dict[str, int]:
        """This client's packet counters since the link was opened."""
        s = self._cam().host_stats()
        return {"sent": s["sent"], "received": s["received"], "checksum": s["checksum"],
                "sequence": s["sequence"]}

    def memory(self) -> List[Dict[str, int]]:
        """The cam's memory pools (SYS_MEMORY)."""
        return self._cam().memory()

    def reset(self) -> None:
        """Restart the cam; the link is closed."""
        self._cam().reset()
        self.disconnect()

    def boot(self) -> None:
        """Put the cam in its bootloader; the link is closed."""
        self._cam().boot()
        self.disconnect()

    def print_system_info(self) -> None:
        """Log the cached system and version information (logger "openmvproto", INFO)."""
        i, v = self.sysinfo, self.verinfo
        if not i or not v:
            return
        dotted = lambda t: ".".join(map(str, t))  # noqa: E731
        log.info("cam %s: protocol %s, firmware %s, bootloader %s", self.describe(),
                 dotted(v["protocol_version"]), dotted(v["firmware_version"]), dotted(v["bootloader_version"]))
        log.info("cpu 0x%08X, device %s, USB %04X:%04X", i["cpu_id"],
                 "".join(f"{w:08X}" for w in i["device_id"]), i["usb_vid"], i["usb_pid"])
        log.info("memory KB: flash %d, ram %d, framebuffer %d, stream buffer %d", i["flash_size_kb"],
                 i["ram_size_kb"], i["framebuffer_size_kb"], i["stream_buffer_size_kb"])
        present = [k[:-8] if k.endswith("_present") else k for k, _ in _HW_CAP_BITS if i[k]]
        log.info("hardware: %s; %d PMU counters", ", ".join(present) or "nothing", i["pmu_eventcnt"])
        log.info("channels: %s; caps %s", ", ".join(self.channels_by_name), self.caps)

    def describe(self) -> str:
        """The link, for logs ("tcp:127.0.0.1:5000", a serial path...)."""
        return self._native.describe() if self._native is not None else "not connected"

    # ---- profiler ----

    def read_profile(self) -> Optional[List[Dict[str, Any]]]:
        """Profiler records, or None without a profile channel or when nothing is ready."""
        recs = self._cam().read_profile()
        if recs is None:
            return None
        return [{
            "address": r[0], "caller": r[1], "call_count": r[2], "min_ticks": r[3],
            "max_ticks": r[4], "total_ticks": r[5], "total_cycles": r[6], "events": tuple(r[7]),
        } for r in recs]

    def _has_profiler(self) -> bool:
        return self._cam().channel_id("profile") is not None

    def profiler_reset(self, config: Any = None) -> None:
        """Clear the profiler; without `config`, program the default PMU events too."""
        if self._has_profiler():
            self._cam().profiler_reset()
        if config is None:
            for counter, event_id in enumerate(DEFAULT_PROFILER_EVENTS):
                self.profiler_event(counter, event_id)

    def profiler_mode(self, exclusive: bool = False) -> None:
        """Exclusive (time in callees not counted) or inclusive profiling."""
        if self._has_profiler():
            self._cam().profiler_mode(bool(exclusive))

    def profiler_event(self, counter_num: int, event_id: int) -> None:
        """Make PMU counter `counter_num` count event `event_id`."""
        if self._has_profiler():
            self._cam().profiler_event(counter_num, event_id)

    # ---- typed controls, beyond openmv ----

    def controls(self, channel: ChannelArg = "controls") -> List[Dict[str, Any]]:
        """Every field of a controls channel (CBOR, as the firmware's CBORChannel), in order:
        dicts with name, widget, value, unit, input and the widget's parameters."""
        return self._cam().controls(channel)

    def control(self, name: str, channel: ChannelArg = "controls") -> Dict[str, Any]:
        """One field by name; ControlException if there is none."""
        return self._cam().control(channel, name)

    def set_control(self, name: str, value: Any, channel: ChannelArg = "controls") -> None:
        """Set one control after checking the value against its widget (ControlException if not)."""
        self._cam().set_controls(channel, [(name, value)])

    def set_controls(self, values: Dict[str, Any], channel: ChannelArg = "controls") -> None:
        """Set several controls in one write; nothing is written if one value does not fit."""
        self._cam().set_controls(channel, list(values.items()))

    # ---- low level, beyond openmv ----

    @property
    def native(self) -> NativeCamera:
        """The Rust client itself: lock, unlock, ioctl, shape, read(offset), poll..."""
        return self._cam()

    def __repr__(self) -> str:
        return f"<openmvproto.Camera {self.describe()}>"
