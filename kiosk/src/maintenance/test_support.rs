//! Fixtures for the maintenance tests: synthetic identities only.

use std::collections::BTreeMap;

use crate::outbox::{Applicant, NewSubmission};

/// A submission of a synthetic applicant (valid check digit).
pub fn submission() -> NewSubmission {
    NewSubmission {
        matter_code: "310104010001".into(),
        situation: "01".into(),
        catalog_version: 1,
        applicant: Applicant {
            id_type: "resident".into(),
            id_number: "11010519491231002X".into(),
            name: "张三丰".into(),
            verified_by: "card+face".into(),
        },
        form: BTreeMap::from([("phone".to_string(), "13800138000".to_string())]),
        attachments: vec![],
    }
}
