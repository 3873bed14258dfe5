"""check_png.py FILE.png [R,G,B]: a screenshot is a real picture, not an empty page.

Decodes the PNG with the standard library (8-bit RGB or RGBA, all five row filters) and
requires at least 64 distinct colours; with R,G,B, also at least 500 pixels of exactly that
colour (a figure's fill colour: proof the figure was drawn). Prints size and counts."""

import struct
import sys
import zlib


def decode(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, width = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    if width is None:
        raise ValueError("no IHDR chunk")
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main(path, colour=None):
    try:
        width, height, bpp, rows = decode(path)
    except (OSError, ValueError, zlib.error) as e:
        print(f"{path}: {e}")
        return 1
    counts = {}
    for row in rows:
        for i in range(0, len(row), bpp):
            px = row[i:i + 3]
            counts[px] = counts.get(px, 0) + 1
    want = bytes(int(v) for v in colour.split(",")) if colour else None
    hits = counts.get(want, 0) if want else None
    print(f"{path}: {width}x{height}, {len(counts)} colours" + (f", {hits} pixels of {colour}" if want else ""))
    if len(counts) < 64:
        print(f"{path}: looks empty")
        return 1
    if want is not None and hits < 500:
        print(f"{path}: the figure's colour {colour} is missing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
