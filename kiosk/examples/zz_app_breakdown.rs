// SCRATCH (bench helper, deleted after analysis): time and memory of each start-up step.
use std::rc::Rc;
use std::time::Instant;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel};

struct P(Rc<MinimalSoftwareWindow>);
impl Platform for P {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.0.clone())
    }
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    s.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4
}
fn anon_pss() -> String {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap();
    let f = |n: &str| {
        s.lines()
            .find(|l| l.starts_with(n))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    format!(
        "pss {} anon {} file {}",
        f("Pss:"),
        f("Pss_Anon:"),
        f("Pss_File:")
    )
}
fn heap_kib() -> u64 {
    let m = unsafe { libc::mallinfo2() };
    ((m.uordblks + m.hblkhd) / 1024) as u64
}

fn main() -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let mut config = kiosk::config::Config {
        data_dir: dir,
        ..Default::default()
    };
    config.devices.camera.source.clear();
    let mut t = Instant::now();
    let mut mark = |name: &str| {
        println!(
            "{name:<22} {:>8.2} ms  rss {:>7} KiB  heap {:>7} KiB  {}",
            t.elapsed().as_secs_f64() * 1000.0,
            rss_kib(),
            heap_kib(),
            anon_pss()
        );
        t = Instant::now();
    };
    mark("start");
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(P(window.clone()))).unwrap();
    mark("platform");
    let _key =
        kiosk::crypto::DataKey::load_or_create(&config.data_path(&config.security.data_key_file))?;
    mark("data key");
    let mut store = kiosk::store::Store::open(&config)?;
    mark("store open");
    let catalog = kiosk::catalog::load_active(&mut store)?;
    mark("catalog load");
    let search = kiosk::catalog::SearchIndex::new(&catalog);
    mark("search index");
    let t_all = Instant::now();
    if std::env::args().nth(2).as_deref() == Some("warm") {
        kiosk::app::ime::warm_up();
    }
    let app = ui::AppWindow::new()?;
    mark("AppWindow::new");
    kiosk::app::i18n::install(&app);
    mark("i18n install");
    kiosk::app::keyboard::install(&app);
    mark("keyboard install");
    let home = kiosk::app::flow::models::home(&catalog, "zh-CN");
    let c = app.global::<ui::Catalog>();
    c.set_person_themes(kiosk::app::flow::models::model(home.person_themes));
    c.set_business_themes(kiosk::app::flow::models::model(home.business_themes));
    c.set_popular(kiosk::app::flow::models::model(home.popular));
    c.set_bundles(kiosk::app::flow::models::model(home.bundles));
    mark("home models");
    window.set_size(PhysicalSize::new(1080, 1920));
    app.show()?;
    mark("show");
    let mut pixels = vec![Rgb8Pixel::default(); 1080 * 1920];
    mark("alloc buffer");
    for i in 0..3 {
        slint::platform::update_timers_and_animations();
        let drew = window.draw_if_needed(|r| {
            r.render(&mut pixels, 1080);
        });
        mark(&format!("draw {i} (drew {drew})"));
    }
    window.request_redraw();
    window.draw_if_needed(|r| {
        r.render(&mut pixels, 1080);
    });
    mark("forced redraw");
    let mut img = image::RgbImage::new(1080, 1920);
    for (d, s) in img.pixels_mut().zip(pixels.iter()) {
        *d = image::Rgb([s.r, s.g, s.b]);
    }
    mark("to RgbImage");
    img.save_with_format("/tmp/zz.png", image::ImageFormat::Png)?;
    mark("png default");
    let f = std::fs::File::create("/tmp/zz2.png")?;
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        std::io::BufWriter::new(f),
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    image::ImageEncoder::write_image(
        enc,
        img.as_raw(),
        1080,
        1920,
        image::ExtendedColorType::Rgb8,
    )?;
    mark("png fast");
    println!(
        "FROM-WINDOW-TO-PNG {:.1} ms",
        t_all.elapsed().as_secs_f64() * 1000.0
    );
    drop(img);
    mark("drop img");
    unsafe { libc::malloc_trim(0) };
    mark("malloc_trim");
    drop(search);
    mark("drop search index");
    drop(catalog);
    mark("drop catalog");
    drop(store);
    mark("drop store");
    let j = jieba_rs::Jieba::new();
    mark("Jieba::new() alone");
    drop(j);
    mark("drop Jieba");
    let ime = kiosk::app::ime::global();
    std::hint::black_box(ime);
    mark("ime::global() built");
    std::hint::black_box(&app);
    Ok(())
}
