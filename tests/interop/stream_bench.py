#!/usr/bin/env python3
"""Frame streaming throughput of the real `openmv` 1.0.7 host on a cam at --port.

Prints one line of JSON: {"frames": N, "seconds": S, "bytes": B, "cpu_seconds": C} (C: this
process's CPU time during the loop). Run with the venv's python.
"""

import argparse
import json
import logging
import time

from openmv import Camera


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    cam = Camera(args.port)
    cam.connect()
    cam.streaming(True)
    frames = nbytes = 0
    start, cpu0 = time.monotonic(), time.process_time()
    while time.monotonic() - start < args.seconds:
        f = cam.read_frame()
        if f is None:
            continue
        frames += 1
        nbytes += f["raw_size"]
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu0
    cam.streaming(False)
    cam.disconnect()
    print(json.dumps({"frames": frames, "seconds": elapsed, "bytes": nbytes, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
