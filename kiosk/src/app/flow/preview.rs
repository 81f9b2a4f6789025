//! The diagnostics screen's camera preview on the UI thread: asks the face thread (the
//! camera's owner) to stream annotated pictures and shows them; stops on leaving the screen.

use slint::{ComponentHandle, Image, Rgb8Pixel, SharedPixelBuffer};

use super::Flow;
use crate::app::i18n::{tr, tr_args};
use crate::app::workers::face::FaceCmd;
use crate::app::workers::preview::PreviewFrame;
use crate::app::workers::PreviewUpdate;

impl Flow {
    /// The engineer switched the preview on or off.
    pub(super) fn camera_preview(&self, on: bool) {
        let locale = self.locale();
        let Some(face) = &self.services.face else {
            self.with_window(|w| {
                let s = w.global::<ui::Staff>();
                s.set_camera_preview_on(false);
                s.set_camera_preview_note(tr(&locale, "staff-preview-no-camera").into());
            });
            return;
        };
        if !on || !self.state.borrow().staff.unlocked {
            face.send(FaceCmd::StopPreview);
            self.with_window(|w| clear(&w.global::<ui::Staff>()));
            return;
        }
        let tag = {
            let mut st = self.state.borrow_mut();
            st.preview_no += 1;
            st.preview_no
        };
        face.send(FaceCmd::Preview { tag });
        self.with_window(|w| {
            let s = w.global::<ui::Staff>();
            s.set_camera_preview_on(true);
            s.set_camera_preview_note(tr(&locale, "staff-preview-starting").into());
        });
    }

    pub(super) fn on_preview(&self, tag: u64, update: PreviewUpdate) {
        let current = {
            let st = self.state.borrow();
            tag == st.preview_no && st.staff.unlocked
        };
        if !current {
            // A picture for a preview that was stopped, or after the PIN screen closed.
            if let (PreviewUpdate::Frame(_), Some(face)) = (&update, &self.services.face) {
                face.send(FaceCmd::StopPreview);
            }
            return;
        }
        let locale = self.locale();
        self.with_window(|w| {
            let s = w.global::<ui::Staff>();
            match update {
                PreviewUpdate::Frame(p) => {
                    s.set_camera_picture(image(&p));
                    let note = match p.faces {
                        0 => tr(&locale, "staff-preview-no-face"),
                        n => tr_args(&locale, "staff-preview-faces", &[("n", &n.to_string())]),
                    };
                    s.set_camera_preview_note(note.into());
                }
                PreviewUpdate::Ended(why) => {
                    clear(&s);
                    if let Some(e) = why {
                        tracing::warn!(error = %e, "camera preview stopped");
                        s.set_camera_preview_note(
                            tr_args(&locale, "staff-preview-failed", &[("error", &e)]).into(),
                        );
                    }
                }
            }
        });
    }
}

fn clear(s: &ui::Staff<'_>) {
    s.set_camera_picture(Image::default());
    s.set_camera_preview_on(false);
    s.set_camera_preview_note(Default::default());
}

fn image(p: &PreviewFrame) -> Image {
    let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(&p.rgb, p.width, p.height);
    Image::from_rgb8(buffer)
}
