//! `kiosk probe idcard --port PATH [--baud N] [--json]`: reads one card (find, select, read)
//! and prints it, for engineers at the kiosk. Exits non-zero with a one-line reason when
//! there is no card, the reader does not answer, or a frame is corrupt.
//!
//! JSON: the fields of `drivers::idcard::CardSummary` (`card_type`, `name`, `gender`,
//! `nation`, `birth_date`, `address`, `id_number`, `id_number_valid`, `issuer`, `valid_from`,
//! `valid_until`, `expired`, `photo_sha256`, ...) plus `photo_decoder` (which decoder takes
//! the blob, or null), `photo_decoded`, `photo_error` and `face_match_available`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use drivers::device::{Device, SharedCounters};
use drivers::idcard::{IdCardReader, PhotoDecoder, PhotoDecoders, ReaderConfig};
use serde_json::{json, Value};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serial port of the reader (default: `devices.id_reader.port`).
    #[arg(long, value_name = "PATH")]
    pub port: Option<String>,
    /// Baud rate (default: `devices.id_reader.baud`).
    #[arg(long, value_name = "N")]
    pub baud: Option<u32>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Read text, photo and fingerprint (30 10) instead of text and photo (30 01).
    #[arg(long)]
    pub fingerprint: bool,
    /// Also read the additional address (30 03).
    #[arg(long)]
    pub extra_address: bool,
    /// Save the decoded photo as PNG here (needs a decoder for the photo's format).
    #[arg(long, value_name = "FILE")]
    pub save_photo: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let dev = &ctx.config.devices.id_reader;
    let port = args.port.clone().unwrap_or_else(|| dev.port.clone());
    if port.is_empty() {
        anyhow::bail!("no reader port: give --port PATH or set devices.id_reader.port");
    }
    let mut config = ReaderConfig::new(port.clone());
    config.baud = args.baud.unwrap_or(dev.baud);
    config.read_fingerprint = args.fingerprint;
    config.read_extra_address = args.extra_address;
    // Engineers' reads do not count in the kiosk's persistent counters.
    let mut reader = IdCardReader::new(config, SharedCounters::in_memory());
    reader.open()?;
    reader.claim()?;
    reader.enable()?;
    let card = reader
        .read_card()
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("reading a card on {port}"))?;
    reader.close();

    let decoders = PhotoDecoders::from_config(&dev.photo_decoder_command);
    let decoder = decoders.decoder_for(&card.photo).map(str::to_string);
    let decoded = decoders.decode(&card.photo);
    if let (Some(path), Ok(portrait)) = (&args.save_photo, &decoded) {
        portrait
            .to_image()
            .save(path)
            .with_context(|| format!("cannot save the photo to {}", path.display()))?;
    }
    let today = chrono::Local::now().date_naive();
    let summary = card.summary(today);
    let mut out = serde_json::to_value(&summary)?;
    if let Value::Object(map) = &mut out {
        map.insert("photo_decoder".into(), json!(decoder));
        map.insert("photo_decoded".into(), json!(decoded.is_ok()));
        map.insert(
            "photo_error".into(),
            json!(decoded.as_ref().err().map(|e| e.to_string())),
        );
        map.insert("face_match_available".into(), json!(decoded.is_ok()));
    }
    if args.json {
        super::print_json(&out)?;
    } else {
        print_table(&out, card.card_type.label_zh());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(card: &Value, type_label: &str) {
    let Value::Object(map) = card else { return };
    for (key, value) in map {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            other => other.to_string(),
        };
        if key == "card_type" {
            println!("{key:<22} {text} ({type_label})");
        } else {
            println!("{key:<22} {text}");
        }
    }
}
