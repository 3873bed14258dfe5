"""operator_config.py HOST:PORT: worked example 2 in Python. An operator changes a threshold and a
region of interest at run time through the cam's `config` channel and checks that the cam's
frames follow (the cam: rust_cam of the book, which reads the line `threshold=T roi=x,y,w,h`)."""

import sys
import time

import numpy as np

from openmvproto import Camera


# ANCHOR: expected
def expected(n, height, width, threshold, roi):
    """Frame n as the cam makes it: (x + y + n) % 256, thresholded inside the region."""
    y, x = np.mgrid[0:height, 0:width]
    img = ((x + y + n) % 256).astype(np.uint8)
    rx, ry, rw, rh = roi
    inside = img[ry:ry + rh, rx:rx + rw]
    img[ry:ry + rh, rx:rx + rw] = np.where(inside >= threshold, 255, 0)
    return img
# ANCHOR_END: expected


with Camera(tcp=sys.argv[1]) as cam:
    cam.streaming(True)
    # ANCHOR: tune
    for step, threshold in enumerate([64, 128, 192]):
        roi = (8 + 8 * step, 8, 32, 24)
        cam.channel_write("config", f"threshold={threshold} roi={','.join(map(str, roi))}\n".encode())
        deadline = time.monotonic() + 5.0
        while True:  # the cam applies it to the next frame it makes
            frame = cam.wait_frame(timeout=1.0)
            img = frame.array() if frame is not None else None
            if img is not None and np.array_equal(img, expected(int(img[0, 0]), *img.shape, threshold, roi)):
                print(f"frame #{frame.counter} shows threshold={threshold} roi={roi}")
                break
            if time.monotonic() > deadline:
                sys.exit(f"no frame showed threshold={threshold} roi={roi} within 5 s")
    # ANCHOR_END: tune
    cam.streaming(False)
print("operator_config.py: ok")
