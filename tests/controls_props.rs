//! Property tests of the controls codec: arbitrary and mutated blobs never panic, and whatever
//! decodes re-encodes to a blob that decodes to the same fields.

use openmvproto::controls::{
    decode_controls, encode_updates_vec, Control, ControlRef, Controls, Updates, Value, Writer,
};
use proptest::prelude::*;

fn golden_all() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/controls/all.cbor")).unwrap()
}

fn reencode(fields: &[ControlRef<'_>]) -> Vec<u8> {
    let mut w = Writer::counter();
    w.begin(fields.len()).unwrap();
    fields.iter().for_each(|f| w.control(f).unwrap());
    let mut buf = vec![0u8; w.count()];
    let mut w = Writer::new(&mut buf);
    w.begin(fields.len()).unwrap();
    fields.iter().for_each(|f| w.control(f).unwrap());
    buf
}

fn check(blob: &[u8]) {
    if let Ok(c) = Controls::parse(blob) {
        let fields: Vec<ControlRef<'_>> = c.iter().collect();
        assert_eq!(fields.len(), c.len());
        let again = reencode(&fields);
        let a: Vec<Control> = decode_controls(&again).expect("re-encoded blob decodes");
        let b: Vec<Control> = fields.iter().map(Control::from_ref).collect();
        // Values under keys the encoder does not write for a widget (a label's data bytes) may
        // go; names, widgets and units stay. Compared as printed: a range bound may be NaN,
        // which stays NaN but never equals itself.
        let shown =
            |cs: &[Control]| format!("{:?}", cs.iter().map(|c| (&c.name, &c.widget, &c.unit)).collect::<Vec<_>>());
        assert_eq!(shown(&a), shown(&b));
    }
    if let Ok(u) = Updates::parse(blob) {
        assert!(u.iter().count() <= u.records());
    }
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_filter("NaN != NaN", |f| !f.is_nan()).prop_map(Value::Float),
        ".{0,12}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| proptest::collection::vec(inner, 0..4).prop_map(Value::List))
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(blob in proptest::collection::vec(any::<u8>(), 0..256)) {
        check(&blob);
    }

    #[test]
    fn mutated_golden_blobs_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut blob = golden_all();
        for (at, b) in edits {
            let i = at % blob.len();
            blob[i] = b;
        }
        check(&blob);
    }

    #[test]
    fn updates_round_trip(records in proptest::collection::vec(("[a-z ]{1,8}", value()), 0..6)) {
        let refs: Vec<(&str, &Value)> = records.iter().map(|(n, v)| (n.as_str(), v)).collect();
        let blob = encode_updates_vec(&refs).unwrap();
        let u = Updates::parse(&blob).unwrap();
        let got: Vec<(String, Value)> = u.iter().map(|u| (u.name.to_string(), Value::from_ref(&u.value))).collect();
        let want: Vec<(String, Value)> = records.into_iter().filter(|(_, v)| *v != Value::Null).collect();
        prop_assert_eq!(got, want);
    }
}
