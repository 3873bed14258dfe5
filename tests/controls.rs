//! Typed controls: golden blobs from Python cbor2 (tests/controls_golden.py, the maps the
//! firmware's CBORChannel writes) decoded exactly and re-encoded byte for byte; the device
//! channel's read / write cycle; hostile blobs refused with typed errors.

use openmvproto::channels::{Channel, ControlsChannel, ControlsHandler, Field};
use openmvproto::controls::{
    decode_controls, encode_controls, encode_updates_vec, limits, Control, ControlRef, Controls, DecodeError,
    DepthShape, Error, ListRef, Number, Range, StrList, Unsupported, Updates, Value, ValueRef, WaveformRef, Widget,
    WidgetKind, WidgetRef,
};
use openmvproto::framing::Status;

fn golden(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/vectors/controls/{name}.cbor", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn depth_bytes(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| (((i * 37) % 1001) as u16).to_le_bytes()).collect()
}

fn wave_bytes(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| ((((i * 7919) % 65536) as i64 - 32768) as i16).to_le_bytes()).collect()
}

const PATTERNS: [&str; 3] = ["gradient", "checkers", "solid"];
const MODES: [&str; 2] = ["a", "b"];
const XYZ: [&str; 3] = ["x", "y", "z"];
const ROI: [ValueRef<'static>; 4] = [ValueRef::Int(10), ValueRef::Int(20), ValueRef::Int(30), ValueRef::Int(40)];

/// What each golden file must decode to, in the order of tests/controls_golden.py.
fn expected<'a>(depth: &'a [u8], wave: &'a [u8]) -> Vec<(&'static str, ControlRef<'a>)> {
    let i = Number::Int;
    let c = |name, widget, value, unit| ControlRef { name, widget, value, unit };
    vec![
        ("label_float", c("temp", WidgetRef::Label, ValueRef::Float(21.5), Some("Cel"))),
        ("label_int", c("count", WidgetRef::Label, ValueRef::Int(0), None)),
        ("label_list", c("roi", WidgetRef::Label, ValueRef::List(ListRef::Slice(&ROI)), None)),
        ("text", c("status", WidgetRef::Text, ValueRef::Text("ok"), None)),
        ("toggle", c("mirror", WidgetRef::Toggle, ValueRef::Bool(false), None)),
        ("pushbutton", c("snap", WidgetRef::PushButton, ValueRef::Bool(true), None)),
        (
            "slider",
            c("threshold", WidgetRef::Slider(Range { min: i(0), max: i(255), step: i(1) }), ValueRef::Int(128), None),
        ),
        (
            "slider_float",
            c(
                "gain",
                WidgetRef::Slider(Range {
                    min: Number::Float(0.0),
                    max: Number::Float(1.0),
                    step: Number::Float(0.05),
                }),
                ValueRef::Float(0.5),
                Some("%"),
            ),
        ),
        (
            "spinbox",
            c("offset", WidgetRef::Spinbox(Range { min: i(-100), max: i(100), step: i(5) }), ValueRef::Int(-5), None),
        ),
        ("select", c("pattern", WidgetRef::Select(StrList::Slice(&PATTERNS)), ValueRef::Text("checkers"), None)),
        ("radio", c("mode", WidgetRef::Radio(StrList::Slice(&MODES)), ValueRef::Text("b"), None)),
        ("lineedit", c("note", WidgetRef::LineEdit, ValueRef::Text("h\u{e9}llo \u{2713}"), None)),
        (
            "depth",
            c(
                "depth",
                WidgetRef::Depth(DepthShape { width: 4, height: 3, min: i(0), max: i(1000) }),
                ValueRef::Bytes(depth),
                None,
            ),
        ),
        (
            "waveform",
            c(
                "accel",
                WidgetRef::Waveform(WaveformRef {
                    samples: 5,
                    series: 3,
                    min: i(-32768),
                    max: i(32767),
                    typecode: Some("h"),
                    sample_period: Some(0.01),
                    series_names: Some(StrList::Slice(&XYZ)),
                    time_us: Some(123456),
                }),
                ValueRef::Bytes(wave),
                Some("g"),
            ),
        ),
        (
            "waveform_default",
            c(
                "wave",
                WidgetRef::Waveform(WaveformRef {
                    samples: 0,
                    series: 1,
                    min: i(0),
                    max: i(65535),
                    typecode: None,
                    sample_period: None,
                    series_names: None,
                    time_us: None,
                }),
                ValueRef::Bytes(&[]),
                None,
            ),
        ),
    ]
}

#[test]
fn golden_blobs_decode_exactly_and_encode_to_the_same_bytes() {
    let (depth, wave) = (depth_bytes(12), wave_bytes(15));
    let want = expected(&depth, &wave);
    let mut kinds = std::collections::HashSet::new();
    for (file, control) in &want {
        let blob = golden(file);
        let got = Controls::parse(&blob).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got.len(), 1, "{file}");
        let c = got.iter().next().unwrap();
        assert_eq!(&c, control, "{file}");
        kinds.insert(c.widget.kind().unwrap());
        // Our encoder writes what the firmware (and cbor2) writes.
        let mut buf = vec![0u8; blob.len()];
        assert_eq!(encode_controls(&mut buf, &[*control]), Ok(blob.len()), "{file}");
        assert_eq!(buf, blob, "{file}: re-encoded bytes differ");
        assert_eq!(
            encode_controls(&mut buf[..blob.len() - 1], &[*control]),
            Err(openmvproto::controls::EncodeError::BufferFull)
        );
    }
    assert_eq!(kinds.len(), WidgetKind::ALL.len(), "every widget type has a golden blob");

    let all = golden("all");
    let parsed = Controls::parse(&all).unwrap();
    let got: Vec<ControlRef<'_>> = parsed.iter().collect();
    assert_eq!(got, want.iter().map(|(_, c)| *c).collect::<Vec<_>>());
    let owned = decode_controls(&all).unwrap();
    assert_eq!(owned.len(), want.len());
    assert_eq!(
        owned[12].widget,
        Widget::Depth(DepthShape { width: 4, height: 3, min: Number::Int(0), max: Number::Int(1000) })
    );
    assert_eq!(owned[13].value, Value::Bytes(wave.clone()));
    let Widget::Waveform(w) = &owned[13].widget else { panic!("not a waveform") };
    assert_eq!(w.sample_rate(), Some(100.0));
    assert_eq!(w.samples_f64(&wave).unwrap()[1], f64::from((7919 - 32768) as i16));
    assert_eq!(owned[2].value, Value::List(vec![Value::Int(10), Value::Int(20), Value::Int(30), Value::Int(40)]));
}

#[test]
fn golden_updates_skip_what_the_firmware_skips() {
    let blob = golden("updates");
    let u = Updates::parse(&blob).unwrap();
    assert_eq!(u.records(), 10);
    let got: Vec<(&str, ValueRef<'_>)> = u.iter().map(|u| (u.name, u.value)).collect();
    assert_eq!(
        got,
        [
            ("threshold", ValueRef::Int(100)),
            ("mirror", ValueRef::Bool(true)),
            ("pattern", ValueRef::Text("solid")),
            ("gain", ValueRef::Float(0.25)),
            ("missing", ValueRef::Int(1)),
            ("note", ValueRef::Text("hi")),
        ]
    );
}

#[test]
fn host_updates_encode_as_name_value_records() {
    let blob = encode_updates_vec(&[("threshold", &Value::Int(100)), ("mirror", &Value::Bool(true))]).unwrap();
    // [{0: "threshold", 2: 100}, {0: "mirror", 2: true}], as cbor2 writes it.
    let mut want = vec![0x82, 0xa2, 0x00, 0x69];
    want.extend_from_slice(b"threshold");
    want.extend_from_slice(&[0x02, 0x18, 0x64, 0xa2, 0x00, 0x66]);
    want.extend_from_slice(b"mirror");
    want.extend_from_slice(&[0x02, 0xf5]);
    assert_eq!(blob, want);
    let nested = Value::List(vec![Value::List(vec![Value::List(vec![])])]);
    assert!(encode_updates_vec(&[("x", &nested)]).is_err(), "lists nest at most 2 deep");
}

fn slider() -> Control {
    Control {
        name: "t".into(),
        widget: Widget::Slider(Range { min: Number::Int(0), max: Number::Int(255), step: Number::Int(1) }),
        value: Value::Int(0),
        unit: None,
    }
}

#[test]
fn checks_before_a_set_are_typed() {
    let s = slider();
    assert_eq!(s.check(Value::Int(10)), Ok(Value::Int(10)));
    assert_eq!(s.check(Value::Float(12.0)), Ok(Value::Int(12)));
    assert_eq!(s.check(Value::Float(12.5)), Err(Error::WrongType { expected: "integer" }));
    assert_eq!(s.check(Value::Int(256)), Err(Error::OutOfRange));
    assert_eq!(s.check(Value::Text("1".into())), Err(Error::WrongType { expected: "number" }));
    let sel =
        Control { widget: Widget::Select(vec!["a".into(), "b".into()]), value: Value::Text("a".into()), ..slider() };
    assert_eq!(sel.check(Value::Int(1)), Ok(Value::Text("b".into())));
    assert_eq!(sel.check(Value::Text("c".into())), Err(Error::NotAnOption));
    let label = Control { widget: Widget::Label, ..slider() };
    assert_eq!(label.check(Value::Int(1)), Err(Error::ReadOnly));
    let toggle = Control { widget: Widget::Toggle, ..slider() };
    assert_eq!(toggle.check(Value::Int(1)), Err(Error::WrongType { expected: "bool" }));
}

#[test]
fn a_float_range_refuses_nan_and_infinity_as_out_of_range() {
    let range = Range { min: Number::Float(0.0), max: Number::Float(1.0), step: Number::Float(0.1) };
    let host = Control { widget: Widget::Slider(range), value: Value::Float(0.5), ..slider() };
    let mut cam = Field::slider("t", range, Number::Float(0.5));
    for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(host.check(Value::Float(f)), Err(Error::OutOfRange), "{f}");
        assert_eq!(cam.accept(&ValueRef::Float(f)), Err(Error::OutOfRange), "{f}");
    }
    assert_eq!(cam.accept(&ValueRef::Float(0.25)), Ok(true));
    assert_eq!(cam.as_number(), Some(Number::Float(0.25)));
    // An integer range still names the type a fraction lacks.
    let mut int =
        Field::slider("t", Range { min: Number::Int(0), max: Number::Int(9), step: Number::Int(1) }, Number::Int(0));
    assert_eq!(int.accept(&ValueRef::Float(f64::NAN)), Err(Error::WrongType { expected: "integer" }));
}

// ---- hostile blobs ----

fn err(blob: &[u8]) -> DecodeError {
    let a = Controls::parse(blob).expect_err("hostile blob accepted");
    // The owned decoder and the update decoder refuse it too, without panicking.
    assert_eq!(decode_controls(blob).unwrap_err(), a);
    let _ = Updates::parse(blob);
    a
}

fn field_with(extra: &[u8], n_extra: u8) -> Vec<u8> {
    // [{0: "a", -30: "label", ...extra}]
    let mut b = vec![0x81, 0xa2 + n_extra, 0x00, 0x61, b'a', 0x38, 0x1d, 0x65];
    b.extend_from_slice(b"label");
    b.extend_from_slice(extra);
    b
}

#[test]
fn hostile_blobs_give_typed_errors() {
    // Deep nesting as a value: [[[[...]]]].
    let mut deep = field_with(&[0x02], 1);
    deep.extend(std::iter::repeat_n(0x81, 100_000));
    deep.push(0x00);
    assert_eq!(err(&deep), DecodeError::TooDeep);
    // Deep nesting under an unknown key (skipped, but bounded).
    let mut deep = field_with(&[0x18, 0x63], 1);
    deep.extend(std::iter::repeat_n(0x81, 100_000));
    deep.push(0x00);
    assert_eq!(err(&deep), DecodeError::TooDeep);
    // Deep nesting of tags.
    let mut tags = field_with(&[0x18, 0x63], 1);
    tags.extend(std::iter::repeat_n(0xc6, 1000));
    tags.push(0x00);
    assert_eq!(err(&tags), DecodeError::TooDeep);
    // Huge lengths: text, bytes, arrays and maps claiming far more than there is.
    assert_eq!(
        err(&field_with(&[0x02, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 1)),
        DecodeError::Truncated
    );
    assert_eq!(err(&field_with(&[0x08, 0x5a, 0x7f, 0xff, 0xff, 0xff], 1)), DecodeError::Truncated);
    assert_eq!(
        err(&field_with(&[0x02, 0x9b, 0, 0, 0, 1, 0, 0, 0, 0], 1)),
        DecodeError::TooMany { what: "list items", limit: limits::MAX_LIST_LEN }
    );
    assert_eq!(
        err(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        DecodeError::TooMany { what: "fields", limit: limits::MAX_FIELDS }
    );
    assert_eq!(
        err(&[0x81, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0]),
        DecodeError::TooMany { what: "map entries", limit: limits::MAX_ENTRIES }
    );
    assert_eq!(err(&vec![0x80; limits::MAX_BLOB_LEN + 1]), DecodeError::TooLarge);
    // Wrong types.
    assert_eq!(err(&[0xa0]), DecodeError::WrongType { key: None, expected: "array" });
    assert_eq!(err(&[0x81, 0x01]), DecodeError::WrongType { key: None, expected: "map" });
    assert_eq!(
        err(&[0x81, 0xa2, 0x00, 0x01, 0x38, 0x1d, 0x61, b'x']),
        DecodeError::WrongType { key: Some(0), expected: "text" }
    );
    assert_eq!(
        err(&field_with(&[0x38, 0x1e, 0x61, b'x'], 1)),
        DecodeError::WrongType { key: Some(-31), expected: "number" }
    );
    assert_eq!(err(&field_with(&[0x38, 0x13, 0x20], 1)), DecodeError::WrongType { key: Some(-20), expected: "u32" });
    assert_eq!(err(&field_with(&[0x02, 0xa0], 1)), DecodeError::Unsupported(Unsupported::MapValue));
    assert_eq!(err(&field_with(&[0x02, 0xc1, 0x00], 1)), DecodeError::Unsupported(Unsupported::Tag));
    assert_eq!(err(&field_with(&[0x02, 0xf7], 1)), DecodeError::Unsupported(Unsupported::Simple));
    assert_eq!(err(&field_with(&[0x02, 0x9f, 0xff], 1)), DecodeError::Unsupported(Unsupported::IndefiniteLength));
    assert_eq!(err(&[0x9f, 0xff]), DecodeError::Unsupported(Unsupported::IndefiniteLength));
    assert_eq!(
        err(&field_with(&[0x02, 0x3b, 0xff, 0, 0, 0, 0, 0, 0, 0], 1)),
        DecodeError::Unsupported(Unsupported::BigInteger)
    );
    // Missing and duplicate keys, bad UTF-8, reserved encodings, trailing bytes.
    assert_eq!(err(&[0x81, 0xa1, 0x00, 0x61, b'a']), DecodeError::MissingKey(-30));
    assert_eq!(err(&field_with(&[0x00, 0x61, b'b'], 1)), DecodeError::DuplicateKey(0));
    assert_eq!(err(&field_with(&[0x01, 0x62, 0xc3, 0x28], 1)), DecodeError::Malformed);
    assert_eq!(err(&field_with(&[0x02, 0x1c], 1)), DecodeError::Malformed);
    let mut trailing = golden("slider");
    trailing.push(0x00);
    assert_eq!(err(&trailing), DecodeError::TrailingBytes);
}

#[test]
fn every_truncation_of_every_golden_blob_is_refused() {
    let all = golden("all");
    for n in 0..all.len() {
        assert_eq!(Controls::parse(&all[..n]).unwrap_err(), DecodeError::Truncated, "cut at {n}");
    }
    let up = golden("updates");
    for n in 0..up.len() {
        assert_eq!(Updates::parse(&up[..n]).unwrap_err(), DecodeError::Truncated, "cut at {n}");
    }
}

// ---- the device channel ----

#[derive(Default)]
struct Log {
    reads: usize,
    writes: Vec<String>,
}

impl ControlsHandler for Log {
    fn on_read(&mut self, fields: &mut [Field<'_>]) {
        self.reads += 1;
        let _ = fields[0].set_number(Number::Int(self.reads as i64));
    }
    fn on_write(&mut self, fields: &mut [Field<'_>], index: usize) {
        self.writes.push(fields[index].name().to_string());
    }
}

fn read_all(ch: &mut impl Channel) -> Vec<u8> {
    let n = ch.size().unwrap() as usize;
    let mut out = vec![0u8; n];
    // In two pieces, as a fragmented read: the blob must not change between them.
    ch.read(0, &mut out[..n / 2]).unwrap();
    assert_eq!(ch.size().unwrap() as usize, n);
    ch.read((n / 2) as u32, &mut out[n / 2..]).unwrap();
    out
}

#[test]
fn device_channel_serves_fields_and_applies_writes() {
    const OPTS: [&str; 2] = ["x", "y"];
    let mut note = [0u8; 8];
    let mut fields = [
        Field::label("reads", Number::Int(0)),
        Field::slider("t", Range { min: Number::Int(0), max: Number::Int(10), step: Number::Int(1) }, Number::Int(3)),
        Field::select("s", &OPTS, 0),
        Field::line_edit("note", &mut note),
        Field::toggle("on", false),
    ];
    let (mut out, mut input) = ([0u8; 256], [0u8; 128]);
    let mut ch = ControlsChannel::new(&mut fields, &mut out, &mut input, Log::default());
    assert!(ch.poll());
    let blob = read_all(&mut ch);
    assert!(!ch.poll());
    let got = decode_controls(&blob).unwrap();
    assert_eq!(got[0].value, Value::Int(1), "on_read ran once for the whole blob");
    assert_eq!(got[1].value, Value::Int(3));
    assert_eq!(got[2].value, Value::Text("x".into()));

    let w = encode_updates_vec(&[
        ("t", &Value::Int(7)),
        ("s", &Value::Text("y".into())),
        ("note", &Value::Text("hello".into())),
        ("on", &Value::Bool(true)),
        ("t", &Value::Int(11)),
        ("reads", &Value::Int(5)),
        ("nope", &Value::Int(1)),
        ("note", &Value::Text("far too long".into())),
    ])
    .unwrap();
    // Sent in three pieces; applied when whole.
    let (a, b) = (w.len() / 3, 2 * w.len() / 3);
    ch.write(0, &w[..a]).unwrap();
    ch.write(a as u32, &w[a..b]).unwrap();
    assert!(ch.handler().writes.is_empty());
    ch.write(b as u32, &w[b..]).unwrap();
    assert_eq!(ch.handler().writes, ["t", "s", "note", "on"]);
    assert_eq!(ch.rejected(), 4, "out of range, read-only, unknown, too long");
    assert!(ch.poll());
    let got = decode_controls(&read_all(&mut ch)).unwrap();
    assert_eq!(got[1].value, Value::Int(7));
    assert_eq!(got[2].value, Value::Text("y".into()));
    assert_eq!(got[3].value, Value::Text("hello".into()));
    assert_eq!(got[4].value, Value::Bool(true));
    // A malformed write changes nothing and answers INVALID; a gap in offsets too.
    assert_eq!(ch.write(0, &[0x81, 0x01]), Err(Status::Invalid));
    assert_eq!(ch.write(5, &[0x80]), Err(Status::Invalid));
    assert_eq!(ch.write(0, &[0u8; 129]), Err(Status::Overflow));
    assert_eq!(ch.field("t").unwrap().as_number(), Some(Number::Int(7)));
}

#[test]
fn device_channel_with_a_small_buffer_reports_the_encode_error() {
    let mut fields = [Field::label("a long name for a label", Number::Float(1.0))];
    let (mut out, mut input) = ([0u8; 8], [0u8; 8]);
    let mut ch = ControlsChannel::new(&mut fields, &mut out, &mut input, ());
    let need = ch.encoded_len();
    assert!(need > 8);
    assert_eq!(ch.size(), Some(0));
    assert_eq!(ch.last_encode_error(), Some(openmvproto::controls::EncodeError::BufferFull));
}
