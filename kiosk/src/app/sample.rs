//! Synthetic sample data for `kiosk screenshot` and the docs: a made-up citizen (张三丰, ID
//! 11010519491231002X, check digit valid) and a few matters in the style of Shanghai's catalog.
//! Nothing here is real; nothing here is used at run time by a kiosk serving citizens.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ui::{
    App, AppWindow, CardState, Catalog, ErrorKind, FaceHint, FieldKind, Fl, Form, FormField, Guide,
    Material, MatterGuide, MatterItem, Page, Rating, Receipt, ReceiptState, Situation, StatusQuery,
    StatusResult, StatusState, SubmitStage, ThemeItem,
};

use super::i18n::{offered, tr, tr_args};
use super::keyboard;

/// The pages `kiosk screenshot` can render, with what each shows.
pub const PAGES: &[(&str, &str)] = &[
    (
        "home",
        "Home: themes, popular matters, bundles, search, language and elder switches",
    ),
    ("search", "Search results with the keyboard"),
    (
        "guide",
        "Matter guide: materials, time limits, fee, situations",
    ),
    ("card", "Put your ID card (card read)"),
    ("face", "Look at the camera with the liveness prompt"),
    (
        "face-failed",
        "Face match failed three times: alternative offered",
    ),
    (
        "form",
        "Form with locked card fields and a validation message",
    ),
    (
        "form-keyboard",
        "Form typing an address with the pinyin keyboard",
    ),
    ("review", "Review before submitting"),
    ("submitting", "Submitting"),
    ("receipt", "Receipt printed"),
    (
        "receipt-qr",
        "Receipt shown as a QR because the printer cannot print",
    ),
    ("rating", "Rating, five levels"),
    ("status-query", "Check my submission: result found"),
    (
        "idle-warning",
        "Idle warning overlay with countdown over the form",
    ),
    ("maintenance", "Under maintenance (staff mode)"),
    ("error", "A device is unavailable"),
    ("error-face", "Face match unavailable, staff help"),
    ("error-disk", "Disk full: cannot accept submissions now"),
    (
        "diagnostics-pin",
        "Staff diagnostics: the PIN pad after a wrong PIN",
    ),
    (
        "diagnostics",
        "Staff diagnostics: devices, outbox, sync, catalog, actions",
    ),
];

/// Sample ID card holder (synthetic; valid check digit).
pub const SAMPLE_NAME: &str = "张三丰";
pub const SAMPLE_ID: &str = "11010519491231002X";
pub const SAMPLE_ADDRESS: &str = "北京市东城区景山前街4号";
pub const SAMPLE_RECEIPT: &str = "SH2405010001";

fn s(text: &str) -> SharedString {
    text.into()
}

/// Chooses the sample text for the locale: zh-CN, en-US or zh-HK.
fn l(locale: &str, zh: &str, en: &str, hk: &str) -> SharedString {
    match locale {
        "en-US" => en.into(),
        "zh-HK" => hk.into(),
        _ => zh.into(),
    }
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

fn matter(
    locale: &str,
    code: &str,
    names: [&str; 3],
    dept: [&str; 3],
    kind: &str,
    id: &str,
    bundle: bool,
) -> MatterItem {
    MatterItem {
        code: s(code),
        name: l(locale, names[0], names[1], names[2]),
        department: l(locale, dept[0], dept[1], dept[2]),
        kind_label: tr(locale, kind).into(),
        identity_label: tr(locale, id).into(),
        bundle,
    }
}

const HRSS: [&str; 3] = [
    "市人力资源和社会保障局",
    "Human Resources and Social Security",
    "市人力資源和社會保障局",
];
const PSB: [&str; 3] = ["市公安局", "Public Security Bureau", "市公安局"];
const HPF: [&str; 3] = [
    "市住房公积金管理中心",
    "Housing Provident Fund Centre",
    "市住房公積金管理中心",
];
const SAMR: [&str; 3] = [
    "市市场监督管理局",
    "Market Regulation Administration",
    "市市場監督管理局",
];

/// Fills the Home catalog models in `locale`.
pub fn fill_home(window: &AppWindow, locale: &str) {
    let c = window.global::<Catalog>();
    let persons = [
        ("social", ["社会保障", "Social insurance", "社會保障"]),
        (
            "household",
            ["户籍办理", "Household registration", "戶籍辦理"],
        ),
        ("family", ["婚育收养", "Marriage and children", "婚育收養"]),
        ("housing", ["住房公积金", "Housing fund", "住房公積金"]),
        ("health", ["医疗卫生", "Health care", "醫療衞生"]),
        ("retire", ["退休养老", "Retirement", "退休養老"]),
    ];
    let businesses = [
        ("open", ["开办企业", "Starting a business", "開辦企業"]),
        ("tax", ["税务办理", "Taxes", "稅務辦理"]),
        ("permit", ["许可审批", "Permits", "許可審批"]),
        ("hire", ["招聘用工", "Hiring", "招聘用工"]),
        ("close", ["企业注销", "Closing a business", "企業註銷"]),
    ];
    let tiles = |list: &[(&str, [&str; 3])]| {
        model(
            list.iter()
                .map(|(id, n)| ThemeItem {
                    id: s(id),
                    name: l(locale, n[0], n[1], n[2]),
                })
                .collect(),
        )
    };
    c.set_person_themes(tiles(&persons));
    c.set_business_themes(tiles(&businesses));
    c.set_popular(model(vec![
        matter(
            locale,
            "310104000101",
            [
                "个人社保缴费证明打印",
                "Print a social insurance payment certificate",
                "個人社保繳費證明列印",
            ],
            HRSS,
            "kind-print",
            "identity-card-face",
            false,
        ),
        matter(
            locale,
            "310104000202",
            ["居住证签注", "Extend a residence permit", "居住證簽注"],
            PSB,
            "kind-apply",
            "identity-card-face",
            false,
        ),
        matter(
            locale,
            "310104000303",
            [
                "住房公积金账户查询",
                "Check a housing fund account",
                "住房公積金賬戶查詢",
            ],
            HPF,
            "kind-query",
            "identity-card",
            false,
        ),
    ]));
    c.set_bundles(model(vec![matter(
        locale,
        "310104900001",
        [
            "开办饭店一件事",
            "Open a restaurant: one visit",
            "開辦飯店一件事",
        ],
        SAMR,
        "kind-apply",
        "identity-card-face",
        true,
    )]));
}

fn guide(window: &AppWindow, locale: &str) {
    let g = window.global::<Guide>();
    g.set_matter(MatterGuide {
        code: s("310104000202"),
        name: l(locale, "居住证签注", "Extend a residence permit", "居住證簽注"),
        department: l(locale, PSB[0], PSB[1], PSB[2]),
        kind_label: tr(locale, "kind-apply").into(),
        identity_label: tr(locale, "identity-card-face").into(),
        legal_limit: tr_args(locale, "limit-working-days", &[("days", "15")]).into(),
        promised_limit: tr_args(locale, "limit-working-days", &[("days", "5")]).into(),
        fee: tr(locale, "fee-free").into(),
        guide_text: l(
            locale,
            "居住证有效期满前30日内可在自助机办理签注，签注后有效期延长一年。",
            "Within 30 days before your residence permit expires you can extend it here; it then runs for one more year.",
            "居住證有效期滿前30日內可在自助機辦理簽注，簽注後有效期延長一年。",
        ),
    });
    g.set_materials(model(vec![
        Material {
            name: l(locale, "居民身份证", "Resident ID card", "居民身份證"),
            note: l(locale, "原件", "Original", "原件"),
            e_licence: true,
        },
        Material {
            name: l(locale, "居住证", "Residence permit", "居住證"),
            note: SharedString::new(),
            e_licence: true,
        },
        Material {
            name: l(
                locale,
                "劳动合同或租赁合同",
                "Work contract or tenancy agreement",
                "勞動合同或租賃合同",
            ),
            note: l(locale, "复印件一份", "One copy", "複印件一份"),
            e_licence: false,
        },
    ]));
    g.set_situations(model(vec![
        Situation {
            id: s("01"),
            label: l(locale, "在沪就业", "Working in Shanghai", "在滬就業"),
        },
        Situation {
            id: s("02"),
            label: l(
                locale,
                "在沪居住（租房）",
                "Living in Shanghai (renting)",
                "在滬居住（租房）",
            ),
        },
        Situation {
            id: s("03"),
            label: l(locale, "在沪就读", "Studying in Shanghai", "在滬就讀"),
        },
    ]));
    g.set_selected_situation(1);
}

/// The sample form: name, ID and address locked from the card; a phone with a validation
/// message; a choice; a date; a count; and an address typed with the keyboard.
fn form(window: &AppWindow, locale: &str, bad_phone: bool) {
    let f = |id: &str,
             label: SharedString,
             kind: FieldKind,
             value: &str,
             hint: &str,
             locked: bool,
             error: &str| FormField {
        id: s(id),
        label,
        kind,
        value: s(value),
        hint: s(hint),
        required: true,
        locked,
        error: if error.is_empty() {
            SharedString::new()
        } else {
            tr(locale, error).into()
        },
        choices: model(Vec::new()),
    };
    let mut purpose = f(
        "purpose",
        l(locale, "证明用途", "Purpose", "證明用途"),
        FieldKind::Choice,
        "1",
        "",
        false,
        "",
    );
    purpose.choices = model(vec![
        l(locale, "个人留存", "For myself", "個人留存"),
        l(locale, "单位办事", "For an employer", "單位辦事"),
        l(locale, "其他", "Other", "其他"),
    ]);
    let fields = vec![
        f(
            "name",
            l(locale, "姓名", "Name", "姓名"),
            FieldKind::Text,
            SAMPLE_NAME,
            "",
            true,
            "",
        ),
        f(
            "id_number",
            l(locale, "公民身份号码", "ID number", "公民身份號碼"),
            FieldKind::IdNumber,
            SAMPLE_ID,
            "",
            true,
            "",
        ),
        f(
            "card_address",
            l(locale, "户籍地址", "Registered address", "戶籍地址"),
            FieldKind::Address,
            SAMPLE_ADDRESS,
            "",
            true,
            "",
        ),
        f(
            "phone",
            l(locale, "联系电话", "Mobile phone", "聯繫電話"),
            FieldKind::Phone,
            if bad_phone {
                "1380013800"
            } else {
                "13800138000"
            },
            "13800138000",
            false,
            if bad_phone { "valid-phone" } else { "" },
        ),
        purpose,
        f(
            "from",
            l(locale, "起始月份", "From month", "起始月份"),
            FieldKind::Date,
            "",
            "2024-01",
            false,
            "",
        ),
        f(
            "address",
            l(locale, "现居住地址", "Current address", "現居住地址"),
            FieldKind::Address,
            "上海市浦东新区",
            "上海市浦东新区世纪大道100号",
            false,
            "",
        ),
        f(
            "copies",
            l(locale, "份数", "Copies", "份數"),
            FieldKind::Number,
            "2",
            "1",
            false,
            "",
        ),
    ];
    window.global::<Form>().set_fields(model(fields));
}

fn header(window: &AppWindow, locale: &str, step: i32) {
    let app = window.global::<App>();
    app.set_matter_name(l(
        locale,
        "居住证签注",
        "Extend a residence permit",
        "居住證簽注",
    ));
    app.set_step(step);
    app.set_step_count(if step > 0 { 6 } else { 0 });
}

/// Shows `page` with sample data in `locale` (elder mode is set by the caller on `Theme`).
pub fn show(window: &AppWindow, page: &str, locale: &str) -> anyhow::Result<()> {
    let locale = offered(locale);
    window.global::<Fl>().set_lang(locale.into());
    fill_home(window, locale);
    let app = window.global::<App>();
    let set = |p: Page| app.set_page(p);
    match page {
        "home" => set(Page::Home),
        "search" => {
            let c = window.global::<Catalog>();
            c.set_query(s("shebao"));
            let popular = c.get_popular();
            c.set_results(popular);
            set(Page::Search);
        }
        "guide" => {
            header(window, locale, 1);
            guide(window, locale);
            set(Page::Guide);
        }
        "card" => {
            header(window, locale, 2);
            let card = window.global::<ui::Card>();
            card.set_state(CardState::Read);
            card.set_holder_name(s("张*丰"));
            card.set_id_masked(s("110105********002X"));
            set(Page::Card);
        }
        "face" | "face-failed" => {
            header(window, locale, 3);
            let face = window.global::<ui::Face>();
            if page == "face" {
                face.set_hint(FaceHint::TurnLeft);
                face.set_attempt(1);
            } else {
                face.set_hint(FaceHint::NotMatched);
                face.set_attempt(3);
                face.set_offer_alternative(true);
            }
            set(Page::Face);
        }
        "form" | "idle-warning" => {
            header(window, locale, 4);
            form(window, locale, true);
            set(Page::Form);
            if page == "idle-warning" {
                app.set_idle_warning(true);
                app.set_idle_seconds_left(12);
            }
        }
        "form-keyboard" => {
            header(window, locale, 4);
            form(window, locale, false);
            set(Page::Form);
            window.global::<Form>().set_focused(6);
            for key in ["s", "h", "i", "j", "i"] {
                keyboard::key_pressed(window, key);
            }
        }
        "review" => {
            header(window, locale, 5);
            form(window, locale, false);
            set(Page::Review);
        }
        "submitting" => {
            header(window, locale, 6);
            window.global::<Receipt>().set_stage(SubmitStage::Printing);
            set(Page::Submitting);
        }
        "receipt" | "receipt-qr" => {
            header(window, locale, 6);
            let r = window.global::<Receipt>();
            r.set_number(s(SAMPLE_RECEIPT));
            r.set_submitted_at(s("2024-05-01 23:05"));
            r.set_promised_limit(tr_args(locale, "limit-working-days", &[("days", "5")]).into());
            if page == "receipt" {
                r.set_state(ReceiptState::Printed);
            } else {
                r.set_state(ReceiptState::ShownOnScreen);
                if let Some(img) = super::qr::image(SAMPLE_RECEIPT) {
                    r.set_qr(img);
                }
            }
            set(Page::Receipt);
        }
        "rating" => {
            window.global::<Rating>().set_level(4);
            set(Page::Rating);
        }
        "status-query" => {
            let q = window.global::<StatusQuery>();
            q.set_number(s(SAMPLE_RECEIPT));
            q.set_state(StatusState::Found);
            q.set_result(StatusResult {
                receipt_number: s(SAMPLE_RECEIPT),
                matter_name: l(
                    locale,
                    "居住证签注",
                    "Extend a residence permit",
                    "居住證簽注",
                ),
                status_label: tr(locale, "status-in-review").into(),
                severity: 0,
                submitted_at: s("2024-05-01 23:05"),
                updated_at: s("2024-05-02 09:30"),
            });
            set(Page::StatusQuery);
        }
        "maintenance" => set(Page::Maintenance),
        "diagnostics-pin" => {
            let st = window.global::<ui::Staff>();
            st.set_pin_dots(s("••"));
            st.set_pin_message(tr_args(locale, "staff-wrong-pin", &[("left", "3")]).into());
            set(Page::Diagnostics);
        }
        "diagnostics" => {
            let st = window.global::<ui::Staff>();
            st.set_unlocked(true);
            let fact = |label: &str, value: &str, ok: bool| ui::StaffFact {
                label: s(label),
                value: s(value),
                ok,
            };
            st.set_devices(model(vec![
                fact(
                    "id_reader",
                    "idle · SAM 05.01 · reads_ok 412, fail_read 3",
                    true,
                ),
                fact("printer", "error · paper out · receipts 398", false),
                fact(
                    "camera",
                    "idle · verify_pass 377, verify_fail_no_match 9",
                    true,
                ),
            ]));
            st.set_facts(model(vec![
                fact(
                    &tr(locale, "staff-outbox"),
                    "pending 2, in flight 0, quarantined 0, acked 1240, oldest 95 s",
                    true,
                ),
                fact(
                    &tr(locale, "staff-sync"),
                    "idle · last success 2024-05-01 23:04 · last error - · next -",
                    true,
                ),
                fact(&tr(locale, "staff-catalog"), "v42", true),
                fact(&tr(locale, "staff-network"), "central reachable", true),
                fact(&tr(locale, "staff-disk"), "51234 MiB free", true),
                fact(&tr(locale, "staff-version"), "0.1.0 · 86400 s", true),
            ]));
            st.set_action_result(
                tr_args(
                    locale,
                    "staff-done",
                    &[("what", &tr(locale, "staff-test-print"))],
                )
                .into(),
            );
            set(Page::Diagnostics);
        }
        "error" | "error-face" | "error-disk" => {
            app.set_error_kind(match page {
                "error-face" => ErrorKind::FaceUnavailable,
                "error-disk" => ErrorKind::DiskFull,
                _ => ErrorKind::DeviceUnavailable,
            });
            set(Page::Error);
        }
        other => {
            let names: Vec<&str> = PAGES.iter().map(|(n, _)| *n).collect();
            anyhow::bail!("no page named {other:?}; pages: {}", names.join(", "));
        }
    }
    Ok(())
}
