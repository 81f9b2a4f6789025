//! Cameras. A [`FrameSource`] delivers RGB frames with timestamps; the face policy judges
//! frames by those timestamps, never by the wall clock, so a file-backed source drives the
//! whole verification deterministically in tests and the demo.
//!
//! - [`files`]: pictures from a file or a folder, paced at a frame rate (tests, demo).
//! - [`native`]: a real camera through `nokhwa` (V4L2 on Linux), captured on its own thread.
//! - [`device`]: the camera as a kiosk device (states, health, counters).
//! - [`qr`]: reading QR codes in frames (the receipt held up on the status page).
//!
//! Frames are personal data: they are wiped when dropped and never written or logged.

pub mod device;
pub mod files;
pub mod native;
pub mod qr;

use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::face::image::RgbRef;

pub use device::Camera;
pub use files::FileSource;
pub use native::NokhwaSource;

#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("camera source {0:?} is not understood; use `v4l:INDEX` or `files:PATH`")]
    BadSpec(String),
    #[error("no camera at {what}: {cause}")]
    NotFound { what: String, cause: String },
    #[error("camera {what} cannot be opened: {cause}")]
    Open { what: String, cause: String },
    #[error("camera capture failed: {0}")]
    Capture(String),
    #[error("picture {path} cannot be read: {cause}")]
    Picture { path: PathBuf, cause: String },
    #[error("the frame source has no more frames")]
    EndOfStream,
    #[error("the camera is not open")]
    NotOpen,
    #[error("bad frame: {0}")]
    BadFrame(String),
}

/// One RGB8 frame and when it was taken, relative to the source's start. Wiped on drop.
pub struct Frame {
    width: usize,
    height: usize,
    rgb: Zeroizing<Vec<u8>>,
    at: Duration,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({}x{} at {:?})", self.width, self.height, self.at)
    }
}

impl Frame {
    pub fn new(
        width: usize,
        height: usize,
        rgb: Vec<u8>,
        at: Duration,
    ) -> Result<Frame, CameraError> {
        let rgb = Zeroizing::new(rgb);
        if width == 0
            || height == 0
            || width.checked_mul(height).and_then(|n| n.checked_mul(3)) != Some(rgb.len())
        {
            return Err(CameraError::BadFrame(format!(
                "{width}x{height} RGB needs {} bytes, got {}",
                width.saturating_mul(height).saturating_mul(3),
                rgb.len()
            )));
        }
        Ok(Frame {
            width,
            height,
            rgb,
            at,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn at(&self) -> Duration {
        self.at
    }

    /// The pixels, for the face engine.
    pub fn view(&self) -> RgbRef<'_> {
        // `new` checked the length once; frames are immutable after that.
        RgbRef::checked_before(self.width, self.height, &self.rgb)
    }

    /// The same pixels at another time (file sources replaying a picture).
    pub fn retimed(&self, at: Duration) -> Frame {
        Frame {
            width: self.width,
            height: self.height,
            rgb: self.rgb.clone(),
            at,
        }
    }
}

/// Anything that delivers camera frames.
pub trait FrameSource {
    /// What the source is, for health output (no personal data).
    fn describe(&self) -> String;
    /// Starts delivering frames.
    fn open(&mut self) -> Result<(), CameraError>;
    /// The next frame; blocks until one is due.
    fn next_frame(&mut self) -> Result<Frame, CameraError>;
    /// Stops delivering frames; `open` may follow.
    fn close(&mut self);
    /// Whether `open` succeeded and `close` has not been called.
    fn is_open(&self) -> bool;
}

/// A configured camera source: `v4l:INDEX` or `files:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSpec {
    V4l(u32),
    Files(PathBuf),
}

impl CameraSpec {
    pub fn parse(s: &str) -> Result<CameraSpec, CameraError> {
        let s = s.trim();
        if let Some(idx) = s.strip_prefix("v4l:") {
            return idx
                .parse()
                .map(CameraSpec::V4l)
                .map_err(|_| CameraError::BadSpec(s.to_string()));
        }
        if let Some(path) = s.strip_prefix("files:") {
            if !path.is_empty() {
                return Ok(CameraSpec::Files(PathBuf::from(path)));
            }
        }
        Err(CameraError::BadSpec(s.to_string()))
    }

    /// Builds the source (not yet opened). File sources loop, for the demo.
    pub fn source(&self, fps: u32) -> Result<Box<dyn FrameSource + Send>, CameraError> {
        Ok(match self {
            CameraSpec::V4l(i) => Box::new(NokhwaSource::new(*i, fps)),
            CameraSpec::Files(p) => Box::new(FileSource::from_path(p, fps)?.looping(true)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(CameraSpec::parse("v4l:0").unwrap(), CameraSpec::V4l(0));
        assert_eq!(
            CameraSpec::parse("files:/tmp/x").unwrap(),
            CameraSpec::Files(PathBuf::from("/tmp/x"))
        );
        for bad in ["", "v4l:", "v4l:-1", "usb:0", "files:"] {
            assert!(
                matches!(CameraSpec::parse(bad), Err(CameraError::BadSpec(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn frames_check_their_size_and_hide_their_pixels() {
        assert!(Frame::new(2, 2, vec![0; 12], Duration::ZERO).is_ok());
        assert!(matches!(
            Frame::new(2, 2, vec![0; 11], Duration::ZERO),
            Err(CameraError::BadFrame(_))
        ));
        assert!(Frame::new(0, 2, vec![], Duration::ZERO).is_err());
        let f = Frame::new(1, 1, vec![1, 2, 3], Duration::from_millis(5)).unwrap();
        assert_eq!(format!("{f:?}"), "Frame(1x1 at 5ms)");
        assert_eq!(f.view().data(), &[1, 2, 3]);
    }
}
