#!/usr/bin/env python3
"""The wire between cam A and cam B in the cam-to-cam test.

Connects to cam A's UART socket (QEMU chardev, already listening), starts cam B's QEMU
(whose UART socket listens on --b-port) and connects to it, then forwards bytes both ways,
dropping or corrupting each byte with the given probabilities (seeded). With
--reset-after N, cam B's QEMU is killed once N bytes have come from it and started again
(a cam reset mid-transfer); bytes cam A sends meanwhile are lost, as on a real wire.

Ends when cam A's socket closes (cam A's QEMU exited) or at --deadline; kills cam B's QEMU
(its own child) on the way out. Prints one summary line of counts."""
import argparse
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import time


def connect(port, deadline, what, proc=None):
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"proxy: {what} exited with {proc.returncode} before listening")
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
            return s
        except OSError:
            time.sleep(0.02)
    sys.exit(f"proxy: could not connect to {what} on port {port}")


class CamB:
    """Cam B's QEMU process, started and restarted by the proxy."""

    def __init__(self, cmd, log):
        self.cmd, self.log, self.proc, self.starts = cmd, log, None, 0

    def start(self, deadline, port):
        self.starts += 1
        out = open(f"{self.log}.{self.starts}", "wb")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        return connect(port, deadline, "cam B", self.proc)

    def stop(self):
        # TERM, which `timeout` passes on to QEMU; KILL only if that is ignored.
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a-port", type=int, required=True)
    ap.add_argument("--b-port", type=int, required=True)
    ap.add_argument("--b-log", required=True, help="cam B's QEMU output, one file per start (.1, .2)")
    ap.add_argument("--drop", type=float, default=0.0, help="probability per byte of dropping it")
    ap.add_argument("--flip", type=float, default=0.0, help="probability per byte of flipping one bit")
    ap.add_argument("--reset-after", type=int, default=0, help="kill and restart cam B after N bytes from it")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deadline", type=float, default=150.0, help="seconds")
    ap.add_argument("b_cmd", nargs=argparse.REMAINDER, help="-- cam B's QEMU command line")
    args = ap.parse_args()
    # A TERM (the harness's timeout) unwinds through `finally`, which stops cam B.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("proxy: terminated"))
    cmd = [c for c in args.b_cmd if c != "--"]
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.deadline
    cam_b = CamB(cmd, args.b_log)
    stats = dict(a_to_b=0, b_to_a=0, dropped=0, flipped=0, lost_in_reset=0, resets=0)
    a = connect(args.a_port, deadline, "cam A")
    b = cam_b.start(deadline, args.b_port)
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, "a")
    sel.register(b, selectors.EVENT_READ, "b")
    reset_pending = args.reset_after > 0
    a_open = True

    def mangle(data):
        out = bytearray()
        for byte in data:
            if args.drop and rng.random() < args.drop:
                stats["dropped"] += 1
                continue
            if args.flip and rng.random() < args.flip:
                byte ^= 1 << rng.randrange(8)
                stats["flipped"] += 1
            out.append(byte)
        return bytes(out)

    try:
        while a_open and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                src = key.data
                sock = a if src == "a" else b
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    if src == "a":
                        a_open = False
                        break
                    sys.exit("proxy: cam B closed its UART unexpectedly")
                if src == "a":
                    stats["a_to_b"] += len(data)
                    b.setblocking(True)
                    b.sendall(mangle(data))
                    b.setblocking(False)
                    continue
                stats["b_to_a"] += len(data)
                a.setblocking(True)
                a.sendall(mangle(data))
                a.setblocking(False)
                if reset_pending and stats["b_to_a"] >= args.reset_after:
                    reset_pending = False
                    stats["resets"] += 1
                    sel.unregister(b)
                    b.close()
                    cam_b.stop()
                    # Cam A keeps sending while cam B boots again: those bytes are lost.
                    t_down = time.monotonic()
                    while time.monotonic() - t_down < 0.3:
                        try:
                            stats["lost_in_reset"] += len(a.recv(65536))
                        except BlockingIOError:
                            time.sleep(0.01)
                    b = cam_b.start(deadline, args.b_port)
                    sel.register(b, selectors.EVENT_READ, "b")
                    break
        timed_out = a_open
    finally:
        cam_b.stop()
    print("proxy: " + " ".join(f"{k}={v}" for k, v in stats.items()) + f" cam_b_starts={cam_b.starts}")
    if timed_out:
        sys.exit("proxy: deadline reached with cam A still running")


if __name__ == "__main__":
    main()
