//! Controls blobs (cam to host) and update blobs (host to cam): any bytes must give a value or
//! a typed error, never a panic; what decodes must re-encode to a blob that decodes the same;
//! and a device channel fed the bytes as writes in pieces must stay consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openmvproto::channels::{Channel, ControlsChannel, Field};
use openmvproto::controls::{ControlRef, Controls, Number, Range, Updates, Writer};

const OPTS: [&str; 3] = ["a", "b", "c"];

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Controls::parse(data) {
        let fields: Vec<ControlRef<'_>> = c.iter().collect();
        assert_eq!(fields.len(), c.len());
        let mut buf = vec![0u8; data.len() * 2 + 16];
        let mut w = Writer::new(&mut buf);
        w.begin(fields.len()).unwrap();
        for f in &fields {
            w.control(f).unwrap();
        }
        let n = w.len();
        let again = Controls::parse(&buf[..n]).expect("re-encoded blob decodes");
        assert!(again.iter().map(|f| (f.name, f.widget.kind(), f.unit)).eq(fields.iter().map(|f| (
            f.name,
            f.widget.kind(),
            f.unit
        ))));
    }
    if let Ok(u) = Updates::parse(data) {
        assert!(u.iter().count() <= u.records());
    }

    let mut note = [0u8; 16];
    let mut fields = [
        Field::slider("t", Range { min: Number::Int(0), max: Number::Int(255), step: Number::Int(1) }, Number::Int(0)),
        Field::toggle("m", false),
        Field::select("p", &OPTS, 0),
        Field::line_edit("n", &mut note),
        Field::label("l", Number::Float(1.5)),
    ];
    let (mut out, mut input) = ([0u8; 512], [0u8; 256]);
    let mut ch = ControlsChannel::new(&mut fields, &mut out, &mut input, ());
    let Some((&split, bytes)) = data.split_first() else { return };
    let cut = (split as usize).min(bytes.len());
    let _ = ch.write(0, &bytes[..cut]);
    let _ = ch.write(cut as u32, &bytes[cut..]);
    let n = ch.size().unwrap() as usize;
    let mut blob = vec![0u8; n];
    ch.read(0, &mut blob).unwrap();
    let parsed = Controls::parse(&blob).expect("the channel's own blob decodes");
    assert_eq!(parsed.len(), 5);
    let t = ch.field("t").unwrap().as_number().unwrap().as_f64();
    assert!((0.0..=255.0).contains(&t));
    assert!(ch.field("p").unwrap().choice().unwrap() < OPTS.len());
});
