//! `conjoint-adversarial`: optimal stochastic candidate profiles learned from a simulated
//! presidential conjoint, against a random opponent and in the two-party game, compared with the
//! planted electorate's own optimum and equilibrium as the data grow.

use std::time::Instant;

use choicelab_choice::conjoint::{
    amces, ConjointData, Contest, ContestSettings, Design, Electorate, Equilibrium,
    EquilibriumSolver, Factor, LambdaChoice, LambdaSearch, LogisticFit, OutcomeModel, Penalty,
    Player, Policy, PolicyOptimiser, Segment, Side, Simulation,
};
use choicelab_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{check_increasing, to_toml, StudyConfig};
use crate::plot::{bar_chart, line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, mean_sd, Figure, Report, Table};

/// The adversarial conjoint study.
pub struct ConjointAdversarial;

/// Population shares of the three respondent segments.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shares {
    /// Republican partisans.
    pub republicans: f64,
    /// Democratic partisans.
    pub democrats: f64,
    /// Independents.
    pub independents: f64,
}

/// Configuration of `conjoint-adversarial`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data sizes (forced-choice tasks); each sample is a prefix of the next.
    pub sizes: Vec<usize>,
    /// Tasks per simulated respondent.
    pub tasks_per_respondent: usize,
    /// The electorate's segment shares.
    pub shares: Shares,
    /// Ridge penalty of each segment's logistic outcome model.
    pub ridge: f64,
    /// Pull of the policies toward the design distribution.
    pub penalty: Penalty,
    /// Candidate penalty strengths λ, chosen by out-of-fold policy value.
    pub lambdas: Vec<f64>,
    /// Cross-validation folds (by respondent).
    pub folds: usize,
    /// Respondent bootstrap replicates for standard errors (λ held at its chosen value).
    pub bootstrap: usize,
    /// Mirror-prox step of the equilibrium solver.
    pub game_step: f64,
    /// Mirror-prox iterations at most.
    pub game_iterations: usize,
    /// Stop the game once its penalised exploitability is at most this.
    pub game_tolerance: f64,
    /// Seed of respondents, folds and bootstrap.
    pub seed: u64,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            sizes: vec![1_000, 4_000, 16_000, 64_000],
            tasks_per_respondent: 5,
            shares: Shares {
                republicans: 0.33,
                democrats: 0.36,
                independents: 0.31,
            },
            ridge: 1.0,
            penalty: Penalty::Kl,
            lambdas: vec![0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
            folds: 5,
            bootstrap: 20,
            game_step: 50.0,
            game_iterations: 4000,
            game_tolerance: 1e-6,
            seed: 2025,
        }
    }
    fn quick() -> Self {
        Config {
            sizes: vec![1_000, 8_000],
            bootstrap: 6,
            folds: 4,
            lambdas: vec![0.0, 0.003, 0.03, 0.3],
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Jerzak, Chandra & Hazra (2025), Optimal candidate profiles in adversarial \
conjoint settings (arXiv 2504.19043): a factorised stochastic intervention learned from \
forced-choice conjoint data and optimised against a fixed (design-random) opponent promises an \
implausibly lopsided vote share, while the equilibrium of the two-party zero-sum game lands \
near, but not forced to, an even split, in the range of historical US presidential results \
(about 40–60%); on simulated electorates the estimated policies approach the planted optimum \
as the data grow. The paper's own shares are unverified (SYSTEMS.md).";

/// The presidential-style design: party is fixed per side (A is R, B is D); level 0 of each
/// factor is the reference level of the treatment coding.
fn design() -> Result<Design> {
    Design::new(vec![
        Factor::uniform("party", &["D", "R"]),
        Factor::uniform("gender", &["man", "woman"]),
        Factor::uniform("age", &["55", "45", "75"]),
        Factor::uniform("experience", &["governor", "senator", "business"]),
        Factor::uniform("taxes", &["keep", "cut", "raise"]),
        Factor::uniform("immigration", &["status quo", "restrict", "path"]),
        Factor::uniform("healthcare", &["public option", "private", "single payer"]),
    ])
}

/// Planted utilities of Republican partisans, Democratic partisans and independents.
const PLANTED: [(&str, &[(&str, f64)]); 3] = [
    (
        "republicans",
        &[
            ("party=R", 1.0),
            ("taxes=cut", 1.0),
            ("taxes=raise", -1.2),
            ("immigration=restrict", 1.0),
            ("immigration=path", -1.0),
            ("healthcare=private", 0.6),
            ("healthcare=single payer", -1.2),
            ("experience=senator", -0.3),
            ("experience=business", 0.3),
            ("age=75", -0.8),
            ("age=45", 0.1),
            ("gender=woman", -0.1),
            ("party=R & immigration=path", -0.6),
            ("party=R & taxes=raise", -0.4),
        ],
    ),
    (
        "democrats",
        &[
            ("party=R", -1.0),
            ("taxes=cut", -1.0),
            ("taxes=raise", 0.8),
            ("immigration=restrict", -1.2),
            ("immigration=path", 0.8),
            ("healthcare=private", -1.0),
            ("healthcare=single payer", 0.6),
            ("gender=woman", 0.3),
            ("experience=senator", -0.2),
            ("experience=business", -0.6),
            ("age=75", -0.8),
            ("age=45", 0.2),
            ("party=R & immigration=restrict", -0.4),
            ("gender=woman & experience=senator", 0.3),
        ],
    ),
    (
        "independents",
        &[
            ("taxes=cut", 0.2),
            ("taxes=raise", -0.6),
            ("immigration=restrict", -0.3),
            ("immigration=path", -0.4),
            ("healthcare=private", -0.4),
            ("healthcare=single payer", -0.6),
            ("experience=senator", -0.4),
            ("experience=business", -0.7),
            ("age=75", -1.4),
            ("age=45", 0.3),
            ("age=45 & experience=business", -0.5),
            ("taxes=cut & healthcare=private", -0.4),
        ],
    ),
];

/// The planted electorate at the configured shares.
fn planted(design: &Design, shares: &Shares) -> Result<Electorate> {
    let weights = [shares.republicans, shares.democrats, shares.independents];
    Electorate::new(
        PLANTED
            .iter()
            .zip(weights)
            .map(|((name, terms), share)| {
                Ok(Segment {
                    name: (*name).into(),
                    share,
                    model: OutcomeModel::from_terms(design, true, terms)?,
                })
            })
            .collect::<Result<_>>()?,
    )
}

/// What one data size gives.
struct Analysis {
    tasks: usize,
    lambda: LambdaChoice,
    single: Policy,
    single_share: f64,
    equilibrium: Equilibrium,
    /// Under the planted electorate: the single policy against a random D, and the
    /// equilibrium pair.
    single_true: f64,
    equilibrium_true: f64,
    /// The bootstrap replicates.
    bootstrap: Vec<Draw>,
    /// Bootstrap games solved (penalised exploitability at most [`SOLVED`]), and the largest
    /// penalised exploitability among them all.
    bootstrap_game: (usize, f64),
    seconds: f64,
    fitted: Electorate,
}

/// One bootstrap replicate's answers.
struct Draw {
    /// The single-party policy's promised share.
    single_share: f64,
    /// The equilibrium's promised share for A.
    game_share: f64,
    single: Policy,
    game_a: Policy,
}

/// The planted electorate's own answers.
struct Truth {
    electorate: Electorate,
    contest: Contest,
    single: Policy,
    single_share: f64,
    equilibrium: Equilibrium,
}

impl Study for ConjointAdversarial {
    fn name(&self) -> &'static str {
        "conjoint-adversarial"
    }

    fn description(&self) -> &'static str {
        "optimal stochastic candidate profiles from a simulated conjoint, alone and in the \
         two-party game"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        check_increasing("sizes", &config.sizes)?;
        if config.bootstrap < 2 {
            return Err(Error::parameter("bootstrap", "need at least 2 replicates"));
        }
        let mut report = Report::new(
            self.name(),
            "Optimal candidate profiles in an adversarial conjoint",
            CLAIM,
            to_toml(&config)?,
        );
        let design = design()?;
        let truth_model = planted(&design, &config.shares)?;
        let sides = (
            Side::free(&design).fix(&design, "party", "R")?,
            Side::free(&design).fix(&design, "party", "D")?,
        );
        let contest_of = |electorate: &Electorate| {
            Contest::new(
                &design,
                electorate,
                sides.0.clone(),
                sides.1.clone(),
                ContestSettings::default(),
            )
        };
        progress.stage("conjoint-adversarial: the planted optimum and equilibrium");
        let truth_contest = contest_of(&truth_model)?;
        let random_d = truth_contest.design_policy(Player::B);
        let (best, single_share) = truth_contest.best_pure_response(Player::A, &random_d);
        let planted_game = EquilibriumSolver {
            lambda: 0.0,
            step: config.game_step,
            max_iterations: config.game_iterations,
            tolerance: config.game_tolerance,
            ..EquilibriumSolver::default()
        }
        .solve(&truth_contest)?;
        let truth = Truth {
            single: Policy::pure(&design, &best),
            single_share,
            equilibrium: planted_game,
            contest: truth_contest,
            electorate: truth_model.clone(),
        };
        let largest = *config.sizes.last().expect("checked sizes");
        let all = Simulation {
            tasks: largest,
            tasks_per_respondent: config.tasks_per_respondent,
            seed: config.seed,
        }
        .run(&design, &truth_model)?;
        let mut analyses = Vec::new();
        for &n in &config.sizes {
            progress.stage(&format!("conjoint-adversarial: {n} tasks"));
            let data = all.filter(|i| i < n);
            analyses.push(analyse(&config, &design, &data, &truth, &contest_of)?);
        }
        record(&mut report, config.folds, &design, &truth, &analyses)?;
        Ok(report)
    }
}

/// Fits the electorate, chooses λ, solves the single-party problem and the game, and
/// bootstraps both over respondents.
fn analyse(
    config: &Config,
    design: &Design,
    data: &ConjointData,
    truth: &Truth,
    contest_of: &(dyn Fn(&Electorate) -> Result<Contest> + Sync),
) -> Result<Analysis> {
    let start = Instant::now();
    let shares: Vec<(String, f64)> = [
        ("republicans", config.shares.republicans),
        ("democrats", config.shares.democrats),
        ("independents", config.shares.independents),
    ]
    .iter()
    .map(|(n, s)| (n.to_string(), *s))
    .collect();
    let fit = LogisticFit {
        ridge: config.ridge,
        ..LogisticFit::default()
    };
    let random_d = truth.contest.design_policy(Player::B);
    let sides = (truth.contest.side(Player::A), truth.contest.side(Player::B));
    let lambda = LambdaSearch {
        lambdas: config.lambdas.clone(),
        folds: config.folds,
        seed: config.seed,
        fit,
        optimiser: PolicyOptimiser {
            penalty: config.penalty,
            ..PolicyOptimiser::default()
        },
        contest: ContestSettings::default(),
    }
    .run(design, data, &shares, sides, &random_d)?;
    let optimiser = PolicyOptimiser {
        penalty: config.penalty,
        lambda: lambda.lambda,
        ..PolicyOptimiser::default()
    };
    let solver = EquilibriumSolver {
        penalty: config.penalty,
        lambda: lambda.lambda,
        step: config.game_step,
        max_iterations: config.game_iterations,
        tolerance: config.game_tolerance,
        ..EquilibriumSolver::default()
    };
    let solve = |sample: &ConjointData| -> Result<(Electorate, Policy, f64, Equilibrium)> {
        let (electorate, _) = Electorate::fit(design, sample, &shares, &fit)?;
        let contest = contest_of(&electorate)?;
        let single = optimiser.optimise(&contest, Player::A, &random_d, &[])?;
        let equilibrium = solver.solve(&contest)?;
        Ok((electorate, single.policy, single.value, equilibrium))
    };
    let (fitted, single, single_share, equilibrium) = solve(data)?;
    let draws = (0..config.bootstrap as u64)
        .into_par_iter()
        .map(|r| solve(&data.resample_respondents(config.seed, r)))
        .collect::<Result<Vec<_>>>()?;
    let bootstrap_game = draws.iter().fold((0, 0.0), |(solved, worst), d| {
        let e = d.3.exploitability.penalised;
        (solved + usize::from(e <= SOLVED), f64::max(worst, e))
    });
    let bootstrap = draws
        .into_iter()
        .map(|(_, single, single_share, game)| Draw {
            single_share,
            game_share: game.value,
            single,
            game_a: game.a,
        })
        .collect();
    Ok(Analysis {
        tasks: data.len(),
        single_true: truth.contest.value(&single, &random_d),
        equilibrium_true: truth.contest.value(&equilibrium.a, &equilibrium.b),
        lambda,
        single,
        single_share,
        equilibrium,
        bootstrap,
        bootstrap_game,
        seconds: start.elapsed().as_secs_f64(),
        fitted,
    })
}

/// Mean total variation over the side's free factors.
fn distance(side: &Side, a: &Policy, b: &Policy) -> f64 {
    let free: Vec<usize> = (0..a.marginals.len())
        .filter(|&k| side.fixed[k].is_none())
        .collect();
    free.iter()
        .map(|&k| {
            0.5 * a.marginals[k]
                .iter()
                .zip(&b.marginals[k])
                .map(|(x, y)| (x - y).abs())
                .sum::<f64>()
        })
        .sum::<f64>()
        / free.len() as f64
}

fn record(
    report: &mut Report,
    folds: usize,
    design: &Design,
    truth: &Truth,
    analyses: &[Analysis],
) -> Result<()> {
    let side_a = truth.contest.side(Player::A).clone();
    let side_b = truth.contest.side(Player::B).clone();
    let planted_eq = &truth.equilibrium;
    report.number("planted.single.vote_share", truth.single_share);
    report.number("planted.adversarial.vote_share_a", planted_eq.value);
    report.number(
        "planted.adversarial.exploitability",
        planted_eq.exploitability.unpenalised,
    );
    report.text(
        "planted.single.profile",
        design.describe(&truth.single.mode()),
    );
    let mut table = Table::new(
        "Vote share of A (party R) by data size: promised by the fitted model (± bootstrap s.e.) \
         and realised under the planted electorate",
        &[
            "tasks",
            "λ (CV)",
            "single: promised",
            "single: true",
            "single: distance to planted",
            "single: regret",
            "game: A's share promised",
            "game: true",
            "exploitability (penalised / unpenalised)",
            "game: distance to planted",
            "bootstrap games solved",
            "seconds",
        ],
    );
    let mut series: Vec<Series> = [
        "single (promised)",
        "single (true)",
        "game (promised)",
        "game (true)",
    ]
    .iter()
    .map(|name| Series {
        name: (*name).into(),
        points: Vec::new(),
    })
    .collect();
    let mut distances: Vec<Series> = ["single policy", "game: A", "game: B"]
        .iter()
        .map(|name| Series {
            name: (*name).into(),
            points: Vec::new(),
        })
        .collect();
    let mut rows = Vec::new();
    for a in analyses {
        let (single_mean_se, game_se) = {
            let s: Vec<f64> = a.bootstrap.iter().map(|b| b.single_share).collect();
            let g: Vec<f64> = a.bootstrap.iter().map(|b| b.game_share).collect();
            (mean_sd(&s).1, mean_sd(&g).1)
        };
        let single_distance = distance(&side_a, &a.single, &truth.single);
        let regret = truth.single_share - a.single_true;
        let game_distance = 0.5
            * (distance(&side_a, &a.equilibrium.a, &planted_eq.a)
                + distance(&side_b, &a.equilibrium.b, &planted_eq.b));
        let key = format!("n{}", a.tasks);
        let e = a.equilibrium.exploitability;
        for (name, value) in [
            ("lambda", a.lambda.lambda),
            ("single.vote_share", a.single_share),
            ("single.vote_share_se", single_mean_se),
            ("single.true_vote_share", a.single_true),
            ("single.distance", single_distance),
            ("single.regret", regret),
            ("adversarial.vote_share_a", a.equilibrium.value),
            ("adversarial.vote_share_a_se", game_se),
            ("adversarial.true_vote_share_a", a.equilibrium_true),
            ("adversarial.exploitability", e.penalised),
            ("adversarial.exploitability_unpenalised", e.unpenalised),
            ("adversarial.distance", game_distance),
            ("adversarial.iterations", a.equilibrium.iterations as f64),
            ("adversarial.bootstrap_solved", a.bootstrap_game.0 as f64),
            (
                "adversarial.bootstrap_max_exploitability",
                a.bootstrap_game.1,
            ),
        ] {
            report.number(format!("{key}.{name}"), value);
        }
        table.push(vec![
            a.tasks.to_string(),
            fmt_or_zero(a.lambda.lambda, 3),
            format!(
                "{} ± {}",
                fmt_number(a.single_share, 4),
                fmt_number(single_mean_se, 2)
            ),
            fmt_number(a.single_true, 4),
            fmt_or_zero(single_distance, 3),
            fmt_or_zero(regret, 3),
            format!(
                "{} ± {}",
                fmt_number(a.equilibrium.value, 4),
                fmt_number(game_se, 2)
            ),
            fmt_number(a.equilibrium_true, 4),
            format!(
                "{} / {}",
                fmt_or_zero(e.penalised, 2),
                fmt_or_zero(e.unpenalised, 2)
            ),
            fmt_or_zero(game_distance, 3),
            format!("{}/{}", a.bootstrap_game.0, a.bootstrap.len()),
            format!("{:.1}", a.seconds),
        ]);
        let x = (a.tasks as f64).log10();
        for (s, y) in series.iter_mut().zip([
            a.single_share,
            a.single_true,
            a.equilibrium.value,
            a.equilibrium_true,
        ]) {
            s.points.push((x, y));
        }
        for (s, y) in distances.iter_mut().zip([
            single_distance,
            distance(&side_a, &a.equilibrium.a, &planted_eq.a),
            distance(&side_b, &a.equilibrium.b, &planted_eq.b),
        ]) {
            s.points.push((x, y));
        }
        rows.push((a, single_distance, game_distance, regret));
    }
    report.tables.push(table);
    let last = analyses.last().expect("at least one size");
    report.number("single.vote_share", last.single_share);
    report.number("single.true_vote_share", last.single_true);
    report.number("adversarial.vote_share_a", last.equilibrium.value);
    report.number("adversarial.true_vote_share_a", last.equilibrium_true);
    report.number(
        "adversarial.exploitability",
        last.equilibrium.exploitability.penalised,
    );
    report.number(
        "adversarial.exploitability_unpenalised",
        last.equilibrium.exploitability.unpenalised,
    );
    let x_range = |s: &mut Vec<Series>, name: &str, y: f64| {
        let xs: Vec<f64> = analyses.iter().map(|a| (a.tasks as f64).log10()).collect();
        s.push(Series {
            name: name.into(),
            points: xs.iter().map(|&x| (x, y)).collect(),
        });
    };
    x_range(&mut series, "planted optimum", truth.single_share);
    x_range(&mut series, "planted equilibrium", planted_eq.value);
    report.figures.push(Figure {
        file: "vote-shares.svg".into(),
        title: "A's expected vote share against data size: single-party optimum and game \
                equilibrium, as promised by the fitted model and under the planted electorate"
            .into(),
        svg: line_chart(
            "Expected vote share of A (party R)",
            "log₁₀ tasks",
            "vote share",
            &series,
            false,
        )?,
    });
    report.figures.push(Figure {
        file: "distance.svg".into(),
        title: "Mean total variation per free factor between the estimated policies and the \
                planted optimum / equilibrium"
            .into(),
        svg: line_chart(
            "Distance to the planted policies",
            "log₁₀ tasks",
            "mean TV distance",
            &distances,
            true,
        )?,
    });
    probabilities(report, design, truth, last)?;
    lambda_table(report, analyses);
    amce_table(report, design, truth, last)?;
    verdict(report, truth, &rows, folds);
    Ok(())
}

/// A number for tables and notes, exact zeros as 0.
fn fmt_or_zero(x: f64, digits: usize) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        fmt_number(x, digits)
    }
}

/// The level probabilities at the largest size, with bootstrap s.e., beside the planted ones;
/// and their chart.
fn probabilities(
    report: &mut Report,
    design: &Design,
    truth: &Truth,
    last: &Analysis,
) -> Result<()> {
    let mut table = Table::new(
        format!(
            "Level probabilities at {} tasks (± bootstrap s.e.): single-party optimum against a \
             random D, the game's equilibrium, and the planted ones",
            last.tasks
        ),
        &[
            "factor=level",
            "design",
            "single",
            "game: A (R)",
            "game: B (D)",
            "planted single",
            "planted game: A",
            "planted game: B",
        ],
    );
    let mut labels = Vec::new();
    let mut bars: Vec<(String, Vec<f64>)> = vec![
        ("single (estimated)".into(), Vec::new()),
        ("game A (estimated)".into(), Vec::new()),
        ("game B (estimated)".into(), Vec::new()),
        ("single (planted)".into(), Vec::new()),
    ];
    let sd = |pick: &dyn Fn(&Draw) -> f64| {
        mean_sd(&last.bootstrap.iter().map(pick).collect::<Vec<_>>()).1
    };
    for (k, factor) in design.factors().iter().enumerate().skip(1) {
        for (l, level) in factor.levels.iter().enumerate() {
            let single = last.single.marginals[k][l];
            let game_a = last.equilibrium.a.marginals[k][l];
            let game_b = last.equilibrium.b.marginals[k][l];
            table.push(vec![
                format!("{}={level}", factor.name),
                fmt_number(factor.probabilities[l], 3),
                format!(
                    "{} ± {}",
                    fmt_number(single, 3),
                    fmt_number(sd(&|b| b.single.marginals[k][l]), 2)
                ),
                format!(
                    "{} ± {}",
                    fmt_number(game_a, 3),
                    fmt_number(sd(&|b| b.game_a.marginals[k][l]), 2)
                ),
                fmt_number(game_b, 3),
                fmt_number(truth.single.marginals[k][l], 3),
                fmt_number(truth.equilibrium.a.marginals[k][l], 3),
                fmt_number(truth.equilibrium.b.marginals[k][l], 3),
            ]);
            labels.push(format!("{}={level}", factor.name));
            for (bar, v) in
                bars.iter_mut()
                    .zip([single, game_a, game_b, truth.single.marginals[k][l]])
            {
                bar.1.push(v);
            }
        }
    }
    report.tables.push(table);
    report.figures.push(Figure {
        file: "level-probabilities.svg".into(),
        title: format!(
            "Optimal level probabilities at {} tasks: single-party against a random D, the \
             game's equilibrium (A = R, B = D), and the planted single-party optimum",
            last.tasks
        ),
        svg: bar_chart("Optimal level probabilities", &labels, &bars)?,
    });
    Ok(())
}

fn lambda_table(report: &mut Report, analyses: &[Analysis]) {
    let mut columns = vec!["tasks".to_string()];
    if let Some(first) = analyses.first() {
        columns.extend(first.lambda.values.iter().map(|v| format!("λ = {}", v.0)));
    }
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        "Out-of-fold value of the single-party policy against a random D (mean ± s.e. over folds)",
        &columns,
    );
    for a in analyses {
        let mut row = vec![a.tasks.to_string()];
        row.extend(
            a.lambda
                .values
                .iter()
                .map(|v| format!("{} ± {}", fmt_number(v.1, 4), fmt_number(v.2, 2))),
        );
        table.push(row);
    }
    report.tables.push(table);
}

fn amce_table(report: &mut Report, design: &Design, truth: &Truth, last: &Analysis) -> Result<()> {
    let settings = ContestSettings::default();
    let planted = amces(design, &truth.electorate, settings)?;
    let estimated = amces(design, &last.fitted, settings)?;
    let mut table = Table::new(
        format!(
            "AMCEs (change in the win probability against a design-random profile, from the \
             reference level) at {} tasks, with delta-method s.e., against the planted ones",
            last.tasks
        ),
        &["factor=level", "estimate", "s.e.", "planted", "z"],
    );
    for (e, p) in estimated.iter().zip(&planted) {
        let f = &design.factors()[e.factor];
        let se = e.std_error.unwrap_or(f64::NAN);
        table.push(vec![
            format!("{}={}", f.name, f.levels[e.level]),
            fmt_number(e.estimate, 4),
            fmt_number(se, 4),
            fmt_number(p.estimate, 4),
            fmt_number((e.estimate - p.estimate) / se, 2),
        ]);
    }
    report.tables.push(table);
    Ok(())
}

/// Largest penalised exploitability (in vote share) at which the game counts as solved.
const SOLVED: f64 = 1e-3;

/// The verdict from the numbers: (i) the single-party optimum outside 40–60%, (ii) the game's
/// share inside it with the game solved, (iii) both estimated policies closer to the planted
/// ones at the largest size than at the smallest, with under one point of true vote share lost.
fn verdict(report: &mut Report, truth: &Truth, rows: &[(&Analysis, f64, f64, f64)], folds: usize) {
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    let a = last.0;
    let e = a.equilibrium.exploitability;
    let lopsided = (a.single_share - 0.5).abs() > 0.1;
    let even = (0.4..=0.6).contains(&a.equilibrium.value) && e.penalised <= SOLVED;
    let converging = last.1 < first.1 && last.2 < first.2 && last.3 < 0.01;
    let held = [lopsided, even, converging].iter().filter(|h| **h).count();
    report.text(
        "verdict",
        match held {
            3 => "reproduced",
            0 => "not reproduced",
            _ => "partly reproduced",
        },
    );
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    report.notes.push(format!(
        "At {} tasks (λ = {} by {}-fold out-of-fold policy value), the single-party optimum \
         against a random D candidate promises A (party R) {} of the vote ({} under the planted \
         electorate; the planted optimum, {}, gets {}): {}. The two-party equilibrium gives A \
         {} ({} under the planted electorate; planted equilibrium {}), with penalised \
         exploitability {} and unpenalised {}: {}.",
        a.tasks,
        fmt_or_zero(a.lambda.lambda, 3),
        folds,
        pct(a.single_share),
        pct(a.single_true),
        truth.contest.design().describe(&truth.single.mode()),
        pct(truth.single_share),
        if lopsided {
            "outside the 40–60% range of US presidential results, as claimed"
        } else {
            "NOT outside the 40–60% range, so the claim's lopsided promise does not appear"
        },
        pct(a.equilibrium.value),
        pct(a.equilibrium_true),
        pct(truth.equilibrium.value),
        fmt_or_zero(e.penalised, 2),
        fmt_or_zero(e.unpenalised, 2),
        if even {
            "near an even split without being forced to it, as claimed"
        } else {
            "the claim of a near-even, solved equilibrium does NOT hold here"
        },
    ));
    report.notes.push(format!(
        "From {} to {} tasks the single-party policy's mean total-variation distance to the \
         planted optimum went from {} to {} (true vote share lost: {} → {} points) and the \
         equilibrium's from {} to {}: {}.",
        first.0.tasks,
        a.tasks,
        fmt_number(first.1, 3),
        fmt_or_zero(last.1, 3),
        fmt_number(100.0 * first.3, 2),
        fmt_number(100.0 * last.3, 2),
        fmt_number(first.2, 3),
        fmt_or_zero(last.2, 3),
        if converging {
            "the estimated policies approach the planted ones"
        } else {
            "the estimated policies do NOT clearly approach the planted ones"
        },
    ));
    let curse: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{:+.1} at {}",
                100.0 * (r.0.single_share - r.0.single_true),
                r.0.tasks
            )
        })
        .collect();
    report.notes.push(format!(
        "Winner's curse: the single-party policy's promised share minus its true share, in \
         points: {}.",
        curse.join(", ")
    ));
    let unsolved: Vec<String> = rows
        .iter()
        .filter(|r| r.0.equilibrium.exploitability.penalised > SOLVED)
        .map(|r| {
            format!(
                "{} tasks ({})",
                r.0.tasks,
                fmt_number(r.0.equilibrium.exploitability.penalised, 2)
            )
        })
        .collect();
    if !unsolved.is_empty() {
        report.notes.push(format!(
            "The fitted game was not solved at {}: mirror-prox stalled there. Q is multilinear \
             in the factor marginals, not concave-convex, so a factorised equilibrium need not \
             exist; the solver certifies one only through a small exploitability. The \
             bootstrap column counts the replicates whose games were solved.",
            unsolved.join(", ")
        ));
    }
    let smallest = rows[0].0.lambda.values[0].0;
    let at_edge: Vec<String> = rows
        .iter()
        .filter(|r| r.0.lambda.lambda == smallest)
        .map(|r| r.0.tasks.to_string())
        .collect();
    if !at_edge.is_empty() {
        report.notes.push(if smallest == 0.0 {
            format!(
                "Cross-validation chose no penalty (λ = 0) at {} tasks.",
                at_edge.join(", ")
            )
        } else {
            format!(
                "Cross-validation chose the grid's smallest λ = {smallest} at {} tasks, so the \
                 best λ may lie below the grid.",
                at_edge.join(", ")
            )
        });
    }
    report.notes.push(format!(
        "Method: one ridge logistic outcome model per segment (respondents' party identification \
         is observed), with all pairwise interactions, mixed in the known shares; Q is exact, \
         by enumerating the {} × {} profile pairs. The planted single-party optimum is exact \
         (enumeration of pure profiles, where a multilinear Q attains its maximum); the planted \
         equilibrium comes from the same mirror-prox solver without penalty, with exact \
         exploitability {}. The fitted game is the penalised one at the cross-validated λ, the \
         same for both sides; its penalised exploitability uses best responses by mirror \
         ascent from several starts, the unpenalised one enumerates pure profiles. Standard \
         errors come from a respondent bootstrap with λ held fixed. The game counts as solved \
         when the penalised exploitability is at most {SOLVED}.",
        truth
            .contest
            .side(Player::A)
            .n_profiles(truth.contest.design()),
        truth
            .contest
            .side(Player::B)
            .n_profiles(truth.contest.design()),
        fmt_number(truth.equilibrium.exploitability.unpenalised, 2),
    ));
}
