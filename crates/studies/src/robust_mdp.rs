//! `robust-mdp`: static robustness by IWOCS against the nominal policy and dynamic robust value
//! iteration, on the windy walk (wind strength) and RiverSwim (current), each policy evaluated
//! on a fine grid of the uncertainty set.

use choicelab_core::{Error, Result, TabularMdp};
use choicelab_envs::{perturbed_river_swim, WindyWalk, CURRENT_RANGE, NOMINAL_WIND, WIND_RANGE};
use choicelab_mdp::{
    evaluate_policy, evaluate_robust_policy, exhaustive_static, improve_static_policy, Evaluation,
    Iwocs, IwocsStop, Nature, ParametricFamily, RobustValueIteration, ValueIteration,
    WorstCaseSearch,
};
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, Figure, Report, Table};

/// The robust-MDP study.
pub struct RobustMdp;

/// Configuration of `robust-mdp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The windy walk (its `wind` is ignored: the family spans WIND_RANGE).
    pub windy: WindyWalk,
    /// Discount of the windy walk.
    pub windy_gamma: f64,
    /// Discount of RiverSwim.
    pub river_gamma: f64,
    /// Grid points of IWOCS's exact worst-case search and of the robust-VI model set.
    pub search_points: usize,
    /// Points of the fine evaluation grid (also the exhaustive min–max search).
    pub evaluation_points: usize,
    /// Per-dimension grid points of the gusty walk's (two-parameter) search and evaluation.
    pub gusty_points: [usize; 2],
    /// Uniform samples of the black-box worst-case search (IWOCS's second run).
    pub random_samples: usize,
    /// Compass-search rounds per restart of the black-box search.
    pub refinements: usize,
    /// L1 radius of the ball baseline around the nominal model.
    pub l1_radius: f64,
    /// KL radius of the ball baseline around the nominal model.
    pub kl_radius: f64,
    /// Seed of the black-box search.
    pub seed: u64,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            windy: WindyWalk::default(),
            windy_gamma: 0.95,
            river_gamma: 0.99,
            search_points: 21,
            evaluation_points: 101,
            gusty_points: [11, 41],
            random_samples: 16,
            refinements: 12,
            l1_radius: 0.2,
            kl_radius: 0.05,
            seed: 0,
        }
    }
    fn quick() -> Self {
        Config {
            search_points: 11,
            evaluation_points: 41,
            gusty_points: [6, 21],
            random_samples: 8,
            refinements: 8,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Zouitine, Geist & Rachelson (2024), Solving robust MDPs as a sequence of \
static RL problems (IWOCS): growing a set of worst-case static models, each solved as an \
ordinary MDP, yields a policy for the static robust problem (nature fixes one model per \
episode) whose worst-case value equals exhaustive search over the static models; it is never \
below the nominal policy's worst case and is less conservative than dynamic robust value \
iteration over the rectangular hull of the same family. Checked here on tabular worlds; the \
paper's MuJoCo results are out of scope.";

/// One world's family and settings.
struct World<'a> {
    key: &'static str,
    label: &'static str,
    family: ParametricFamily<'a>,
    nominal: Vec<f64>,
    gamma: f64,
    initial: Vec<f64>,
    /// Points per dimension of IWOCS's grid search and of the robust-VI model set.
    search_points: usize,
    /// Points per dimension of the evaluation grid and the exhaustive search.
    evaluation_points: usize,
}

/// One world's results, for the verdict.
struct Outcome {
    label: &'static str,
    /// How IWOCS stopped.
    stop: String,
    iwocs: f64,
    exhaustive: f64,
    /// The min–max upper bound on the static robust value.
    min_max: f64,
    /// The best worst case local search found, where enumeration was out of reach.
    local_search: Option<f64>,
    nominal: f64,
    robust_vi_dynamic: f64,
    robust_vi: f64,
    certified: bool,
}

impl Study for RobustMdp {
    fn name(&self) -> &'static str {
        "robust-mdp"
    }

    fn description(&self) -> &'static str {
        "IWOCS (static robust MDPs) against nominal and dynamic robust value iteration"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        if config.search_points < 2
            || config.evaluation_points < 2
            || config.gusty_points.iter().any(|&n| n < 2)
        {
            return Err(Error::parameter(
                "search_points",
                "the search and evaluation grids need at least 2 points",
            ));
        }
        let mut report = Report::new(
            self.name(),
            "Static robustness by incremental worst-case search (IWOCS)",
            CLAIM,
            to_toml(&config)?,
        );
        let windy = config.windy;
        windy.check()?;
        let mut windy_initial = vec![0.0; windy.n_states()];
        windy_initial[windy.start()] = 1.0;
        let windy_world = World {
            key: "windy",
            label: "windy walk",
            family: ParametricFamily::new("windy walk", vec![WIND_RANGE], move |xi: &[f64]| {
                windy.with_wind(xi[0]).mdp()
            })
            .with_labels(vec!["wind ξ".into()]),
            nominal: vec![NOMINAL_WIND],
            gamma: config.windy_gamma,
            initial: windy_initial.clone(),
            search_points: config.search_points,
            evaluation_points: config.evaluation_points,
        };
        progress.stage("robust-mdp: windy walk");
        let windy_outcome = run_world(&config, &windy_world, &mut report)?;
        // The study's headline metrics are the windy walk's.
        for (name, value) in [
            ("iwocs.worst_case", windy_outcome.iwocs),
            ("nominal.worst_case", windy_outcome.nominal),
            ("robust_vi.worst_case", windy_outcome.robust_vi),
            ("exhaustive.worst_case", windy_outcome.exhaustive),
        ] {
            report.number(name, value);
        }
        if let Some(m) = report.metrics.get("windy.iwocs.iterations").cloned() {
            report.metrics.insert("iwocs.iterations".into(), m);
        }
        let river_file = options
            .data
            .as_ref()
            .and_then(|d| d.file("riverswim/riverswim_mdp.csv").ok());
        progress.stage("robust-mdp: gusty walk");
        let gusty_world = World {
            key: "gusty",
            label: "gusty walk",
            family: ParametricFamily::new(
                "gusty walk",
                vec![WIND_RANGE, (0.0, 1.0)],
                move |xi: &[f64]| windy.with_gusts(xi[0], xi[1]).mdp(),
            )
            .with_labels(vec!["gust strength".into(), "share blowing down".into()]),
            nominal: vec![NOMINAL_WIND, 1.0],
            gamma: config.windy_gamma,
            initial: windy_initial,
            search_points: config.gusty_points[0],
            evaluation_points: config.gusty_points[1],
        };
        let gusty_outcome = run_world(&config, &gusty_world, &mut report)?;
        // The claim is checked on the windy walk and RiverSwim (the worlds); the gusty
        // walk probes what a shared two-parameter family does to it (a duality gap).
        report.number(
            "gusty.duality_gap_bound",
            gusty_outcome.min_max - gusty_outcome.iwocs,
        );
        let mut outcomes = vec![windy_outcome];
        match river_file {
            Some(path) => {
                progress.stage("robust-mdp: RiverSwim");
                let nominal_river = TabularMdp::from_path(&path)?;
                let mut initial = vec![0.0; nominal_river.n_states()];
                initial[0] = 1.0;
                let river = World {
                    key: "riverswim",
                    label: "RiverSwim",
                    family: ParametricFamily::new(
                        "RiverSwim",
                        vec![CURRENT_RANGE],
                        |xi: &[f64]| perturbed_river_swim(&nominal_river, xi[0]),
                    )
                    .with_labels(vec!["current ξ".into()]),
                    nominal: vec![0.0],
                    gamma: config.river_gamma,
                    initial,
                    search_points: config.search_points,
                    evaluation_points: config.evaluation_points,
                };
                outcomes.push(run_world(&config, &river, &mut report)?);
            }
            None => report.text("riverswim.status", "skipped: no data"),
        }
        let slack = |o: &Outcome| 1e-6 * o.exhaustive.abs().max(1.0);
        let holds = |o: &Outcome| {
            o.certified
                && (o.iwocs - o.exhaustive).abs() <= slack(o)
                && o.iwocs >= o.nominal - slack(o)
                && o.iwocs >= o.robust_vi_dynamic - slack(o)
                && o.iwocs >= o.robust_vi - slack(o)
        };
        // Where the family's worst case is the same model at every state, static and dynamic
        // pessimism coincide, so "less conservative" can only be strict somewhere.
        let strictly_less_conservative = outcomes
            .iter()
            .any(|o| o.iwocs > o.robust_vi_dynamic + slack(o));
        let held = outcomes.iter().filter(|o| holds(o)).count();
        report.text(
            "verdict",
            if held == outcomes.len() && strictly_less_conservative {
                "reproduced"
            } else if held == 0 {
                "not reproduced"
            } else {
                "partly reproduced"
            },
        );
        let sentences: Vec<String> = outcomes.iter().map(describe).collect();
        let river_note = if outcomes.len() < 2 {
            " RiverSwim skipped (no data)."
        } else {
            ""
        };
        report.text(
            "finding",
            format!(
                "{}{river_note} Beyond the claim, {} There IWOCS's Q̂ = min_i Q*_i envelope \
                 stalls below the min–max bound, and coordinate ascent over deterministic \
                 policies from every policy above finds nothing better: consistent with a \
                 min–max/max–min gap, since one shared parameter is not (s,a)-rectangular \
                 (randomised policies, which could close part of it, are not searched).",
                sentences.join(" "),
                describe(&gusty_outcome)
            ),
        );
        Ok(report)
    }
}

/// One world's result in a sentence.
fn describe(o: &Outcome) -> String {
    let exhaustive = match o.local_search {
        None if o.exhaustive != o.min_max => {
            format!("the brute-force max–min {}", fmt_number(o.exhaustive, 4))
        }
        None => format!("the exhaustive min–max {}", fmt_number(o.exhaustive, 4)),
        Some(local) => format!(
            "the exhaustive min–max {} (too many policies to enumerate the max–min; local \
             search reaches {})",
            fmt_number(o.min_max, 4),
            fmt_number(local, 4)
        ),
    };
    format!(
        "{}: IWOCS's static worst case {} ({}) against {}; nominal policy {}; dynamic robust VI \
         over the grid's rectangular hull promises {} and its policy's static worst case is {}.",
        o.label,
        fmt_number(o.iwocs, 4),
        o.stop,
        exhaustive,
        fmt_number(o.nominal, 4),
        fmt_number(o.robust_vi_dynamic, 4),
        fmt_number(o.robust_vi, 4),
    )
}

/// The regular grid over the box `bounds` with `points` per dimension, ends included, the
/// first parameter varying slowest.
fn box_grid(bounds: &[(f64, f64)], points: usize) -> Vec<Vec<f64>> {
    let mut grid = vec![Vec::new()];
    for &(lo, hi) in bounds {
        grid = grid
            .into_iter()
            .flat_map(|prefix: Vec<f64>| {
                (0..points).map(move |i| {
                    let mut point = prefix.clone();
                    point.push(lo + (hi - lo) * i as f64 / (points - 1) as f64);
                    point
                })
            })
            .collect();
    }
    grid
}

/// V^π_ξ(ρ₀) at each parameter.
fn values_over(world: &World, policy: &[usize], parameters: &[Vec<f64>]) -> Result<Vec<f64>> {
    parameters
        .iter()
        .map(|xi| {
            let model = world.family.model(xi)?;
            let v = evaluate_policy(&model, world.gamma, policy, Evaluation::Auto)?;
            Ok(v.iter().zip(&world.initial).map(|(v, p)| v * p).sum())
        })
        .collect()
}

/// Chart points: the smallest value at each value of the first parameter.
fn worst_by_first(parameters: &[Vec<f64>], values: &[f64]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for (xi, &v) in parameters.iter().zip(values) {
        match points.last_mut() {
            Some(last) if last.0 == xi[0] => last.1 = last.1.min(v),
            _ => points.push((xi[0], v)),
        }
    }
    points
}

fn fmt_point(xi: &[f64]) -> String {
    let parts: Vec<String> = xi.iter().map(|x| fmt_number(*x, 3)).collect();
    parts.join(", ")
}

fn run_world(config: &Config, world: &World, report: &mut Report) -> Result<Outcome> {
    let key = world.key;
    let fine = box_grid(&world.family.bounds, world.evaluation_points);
    let search = box_grid(&world.family.bounds, world.search_points);
    let at = |v: &[f64]| -> f64 { v.iter().zip(&world.initial).map(|(v, p)| v * p).sum() };
    let nominal_model = world.family.model(&world.nominal)?;
    let nominal = ValueIteration::new(world.gamma)
        .epsilon(1e-10)
        .solve(&nominal_model)?;
    // Dynamic robust VI over the rectangular hull of the searched grid: nature picks any grid
    // model's row at every state-action pair and every step.
    let hull: Vec<TabularMdp> = search
        .iter()
        .map(|xi| world.family.model(xi))
        .collect::<Result<_>>()?;
    let hull_nature = Nature::Models(hull);
    let robust = RobustValueIteration::new(world.gamma, hull_nature.clone())
        .epsilon(1e-10)
        .solve(&nominal_model)?;
    let robust_dynamic = at(&evaluate_robust_policy(
        &nominal_model,
        world.gamma,
        &robust.policy,
        &hull_nature,
        1e-10,
    )?);
    let balls = [
        (
            format!("dynamic robust VI, L1 ball κ = {}", config.l1_radius),
            "l1",
            Nature::L1 {
                radius: config.l1_radius,
            },
        ),
        (
            format!("dynamic robust VI, KL ball κ = {}", config.kl_radius),
            "kl",
            Nature::Kl {
                radius: config.kl_radius,
            },
        ),
    ];
    let mut iwocs = Iwocs::new(
        world.gamma,
        world.initial.clone(),
        world.nominal.clone(),
        WorstCaseSearch::Grid {
            points_per_dimension: world.search_points,
        },
    );
    iwocs.tolerance = 1e-6;
    let solution = iwocs.solve(&world.family)?;
    let black_box = Iwocs {
        search: WorstCaseSearch::Random {
            samples: config.random_samples,
            refinements: config.refinements,
            seed: config.seed,
        },
        ..iwocs.clone()
    }
    .solve(&world.family)?;
    let exhaustive = exhaustive_static(
        &world.family,
        world.evaluation_points,
        world.gamma,
        &world.initial,
    )?;

    let mut policies: Vec<(String, &'static str, Vec<usize>)> = vec![
        (
            "nominal (optimal at the nominal model)".into(),
            "nominal",
            nominal.policy.clone(),
        ),
        (
            "IWOCS (grid search)".into(),
            "iwocs",
            solution.policy.clone(),
        ),
        (
            "IWOCS (black-box search)".into(),
            "iwocs_black_box",
            black_box.policy.clone(),
        ),
        (
            "dynamic robust VI over the grid's rectangular hull".into(),
            "robust_vi",
            robust.policy.clone(),
        ),
    ];
    for (label, ball_key, nature) in balls {
        let ball = RobustValueIteration::new(world.gamma, nature)
            .epsilon(1e-10)
            .solve(&nominal_model)?;
        policies.push((label, ball_key, ball.policy));
    }
    match &exhaustive.max_min {
        Some(brute) => policies.push((
            format!("brute force over {} deterministic policies", brute.policies),
            "brute_force",
            brute.policy.clone(),
        )),
        None => {
            // Too many policies to enumerate: coordinate ascent from each policy above gives a
            // lower bound on the max–min value.
            let mut best: Option<choicelab_mdp::iwocs::BruteForcePolicy> = None;
            for (_, _, start) in &policies {
                let local = improve_static_policy(
                    &world.family,
                    world.search_points,
                    world.gamma,
                    &world.initial,
                    start,
                )?;
                if best
                    .as_ref()
                    .is_none_or(|b| local.worst_case > b.worst_case)
                {
                    best = Some(local);
                }
            }
            if let Some(best) = best {
                policies.push((
                    "local search over static policies (a lower bound on max–min)".into(),
                    "local_search",
                    best.policy,
                ));
            }
        }
    }
    let mut table = Table::new(
        format!(
            "{}: value V^π_ξ(ρ₀) over {} models, a grid of ({}) over {:?} (γ = {})",
            world.label,
            fine.len(),
            world.family.labels.join(", "),
            world.family.bounds,
            world.gamma
        ),
        &["policy", "worst case", "mean", "nominal", "worst ξ"],
    );
    let mut series = Vec::new();
    let mut worst_of = std::collections::BTreeMap::new();
    for (label, policy_key, policy) in &policies {
        let values = values_over(world, policy, &fine)?;
        let (worst_index, worst) =
            values
                .iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |b, (i, v)| if v < b.1 { (i, v) } else { b },
                );
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let nominal_value = values_over(world, policy, std::slice::from_ref(&world.nominal))?[0];
        report.number(format!("{key}.{policy_key}.worst_case"), worst);
        report.number(format!("{key}.{policy_key}.mean"), mean);
        report.number(format!("{key}.{policy_key}.nominal"), nominal_value);
        table.push(vec![
            label.clone(),
            fmt_number(worst, 4),
            fmt_number(mean, 4),
            fmt_number(nominal_value, 4),
            fmt_point(&fine[worst_index]),
        ]);
        worst_of.insert(*policy_key, worst);
        if ["nominal", "iwocs", "robust_vi"].contains(policy_key) {
            series.push(Series {
                name: (*policy_key).into(),
                points: worst_by_first(&fine, &values),
            });
        }
    }
    let optimal: Vec<f64> = fine
        .iter()
        .map(|xi| {
            let model = world.family.model(xi)?;
            Ok(at(&ValueIteration::new(world.gamma)
                .epsilon(1e-10)
                .solve(&model)?
                .values))
        })
        .collect::<Result<_>>()?;
    series.push(Series {
        name: "V*_ξ (per-model optimum)".into(),
        points: worst_by_first(&fine, &optimal),
    });
    report.tables.push(table);

    let mut steps = Table::new(
        format!("{}: IWOCS iterations (grid search)", world.label),
        &[
            "k",
            "worst ξ for π_k",
            "π_k's worst case",
            "bound min_i V*_i(ρ₀)",
        ],
    );
    for (k, step) in solution.steps.iter().enumerate() {
        steps.push(vec![
            k.to_string(),
            fmt_point(&step.worst_parameters),
            fmt_number(step.worst_case, 4),
            fmt_number(step.bound, 4),
        ]);
    }
    report.tables.push(steps);
    report.figures.push(Figure {
        file: format!("{key}-values.svg"),
        title: format!(
            "{}: each policy's value across the uncertainty set{}",
            world.label,
            if world.family.bounds.len() > 1 {
                " (the worst over the other parameters at each value of the first)"
            } else {
                ""
            }
        ),
        svg: line_chart(
            &format!("{}: V^π_ξ(ρ₀)", world.label),
            &world.family.labels[0],
            "value",
            &series,
            false,
        )?,
    });
    let iwocs_worst = worst_of["iwocs"];
    report.number(
        format!("{key}.iwocs.iterations"),
        solution.steps.len() as f64,
    );
    report.number(format!("{key}.iwocs.models"), solution.models.len() as f64);
    report.text(
        format!("{key}.iwocs.models_found"),
        solution
            .models
            .iter()
            .map(|m| format!("({})", fmt_point(m)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    report.text(format!("{key}.iwocs.stop"), format!("{:?}", solution.stop));
    report.number(
        format!("{key}.iwocs_black_box.iterations"),
        black_box.steps.len() as f64,
    );
    report.number(format!("{key}.exhaustive.min_max"), exhaustive.min_max);
    if let Some(brute) = &exhaustive.max_min {
        report.number(format!("{key}.exhaustive.max_min"), brute.worst_case);
    }
    report.number(format!("{key}.robust_vi.dynamic_value"), robust_dynamic);
    // The exhaustive static value: the brute-force max–min where enumeration fits, else the
    // min–max bound (which the max–min equals only without a duality gap).
    let exhaustive_value = exhaustive
        .max_min
        .as_ref()
        .map_or(exhaustive.min_max, |b| b.worst_case);
    report.number(format!("{key}.exhaustive.worst_case"), exhaustive_value);
    Ok(Outcome {
        label: world.label,
        stop: match solution.stop {
            IwocsStop::Certified => "certified".into(),
            IwocsStop::Stalled => "stalled: its worst case was already in its set".into(),
            IwocsStop::MaxIterations => "iteration limit".into(),
        },
        iwocs: iwocs_worst,
        exhaustive: exhaustive_value,
        local_search: worst_of.get("local_search").copied(),
        min_max: exhaustive.min_max,
        nominal: worst_of["nominal"],
        robust_vi_dynamic: robust_dynamic,
        robust_vi: worst_of["robust_vi"],
        certified: solution.certified(),
    })
}
