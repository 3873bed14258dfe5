"""host_tour.py HOST:PORT: the host side in Python (package `openmvproto`, bindings/python):
connect, list the channels, push a command, pull a frame, count the cam's events."""

import sys
import threading

# ANCHOR: open
from openmvproto import Camera  # the openmv 1.0.7 API: from openmv.camera import Camera

addr = sys.argv[1]
with Camera(tcp=addr) as cam:  # or Camera("/dev/ttyACM0"), Camera(serial_number="...")
    print("versions", cam.version())
    # ANCHOR_END: open

    # ANCHOR: list
    for cid, ch in sorted(cam.channels_by_id.items()):
        print(f"channel {cid:2} {ch['name']:14} flags {ch['flags']:#04x}")
    # ANCHOR_END: list

    # ANCHOR: events
    notified = threading.Event()

    def on_event(ev):  # runs on the client's event thread
        if ev.kind == "device" and ev.channel == 3 and ev.code == 0xFFFF:  # stream NOTIFY
            notified.set()

    cam.subscribe(on_event)
    # ANCHOR_END: events

    # ANCHOR: push
    cam.channel_write("config", b"threshold=60\n")
    back = cam.channel_read("config")
    print("config holds", back)
    # ANCHOR_END: push
    assert back == b"threshold=60\n", back

    # ANCHOR: pull
    cam.streaming(True)
    frame = cam.wait_frame(timeout=10.0)  # a Frame; cam.read_frame() gives openmv's dict
    pixels = frame.array()  # numpy, H x W (grayscale) or H x W x 3
    print(f"frame #{frame.counter}: {frame.width}x{frame.height} {frame.format_name},"
          f" numpy {pixels.shape}, mean {pixels.mean():.1f}")
    # ANCHOR_END: pull
    assert pixels.shape[:2] == (frame.height, frame.width)
    assert notified.wait(5.0), "no stream NOTIFY event"
    cam.streaming(False)
print("host_tour.py: ok")
