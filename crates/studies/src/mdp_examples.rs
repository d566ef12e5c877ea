//! `mdp-examples`: textbook MDPs solved by every planner, against their published solutions.

use std::time::Instant;

use choicelab_core::{Result, TabularMdp};
use choicelab_mdp::examples::{forest, quantecon_infeasible, small};
use choicelab_mdp::{FiniteHorizon, Method, ResidualHistory, Stopping};
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, fmt_vector, Figure, Report, Table};

/// The study of the textbook examples.
pub struct MdpExamples;

/// Configuration of `mdp-examples`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Accuracy asked of vi, gs and mpi (sup-norm error of values) and of rvi (span).
    pub epsilon: f64,
    /// Stages of the finite-horizon forest example (pymdptoolbox's docs use 3).
    pub horizon: usize,
    /// Most iterations any method may take.
    pub max_iterations: usize,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            epsilon: 1e-6,
            horizon: 3,
            max_iterations: 1_000_000,
        }
    }
    fn quick() -> Self {
        Self::paper()
    }
}

/// A discounted example with its published solution.
struct Example {
    key: &'static str,
    label: &'static str,
    mdp: TabularMdp,
    gamma: f64,
    values: Vec<f64>,
    policy: Vec<usize>,
    /// Half a unit in the last published digit: the reference's own rounding.
    rounding: f64,
    source: &'static str,
}

const CLAIM: &str = "Exact tabular planning reproduces published optimal values and policies: \
pymdptoolbox's forest example (S=3, γ=0.96: V* = (74.6496, 78.1056, 82.1056); γ=0.9: \
V* = (26.244, 29.484, 33.484), policy (0,0,0); finite horizon N=3; average reward 3.24) and \
\"small\" example (γ=0.9: V* = (42.4419, 36.0465), policy (1,0)), QuantEcon's DiscreteDP \
example with an infeasible action, and RiverSwim (γ=0.99, V* from SYSTEMS.md). Every method \
(value iteration Jacobi and Gauss–Seidel, policy iteration, modified policy iteration) returns \
values within the requested ε of V*.";

fn examples() -> Result<Vec<Example>> {
    let forest3 = forest(3, 4.0, 2.0, 0.1)?;
    Ok(vec![
        Example {
            key: "forest3_g096",
            label: "forest S=3, γ=0.96",
            mdp: forest3.clone(),
            gamma: 0.96,
            values: vec![74.6496, 78.1056, 82.1056],
            policy: vec![0, 0, 0],
            rounding: 1e-9,
            source: "pymdptoolbox 4.0b3 docs, PolicyIteration",
        },
        Example {
            key: "forest3_g09",
            label: "forest S=3, γ=0.9",
            mdp: forest3,
            gamma: 0.9,
            values: vec![26.244, 29.484, 33.484],
            policy: vec![0, 0, 0],
            rounding: 1e-9,
            source: "pymdptoolbox 4.0b3 docs, PolicyIteration",
        },
        Example {
            key: "forest10_g09",
            label: "forest S=10, γ=0.9",
            mdp: forest(10, 4.0, 2.0, 0.1)?,
            gamma: 0.9,
            values: vec![
                6.003785411879972,
                6.744993487420708,
                7.660065185619148,
                8.789783331543148,
                10.18449709194315,
                11.90636593194315,
                14.032129931943148,
                16.656529931943147,
                19.89652993194315,
                23.89652993194315,
            ],
            policy: vec![0; 10],
            rounding: 1e-9,
            source: "pymdptoolbox 4.0b3 PolicyIteration, run by us",
        },
        Example {
            key: "small_g09",
            label: "small, γ=0.9",
            mdp: small(),
            gamma: 0.9,
            values: vec![42.44186046511632, 36.04651162790702],
            policy: vec![1, 0],
            rounding: 1e-9,
            source: "pymdptoolbox 4.0b3 docs, ValueIteration/PolicyIteration",
        },
        Example {
            key: "quantecon_g095",
            label: "QuantEcon DiscreteDP, infeasible action, β=0.95",
            mdp: quantecon_infeasible(),
            gamma: 0.95,
            values: vec![-60.0 / 7.0, -20.0],
            policy: vec![0, 0],
            rounding: 1e-9,
            source: "QuantEcon DiscreteDP docs example; V solved by hand",
        },
    ])
}

fn riverswim(options: &RunOptions) -> std::result::Result<Example, String> {
    let data = options
        .data
        .as_ref()
        .ok_or("no data folder (--data, $CHOICELAB_DATA or `choicelab data fetch`)")?;
    let path = data
        .file("riverswim/riverswim_mdp.csv")
        .map_err(|e| e.to_string())?;
    let mdp = TabularMdp::from_csv_path(&path).map_err(|e| e.to_string())?;
    Ok(Example {
        key: "riverswim_g099",
        label: "RiverSwim, γ=0.99",
        mdp,
        gamma: 0.99,
        values: vec![
            56687.6489, 58596.3240, 61205.4892, 64136.0018, 67272.3007, 70582.7943,
        ],
        policy: vec![1; 6],
        rounding: 5e-5,
        source: "SYSTEMS.md (craam2 riverswim_mdp.csv)",
    })
}

const METHODS: [Method; 4] = [
    Method::ValueIteration,
    Method::GaussSeidel,
    Method::PolicyIteration,
    Method::ModifiedPolicyIteration,
];

impl Study for MdpExamples {
    fn name(&self) -> &'static str {
        "mdp-examples"
    }

    fn description(&self) -> &'static str {
        "forest, small, QuantEcon and RiverSwim MDPs solved by every planner against published values"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        let mut report = Report::new(
            self.name(),
            "Tabular planning on textbook MDPs",
            CLAIM,
            to_toml(&config)?,
        );
        let mut cases = examples()?;
        match riverswim(options) {
            Ok(example) => cases.push(example),
            Err(why) => {
                report.notes.push(format!("RiverSwim skipped: {why}."));
                report.text("riverswim_g099.status", "skipped: no data");
            }
        }
        let stopping = Stopping {
            max_iterations: config.max_iterations,
            time_limit: None,
        };
        let mut table = Table::new(
            "Discounted examples: every method against the published solution",
            &[
                "example",
                "γ",
                "method",
                "iterations",
                "V",
                "policy",
                "‖V − V*‖∞",
                "within ε",
                "time (ms)",
            ],
        );
        let mut references = Table::new(
            "Published solutions",
            &["example", "V*", "policy", "source"],
        );
        let (mut passed, mut total) = (0, 0);
        for case in &cases {
            progress.stage(&format!("mdp-examples: {}", case.label));
            references.push(vec![
                case.label.into(),
                fmt_vector(&case.values, 4),
                format!("{:?}", case.policy),
                case.source.into(),
            ]);
            let mut lines = Vec::new();
            for method in METHODS {
                let mut history = ResidualHistory::default();
                let start = Instant::now();
                let solution = method.solve(
                    &case.mdp,
                    case.gamma,
                    config.epsilon,
                    &stopping,
                    &mut history,
                )?;
                let millis = start.elapsed().as_secs_f64() * 1e3;
                let error = solution
                    .values
                    .iter()
                    .zip(&case.values)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                let tolerance = if method == Method::PolicyIteration {
                    1e-8
                } else {
                    config.epsilon
                };
                let ok = error <= tolerance + case.rounding && solution.policy == case.policy;
                total += 1;
                passed += usize::from(ok);
                let name = format!("{}.{}", case.key, method.short_name());
                report.number(format!("{name}.iterations"), solution.iterations as f64);
                report.number(format!("{name}.max_abs_error"), error);
                report.number(
                    format!("{name}.policy_matches"),
                    f64::from(solution.policy == case.policy),
                );
                table.push(vec![
                    case.label.into(),
                    case.gamma.to_string(),
                    method.short_name().into(),
                    solution.iterations.to_string(),
                    fmt_vector(&solution.values, 4),
                    format!("{:?}", solution.policy),
                    fmt_number(error, 2),
                    if ok { "yes" } else { "NO" }.into(),
                    format!("{millis:.3}"),
                ]);
                lines.push(Series {
                    name: method.short_name().into(),
                    points: history
                        .residuals
                        .iter()
                        .enumerate()
                        .map(|(i, &r)| ((i + 1) as f64, r))
                        .collect(),
                });
            }
            let svg = line_chart(
                &format!("Bellman residual per iteration: {}", case.label),
                "iteration",
                "residual (sup norm)",
                &lines,
                true,
            )?;
            report.figures.push(Figure {
                file: format!("residuals-{}.svg", case.key),
                title: format!("Bellman residual per iteration, {}", case.label),
                svg,
            });
        }
        report.tables.push(references);
        report.tables.push(table);
        let (fh_passed, fh_table) = finite_horizon(&config, &mut report)?;
        report.tables.push(fh_table);
        let (rvi_passed, rvi_table) = average_reward(&config, &stopping, &mut report)?;
        report.tables.push(rvi_table);
        total += 2;
        passed += usize::from(fh_passed) + usize::from(rvi_passed);
        report.number("checks.passed", passed as f64);
        report.number("checks.total", total as f64);
        let verdict = if passed == total {
            "reproduced"
        } else {
            "not reproduced"
        };
        report.text("verdict", verdict);
        report.notes.push(format!(
            "{passed} of {total} checks passed: {verdict}. A discounted check passes when \
             max |V − V*| ≤ ε (1e-8 for policy iteration) plus the rounding of the published \
             figure, and the policy is the published one."
        ));
        report.notes.push(
            "The stopping rule ‖V_{k+1} − V_k‖∞ < ε(1−γ)/(2γ) bounds the error of the values. \
             pymdptoolbox's ValueIteration stops on the span of the change instead, which only \
             makes its policy ε-optimal: its documented result for forest S=3, γ=0.96 is \
             V = (5.93, 9.39, 13.39) after 4 iterations, against V* = (74.65, 78.11, 82.11)."
                .into(),
        );
        Ok(report)
    }
}

/// pymdptoolbox 4.0b3 `FiniteHorizon(forest(), 0.9, 3)`: V per stage (rows) and state.
const FOREST_FINITE_VALUES: [[f64; 3]; 4] = [
    [2.6973, 5.9373, 9.9373],
    [0.81, 3.24, 7.24],
    [0.0, 1.0, 4.0],
    [0.0, 0.0, 0.0],
];
const FOREST_FINITE_POLICY: [[usize; 3]; 3] = [[0, 0, 0], [0, 0, 0], [0, 1, 0]];

fn finite_horizon(config: &Config, report: &mut Report) -> Result<(bool, Table)> {
    let mdp = forest(3, 4.0, 2.0, 0.1)?;
    let solution = FiniteHorizon::new(0.9, config.horizon).solve(&mdp)?;
    let mut table = Table::new(
        format!(
            "Finite horizon: forest S=3, γ=0.9, N={} (reference: pymdptoolbox 4.0b3, N=3)",
            config.horizon
        ),
        &["stage", "V", "policy", "reference V", "reference policy"],
    );
    let comparable = config.horizon == 3;
    let mut error: f64 = 0.0;
    let mut policy_ok = comparable;
    for (t, values) in solution.values.iter().enumerate() {
        let reference = comparable.then(|| FOREST_FINITE_VALUES[t]);
        let reference_policy = comparable.then(|| FOREST_FINITE_POLICY.get(t)).flatten();
        if let Some(r) = reference {
            error = values
                .iter()
                .zip(&r)
                .map(|(a, b)| (a - b).abs())
                .fold(error, f64::max);
        }
        let policy = solution.policy.get(t);
        if let (Some(p), Some(r)) = (policy, reference_policy) {
            policy_ok &= p[..] == r[..];
        }
        table.push(vec![
            t.to_string(),
            fmt_vector(values, 4),
            policy.map_or("—".into(), |p| format!("{p:?}")),
            reference.map_or("—".into(), |r| fmt_vector(&r, 4)),
            reference_policy.map_or("—".into(), |r| format!("{r:?}")),
        ]);
    }
    let ok = comparable && error < 1e-9 && policy_ok;
    report.number("forest3_finite.max_abs_error", error);
    report.number("forest3_finite.matches", f64::from(ok));
    Ok((ok, table))
}

fn average_reward(
    config: &Config,
    stopping: &Stopping,
    report: &mut Report,
) -> Result<(bool, Table)> {
    let mut table = Table::new(
        "Average reward by relative value iteration",
        &["example", "gain", "iterations", "policy", "reference gain"],
    );
    // References: pymdptoolbox 4.0b3 RelativeValueIteration (docs for S=3, run by us for S=10).
    let cases = [("forest3", 3, 3.24), ("forest10", 10, 1.549681955999997)];
    let mut ok = true;
    for (key, states, reference) in cases {
        let mdp = forest(states, 4.0, 2.0, 0.1)?;
        let solution = Method::RelativeValueIteration.solve(
            &mdp,
            1.0,
            config.epsilon,
            stopping,
            &mut ResidualHistory::default(),
        )?;
        let gain = solution.gain.unwrap_or(f64::NAN);
        ok &= (gain - reference).abs() <= config.epsilon;
        report.number(format!("{key}_rvi.gain"), gain);
        report.number(format!("{key}_rvi.iterations"), solution.iterations as f64);
        table.push(vec![
            format!("forest S={states}"),
            fmt_number(gain, 6),
            solution.iterations.to_string(),
            format!("{:?}", solution.policy),
            format!("{reference} (pymdptoolbox 4.0b3)"),
        ]);
    }
    Ok((ok, table))
}
