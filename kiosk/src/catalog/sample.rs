//! The bundled default catalog: SAMPLE DATA generated from the small table in
//! `kiosk/data/sample-catalog.toml`. The generator is deterministic (same table, same
//! catalog, byte for byte), so the catalog needs no generated file in the repository and
//! `kiosk catalog export` reproduces it anywhere.
//!
//! A matter is a *family* (a licence, certificate or service) combined with an *action*
//! (apply, renew, reissue...). Codes are `310104` + department (2 digits) + the family's
//! ordinal in its department (2) + the action's ordinal in the family (2).

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;

use super::form::{CardField, Choice, Field, FieldKind, FormSchema};
use super::model::*;

/// The table, embedded in the binary.
pub const TABLE: &str = include_str!("../../data/sample-catalog.toml");

/// Notice carried by the generated catalog.
pub const NOTICE: &str = "SAMPLE DATA: generated from kiosk/data/sample-catalog.toml for development and demonstration; the real catalog comes from central admins";

#[derive(Deserialize)]
struct Table {
    format: u32,
    version: u64,
    issued_at: String,
    expires_at: String,
    expect_person: usize,
    expect_business: usize,
    region: String,
    departments: Vec<NamedCode>,
    themes: Vec<ThemeRow>,
    actions: BTreeMap<String, ActionRow>,
    materials: BTreeMap<String, MaterialRow>,
    fields: BTreeMap<String, FieldRow>,
    forms: BTreeMap<String, Vec<String>>,
    family: Vec<FamilyRow>,
    bundle: Vec<BundleRow>,
}

#[derive(Deserialize)]
struct NamedCode {
    code: String,
    zh: String,
    en: String,
}

#[derive(Deserialize)]
struct ThemeRow {
    code: String,
    aud: Audience,
    zh: String,
    en: String,
}

#[derive(Deserialize)]
struct ActionRow {
    zh: String,
    en: String,
    kind: MatterKind,
    id: IdentityLevel,
    days: [u32; 2],
}

#[derive(Deserialize)]
struct MaterialRow {
    zh: String,
    en: String,
    e: Option<String>,
}

#[derive(Deserialize)]
struct FieldRow {
    zh: String,
    en: String,
    kind: FieldKind,
    ex: String,
    #[serde(default)]
    optional: bool,
    min_len: Option<u32>,
    max_len: Option<u32>,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    choices: Vec<[String; 3]>,
    fill: Option<CardField>,
}

#[derive(Deserialize)]
struct FamilyRow {
    key: String,
    dept: String,
    aud: String,
    theme: String,
    zh: String,
    en: String,
    acts: Vec<String>,
    set: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
    #[serde(default)]
    mats: Vec<String>,
    #[serde(default)]
    pop: Vec<String>,
    #[serde(default)]
    kw: Vec<String>,
}

#[derive(Deserialize)]
struct BundleRow {
    zh: String,
    en: String,
    aud: String,
    theme: String,
    #[serde(default)]
    kw: Vec<String>,
    members: Vec<String>,
}

fn audience(s: &str) -> anyhow::Result<Audience> {
    match s {
        "p" => Ok(Audience::Person),
        "b" => Ok(Audience::Business),
        other => bail!("audience must be p or b, not {other:?}"),
    }
}

/// Generates the sample catalog from the embedded table.
pub fn generate() -> anyhow::Result<Catalog> {
    generate_from(TABLE)
}

/// Generates a catalog from a table in the format of `data/sample-catalog.toml`.
pub fn generate_from(table_text: &str) -> anyhow::Result<Catalog> {
    let t: Table = toml::from_str(table_text).context("sample catalog table is not valid")?;
    let fields = build_fields(&t)?;
    let material = |id: &str| -> anyhow::Result<Material> {
        let m = t
            .materials
            .get(id)
            .ok_or_else(|| anyhow!("unknown material {id:?}"))?;
        Ok(Material {
            name_zh: m.zh.clone(),
            name_en: m.en.clone(),
            e_licence: m.e.clone(),
        })
    };

    let mut matters = Vec::new();
    // family:action -> matter code, for the bundles.
    let mut codes: HashMap<String, String> = HashMap::new();
    let mut ordinal_in_dept: HashMap<&str, u32> = HashMap::new();
    for fam in &t.family {
        let aud = audience(&fam.aud).with_context(|| format!("family {}", fam.key))?;
        let dept = t
            .departments
            .iter()
            .find(|d| d.code == fam.dept)
            .ok_or_else(|| anyhow!("family {}: unknown department {}", fam.key, fam.dept))?;
        let ordinal = ordinal_in_dept.entry(fam.dept.as_str()).or_insert(0);
        *ordinal += 1;
        let set_name = fam.set.clone().unwrap_or_else(|| match aud {
            Audience::Person => "person".into(),
            Audience::Business => "business".into(),
        });
        let set = t
            .forms
            .get(&set_name)
            .ok_or_else(|| anyhow!("family {}: unknown form set {set_name}", fam.key))?;
        let mut form = FormSchema::default();
        for id in set.iter().chain(fam.extra.iter()) {
            let f = fields
                .get(id)
                .ok_or_else(|| anyhow!("family {}: unknown field {id}", fam.key))?;
            if form.field(id).is_none() {
                form.fields.push(f.clone());
            }
        }
        let materials = fam
            .mats
            .iter()
            .map(|m| material(m))
            .collect::<anyhow::Result<Vec<_>>>()
            .with_context(|| format!("family {}", fam.key))?;
        for (ai, act_key) in fam.acts.iter().enumerate() {
            let act = t
                .actions
                .get(act_key)
                .ok_or_else(|| anyhow!("family {}: unknown action {act_key}", fam.key))?;
            let code = format!("{}{}{:02}{:02}", t.region, fam.dept, ordinal, ai + 1);
            codes.insert(format!("{}:{}", fam.key, act_key), code.clone());
            let name_zh = format!("{}{}", fam.zh, act.zh);
            let name_en = format!("{}: {}", fam.en, act.en);
            let mut keywords = fam.kw.clone();
            keywords.push(dept.zh.clone());
            let (legal, promised) = (act.days[0], act.days[1]);
            matters.push(Matter {
                code,
                guide_zh: guide_zh(&dept.zh, &name_zh, act.kind, legal, promised),
                guide_en: guide_en(&dept.en, &name_en, act.kind, legal, promised),
                name_zh,
                name_en,
                department: dept.code.clone(),
                audience: aud,
                theme: fam.theme.clone(),
                kind: act.kind,
                identity: act.id,
                non_face_alternative: match aud {
                    Audience::Person => NonFaceAlternative::StaffHelp,
                    Audience::Business => NonFaceAlternative::CounterAppointment,
                },
                situations: situations(act_key, &material("proxy")?),
                materials: if act.kind == MatterKind::Query || act.kind == MatterKind::Print {
                    materials.iter().take(1).cloned().collect()
                } else {
                    materials.clone()
                },
                form: if act.id == IdentityLevel::None {
                    // A guide lookup asks nothing personal.
                    FormSchema {
                        fields: form
                            .fields
                            .iter()
                            .filter(|f| f.kind == FieldKind::Phone)
                            .map(|f| Field {
                                required: false,
                                ..f.clone()
                            })
                            .collect(),
                    }
                } else {
                    form.clone()
                },
                legal_days: legal,
                promised_days: promised,
                fee_fen: 0,
                keywords,
                popular: fam.pop.iter().any(|p| p == act_key),
            });
        }
    }

    let mut bundles = Vec::new();
    for (i, b) in t.bundle.iter().enumerate() {
        let mut form = FormSchema::default();
        let mut members = Vec::new();
        for m in &b.members {
            let code = codes
                .get(m)
                .ok_or_else(|| anyhow!("bundle {}: unknown member {m}", b.zh))?;
            let matter = matters
                .iter()
                .find(|x: &&Matter| &x.code == code)
                .ok_or_else(|| anyhow!("bundle {}: member {m} has no matter", b.zh))?;
            for f in &matter.form.fields {
                if form.field(&f.id).is_none() {
                    form.fields.push(f.clone());
                }
            }
            members.push(code.clone());
        }
        let n = members.len();
        bundles.push(Bundle {
            code: format!("YJS{:04}", i + 1),
            name_zh: b.zh.clone(),
            name_en: b.en.clone(),
            audience: audience(&b.aud).with_context(|| format!("bundle {}", b.zh))?,
            theme: b.theme.clone(),
            matters: members,
            form,
            guide_zh: format!(
                "“{}”一件事：一次告知、一表申请、一口受理，{n}个事项合并办理，共用一张表单。",
                b.zh
            ),
            guide_en: format!(
                "\"{}\" as one thing: {n} matters handled together with one shared form.",
                b.en
            ),
            keywords: b.kw.clone(),
        });
    }

    let catalog = Catalog {
        format: t.format,
        version: t.version,
        issued_at: t.issued_at,
        expires_at: t.expires_at,
        notice: NOTICE.into(),
        departments: t
            .departments
            .into_iter()
            .map(|d| Department {
                code: d.code,
                name_zh: d.zh,
                name_en: d.en,
            })
            .collect(),
        themes: t
            .themes
            .into_iter()
            .map(|th| Theme {
                code: th.code,
                name_zh: th.zh,
                name_en: th.en,
                audience: th.aud,
            })
            .collect(),
        matters,
        bundles,
    };
    let stats = catalog.stats();
    if stats.person != t.expect_person || stats.business != t.expect_business {
        bail!(
            "sample table yields {} person and {} business matters; its header expects {} and {}",
            stats.person,
            stats.business,
            t.expect_person,
            t.expect_business
        );
    }
    Ok(catalog)
}

fn build_fields(t: &Table) -> anyhow::Result<BTreeMap<String, Field>> {
    t.fields
        .iter()
        .map(|(id, r)| {
            Ok((
                id.clone(),
                Field {
                    id: id.clone(),
                    label_zh: r.zh.clone(),
                    label_en: r.en.clone(),
                    kind: r.kind,
                    required: !r.optional,
                    min_len: r.min_len,
                    max_len: r.max_len,
                    min: r.min,
                    max: r.max,
                    choices: r
                        .choices
                        .iter()
                        .map(|[v, zh, en]| Choice {
                            value: v.clone(),
                            label_zh: zh.clone(),
                            label_en: en.clone(),
                        })
                        .collect(),
                    example: r.ex.clone(),
                    prefill: r.fill,
                },
            ))
        })
        .collect()
}

/// Situations (情形) an action has; an agent needs a letter of authorisation.
fn situations(action: &str, proxy: &Material) -> Vec<Situation> {
    let pairs: &[(&str, &str)] = match action {
        "apply" | "new" | "subsidy" | "confirm" => &[
            ("本人办理", "In person"),
            ("委托他人代办", "Through an agent"),
        ],
        "renew" | "extend" => &[
            ("有效期满", "Validity ending"),
            ("信息变更", "Details changed"),
        ],
        "reissue" | "redo" => &[("遗失补领", "Lost"), ("损坏补领", "Damaged")],
        "change" => &[
            ("一般事项变更", "Ordinary change"),
            ("重要事项变更", "Key change"),
        ],
        "cancel" | "close" => &[
            ("主动申请注销", "Voluntary"),
            ("依法应当注销", "Required by law"),
        ],
        "record" => &[("首次备案", "First filing"), ("备案更新", "Updated filing")],
        _ => &[("本人办理", "For myself")],
    };
    pairs
        .iter()
        .enumerate()
        .map(|(i, (zh, en))| Situation {
            code: format!("{:02}", i + 1),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
            extra_materials: if *en == "Through an agent" {
                vec![proxy.clone()]
            } else {
                vec![]
            },
        })
        .collect()
}

fn guide_zh(dept: &str, name: &str, kind: MatterKind, legal: u32, promised: u32) -> String {
    match kind {
        MatterKind::Print => format!("{name}由{dept}提供，自助终端即时打印，无需等待。"),
        MatterKind::Query => format!("{name}由{dept}提供，结果即时显示在屏幕上。"),
        MatterKind::Appointment => {
            format!("{name}：预约{dept}窗口办理时间，请按预约时间携带材料到场。")
        }
        MatterKind::Apply => format!(
            "{name}由{dept}受理。法定办结时限{legal}个工作日，承诺办结时限{promised}个工作日。提交后请保留回执，可凭回执号查询办理进度。"
        ),
    }
}

fn guide_en(dept: &str, name: &str, kind: MatterKind, legal: u32, promised: u32) -> String {
    match kind {
        MatterKind::Print => format!("{name}, from the {dept}, prints here at once."),
        MatterKind::Query => format!("{name}, from the {dept}, shows the result on screen."),
        MatterKind::Appointment => {
            format!("{name}: book a time at a counter of the {dept}; bring the materials.")
        }
        MatterKind::Apply => format!(
            "{name} is handled by the {dept}. Legal time limit {legal} working days, promised {promised}. Keep the receipt: its number lets you check progress."
        ),
    }
}

/// A larger synthetic catalog for benchmarks: the sample's matters repeated with new codes
/// and numbered names until it holds `n` matters.
pub fn scaled(n: usize) -> anyhow::Result<Catalog> {
    let base = generate()?;
    let mut out = base.clone();
    out.matters.clear();
    let mut i = 0usize;
    while out.matters.len() < n {
        for m in &base.matters {
            if out.matters.len() >= n {
                break;
            }
            let mut m = m.clone();
            if i > 0 {
                m.code = format!("9{:011}", out.matters.len());
                m.name_zh = format!("{}（第{i}批）", m.name_zh);
                m.name_en = format!("{} (batch {i})", m.name_en);
            }
            out.matters.push(m);
        }
        i += 1;
    }
    Ok(out)
}
