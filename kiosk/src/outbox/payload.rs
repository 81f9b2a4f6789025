//! What a submission carries, in the shape of the central API contract
//! (`docs/central-api.md`). The personal part (applicant, form, attachments) is sealed with
//! the data key before it touches the disk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The contract's `applicant` object. Wiped from memory when dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Applicant {
    /// `resident`, `permit`, `foreign_2017`, `foreign_2023`, or `none` for matters that need
    /// no identity.
    pub id_type: String,
    pub id_number: String,
    pub name: String,
    /// `card+face`, `card`, `staff`, or `none`.
    pub verified_by: String,
}

/// The contract's attachment object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Attachment {
    pub name: String,
    pub sha256: String,
    pub bytes_b64: String,
}

/// A submission as the citizen made it, before it is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSubmission {
    pub matter_code: String,
    pub situation: String,
    /// The catalog version the form was filled against (kept with the submission, so a
    /// catalog switch never changes what was submitted).
    pub catalog_version: u64,
    pub applicant: Applicant,
    pub form: BTreeMap<String, String>,
    pub attachments: Vec<Attachment>,
}

impl Drop for NewSubmission {
    fn drop(&mut self) {
        for v in self.form.values_mut() {
            v.zeroize();
        }
    }
}

/// The personal part that is sealed into `submissions.payload`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SealedPayload {
    pub applicant: Applicant,
    pub form: BTreeMap<String, String>,
    pub attachments: Vec<Attachment>,
}

impl Drop for SealedPayload {
    fn drop(&mut self) {
        for v in self.form.values_mut() {
            v.zeroize();
        }
    }
}
