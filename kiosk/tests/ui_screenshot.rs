//! `kiosk screenshot` renders pages off-screen (no display): the page list, one page at the
//! default size, and every page in zh-CN, en-US and elder mode at 1920x1080.

use std::process::Command;

fn kiosk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    cmd
}

/// A rendered page is not blank: more than 1% of it is ink (text, icons, the header blue)
/// rather than the light page background.
fn looks_rendered(img: &image::RgbImage) -> bool {
    let ink = img
        .pixels()
        .filter(|p| p.0.iter().min().is_some_and(|c| *c < 150))
        .count();
    ink * 100 > (img.width() * img.height()) as usize
}

#[test]
fn lists_pages_and_renders_home_without_a_display() {
    let list = kiosk().args(["screenshot", "--list"]).output().unwrap();
    assert!(list.status.success());
    let names = String::from_utf8(list.stdout).unwrap();
    assert!(names.lines().any(|l| l.starts_with("home ")), "{names}");

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("home.png");
    let status = kiosk()
        .args(["screenshot", "--page", "home", "--scale", "0.5", "--out"])
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (540, 960), "1080x1920 by default, scaled");
    assert!(looks_rendered(&img));

    let bad = kiosk()
        .args(["screenshot", "--page", "no-such-page", "--out"])
        .arg(dir.path().join("x.png"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no page named"));
}

#[test]
fn renders_every_page_in_both_languages_and_elder_mode_landscape() {
    let dir = tempfile::tempdir().unwrap();
    let status = kiosk()
        .args([
            "screenshot",
            "--size",
            "1920x1080",
            "--scale",
            "0.3",
            "--all",
        ])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let pages = kiosk::app::sample::PAGES;
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), pages.len() * 3);
    for (page, _) in pages {
        for tag in ["zh-CN", "en-US", "elder"] {
            let path = dir.path().join(format!("{page}-{tag}-1920x1080.png"));
            let img = image::open(&path).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (576, 324));
            assert!(looks_rendered(&img), "{} looks blank", path.display());
        }
    }
}
