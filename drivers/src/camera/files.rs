//! A camera made of pictures: one file, a folder (files in name order), or frames built in
//! memory. Frame `i` is stamped `i / fps`; when paced, `next_frame` also waits until that
//! moment in real time (the demo), when unpaced it returns at once (tests), so tests are
//! deterministic and never depend on how fast the machine is.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{CameraError, Frame, FrameSource};

/// Picture types the file source reads.
const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

pub struct FileSource {
    name: String,
    frames: Vec<Frame>,
    fps: u32,
    paced: bool,
    looping: bool,
    next: usize,
    started: Option<Instant>,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl FileSource {
    /// Reads a picture, or every picture in a folder (name order), decoding them all now so
    /// a bad file is reported at start rather than mid-verification.
    pub fn from_path(path: &Path, fps: u32) -> Result<FileSource, CameraError> {
        let files = picture_files(path)?;
        let mut frames = Vec::with_capacity(files.len());
        for f in &files {
            frames.push(load_picture(f)?);
        }
        Ok(FileSource::new(
            format!("files:{}", path.display()),
            frames,
            fps,
        ))
    }

    /// Frames built in memory (timestamps are replaced by the source's own).
    pub fn from_frames(name: &str, frames: Vec<Frame>, fps: u32) -> FileSource {
        FileSource::new(name.to_string(), frames, fps)
    }

    fn new(name: String, frames: Vec<Frame>, fps: u32) -> FileSource {
        FileSource {
            name,
            frames,
            fps: fps.max(1),
            paced: true,
            looping: false,
            next: 0,
            started: None,
        }
    }

    /// Returns frames as fast as asked (tests); timestamps stay `i / fps`.
    pub fn unpaced(mut self) -> FileSource {
        self.paced = false;
        self
    }

    /// Starts again from the first picture after the last (the demo's endless camera).
    pub fn looping(mut self, looping: bool) -> FileSource {
        self.looping = looping;
        self
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    fn stamp(&self, i: usize) -> Duration {
        Duration::from_secs_f64(i as f64 / self.fps as f64)
    }
}

impl FrameSource for FileSource {
    fn describe(&self) -> String {
        format!(
            "{} ({} pictures at {} fps{}{})",
            self.name,
            self.frames.len(),
            self.fps,
            if self.paced { "" } else { ", unpaced" },
            if self.looping { ", looping" } else { "" }
        )
    }

    fn open(&mut self) -> Result<(), CameraError> {
        self.next = 0;
        self.started = Some(Instant::now());
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let started = self.started.ok_or(CameraError::NotOpen)?;
        if self.frames.is_empty() || (!self.looping && self.next >= self.frames.len()) {
            return Err(CameraError::EndOfStream);
        }
        let at = self.stamp(self.next);
        if self.paced {
            let due = started + at;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let frame = self.frames[self.next % self.frames.len()].retimed(at);
        self.next += 1;
        Ok(frame)
    }

    fn close(&mut self) {
        self.started = None;
    }

    fn is_open(&self) -> bool {
        self.started.is_some()
    }
}

/// The picture files of a path: itself, or a folder's pictures in name order.
fn picture_files(path: &Path) -> Result<Vec<PathBuf>, CameraError> {
    let not_found = |cause: String| CameraError::NotFound {
        what: format!("files:{}", path.display()),
        cause,
    };
    let meta = std::fs::metadata(path).map_err(|e| not_found(e.to_string()))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| not_found(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(not_found(format!(
            "the folder holds no pictures ({})",
            EXTENSIONS.join(", ")
        )));
    }
    Ok(files)
}

/// Decodes one picture to an RGB frame.
pub fn load_picture(path: &Path) -> Result<Frame, CameraError> {
    let img = image::open(path).map_err(|e| CameraError::Picture {
        path: path.to_path_buf(),
        cause: e.to_string(),
    })?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    Frame::new(w, h, rgb.into_raw(), Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(v: u8) -> Frame {
        Frame::new(1, 1, vec![v, v, v], Duration::ZERO).unwrap()
    }

    #[test]
    fn frames_are_stamped_by_index_and_end() {
        let mut s = FileSource::from_frames("mem", vec![tiny(1), tiny(2)], 10).unpaced();
        assert!(matches!(s.next_frame(), Err(CameraError::NotOpen)));
        s.open().unwrap();
        let a = s.next_frame().unwrap();
        let b = s.next_frame().unwrap();
        assert_eq!((a.at(), a.view().data()[0]), (Duration::ZERO, 1));
        assert_eq!(
            (b.at(), b.view().data()[0]),
            (Duration::from_millis(100), 2)
        );
        assert!(matches!(s.next_frame(), Err(CameraError::EndOfStream)));
    }

    #[test]
    fn looping_keeps_time_moving() {
        let mut s = FileSource::from_frames("mem", vec![tiny(7)], 5)
            .unpaced()
            .looping(true);
        s.open().unwrap();
        let stamps: Vec<Duration> = (0..3).map(|_| s.next_frame().unwrap().at()).collect();
        assert_eq!(
            stamps,
            vec![
                Duration::ZERO,
                Duration::from_millis(200),
                Duration::from_millis(400)
            ]
        );
    }

    #[test]
    fn folders_are_read_in_name_order_and_junk_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        for (name, v) in [("b.png", 20u8), ("a.png", 10u8)] {
            image::RgbImage::from_pixel(2, 1, image::Rgb([v, v, v]))
                .save(dir.path().join(name))
                .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
        let mut s = FileSource::from_path(dir.path(), 15).unwrap().unpaced();
        assert_eq!(s.len(), 2);
        s.open().unwrap();
        assert_eq!(s.next_frame().unwrap().view().data()[0], 10);
        assert_eq!(s.next_frame().unwrap().view().data()[0], 20);

        std::fs::write(dir.path().join("c.png"), b"not a png").unwrap();
        let err = FileSource::from_path(dir.path(), 15).unwrap_err();
        assert!(matches!(err, CameraError::Picture { .. }), "{err}");
        assert!(matches!(
            FileSource::from_path(&dir.path().join("missing"), 15),
            Err(CameraError::NotFound { .. })
        ));
    }
}
