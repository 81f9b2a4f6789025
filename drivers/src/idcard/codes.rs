//! Code tables printed on the card as digits: gender (GB/T 2261.1) and nation (GB 3304).

/// Gender by GB/T 2261.1. A code outside the table keeps its character, so a new code shows
/// up in diagnostics instead of failing the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    /// 0
    Unknown,
    /// 1
    Male,
    /// 2
    Female,
    /// 9
    Unspecified,
    /// Any other code.
    Other(char),
}

impl Gender {
    pub fn from_code(c: char) -> Gender {
        match c {
            '0' => Gender::Unknown,
            '1' => Gender::Male,
            '2' => Gender::Female,
            '9' => Gender::Unspecified,
            other => Gender::Other(other),
        }
    }

    pub fn code(self) -> char {
        match self {
            Gender::Unknown => '0',
            Gender::Male => '1',
            Gender::Female => '2',
            Gender::Unspecified => '9',
            Gender::Other(c) => c,
        }
    }

    /// Machine form for JSON: `unknown`, `male`, `female`, `unspecified`, `other`.
    pub fn key(self) -> &'static str {
        match self {
            Gender::Unknown => "unknown",
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Unspecified => "unspecified",
            Gender::Other(_) => "other",
        }
    }

    /// The word printed on the card.
    pub fn label_zh(self) -> &'static str {
        match self {
            Gender::Unknown => "未知",
            Gender::Male => "男",
            Gender::Female => "女",
            Gender::Unspecified => "未说明",
            Gender::Other(_) => "其他",
        }
    }
}

/// GB 3304 nations: code and name.
pub const NATIONS: [(u8, &str); 58] = [
    (1, "汉"),
    (2, "蒙古"),
    (3, "回"),
    (4, "藏"),
    (5, "维吾尔"),
    (6, "苗"),
    (7, "彝"),
    (8, "壮"),
    (9, "布依"),
    (10, "朝鲜"),
    (11, "满"),
    (12, "侗"),
    (13, "瑶"),
    (14, "白"),
    (15, "土家"),
    (16, "哈尼"),
    (17, "哈萨克"),
    (18, "傣"),
    (19, "黎"),
    (20, "傈僳"),
    (21, "佤"),
    (22, "畲"),
    (23, "高山"),
    (24, "拉祜"),
    (25, "水"),
    (26, "东乡"),
    (27, "纳西"),
    (28, "景颇"),
    (29, "柯尔克孜"),
    (30, "土"),
    (31, "达斡尔"),
    (32, "仫佬"),
    (33, "羌"),
    (34, "布朗"),
    (35, "撒拉"),
    (36, "毛南"),
    (37, "仡佬"),
    (38, "锡伯"),
    (39, "阿昌"),
    (40, "普米"),
    (41, "塔吉克"),
    (42, "怒"),
    (43, "乌孜别克"),
    (44, "俄罗斯"),
    (45, "鄂温克"),
    (46, "德昂"),
    (47, "保安"),
    (48, "裕固"),
    (49, "京"),
    (50, "塔塔尔"),
    (51, "独龙"),
    (52, "鄂伦春"),
    (53, "赫哲"),
    (54, "门巴"),
    (55, "珞巴"),
    (56, "基诺"),
    (97, "其他"),
    (98, "外国血统中国籍人士"),
];

/// A nation as printed on a resident card: the two-digit code and, when the table knows it,
/// the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nation {
    /// The two characters from the card, e.g. `01`.
    pub code: String,
    /// The name from GB 3304, e.g. `汉`; `None` for a code outside the table.
    pub name: Option<&'static str>,
}

impl zeroize::Zeroize for Nation {
    fn zeroize(&mut self) {
        self.code.zeroize();
        self.name = None;
    }
}

impl Nation {
    pub fn from_code(code: &str) -> Nation {
        let name = code
            .parse::<u8>()
            .ok()
            .filter(|_| code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| NATIONS.iter().find(|(c, _)| *c == n).map(|(_, name)| *name));
        Nation {
            code: code.to_string(),
            name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gender_codes() {
        for (c, key, zh) in [
            ('0', "unknown", "未知"),
            ('1', "male", "男"),
            ('2', "female", "女"),
            ('9', "unspecified", "未说明"),
        ] {
            let g = Gender::from_code(c);
            assert_eq!((g.key(), g.label_zh(), g.code()), (key, zh, c));
        }
        assert_eq!(Gender::from_code('5'), Gender::Other('5'));
        assert_eq!(Gender::from_code('5').code(), '5');
    }

    #[test]
    fn nation_table_is_complete_and_ordered() {
        assert_eq!(NATIONS.len(), 58);
        for (i, (code, _)) in NATIONS.iter().take(56).enumerate() {
            assert_eq!(usize::from(*code), i + 1);
        }
        let names: std::collections::HashSet<_> = NATIONS.iter().map(|(_, n)| n).collect();
        assert_eq!(names.len(), 58, "no duplicate names");
    }

    #[test]
    fn nation_lookup() {
        assert_eq!(Nation::from_code("01").name, Some("汉"));
        assert_eq!(Nation::from_code("43").name, Some("乌孜别克"));
        assert_eq!(Nation::from_code("56").name, Some("基诺"));
        assert_eq!(Nation::from_code("98").name, Some("外国血统中国籍人士"));
        assert_eq!(Nation::from_code("57").name, None);
        assert_eq!(Nation::from_code("1").name, None, "two digits on the card");
        assert_eq!(Nation::from_code("+1").name, None);
        assert_eq!(Nation::from_code("").name, None);
    }
}
