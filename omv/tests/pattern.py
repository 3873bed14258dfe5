#!/usr/bin/env python3
"""Finds the virtual cam's grayscale test pattern in an image and says how well it matches.

The pattern: source pixel (x, y) of frame n is (x + y + n) mod 256. Shown at a whole zoom s,
every screen row steps by +1 (mod 256) at each source column boundary and nowhere else inside
the frame, and likewise down every column. The boundaries give the position and the zoom; the
frame number n is the most common (value - x - y) mod 256; the error is the circular distance
between every screen pixel of the frame area and the pattern.

  pattern.py IMAGE --width W --height H        one line of JSON; exit 1 when no frame is found
             [--mirrored]                       the frame is shown swapped left to right
  pattern.py FILE --width W --height H --exact  FILE is a saved frame (PNG/PGM/raw bytes):
                                                the pattern must match pixel for pixel
"""
import argparse
import json
import sys

import numpy as np
from PIL import Image


def gray(path, w, h, raw):
    if raw:
        b = np.fromfile(path, dtype=np.uint8)
        if b.size != w * h:
            sys.exit(f"{path}: {b.size} bytes, {w * h} expected")
        return b.reshape(h, w).astype(np.int64)
    img = Image.open(path)
    if img.mode not in ("L", "RGB", "RGBA", "P"):
        sys.exit(f"{path}: mode {img.mode}")
    return np.asarray(img.convert("L"), dtype=np.int64)


def boundaries(steps, length):
    """Indices where most lines step by exactly +1 mod 256, and the zoom they are spaced by."""
    count = (steps == 1).sum(axis=0)
    if count.max() < 8:
        return None
    idx = np.flatnonzero(count >= 0.3 * count.max())
    if idx.size < 2:
        return None
    # Keep the longest run with one spacing: the frame, not a stray edge elsewhere.
    gaps = np.diff(idx)
    s = int(np.median(gaps))
    if s < 1:
        return None
    best, start = (0, 0), 0
    for i in range(1, idx.size + 1):
        if i == idx.size or gaps[i - 1] != s:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = i
    run = idx[best[0]:best[1]]
    # Exactly the frame's boundaries: a larger frame of the same pattern does not pass.
    if run.size != length - 1:
        return None
    # The first boundary lies between source pixels 0 and 1: at screen index origin + s - 1.
    return int(run[0]) + 1 - s, s


def find(img, w, h):
    dx = (img[:, 1:] - img[:, :-1]) % 256
    dy = (img[1:, :] - img[:-1, :]) % 256
    bx = boundaries(dx, w)
    by = boundaries(dy.T, h)
    if bx is None or by is None:
        return None
    (x0, sx), (y0, sy) = bx, by
    if sx != sy or x0 < 0 or y0 < 0 or x0 + w * sx > img.shape[1] or y0 + h * sy > img.shape[0]:
        return None
    s = sx
    area = img[y0:y0 + h * s, x0:x0 + w * s]
    ys, xs = np.mgrid[0:h * s, 0:w * s]
    base = (xs // s + ys // s) % 256
    n = int(np.bincount(((area - base) % 256).ravel(), minlength=256).argmax())
    diff = np.abs(area - (base + n) % 256)
    diff = np.minimum(diff, 256 - diff)
    return {"x": x0, "y": y0, "scale": s, "n": n, "mean_error": float(diff.mean()),
            "max_error": int(diff.max()), "covered": float((diff > 16).mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--raw", action="store_true", help="the file is width*height raw bytes")
    ap.add_argument("--mirrored", action="store_true", help="look for the pattern swapped left to right")
    a = ap.parse_args()
    img = gray(a.image, a.width, a.height, a.raw)
    if a.exact:
        if img.shape != (a.height, a.width):
            sys.exit(f"{a.image}: {img.shape[1]}x{img.shape[0]}, {a.width}x{a.height} expected")
        ys, xs = np.mgrid[0:a.height, 0:a.width]
        n = int((img[0, 0]) % 256)
        wrong = int((img != (xs + ys + n) % 256).sum())
        print(json.dumps({"n": n, "wrong_pixels": wrong}))
        sys.exit(0 if wrong == 0 else 1)
    r = find(img[:, ::-1] if a.mirrored else img, a.width, a.height)
    if r is None:
        print(json.dumps({"found": False}))
        sys.exit(1)
    r["found"] = True
    print(json.dumps(r))


if __name__ == "__main__":
    main()
