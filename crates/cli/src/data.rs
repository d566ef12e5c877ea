//! `choicelab data`: list and fetch the public data sets (being written).

use std::path::{Path, PathBuf};

/// Lists the data sets.
pub fn list(_data: Option<&Path>) -> anyhow::Result<()> {
    anyhow::bail!("data list: not built yet")
}

/// Fetches data sets.
pub fn fetch(
    _names: &[String],
    _dest: Option<PathBuf>,
    _mirror: Option<&str>,
    _quiet: bool,
) -> anyhow::Result<()> {
    anyhow::bail!("data fetch: not built yet")
}
