//! `dcppo`: DCPPO on synthetic linear DDC worlds with a narrow start, pessimistic against
//! plain planning, and the error of each stage against the data size.

use choicelab_core::{Error, Result};
use choicelab_inverse::dcppo::{
    estimate_q, pessimistic_plan, recover_reward, theory_beta, Episodes, LinearDdcWorld, Pessimism,
    WorldDesign,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{check_increasing, to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, mean_sd, Figure, Report, Table};

/// The DCPPO study.
pub struct DcppoStudy;

/// Configuration of `dcppo`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The worlds: each is drawn from this design with its own seed.
    pub world: WorldDesign,
    /// Numbers of logged episodes n (nested: each is a prefix of the largest).
    pub sizes: Vec<usize>,
    /// Independent worlds, each with its own data.
    pub worlds: usize,
    /// The pessimistic variant's β.
    pub beta: f64,
    /// β values swept at the largest n (0 is the plain variant).
    pub beta_sweep: Vec<f64>,
    /// Confidence level δ of PEVI's theoretical β.
    pub delta: f64,
    /// Ridge λ of every stage (logit penalty, reward regression, Λ_h).
    pub ridge: f64,
    /// World w uses seed + w; its episodes seed + 1_000_000 + w.
    pub seed: u64,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            world: WorldDesign::default(),
            sizes: vec![30, 100, 300, 1000, 3000, 10000],
            worlds: 40,
            beta: 1.0,
            beta_sweep: vec![0.0, 0.1, 0.3, 1.0, 3.0, 10.0],
            delta: 0.05,
            ridge: 1e-3,
            seed: 0,
        }
    }
    fn quick() -> Self {
        Config {
            sizes: vec![30, 100, 300, 1000],
            worlds: 8,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Li, Yang & Wang (2023), DCPPO: from the choices of a human who follows the \
dynamic discrete choice model (logit over Q), stage 1 estimates Q by maximum likelihood, stage 2 \
recovers the reward by minimising the Bellman mean-squared error, stage 3 plans by pessimistic \
value iteration (PEVI). With data that covers the optimal policy's states but little else, the \
pessimistic policy's suboptimality stays small and shrinks roughly like 1/√n, while the β = 0 \
variant exploits poorly covered actions and does worse; the reward error also falls roughly as \
1/√n. The paper is theoretical: no experiment or code to match, and the powers of d and H in \
its bound are unverified.";

/// One world at one data size.
#[derive(Debug, Clone, Default)]
struct Outcome {
    q_error: f64,
    reward_error: f64,
    /// Suboptimality at each β of the sweep, then at the configured β, then at theory's β.
    suboptimality: Vec<f64>,
    theory_beta: f64,
    /// The share of theory-β Q̄ values pinned at their floor.
    theory_floor_share: f64,
}

/// Mean and standard error of the mean.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let (mean, sd) = mean_sd(xs);
    (mean, sd / (xs.len() as f64).sqrt())
}

/// Mean and standard error over worlds of `f` at size index `i`.
fn over_worlds(per_world: &[Vec<Outcome>], i: usize, f: &dyn Fn(&Outcome) -> f64) -> (f64, f64) {
    mean_se(&per_world.iter().map(|o| f(&o[i])).collect::<Vec<_>>())
}

/// Least-squares slope of ln y on ln x.
fn log_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let n = logs.len() as f64;
    let (mx, my) = (
        logs.iter().map(|p| p.0).sum::<f64>() / n,
        logs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    sxy / sxx
}

impl Config {
    /// Sizes strictly increasing from 1, at least two worlds (for standard errors), distinct
    /// β values, δ in (0, 1).
    fn check(&self) -> Result<()> {
        if self.worlds < 2 {
            return Err(Error::parameter(
                "worlds",
                format!(
                    "need at least 2 worlds for standard errors, got {}",
                    self.worlds
                ),
            ));
        }
        check_increasing("sizes", &self.sizes)?;
        let mut betas = self.beta_sweep.clone();
        betas.sort_by(f64::total_cmp);
        if betas.windows(2).any(|w| w[0] == w[1]) || betas.iter().any(|b| b.is_nan() || *b < 0.0) {
            return Err(Error::parameter(
                "beta_sweep",
                format!("need distinct β ≥ 0, got {:?}", self.beta_sweep),
            ));
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::parameter(
                "delta",
                format!("must lie in (0, 1), got {}", self.delta),
            ));
        }
        Ok(())
    }

    /// Every stage on the first n episodes of `all`.
    fn outcome(&self, world: &LinearDdcWorld, all: &Episodes, n: usize) -> Result<Outcome> {
        let episodes = Episodes {
            horizon: all.horizon,
            transitions: all.transitions[..n * all.horizon].to_vec(),
        };
        let features = &world.features;
        let q = estimate_q(features, &episodes, self.ridge)?;
        let weights = recover_reward(features, &episodes, &q, self.ridge)?;
        let range = weights
            .iter()
            .map(|w| {
                let r = features.linear(w);
                let (lo, hi) = r
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                        (a.min(*x), b.max(*x))
                    });
                hi - lo
            })
            .fold(0.0, f64::max);
        let theory = theory_beta(self.world.dim, self.world.horizon, n, self.delta, range)?;
        let betas = self.beta_sweep.iter().copied().chain([self.beta, theory]);
        let mut theory_floor_share = 0.0;
        let suboptimality = betas
            .map(|beta| {
                let plan = pessimistic_plan(
                    features,
                    &episodes,
                    &weights,
                    Pessimism {
                        beta,
                        ridge: self.ridge,
                    },
                )?;
                // The last β is theory's.
                theory_floor_share = plan.floor_share();
                world.suboptimality(&plan.policy)
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(Outcome {
            q_error: world.q_error(&q.tables(features)),
            reward_error: world.reward_error(&weights),
            suboptimality,
            theory_beta: theory,
            theory_floor_share,
        })
    }
}

impl Study for DcppoStudy {
    fn name(&self) -> &'static str {
        "dcppo"
    }

    fn description(&self) -> &'static str {
        "DCPPO: a dynamic chooser's reward from its choices, then pessimistic planning"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        config.check()?;
        let largest = *config.sizes.last().expect("sizes is not empty");
        let design = &config.world;
        progress.stage("dcppo: generating worlds and fitting the three stages");
        // Worlds in parallel, each deterministic; `collect` keeps their order.
        let per_world: Vec<Vec<Outcome>> = (0..config.worlds)
            .into_par_iter()
            .map(|w| {
                let world = LinearDdcWorld::generate(design, config.seed.wrapping_add(w as u64))?;
                let episodes_seed = config.seed.wrapping_add(1_000_000 + w as u64);
                let all = world.simulate(largest, episodes_seed);
                config
                    .sizes
                    .iter()
                    .map(|&n| config.outcome(&world, &all, n))
                    .collect()
            })
            .collect::<Result<_>>()?;
        let mut report = Report::new(
            self.name(),
            "DCPPO: learning a dynamic chooser's reward, then planning pessimistically",
            CLAIM,
            to_toml(&config)?,
        );
        write_results(&config, &per_world, &mut report)?;
        Ok(report)
    }
}

/// Whether pessimism beat plain planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PessimismOutcome {
    /// Better at the largest n and never worse.
    Holds,
    /// Better at some smaller n, never worse, but not at the largest n.
    HoldsWhereCoverageIsPoor,
    /// Never better, or worse somewhere.
    Fails,
}

/// Paired standard errors a difference must exceed to count: about a one-sided 5% test after
/// Bonferroni's correction for up to 20 sizes.
const PAIRED_Z: f64 = 3.0;

/// Compares plain planning (sweep entry `plain`) with the pessimistic variant at every size,
/// paired over worlds: the finding's sentence and the outcome.
fn compare_plain(
    config: &Config,
    per_world: &[Vec<Outcome>],
    plain: usize,
    pessimistic: usize,
) -> (String, PessimismOutcome) {
    let column = |i: usize, f: &dyn Fn(&Outcome) -> f64| over_worlds(per_world, i, f);
    let gaps: Vec<(f64, f64)> = (0..config.sizes.len())
        .map(|i| {
            column(i, &|o| {
                o.suboptimality[plain] - o.suboptimality[pessimistic]
            })
        })
        .collect();
    let sizes_where = |sign: f64| -> Vec<usize> {
        config
            .sizes
            .iter()
            .zip(&gaps)
            .filter(|(_, g)| sign * g.0 > PAIRED_Z * g.1)
            .map(|(n, _)| *n)
            .collect()
    };
    let (better, worse) = (sizes_where(1.0), sizes_where(-1.0));
    let largest = *config.sizes.last().expect("sizes is not empty");
    let describe = |i: usize| {
        let (p, z) = (
            column(i, &|o| o.suboptimality[pessimistic]).0,
            column(i, &|o| o.suboptimality[plain]).0,
        );
        let ratio = if p > 0.0 {
            format!(" (plain/pessimistic = {})", fmt_number(z / p, 3))
        } else {
            String::new()
        };
        format!(
            "at n = {}, pessimistic {} and plain {}{ratio}",
            config.sizes[i],
            fmt_number(p, 4),
            fmt_number(z, 4)
        )
    };
    let text = format!(
        "Pessimism (β = {}) has lower mean suboptimality than plain planning by more than \
         {PAIRED_Z} paired standard errors at n ∈ {better:?}, and higher at n ∈ {worse:?}: {}; \
         {}.",
        config.beta,
        describe(0),
        describe(config.sizes.len() - 1),
    );
    let outcome = if !worse.is_empty() || better.is_empty() {
        PessimismOutcome::Fails
    } else if better.contains(&largest) {
        PessimismOutcome::Holds
    } else {
        PessimismOutcome::HoldsWhereCoverageIsPoor
    };
    (text, outcome)
}

fn write_results(config: &Config, per_world: &[Vec<Outcome>], report: &mut Report) -> Result<()> {
    let sweep = config.beta_sweep.len();
    let (pessimistic, theory) = (sweep, sweep + 1);
    let plain = config.beta_sweep.iter().position(|b| *b == 0.0);
    let column = |i: usize, f: &dyn Fn(&Outcome) -> f64| over_worlds(per_world, i, f);
    let mut table = Table::new(
        format!(
            "Mean (standard error) over {} worlds; suboptimality V*₁ − V^π̂₁ under the planted reward",
            config.worlds
        ),
        &[
            "n",
            "Q error",
            "reward error",
            "plain (β = 0)",
            &format!("pessimistic (β = {})", config.beta),
            "suboptimality at PEVI's β",
            "PEVI's β",
        ],
    );
    let (mut curves, mut errors) = (vec![Vec::new(); 3], vec![Vec::new(); 2]);
    for (i, &n) in config.sizes.iter().enumerate() {
        let q = column(i, &|o| o.q_error);
        let r = column(i, &|o| o.reward_error);
        let p = column(i, &|o| o.suboptimality[pessimistic]);
        let t = column(i, &|o| o.suboptimality[theory]);
        let b = column(i, &|o| o.theory_beta);
        let z = plain.map(|k| column(i, &|o| o.suboptimality[k]));
        report.number(format!("n{n}.q_error"), q.0);
        report.number(format!("n{n}.reward_error"), r.0);
        report.number(format!("n{n}.pessimistic.suboptimality"), p.0);
        report.number(format!("n{n}.theory.suboptimality"), t.0);
        if let Some(z) = z {
            report.number(format!("n{n}.plain.suboptimality"), z.0);
            curves[0].push((n as f64, z.0));
        }
        curves[1].push((n as f64, p.0));
        curves[2].push((n as f64, t.0));
        errors[0].push((n as f64, q.0));
        errors[1].push((n as f64, r.0));
        let cell = |m: (f64, f64)| format!("{} ({})", fmt_number(m.0, 4), fmt_number(m.1, 2));
        table.push(vec![
            n.to_string(),
            cell(q),
            cell(r),
            z.map_or("—".into(), cell),
            cell(p),
            cell(t),
            fmt_number(b.0, 4),
        ]);
    }
    report.tables.push(table);
    let last = config.sizes.len() - 1;
    let at_largest = |k: usize| column(last, &|o| o.suboptimality[k]).0;
    report.number("pessimistic.suboptimality", at_largest(pessimistic));
    report.number("theory.suboptimality", at_largest(theory));
    report.number("reward_error", column(last, &|o| o.reward_error).0);
    report.number("q_error", column(last, &|o| o.q_error).0);
    let mut sweep_table = Table::new(
        format!("Suboptimality against β at n = {}", config.sizes[last]),
        &["β", "suboptimality", "standard error"],
    );
    for (k, beta) in config.beta_sweep.iter().enumerate() {
        let (m, se) = column(last, &|o| o.suboptimality[k]);
        report.number(format!("sweep.beta{beta}.suboptimality"), m);
        sweep_table.push(vec![beta.to_string(), fmt_number(m, 4), fmt_number(se, 2)]);
    }
    report.tables.push(sweep_table);
    // Slopes over the three largest sizes, where the errors are in their asymptotic regime.
    let tail = |points: &[(f64, f64)]| log_slope(&points[points.len().saturating_sub(3)..]);
    let reward_slope = tail(&errors[1]);
    let pessimistic_slope = tail(&curves[1]);
    report.number("reward_error.slope", reward_slope);
    report.number("pessimistic.slope", pessimistic_slope);
    // Suboptimality may fall faster than 1/√n (action gaps give fast rates); it must fall.
    let rate_holds = (-1.0..=-0.35).contains(&reward_slope) && pessimistic_slope <= -0.35;
    let (plain_finding, pessimism) = match plain {
        Some(k) => {
            report.number("plain.suboptimality", at_largest(k));
            report.number("plain.slope", tail(&curves[0]));
            compare_plain(config, per_world, k, pessimistic)
        }
        None => (
            "The β sweep has no 0, so the plain variant was not run.".into(),
            PessimismOutcome::Fails,
        ),
    };
    report.text(
        "verdict",
        match (pessimism, rate_holds) {
            (PessimismOutcome::Holds, true) => "reproduced",
            (PessimismOutcome::Fails, false) => "not reproduced",
            _ => "partly reproduced",
        },
    );
    let slope_text = |x: f64| {
        if x.is_finite() {
            fmt_number(x, 3)
        } else {
            "undefined (fewer than two sizes with a positive value)".into()
        }
    };
    report.number(
        "theory.floor_share",
        column(last, &|o| o.theory_floor_share).0,
    );
    report.text(
        "finding",
        format!(
            "{plain_finding} Log-log slopes against n over the three largest sizes: reward \
             error {}, pessimistic suboptimality {} (1/√n is −0.5; the rate part of the claim \
             holds when the first lies in [−1, −0.35] and the second is at most −0.35). PEVI's \
             theoretical β (mean {} at the largest n) pins {}% of the values Q̄ at the floor of \
             their range and gives suboptimality {}.",
            slope_text(reward_slope),
            slope_text(pessimistic_slope),
            fmt_number(column(last, &|o| o.theory_beta).0, 4),
            fmt_number(100.0 * column(last, &|o| o.theory_floor_share).0, 3),
            fmt_number(at_largest(theory), 4),
        ),
    );
    let log_x = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        points.iter().map(|(x, y)| (x.log10(), *y)).collect()
    };
    let names = ["plain (β = 0)", "pessimistic", "theory β"];
    let series: Vec<Series> = curves
        .iter()
        .zip(names)
        .filter(|(c, _)| !c.is_empty())
        .map(|(c, name)| Series {
            name: name.into(),
            points: log_x(c),
        })
        .collect();
    report.figures.push(Figure {
        file: "suboptimality.svg".into(),
        title: "Suboptimality against the number of episodes".into(),
        svg: line_chart(
            "Suboptimality of the learned policy",
            "log₁₀ n",
            "V*₁ − V^π̂₁",
            &series,
            true,
        )?,
    });
    let (n0, r0) = errors[1][0];
    let reference: Vec<(f64, f64)> = errors[1]
        .iter()
        .map(|(n, _)| (*n, r0 * (n0 / n).sqrt()))
        .collect();
    report.figures.push(Figure {
        file: "errors.svg".into(),
        title: "Stage errors against the number of episodes, with a 1/√n line".into(),
        svg: line_chart(
            "Error of each stage",
            "log₁₀ n",
            "occupancy-weighted RMS error",
            &[
                Series {
                    name: "Q (stage 1)".into(),
                    points: log_x(&errors[0]),
                },
                Series {
                    name: "reward (stage 2)".into(),
                    points: log_x(&errors[1]),
                },
                Series {
                    name: "1/√n".into(),
                    points: log_x(&reference),
                },
            ],
            true,
        )?,
    });
    Ok(())
}
