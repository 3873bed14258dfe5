"""live_view_tk.py HOST:PORT [--exit-after N]: worked example 1 in Python, a live view in a
Tk window. A thread pulls frames (the client releases the GIL while it waits); the Tk loop
only draws the newest one. numpy does the per-frame work; Tk shows it as a PPM image."""

import sys
import threading
import tkinter as tk

from openmvproto import Camera

# ANCHOR: model
class Latest:
    """The newest frame as PPM bytes, handed from the frame thread to the UI."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ppm = None
        self.counter = 0


def pull_frames(cam, latest, stop):
    cam.streaming(True)
    while not stop.is_set():
        frame = cam.wait_frame(timeout=0.5)
        if frame is None:
            continue
        rgb = frame.rgb_array()  # numpy H x W x 3, whatever the cam's pixel format
        ppm = b"P6 %d %d 255\n" % (rgb.shape[1], rgb.shape[0]) + rgb.tobytes()
        with latest.lock:
            latest.ppm, latest.counter = ppm, frame.counter
    cam.streaming(False)
# ANCHOR_END: model


def main():
    addr = sys.argv[1]
    exit_after = int(sys.argv[3]) if len(sys.argv) == 4 and sys.argv[2] == "--exit-after" else None
    # ANCHOR: view
    with Camera(tcp=addr) as cam:
        latest, stop = Latest(), threading.Event()
        puller = threading.Thread(target=pull_frames, args=(cam, latest, stop), daemon=True)
        root = tk.Tk()
        root.title("live view")
        label = tk.Label(root)
        label.pack()
        shown = [0]

        def redraw():
            with latest.lock:
                ppm, counter, latest.ppm = latest.ppm, latest.counter, None
            if ppm is not None:
                label.image = tk.PhotoImage(data=ppm, format="PPM")  # keep a reference
                label.configure(image=label.image)
                shown[0] += 1
                root.title(f"live view: frame #{counter}")
            if exit_after is not None and shown[0] >= exit_after:
                root.destroy()
                return
            root.after(10, redraw)  # about 100 redraws a second at most

        puller.start()
        root.after(10, redraw)
        root.mainloop()
        stop.set()
        puller.join(timeout=5.0)
    # ANCHOR_END: view
    print(f"live_view_tk.py: showed {shown[0]} frames")
    if exit_after is not None and shown[0] < exit_after:
        sys.exit(1)


main()
