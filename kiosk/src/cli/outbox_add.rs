//! `kiosk outbox add --matter CODE --applicant FILE.json [--form FILE.json] [--situation CODE]`:
//! queues a submission the way the touch flow does: the matter must be in the active
//! catalog, the form must pass that matter's validation, and the submission is written with
//! its outbox entry in one durable transaction (`outbox::enqueue_all`). Without `--form`,
//! the form holds every field's catalog example value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::{print_json, Ctx};
use crate::catalog::IdentityLevel;
use crate::crypto::DataKey;
use crate::outbox::{self, Applicant, NewSubmission};

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The matter's code in the active catalog.
    #[arg(long, value_name = "CODE")]
    pub matter: String,
    /// The contract's `applicant` object: {"id_type", "id_number", "name", "verified_by"}.
    #[arg(long, value_name = "FILE.json")]
    pub applicant: PathBuf,
    /// The form as a JSON object of field id -> string. Default: the catalog's examples.
    #[arg(long, value_name = "FILE.json")]
    pub form: Option<PathBuf>,
    /// The situation code. Default: the matter's first situation.
    #[arg(long, value_name = "CODE")]
    pub situation: Option<String>,
    #[arg(long)]
    pub json: bool,
}

const ID_TYPES: [&str; 5] = ["resident", "permit", "foreign_2017", "foreign_2023", "none"];
const VERIFIED_BY: [&str; 4] = ["card+face", "card", "staff", "none"];

pub fn run(ctx: &Ctx, args: AddArgs) -> anyhow::Result<ExitCode> {
    let applicant: Applicant = read_json(&args.applicant, "applicant")?;
    check_applicant(&applicant)?;
    let mut store = ctx.open_store()?;
    let catalog = crate::catalog::load_active(&mut store)?;
    let Some(matter) = catalog.matter(&args.matter) else {
        bail!(
            "matter {} is not in the active catalog (version {})",
            args.matter,
            catalog.version
        );
    };
    if matter.identity != IdentityLevel::None
        && (applicant.id_type == "none" || applicant.id_number.trim().is_empty())
    {
        bail!(
            "matter {} needs the applicant's identity; the applicant file has none",
            matter.code
        );
    }
    let situation = match args.situation {
        Some(s) => {
            if !matter.situations.iter().any(|x| x.code == s) {
                bail!("matter {} has no situation {s:?}", matter.code);
            }
            s
        }
        None => matter
            .situations
            .first()
            .map(|s| s.code.clone())
            .with_context(|| format!("matter {} has no situations", matter.code))?,
    };
    let form: BTreeMap<String, String> = match &args.form {
        Some(path) => read_json(path, "form")?,
        None => matter.form.example_values(),
    };
    if let Err(errors) = matter.form.validate(&form) {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        bail!(
            "the form does not pass matter {}'s validation: {}",
            matter.code,
            list.join("; ")
        );
    }
    let key = DataKey::load_or_create(&ctx.config.data_path(&ctx.config.security.data_key_file))?;
    let sub = NewSubmission {
        matter_code: matter.code.clone(),
        situation,
        catalog_version: catalog.version,
        applicant,
        form,
        attachments: vec![],
    };
    let queued = outbox::enqueue_all(
        &mut store,
        &key,
        std::slice::from_ref(&sub),
        chrono::Utc::now(),
    )?;
    let Some(q) = queued.into_iter().next() else {
        bail!("nothing was queued");
    };
    if args.json {
        print_json(&q)?;
    } else {
        println!("queued {} seq {}", q.id, q.seq);
    }
    Ok(ExitCode::SUCCESS)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path)
            .with_context(|| format!("cannot read {what} file {}", path.display()))?,
    );
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{what} file {} is not the expected JSON object",
            path.display()
        )
    })
}

fn check_applicant(a: &Applicant) -> anyhow::Result<()> {
    if !ID_TYPES.contains(&a.id_type.as_str()) {
        bail!(
            "applicant id_type {:?} is not one of {}",
            a.id_type,
            ID_TYPES.join(", ")
        );
    }
    if !VERIFIED_BY.contains(&a.verified_by.as_str()) {
        bail!(
            "applicant verified_by {:?} is not one of {}",
            a.verified_by,
            VERIFIED_BY.join(", ")
        );
    }
    if a.id_type == "resident" && !drivers::idcard::id_number::is_valid(&a.id_number) {
        // Never echo the number itself.
        bail!("applicant id_number is not a valid resident ID number (length or check digit)");
    }
    Ok(())
}
