//! `regret-preferences`: Knox et al. (2022) on delivery boards. Rewards learned from
//! regret-model preferences by a regret learner and a partial-return learner, against the
//! number of preferences; the identifiability example; and, with the data folder, the two
//! models' held-out log-likelihood on the shipped human comparisons.

use choicelab_core::{Error, Result};
use choicelab_envs::delivery::{BoardDesign, Cell, DeliveryBoard, TRUE_WEIGHTS};
use choicelab_inverse::preferences::segments::difference;
use choicelab_inverse::preferences::{
    label, optimal, random_pairs, scaled_return, HumanPreferences, Labelling, PreferenceModel,
    RewardLearner, SegmentDifference, CONDITIONS,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{check_increasing, to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, Figure, Report, Table};

/// The regret-preferences study.
pub struct RegretPreferences;

/// Configuration of `regret-preferences`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Numbers of labelled segment pairs, strictly increasing.
    pub budgets: Vec<usize>,
    /// Random training boards (the shipped board's make-up), one learning run each.
    pub boards: usize,
    /// Random held-out boards on which each learned reward is also judged.
    pub held_out_boards: usize,
    /// Moves per segment.
    pub segment_length: usize,
    /// Temperature τ of the synthetic labels.
    pub temperature: f64,
    /// Discount of V* and of segment sums.
    pub gamma: f64,
    /// Folds of the cross-validated human log-likelihood.
    pub folds: usize,
    /// Seed of everything random.
    pub seed: u64,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            budgets: vec![10, 30, 100, 300, 1000, 3000],
            boards: 20,
            held_out_boards: 5,
            segment_length: 3,
            temperature: 1.0,
            gamma: 0.999,
            folds: 5,
            seed: 0,
        }
    }
    fn quick() -> Self {
        Config {
            budgets: vec![10, 30, 100, 300],
            boards: 4,
            held_out_boards: 2,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Knox, Hatgis-Kessell, Booth, Niekum, Stone & Allievi (2022): people compare \
segments by regret, not partial return. Under regret-model preferences the regret learner reaches \
near-optimal behaviour (scaled return > 0.9) with fewer preferences than the partial-return \
learner; when every segment has the same partial return, partial-return preferences carry no \
signal while regret preferences still rank segments; on human labels the regret model has the \
higher held-out log-likelihood. The paper's exact curves and likelihoods are unverified.";

/// Scaled returns of one learner on one board: on the board, and averaged over held-out boards.
#[derive(Debug, Clone, Copy, Default)]
struct Score {
    own: f64,
    held_out: f64,
}

const MODELS: [(PreferenceModel, &str); 2] = [
    (PreferenceModel::Regret, "regret"),
    (PreferenceModel::PartialReturn, "partial_return"),
];

impl Config {
    fn check(&self) -> Result<()> {
        check_increasing("budgets", &self.budgets)?;
        if self.boards < 2 || self.folds < 2 || self.segment_length == 0 {
            return Err(Error::parameter(
                "boards",
                "need at least 2 boards, 2 folds and segments of at least one move",
            ));
        }
        Ok(())
    }

    /// Both learners at every budget on training board `b`: scores[budget][model].
    fn learn_on(&self, b: usize, held_out: &[DeliveryBoard]) -> Result<Vec<[Score; 2]>> {
        let seed = self.seed.wrapping_add(b as u64);
        let board = DeliveryBoard::random(&BoardDesign::default(), seed)?;
        let truth = optimal(&board, &TRUE_WEIGHTS, self.gamma)?;
        let largest = *self.budgets.last().expect("budgets is not empty");
        let pairs = random_pairs(&board, largest, self.segment_length, self.gamma, seed)?;
        let labels = label(
            PreferenceModel::Regret,
            &pairs,
            &TRUE_WEIGHTS,
            &truth.values,
            self.temperature,
            Labelling::Stochastic(seed.wrapping_add(1)),
        )?;
        self.budgets
            .iter()
            .map(|&n| {
                let mut scores = [Score::default(); 2];
                for (slot, (model, _)) in scores.iter_mut().zip(MODELS) {
                    let learner = RewardLearner {
                        gamma: self.gamma,
                        ..RewardLearner::new(model)
                    };
                    let fit = learner.fit(&board, &pairs[..n], &labels[..n])?;
                    let mut held = 0.0;
                    for other in held_out {
                        held += scaled_return(other, &TRUE_WEIGHTS, &fit.weights, self.gamma)?;
                    }
                    *slot = Score {
                        own: scaled_return(&board, &TRUE_WEIGHTS, &fit.weights, self.gamma)?,
                        held_out: held / held_out.len().max(1) as f64,
                    };
                }
                Ok(scores)
            })
            .collect()
    }
}

impl Study for RegretPreferences {
    fn name(&self) -> &'static str {
        "regret-preferences"
    }

    fn description(&self) -> &'static str {
        "Knox et al.: rewards from segment preferences, regret against partial return"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        config.check()?;
        let mut report = Report::new(
            self.name(),
            "Rewards from preferences over segments: regret against partial return",
            CLAIM,
            to_toml(&config)?,
        );
        progress.stage("regret-preferences: learning on random boards");
        let held_out: Vec<DeliveryBoard> = (0..config.held_out_boards)
            .map(|h| {
                DeliveryBoard::random(
                    &BoardDesign::default(),
                    config.seed.wrapping_add(1_000_000 + h as u64),
                )
            })
            .collect::<Result<_>>()?;
        let per_board: Vec<Vec<[Score; 2]>> = (0..config.boards)
            .into_par_iter()
            .map(|b| config.learn_on(b, &held_out))
            .collect::<Result<_>>()?;
        let reach = budget_results(&config, &per_board, &mut report)?;
        progress.stage("regret-preferences: the identifiability example");
        let identifiable = identifiability(&config, &mut report)?;
        let human = match &options.data {
            Some(data) => match data.folder("delivery/human_data") {
                Ok(folder) => {
                    progress.stage("regret-preferences: human comparisons");
                    Some(human_likelihoods(&config, &folder, &mut report)?)
                }
                Err(_) => None,
            },
            None => None,
        };
        if human.is_none() {
            report.text("human.status", "skipped: no data");
            report.notes.push(
                "The human comparisons (`delivery/human_data`) were not found: the human \
                 log-likelihood part is skipped. `choicelab data fetch delivery` gets them."
                    .into(),
            );
        }
        let fewer = match reach {
            (Some(r), Some(p)) => r < p,
            (Some(_), None) => true,
            _ => false,
        };
        let verdict = match (fewer && identifiable, human.map(|h| h.0)) {
            (true, Some(true) | None) => "reproduced",
            (false, Some(false)) => "not reproduced",
            _ => "partly reproduced",
        };
        report.text("verdict", verdict);
        report.text(
            "finding",
            format!(
                "Smallest budget at which the mean scaled return on the training boards exceeds \
                 0.9: regret learner {}, partial-return learner {}. The identifiability example \
                 {} the claim.{}",
                reach.0.map_or("never".into(), |n| n.to_string()),
                reach.1.map_or("never".into(), |n| n.to_string()),
                if identifiable {
                    "supports"
                } else {
                    "does not support"
                },
                match human {
                    Some((better, wins)) => format!(
                        " On the human comparisons the {} model has the higher held-out \
                         log-likelihood in total; regret wins in {} of the 9 conditions.",
                        if better { "regret" } else { "partial-return" },
                        wins,
                    ),
                    None => String::new(),
                },
            ),
        );
        Ok(report)
    }
}

/// The budget table, metrics and plot; returns the smallest budget at which each learner's
/// mean scaled return exceeds 0.9 (regret, partial return).
fn budget_results(
    config: &Config,
    per_board: &[Vec<[Score; 2]>],
    report: &mut Report,
) -> Result<(Option<usize>, Option<usize>)> {
    let mean = |i: usize, m: usize, f: fn(&Score) -> f64| {
        per_board.iter().map(|b| f(&b[i][m])).sum::<f64>() / per_board.len() as f64
    };
    let mut table = Table::new(
        format!(
            "Mean scaled return over {} boards, labels from the regret model (τ = {})",
            config.boards, config.temperature
        ),
        &[
            "preferences",
            "regret learner",
            "partial-return learner",
            "regret, held-out boards",
            "partial return, held-out boards",
        ],
    );
    let mut curves = vec![Vec::new(); 4];
    let mut reach = [None, None];
    for (i, &n) in config.budgets.iter().enumerate() {
        let mut row = vec![n.to_string()];
        let mut held = Vec::new();
        for (m, (_, key)) in MODELS.iter().enumerate() {
            let own = mean(i, m, |s| s.own);
            let other = mean(i, m, |s| s.held_out);
            report.number(format!("{key}.scaled_return.n{n}"), own);
            report.number(format!("{key}.held_out_scaled_return.n{n}"), other);
            curves[m].push(((n as f64).log10(), own));
            curves[2 + m].push(((n as f64).log10(), other));
            if own > 0.9 && reach[m].is_none() {
                reach[m] = Some(n);
            }
            row.push(fmt_number(own, 4));
            held.push(fmt_number(other, 4));
        }
        row.extend(held);
        table.push(row);
    }
    report.tables.push(table);
    for (m, (_, key)) in MODELS.iter().enumerate() {
        if let Some(n) = reach[m] {
            report.number(format!("{key}.budget_to_0.9"), n as f64);
        }
    }
    let names = [
        "regret learner",
        "partial-return learner",
        "regret, held-out boards",
        "partial return, held-out boards",
    ];
    report.figures.push(Figure {
        file: "scaled-return.svg".into(),
        title: "Scaled return of the policy optimal for the learned reward".into(),
        svg: line_chart(
            "Scaled return against the number of preferences",
            "log₁₀ preferences",
            "scaled return (1 optimal, 0 random)",
            &curves
                .iter()
                .zip(names)
                .map(|(points, name)| Series {
                    name: name.into(),
                    points: points.clone(),
                })
                .collect::<Vec<_>>(),
            false,
        )?,
    });
    Ok((reach[0], reach[1]))
}

/// A 10 × 10 board of road with one goal in a corner and reward −1 per step (goal worth 0),
/// with a data set of segment pairs whose partial returns are equal (drawn at random, the
/// unequal ones dropped): partial-return labels would carry no signal, regret labels still
/// rank the pairs. Returns whether the regret learner's reward then beats the partial-return
/// learner's.
fn identifiability(config: &Config, report: &mut Report) -> Result<bool> {
    let mut cells = vec![Cell::Blank; 100];
    cells[99] = Cell::Goal;
    let board = DeliveryBoard::new(10, 10, cells)?;
    let weights = [-1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let truth = optimal(&board, &weights, config.gamma)?;
    let n = *config.budgets.last().expect("budgets is not empty");
    let drawn = random_pairs(
        &board,
        2 * n,
        config.segment_length,
        config.gamma,
        config.seed,
    )?;
    let tied: Vec<_> = drawn
        .into_iter()
        .filter(|pair| {
            difference(pair, &weights, &truth.values)
                .partial_return
                .abs()
                < 1e-9
        })
        .take(n)
        .collect();
    let labels = label(
        PreferenceModel::Regret,
        &tied,
        &weights,
        &truth.values,
        config.temperature,
        Labelling::Stochastic(config.seed),
    )?;
    let ranked = tied
        .iter()
        .filter(|pair| {
            PreferenceModel::Regret
                .argument(&difference(pair, &weights, &truth.values))
                .abs()
                > 1e-9
        })
        .count() as f64
        / tied.len().max(1) as f64;
    report.number("identifiability.pairs", tied.len() as f64);
    report.number("identifiability.regret_ranked_share", ranked);
    let (mut scores, mut norms) = ([0.0; 2], [0.0; 2]);
    for ((slot, norm), (model, key)) in scores.iter_mut().zip(&mut norms).zip(MODELS) {
        let learner = RewardLearner {
            gamma: config.gamma,
            ..RewardLearner::new(model)
        };
        let fit = learner.fit(&board, &tied, &labels)?;
        *slot = scaled_return(&board, &weights, &fit.weights, config.gamma)?;
        *norm = fit.weights.iter().map(|w| w * w).sum::<f64>().sqrt();
        report.number(format!("identifiability.{key}.scaled_return"), *slot);
        report.number(format!("identifiability.{key}.weight_norm"), *norm);
    }
    report.notes.push(format!(
        "Identifiability: on a road board with one goal and reward −1 per step, {} random \
         segment pairs of equal partial return, labelled by the regret model, which ranks {}% \
         of them. The regret learner's reward scores {} (‖ŵ‖ = {}), the partial-return \
         learner's {} (‖ŵ‖ = {}: its features see no difference between the segments).",
        tied.len(),
        fmt_number(100.0 * ranked, 3),
        fmt_number(scores[0], 4),
        fmt_number(norms[0], 4),
        fmt_number(scores[1], 4),
        fmt_number(norms[1], 4),
    ));
    Ok(ranked > 0.5 && scores[0] > 0.9 && scores[0] > scores[1])
}

/// Per condition, `folds`-fold cross-validated log-likelihood of each model with τ fitted on
/// the training folds; returns whether regret wins in total, and in how many conditions.
fn human_likelihoods(
    config: &Config,
    folder: &std::path::Path,
    report: &mut Report,
) -> Result<(bool, usize)> {
    let mut table = Table::new(
        format!(
            "Held-out log-likelihood per comparison on the human labels ({}-fold, τ fitted on \
             the training folds)",
            config.folds
        ),
        &["condition", "comparisons", "regret", "partial return"],
    );
    let mut totals = [0.0; 2];
    let (mut count, mut regret_wins) = (0, 0);
    for condition in CONDITIONS {
        let data = HumanPreferences::read(folder, condition)?;
        let n = data.labels.len();
        let mut held = [0.0; 2];
        for (m, (model, _)) in MODELS.iter().enumerate() {
            for fold in 0..config.folds {
                let (train, test): (Vec<usize>, Vec<usize>) =
                    (0..n).partition(|i| i % config.folds != fold);
                let pick = |idx: &[usize]| -> (Vec<SegmentDifference>, Vec<f64>) {
                    idx.iter()
                        .map(|&i| (data.differences[i], data.labels[i]))
                        .unzip()
                };
                let (x, y) = pick(&train);
                let tau = fit_temperature(*model, &x, &y)?;
                let (x, y) = pick(&test);
                held[m] += model.log_likelihood(&x, &y, tau)?;
            }
        }
        for (m, (_, key)) in MODELS.iter().enumerate() {
            report.number(
                format!("human.{condition}.{key}.loglik"),
                held[m] / n as f64,
            );
            totals[m] += held[m];
        }
        count += n;
        regret_wins += usize::from(held[0] > held[1]);
        table.push(vec![
            condition.to_string(),
            n.to_string(),
            fmt_number(held[0] / n as f64, 5),
            fmt_number(held[1] / n as f64, 5),
        ]);
    }
    for (m, (_, key)) in MODELS.iter().enumerate() {
        report.number(format!("human.{key}.loglik"), totals[m] / count as f64);
    }
    report.number("human.regret_wins", regret_wins as f64);
    report.tables.push(table);
    Ok((totals[0] > totals[1], regret_wins))
}

/// τ maximising the model's log-likelihood, by golden-section search on log τ in [−6, 6].
fn fit_temperature(model: PreferenceModel, x: &[SegmentDifference], y: &[f64]) -> Result<f64> {
    let objective = |log_tau: f64| model.log_likelihood(x, y, log_tau.exp());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (-6.0f64, 6.0f64);
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut fa, mut fb) = (objective(a)?, objective(b)?);
    for _ in 0..80 {
        if fa > fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - ratio * (hi - lo);
            fa = objective(a)?;
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + ratio * (hi - lo);
            fb = objective(b)?;
        }
    }
    Ok(((lo + hi) / 2.0).exp())
}
