//! Display-ready models from the catalog and the visit, in the citizen's language: what the
//! adapters in `ui/adapters/*.slint` show. Pure functions of their inputs, so a language
//! switch simply rebuilds them.

use slint::{ModelRc, SharedString, VecModel};
use ui::{FieldKind as UiKind, FormField, MatterGuide, MatterItem, Situation, ThemeItem};

use crate::app::i18n::{tr, tr_args};
use crate::catalog::{
    Audience, Bundle, Catalog, Field, FieldErrorCode, FieldKind, IdentityLevel, Matter, MatterKind,
};

/// The zh or en text for `locale` (the catalog carries Chinese and English; other Chinese
/// locales show the Chinese text).
pub fn pick<'a>(locale: &str, zh: &'a str, en: &'a str) -> &'a str {
    if locale.starts_with("en") && !en.is_empty() {
        en
    } else {
        zh
    }
}

pub fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn kind_key(kind: MatterKind) -> &'static str {
    match kind {
        MatterKind::Print => "kind-print",
        MatterKind::Query => "kind-query",
        MatterKind::Apply => "kind-apply",
        MatterKind::Appointment => "kind-appointment",
    }
}

fn identity_key(level: IdentityLevel) -> &'static str {
    match level {
        IdentityLevel::None => "identity-none",
        IdentityLevel::Card => "identity-card",
        IdentityLevel::CardFace => "identity-card-face",
    }
}

fn department(catalog: &Catalog, code: &str, locale: &str) -> SharedString {
    catalog
        .department(code)
        .map(|d| pick(locale, &d.name_zh, &d.name_en).into())
        .unwrap_or_default()
}

pub fn matter_item(catalog: &Catalog, m: &Matter, locale: &str) -> MatterItem {
    MatterItem {
        code: m.code.as_str().into(),
        name: pick(locale, &m.name_zh, &m.name_en).into(),
        department: department(catalog, &m.department, locale),
        kind_label: tr(locale, kind_key(m.kind)).into(),
        identity_label: tr(locale, identity_key(m.identity)).into(),
        bundle: false,
    }
}

pub fn bundle_item(catalog: &Catalog, b: &Bundle, locale: &str) -> MatterItem {
    MatterItem {
        code: b.code.as_str().into(),
        name: pick(locale, &b.name_zh, &b.name_en).into(),
        department: SharedString::new(),
        kind_label: tr(locale, "kind-apply").into(),
        identity_label: tr(locale, identity_key(catalog.bundle_identity(b))).into(),
        bundle: true,
    }
}

/// The item for a matter or bundle code.
pub fn item(catalog: &Catalog, code: &str, locale: &str) -> Option<MatterItem> {
    if let Some(m) = catalog.matter(code) {
        return Some(matter_item(catalog, m, locale));
    }
    catalog
        .bundle(code)
        .map(|b| bundle_item(catalog, b, locale))
}

/// Home: the themes for persons and businesses, the popular matters and the bundles.
pub struct HomeModels {
    pub person_themes: Vec<ThemeItem>,
    pub business_themes: Vec<ThemeItem>,
    pub popular: Vec<MatterItem>,
    pub bundles: Vec<MatterItem>,
}

pub fn home(catalog: &Catalog, locale: &str) -> HomeModels {
    let themes = |aud: Audience| {
        catalog
            .themes
            .iter()
            .filter(|t| t.audience == aud)
            .map(|t| ThemeItem {
                id: t.code.as_str().into(),
                name: pick(locale, &t.name_zh, &t.name_en).into(),
            })
            .collect()
    };
    HomeModels {
        person_themes: themes(Audience::Person),
        business_themes: themes(Audience::Business),
        popular: catalog
            .matters
            .iter()
            .filter(|m| m.popular)
            .map(|m| matter_item(catalog, m, locale))
            .collect(),
        bundles: catalog
            .bundles
            .iter()
            .map(|b| bundle_item(catalog, b, locale))
            .collect(),
    }
}

/// A theme's name and its matters and bundles.
pub fn theme(catalog: &Catalog, code: &str, locale: &str) -> (SharedString, Vec<MatterItem>) {
    let name = catalog
        .themes
        .iter()
        .find(|t| t.code == code)
        .map(|t| pick(locale, &t.name_zh, &t.name_en).into())
        .unwrap_or_default();
    let mut items: Vec<MatterItem> = catalog
        .bundles
        .iter()
        .filter(|b| b.theme == code)
        .map(|b| bundle_item(catalog, b, locale))
        .collect();
    items.extend(
        catalog
            .matters
            .iter()
            .filter(|m| m.theme == code)
            .map(|m| matter_item(catalog, m, locale)),
    );
    (name, items)
}

fn days(locale: &str, n: u32) -> SharedString {
    if n == 0 {
        tr(locale, "limit-immediate").into()
    } else {
        tr_args(locale, "limit-working-days", &[("days", &n.to_string())]).into()
    }
}

fn fee(locale: &str, fen: u64) -> SharedString {
    if fen == 0 {
        tr(locale, "fee-free").into()
    } else {
        let amount = format!("{}.{:02}", fen / 100, fen % 100);
        tr_args(locale, "fee-amount", &[("amount", &amount)]).into()
    }
}

/// The promised time limit as the receipt shows it.
pub fn promised_limit(catalog: &Catalog, code: &str, locale: &str) -> SharedString {
    match catalog.matter(code) {
        Some(m) => days(locale, m.promised_days),
        None => {
            // A bundle promises what its slowest member promises.
            let most = catalog
                .bundle(code)
                .map(|b| {
                    b.matters
                        .iter()
                        .filter_map(|c| catalog.matter(c))
                        .map(|m| m.promised_days)
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            days(locale, most)
        }
    }
}

/// The guide page: the matter, what to bring, and the situations to choose from.
pub struct GuideModels {
    pub matter: MatterGuide,
    pub materials: Vec<ui::Material>,
    pub situations: Vec<Situation>,
}

fn material(locale: &str, m: &crate::catalog::Material) -> ui::Material {
    ui::Material {
        name: pick(locale, &m.name_zh, &m.name_en).into(),
        note: SharedString::new(),
        e_licence: m.e_licence.is_some(),
    }
}

pub fn guide(catalog: &Catalog, code: &str, locale: &str) -> Option<GuideModels> {
    if let Some(m) = catalog.matter(code) {
        let mut materials: Vec<ui::Material> =
            m.materials.iter().map(|x| material(locale, x)).collect();
        for s in &m.situations {
            materials.extend(s.extra_materials.iter().map(|x| material(locale, x)));
        }
        materials.dedup_by(|a, b| a.name == b.name);
        return Some(GuideModels {
            matter: MatterGuide {
                code: m.code.as_str().into(),
                name: pick(locale, &m.name_zh, &m.name_en).into(),
                department: department(catalog, &m.department, locale),
                kind_label: tr(locale, kind_key(m.kind)).into(),
                identity_label: tr(locale, identity_key(m.identity)).into(),
                legal_limit: days(locale, m.legal_days),
                promised_limit: days(locale, m.promised_days),
                fee: fee(locale, m.fee_fen),
                guide_text: pick(locale, &m.guide_zh, &m.guide_en).into(),
            },
            materials,
            // One situation needs no choice: the guide then enables Start at once.
            situations: if m.situations.len() > 1 {
                m.situations
                    .iter()
                    .map(|s| Situation {
                        id: s.code.as_str().into(),
                        label: pick(locale, &s.name_zh, &s.name_en).into(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        });
    }
    let b = catalog.bundle(code)?;
    let members: Vec<&Matter> = b.matters.iter().filter_map(|c| catalog.matter(c)).collect();
    let mut materials: Vec<ui::Material> = members
        .iter()
        .flat_map(|m| m.materials.iter().map(|x| material(locale, x)))
        .collect();
    materials.sort_by(|a, b| a.name.cmp(&b.name));
    materials.dedup_by(|a, b| a.name == b.name);
    let legal = members.iter().map(|m| m.legal_days).max().unwrap_or(0);
    let promised = members.iter().map(|m| m.promised_days).max().unwrap_or(0);
    let fee_total = members.iter().map(|m| m.fee_fen).sum();
    Some(GuideModels {
        matter: MatterGuide {
            code: b.code.as_str().into(),
            name: pick(locale, &b.name_zh, &b.name_en).into(),
            department: SharedString::new(),
            kind_label: tr(locale, "kind-apply").into(),
            identity_label: tr(locale, identity_key(catalog.bundle_identity(b))).into(),
            legal_limit: days(locale, legal),
            promised_limit: days(locale, promised),
            fee: fee(locale, fee_total),
            guide_text: pick(locale, &b.guide_zh, &b.guide_en).into(),
        },
        materials,
        situations: Vec::new(),
    })
}

fn ui_kind(kind: FieldKind) -> UiKind {
    match kind {
        FieldKind::Text => UiKind::Text,
        FieldKind::Number => UiKind::Number,
        FieldKind::Date => UiKind::Date,
        FieldKind::Phone => UiKind::Phone,
        FieldKind::IdNumber => UiKind::IdNumber,
        FieldKind::Choice => UiKind::Choice,
        FieldKind::Amount => UiKind::Amount,
        FieldKind::Address => UiKind::Address,
    }
}

/// The message shown beside a field for a validation problem.
pub fn field_message(locale: &str, code: FieldErrorCode) -> String {
    let key = match code {
        FieldErrorCode::Required | FieldErrorCode::UnknownField => "valid-required",
        FieldErrorCode::TooShort | FieldErrorCode::TooLong => "valid-length",
        FieldErrorCode::NotANumber => "valid-number",
        FieldErrorCode::OutOfRange => "valid-range",
        FieldErrorCode::BadDate => "valid-date",
        FieldErrorCode::BadPhone => "valid-phone",
        FieldErrorCode::BadIdNumber => "valid-id-number",
        FieldErrorCode::NotAChoice => "valid-choice",
        FieldErrorCode::BadAmount => "valid-amount",
    };
    tr(locale, key)
}

/// For a choice field, the index of the stored choice value (as the UI wants it).
pub fn choice_index(field: &Field, stored: &str) -> String {
    field
        .choices
        .iter()
        .position(|c| c.value == stored)
        .map(|i| i.to_string())
        .unwrap_or_default()
}

/// One form row: label, kind, hint and the value as the UI shows it.
pub fn form_row(field: &Field, value: &str, locked: bool, error: &str, locale: &str) -> FormField {
    let shown = if field.kind == FieldKind::Choice {
        choice_index(field, value)
    } else {
        value.to_string()
    };
    FormField {
        id: field.id.as_str().into(),
        label: pick(locale, &field.label_zh, &field.label_en).into(),
        kind: ui_kind(field.kind),
        value: shown.into(),
        hint: field.example.as_str().into(),
        required: field.required,
        locked,
        error: error.into(),
        choices: model(
            field
                .choices
                .iter()
                .map(|c| SharedString::from(pick(locale, &c.label_zh, &c.label_en)))
                .collect(),
        ),
    }
}
