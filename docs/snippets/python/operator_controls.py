"""operator_controls.py HOST:PORT: worked example 2 with typed controls. The virtual cam's
`controls` channel (the firmware's CBOR format) has a threshold slider and a region of
interest; the operator sets them by name and checks the frames follow."""

import sys
import time

import numpy as np

from openmvproto import Camera

ROI = (40, 30, 160, 120)

with Camera(tcp=sys.argv[1]) as cam:
    # ANCHOR: list
    for c in cam.controls():  # dicts: name, widget, value, unit, ...
        print(f"{c['name']:12} {c['widget']:10} {c['value']!r}")
    # ANCHOR_END: list
    cam.streaming(True)
    # ANCHOR: set
    x, y, w, h = ROI
    cam.set_controls({"threshold": 128, "roi x": x, "roi y": y, "roi w": w, "roi h": h})
    # ANCHOR_END: set
    deadline = time.monotonic() + 5.0
    while True:  # outside the region black; inside only black and white
        frame = cam.wait_frame(timeout=1.0)
        img = frame.array() if frame is not None else None
        if img is not None:
            inside = img[y:y + h, x:x + w]
            outside = img.copy()
            outside[y:y + h, x:x + w] = 0
            if not outside.any() and set(np.unique(inside)) == {0, 255}:
                print(f"frame #{frame.counter} shows threshold 128 in roi {ROI}")
                break
        if time.monotonic() > deadline:
            sys.exit("no thresholded frame within 5 s")
    # Back to the plain test pattern for whoever uses the cam next.
    cam.set_controls({"threshold": 0, "roi x": 0, "roi y": 0, "roi w": img.shape[1], "roi h": img.shape[0]})
    cam.streaming(False)
print("operator_controls.py: ok")
