"""openmv 1.0.7 measured the way `omv bench` measures itself; run by `omv bench --compare`.

Frames: read_frame in a loop for --seconds (the package converts each frame to RGB888).
Latency: --requests calls of read_status (one CHANNEL_POLL each). Prints one JSON line.
"""
import argparse
import json
import logging
import time

import importlib.metadata as md
from openmv import Camera

ap = argparse.ArgumentParser()
ap.add_argument("--port", required=True)
ap.add_argument("--seconds", type=float, default=3.0)
ap.add_argument("--requests", type=int, default=300)
ap.add_argument("--timeout", type=float, default=1.0)
a = ap.parse_args()
logging.disable(logging.CRITICAL)
cam = Camera(a.port, timeout=a.timeout)
cam.connect()
lat = []
for _ in range(a.requests):
    t = time.perf_counter()
    cam.read_status()
    lat.append(time.perf_counter() - t)
cam.streaming(True)
frames = nbytes = 0
start = time.perf_counter()
while time.perf_counter() - start < a.seconds:
    f = cam.read_frame()
    if f is None:
        continue
    frames += 1
    nbytes += f["raw_size"]
elapsed = time.perf_counter() - start
cam.streaming(False)
cam.disconnect()
print(json.dumps({"version": md.version("openmv"), "frames": frames, "seconds": elapsed,
                  "bytes": nbytes, "latency_s": lat}))
