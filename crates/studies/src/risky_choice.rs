//! `risky-choice`: EV, EU and CPT with a logit choice rule on choices13k, scored by held-out
//! R² under 10-fold cross-validation grouped by problem, beside two feature baselines and the
//! published figures (Arithmetic-GPT, Zhu, Yan & Griffiths 2024).

use std::time::Instant;

use choicelab_choice::risky::{
    adjusted_r2, grouped_folds, out_of_fold, Choices13k, Curvature, FeatureData, FittedRisky,
    LogisticRegression, Mlp, RiskyModel, Scores, Weighting, TASK_FEATURES,
};
use choicelab_choice::FitSettings;
use choicelab_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, mean_sd, Figure, Report, Table};

/// The risky-choice study.
pub struct RiskyChoice;

/// Configuration of `risky-choice`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Cross-validation folds (problems are dealt to folds, never split).
    pub folds: usize,
    /// Seed of the fold assignment and the perceptron's starting weights.
    pub seed: u64,
    /// CPT's probability weighting: `prelec` or `tversky_kahneman`.
    pub weighting: Weighting,
    /// Also fit CPT with the other weighting and CPT with free β and separate γ for losses.
    pub variants: bool,
    /// Fit the perceptron on task features.
    pub mlp: bool,
    /// Its hidden units.
    pub mlp_hidden: usize,
    /// Its ridge penalty on the weights (per trial).
    pub mlp_penalty: f64,
    /// Its gradient tolerance (its stopping rule).
    pub mlp_tolerance: f64,
    /// Gradient tolerance of the other fits (mean negative log-likelihood per trial).
    pub gradient_tolerance: f64,
    /// Most L-BFGS iterations per start.
    pub max_iterations: usize,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            folds: 10,
            seed: 0,
            weighting: Weighting::Prelec,
            variants: true,
            mlp: true,
            mlp_hidden: 16,
            mlp_penalty: 1e-4,
            mlp_tolerance: 1e-4,
            gradient_tolerance: 1e-6,
            max_iterations: 1000,
        }
    }
    fn quick() -> Self {
        Config {
            variants: false,
            mlp_hidden: 4,
            mlp_tolerance: 1e-3,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Zhu, Yan & Griffiths (2024, arXiv 2405.19313), Language models trained to \
do arithmetic predict human risky and intertemporal choice: on choices13k (Peterson et al. \
2021), cumulative prospect theory with a logit choice rule beats expected utility and expected \
value in predicting the share of choices of B. Published figures, unverified (reported by a \
third-party review, not checked against the paper's table, and reportedly not \
cross-validated): CPT adjusted R² 51.5%, ecological Arithmetic-GPT embeddings 70.8%; \
parameters implied from the embeddings γ = 0.58, α = 0.42, λ = 1.4. Here every model is \
scored by held-out R² under cross-validation grouped by problem (the same problem appears \
with and without feedback).";

/// What is fitted: a cognitive model or a feature baseline.
enum Kind {
    Cognitive(RiskyModel),
    EvLogistic,
    Perceptron,
}

/// One model's row of results.
struct Outcome {
    key: &'static str,
    label: String,
    parameters: usize,
    held_out: Scores,
    fold_sd: f64,
    predicted: Vec<f64>,
    full: Option<FittedRisky>,
    in_sample: Option<Scores>,
    seconds: f64,
}

impl Study for RiskyChoice {
    fn name(&self) -> &'static str {
        "risky-choice"
    }

    fn description(&self) -> &'static str {
        "EV, EU and CPT on choices13k: held-out R² by cross-validation grouped by problem"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        if config.weighting == Weighting::Linear {
            return Err(Error::parameter(
                "weighting",
                "CPT needs `prelec` or `tversky_kahneman`",
            ));
        }
        let data = options.data.as_ref().ok_or_else(|| {
            Error::MissingData(
                "risky-choice needs the choices13k/ folder (--data DIR or $CHOICELAB_DATA; \
                 `choicelab data fetch choices13k` downloads it)"
                    .into(),
            )
        })?;
        progress.stage("risky-choice: reading choices13k");
        let c13k = Choices13k::read(&data.folder("choices13k")?)?;
        let groups = c13k.groups();
        let fold_of = grouped_folds(&groups, config.folds, config.seed)?;
        let mut report = Report::new(
            self.name(),
            "Risky choice on choices13k: EV, EU and CPT against feature baselines",
            CLAIM,
            to_toml(&config)?,
        );
        let other = match config.weighting {
            Weighting::Prelec => Weighting::TverskyKahneman,
            _ => Weighting::Prelec,
        };
        let mut kinds: Vec<(&'static str, String, Kind)> = vec![
            ("ev", "EV".into(), Kind::Cognitive(RiskyModel::ev())),
            (
                "eu",
                "EU (power utility)".into(),
                Kind::Cognitive(RiskyModel::eu()),
            ),
            (
                "cpt",
                format!("CPT ({}, β = α)", weighting_name(config.weighting)),
                Kind::Cognitive(RiskyModel::cpt(config.weighting)),
            ),
        ];
        if config.variants {
            kinds.push((
                "cpt_other",
                format!("CPT ({}, β = α)", weighting_name(other)),
                Kind::Cognitive(RiskyModel::cpt(other)),
            ));
            kinds.push((
                "cpt_free",
                format!(
                    "CPT ({}, free β, γ₊ ≠ γ₋)",
                    weighting_name(config.weighting)
                ),
                Kind::Cognitive(RiskyModel {
                    curvature: Curvature::PowerSeparate,
                    separate_gamma: true,
                    ..RiskyModel::cpt(config.weighting)
                }),
            ));
        }
        kinds.push((
            "ev_logistic",
            "logistic regression on (EV_A, EV_B)".into(),
            Kind::EvLogistic,
        ));
        if config.mlp {
            kinds.push((
                "mlp",
                format!(
                    "perceptron on task features ({} tanh units)",
                    config.mlp_hidden
                ),
                Kind::Perceptron,
            ));
        }
        let settings = FitSettings {
            gradient_tolerance: config.gradient_tolerance,
            max_iterations: config.max_iterations,
            std_errors: false,
        };
        let observed: Vec<f64> = c13k.data.choices().iter().map(|c| c.rate).collect();
        let weights: Vec<f64> = c13k.data.choices().iter().map(|c| c.trials).collect();
        let ev_features = FeatureData::expected_values(&c13k.data);
        let task = FeatureData::new(
            TASK_FEATURES.len(),
            c13k.task_features(),
            weights.clone(),
            observed.clone(),
        )?;
        let mut outcomes = Vec::new();
        for (key, label, kind) in kinds {
            progress.stage(&format!("risky-choice: {label}"));
            let start = Instant::now();
            let (predicted, parameters, full) = match &kind {
                Kind::Cognitive(model) => {
                    let predicted = out_of_fold(&fold_of, |train, test| {
                        let fit = model.fit(&c13k.data.subset(train), &settings)?;
                        Ok(fit.predict(&c13k.data.subset(test)))
                    })?;
                    let full = model.fit(
                        &c13k.data,
                        &FitSettings {
                            std_errors: true,
                            ..settings
                        },
                    )?;
                    (predicted, full.fit.estimates.len(), Some(full))
                }
                Kind::EvLogistic => {
                    let mut parameters = 0;
                    let predicted = out_of_fold(&fold_of, |train, test| {
                        let fit = LogisticRegression { ridge: 0.0 }
                            .fit(&ev_features.subset(train), &settings)?;
                        parameters = fit.weights.len() + 1;
                        fit.predict(&ev_features.subset(test))
                    })?;
                    (predicted, parameters, None)
                }
                Kind::Perceptron => {
                    let mlp = Mlp {
                        hidden: config.mlp_hidden,
                        penalty: config.mlp_penalty,
                        seed: config.seed,
                    };
                    let mlp_settings = FitSettings {
                        gradient_tolerance: config.mlp_tolerance,
                        max_iterations: 20 * config.max_iterations,
                        ..settings
                    };
                    let mut parameters = 0;
                    let predicted = out_of_fold(&fold_of, |train, test| {
                        let fit = mlp.fit(&task.subset(train), &mlp_settings)?;
                        parameters = fit.parameters();
                        fit.predict(&task.subset(test))
                    })?;
                    (predicted, parameters, None)
                }
            };
            let seconds = start.elapsed().as_secs_f64();
            let held_out = Scores::new(&predicted, &observed, &weights);
            let fold_r2: Vec<f64> = (0..config.folds)
                .map(|f| {
                    let rows: Vec<usize> =
                        (0..fold_of.len()).filter(|&i| fold_of[i] == f).collect();
                    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
                    Scores::new(&pick(&predicted), &pick(&observed), &pick(&weights)).r2
                })
                .collect();
            let in_sample = full
                .as_ref()
                .map(|f| Scores::new(&f.predict(&c13k.data), &observed, &weights));
            outcomes.push(Outcome {
                key,
                label,
                parameters,
                held_out,
                fold_sd: mean_sd(&fold_r2).1,
                predicted,
                full,
                in_sample,
                seconds,
            });
        }
        record(&mut report, &outcomes, &c13k, &config)?;
        Ok(report)
    }
}

fn weighting_name(weighting: Weighting) -> &'static str {
    match weighting {
        Weighting::Linear => "linear",
        Weighting::Prelec => "Prelec",
        Weighting::TverskyKahneman => "Tversky–Kahneman",
    }
}

fn record(
    report: &mut Report,
    outcomes: &[Outcome],
    c13k: &Choices13k,
    config: &Config,
) -> Result<()> {
    let rows = c13k.rows.len();
    let problems = {
        let mut g = c13k.groups();
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    report.number("rows", rows as f64);
    report.number("problems", problems as f64);
    report.number("folds", config.folds as f64);
    let mut scores = Table::new(
        format!(
            "Held-out fit: {}-fold cross-validation grouped by problem ({rows} rows, {problems} \
             problems); R² pooled over the out-of-fold predictions",
            config.folds
        ),
        &[
            "model",
            "K",
            "held-out R²",
            "R² (n-weighted)",
            "MSE",
            "fold R² sd",
            "in-sample R²",
            "in-sample adj. R²",
            "log-likelihood",
            "time (s)",
        ],
    );
    for o in outcomes {
        let key = o.key;
        report.number(format!("{key}.r2"), o.held_out.r2);
        report.number(format!("{key}.r2_weighted"), o.held_out.r2_weighted);
        report.number(format!("{key}.mse"), o.held_out.mse);
        report.number(format!("{key}.mse_weighted"), o.held_out.mse_weighted);
        report.number(format!("{key}.r2_fold_sd"), o.fold_sd);
        report.number(format!("{key}.seconds"), o.seconds);
        report.number(format!("{key}.parameters"), o.parameters as f64);
        let (mut in_r2, mut adj, mut ll) = ("—".to_string(), "—".to_string(), "—".to_string());
        if let (Some(s), Some(full)) = (o.in_sample, &o.full) {
            let adjusted = adjusted_r2(s.r2, rows, o.parameters);
            report.number(format!("{key}.insample_r2"), s.r2);
            report.number(format!("{key}.adjusted_r2"), adjusted);
            report.number(format!("{key}.loglik"), full.fit.loglik);
            in_r2 = fmt_number(s.r2, 4);
            adj = fmt_number(adjusted, 4);
            ll = fmt_number(full.fit.loglik, 1);
        }
        scores.push(vec![
            o.label.clone(),
            o.parameters.to_string(),
            fmt_number(o.held_out.r2, 4),
            fmt_number(o.held_out.r2_weighted, 4),
            fmt_number(o.held_out.mse, 5),
            fmt_number(o.fold_sd, 3),
            in_r2,
            adj,
            ll,
            format!("{:.2}", o.seconds),
        ]);
    }
    report.tables.push(scores);
    let mut parameters = Table::new(
        "Parameters fitted to all rows (standard errors from the observed information)",
        &["model", "parameter", "estimate", "std. error"],
    );
    for o in outcomes {
        let Some(full) = &o.full else { continue };
        for (k, name) in full.names.iter().enumerate() {
            let se = full.fit.std_errors.as_ref().map_or(f64::NAN, |s| s[k]);
            report.number(format!("{}.{name}", o.key), full.fit.estimates[k]);
            report.number(format!("{}.{name}.se", o.key), se);
            parameters.push(vec![
                o.label.clone(),
                name.to_string(),
                fmt_number(full.fit.estimates[k], 4),
                fmt_number(se, 4),
            ]);
        }
        if let Some(r) = full.correlation_of("alpha", "lambda") {
            report.number(format!("{}.corr_alpha_lambda", o.key), r);
        }
        report.number(
            format!("{}.starts_agreeing", o.key),
            full.fit.agreeing_starts(1e-8) as f64,
        );
        report.number(format!("{}.starts", o.key), full.fit.starts.len() as f64);
    }
    for (name, value) in [("gamma", 0.58), ("alpha", 0.42), ("lambda", 1.4)] {
        parameters.push(vec![
            "implied from Arithmetic-GPT embeddings (published, unverified)".into(),
            name.into(),
            value.to_string(),
            "—".into(),
        ]);
    }
    report.tables.push(parameters);
    let find = |key: &str| outcomes.iter().find(|o| o.key == key);
    let (ev, eu, cpt) = match (find("ev"), find("eu"), find("cpt")) {
        (Some(ev), Some(eu), Some(cpt)) => (ev, eu, cpt),
        _ => return Err(Error::parameter("models", "EV, EU and CPT must all run")),
    };
    let mut published = Table::new(
        "Beside the published figures (adjusted R², unverified; ours: in-sample adjusted and held-out R²)",
        &["model", "published", "ours in-sample adj.", "ours held-out"],
    );
    let adjusted = |o: &Outcome| {
        o.in_sample.map_or("—".into(), |s| {
            fmt_number(adjusted_r2(s.r2, rows, o.parameters), 4)
        })
    };
    published.push(vec![
        "CPT".into(),
        "0.515".into(),
        adjusted(cpt),
        fmt_number(cpt.held_out.r2, 4),
    ]);
    published.push(vec![
        "Arithmetic-GPT (ecological) embeddings".into(),
        "0.708".into(),
        "— (not built)".into(),
        "—".into(),
    ]);
    for o in outcomes.iter().filter(|o| o.full.is_none()) {
        published.push(vec![
            o.label.clone(),
            "—".into(),
            "—".into(),
            fmt_number(o.held_out.r2, 4),
        ]);
    }
    report.tables.push(published);
    report.number("published.cpt_adjusted_r2", 0.515);
    report.number("published.arithmetic_gpt_adjusted_r2", 0.708);
    let (over_eu, over_ev) = (
        cpt.held_out.r2 - eu.held_out.r2,
        cpt.held_out.r2 - ev.held_out.r2,
    );
    report.number("cpt.r2_minus_eu", over_eu);
    report.number("cpt.r2_minus_ev", over_ev);
    let reproduced = over_eu > 0.0 && over_ev > 0.0;
    report.text(
        "verdict",
        if reproduced {
            "reproduced"
        } else {
            "not reproduced"
        },
    );
    report.notes.push(if reproduced {
        format!(
            "Reproduced: CPT's held-out R² {:.4} beats EU's {:.4} by {over_eu:.4} and EV's {:.4} \
             by {over_ev:.4} (MSE {:.5} against {:.5} and {:.5}).",
            cpt.held_out.r2,
            eu.held_out.r2,
            ev.held_out.r2,
            cpt.held_out.mse,
            eu.held_out.mse,
            ev.held_out.mse
        )
    } else {
        format!(
            "Not reproduced: CPT's held-out R² {:.4} is {:.4} above EU's {:.4} and {:.4} above \
             EV's {:.4} (negative: below).",
            cpt.held_out.r2, over_eu, eu.held_out.r2, over_ev, ev.held_out.r2
        )
    });
    if let Some(full) = &cpt.full {
        let get = |name: &str| full.estimate(name).unwrap_or(f64::NAN);
        report.notes.push(format!(
            "CPT on all rows: α = {:.3}, λ = {:.3}, γ = {:.3}, φ = {:.4}; in-sample adjusted R² \
             {} against the published 0.515. α and λ trade off (correlation of the estimates \
             {}), which is why β = α here; {}",
            get("alpha"),
            get("lambda"),
            get("gamma"),
            get("phi"),
            adjusted(cpt),
            full.correlation_of("alpha", "lambda")
                .map_or("—".into(), |r| format!("{r:.2}")),
            if config.variants {
                "the free-β, two-γ variant is in the tables."
            } else {
                "the quick configuration skips the free-β variant."
            }
        ));
    }
    let best = outcomes
        .iter()
        .max_by(|a, b| a.held_out.r2.total_cmp(&b.held_out.r2))
        .map(|o| format!("{} ({:.4})", o.label, o.held_out.r2))
        .unwrap_or_default();
    report.notes.push(format!(
        "Best held-out R²: {best}. Fitting maximises the binomial likelihood of n·bRate choices \
         of B in n trials, each row weighted by its n; the headline R² = 1 − SSE/SST on bRate is \
         unweighted over the pooled out-of-fold predictions (the n-weighted R² is beside it). \
         Standard errors treat each row as n independent trials; bRate is a mean of per-subject \
         rates over 5 trials, so this understates the trials and ignores differences between \
         subjects. Ambiguous problems (Amb) are valued at their true probabilities; feedback \
         and no-feedback rows share the cognitive models' parameters (the perceptron sees \
         Feedback and Block among its features)."
    ));
    report.figures.push(Figure {
        file: "calibration.svg".into(),
        title: "Calibration of held-out predictions: mean observed bRate per twentieth of predicted P(B)".into(),
        svg: calibration_chart(outcomes, &c13k.data.choices().iter().map(|c| c.rate).collect::<Vec<_>>())?,
    });
    Ok(())
}

/// Mean observed against mean predicted share in 20 equal-count bins of the prediction.
fn calibration_chart(outcomes: &[Outcome], observed: &[f64]) -> Result<String> {
    let mut series = vec![Series {
        name: "perfect calibration".into(),
        points: vec![(0.0, 0.0), (1.0, 1.0)],
    }];
    for o in outcomes
        .iter()
        .filter(|o| ["ev", "eu", "cpt", "mlp"].contains(&o.key))
    {
        let mut order: Vec<usize> = (0..observed.len()).collect();
        order.sort_by(|&a, &b| o.predicted[a].total_cmp(&o.predicted[b]));
        let points = order
            .chunks(observed.len().div_ceil(20).max(1))
            .map(|bin| {
                let n = bin.len() as f64;
                (
                    bin.iter().map(|&i| o.predicted[i]).sum::<f64>() / n,
                    bin.iter().map(|&i| observed[i]).sum::<f64>() / n,
                )
            })
            .collect();
        series.push(Series {
            name: o.label.clone(),
            points,
        });
    }
    line_chart(
        "choices13k: held-out calibration",
        "predicted P(B)",
        "observed bRate",
        &series,
        false,
    )
}
