//! `kiosk screenshot` renders pages off-screen (no display): the page list, one page at the
//! default size, and every page in zh-CN, en-US and elder mode at 1920x1080.

use std::process::Command;

fn kiosk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    cmd
}

/// A rendered page is not blank: it has the header blue and dark text.
fn looks_rendered(img: &image::RgbImage) -> bool {
    let blue = img.pixels().filter(|p| p[2] > 120 && p[0] < 40).count();
    let dark = img.pixels().filter(|p| p[0] < 80 && p[1] < 80 && p[2] < 80).count();
    blue > 50 && dark > 50
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
        .args(["screenshot", "--page", "home", "--scale", "0.25", "--out"])
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (270, 480), "1080x1920 by default, scaled");
    assert!(looks_rendered(&img));

    let bad = kiosk().args(["screenshot", "--page", "no-such-page", "--out"]).arg(dir.path().join("x.png")).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no page named"));
}

#[test]
fn renders_every_page_in_both_languages_and_elder_mode_landscape() {
    let dir = tempfile::tempdir().unwrap();
    let status = kiosk()
        .args(["screenshot", "--size", "1920x1080", "--scale", "0.2", "--all"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let pages = kiosk::app::sample::PAGES;
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), pages.len() * 3);
    for (page, _) in pages {
        for tag in ["zh-CN", "en-US", "elder"] {
            let path = dir.path().join(format!("{page}-{tag}-1920x1080.png"));
            let img = image::open(&path).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (384, 216));
            let dark = img.pixels().filter(|p| p[0] < 80 && p[1] < 80 && p[2] < 80).count();
            assert!(dark > 20, "{} looks blank", path.display());
        }
    }
}
