//! `choicelab data`: list the public data sets and fetch them, verified by sha256, from their
//! pinned sources or from a mirror laid out like the data folder.

pub(crate) mod catalogue;
pub(crate) mod download;
mod generate;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context};
use choicelab_core::data::{cache_data_dir, DataDir, DataOrigin, DATA_ENV};
use indicatif::HumanBytes;

use catalogue::{DataFile, SETS};
use download::{Fetcher, Outcome};
pub use generate::{generate, GenerateArgs};

/// Prints each data set with whether it is present in the data folder, and which folder that is.
pub fn list(data: Option<&Path>) -> anyhow::Result<()> {
    let files = catalogue::files()?;
    let folder = DataDir::locate(data);
    let mut text = String::new();
    match &folder {
        Some(dir) if dir.root().is_dir() => {
            let (root, origin) = (dir.root().display(), origin_words(dir.origin()));
            writeln!(text, "data folder: {root} ({origin})")?;
        }
        Some(dir) => {
            let (root, origin) = (dir.root().display(), origin_words(dir.origin()));
            writeln!(
                text,
                "data folder: {root} ({origin}), which does not exist; \
                 fill it with `choicelab data fetch --dest {root}`"
            )?;
        }
        None => {
            let cache =
                cache_data_dir().map_or_else(|| "one".to_owned(), |d| d.display().to_string());
            writeln!(
                text,
                "no data folder: pass --data DIR, set {DATA_ENV}, \
                 or run `choicelab data fetch` to fill {cache}"
            )?;
        }
    }
    writeln!(
        text,
        "{:<20} {:<8} {:>9} {:>11}  description",
        "name", "status", "files", "size"
    )?;
    for set in SETS {
        let in_set: Vec<&DataFile> = files.iter().filter(|f| f.set() == set.name).collect();
        let present = match &folder {
            Some(dir) => in_set
                .iter()
                .filter(|f| has_expected_size(dir.root(), f))
                .count(),
            None => 0,
        };
        let status = if present == in_set.len() {
            "present"
        } else if present == 0 {
            "missing"
        } else {
            "partial"
        };
        let count = format!("{present}/{}", in_set.len());
        let size = HumanBytes(in_set.iter().map(|f| f.size).sum()).to_string();
        writeln!(
            text,
            "{:<20} {status:<8} {count:>9} {size:>11}  {}",
            set.name, set.description
        )?;
    }
    writeln!(
        text,
        "(present: every file there with its catalogue size; `choicelab data fetch` checks sha256)"
    )?;
    crate::output::print(&text)
}

/// Downloads the named data sets (all when `names` is empty) into `--dest`, `$CHOICELAB_DATA`
/// or the user cache folder, skipping files already there with the right sha256.
pub fn fetch(
    names: &[String],
    dest: Option<PathBuf>,
    mirror: Option<&str>,
    quiet: bool,
) -> anyhow::Result<()> {
    for name in names {
        catalogue::set(name)?;
    }
    if let Some(url) = mirror {
        ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--mirror takes an http:// or https:// URL, not {url:?}"
        );
    }
    let wanted: Vec<&str> = SETS
        .iter()
        .map(|set| set.name)
        .filter(|set| names.is_empty() || names.iter().any(|name| name == set))
        .collect();
    let root = match DataDir::locate(dest.as_deref()) {
        Some(dir) => dir.root().to_path_buf(),
        None => {
            cache_data_dir().context("this platform has no user cache folder; pass --dest DIR")?
        }
    };
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;

    let files = catalogue::files()?;
    let selected: Vec<&DataFile> = files.iter().filter(|f| wanted.contains(&f.set())).collect();
    let fetcher = Fetcher::new(mirror);
    let bar = crate::progress::progress_bar(selected.len() as u64, quiet);
    let (mut fetched, mut present, mut failed) = (0, 0, 0);
    for file in &selected {
        bar.set_message(file.path);
        match fetcher.fetch(file, &root) {
            Ok(Outcome::Fetched) => fetched += 1,
            Ok(Outcome::Present) => present += 1,
            Err(error) => {
                bar.suspend(|| eprintln!("failed: {}: {error:#}", file.path));
                failed += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut text = format!(
        "{}: fetched {fetched}, already present {present}, failed {failed}\n",
        root.display()
    );
    for set in SETS.iter().filter(|set| wanted.contains(&set.name)) {
        writeln!(
            text,
            "  {}: licence: {}; cite: {}",
            set.name, set.licence, set.citation
        )?;
    }
    crate::output::print(&text)?;
    if failed > 0 {
        bail!(
            "{failed} of {} files failed; run the same command again to retry them",
            selected.len()
        );
    }
    Ok(())
}

/// Whether `root/file.path` exists with the catalogue's size (cheap; no hashing).
fn has_expected_size(root: &Path, file: &DataFile) -> bool {
    fs::metadata(root.join(file.path)).is_ok_and(|meta| meta.is_file() && meta.len() == file.size)
}

fn origin_words(origin: DataOrigin) -> &'static str {
    match origin {
        DataOrigin::Explicit => "from --data",
        DataOrigin::Environment => "from $CHOICELAB_DATA",
        DataOrigin::Cache => "the user cache folder",
    }
}
