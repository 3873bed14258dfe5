//! A bad cable: a cam on a real pseudo-terminal unplugged and plugged back 100 times with a
//! call in flight: every call ends typed, the host reconnects each time, and no thread or file
//! descriptor leaks. (Alone in its test binary, so the counts are this test's.)

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, Options};
use openmvproto::transport::SerialTransport;
use openmvproto_vcam::VirtualCam;

fn count_dir(path: &str) -> usize {
    std::fs::read_dir(path).unwrap().count()
}

#[test]
fn unplug_and_replug_a_hundred_times_with_a_call_in_flight() {
    let link: PathBuf = std::env::temp_dir().join(format!("omv-replug-{}", std::process::id()));
    let plug = || VirtualCam::builder().size(32, 24).spawn_pty(Some(&link)).expect("pty cam");
    let mut vcam = plug();
    let opts = Options::default().timeout(Duration::from_millis(500));
    let cam = Arc::new(Camera::connect(SerialTransport::new(link.to_string_lossy()), opts).unwrap());
    // Warm up once so lazily made threads and buffers are counted in the baseline.
    assert!(cam.version().is_ok());
    let (threads0, fds0) = (count_dir("/proc/self/task"), count_dir("/proc/self/fd"));
    for round in 0..100 {
        let c = cam.clone();
        let busy = Arc::new(AtomicBool::new(false));
        let b = busy.clone();
        let caller = thread::spawn(move || loop {
            b.store(true, Ordering::Relaxed);
            if let Err(e) = c.read("ticks", 0, 10) {
                return e;
            }
        });
        while !busy.load(Ordering::Relaxed) {
            thread::yield_now();
        }
        vcam.stop().unwrap(); // unplugged: the pty goes away under the call
        let e = caller.join().unwrap();
        assert!(e.is_disconnected() || matches!(e, openmvproto::client::Error::Io(_)), "round {round}: {e:?}");
        vcam = plug();
        let until = Instant::now() + Duration::from_secs(5);
        while let Err(e) = cam.reconnect() {
            assert!(Instant::now() < until, "round {round}: no reconnect: {e}");
            thread::yield_now();
        }
        assert_eq!(cam.read("ticks", 0, 10).unwrap().len(), 10, "round {round}");
    }
    vcam.stop().unwrap();
    let (threads, fds) = (count_dir("/proc/self/task"), count_dir("/proc/self/fd"));
    println!("replug: 100 rounds; threads {threads0} -> {threads}, fds {fds0} -> {fds}");
    assert!(fds <= fds0 + 2, "file descriptors leaked: {fds0} -> {fds}");
    assert!(threads <= threads0 + 2, "threads leaked: {threads0} -> {threads}");
}
