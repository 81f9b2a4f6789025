//! Reading QR codes in camera frames: on the status page the citizen holds the printed
//! receipt up to the camera instead of typing its number. `rqrr` finds and decodes the codes
//! in a greyscale copy of the frame; the copy is wiped afterwards because the frame may also
//! show the citizen's face.

use std::time::Duration;

use zeroize::Zeroizing;

use super::Camera;
use crate::face::image::RgbRef;

/// The texts of every QR code readable in `frame`, in the order they were found. A code that
/// is found but cannot be decoded (blurred, cut off by the frame's edge) is skipped: the next
/// frame gets another chance.
pub fn read_qr_codes(frame: RgbRef<'_>) -> Vec<String> {
    let (w, h) = (frame.width(), frame.height());
    let grey = Zeroizing::new(
        frame
            .data()
            .chunks_exact(3)
            .map(|p| {
                // ITU-R BT.601 luma in fixed point.
                ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8
            })
            .collect::<Vec<u8>>(),
    );
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        grey.get(y * w + x).copied().unwrap_or(255)
    });
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// How a scan for a QR code ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEnd {
    /// A code whose text `accept` took.
    Found(String),
    /// The budget of frame time passed without an acceptable code.
    TimedOut,
    /// `stop` said so (the citizen typed instead, or left the page).
    Stopped,
}

/// Streams frames from `camera` until a QR code whose text `accept` takes is seen, the
/// frames span `budget` (judged by the frames' own timestamps, like the face policy, so a
/// file source scans deterministically), or `stop` returns true (asked before every frame).
/// Codes that are not acceptable (a shop's QR on a leaflet) are ignored. The camera must be
/// enabled; it is idle again afterwards, or in error when the capture failed.
pub fn scan_for_qr(
    camera: &mut Camera,
    budget: Duration,
    accept: &dyn Fn(&str) -> bool,
    stop: &mut dyn FnMut() -> bool,
) -> anyhow::Result<ScanEnd> {
    camera.start_stream()?;
    let mut first: Option<Duration> = None;
    let end = loop {
        if stop() {
            break ScanEnd::Stopped;
        }
        let frame = match camera.next_frame() {
            Ok(f) => f,
            Err(e) => {
                camera.stop_stream();
                return Err(e.into());
            }
        };
        if let Some(text) = read_qr_codes(frame.view()).into_iter().find(|t| accept(t)) {
            break ScanEnd::Found(text);
        }
        let t0 = *first.get_or_insert(frame.at());
        if frame.at().saturating_sub(t0) >= budget {
            break ScanEnd::TimedOut;
        }
    };
    camera.count(match end {
        ScanEnd::Found(_) => "qr_found",
        ScanEnd::TimedOut => "qr_timed_out",
        ScanEnd::Stopped => "qr_stopped",
    });
    camera.stop_stream();
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::{FileSource, Frame};
    use crate::device::{Device, SharedCounters};
    use qrcode::{Color, QrCode};

    /// A `w` x `h` grey frame with `text` as a QR code of `module` pixels per module at
    /// (`x0`, `y0`), drawn with the `qrcode` crate (an encoder independent of the decoder).
    fn frame_with_qr(
        text: &str,
        w: usize,
        h: usize,
        x0: usize,
        y0: usize,
        module: usize,
    ) -> Vec<u8> {
        let code = QrCode::new(text.as_bytes()).unwrap();
        let n = code.width();
        let colors = code.to_colors();
        let mut rgb = vec![210u8; w * h * 3];
        // White paper with a quiet zone of four modules around the code.
        for y in 0..(n + 8) * module {
            for x in 0..(n + 8) * module {
                let (px, py) = (x0 + x, y0 + y);
                if px >= w || py >= h {
                    continue;
                }
                let (mx, my) = ((x / module) as isize - 4, (y / module) as isize - 4);
                let dark = mx >= 0
                    && my >= 0
                    && (mx as usize) < n
                    && (my as usize) < n
                    && colors[my as usize * n + mx as usize] == Color::Dark;
                let v = if dark { 20 } else { 250 };
                rgb[(py * w + px) * 3..(py * w + px) * 3 + 3].copy_from_slice(&[v, v, v]);
            }
        }
        rgb
    }

    #[test]
    fn reads_a_receipt_qr_held_in_the_frame() {
        let text = "https://127.0.0.1:8443/v1/submissions/XH0001000042";
        let (w, h) = (455, 568);
        let rgb = frame_with_qr(text, w, h, 100, 150, 4);
        let found = read_qr_codes(RgbRef::new(w, h, &rgb).unwrap());
        assert_eq!(found, vec![text.to_string()]);
    }

    #[test]
    fn a_frame_without_a_code_reads_nothing() {
        let (w, h) = (320, 240);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
        assert!(read_qr_codes(RgbRef::new(w, h, &rgb).unwrap()).is_empty());
    }

    #[test]
    fn a_code_cut_by_the_frame_edge_is_skipped_not_misread() {
        let text = "XH0001000042";
        let (w, h) = (200, 200);
        // Starts so far right that half the code is outside the frame.
        let rgb = frame_with_qr(text, w, h, 140, 40, 4);
        let found = read_qr_codes(RgbRef::new(w, h, &rgb).unwrap());
        assert!(found.iter().all(|t| t == text), "misread: {found:?}");
        assert!(found.is_empty());
    }

    fn camera_of(frames: Vec<Vec<u8>>, w: usize, h: usize) -> Camera {
        let frames = frames
            .into_iter()
            .map(|rgb| Frame::new(w, h, rgb, Duration::ZERO).unwrap())
            .collect();
        let source = FileSource::from_frames("scan test", frames, 10).unpaced();
        let mut cam = Camera::new(Box::new(source), SharedCounters::in_memory());
        cam.open().unwrap();
        cam.claim().unwrap();
        cam.enable().unwrap();
        cam
    }

    #[test]
    fn a_scan_finds_the_acceptable_code_and_ignores_others() {
        let (w, h) = (320, 320);
        let blank = vec![200u8; w * h * 3];
        let leaflet = frame_with_qr("https://shop.example/offer", w, h, 40, 40, 4);
        let receipt = frame_with_qr("XH0001000007", w, h, 60, 60, 5);
        let mut cam = camera_of(vec![blank, leaflet, receipt], w, h);
        let end = scan_for_qr(
            &mut cam,
            Duration::from_secs(5),
            &|t| t.starts_with("XH"),
            &mut || false,
        )
        .unwrap();
        assert_eq!(end, ScanEnd::Found("XH0001000007".into()));
        assert_eq!(cam.state(), crate::device::DeviceState::Idle);
    }

    #[test]
    fn a_scan_without_a_code_times_out_by_frame_time() {
        let (w, h) = (160, 120);
        // 10 fps and a 0.5 s budget: the sixth frame ends it (the source loops).
        let frames = vec![vec![180u8; w * h * 3]];
        let source = FileSource::from_frames(
            "blank",
            {
                frames
                    .into_iter()
                    .map(|rgb| Frame::new(w, h, rgb, Duration::ZERO).unwrap())
                    .collect()
            },
            10,
        )
        .unpaced()
        .looping(true);
        let mut cam = Camera::new(Box::new(source), SharedCounters::in_memory());
        cam.open().unwrap();
        cam.claim().unwrap();
        cam.enable().unwrap();
        let mut asked = 0;
        let end = scan_for_qr(&mut cam, Duration::from_millis(500), &|_| true, &mut || {
            asked += 1;
            false
        })
        .unwrap();
        assert_eq!(end, ScanEnd::TimedOut);
        assert_eq!(asked, 6);
    }

    #[test]
    fn a_scan_stops_when_asked() {
        let (w, h) = (160, 120);
        let mut cam = camera_of(vec![vec![180u8; w * h * 3]; 3], w, h);
        let mut n = 0;
        let end = scan_for_qr(&mut cam, Duration::from_secs(60), &|_| true, &mut || {
            n += 1;
            n > 2
        })
        .unwrap();
        assert_eq!(end, ScanEnd::Stopped);
    }
}
