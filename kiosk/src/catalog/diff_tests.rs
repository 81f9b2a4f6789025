use super::*;
use crate::catalog::form::FieldKind;
use crate::catalog::sample;

fn pair() -> (Catalog, Catalog) {
    let old = sample::generate().unwrap();
    let mut new = old.clone();
    new.version = old.version + 1;
    (old, new)
}

#[test]
fn identical_catalogs_differ_only_in_version() {
    let (old, new) = pair();
    let d = diff(&old, &new);
    assert!(d.no_content_change());
    assert_eq!(
        (d.old_version, d.new_version),
        (old.version, old.version + 1)
    );
    assert!(d.catalog_changes.is_empty(), "{:?}", d.catalog_changes);
    assert!(d.render().starts_with(&format!(
        "catalog version {} -> {}\n",
        old.version, new.version
    )));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert!(d.render().contains("no matter or bundle changed"));
}

#[test]
fn added_withdrawn_and_changed_matters_are_named_with_their_changes() {
    let (old, mut new) = pair();
    // A new matter: a copy of the first under a fresh code.
    let mut added = new.matters[0].clone();
    added.code = "310104999901".into();
    added.name_zh = "测试新事项".into();
    added.name_en = "Test new matter".into();
    new.matters.push(added);
    // Withdraw a matter that no bundle uses.
    let in_bundle = |c: &str| new.bundles.iter().any(|b| b.matters.iter().any(|m| m == c));
    let gone_at = new
        .matters
        .iter()
        .position(|m| !in_bundle(&m.code))
        .unwrap();
    let gone = new.matters.remove(gone_at);
    // Change a matter's fee, a material and its form.
    let m = new
        .matters
        .iter_mut()
        .find(|m| m.form.fields.len() >= 2)
        .unwrap();
    let changed_code = m.code.clone();
    m.fee_fen += 2050;
    m.materials.push(Material {
        name_zh: "测试材料".into(),
        name_en: "Test material".into(),
        e_licence: None,
    });
    let removed_field = m.form.fields.remove(0).id;
    let f = &mut m.form.fields[0];
    let optional_field = f.id.clone();
    f.required = false;
    f.label_en = "Changed label".into();
    let mut new_field = f.clone();
    new_field.id = "pet_name".into();
    new_field.label_zh = "宠物名".into();
    new_field.label_en = "Pet name".into();
    new_field.kind = FieldKind::Text;
    new_field.required = true;
    m.form.fields.push(new_field);

    let d = diff(&old, &new);
    assert_eq!(d.matters_added.len(), 1);
    assert_eq!(d.matters_added[0].code, "310104999901");
    assert_eq!(d.matters_removed, vec![named_matter(&gone)]);
    assert_eq!(d.matters_changed.len(), 1, "{:#?}", d.matters_changed);
    let ch = &d.matters_changed[0];
    assert_eq!(ch.code, changed_code);
    let has = |want: &str| ch.changes.iter().any(|c| c.contains(want));
    for want in [
        "fee: ",
        "material 测试材料 added: Test material",
        &format!("form field {removed_field} removed"),
        &format!("form field {optional_field}: now optional"),
        &format!("form field {optional_field}: label (en): "),
        "form field pet_name added: 宠物名 / Pet name (text, required)",
    ] {
        assert!(has(want), "missing {want:?} in {:#?}", ch.changes);
    }
    let text = d.render();
    assert!(
        text.contains("matters: 1 added, 1 withdrawn, 1 changed"),
        "{text}"
    );
    assert!(
        text.contains(&format!("- {} {}", gone.code, gone.name_zh)),
        "{text}"
    );
    assert!(
        text.contains("+ 310104999901 测试新事项 (Test new matter)"),
        "{text}"
    );
}

#[test]
fn bundles_dates_and_warnings() {
    let (old, mut new) = pair();
    new.version = old.version;
    new.expires_at = "2020-01-01T00:00:00Z".into();
    let b = &mut new.bundles[0];
    let member = b.matters.pop().unwrap();
    b.name_en = "Renamed bundle".into();
    new.matters.truncate(100);
    let d = diff(&old, &new);
    assert!(d
        .catalog_changes
        .iter()
        .any(|c| c.starts_with("expires_at: ")));
    let bc = d
        .bundles_changed
        .iter()
        .find(|c| c.code == old.bundles[0].code)
        .unwrap();
    assert!(
        bc.changes
            .contains(&format!("member matter removed: {member}")),
        "{:?}",
        bc.changes
    );
    assert!(bc.changes.iter().any(|c| c.contains("Renamed bundle")));
    let w = d.warnings.join("\n");
    assert!(w.contains("not greater than"), "{w}");
    assert!(w.contains("expires_at is not after issued_at"), "{w}");
    assert!(w.contains("fewer than half"), "{w}");
    assert!(w.contains("problem in the new catalog"), "{w}");
    assert!(d.render().contains("warnings:"));
}
