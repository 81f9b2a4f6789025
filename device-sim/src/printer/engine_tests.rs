//! The engine fed with hand-written ESC/POS (from the spec, not from the driver).

use super::*;

const CJK: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";
const LATIN: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

fn engine(dir: &Path, state: PrinterState) -> Engine {
    let fonts = Arc::new(Fonts::load(Path::new(CJK), Some(Path::new(LATIN))).unwrap());
    Engine::new(fonts, dir, ModelOptions::default(), state).unwrap()
}

/// 回执 (BB D8 D6 B4), a QR holding `payload`, a cut.
fn receipt_bytes(payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1D, 0x21, 0x11];
    b.extend([0xBB, 0xD8, 0xD6, 0xB4, 0x0A]);
    b.extend([0x1D, 0x21, 0x00, b'N', b'o', b'.', b'7', 0x0A]);
    b.extend([0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]);
    b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]);
    let len = payload.len() + 3;
    b.extend([
        0x1D,
        0x28,
        0x6B,
        (len & 0xFF) as u8,
        (len >> 8) as u8,
        0x31,
        0x50,
        0x30,
    ]);
    b.extend(payload);
    b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    b.extend([0x1B, 0x64, 0x02, 0x1D, 0x56, 0x42, 0x03]);
    b
}

fn decode_qr(png: &Path) -> Vec<String> {
    let img = image::open(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().unwrap().1)
        .collect()
}

#[test]
fn a_receipt_becomes_png_text_and_qr() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), PrinterState::default());
    let payload = b"https://example.invalid/v1/submissions/XH20261127000042";
    e.receive(&receipt_bytes(payload));
    let r = &e.receipts()[0];
    assert_eq!(r.number, 1);
    assert_eq!(r.text, "回执\nNo.7\n[QR]\n");
    assert_eq!(
        r.qr_payloads,
        vec![String::from_utf8_lossy(payload).to_string()]
    );
    assert_eq!(std::fs::read_to_string(&r.txt).unwrap(), r.text);
    assert_eq!(
        std::fs::read_to_string(&r.qr_txt).unwrap().trim_end(),
        r.qr_payloads[0]
    );
    let png = image::open(&r.png).unwrap();
    assert_eq!(png.width(), 576);
    assert_eq!(decode_qr(&r.png), r.qr_payloads, "the drawn QR reads back");
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn status_requests_are_answered_from_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), PrinterState::default());
    e.receive(&[0x10, 0x04, 0x01, 0x10, 0x04, 0x04]);
    assert_eq!(e.take_outgoing(), vec![0x12, 0x12]);
    e.update_state(|s| s.cover_open = true);
    e.receive(&[0x10, 0x04, 0x02]);
    assert_eq!(e.take_outgoing(), vec![0x16]);
    e.update_state(|s| {
        s.cover_open = false;
        s.paper = Paper::Out;
    });
    e.receive(&[0x10, 0x04, 0x04]);
    assert_eq!(e.take_outgoing(), vec![0x7E]);
}

#[test]
fn automatic_status_back_at_once_and_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), PrinterState::default());
    e.receive(&[0x1D, 0x61, 0x0F]);
    assert_eq!(e.take_outgoing(), vec![0x10, 0x00, 0x00, 0x00]);
    e.update_state(|s| s.cover_open = true);
    assert_eq!(e.take_outgoing(), vec![0x38, 0x00, 0x00, 0x00]);
    e.update_state(|s| s.cover_open = true);
    assert_eq!(e.take_outgoing(), Vec::<u8>::new(), "no change, no block");
    e.update_state(|s| s.cover_open = false);
    assert_eq!(e.take_outgoing(), vec![0x10, 0x00, 0x00, 0x00]);
    e.receive(&[0x1D, 0x61, 0x00]);
    e.update_state(|s| s.cover_open = true);
    assert_eq!(e.take_outgoing(), Vec::<u8>::new(), "switched off");
}

#[test]
fn paper_runs_out_mid_receipt_and_the_rest_prints_after_reloading() {
    let dir = tempfile::tempdir().unwrap();
    let state = PrinterState {
        lines_until_out: Some(1),
        ..PrinterState::default()
    };
    let mut e = engine(dir.path(), state);
    let payload = b"XH-1";
    let mut bytes = receipt_bytes(payload);
    bytes.extend([0x10, 0x04, 0x04]);
    e.receive(&bytes);
    assert_eq!(e.state().paper, Paper::Out);
    assert!(e.receipts().is_empty(), "not cut yet");
    assert!(e.held_bytes() > 0);
    assert_eq!(
        e.take_outgoing(),
        vec![0x7E],
        "status answered while stopped"
    );
    e.set_paper(Paper::Ok);
    assert_eq!(e.held_bytes(), 0);
    assert_eq!(e.receipts().len(), 1);
    assert_eq!(e.receipts()[0].text, "回执\nNo.7\n[QR]\n");
    assert!(
        e.take_outgoing().is_empty(),
        "the held request is not answered twice"
    );
}

#[test]
fn open_cover_holds_everything_until_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(
        dir.path(),
        PrinterState {
            cover_open: true,
            ..PrinterState::default()
        },
    );
    e.receive(&receipt_bytes(b"Q"));
    assert!(e.receipts().is_empty());
    e.update_state(|s| s.cover_open = false);
    assert_eq!(e.receipts().len(), 1);
}

#[test]
fn numbering_continues_after_a_restart_and_blank_cuts_make_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), PrinterState::default());
    e.receive(&[0x1D, 0x56, 0x00]);
    assert!(e.receipts().is_empty());
    e.receive(&receipt_bytes(b"A"));
    drop(e);
    let mut again = engine(dir.path(), PrinterState::default());
    again.receive(&receipt_bytes(b"B"));
    assert_eq!(again.receipts()[0].number, 2);
    assert!(dir.path().join("receipt-0002.png").exists());
}

#[test]
fn undecodable_text_prints_as_question_marks() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), PrinterState::default());
    // 𠮷 as 4-byte GB18030 on a 2-byte model, then a byte outside Chinese mode.
    e.receive(&[
        0x95, 0x34, 0xB2, 0x35, 0x0A, 0x1C, 0x2E, 0xC4, 0x0A, 0x1D, 0x56, 0x00,
    ]);
    let r = &e.receipts()[0];
    assert_eq!(r.text, "??\n?\n");
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
}
