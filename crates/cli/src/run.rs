//! `choicelab studies` and `choicelab run`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use choicelab_core::DataDir;
use choicelab_studies::{find, studies, ConfigSources, Metric, Progress, RunOptions};
use clap::Args;
use indicatif::ProgressBar;

use crate::output::out;
use crate::progress::spinner;

/// Arguments of `choicelab run`.
#[derive(Args)]
pub struct RunArgs {
    /// The study to run (`choicelab studies` lists them).
    study: String,
    /// A TOML file of configuration values.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one configuration value (repeatable); dotted keys reach nested tables.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Use the study's small configuration (under a minute on 2 cores).
    #[arg(long)]
    quick: bool,
    /// Report folder (default: runs/<study>-<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Data folder (default: $CHOICELAB_DATA, then the user cache folder).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Models folder of the local language model (default: $CHOICELAB_MODELS, then the user
    /// cache folder).
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
}

/// Lists the studies.
pub fn list_studies() -> anyhow::Result<()> {
    let all = studies();
    let width = all.iter().map(|s| s.name().len()).max().unwrap_or(0);
    for study in all {
        out!("{:width$}  {}", study.name(), study.description());
    }
    Ok(())
}

struct SpinnerProgress(ProgressBar);

impl Progress for SpinnerProgress {
    fn stage(&mut self, message: &str) {
        self.0.set_message(message.to_string());
        self.0.tick();
    }
}

/// Runs a study and writes its report.
pub fn run(args: RunArgs, quiet: bool) -> anyhow::Result<()> {
    let study = find(&args.study)?;
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some((path.display().to_string(), text))
        }
        None => None,
    };
    let options = RunOptions {
        config: ConfigSources {
            quick: args.quick,
            file,
            overrides: args.set.clone(),
        },
        data: DataDir::locate(args.data.as_deref()),
        models: args.models.clone(),
    };
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("{}-{}", study.name(), utc_timestamp()))
    });
    let mut progress = SpinnerProgress(spinner(quiet));
    let report = study.run(&options, &mut progress);
    progress.0.finish_and_clear();
    let report = report?;
    report.write(&out)?;
    out!(
        "{}: report written to {}",
        study.name(),
        out.join("report.md").display()
    );
    if let Some(Metric::Text(verdict)) = report.metrics.get("verdict") {
        out!("verdict: {verdict}");
    }
    for (name, metric) in &report.metrics {
        if let (true, Metric::Text(verdict)) = (name.ends_with(".verdict"), metric) {
            out!("{}: {verdict}", name.trim_end_matches(".verdict"));
        }
    }
    Ok(())
}

/// The current UTC time as `YYYYMMDDTHHMMSSZ`.
fn utc_timestamp() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    // Howard Hinnant's civil-from-days algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
