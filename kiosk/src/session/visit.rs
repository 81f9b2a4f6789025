//! Everything one citizen's visit holds. All personal data lives here and nowhere else in the
//! session, so wiping a visit wipes the citizen.

use std::collections::{BTreeMap, BTreeSet};

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::catalog::{CardField, Catalog, FormSchema, IdentityLevel};
use crate::outbox::{Applicant, Enqueued};

/// What was read from the ID card that the flow needs. Wiped when dropped.
#[derive(Clone, PartialEq, Eq, Default, Zeroize, ZeroizeOnDrop)]
pub struct CardHolder {
    /// `resident`, `permit`, `foreign_2017`, `foreign_2023`.
    pub id_type: String,
    pub name: String,
    pub id_number: String,
    /// Display text, e.g. 男 / male.
    pub gender: String,
    pub nation: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    pub address: String,
}

// Personal data never reaches a log through `{:?}`.
impl std::fmt::Debug for CardHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardHolder({}, ..)", self.id_type)
    }
}

/// What the citizen chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Matter(String),
    Bundle(String),
}

impl Target {
    pub fn code(&self) -> &str {
        match self {
            Target::Matter(c) | Target::Bundle(c) => c,
        }
    }
}

/// One visit. Dropping it (or [`Visit::wipe`]) zeroizes every personal value.
pub struct Visit {
    /// UUIDv7 of the visit (for the one rating a visit).
    pub id: String,
    pub target: Target,
    pub identity: IdentityLevel,
    /// Situation codes the target offers, and the one chosen.
    pub situations: Vec<String>,
    pub situation: String,
    /// The form the citizen fills (a bundle's shared form).
    pub form: FormSchema,
    /// Member matter code -> the field ids its submission carries.
    pub members: Vec<(String, Vec<String>)>,
    pub card: Option<CardHolder>,
    pub verified_by: String,
    pub face_failures: u32,
    pub values: BTreeMap<String, String>,
    /// Fields prefilled from the card (read-only on screen).
    pub locked: BTreeSet<String>,
    pub queued: Vec<Enqueued>,
    pub rated: bool,
}

impl std::fmt::Debug for Visit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visit")
            .field("id", &self.id)
            .field("target", &self.target)
            .field("fields", &self.values.len())
            .finish_non_exhaustive()
    }
}

impl Visit {
    /// A visit for a matter or bundle code; `None` when the catalog has no such code.
    pub fn start(catalog: &Catalog, code: &str) -> Option<Visit> {
        let (target, identity, situations, form, members) = if let Some(m) = catalog.matter(code) {
            (
                Target::Matter(m.code.clone()),
                m.identity,
                m.situations.iter().map(|s| s.code.clone()).collect(),
                m.form.clone(),
                vec![(
                    m.code.clone(),
                    m.form.fields.iter().map(|f| f.id.clone()).collect(),
                )],
            )
        } else if let Some(b) = catalog.bundle(code) {
            let members = b
                .matters
                .iter()
                .filter_map(|c| catalog.matter(c))
                .map(|m| {
                    (
                        m.code.clone(),
                        m.form.fields.iter().map(|f| f.id.clone()).collect(),
                    )
                })
                .collect();
            (
                Target::Bundle(b.code.clone()),
                catalog.bundle_identity(b),
                vec!["01".to_string()],
                b.form.clone(),
                members,
            )
        } else {
            return None;
        };
        let situation = situations.first().cloned().unwrap_or_default();
        Some(Visit {
            id: uuid::Uuid::now_v7().to_string(),
            target,
            identity,
            situations,
            situation,
            form,
            members,
            card: None,
            verified_by: "none".into(),
            face_failures: 0,
            values: BTreeMap::new(),
            locked: BTreeSet::new(),
            queued: Vec::new(),
            rated: false,
        })
    }

    /// Stores the card and prefills (and locks) the fields that come from it.
    pub fn set_card(&mut self, holder: CardHolder) {
        for f in &self.form.fields {
            let Some(source) = f.prefill else { continue };
            let value = match source {
                CardField::Name => &holder.name,
                CardField::IdNumber => &holder.id_number,
                CardField::Gender => &holder.gender,
                CardField::Nation => &holder.nation,
                CardField::BirthDate => &holder.birth_date,
                CardField::Address => &holder.address,
            };
            if !value.is_empty() {
                self.values.insert(f.id.clone(), value.clone());
                self.locked.insert(f.id.clone());
            }
        }
        self.verified_by = "card".into();
        if let Some(mut old) = self.card.replace(holder) {
            old.zeroize();
        }
    }

    pub fn set_value(&mut self, field: &str, value: &str) {
        if let Some(mut old) = self.values.insert(field.to_string(), value.to_string()) {
            old.zeroize();
        }
    }

    /// The contract's applicant object for this visit.
    pub fn applicant(&self) -> Applicant {
        match &self.card {
            Some(c) => Applicant {
                id_type: c.id_type.clone(),
                id_number: c.id_number.clone(),
                name: c.name.clone(),
                verified_by: self.verified_by.clone(),
            },
            None => super::anonymous_applicant(),
        }
    }

    /// Overwrites every personal value with zeros and empties the containers.
    pub fn wipe(&mut self) {
        if let Some(c) = self.card.as_mut() {
            c.zeroize();
        }
        self.card = None;
        for v in self.values.values_mut() {
            v.zeroize();
        }
        self.values.clear();
        self.locked.clear();
    }

    /// Every personal string the visit holds (for tests that prove the wipe).
    pub fn personal_strings(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.values.values().map(String::as_str).collect();
        if let Some(c) = &self.card {
            out.extend([
                c.name.as_str(),
                c.id_number.as_str(),
                c.address.as_str(),
                c.birth_date.as_str(),
            ]);
        }
        out.retain(|s| !s.is_empty());
        out
    }
}

impl Drop for Visit {
    fn drop(&mut self) {
        self.wipe();
    }
}
