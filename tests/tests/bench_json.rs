//! `kiosk bench --json` prints the shape other tools (and the README's table) read: an array
//! of objects, each with at least `name`, `value`, `unit`, `peer`, `ratio` and `target`.
//! Only the cheapest group runs (`--only idcard`: a dozen card reads over a PTY against the
//! simulated reader); no timing is asserted, only the shape and its internal consistency.

use serde_json::Value;

#[test]
fn bench_json_is_an_array_of_rows_with_the_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let rows = e2e::kiosk_json(dir.path(), &["bench", "--json", "--only", "idcard"]);
    let rows = rows.as_array().expect("a JSON array");
    assert!(!rows.is_empty(), "the idcard group reports rows");
    for row in rows {
        let o = row
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {row}"));
        let text = |k: &str| -> &str {
            o.get(k)
                .unwrap_or_else(|| panic!("{k} missing in {row}"))
                .as_str()
                .unwrap_or_else(|| panic!("{k} is not a string in {row}"))
        };
        let name = text("name");
        assert!(!name.is_empty(), "{row}");
        assert!(!text("unit").is_empty(), "{row}");
        let value = o
            .get("value")
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("value is not a number in {row}"));
        assert!(value.is_finite(), "{row}");
        // `peer` and `target` are always strings (empty when a row has none); `ratio` is
        // always present, a number exactly when there is a peer figure to divide by.
        let peer = text("peer");
        let target = text("target");
        let ratio = o
            .get("ratio")
            .unwrap_or_else(|| panic!("ratio missing in {row}"));
        match o.get("peer_value").and_then(Value::as_f64) {
            Some(pv) if pv != 0.0 => {
                let r = ratio
                    .as_f64()
                    .unwrap_or_else(|| panic!("ratio not a number in {row}"));
                assert!((r - value / pv).abs() <= 1e-9 * r.abs().max(1.0), "{row}");
                assert!(!peer.is_empty(), "a peer figure names its peer: {row}");
            }
            _ => assert!(ratio.is_null(), "{row}"),
        }
        assert!(o.get("ok").is_some_and(Value::is_boolean), "{row}");
        // The card-read rows are the ones issue 10 compares with the wire floor.
        assert!(name.starts_with("idcard_"), "{row}");
        assert!(!peer.is_empty() && !target.is_empty(), "{row}");
    }
}
