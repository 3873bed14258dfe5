#!/usr/bin/env python3
"""Decode-and-verify throughput of the real `openmv` 1.0.7 host (its Transport state machine)
over the packets in the file given as argument (written by benches/framing.rs). Prints one
line: bytes per second. Run with the venv's python."""

import sys
import time

from openmv.transport import Transport


def main():
    wire = open(sys.argv[1], "rb").read()
    t = Transport(None, crc=True, seq=False, max_payload=4082, timeout=1.0, event_callback=None)
    chunk = 1 << 20  # the package's ring buffer holds 4 MiB
    payload = 0
    start = time.perf_counter()
    for i in range(0, len(wire), chunk):
        t.buf.extend(wire[i:i + chunk])
        while (p := t._process()) is not None:
            payload += p["length"]
    elapsed = time.perf_counter() - start
    if payload == 0:
        sys.exit("no packet decoded")
    print(len(wire) / elapsed)


if __name__ == "__main__":
    main()
