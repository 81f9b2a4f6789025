//! Form schemas: typed fields with validation rules, an example value (the field's hint) and
//! prefill from the card. The same validation runs on the touch form, in `kiosk outbox add`,
//! and on every catalog before it is installed (each example must pass its own rules).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Phone,
    IdNumber,
    Choice,
    Amount,
    Address,
}

/// A card field a form field can be prefilled (and locked) from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardField {
    Name,
    IdNumber,
    Gender,
    Nation,
    BirthDate,
    Address,
}

/// One choice of a `choice` field: the stored value and its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label_zh: String,
    pub label_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub kind: FieldKind,
    #[serde(default = "yes")]
    pub required: bool,
    /// Length bounds in characters (text, address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u32>,
    /// Value bounds (number, amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// A valid value, shown as the field's hint.
    pub example: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<CardField>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FormSchema {
    pub fields: Vec<Field>,
}

/// Why a value was refused: the field and a reason the citizen can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldErrorCode,
    /// English detail for logs and engineers (the UI translates `code`).
    pub reason: String,
}

/// Machine-readable reasons; the UI has a translated message for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    Required,
    TooShort,
    TooLong,
    NotANumber,
    OutOfRange,
    BadDate,
    BadPhone,
    BadIdNumber,
    NotAChoice,
    BadAmount,
    UnknownField,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field '{}': {}", self.field, self.reason)
    }
}

impl FormSchema {
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Every field's example value: a form that passes validation (used by
    /// `kiosk outbox add` without `--form`, and by tests).
    pub fn example_values(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|f| (f.id.clone(), f.example.clone()))
            .collect()
    }

    /// Checks every value against its field; reports every problem, not just the first.
    pub fn validate(&self, values: &BTreeMap<String, String>) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for key in values.keys() {
            if self.field(key).is_none() {
                errors.push(FieldError {
                    field: key.clone(),
                    code: FieldErrorCode::UnknownField,
                    reason: "is not a field of this form".into(),
                });
            }
        }
        for field in &self.fields {
            let value = values.get(&field.id).map(|v| v.trim()).unwrap_or("");
            if let Err(e) = field.check(value) {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl Field {
    fn err(&self, code: FieldErrorCode, reason: impl Into<String>) -> FieldError {
        FieldError {
            field: self.id.clone(),
            code,
            reason: reason.into(),
        }
    }

    /// Checks one (trimmed) value.
    pub fn check(&self, value: &str) -> Result<(), FieldError> {
        if value.is_empty() {
            return if self.required {
                Err(self.err(FieldErrorCode::Required, "is required"))
            } else {
                Ok(())
            };
        }
        let chars = value.chars().count() as u32;
        if let Some(min) = self.min_len {
            if chars < min {
                return Err(self.err(
                    FieldErrorCode::TooShort,
                    format!("needs at least {min} characters"),
                ));
            }
        }
        if let Some(max) = self.max_len {
            if chars > max {
                return Err(self.err(
                    FieldErrorCode::TooLong,
                    format!("allows at most {max} characters"),
                ));
            }
        }
        match self.kind {
            FieldKind::Text | FieldKind::Address => Ok(()),
            FieldKind::Number => {
                let n: i64 = value
                    .parse()
                    .map_err(|_| self.err(FieldErrorCode::NotANumber, "is not a whole number"))?;
                self.check_range(n as f64)
            }
            FieldKind::Amount => {
                let n = parse_amount(value).ok_or_else(|| {
                    self.err(
                        FieldErrorCode::BadAmount,
                        "is not an amount in yuan with at most two decimals",
                    )
                })?;
                self.check_range(n)
            }
            FieldKind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|_| ())
                .map_err(|_| self.err(FieldErrorCode::BadDate, "is not a date (YYYY-MM-DD)")),
            FieldKind::Phone => {
                if is_phone(value) {
                    Ok(())
                } else {
                    Err(self.err(
                        FieldErrorCode::BadPhone,
                        "is not a mainland mobile number (11 digits from 1) or a landline (0xx-xxxxxxxx)",
                    ))
                }
            }
            FieldKind::IdNumber => {
                if drivers::idcard::id_number::is_valid(value) {
                    Ok(())
                } else {
                    Err(self.err(
                        FieldErrorCode::BadIdNumber,
                        "is not a valid ID number (18 characters with a correct check digit)",
                    ))
                }
            }
            FieldKind::Choice => {
                if self.choices.iter().any(|c| c.value == value) {
                    Ok(())
                } else {
                    Err(self.err(FieldErrorCode::NotAChoice, "is not one of the choices"))
                }
            }
        }
    }

    fn check_range(&self, n: f64) -> Result<(), FieldError> {
        if self.min.is_some_and(|min| n < min) || self.max.is_some_and(|max| n > max) {
            let lo = self
                .min
                .map(|v| v.to_string())
                .unwrap_or_else(|| "-".into());
            let hi = self
                .max
                .map(|v| v.to_string())
                .unwrap_or_else(|| "-".into());
            return Err(self.err(
                FieldErrorCode::OutOfRange,
                format!("must be between {lo} and {hi}"),
            ));
        }
        Ok(())
    }
}

/// `12`, `12.5`, `12.50`; no sign, at most two decimals.
fn parse_amount(s: &str) -> Option<f64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && frac.is_empty())
    {
        return None;
    }
    s.parse().ok()
}

/// Mainland mobile (1[3-9] + 9 digits) or landline (0 + 2-3 digit area code, optional '-',
/// 7-8 digits).
pub fn is_phone(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return b.iter().all(u8::is_ascii_digit);
    }
    if b.first() == Some(&b'0') {
        let digits: String = s.chars().filter(|c| *c != '-').collect();
        let dashes = s.matches('-').count();
        return dashes <= 1
            && digits.chars().all(|c| c.is_ascii_digit())
            && (10..=12).contains(&digits.len());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind) -> Field {
        Field {
            id: "f".into(),
            label_zh: "字段".into(),
            label_en: "Field".into(),
            kind,
            required: true,
            min_len: None,
            max_len: None,
            min: None,
            max: None,
            choices: vec![],
            example: String::new(),
            prefill: None,
        }
    }

    #[test]
    fn each_kind_accepts_good_and_refuses_bad_values() {
        let phone = field(FieldKind::Phone);
        assert!(phone.check("13800138000").is_ok());
        assert!(phone.check("021-64870000").is_ok());
        assert_eq!(
            phone.check("12345").unwrap_err().code,
            FieldErrorCode::BadPhone
        );
        let id = field(FieldKind::IdNumber);
        assert!(id.check("11010519491231002X").is_ok());
        assert_eq!(
            id.check("37070419881216001X").unwrap_err().code,
            FieldErrorCode::BadIdNumber
        );
        let date = field(FieldKind::Date);
        assert!(date.check("2026-02-28").is_ok());
        assert!(date.check("2026-02-30").is_err());
        let mut num = field(FieldKind::Number);
        num.min = Some(1.0);
        num.max = Some(500.0);
        assert!(num.check("12").is_ok());
        assert_eq!(num.check("0").unwrap_err().code, FieldErrorCode::OutOfRange);
        assert_eq!(
            num.check("1.5").unwrap_err().code,
            FieldErrorCode::NotANumber
        );
        let amount = field(FieldKind::Amount);
        assert!(amount.check("100.50").is_ok());
        assert!(amount.check("100.505").is_err());
        assert!(amount.check("-1").is_err());
        assert!(amount.check("1.").is_err());
        let mut choice = field(FieldKind::Choice);
        choice.choices = vec![Choice {
            value: "a".into(),
            label_zh: "甲".into(),
            label_en: "A".into(),
        }];
        assert!(choice.check("a").is_ok());
        assert_eq!(
            choice.check("b").unwrap_err().code,
            FieldErrorCode::NotAChoice
        );
        let mut text = field(FieldKind::Text);
        text.min_len = Some(2);
        text.max_len = Some(4);
        assert!(
            text.check("张三").is_ok(),
            "length counts characters, not bytes"
        );
        assert_eq!(text.check("张").unwrap_err().code, FieldErrorCode::TooShort);
        assert_eq!(
            text.check("张三丰李四").unwrap_err().code,
            FieldErrorCode::TooLong
        );
    }

    #[test]
    fn validate_reports_every_problem_and_unknown_fields() {
        let mut opt = field(FieldKind::Text);
        opt.id = "note".into();
        opt.required = false;
        let form = FormSchema {
            fields: vec![field(FieldKind::Phone), opt],
        };
        let errs = form
            .validate(&BTreeMap::from([("x".to_string(), "1".to_string())]))
            .unwrap_err();
        let codes: Vec<_> = errs.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            vec![FieldErrorCode::UnknownField, FieldErrorCode::Required]
        );
        assert_eq!(errs[1].to_string(), "field 'f': is required");
    }
}
