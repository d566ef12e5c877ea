//! `choicelab studies` and `choicelab run` (being written).

use clap::Args;

/// Arguments of `choicelab run`.
#[derive(Args)]
pub struct RunArgs {
    /// The study to run.
    study: String,
}

/// Lists the studies.
pub fn list_studies() -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}

/// Runs a study.
pub fn run(args: RunArgs, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("not built yet: {}", args.study)
}
