//! Off-screen rendering with Slint's software renderer: no display, no GPU. Used by
//! `kiosk screenshot` for docs and checks.

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::{anyhow, Context};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, PhysicalSize, PlatformError, Rgb8Pixel};

/// A platform whose windows are pixel buffers. Each new component gets a fresh window; the
/// latest one is the one [`Offscreen::render`] draws.
struct OffscreenPlatform {
    latest: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
}

impl Platform for OffscreenPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        *self.latest.borrow_mut() = Some(window.clone());
        Ok(window)
    }
}

/// Handle to the off-screen platform (one per process: Slint allows one platform).
pub struct Offscreen {
    latest: Rc<RefCell<Option<Rc<MinimalSoftwareWindow>>>>,
}

impl Offscreen {
    /// Installs the off-screen platform. Fails if another platform is already set.
    pub fn init() -> anyhow::Result<Offscreen> {
        let latest = Rc::new(RefCell::new(None));
        slint::platform::set_platform(Box::new(OffscreenPlatform {
            latest: latest.clone(),
        }))
        .map_err(|e| anyhow!("cannot set up off-screen rendering: {e}"))?;
        Ok(Offscreen { latest })
    }

    /// Renders `component` (the most recently created one) at `width`x`height` logical pixels
    /// times `scale`, into an RGB image.
    pub fn render<C: ComponentHandle>(
        &self,
        component: &C,
        width: u32,
        height: u32,
        scale: f32,
    ) -> anyhow::Result<image::RgbImage> {
        let window = self
            .latest
            .borrow()
            .clone()
            .context("no window was created on the off-screen platform")?;
        let pw = ((width as f32) * scale).round().max(1.0) as u32;
        let ph = ((height as f32) * scale).round().max(1.0) as u32;
        window.dispatch_event(WindowEvent::ScaleFactorChanged {
            scale_factor: scale,
        });
        window.set_size(PhysicalSize::new(pw, ph));
        component.show().context("showing the window off-screen")?;
        // Two passes: the first lays out and instantiates the page, the second draws the
        // settled state (property changes from the first pass, e.g. Theme.landscape).
        let mut pixels = vec![Rgb8Pixel::default(); (pw * ph) as usize];
        for _ in 0..2 {
            slint::platform::update_timers_and_animations();
            window.request_redraw();
            window.draw_if_needed(|renderer| {
                renderer.render(&mut pixels, pw as usize);
            });
        }
        component.hide().context("hiding the off-screen window")?;
        let mut out = image::RgbImage::new(pw, ph);
        for (dst, src) in out.pixels_mut().zip(pixels.iter()) {
            *dst = image::Rgb([src.r, src.g, src.b]);
        }
        Ok(out)
    }
}
