//! A real camera through `nokhwa` (V4L2 on Linux; building it needs `libclang-dev` for the
//! V4L2 bindings, running it needs read/write access to `/dev/videoN`, usually the `video`
//! group). With no camera attached, `open` fails with a clear error; nothing panics.
//!
//! nokhwa's camera handle is not `Send`, so it lives on a capture thread of its own that
//! keeps grabbing; the kiosk side gets the newest frame through a one-slot channel (a slow
//! consumer sees fresh frames, not a backlog). Stale frames are dropped, hence wiped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

use zeroize::Zeroizing;

use super::{CameraError, Frame, FrameSource};

/// Resolution asked of the camera: enough for a face at arm's length, cheap to detect in.
const WANT_WIDTH: u32 = 640;
const WANT_HEIGHT: u32 = 480;
/// How long `next_frame` waits before calling the camera stalled.
const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

pub struct NokhwaSource {
    index: u32,
    fps: u32,
    running: Option<Running>,
}

struct Running {
    frames: Receiver<Result<Frame, CameraError>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for NokhwaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl NokhwaSource {
    pub fn new(index: u32, fps: u32) -> NokhwaSource {
        NokhwaSource {
            index,
            fps: fps.max(1),
            running: None,
        }
    }

    /// How many cameras the system reports (0 on a machine without one).
    pub fn count_cameras() -> Result<usize, CameraError> {
        nokhwa::query(nokhwa::utils::ApiBackend::Auto)
            .map(|v| v.len())
            .map_err(|e| CameraError::NotFound {
                what: "v4l".into(),
                cause: e.to_string(),
            })
    }
}

impl FrameSource for NokhwaSource {
    fn describe(&self) -> String {
        format!(
            "v4l:{} (asking {WANT_WIDTH}x{WANT_HEIGHT} at {} fps)",
            self.index, self.fps
        )
    }

    fn open(&mut self) -> Result<(), CameraError> {
        if self.running.is_some() {
            return Ok(());
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let (ready_tx, ready_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (index, fps, stop2) = (self.index, self.fps, Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name(format!("camera-v4l{index}"))
            .spawn(move || capture_loop(index, fps, stop2, tx, ready_tx))
            .map_err(|e| CameraError::Open {
                what: self.describe(),
                cause: format!("cannot start the capture thread: {e}"),
            })?;
        let running = Running {
            frames: rx,
            stop,
            thread: Some(thread),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => {
                self.running = Some(running);
                Ok(())
            }
            Ok(Err(e)) => {
                running.shut_down();
                Err(e)
            }
            Err(_) => {
                running.shut_down();
                Err(CameraError::Open {
                    what: self.describe(),
                    cause: "the capture thread ended before opening the camera".into(),
                })
            }
        }
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        let running = self.running.as_ref().ok_or(CameraError::NotOpen)?;
        match running.frames.recv_timeout(FRAME_TIMEOUT) {
            Ok(frame) => frame,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(CameraError::Capture(format!(
                "no frame for {} s",
                FRAME_TIMEOUT.as_secs()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(CameraError::Capture("the capture thread stopped".into()))
            }
        }
    }

    fn close(&mut self) {
        if let Some(r) = self.running.take() {
            r.shut_down();
        }
    }

    fn is_open(&self) -> bool {
        self.running.is_some()
    }
}

impl Drop for NokhwaSource {
    fn drop(&mut self) {
        self.close();
    }
}

impl Running {
    fn shut_down(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Empty the slot so a capture thread blocked on nothing notices the stop flag.
        while self.frames.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn capture_loop(
    index: u32,
    fps: u32,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Result<Frame, CameraError>>,
    ready: mpsc::Sender<Result<(), CameraError>>,
) {
    let what = format!("v4l:{index}");
    let format = CameraFormat::new(
        Resolution::new(WANT_WIDTH, WANT_HEIGHT),
        FrameFormat::MJPEG,
        fps,
    );
    let requested = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(format));
    let mut camera = match nokhwa::Camera::new(CameraIndex::Index(index), requested) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(CameraError::NotFound {
                what,
                cause: e.to_string(),
            }));
            return;
        }
    };
    if let Err(e) = camera.open_stream() {
        let _ = ready.send(Err(CameraError::Open {
            what,
            cause: e.to_string(),
        }));
        return;
    }
    let _ = ready.send(Ok(()));
    let started = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let item = grab(&mut camera, started);
        let failed = item.is_err();
        match tx.try_send(item) {
            // A full slot: the consumer is busy; this frame is dropped (and wiped).
            Ok(()) | Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => break,
        }
        if failed {
            // Do not spin on a broken camera.
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let _ = camera.stop_stream();
}

fn grab(camera: &mut nokhwa::Camera, started: Instant) -> Result<Frame, CameraError> {
    let buffer = camera
        .frame()
        .map_err(|e| CameraError::Capture(e.to_string()))?;
    let at = started.elapsed();
    let res = buffer.resolution();
    let (w, h) = (res.width_x as usize, res.height_y as usize);
    // Wiped if decoding fails half-way; moved into the frame (which wipes it) otherwise.
    let mut rgb = Zeroizing::new(vec![0u8; w.saturating_mul(h).saturating_mul(3)]);
    buffer
        .decode_image_to_buffer::<RgbFormat>(&mut rgb)
        .map_err(|e| CameraError::Capture(format!("cannot decode the frame: {e}")))?;
    Frame::new(w, h, std::mem::take(&mut *rgb), at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_camera_is_an_error_not_a_panic() {
        // Index 250 exists on no machine; on one without cameras every index fails the same.
        let mut s = NokhwaSource::new(250, 15);
        let err = s.open().unwrap_err();
        assert!(
            matches!(err, CameraError::NotFound { .. } | CameraError::Open { .. }),
            "{err}"
        );
        assert!(!s.is_open());
        assert!(matches!(s.next_frame(), Err(CameraError::NotOpen)));
    }
}
