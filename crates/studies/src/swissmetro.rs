//! `swissmetro`: Biogeme's first swissmetro example, a conditional logit, against its published
//! estimates.

use std::path::Path;
use std::time::Instant;

use choicelab_choice::{ConditionalLogit, FittedLogit, LogitSpec};
use choicelab_core::{Alternative, ChoiceSets, Error, Location, Result};
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, Figure, Report, Table};

/// The swissmetro study.
pub struct Swissmetro;

/// Configuration of `swissmetro`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Trip purposes kept (Biogeme keeps 1 = commuter and 3 = business).
    pub purposes: Vec<u32>,
    /// Newton's convergence tolerance on the scaled step.
    pub tolerance: f64,
    /// Fits timed; the fastest is reported.
    pub timing_repeats: usize,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            purposes: vec![1, 3],
            tolerance: 1e-10,
            timing_repeats: 5,
        }
    }
    fn quick() -> Self {
        Config {
            timing_repeats: 1,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Biogeme's swissmetro example 01 (logit; PURPOSE ∈ {1, 3}, CHOICE ≠ 0: \
6,768 observations; ASC_SM fixed at 0; costs 0 for GA holders; times and costs divided by 100) \
has final log-likelihood −5331.252 with ASC_CAR −0.154633, ASC_TRAIN −0.701188, \
B_TIME −1.27786 and B_COST −1.08379 (Biogeme 3.3.2 documentation, SYSTEMS.md).";

/// Biogeme's published estimates and final log-likelihood.
const GOLDEN: [(&str, f64); 4] = [
    ("ASC_CAR", -0.154633),
    ("ASC_TRAIN", -0.701188),
    ("B_TIME", -1.27786),
    ("B_COST", -1.08379),
];
const GOLDEN_LOGLIK: f64 = -5331.252;

/// The model's utilities over the long attributes `time` and `cost`.
pub fn specification() -> LogitSpec {
    LogitSpec::new()
        .utility("train", &["ASC_TRAIN", "B_TIME * time", "B_COST * cost"])
        .utility("sm", &["ASC_SM", "B_TIME * time", "B_COST * cost"])
        .utility("car", &["ASC_CAR", "B_TIME * time", "B_COST * cost"])
        .fix("ASC_SM", 0.0)
}

/// The columns the model reads from `swissmetro.dat`.
const COLUMNS: [&str; 14] = [
    "PURPOSE", "CHOICE", "GA", "SP", "TRAIN_AV", "SM_AV", "CAR_AV", "TRAIN_TT", "TRAIN_CO",
    "SM_TT", "SM_CO", "CAR_TT", "CAR_CO", "ID",
];

/// Reads the tab-separated wide file and builds the long choice sets: times and costs over
/// 100, costs of train and Swissmetro zero for GA (season ticket) holders, train and car
/// available only in the stated-preference rows (SP ≠ 0).
pub fn load(path: &Path, purposes: &[u32]) -> Result<ChoiceSets> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, line)) => line.split('\t').map(str::trim).collect(),
        None => return Err(Error::parse(Location::new(&name).line(1), "empty file")),
    };
    let mut index = [0; COLUMNS.len()];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = header.iter().position(|h| *h == column).ok_or_else(|| {
            Error::parse(
                Location::new(&name).line(1).field(column),
                format!("the header lacks column `{column}`"),
            )
        })?;
    }
    let mut sets = ChoiceSets::new(&["time", "cost"]);
    let mut row = [0.0; COLUMNS.len()];
    for (number, line) in lines {
        let line_number = number as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != header.len() {
            return Err(Error::parse(
                Location::new(&name).line(line_number),
                format!("row has {} fields, expected {}", fields.len(), header.len()),
            ));
        }
        for (k, &column) in index.iter().enumerate() {
            row[k] = fields[column].trim().parse().map_err(|_| {
                Error::parse(
                    Location::new(&name).line(line_number).field(COLUMNS[k]),
                    format!("`{}` is not a number", fields[column]),
                )
            })?;
        }
        let [purpose, choice, ga, sp, train_av, sm_av, car_av, train_tt, train_co, sm_tt, sm_co, car_tt, car_co, _] =
            row;
        if !purposes.contains(&(purpose as u32)) || choice == 0.0 {
            continue;
        }
        let cost_factor = if ga == 0.0 { 1.0 } else { 0.0 };
        let stated = sp != 0.0;
        let train = [train_tt / 100.0, train_co * cost_factor / 100.0];
        let sm = [sm_tt / 100.0, sm_co * cost_factor / 100.0];
        let car = [car_tt / 100.0, car_co / 100.0];
        let alternatives = [
            ("train", train_av != 0.0 && stated, 1.0, &train),
            ("sm", sm_av != 0.0, 2.0, &sm),
            ("car", car_av != 0.0 && stated, 3.0, &car),
        ]
        .map(|(alt, available, code, values)| Alternative {
            name: alt,
            available,
            chosen: choice == code,
            values: values.as_slice(),
        });
        sets.push_located(&line_number.to_string(), &alternatives, |_| {
            Location::new(&name).line(line_number).field("CHOICE")
        })?;
    }
    Ok(sets)
}

impl Study for Swissmetro {
    fn name(&self) -> &'static str {
        "swissmetro"
    }

    fn description(&self) -> &'static str {
        "Biogeme's swissmetro logit: conditional logit estimates and log-likelihood"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        let mut report = Report::new(
            self.name(),
            "Swissmetro: the conditional logit of Biogeme's example 01",
            CLAIM,
            to_toml(&config)?,
        );
        let data = options.data.as_ref().ok_or_else(|| {
            Error::MissingData(
                "swissmetro needs the data folder (--data DIR or $CHOICELAB_DATA); \
                 `choicelab data fetch swissmetro` downloads it"
                    .into(),
            )
        })?;
        progress.stage("swissmetro: reading the data");
        let sets = load(&data.file("swissmetro/swissmetro.dat")?, &config.purposes)?;
        progress.stage("swissmetro: fitting");
        let model = ConditionalLogit {
            tolerance: config.tolerance,
            ..ConditionalLogit::new(specification())
        };
        let mut best = f64::INFINITY;
        let mut fitted = None;
        for _ in 0..config.timing_repeats.max(1) {
            let start = Instant::now();
            let fit = model.fit(&sets)?;
            best = best.min(start.elapsed().as_secs_f64());
            fitted = Some(fit);
        }
        let fitted = fitted.expect("at least one fit");
        record(&mut report, &fitted, sets.len(), best, &config)?;
        Ok(report)
    }
}

fn record(
    report: &mut Report,
    fitted: &FittedLogit,
    n_obs: usize,
    seconds: f64,
    config: &Config,
) -> Result<()> {
    let comparable = config.purposes == Config::paper().purposes;
    let mut table = Table::new(
        "Estimates (classical and robust standard errors) against Biogeme",
        &[
            "coefficient",
            "estimate",
            "std. error",
            "t",
            "robust s.e.",
            "Biogeme",
            "|Δ|",
        ],
    );
    let mut largest_gap: f64 = 0.0;
    for (k, name) in fitted.names.iter().enumerate() {
        let estimate = fitted.estimates[k];
        let golden = GOLDEN.iter().find(|g| g.0 == name).map(|g| g.1);
        let gap = golden.map(|g| (g - estimate).abs());
        if let Some(gap) = gap {
            largest_gap = largest_gap.max(gap);
        }
        let key = name.to_lowercase();
        report.number(&key, estimate);
        report.number(format!("{key}.se"), fitted.std_errors[k]);
        report.number(format!("{key}.robust_se"), fitted.robust_std_errors[k]);
        table.push(vec![
            name.clone(),
            fmt_number(estimate, 6),
            fmt_number(fitted.std_errors[k], 4),
            fmt_number(estimate / fitted.std_errors[k], 3),
            fmt_number(fitted.robust_std_errors[k], 4),
            golden.map_or("—".into(), |g| g.to_string()),
            gap.map_or("—".into(), |g| fmt_number(g, 2)),
        ]);
    }
    for (name, value) in &fitted.fixed {
        table.push(vec![
            format!("{name} (fixed)"),
            value.to_string(),
            "—".into(),
            "—".into(),
            "—".into(),
            "0 (fixed)".into(),
            "—".into(),
        ]);
    }
    report.tables.push(table);
    let loglik_gap = (fitted.loglik - GOLDEN_LOGLIK).abs();
    let mut fit_table = Table::new("Fit", &["statistic", "value"]);
    for (label, value) in [
        ("observations", n_obs.to_string()),
        ("log-likelihood", fmt_number(fitted.loglik, 6)),
        ("Biogeme's log-likelihood", GOLDEN_LOGLIK.to_string()),
        (
            "null log-likelihood (β = 0)",
            fmt_number(fitted.null_loglik, 6),
        ),
        ("ρ²", fmt_number(fitted.rho_squared(), 4)),
        ("ρ̄²", fmt_number(fitted.rho_bar_squared(), 4)),
        ("AIC", fmt_number(fitted.aic(), 2)),
        ("BIC", fmt_number(fitted.bic(), 2)),
        ("Newton iterations", fitted.iterations.to_string()),
        (
            "‖gradient‖∞ at the estimate",
            fmt_number(fitted.gradient_norm, 2),
        ),
        (
            "Hessian condition number",
            fmt_number(fitted.condition_number, 3),
        ),
        (
            "fit time (ms, best of repeats)",
            format!("{:.3}", seconds * 1e3),
        ),
    ] {
        fit_table.push(vec![label.into(), value]);
    }
    report.tables.push(fit_table);
    report.number("loglik", fitted.loglik);
    report.number("null_loglik", fitted.null_loglik);
    report.number("rho_squared", fitted.rho_squared());
    report.number("n_obs", n_obs as f64);
    report.number("iterations", fitted.iterations as f64);
    report.number("fit_seconds", seconds);
    report.number("loglik_abs_error", loglik_gap);
    report.number("estimates_max_abs_error", largest_gap);
    let reproduced = comparable && n_obs == 6768 && loglik_gap <= 1e-3 && largest_gap <= 1e-5;
    report.text(
        "verdict",
        if reproduced {
            "reproduced"
        } else {
            "not reproduced"
        },
    );
    report.notes.push(if !comparable {
        format!(
            "Purposes {:?} differ from Biogeme's (1, 3), so nothing is compared.",
            config.purposes
        )
    } else if reproduced {
        format!(
            "Reproduced: {n_obs} observations, log-likelihood {:.4} (|Δ| = {loglik_gap:.1e} \
             from −5331.252, itself rounded to 1e-3), estimates within {largest_gap:.1e} of \
             Biogeme's six-digit figures. Newton from β = 0 took {} iterations, {:.2} ms.",
            fitted.loglik,
            fitted.iterations,
            seconds * 1e3
        )
    } else {
        format!(
            "Not reproduced: {n_obs} observations (Biogeme: 6,768), log-likelihood {:.4} \
             (|Δ| = {loglik_gap:.1e}), largest estimate gap {largest_gap:.1e}.",
            fitted.loglik
        )
    });
    report.notes.push(
        "Robust standard errors are the sandwich H⁻¹BH⁻¹ with B the sum of the \
         observations' outer score products, as Biogeme's \"robust\" column. \
         `bench/compare_biogeme.py` runs Biogeme itself on the same model and compares \
         estimates, standard errors and time."
            .into(),
    );
    let trace: Vec<(f64, f64)> = fitted
        .history
        .iter()
        .enumerate()
        .map(|(i, ll)| (i as f64, (ll - fitted.loglik).abs()))
        .collect();
    report.figures.push(Figure {
        file: "newton.svg".into(),
        title: "Log-likelihood gap to the optimum per Newton iteration".into(),
        svg: line_chart(
            "Newton's method on the swissmetro logit",
            "iteration",
            "LL* − LL",
            &[Series {
                name: "choicelab".into(),
                points: trace,
            }],
            true,
        )?,
    });
    Ok(())
}
