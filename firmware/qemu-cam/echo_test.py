#!/usr/bin/env python3
"""Host side of the qemu-cam harness (stdlib only).

    echo_test.py PORT            echo firmware: check echo, RTT, throughput
    echo_test.py PORT --bench [--end quit:N | fault]
                                 bench firmware (run-qemu.sh PORT ELF bench):
                                 ms clock vs host time, FPU, one-way speeds,
                                 then optionally end QEMU with exit N or a fault

Exits non-zero on any mismatch.
"""
import argparse
import os
import socket
import struct
import threading
import time


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(65536, n - len(buf)))
        if not chunk:
            raise SystemExit(f"connection closed after {len(buf)}/{n} bytes")
        buf += chunk
    return bytes(buf)


def rate(n, dt):
    return f"{n} B in {dt * 1000:.1f} ms = {n / dt / 1024:.1f} KiB/s"


def echo_tests(s, size):
    # Latency: one byte at a time, like a request/response protocol.
    rtts = []
    for i in range(1000):
        t = time.perf_counter()
        s.sendall(bytes([i & 0xFF]))
        assert recv_exact(s, 1) == bytes([i & 0xFF]), "echo mismatch (ping)"
        rtts.append(time.perf_counter() - t)
    rtts.sort()
    print(f"echo 1-byte RTT: median {rtts[500] * 1e6:.0f} us, "
          f"p99 {rtts[990] * 1e6:.0f} us, max {rtts[-1] * 1e6:.0f} us")

    # Throughput: a writer thread streams while we read back and compare.
    data = os.urandom(size)
    t = time.perf_counter()
    w = threading.Thread(target=s.sendall, args=(data,))
    w.start()
    back = recv_exact(s, size)
    dt = time.perf_counter() - t
    w.join()
    assert back == data, "echo mismatch (stream)"
    print(f"echo stream (each way at once): {rate(size, dt)}")


def cmd(s, c, payload=b""):
    s.sendall(c.encode() + payload)


def bench_tests(s, size, clock_s):
    cmd(s, "D")
    assert recv_exact(s, 1) == b"D", "debug print ack"

    cmd(s, "P")
    got = recv_exact(s, 4)
    a, b = 1.5, 2.25
    f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
    want = struct.pack("<f", f32(f32(a * b) + f32(a / b)))
    assert got == want, f"FPU result {got.hex()} != {want.hex()}"
    print(f"fpu: {struct.unpack('<f', got)[0]} ok")

    def guest_clock():
        cmd(s, "T")
        return struct.unpack("<II", recv_exact(s, 8))

    # Idle guest (sleeping in WFI) vs busy guest (streaming 'S' data).
    for label, busy in (("idle", False), ("busy", True)):
        (m0, k0), h0 = guest_clock(), time.monotonic()
        if busy:
            n = 0
            while time.monotonic() - h0 < clock_s:
                cmd(s, "S", struct.pack("<I", 65536))
                recv_exact(s, 65536)
                n += 65536
        else:
            time.sleep(clock_s)
        (m1, k1), h1 = guest_clock(), time.monotonic()
        gd, kd, hd = m1 - m0, k1 - k0, (h1 - h0) * 1000
        print(f"clock ({label}): host {hd:.1f} ms, guest clock_ms {gd} "
              f"(x{gd / hd:.4f}), SysTick interrupts {kd} (x{kd / hd:.4f})")
        assert abs(gd - hd) < max(20, 0.01 * hd), "ms clock does not track host time"

    t = time.perf_counter()
    cmd(s, "S", struct.pack("<I", size))
    got = recv_exact(s, size)
    dt = time.perf_counter() - t
    assert got == bytes(i & 0xFF for i in range(size)), "source pattern"
    print(f"guest->host: {rate(size, dt)}")

    data = os.urandom(size)
    t = time.perf_counter()
    cmd(s, "R", struct.pack("<I", size) + data)
    total = struct.unpack("<I", recv_exact(s, 4))[0]
    dt = time.perf_counter() - t
    assert total == sum(data) & 0xFFFFFFFF, "sink checksum"
    print(f"host->guest: {rate(size, dt)}")

    # Overfill the 4 KiB RX ring while the guest is not reading: the UART
    # must stall (back-pressure into the socket), not drop bytes.
    n = 12 * 1024
    data = os.urandom(n)
    cmd(s, "W", struct.pack("<I", 1500))
    cmd(s, "R", struct.pack("<I", n) + data)
    total = struct.unpack("<I", recv_exact(s, 4))[0]
    assert total == sum(data) & 0xFFFFFFFF, "data lost when the RX ring filled"
    print(f"RX ring overfill ({n} B sent during a 1.5 s guest stall): no loss")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--size", type=int, default=64 * 1024)
    ap.add_argument("--clock", type=float, default=2.0, help="clock test seconds")
    ap.add_argument("--end", help="bench only: quit:N or fault")
    args = ap.parse_args()

    t = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", args.port), timeout=30)
    # Our side too: never hold back small writes.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.bench:
        cmd(s, "T")   # first answer also measures boot-to-first-reply
        recv_exact(s, 8)
        print(f"connect + first reply: {(time.perf_counter() - t) * 1000:.1f} ms")
        bench_tests(s, args.size, args.clock)
        if args.end == "fault":
            cmd(s, "F")
        elif args.end:
            cmd(s, "Q", bytes([int(args.end.split(":")[1])]))
    else:
        s.sendall(b"!")
        assert recv_exact(s, 1) == b"!"
        print(f"connect + first echo: {(time.perf_counter() - t) * 1000:.1f} ms")
        echo_tests(s, args.size)
    s.close()
    print("OK")


if __name__ == "__main__":
    main()
