#!/usr/bin/env python3
"""The same script of `openmv` calls against openmv.camera.Camera 1.0.7 and openmvproto.Camera,
one after the other on one virtual cam (omv-vcam over a pty), and a comparison of what each
call returned.

Values that depend on timing (packet counters, which frame was read) are compared by shape;
everything else must be equal. Exit status 0 when every call matches, 1 otherwise.
Needs Python 3.12 with openmv==1.0.7, numpy and openmvproto installed.
"""

import argparse
import importlib.metadata
import logging
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vcam import VirtualCam  # noqa: E402

import openmv.camera  # noqa: E402
import openmv.image  # noqa: E402

import openmvproto  # noqa: E402

SCRIPT_LINES = ["compat line one", "compat line 2", "done"]
CONFIG = b"mode=compat;gain=3"


# Differences the README lists, exactly as they show: (openmv's, openmvproto's), why.
KNOWN = {
    "device_stats()": (
        ({"sent": "int", "received": "int", "checksum": "int", "sequence": "int", "retransmit": "int",
          "transport": "int", "sent_events": "int", "max_ack_queue_depth": "int"},
         {"sent": "int", "received": "int", "checksum": "int", "sequence": "int", "retransmit": "int",
          "transport": "int", "sent_events": "int", "max_ack_queue_depth": "NoneType"}),
        "the Rust client does not keep PROTO_STATS' eighth word, so max_ack_queue_depth is None"),
}


def shape_of(value):
    """Keys and value types, for results whose numbers depend on timing."""
    if isinstance(value, dict):
        return {k: type(v).__name__ for k, v in value.items()}
    return type(value).__name__


def wait_for(what, fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: nothing within {timeout} s")
        time.sleep(0.005)


def frame_summary(f):
    """A frame dict without its pixel values; checks the pixels against the vcam's pattern."""
    w, h = f["width"], f["height"]
    rgb = np.frombuffer(f["data"], np.uint8).reshape(h, w, 3)
    n = int(rgb[0, 0, 0])
    ys, xs = np.indices((h, w))
    pattern_ok = bool(np.array_equal(rgb[:, :, 0], (xs + ys + n) % 256)
                      and np.array_equal(rgb[:, :, 0], rgb[:, :, 1])
                      and np.array_equal(rgb[:, :, 0], rgb[:, :, 2]))
    return {"keys": sorted(f), "width": w, "height": h, "format": f["format"], "depth": f["depth"],
            "raw_size": f["raw_size"], "data_type": type(f["data"]).__name__,
            "data_len": len(f["data"]), "pixels_match_pattern": pattern_ok}


def run_script(Camera, port):
    """The openmv program; returns [(call, value, compare_by)] where compare_by is "value" or "shape"."""
    out = []

    def rec(call, value, by="value"):
        out.append((call, value, by))

    with Camera(port, timeout=2.0) as cam:
        rec("caps", dict(cam.caps))
        rec("channels_by_name", dict(cam.channels_by_name))
        rec("channels_by_id", dict(cam.channels_by_id))
        rec("is_connected()", cam.is_connected())
        rec("version()", cam.version())
        rec("system_info()", cam.system_info())
        rec("has_channel('stdin')", cam.has_channel("stdin"))
        rec("has_channel('nope')", cam.has_channel("nope"))
        sid = cam.get_channel(name="stream")
        rec("get_channel(name='stream')", sid)
        rec("get_channel(channel_id=stream)", cam.get_channel(channel_id=sid))
        rec("get_channel(name='nope')", cam.get_channel(name="nope"))
        rec("read_status()", cam.read_status())
        rec("channel_write('config', ...)", cam.channel_write("config", CONFIG))
        rec("channel_size('config')", cam.channel_size("config"))
        rec("channel_read('config')", cam.channel_read("config"))
        rec("channel_read('config', 4)", cam.channel_read("config", 4))
        rec("channel_size('nope')", cam.channel_size("nope"))
        rec("channel_read('nope')", cam.channel_read("nope"))
        rec("channel_write('nope', b'x')", cam.channel_write("nope", b"x"))
        rec("read_stdout() before any script", cam.read_stdout())
        rec("exec(script)", cam.exec("".join(f"print({line!r})\n" for line in SCRIPT_LINES)))
        text = ""

        def more():
            nonlocal text
            text += cam.read_stdout() or ""
            return all(line in text for line in SCRIPT_LINES)

        wait_for("script output", more)
        # The cam prints this once a script has ended (as OpenMV firmware does).
        wait_for("the soft reboot after the script", lambda: more() and "soft reboot" in text)
        rec("read_stdout() until the script's lines and the soft reboot", text)
        rec("read_stdout() once drained", cam.read_stdout())
        rec("stop()", cam.stop())
        rec("streaming(True)", cam.streaming(True))
        frame = wait_for("a frame", cam.read_frame)
        rec("read_frame()", frame_summary(frame))
        rec("streaming(False)", cam.streaming(False))
        rec("streaming(True, raw=True, resolution=(64, 48))", cam.streaming(True, raw=True, resolution=(64, 48)))
        rec("streaming(False) again", cam.streaming(False))
        # Take the frame made before streaming stopped, so the next run finds the cam as this
        # one did (the cam locks at once: --lock-interval-ms 0, so None means no frame).
        rec("read_frame() until None", [bool(cam.read_frame()) for _ in range(3)][-1])
        rec("read_profile()", cam.read_profile())
        rec("profiler_mode(exclusive=True)", cam.profiler_mode(exclusive=True))
        rec("profiler_event(0, 0x11)", cam.profiler_event(0, 0x11))
        rec("profiler_reset()", cam.profiler_reset())
        rec("update_channels()", cam.update_channels())
        rec("channels_by_name after update", dict(cam.channels_by_name))
        rec("update_capabilities()", cam.update_capabilities())
        rec("caps after update", dict(cam.caps))
        rec("device_stats()", shape_of(cam.device_stats()), "shape")
        rec("host_stats()", shape_of(cam.host_stats()), "shape")
    rec("is_connected() after with", cam.is_connected())
    return out


def conversion_checks(port):
    """openmv's own pixel conversion (openmv.image) on the raw pixels of openmvproto frames."""
    results = []
    with openmvproto.Camera(port, timeout=2.0) as cam:
        cam.streaming(True)
        f = cam.wait_frame(10.0)
        cam.streaming(False)
        if f is None:
            return [("frame for conversion check", False)]
        want, _ = openmv.image.convert_to_rgb888(f.data, f.width, f.height, f.format)
        results.append((f"{f.format_name} RGB888 == openmv.image.convert_to_rgb888", f.rgb888() == want))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    print(f"openmv {importlib.metadata.version('openmv')} vs openmvproto {openmvproto.__version__}, "
          f"Python {sys.version.split()[0]}")
    failed = total = known_seen = 0
    with VirtualCam("--fps", 60, "--lock-interval-ms", 0, tcp=False) as vc:
        theirs = run_script(openmv.camera.Camera, vc.link)
        ours = run_script(openmvproto.Camera, vc.link)
        assert [c for c, _, _ in theirs] == [c for c, _, _ in ours]
        for (call, a, by), (_, b, _) in zip(theirs, ours):
            same = a == b
            known = not same and KNOWN.get(call, (None, None))[0] == (a, b)
            failed += not same and not known
            known_seen += known
            total += 1
            label = "same" if same else "KNOWN" if known else "DIFFERENT"
            print(f"{label:9} {call}" + ("" if same else f"\n    openmv:      {a!r}\n    openmvproto: {b!r}")
                  + (f"\n    why: {KNOWN[call][1]}" if known else ""))
    for fmt in ("grayscale", "rgb565"):
        with VirtualCam("--format", fmt, "--width", 160, "--height", 120, "--fps", 60, tcp=False) as vc:
            for what, ok in conversion_checks(vc.link):
                failed += not ok
                total += 1
                print(f"{'same' if ok else 'DIFFERENT':9} {what}")
    print(f"compat: {total} calls, {total - failed - known_seen} same, {known_seen} known difference(s), "
          f"{failed} unexpected difference(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
