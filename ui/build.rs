//! Compiles the Slint UI with debug info (so the testing backend finds elements by accessible
//! label and id) and with `@fonts` pointing at the folder of the embedded CJK font.

use std::collections::HashMap;
use std::path::PathBuf;

/// The font the UI embeds: WenQuanYi Micro Hei (Apache-2.0; Debian package
/// `fonts-wqy-microhei`). One font with both CJK and Latin glyphs, so no text depends on
/// what the kiosk PC happens to have installed.
const FONT_FILE: &str = "wqy-microhei.ttc";
const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/truetype/wqy";

fn main() {
    println!("cargo:rerun-if-env-changed=KIOSK_FONT_DIR");
    let font_dir = std::env::var_os("KIOSK_FONT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FONT_DIR));
    let font = font_dir.join(FONT_FILE);
    if !font.is_file() {
        // A build without the font would render Chinese as blank boxes: refuse instead.
        eprintln!(
            "error: the UI embeds the font {} but it is missing.\n\
             Run scripts/setup.sh (installs the Debian package fonts-wqy-microhei), \
             or set KIOSK_FONT_DIR to a folder holding {FONT_FILE}.",
            font.display()
        );
        std::process::exit(1);
    }
    println!("cargo:rerun-if-changed={}", font.display());

    let library_paths = HashMap::from([("fonts".to_string(), font_dir)]);
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_library_paths(library_paths);
    if let Err(e) = slint_build::compile_with_config("app-window.slint", config) {
        eprintln!("error: compiling the Slint UI failed: {e}");
        std::process::exit(1);
    }
}
