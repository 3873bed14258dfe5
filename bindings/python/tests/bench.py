#!/usr/bin/env python3
"""Frame streaming throughput: openmvproto against openmv 1.0.7 in the same run, on the same
virtual cam (omv-vcam over a pty, streaming as fast as it is read).

For each size and format, each client streams for --seconds: frames/s, MB/s of pixel data and
process CPU time per frame (all threads: openmvproto's Rust reader counts). `read_frame` rows do
the same work in both (a dict with RGB888 bytes); the `frames().array()` row is openmvproto's
numpy path. Ratios are openmvproto / openmv (CPU: openmv / openmvproto, higher is better).
Needs Python 3.12 with openmv==1.0.7, numpy and openmvproto installed.
"""

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vcam import VirtualCam  # noqa: E402

import openmv.camera  # noqa: E402

import openmvproto  # noqa: E402

CASES = [("grayscale", 320, 240), ("grayscale", 640, 480), ("rgb565", 320, 240), ("rgb565", 640, 480)]


def stream(read_one, seconds):
    """Calls read_one() for `seconds`; returns (frames, pixel bytes, wall s, cpu s)."""
    frames = nbytes = 0
    cpu0, t0 = time.process_time(), time.monotonic()
    while time.monotonic() - t0 < seconds:
        size = read_one()
        if size:
            frames += 1
            nbytes += size
    return frames, nbytes, time.monotonic() - t0, time.process_time() - cpu0


def bench_openmv(port, seconds):
    cam = openmv.camera.Camera(port, timeout=2.0)
    cam.connect()
    try:
        cam.streaming(True)

        def one():
            f = cam.read_frame()
            return f["raw_size"] if f else 0

        one()
        return stream(one, seconds)
    finally:
        cam.streaming(False)
        cam.disconnect()


def bench_openmvproto(port, seconds, numpy_path):
    with openmvproto.Camera(port, timeout=2.0) as cam:
        cam.streaming(True)
        if numpy_path:
            def one():
                f = cam.wait_frame(2.0)
                if f is None:
                    return 0
                f.array()
                return f.raw_size
        else:
            def one():
                f = cam.read_frame()
                return f["raw_size"] if f else 0
        one()
        try:
            return stream(one, seconds)
        finally:
            cam.streaming(False)


def row(label, r):
    frames, nbytes, wall, cpu = r
    fps = frames / wall
    mbs = nbytes / wall / 1e6
    cpu_ms = cpu / frames * 1e3 if frames else float("inf")
    print(f"  {label:32} {frames:6d} frames {fps:8.1f} fps {mbs:8.2f} MB/s {cpu_ms:8.2f} ms CPU/frame")
    return fps, mbs, cpu_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.5, help="per client and case")
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    print(f"bench: {args.seconds} s per client and case; omv-vcam over a pty, unthrottled")
    summary = []
    for fmt, w, h in CASES:
        with VirtualCam("--format", fmt, "--width", w, "--height", h, "--fps", 10000,
                        "--lock-interval-ms", 0, tcp=False) as vc:
            print(f"{fmt} {w}x{h}:")
            base = row("openmv 1.0.7 read_frame()", bench_openmv(vc.link, args.seconds))
            ours = row("openmvproto read_frame()", bench_openmvproto(vc.link, args.seconds, False))
            arr = row("openmvproto frames().array()", bench_openmvproto(vc.link, args.seconds, True))
            if base[0] == 0:
                print("  openmv read no frame: no ratio")
                continue
            ratio = (ours[0] / base[0], ours[1] / base[1], base[2] / ours[2])
            print(f"  ratio openmvproto/openmv: {ratio[0]:.1f}x frames/s, {ratio[1]:.1f}x MB/s, "
                  f"{ratio[2]:.1f}x less CPU per frame (numpy path: {arr[0] / base[0]:.1f}x frames/s)")
            summary.append((f"{fmt} {w}x{h}", base, ours, ratio))
    print("summary (read_frame, same output in both):")
    for name, base, ours, ratio in summary:
        print(f"  {name:18} openmv {base[0]:6.1f} fps {base[1]:6.2f} MB/s {base[2]:7.2f} ms CPU | "
              f"openmvproto {ours[0]:7.1f} fps {ours[1]:7.2f} MB/s {ours[2]:6.2f} ms CPU | "
              f"{ratio[0]:.1f}x fps, {ratio[2]:.1f}x less CPU")
    return 0 if len(summary) == len(CASES) else 1


if __name__ == "__main__":
    sys.exit(main())
