//! The stand-in flow's two matters (synthetic), their fields and a minimal validation.

use kiosk::app::i18n::{tr, tr_args};
use slint::{ModelRc, SharedString, VecModel};
use ui::{FieldKind, FormField, Material, MatterGuide, MatterItem, Situation};

pub struct TestMatter {
    pub code: &'static str,
    pub names: [&'static str; 3],
    pub theme: &'static str,
    pub kind: &'static str,
    pub card: bool,
    pub face: bool,
    pub situations: &'static [(&'static str, [&'static str; 3])],
    pub fields: &'static [&'static str],
}

/// A print-type matter (ID card only) and an apply-type matter (card and face, situations).
pub static MATTERS: [TestMatter; 2] = [
    TestMatter {
        code: "310104000101",
        names: [
            "个人社保缴费证明打印",
            "Print a social insurance payment certificate",
            "個人社保繳費證明列印",
        ],
        theme: "social",
        kind: "kind-print",
        card: true,
        face: false,
        situations: &[],
        fields: &["name", "id_number", "purpose", "copies"],
    },
    TestMatter {
        code: "310104000202",
        names: ["居住证签注", "Extend a residence permit", "居住證簽注"],
        theme: "household",
        kind: "kind-apply",
        card: true,
        face: true,
        situations: &[
            ("01", ["在沪就业", "Working in Shanghai", "在滬就業"]),
            (
                "02",
                [
                    "在沪居住（租房）",
                    "Living in Shanghai (renting)",
                    "在滬居住（租房）",
                ],
            ),
        ],
        fields: &["name", "id_number", "phone", "address", "from"],
    },
];

fn pick(locale: &str, t: &[&str; 3]) -> SharedString {
    match locale {
        "en-US" => t[1].into(),
        "zh-HK" => t[2].into(),
        _ => t[0].into(),
    }
}

impl TestMatter {
    pub fn name(&self, locale: &str) -> SharedString {
        pick(locale, &self.names)
    }

    pub fn item(&self, locale: &str) -> MatterItem {
        MatterItem {
            code: self.code.into(),
            name: self.name(locale),
            department: pick(
                locale,
                &[
                    "市人力资源和社会保障局",
                    "Human Resources and Social Security",
                    "市人力資源和社會保障局",
                ],
            ),
            kind_label: tr(locale, self.kind).into(),
            identity_label: tr(
                locale,
                if self.face {
                    "identity-card-face"
                } else {
                    "identity-card"
                },
            )
            .into(),
            bundle: false,
        }
    }

    pub fn guide(&self, locale: &str) -> MatterGuide {
        let item = self.item(locale);
        MatterGuide {
            code: item.code,
            name: item.name,
            department: item.department,
            kind_label: item.kind_label,
            identity_label: item.identity_label,
            legal_limit: tr_args(locale, "limit-working-days", &[("days", "15")]).into(),
            promised_limit: tr_args(locale, "limit-working-days", &[("days", "5")]).into(),
            fee: tr(locale, "fee-free").into(),
            guide_text: SharedString::new(),
        }
    }

    pub fn materials(&self, locale: &str) -> Vec<Material> {
        vec![Material {
            name: pick(locale, &["居民身份证", "Resident ID card", "居民身份證"]),
            note: SharedString::new(),
            e_licence: true,
        }]
    }

    pub fn situations(&self, locale: &str) -> Vec<Situation> {
        self.situations
            .iter()
            .map(|(id, label)| Situation {
                id: (*id).into(),
                label: pick(locale, label),
            })
            .collect()
    }
}

/// Every field the two matters use, labelled in `locale`, empty.
pub fn fields_for(locale: &str) -> Vec<FormField> {
    let f = |id: &str, label: [&str; 3], kind: FieldKind, hint: &str| FormField {
        id: id.into(),
        label: pick(locale, &label),
        kind,
        value: SharedString::new(),
        hint: hint.into(),
        required: true,
        locked: false,
        error: SharedString::new(),
        choices: ModelRc::new(VecModel::<SharedString>::default()),
    };
    let mut purpose = f(
        "purpose",
        ["证明用途", "Purpose", "證明用途"],
        FieldKind::Choice,
        "",
    );
    purpose.choices = ModelRc::new(VecModel::from(vec![
        pick(locale, &["个人留存", "For myself", "個人留存"]),
        pick(locale, &["单位办事", "For an employer", "單位辦事"]),
    ]));
    vec![
        f("name", ["姓名", "Name", "姓名"], FieldKind::Text, ""),
        f(
            "id_number",
            ["公民身份号码", "ID number", "公民身份號碼"],
            FieldKind::IdNumber,
            "",
        ),
        f(
            "phone",
            ["联系电话", "Mobile phone", "聯繫電話"],
            FieldKind::Phone,
            "13800138000",
        ),
        f(
            "address",
            ["现居住地址", "Current address", "現居住地址"],
            FieldKind::Address,
            "上海市浦东新区世纪大道100号",
        ),
        purpose,
        f("copies", ["份数", "Copies", "份數"], FieldKind::Number, "1"),
        f(
            "from",
            ["起始日期", "From", "起始日期"],
            FieldKind::Date,
            "2024-01-01",
        ),
    ]
}

fn id_number_valid(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == bytes[17]
}

/// The validation message for a field's value ("" when valid), in `locale`.
pub fn validate(locale: &str, f: &FormField) -> String {
    let v = f.value.as_str();
    let key = if v.is_empty() {
        if f.kind == FieldKind::Choice {
            "valid-choice"
        } else {
            "valid-required"
        }
    } else {
        match f.kind {
            FieldKind::Phone
                if !(v.len() == 11
                    && v.starts_with('1')
                    && v.bytes().all(|b| b.is_ascii_digit())) =>
            {
                "valid-phone"
            }
            FieldKind::IdNumber if !id_number_valid(v) => "valid-id-number",
            FieldKind::Number if !v.bytes().all(|b| b.is_ascii_digit()) => "valid-number",
            FieldKind::Date
                if !(v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-') =>
            {
                "valid-date"
            }
            _ => return String::new(),
        }
    };
    tr(locale, key)
}
