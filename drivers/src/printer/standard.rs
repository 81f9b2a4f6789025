//! The kiosk's standard receipt: what every finished submission prints.

use super::document::{Cut, QrLevel, Receipt, TextStyle};
use super::mask::{mask_id_number, mask_name};

/// Plain inputs; the applicant's name and ID number are masked here, never printed whole.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptInput<'a> {
    pub hall_name: &'a str,
    pub matter_name: &'a str,
    /// Also the receipt's id for idempotent printing.
    pub receipt_no: &'a str,
    /// Already formatted, e.g. `2026-11-27 14:05`.
    pub time: &'a str,
    pub next_steps: &'a [&'a str],
    pub applicant_name: &'a str,
    pub id_number: &'a str,
    /// What the QR code holds: the status query address for this receipt.
    pub qr_payload: &'a str,
}

pub const TITLE: &str = "办事回执";
pub const QR_CAPTION: &str = "扫码查询办理进度";

pub fn standard_receipt(input: &ReceiptInput<'_>) -> Receipt {
    let mut b = Receipt::builder(input.receipt_no)
        .styled(TITLE, TextStyle::default().centered().bold().size(2, 2))
        .styled(input.hall_name, TextStyle::default().centered())
        .rule()
        .line(format!("事项：{}", input.matter_name))
        .line(format!("回执编号：{}", input.receipt_no))
        .line(format!("办理时间：{}", input.time))
        .line(format!("申请人：{}", mask_name(input.applicant_name)))
        .line(format!("证件号码：{}", mask_id_number(input.id_number)))
        .rule();
    if !input.next_steps.is_empty() {
        b = b.styled("后续步骤：", TextStyle::default().bold());
        for (i, step) in input.next_steps.iter().enumerate() {
            b = b.line(format!("{}. {}", i + 1, step));
        }
        b = b.rule();
    }
    b.qr(input.qr_payload, QrLevel::M)
        .styled(QR_CAPTION, TextStyle::default().centered())
        .styled("请妥善保管本回执", TextStyle::default().centered())
        .feed(2)
        .cut(Cut::FeedPartial(3))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::document::Block;
    use crate::printer::encoder::{Encoder, EncoderOptions};

    #[test]
    fn standard_receipt_masks_and_encodes() {
        let steps = [
            "3个工作日内短信通知审核结果",
            "审核通过后凭本回执到3号窗口领取",
        ];
        let r = standard_receipt(&ReceiptInput {
            hall_name: "徐汇区行政服务中心",
            matter_name: "居住证签注",
            receipt_no: "XH20261127000042",
            time: "2026-11-27 14:05",
            next_steps: &steps,
            applicant_name: "张小三",
            id_number: "11010519491231002X",
            qr_payload: "https://example.invalid/v1/submissions/XH20261127000042",
        });
        assert_eq!(r.id(), "XH20261127000042");
        let texts: Vec<&str> = r.texts().collect();
        assert!(texts.contains(&"申请人：张*三"));
        assert!(texts.contains(&"证件号码：1101**********002X"));
        assert!(texts.contains(&"1. 3个工作日内短信通知审核结果"));
        assert!(!texts
            .iter()
            .any(|t| t.contains("张小三") || t.contains("19491231")));
        assert!(matches!(r.blocks.last(), Some(Block::Cut(_))));
        let bytes = Encoder::new(EncoderOptions::default()).encode(&r).unwrap();
        assert!(bytes.windows(16).any(|w| w == b"XH20261127000042"));
    }
}
