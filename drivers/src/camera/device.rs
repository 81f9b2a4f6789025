//! The camera as a kiosk device (the shared UnifiedPOS-style model in `device.rs`): open,
//! claim, enable; a verification runs as one stream (Busy from `start_stream` to
//! `stop_stream`); health text and persistent counters for the diagnostics screen.
//!
//! Counters are persisted on every increment, so they count rare events (streams, failures,
//! verification outcomes), never single frames; the frame count is kept in memory.

use std::sync::mpsc::Receiver;

use anyhow::Context;

use super::{CameraError, CameraSpec, Frame, FrameSource};
use crate::device::{Counters, Device, DeviceCore, DeviceState, SharedCounters, StatusEvent};

/// Name used in events, health output and counters.
pub const CAMERA_DEVICE: &str = "camera";

pub struct Camera {
    core: DeviceCore,
    source: Box<dyn FrameSource + Send>,
    frames_since_open: u64,
}

impl std::fmt::Debug for Camera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Camera")
            .field("source", &self.source.describe())
            .field("state", &self.core.state())
            .finish()
    }
}

impl Camera {
    pub fn new(source: Box<dyn FrameSource + Send>, counters: SharedCounters) -> Camera {
        Camera {
            core: DeviceCore::new(CAMERA_DEVICE, counters),
            source,
            frames_since_open: 0,
        }
    }

    /// A camera from the configuration's `source` (`v4l:0`, `files:PATH`) and frame rate.
    pub fn from_spec(
        spec: &str,
        fps: u32,
        counters: SharedCounters,
    ) -> Result<Camera, CameraError> {
        let source = CameraSpec::parse(spec)?.source(fps)?;
        Ok(Camera::new(source, counters))
    }

    /// The channel of this camera's status events.
    pub fn subscribe(&mut self) -> Receiver<StatusEvent> {
        self.core.subscribe()
    }

    /// The device core, e.g. to share an event channel with other devices.
    pub fn core_mut(&mut self) -> &mut DeviceCore {
        &mut self.core
    }

    /// Counts one event that is not a frame (verification outcomes use this).
    pub fn count(&self, key: &str) {
        self.core.counters.incr(key);
    }

    /// Starts a stream of frames for one verification: the device is busy until
    /// [`stop_stream`](Camera::stop_stream).
    pub fn start_stream(&mut self) -> anyhow::Result<()> {
        self.core.begin("stream")?;
        Ok(())
    }

    /// The next frame of the running stream. A camera failure puts the device in error (it
    /// needs a reopen); the end of a file source is recoverable.
    pub fn next_frame(&mut self) -> Result<Frame, CameraError> {
        if self.core.state() != DeviceState::Busy {
            return Err(CameraError::NotOpen);
        }
        match self.source.next_frame() {
            Ok(f) => {
                self.frames_since_open += 1;
                Ok(f)
            }
            Err(e @ CameraError::EndOfStream) => {
                self.core.fail_recoverable("end_of_stream", e.to_string());
                Err(e)
            }
            Err(e) => {
                self.core.fail("capture", e.to_string());
                Err(e)
            }
        }
    }

    /// Ends the stream: back to idle, counted as `streams_ok`.
    pub fn stop_stream(&mut self) {
        if self.core.state() == DeviceState::Busy {
            self.core.succeed("streams_ok");
        }
    }
}

impl Device for Camera {
    fn name(&self) -> &str {
        self.core.name()
    }

    fn open(&mut self) -> anyhow::Result<()> {
        if let Err(e) = self.source.open() {
            let cause = match &e {
                CameraError::NotFound { .. } => "not_found",
                _ => "open",
            };
            self.core.fail(cause, e.to_string());
            return Err(e).context("camera");
        }
        self.frames_since_open = 0;
        self.core.opened();
        Ok(())
    }

    fn claim(&mut self) -> anyhow::Result<()> {
        Ok(self.core.claim()?)
    }

    fn enable(&mut self) -> anyhow::Result<()> {
        Ok(self.core.enable()?)
    }

    fn release(&mut self) -> anyhow::Result<()> {
        self.core.release();
        Ok(())
    }

    fn close(&mut self) {
        self.source.close();
        self.core.closed();
    }

    fn state(&self) -> DeviceState {
        self.core.state()
    }

    fn check_health(&mut self) -> String {
        let mut text = format!(
            "camera {}: {}, {} frames since open",
            self.source.describe(),
            self.core.state(),
            self.frames_since_open
        );
        if !self.source.is_open() && self.core.state() != DeviceState::Closed {
            text.push_str(", source not streaming");
        }
        if let Some(e) = self.core.last_error() {
            text.push_str(&format!(", last error: {e}"));
        }
        text
    }

    fn counters(&self) -> Counters {
        self.core.counters.snapshot()
    }

    fn last_error(&self) -> Option<String> {
        self.core.last_error()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::camera::FileSource;

    fn two_frames() -> Box<dyn FrameSource + Send> {
        let f = |v: u8| Frame::new(1, 1, vec![v; 3], Duration::ZERO).unwrap();
        Box::new(FileSource::from_frames("mem", vec![f(1), f(2)], 10).unpaced())
    }

    #[test]
    fn lifecycle_stream_and_counters() {
        let mut cam = Camera::new(two_frames(), SharedCounters::in_memory());
        let events = cam.subscribe();
        assert!(cam.start_stream().is_err(), "closed cameras do not stream");
        cam.open().unwrap();
        cam.claim().unwrap();
        cam.enable().unwrap();
        assert!(
            matches!(cam.next_frame(), Err(CameraError::NotOpen)),
            "no stream yet"
        );
        cam.start_stream().unwrap();
        assert_eq!(cam.state(), DeviceState::Busy);
        assert_eq!(cam.next_frame().unwrap().view().data()[0], 1);
        assert_eq!(cam.next_frame().unwrap().view().data()[0], 2);
        assert!(matches!(cam.next_frame(), Err(CameraError::EndOfStream)));
        assert_eq!(
            cam.state(),
            DeviceState::Idle,
            "end of a file source is recoverable"
        );
        assert!(
            cam.check_health().contains("2 frames since open"),
            "{}",
            cam.check_health()
        );
        cam.start_stream().unwrap();
        cam.stop_stream();
        cam.count("verify_pass");
        cam.close();
        let c = cam.counters();
        assert_eq!(c.get("fail_end_of_stream"), 1);
        assert_eq!(c.get("streams_ok"), 1);
        assert_eq!(c.get("verify_pass"), 1);
        let states: Vec<DeviceState> = events.try_iter().map(|e| e.state).collect();
        assert_eq!(
            states,
            vec![
                DeviceState::Idle,
                DeviceState::Busy,
                DeviceState::Idle,
                DeviceState::Busy,
                DeviceState::Idle,
                DeviceState::Closed
            ]
        );
    }

    #[test]
    fn a_missing_camera_leaves_the_device_in_error_with_a_reason() {
        let mut cam = Camera::from_spec("v4l:250", 15, SharedCounters::in_memory()).unwrap();
        assert!(cam.open().is_err());
        assert_eq!(cam.state(), DeviceState::Error);
        assert!(cam.last_error().is_some());
        assert!(cam.check_health().contains("v4l:250"));
        assert!(Camera::from_spec("usb:1", 15, SharedCounters::in_memory()).is_err());
    }
}
