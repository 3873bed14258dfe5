#!/usr/bin/env python3
"""Drive the real `openmv` 1.0.7 host package (PyPI) against a cam on a serial or pty path.

Run it with the venv's python (scripts/openmv-venv.sh prints it):

    python tests/interop/openmv_client.py --port /dev/pts/N --scenario full|droprate|firmware

Scenarios
  full      connect, channel list (stdin stdout stream config ticks), version 1.0.2, system info
            (USB VID 0x37C5), exec a script and wait for its stdout, stream --frames frames and
            check every pixel, a --config-size round trip on the config channel, device stats.
  droprate  connect with the package's drop_rate option and do --rounds config round trips and
            --frames frame reads; every one must end with correct data.
  firmware  connect, channel list (stdin stdout stream config), one 64x48 grayscale frame.

Frames are GRAYSCALE with pixel(x, y) = (x + y + n) % 256 for frame number n. Frames may be
skipped, so n % 256 is taken from pixel(0, 0) and successive frames must have distinct,
increasing n (modulo 256).

Only the package's public API is used. Note: on any non-protocol exception inside a command the
package logs it and calls sys.exit(0); this script turns that SystemExit into a failure.
Exit status: 0 pass, 1 check failed, 2 overall timeout.
"""

import argparse
import collections
import importlib.metadata
import logging
import os
import random
import sys
import threading
import time

try:
    import numpy as np
    from openmv import Camera, OMVException
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(f"FAIL [setup]: cannot import openmv/numpy ({exc}); use scripts/openmv-venv.sh")

PIXFORMAT_GRAYSCALE = 0x08020001
OPENMV_VERSION = "1.0.7"
PROTOCOL_VERSION = (1, 0, 2)
OPENMV_VID = 0x37C5
FULL_CHANNELS = ("stdin", "stdout", "stream", "config", "ticks")
FIRMWARE_CHANNELS = ("stdin", "stdout", "stream", "config")
FIRMWARE_FRAME = (64, 48)
SCRIPT_LINES = ("hello from script", "second line 42", "script done")


class CheckFailed(Exception):
    pass


class PackageLog(logging.Handler):
    """Watches the package's log records: counts resyncs, keeps the latest problems."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.resyncs = 0
        self.problems = collections.deque(maxlen=6)

    def emit(self, record):
        msg = record.getMessage()
        if "Resynchronizing" in msg:
            self.resyncs += 1
        if record.levelno >= logging.WARNING:
            self.problems.append(msg)

    def recent(self):
        return "; ".join(self.problems) if self.problems else "none"


class Runner:
    def __init__(self, args):
        self.args = args
        self.log = PackageLog()
        self.cam = None
        self.step_name = "setup"
        self.start = time.monotonic()
        self.app_retries = 0
        # Every BUSY lock answer can be dropped too, so poll less often under drops.
        self.poll_interval = 0.02 if args.scenario == "droprate" else 0.005

    # ---- reporting and bounded waiting -------------------------------------------------

    def fail(self, msg):
        raise CheckFailed(msg)

    def ok(self, detail):
        elapsed = time.monotonic() - self.start
        print(f"[ok] {self.step_name}: {detail} ({elapsed:.1f}s)", flush=True)

    def step(self, name):
        self.step_name = name

    def deadline(self, seconds):
        """A deadline `seconds` from now, never past the overall timeout."""
        overall = self.start + self.args.timeout
        return min(time.monotonic() + seconds, overall)

    def call(self, what, fn, *args, **kwargs):
        """One package call; protocol errors and the package's sys.exit become CheckFailed.

        In the droprate scenario a call that still fails after the package's own resync and
        single retry is repeated (at most --attempts times in all), as an application would.
        """
        attempts = self.args.attempts if self.args.scenario == "droprate" else 1
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except OMVException as exc:
                if attempt == attempts:
                    self.fail(f"{what}: {type(exc).__name__}: {exc} "
                              f"(package log: {self.log.recent()})")
                self.app_retries += 1
                print(f"    {what}: {type(exc).__name__} after the package's retry, "
                      f"attempt {attempt + 1}/{attempts}", flush=True)
            except SystemExit as exc:
                self.fail(f"{what}: the package called sys.exit({exc.code}) after an unexpected "
                          f"error (package log: {self.log.recent()})")
        raise AssertionError("unreachable")

    # ---- building blocks ------------------------------------------------------------------

    def connect(self, **options):
        self.step("connect")
        opts = dict(timeout=self.args.proto_timeout)
        opts.update(options)
        self.cam = Camera(self.args.port, **opts)
        self.call("connect", self.cam.connect)
        caps = self.cam.caps
        flags = "".join(k[0] if caps[k] else "-" for k in ("crc", "seq", "ack", "events"))
        self.ok(f"{self.args.port}, caps {flags}, max_payload {caps['max_payload']}")

    def check_channels(self, required):
        self.step("channels")
        self.call("update_channels", self.cam.update_channels)
        by_id = self.cam.channels_by_id
        listing = ", ".join(f"{cid}:{ch['name']}(0x{ch['flags']:02X})"
                            for cid, ch in sorted(by_id.items()))
        missing = [name for name in required if name not in self.cam.channels_by_name]
        if missing:
            self.fail(f"missing channel(s) {missing}; device lists {listing or 'nothing'}")
        self.ok(listing)

    def check_version(self):
        self.step("version")
        ver = self.call("version", self.cam.version)
        proto = tuple(ver["protocol_version"])
        if proto != PROTOCOL_VERSION:
            self.fail(f"protocol version {proto}, expected {PROTOCOL_VERSION}")
        fw = ".".join(map(str, ver["firmware_version"]))
        bl = ".".join(map(str, ver["bootloader_version"]))
        self.ok(f"protocol {'.'.join(map(str, proto))}, firmware {fw}, bootloader {bl}")

    def check_sysinfo(self):
        self.step("system info")
        info = self.call("system_info", self.cam.system_info)
        if info["usb_vid"] != OPENMV_VID:
            self.fail(f"USB VID 0x{info['usb_vid']:04X}, expected 0x{OPENMV_VID:04X}")
        self.ok(f"USB {info['usb_vid']:04X}:{info['usb_pid']:04X}, cpu 0x{info['cpu_id']:08X}, "
                f"stream buffer {info['stream_buffer_size_kb']} KB")

    def run_script(self):
        self.step("exec")
        script = "".join(f'print("{line}")\n' for line in SCRIPT_LINES)
        self.call("exec", self.cam.exec, script)
        text = ""
        until = self.deadline(self.args.stdout_wait)
        want = list(SCRIPT_LINES) + (["MPY: soft reboot"] if self.args.soft_reboot else [])
        while not all(line in text for line in want):
            if time.monotonic() > until:
                self.fail(f"script output incomplete after {self.args.stdout_wait}s; "
                          f"stdout so far: {text!r}")
            chunk = self.call("read_stdout", self.cam.read_stdout)
            if chunk:
                text += chunk
            else:
                time.sleep(0.02)
        self.ok(f"stdout {len(text)} bytes, all {len(SCRIPT_LINES)} lines seen")

    def check_frame(self, frame, want_size):
        """Verify one frame from read_frame(); returns n % 256."""
        w, h, fmt = frame["width"], frame["height"], frame["format"]
        if fmt != PIXFORMAT_GRAYSCALE:
            self.fail(f"pixformat 0x{fmt:08X}, expected GRAYSCALE 0x{PIXFORMAT_GRAYSCALE:08X}")
        if want_size is not None and (w, h) != want_size:
            self.fail(f"frame {w}x{h}, expected {want_size[0]}x{want_size[1]}")
        if w == 0 or h == 0 or frame["raw_size"] != w * h:
            self.fail(f"frame {w}x{h} carries {frame['raw_size']} pixel bytes")
        # read_frame returns RGB888: each gray value repeated three times.
        rgb = np.frombuffer(frame["data"], dtype=np.uint8)
        if rgb.size != w * h * 3:
            self.fail(f"RGB888 data is {rgb.size} bytes, expected {w * h * 3}")
        rgb = rgb.reshape(h, w, 3)
        gray = rgb[:, :, 0]
        if not (np.array_equal(gray, rgb[:, :, 1]) and np.array_equal(gray, rgb[:, :, 2])):
            self.fail("RGB888 channels differ for a grayscale frame")
        n = int(gray[0, 0])
        ys, xs = np.indices((h, w))
        want = ((xs + ys + n) % 256).astype(np.uint8)
        bad = np.argwhere(gray != want)
        if bad.size:
            y, x = (int(v) for v in bad[0])
            self.fail(f"{w}x{h} frame n%256={n}: pixel({x},{y}) = {gray[y, x]}, expected "
                      f"{want[y, x]}; {len(bad)} of {w * h} pixels wrong")
        return n

    def read_frames(self, count, want_size=None, strict_gap=True):
        """Read `count` frames, verify each and that n increases; returns the n values."""
        seen = []
        polls = 0
        until = self.deadline(self.args.frame_wait)
        while len(seen) < count:
            if time.monotonic() > until:
                self.fail(f"only {len(seen)} of {count} frames within {self.args.frame_wait}s "
                          f"({polls} read_frame calls returned no frame; package log: "
                          f"{self.log.recent()})")
            polls += 1
            frame = self.call("read_frame", self.cam.read_frame)
            if frame is None:  # lock answered BUSY: no new frame yet
                time.sleep(self.poll_interval)
                continue
            n = self.check_frame(frame, want_size)
            if seen:
                gap = (n - seen[-1]) % 256
                if gap == 0 or (strict_gap and gap >= 128):
                    self.fail(f"frame n%256 went {seen[-1]} -> {n}: not a newer frame")
            seen.append(n)
            size = (frame["width"], frame["height"])
        skipped = sum((b - a) % 256 - 1 for a, b in zip(seen, seen[1:]))
        return seen, size, skipped

    def config_roundtrip(self, data, exact_size):
        wrote = self.call("channel_write(config)", self.cam.channel_write, "config", data)
        if not wrote:
            self.fail("channel_write: no channel named config")
        size = self.call("channel_size(config)", self.cam.channel_size, "config")
        size_ok = size == len(data) if exact_size else size >= len(data)
        if not size_ok:
            self.fail(f"config size {size} after writing {len(data)} bytes")
        back = self.call("channel_read(config)", self.cam.channel_read, "config", len(data))
        if back is None:
            self.fail("channel_read: no channel named config")
        if back != data:
            at = next((i for i, (a, b) in enumerate(zip(back, data)) if a != b),
                      min(len(back), len(data)))
            self.fail(f"config read back {len(back)} bytes, differs from the {len(data)} "
                      f"written at offset {at}")
        return size

    def check_stats(self, need_clean):
        self.step("stats")
        st = self.call("device_stats", self.cam.device_stats)
        if st["sent"] == 0 or st["received"] == 0:
            self.fail(f"device stats show no traffic: {st}")
        # The script's end soft-reboots the cam (counter back to 0), as firmware 5.0.0 does:
        # openmv's first request after it meets NAK SEQUENCE once and resynchronises.
        if need_clean and (st["checksum"] or st["sequence"] > 1):
            self.fail(f"device counted errors on a clean link: checksum {st['checksum']}, "
                      f"sequence {st['sequence']} (--lenient to ignore)")
        host = self.cam.host_stats()
        self.ok(f"device sent {st['sent']} received {st['received']} checksum {st['checksum']} "
                f"sequence {st['sequence']} retransmit {st['retransmit']} events "
                f"{st['sent_events']}; host (since last resync) sent {host['sent']} "
                f"received {host['received']}")

    def check_no_resync(self):
        # connect() itself performs exactly one resync (the initial PROTO_SYNC); a cam that
        # soft-reboots after the script costs exactly one more.
        extra = self.log.resyncs - 1 - (1 if self.args.soft_reboot else 0)
        if extra > 0 and not self.args.lenient:
            self.fail(f"the package resynchronised {extra} time(s) after connect on a clean "
                      f"link; its retry hid an error (package log: {self.log.recent()})")

    # ---- scenarios ------------------------------------------------------------------------

    def full(self):
        a = self.args
        self.connect()
        self.check_channels(FULL_CHANNELS)
        self.check_version()
        self.check_sysinfo()
        self.run_script()

        self.step("frames")
        self.call("streaming(True)", self.cam.streaming, True)
        ns, size, skipped = self.read_frames(a.frames, want_size=a.frame_size)
        self.ok(f"{len(ns)} frames {size[0]}x{size[1]} GRAYSCALE verified, n%256 {ns[0]}..{ns[-1]}, "
                f"{skipped} skipped")

        self.step("config")
        data = random.Random(a.seed).randbytes(a.config_size)
        size = self.config_roundtrip(data, exact_size=True)
        self.ok(f"{len(data)} random bytes written, size {size}, read back identical")

        self.check_stats(need_clean=not a.lenient)
        self.step("resyncs")
        self.check_no_resync()
        self.ok(f"{self.log.resyncs} in all, {self.log.resyncs - 1} after connect")

    def droprate(self):
        a = self.args
        random.seed(a.seed)  # the package draws its drops from the global `random`
        self.connect(drop_rate=a.drop_rate, events=a.droprate_events)
        self.check_channels(("stream", "config"))

        rng = random.Random(a.seed + 1)
        for i in range(1, a.rounds + 1):
            self.step(f"config round {i}/{a.rounds}")
            data = rng.randbytes(a.droprate_size)
            self.config_roundtrip(data, exact_size=False)
            self.ok(f"{len(data)} bytes round trip identical (resyncs so far {self.log.resyncs})")

        self.step("frames")
        self.call("streaming(True)", self.cam.streaming, True)
        ns, size, skipped = self.read_frames(a.frames, want_size=a.frame_size, strict_gap=False)
        self.ok(f"{len(ns)} frames {size[0]}x{size[1]} verified, {skipped} skipped")

        self.check_stats(need_clean=False)
        self.step("drops")
        self.ok(f"drop_rate {a.drop_rate}: {self.log.resyncs} resyncs (1 at connect), "
                f"{self.app_retries} application-level retries")

    def firmware(self):
        self.connect()
        self.check_channels(FIRMWARE_CHANNELS)
        self.step("frame")
        self.call("streaming(True)", self.cam.streaming, True)
        ns, size, _ = self.read_frames(1, want_size=self.args.frame_size or FIRMWARE_FRAME)
        self.ok(f"{size[0]}x{size[1]} GRAYSCALE frame verified, n%256 {ns[0]}")

    def run(self):
        if not os.path.exists(self.args.port):
            self.fail(f"no such port {self.args.port}")
        version = importlib.metadata.version("openmv")
        if version != OPENMV_VERSION:
            self.fail(f"openmv {version} installed, this test drives {OPENMV_VERSION}")
        try:
            getattr(self, self.args.scenario)()
            if self.args.scenario != "firmware":
                try:  # best effort, only after success: leave the cam idle
                    self.cam.streaming(False)
                except (OMVException, SystemExit):
                    pass
        finally:
            if self.cam is not None:
                self.cam.disconnect()


def frame_size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected WIDTHxHEIGHT, e.g. 64x48")
    return (w, h)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", required=True, help="serial or pty path of the cam")
    p.add_argument("--scenario", choices=("full", "droprate", "firmware"), default="full")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="overall limit in seconds; exit 2 when exceeded (default 60)")
    p.add_argument("--proto-timeout", type=float, default=1.0,
                   help="the package's per-answer timeout, Camera(timeout=...) (default 1.0)")
    p.add_argument("--frames", type=int, default=10, help="frames to read (default 10)")
    p.add_argument("--frame-size", type=frame_size, default=None,
                   help="required WxH (default: any for full/droprate, 64x48 for firmware)")
    p.add_argument("--frame-wait", type=float, default=20.0,
                   help="seconds allowed for all frames of one step (default 20)")
    p.add_argument("--stdout-wait", type=float, default=10.0,
                   help="seconds allowed for the script output (default 10)")
    p.add_argument("--config-size", type=int, default=64 * 1024,
                   help="bytes in the full scenario's config round trip (default 65536)")
    p.add_argument("--drop-rate", type=float, default=0.05,
                   help="droprate: Camera(drop_rate=...) (default 0.05)")
    p.add_argument("--droprate-size", type=int, default=8 * 1024,
                   help="droprate: bytes per config round trip (default 8192)")
    p.add_argument("--rounds", type=int, default=5, help="droprate: config round trips (default 5)")
    p.add_argument("--attempts", type=int, default=3,
                   help="droprate: calls per operation, counting the first (default 3)")
    p.add_argument("--droprate-events", action="store_true",
                   help="droprate: keep the events capability on (off by default: the package "
                        "restarts its answer timeout on every event, so periodic events plus a "
                        "dropped answer stall it)")
    p.add_argument("--seed", type=int, default=1, help="seed for drops and test data (default 1)")
    p.add_argument("--soft-reboot", action="store_true",
                   help="exec: wait for the cam's `MPY: soft reboot` after the script, as a "
                        "firmware 5.0.0 cam prints when a script ends (omv-vcam does too)")
    p.add_argument("--lenient", action="store_true",
                   help="full: tolerate resyncs and device checksum/sequence errors")
    p.add_argument("--debug", action="store_true", help="log every packet (package DEBUG log)")
    args = p.parse_args(argv)
    if args.frames < 1 or args.rounds < 1 or args.attempts < 1:
        p.error("--frames, --rounds and --attempts must be at least 1")
    if not 0.0 <= args.drop_rate < 1.0:
        p.error("--drop-rate must be in [0, 1)")
    return args


def main(argv=None):
    args = parse_args(argv)
    runner = Runner(args)

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if args.debug else logging.ERROR)
    console.setFormatter(logging.Formatter("    openmv: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if args.debug else logging.INFO)
    root.addHandler(console)
    root.addHandler(runner.log)

    def overall_timeout():
        print(f"FAIL [{runner.step_name}]: overall timeout of {args.timeout:g}s exceeded "
              f"(package log: {runner.log.recent()})", file=sys.stderr, flush=True)
        os._exit(2)

    watchdog = threading.Timer(args.timeout, overall_timeout)
    watchdog.daemon = True
    watchdog.start()
    try:
        runner.run()
    except CheckFailed as exc:
        print(f"FAIL [{runner.step_name}]: {exc}", file=sys.stderr, flush=True)
        return 1
    except SystemExit as exc:
        print(f"FAIL [{runner.step_name}]: the package called sys.exit({exc.code}) "
              f"(package log: {runner.log.recent()})", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # anything unexpected from the package is a failure too
        print(f"FAIL [{runner.step_name}]: {type(exc).__name__}: {exc} "
              f"(package log: {runner.log.recent()})", file=sys.stderr, flush=True)
        return 1
    finally:
        watchdog.cancel()
    print(f"PASS {args.scenario} in {time.monotonic() - runner.start:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
