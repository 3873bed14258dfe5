"""Writes the golden controls blobs of tests/controls.rs with Python cbor2, an encoder
independent of ours: the field maps the OpenMV firmware's CBORChannel writes (integer keys in
its insertion order, defaults where it fills them in), and update records a host writes.

    python tests/controls_golden.py OUT_DIR
"""
import sys
from pathlib import Path

import cbor2

N, U, V, VS, T, UT, VD = 0, 1, 2, 3, 6, 7, 8
W, H, MIN, MAX = -20, -21, -23, -24
W_TYPE, W_MIN, W_MAX, W_STEP, W_OPTS = -30, -31, -32, -33, -34


def field(name, kind, *pairs):
    m = {N: name, W_TYPE: kind}
    for k, v in pairs:
        m[k] = v
    return m


def depth_bytes(w, h):
    return b"".join(((i * 37) % 1001).to_bytes(2, "little") for i in range(w * h))


def wave_bytes(n):
    return b"".join((((i * 7919) % 65536) - 32768).to_bytes(2, "little", signed=True) for i in range(n))


FIELDS = {
    "label_float": field("temp", "label", (V, 21.5), (U, "Cel")),
    "label_int": field("count", "label", (V, 0)),
    "label_list": field("roi", "label", (V, [10, 20, 30, 40])),
    "text": field("status", "text", (V, "ok")),
    "toggle": field("mirror", "toggle", (V, False)),
    "pushbutton": field("snap", "pushbutton", (V, True)),
    "slider": field("threshold", "slider", (V, 128), (W_MIN, 0), (W_MAX, 255), (W_STEP, 1)),
    "slider_float": field("gain", "slider", (V, 0.5), (W_MIN, 0.0), (W_MAX, 1.0), (W_STEP, 0.05), (U, "%")),
    "spinbox": field("offset", "spinbox", (V, -5), (W_MIN, -100), (W_MAX, 100), (W_STEP, 5)),
    "select": field("pattern", "select", (V, "checkers"), (W_OPTS, ["gradient", "checkers", "solid"])),
    "radio": field("mode", "radio", (V, "b"), (W_OPTS, ["a", "b"])),
    "lineedit": field("note", "lineedit", (V, "h\u00e9llo \u2713")),
    "depth": field("depth", "depth", (VD, depth_bytes(4, 3)), (W, 4), (H, 3), (MIN, 0), (MAX, 1000)),
    "waveform": field(
        "accel", "waveform", (VD, wave_bytes(15)), (W, 5), (H, 3), (MIN, -32768), (MAX, 32767), (U, "g"),
        (UT, 0.01), (VS, "h"), (W_OPTS, ["x", "y", "z"]), (T, 123456),
    ),
    "waveform_default": field("wave", "waveform", (VD, b""), (W, 0), (H, 1), (MIN, 0), (MAX, 65535)),
}

UPDATES = [
    {N: "threshold", V: 100},
    {N: "mirror", V: True},
    {N: "pattern", V: "solid"},
    {N: "gain", V: 0.25},
    {N: "missing", V: 1},
    {N: "novalue"},
    {V: 5},
    {N: "note", V: None},
    {N: 7, V: 1},
    {N: "note", V: "hi", 99: [1, {"x": 2}]},
]


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, f in FIELDS.items():
        (out / f"{name}.cbor").write_bytes(cbor2.dumps([f]))
    (out / "all.cbor").write_bytes(cbor2.dumps(list(FIELDS.values())))
    (out / "updates.cbor").write_bytes(cbor2.dumps(UPDATES))


if __name__ == "__main__":
    main()
