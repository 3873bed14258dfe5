//! The virtual cam's `controls` channel through this crate's client: every widget type read
//! and (where it takes input) set and read back, and sets that visibly change the frames.

use std::time::{Duration, Instant};

use openmvproto::client::{Camera, Error, Frame, Options};
use openmvproto::controls::{Error as ControlsError, Value, Widget, WidgetKind};
use openmvproto::transport::memory;
use openmvproto_vcam::{FrameFormat, VirtualCam};

const W: u32 = 32;
const H: u32 = 24;

fn cam(format: FrameFormat) -> (Camera, openmvproto_vcam::VcamHandle) {
    let (host, dev) = memory::pair();
    let (rx, tx) = dev.split();
    let vcam = VirtualCam::builder().size(W, H).format(format).fps(100.0).spawn(Box::new(rx), Box::new(tx)).unwrap();
    (Camera::connect(host, Options::default()).unwrap(), vcam)
}

/// Frames until `pred` holds, or panics after a deadline.
fn frame_where(cam: &Camera, what: &str, pred: impl Fn(&Frame) -> bool) -> Frame {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Some(f) = cam.read_frame().unwrap() {
            if pred(&f) {
                return f;
            }
        }
    }
    panic!("no frame with {what} within 10 s");
}

fn px(f: &Frame, x: u32, y: u32) -> u8 {
    f.data[(y * f.width + x) as usize]
}

/// The test pattern rises by one per column; mirrored, it falls by one.
fn rising(f: &Frame) -> bool {
    (0..f.height).all(|y| (0..f.width - 1).all(|x| px(f, x + 1, y) == px(f, x, y).wrapping_add(1)))
}

fn falling(f: &Frame) -> bool {
    (0..f.height).all(|y| (0..f.width - 1).all(|x| px(f, x + 1, y) == px(f, x, y).wrapping_sub(1)))
}

#[test]
fn every_widget_round_trips_through_the_cam() {
    let (cam, _vcam) = cam(FrameFormat::Grayscale);
    assert!(cam.has_channel("controls").unwrap());
    let controls = cam.controls("controls").unwrap();
    let kinds: std::collections::HashSet<_> = controls.iter().filter_map(|c| c.kind()).collect();
    assert_eq!(kinds.len(), WidgetKind::ALL.len(), "{:?}", controls.iter().map(|c| &c.name).collect::<Vec<_>>());

    let sets: [(&str, Value); 9] = [
        ("threshold", Value::Int(77)),
        ("roi x", Value::Int(3)),
        ("roi w", Value::Int(20)),
        ("mirror", Value::Bool(true)),
        ("pattern", Value::Text("checkers".into())),
        ("shade", Value::Int(1)),
        ("note", Value::Text("h\u{e9}llo".into())),
        ("roi y", Value::Float(2.0)),
        ("roi h", Value::Int(10)),
    ];
    for (name, v) in &sets {
        cam.set_control("controls", name, v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let now = cam.controls("controls").unwrap();
    let get = |n: &str| now.iter().find(|c| c.name == n).unwrap().value.clone();
    assert_eq!(get("threshold"), Value::Int(77));
    assert_eq!(get("roi x"), Value::Int(3));
    assert_eq!(get("roi y"), Value::Int(2));
    assert_eq!(get("mirror"), Value::Bool(true));
    assert_eq!(get("pattern"), Value::Text("checkers".into()));
    assert_eq!(get("shade"), Value::Text("inverted".into()));
    assert_eq!(get("note"), Value::Text("h\u{e9}llo".into()));
    assert_eq!(cam.control("controls", "roi h").unwrap().value, Value::Int(10));

    // The push button resets the region (its on_write), and pops back up.
    cam.set_control("controls", "reset roi", true).unwrap();
    assert_eq!(cam.control("controls", "roi w").unwrap().value, Value::Int(W.into()));
    assert_eq!(cam.control("controls", "roi x").unwrap().value, Value::Int(0));
    assert_eq!(cam.control("controls", "reset roi").unwrap().value, Value::Bool(false));

    // Typed refusals on the host, before anything is sent.
    let refused = |name: &str, v: Value| match cam.set_control("controls", name, v) {
        Err(Error::Controls(e)) => e,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(refused("threshold", Value::Int(300)), ControlsError::OutOfRange);
    assert_eq!(refused("pattern", Value::Text("plaid".into())), ControlsError::NotAnOption);
    assert_eq!(refused("mirror", Value::Int(1)), ControlsError::WrongType { expected: "bool" });
    assert_eq!(refused("fps", Value::Float(1.0)), ControlsError::ReadOnly);
    assert_eq!(refused("nope", Value::Int(1)), ControlsError::NoSuchControl);
    // The cam refuses on its own what an unchecked write sends it.
    cam.set_controls_unchecked("controls", &[("fps", &Value::Float(9.0)), ("threshold", &Value::Int(999))]).unwrap();
    assert_eq!(cam.control("controls", "threshold").unwrap().value, Value::Int(77));

    // Live values: fps, status, waveform and depth follow the frames.
    cam.streaming(true, false, None).unwrap();
    frame_where(&cam, "any data", |_| true);
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let c = cam.controls("controls").unwrap();
        let by = |n: &str| c.iter().find(|x| x.name == n).unwrap().clone();
        let fps = by("fps").value.as_f64().unwrap();
        let wave = by("brightness");
        let Widget::Waveform(shape) = &wave.widget else { panic!("brightness is no waveform") };
        let depth = by("depth");
        if fps > 0.0 && shape.samples >= 2 {
            assert_eq!(wave.value.as_bytes().unwrap().len(), shape.samples as usize * 2);
            assert_eq!(shape.sample_rate(), Some(100.0));
            assert_eq!(depth.value.as_bytes().unwrap().len(), 16 * 12 * 2);
            assert!(by("status").value.as_str().unwrap().ends_with(": h\u{e9}llo"), "{:?}", by("status").value);
            break;
        }
        assert!(Instant::now() < end, "live values never arrived: fps {fps}, {} samples", shape.samples);
    }
    cam.streaming(false, false, None).unwrap();
}

#[test]
fn sets_from_the_host_change_the_frames() {
    let (cam, _vcam) = cam(FrameFormat::Grayscale);
    cam.streaming(true, false, None).unwrap();
    let f = frame_where(&cam, "data", |_| true);
    assert!(rising(&f), "defaults leave the test pattern as it is");
    assert!(!falling(&f));
    assert!(!f.data.iter().all(|&p| p == 0 || p == 255), "the gradient has grey pixels");

    cam.set_control("controls", "mirror", true).unwrap();
    frame_where(&cam, "mirrored pixels", falling);

    cam.set_control("controls", "threshold", 128).unwrap();
    let black_and_white = |f: &Frame| f.data.iter().all(|&p| p == 0 || p == 255);
    frame_where(&cam, "only black and white", black_and_white);

    cam.set_controls(
        "controls",
        &[
            ("threshold", Value::Int(0)),
            ("mirror", Value::Bool(false)),
            ("pattern", Value::Text("solid".into())),
            ("roi x", Value::Int(4)),
            ("roi y", Value::Int(2)),
            ("roi w", Value::Int(8)),
            ("roi h", Value::Int(6)),
        ],
    )
    .unwrap();
    let inside = |x: u32, y: u32| (4..12).contains(&x) && (2..8).contains(&y);
    frame_where(&cam, "a solid region of interest", |f| {
        (0..H).all(|y| (0..W).all(|x| px(f, x, y) == if inside(x, y) { 128 } else { 0 }))
    });

    cam.set_control("controls", "shade", "inverted").unwrap();
    frame_where(&cam, "an inverted region", |f| {
        (0..H).all(|y| (0..W).all(|x| px(f, x, y) == if inside(x, y) { 127 } else { 0 }))
    });
    cam.streaming(false, false, None).unwrap();
}

#[test]
fn rgb565_frames_follow_the_controls_too() {
    let (cam, _vcam) = cam(FrameFormat::Rgb565);
    cam.streaming(true, false, None).unwrap();
    cam.set_control("controls", "pattern", "solid").unwrap();
    // Mid grey in RGB565: r = 128 >> 3, g = 128 >> 2, b = 128 >> 3.
    let grey = ((16u16 << 11) | (32 << 5) | 16).to_le_bytes();
    frame_where(&cam, "solid grey", |f| f.data.chunks_exact(2).all(|p| p == grey));
    cam.streaming(false, false, None).unwrap();
}
