//! `distributional-dp`: distributional DP with stock augmentation on the slippery cliff walk, a
//! random integer-reward MDP and a foraging homeostasis toy, against the mean-optimal policy and
//! the best stationary Markov policy; the expectation objective against value iteration.

use choicelab_core::{random_integer_mdp, random_sparse_mdp, Error, Result, TabularMdp};
use choicelab_envs::{CliffWorld, Foraging};
use choicelab_mdp::distributional::{
    exact_return_law, markov_laws, monte_carlo_returns, return_range, summarise_returns, Atoms,
    Deviation, MarkovPolicy, MarkovSearch, Objective, Outcomes, Rollout, StockAugmented, StockGrid,
    StockPolicy,
};
use choicelab_mdp::{FiniteHorizon, ValueIteration};
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, Figure, Report, Table};

/// The distributional-DP study.
pub struct DistributionalDp;

/// Configuration of `distributional-dp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The cliff walk.
    pub cliff: CliffWorld,
    /// Decisions per cliff episode (γ = 1; episodes still running are cut there).
    pub horizon: usize,
    /// CVaR tail level α.
    pub alpha: f64,
    /// The foraging world of the homeostasis example.
    pub foraging: Foraging,
    /// The homeostatic target: keep the total food near it.
    pub target: f64,
    /// Decisions per foraging episode.
    pub foraging_horizon: usize,
    /// States of the random integer-reward MDP (the last one absorbing).
    pub random_states: usize,
    /// Actions of the random MDP.
    pub random_actions: usize,
    /// Decisions per random-MDP episode.
    pub random_horizon: usize,
    /// Atoms for RiverSwim's expectation check (γ = 0.99, returns up to 10⁶).
    pub river_atoms: usize,
    /// Monte Carlo episodes per policy.
    pub episodes: usize,
    /// Random starts of the Markov coordinate ascent (beyond the mean-optimal start).
    pub random_starts: usize,
    /// Seed of everything random.
    pub seed: u64,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            cliff: CliffWorld::default(),
            horizon: 40,
            alpha: 0.1,
            foraging: Foraging::default(),
            target: 10.0,
            foraging_horizon: 150,
            random_states: 8,
            random_actions: 3,
            random_horizon: 10,
            river_atoms: 401,
            episodes: 100_000,
            random_starts: 4,
            seed: 0,
        }
    }
    fn quick() -> Self {
        Config {
            cliff: CliffWorld {
                width: 6,
                height: 4,
                ..CliffWorld::default()
            },
            horizon: 24,
            foraging_horizon: 80,
            episodes: 10_000,
            random_starts: 1,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Pires, Rowland, Borsa, Guo, Khetarpal, Barreto, Abel, Munos & Dabney \
(2025), Optimizing return distributions with distributional dynamic programming: with the \
expectation objective, distributional DP is ordinary DP; augmenting the state with the stock of \
reward collected so far lets distributional DP optimise objectives that ordinary (Markov) \
policies cannot, such as CVaR (through the Rockafellar–Uryasev form, the level absorbed in the \
initial stock) and homeostatic regulation. Checked here against exact DP, exact enumeration \
and Monte Carlo on small worlds; the paper's gridworld and Atari numbers are not reproduced.";

/// One policy's exact and Monte Carlo statistics.
struct Scored {
    name: &'static str,
    key: &'static str,
    exact: f64,
    law: Vec<(f64, f64)>,
    mc_mean: f64,
    mc_mean_se: f64,
    mc_cvar: f64,
    mc_cvar_se: f64,
}

impl Study for DistributionalDp {
    fn name(&self) -> &'static str {
        "distributional-dp"
    }

    fn description(&self) -> &'static str {
        "Distributional DP with stock augmentation: CVaR and homeostasis beyond Markov policies"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        if config.episodes == 0 {
            return Err(Error::parameter("episodes", "must be at least 1"));
        }
        let mut report = Report::new(
            self.name(),
            "Return distributions optimised by distributional DP with stock augmentation",
            CLAIM,
            to_toml(&config)?,
        );
        progress.stage("distributional-dp: expectation against value iteration");
        let river = options
            .data
            .as_ref()
            .map(|d| d.file("riverswim/riverswim_mdp.csv"));
        let (expectation, river_relative) =
            expectation_checks(&config, river.transpose()?, &mut report)?;

        progress.stage("distributional-dp: CVaR on the cliff walk");
        let cliff = config.cliff.mdp()?;
        let cliff_result = cvar_case(
            &config,
            &cliff,
            config.cliff.start(),
            config.horizon,
            "cliff",
            &mut report,
        )?;
        progress.stage("distributional-dp: CVaR on a random integer-reward MDP");
        let random = random_integer_mdp(config.random_states, config.random_actions, config.seed)?;
        let random_result = cvar_case(
            &config,
            &random,
            0,
            config.random_horizon,
            "random_mdp",
            &mut report,
        )?;
        progress.stage("distributional-dp: homeostatic regulation");
        let homeostasis = homeostasis_case(&config, &mut report)?;

        report.notes.push(
            "CVaR, mean and distributions are exact (the laws of the executed policies enumerated \
             over the horizon on the integer lattice); Monte Carlo with its standard error \
             confirms them. The best stationary Markov policy is exhaustive where the table says \
             so; on the cliff it is the best of a coordinate ascent from the mean-optimal and \
             random deterministic policies, a lower bound on the best deterministic one, and \
             stationary policies that randomise are not searched there (SYSTEMS.md: they can do \
             better). The homeostasis comparison does include randomised stationary policies."
                .into(),
        );
        report.number("expectation.max_abs_diff_vs_vi", expectation);
        report.number("cvar.augmented", cliff_result.augmented);
        report.number("cvar.mean_optimal", cliff_result.mean_optimal);
        report.number("cvar.markov_best", cliff_result.markov_best);
        let beats = |r: &CvarResult| {
            r.augmented > r.mean_optimal + 1e-9 && r.augmented > r.markov_best + 1e-9
        };
        let verdicts = [
            expectation < 1e-9 && river_relative.is_none_or(|r| r < 1e-9),
            beats(&cliff_result),
            beats(&random_result),
            homeostasis,
        ];
        report.text(
            "verdict",
            match verdicts.iter().filter(|&&v| v).count() {
                4 => "reproduced",
                0 => "not reproduced",
                _ => "partly reproduced",
            },
        );
        report.text(
            "finding",
            format!(
                "Expectation objective: largest gap to classic DP {} (a random sparse MDP at \
                 γ = 0.95 and the cliff with its horizon); RiverSwim at γ = 0.99: {}. Cliff CVaR_{}: stock-augmented {} (initial \
                 stock {}), mean-optimal policy {}, best stationary Markov policy found {} ({}). \
                 Random MDP: augmented {}, mean-optimal {}, best Markov {} ({}). Homeostasis: {}.",
                fmt_number(expectation, 3),
                river_relative.map_or("skipped (no data)".into(), |r| format!(
                    "largest gap relative to the values {}",
                    fmt_number(r, 2)
                )),
                config.alpha,
                fmt_number(cliff_result.augmented, 4),
                cliff_result.initial_stock,
                fmt_number(cliff_result.mean_optimal, 4),
                fmt_number(cliff_result.markov_best, 4),
                cliff_result.markov_how,
                fmt_number(random_result.augmented, 4),
                fmt_number(random_result.mean_optimal, 4),
                fmt_number(random_result.markov_best, 4),
                random_result.markov_how,
                if homeostasis {
                    "the stock-augmented policy stays nearer the target than every stationary policy"
                } else {
                    "the stock-augmented policy did NOT beat the best stationary policy"
                },
            ),
        );
        Ok(report)
    }
}

/// Distributional DP with the expectation objective against classic DP. Returns the largest
/// absolute gap on a seeded random sparse MDP (γ = 0.95, against value iteration) and on the
/// cliff (γ = 1 with its horizon, against backward induction), and RiverSwim's largest gap
/// relative to its values (γ = 0.99, values near 6·10⁴, also checked against SYSTEMS.md's V*)
/// when the data are there.
fn expectation_checks(
    config: &Config,
    river: Option<std::path::PathBuf>,
    report: &mut Report,
) -> Result<(f64, Option<f64>)> {
    let mut table = Table::new(
        "Expectation objective: distributional DP against classic DP",
        &[
            "world",
            "classic DP",
            "max |distributional − classic|",
            "sweeps",
        ],
    );
    let infinite = |mdp: &TabularMdp, gamma: f64, atoms: usize| -> Result<(f64, f64, usize)> {
        let atoms = Atoms::covering(mdp, gamma, None, atoms)?;
        let mut planner = StockAugmented::new(
            gamma,
            None,
            atoms,
            StockGrid::single(0.0)?,
            Objective::Expectation,
        );
        planner.tolerance = 1e-12;
        let solution = planner.solve(mdp)?;
        let exact = ValueIteration::new(gamma).epsilon(1e-12).solve(mdp)?;
        let mut gap: f64 = 0.0;
        for (s, v) in exact.values.iter().enumerate() {
            gap = gap.max((solution.evaluate(s)?.value - v).abs());
        }
        Ok((gap, exact.values[0], solution.iterations))
    };
    let random = random_sparse_mdp(200, 4, 5, config.seed)?;
    let (random_gap, random_v0, sweeps) = infinite(&random, 0.95, 101)?;
    report.number("expectation.random_sparse.max_abs_diff", random_gap);
    table.push(vec![
        "random sparse MDP, 200 states, 4 actions, γ = 0.95 (value iteration)".into(),
        format!("V*(0) = {}", fmt_number(random_v0, 6)),
        fmt_number(random_gap, 3),
        sweeps.to_string(),
    ]);
    let cliff = config.cliff.mdp()?;
    let atoms = Atoms::covering(&cliff, 1.0, Some(config.horizon), 4 * config.horizon + 64)?;
    let solution = StockAugmented::new(
        1.0,
        Some(config.horizon),
        atoms,
        StockGrid::single(0.0)?,
        Objective::Expectation,
    )
    .solve(&cliff)?;
    let exact = FiniteHorizon::new(1.0, config.horizon).solve(&cliff)?;
    let mut cliff_gap: f64 = 0.0;
    for (s, v) in exact.values[0].iter().enumerate() {
        cliff_gap = cliff_gap.max((solution.evaluate(s)?.value - v).abs());
    }
    report.number("expectation.cliff.max_abs_diff", cliff_gap);
    table.push(vec![
        format!(
            "cliff, γ = 1, {} decisions (backward induction)",
            config.horizon
        ),
        format!(
            "V(start) = {}",
            fmt_number(exact.values[0][config.cliff.start()], 4)
        ),
        fmt_number(cliff_gap, 3),
        solution.iterations.to_string(),
    ]);
    let river_relative = match river {
        Some(path) => {
            let mdp = TabularMdp::from_path(&path)?;
            let (gap, v0, sweeps) = infinite(&mdp, 0.99, config.river_atoms)?;
            let relative = gap / v0.abs().max(1.0);
            report.number("expectation.riverswim.max_abs_diff", gap);
            report.number("expectation.riverswim.max_rel_diff", relative);
            report.number("expectation.riverswim.v0_vs_systems_md", v0 - 56687.6489);
            table.push(vec![
                "RiverSwim, γ = 0.99 (value iteration; SYSTEMS.md V*(0) = 56687.6489)".into(),
                format!("V*(0) = {}", fmt_number(v0, 4)),
                format!(
                    "{} (relative {})",
                    fmt_number(gap, 3),
                    fmt_number(relative, 2)
                ),
                sweeps.to_string(),
            ]);
            Some(relative)
        }
        None => {
            report.text("expectation.riverswim.status", "skipped: no data");
            None
        }
    };
    report.tables.push(table);
    Ok((random_gap.max(cliff_gap), river_relative))
}

/// CVaR of the augmented, mean-optimal and best Markov policies on one world.
struct CvarResult {
    augmented: f64,
    initial_stock: f64,
    mean_optimal: f64,
    markov_best: f64,
    markov_how: String,
}

/// Lattice atoms over the return range and the stock grid every RU level needs (γ = 1,
/// integer rewards).
fn lattice(mdp: &TabularMdp, horizon: usize) -> Result<(Atoms, StockGrid)> {
    let (low, high) = return_range(mdp, 1.0, Some(horizon))?;
    let span = high - low;
    Ok((
        Atoms::lattice(low, high, 1.0)?,
        StockGrid::new(-span, span, 1.0)?,
    ))
}

fn cvar_case(
    config: &Config,
    mdp: &TabularMdp,
    start: usize,
    horizon: usize,
    key: &'static str,
    report: &mut Report,
) -> Result<CvarResult> {
    let alpha = config.alpha;
    let objective = Objective::Cvar { alpha };
    let (atoms, stock) = lattice(mdp, horizon)?;
    let augmented =
        StockAugmented::new(1.0, Some(horizon), atoms.clone(), stock, objective).solve(mdp)?;
    let best = augmented.evaluate(start)?;
    let mean_optimal = StockAugmented::new(
        1.0,
        Some(horizon),
        atoms.clone(),
        StockGrid::single(0.0)?,
        Objective::Expectation,
    )
    .solve(mdp)?;
    let mean_start: Vec<usize> = (0..mdp.n_states())
        .map(|s| mean_optimal.action(0, s, 0.0))
        .collect();
    let search = MarkovSearch {
        random_starts: config.random_starts,
        ..MarkovSearch::new(vec![mean_start], config.seed)
    };
    let markov = search.run(mdp, 1.0, Some(horizon), &atoms, &objective, start)?;
    let markov_laws_start = markov_laws(mdp, 1.0, Some(horizon), &atoms, &markov.policy)?;
    let markov_policy = MarkovPolicy(markov.policy.clone());
    let candidates: [(&'static str, &'static str, &dyn StockPolicy, f64); 3] = [
        (
            "stock-augmented CVaR policy",
            "augmented",
            &augmented,
            best.initial_stock,
        ),
        ("mean-optimal policy", "mean_optimal", &mean_optimal, 0.0),
        (
            "best stationary Markov policy",
            "markov_best",
            &markov_policy,
            0.0,
        ),
    ];
    let mut scored = Vec::new();
    for (i, (name, policy_key, policy, c0)) in candidates.into_iter().enumerate() {
        let rollout = Rollout {
            start,
            initial_stock: c0,
            gamma: 1.0,
            horizon,
        };
        let law = exact_return_law(mdp, policy, &rollout, 5_000_000)?;
        let samples = monte_carlo_returns(
            mdp,
            policy,
            &rollout,
            config.episodes,
            config.seed.wrapping_add(i as u64 + 1),
        )?;
        let summary = summarise_returns(&samples, alpha)?;
        scored.push(Scored {
            name,
            key: policy_key,
            exact: objective.of_sorted_law(&law),
            law,
            mc_mean: summary.mean,
            mc_mean_se: summary.mean_se,
            mc_cvar: summary.cvar,
            mc_cvar_se: summary.cvar_se,
        });
    }
    let markov_check = objective.of_law(&atoms, &markov_laws_start[start]);
    let markov_how = if markov.exhaustive {
        format!(
            "exhaustive over {} deterministic policies",
            markov.evaluated
        )
    } else {
        format!(
            "coordinate ascent, {} policies evaluated: a lower bound on the best",
            markov.evaluated
        )
    };
    let mut table = Table::new(
        format!("{key}: CVaR_{alpha} and mean of the return (γ = 1, {horizon} decisions)"),
        &[
            "policy",
            "CVaR exact",
            "CVaR Monte Carlo (± se)",
            "mean exact",
            "mean Monte Carlo (± se)",
        ],
    );
    for s in &scored {
        let mean: f64 = s.law.iter().map(|(g, p)| g * p).sum();
        report.number(format!("{key}.{}.cvar", s.key), s.exact);
        report.number(format!("{key}.{}.mean", s.key), mean);
        report.number(format!("{key}.{}.mc_cvar", s.key), s.mc_cvar);
        report.number(format!("{key}.{}.mc_cvar_se", s.key), s.mc_cvar_se);
        report.number(format!("{key}.{}.mc_mean", s.key), s.mc_mean);
        table.push(vec![
            s.name.into(),
            fmt_number(s.exact, 4),
            format!(
                "{} ± {}",
                fmt_number(s.mc_cvar, 4),
                fmt_number(s.mc_cvar_se, 2)
            ),
            fmt_number(mean, 4),
            format!(
                "{} ± {}",
                fmt_number(s.mc_mean, 4),
                fmt_number(s.mc_mean_se, 2)
            ),
        ]);
    }
    report.number(format!("{key}.augmented.dp_value"), best.value);
    report.number(format!("{key}.augmented.initial_stock"), best.initial_stock);
    report.number(format!("{key}.markov_best.search_value"), markov.value);
    report.number(format!("{key}.markov_best.categorical_check"), markov_check);
    report.text(format!("{key}.markov_best.search"), markov_how.clone());
    report.tables.push(table);
    report.figures.push(Figure {
        file: format!("{key}-return-cdf.svg"),
        title: format!("{key}: distribution function of the return under each policy (exact)"),
        svg: line_chart(
            &format!("{key}: P(G ≤ x)"),
            "return x",
            "P(G ≤ x)",
            &scored
                .iter()
                .map(|s| Series {
                    name: s.key.into(),
                    points: cdf_points(&s.law),
                })
                .collect::<Vec<_>>(),
            false,
        )?,
    });
    Ok(CvarResult {
        augmented: scored[0].exact,
        initial_stock: best.initial_stock,
        mean_optimal: scored[1].exact,
        markov_best: scored[2].exact,
        markov_how,
    })
}

/// The step function of a sorted law, as chart points.
fn cdf_points(law: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(2 * law.len());
    let mut total = 0.0;
    for &(g, p) in law {
        points.push((g, total));
        total += p;
        points.push((g, total));
    }
    points
}

/// Homeostasis on the foraging world: the stock-augmented policy against every stationary
/// policy (forage with probability θ on a grid of 101 values). True when it is nearer.
fn homeostasis_case(config: &Config, report: &mut Report) -> Result<bool> {
    let world = config.foraging;
    let mdp = world.mdp()?;
    let horizon = config.foraging_horizon;
    let objective = Objective::Homeostatic {
        target: config.target,
        deviation: Deviation::Absolute,
    };
    let (low, high) = return_range(&mdp, 1.0, Some(horizon))?;
    let atoms = Atoms::lattice(low, high, 1.0)?;
    let stock = StockGrid::new(-config.target + low, -config.target + high, 1.0)?;
    let augmented =
        StockAugmented::new(1.0, Some(horizon), atoms.clone(), stock, objective).solve(&mdp)?;
    let value = augmented.evaluate(world.start())?.value;
    let samples = monte_carlo_returns(
        &mdp,
        &augmented,
        &Rollout {
            start: world.start(),
            initial_stock: -config.target,
            gamma: 1.0,
            horizon,
        },
        config.episodes,
        config.seed.wrapping_add(50),
    )?;
    let mc = -samples
        .iter()
        .map(|g| (g - config.target).abs())
        .sum::<f64>()
        / samples.len() as f64;
    let mut best_stationary = (f64::NEG_INFINITY, 0.0);
    let mut curve = Vec::new();
    for step in 0..=100 {
        let theta = step as f64 / 100.0;
        let mixed = stationary_mixture(&mdp, theta)?;
        let laws = markov_laws(&mixed, 1.0, Some(horizon), &atoms, &vec![0; mdp.n_states()])?;
        let v = objective.of_law(&atoms, &laws[world.start()]);
        curve.push((theta, -v));
        if v > best_stationary.0 {
            best_stationary = (v, theta);
        }
    }
    report.number("homeostasis.augmented", value);
    report.number("homeostasis.augmented_mc", mc);
    report.number("homeostasis.stationary_best", best_stationary.0);
    report.number("homeostasis.stationary_best_theta", best_stationary.1);
    let mut table = Table::new(
        format!(
            "Homeostasis (foraging, keep the food total near {}): −E|G − target|",
            config.target
        ),
        &["policy", "−E|G − target| exact", "Monte Carlo"],
    );
    table.push(vec![
        "stock-augmented (forage while below target)".into(),
        fmt_number(value, 4),
        fmt_number(mc, 4),
    ]);
    table.push(vec![
        format!(
            "best stationary: forage with probability {}",
            best_stationary.1
        ),
        fmt_number(best_stationary.0, 4),
        "—".into(),
    ]);
    report.tables.push(table);
    report.figures.push(Figure {
        file: "homeostasis.svg".into(),
        title: "Homeostasis: E|G − target| of stationary policies against the augmented one".into(),
        svg: line_chart(
            "E|G − target|",
            "θ = P(forage) of a stationary policy",
            "E|G − target|",
            &[
                Series {
                    name: "stationary θ".into(),
                    points: curve,
                },
                Series {
                    name: "stock-augmented".into(),
                    points: vec![(0.0, -value), (1.0, -value)],
                },
            ],
            false,
        )?,
    });
    Ok(value > best_stationary.0 + 1e-9)
}

/// The one-action MDP of the stationary policy that takes action 0 with probability θ and
/// action 1 otherwise (every outcome kept with its own reward).
fn stationary_mixture(mdp: &TabularMdp, theta: f64) -> Result<TabularMdp> {
    let outcomes = Outcomes::new(mdp);
    let mut entries = Vec::new();
    for s in 0..mdp.n_states() {
        for (a, weight) in [(0, theta), (1, 1.0 - theta)] {
            for o in outcomes.of(s, a) {
                entries.push((s, 0, o.next, weight * o.probability, o.reward));
            }
        }
    }
    TabularMdp::from_entries(mdp.n_states(), 1, &entries)
}
