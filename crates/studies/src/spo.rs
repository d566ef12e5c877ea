//! `spo`: self-play preference optimisation against reward-model RLHF on bandit preference
//! oracles (consistent, stochastic, intransitive): distance of each to the Minimax Winner.

use choicelab_core::{Error, Result};
use choicelab_inverse::spo::sequences::{markov_reward_model, SequenceGame, StepwiseSelfPlay};
use choicelab_inverse::spo::{
    reward_model_policy, total_variation, PreferenceMatrix, Rater, SelfPlay,
};
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, Figure, Report, Table};

/// The SPO study.
pub struct Spo;

/// Configuration of `spo`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Alternatives sampled per SPO iteration.
    pub batch: usize,
    /// SPO's multiplicative-weights step η.
    pub step: f64,
    /// SPO iterations.
    pub iterations: usize,
    /// Uniform exploration γ mixed into SPO's sampling.
    pub exploration: f64,
    /// Labelled random pairs given to the reward model.
    pub comparisons: usize,
    /// Ridge α of the Bradley–Terry reward model.
    pub alpha: f64,
    /// Utilities of the consistent (Bradley–Terry) oracle.
    pub utilities: Vec<f64>,
    /// Win probabilities of the weighted three-cycle (0 ≻ 1, 1 ≻ 2, 2 ≻ 0).
    pub cycle: [f64; 3],
    /// Seed of everything random.
    pub seed: u64,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            batch: 8,
            step: 0.05,
            iterations: 20_000,
            exploration: 0.1,
            comparisons: 5_000,
            alpha: 1e-3,
            utilities: vec![0.0, 1.5, 0.7, -0.3, 0.9],
            cycle: [0.9, 0.6, 0.8],
            seed: 0,
        }
    }
    fn quick() -> Self {
        Config {
            iterations: 4_000,
            comparisons: 2_000,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Swamy, Dann, Kidambi, Wu & Agarwal (2024), SPO: one policy playing against \
itself, each sample rewarded by its win rate against the others, converges (on average) to the \
Minimax Winner of the preferences, also when they are intransitive or stochastic; a \
reward-model route (Bradley–Terry, then optimise) collapses to a single option, which an \
intransitive oracle exploits (exploitability ½ under deterministic rock–paper–scissors). Under \
consistent preferences both reach the Condorcet winner. Checked here on bandit oracles and on a \
non-Markovian oracle over short action sequences; the paper's continuous-control curves are out \
of scope.";

/// One oracle's results.
struct Row {
    name: &'static str,
    key: &'static str,
    spo_average: f64,
    spo_last: f64,
    spo_exploitability: f64,
    rm_distance: f64,
    rm_exploitability: f64,
    curve: Vec<(f64, f64)>,
}

impl Study for Spo {
    fn name(&self) -> &'static str {
        "spo"
    }

    fn description(&self) -> &'static str {
        "SPO: self-play towards the Minimax Winner against a Bradley–Terry reward model"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        if config.utilities.len() < 2 || config.comparisons == 0 {
            return Err(Error::parameter(
                "utilities",
                "need at least 2 utilities and at least one comparison",
            ));
        }
        progress.stage("spo: self-play and reward models on each oracle");
        let oracles = [
            (
                "consistent (Bradley–Terry), rater gives probabilities",
                "consistent",
                PreferenceMatrix::bradley_terry(&config.utilities)?,
                Rater::Probability,
            ),
            (
                "stochastic (Bradley–Terry), rater samples 0/1 labels",
                "stochastic",
                PreferenceMatrix::bradley_terry(&config.utilities)?,
                Rater::Sampled,
            ),
            (
                "intransitive: deterministic rock–paper–scissors",
                "intransitive",
                PreferenceMatrix::rock_paper_scissors(1.0)?,
                Rater::Sampled,
            ),
            (
                "intransitive: weighted cycle, sampled labels",
                "weighted_cycle",
                PreferenceMatrix::weighted_cycle(&config.cycle)?,
                Rater::Sampled,
            ),
        ];
        let mut rows = Vec::new();
        for (i, (name, key, oracle, rater)) in oracles.into_iter().enumerate() {
            let winner = oracle.minimax_winner()?;
            let spo = SelfPlay {
                batch: config.batch,
                step: config.step,
                iterations: config.iterations,
                rater,
                exploration: config.exploration,
            };
            let seed = config.seed.wrapping_add(i as u64);
            let run = spo.run(&oracle, &winner, seed)?;
            let (_, rm) =
                reward_model_policy(&oracle, config.comparisons, config.alpha, seed ^ 0x5eed)?;
            let stride = (config.iterations / 200).max(1);
            rows.push(Row {
                name,
                key,
                spo_average: total_variation(&run.average, &winner),
                spo_last: total_variation(&run.last, &winner),
                spo_exploitability: oracle.exploitability(&run.average),
                rm_distance: total_variation(&rm, &winner),
                rm_exploitability: oracle.exploitability(&rm),
                curve: run
                    .distance
                    .iter()
                    .enumerate()
                    .step_by(stride)
                    .map(|(t, d)| (((t + 1) as f64).log10(), *d))
                    .collect(),
            });
        }
        let mut report = Report::new(
            self.name(),
            "Self-play preference optimisation against the reward-model route",
            CLAIM,
            to_toml(&config)?,
        );
        let mut table = Table::new(
            "Total variation to the Minimax Winner (exploitability in parentheses)",
            &[
                "oracle",
                "SPO, averaged policy",
                "SPO, last iterate",
                "reward model, greedy",
            ],
        );
        for row in &rows {
            let key = row.key;
            report.number(format!("{key}.spo.mw_distance"), row.spo_average);
            report.number(format!("{key}.spo.last_mw_distance"), row.spo_last);
            report.number(format!("{key}.spo.exploitability"), row.spo_exploitability);
            report.number(format!("{key}.rm.mw_distance"), row.rm_distance);
            report.number(format!("{key}.rm.exploitability"), row.rm_exploitability);
            table.push(vec![
                row.name.into(),
                format!(
                    "{} ({})",
                    fmt_number(row.spo_average, 3),
                    fmt_number(row.spo_exploitability, 3)
                ),
                fmt_number(row.spo_last, 3),
                format!(
                    "{} ({})",
                    fmt_number(row.rm_distance, 3),
                    fmt_number(row.rm_exploitability, 3)
                ),
            ]);
        }
        report.tables.push(table);
        let find = |key: &str| {
            rows.iter()
                .find(|r| r.key == key)
                .expect("every oracle ran")
        };
        let intransitive = find("intransitive");
        report.number("spo.mw_distance", intransitive.spo_average);
        report.number("rm.mw_distance", intransitive.rm_distance);
        let consistent = find("consistent");
        let cycles_hold = ["intransitive", "weighted_cycle"].iter().all(|k| {
            let r = find(k);
            r.spo_average < 0.05 && r.rm_distance > 0.3
        });
        let consistent_holds = consistent.spo_last < 0.1 && consistent.rm_distance < 1e-9;
        let sequences = non_markovian(&config, &mut report)?;
        let sequences_hold = sequences.0 < 0.05 && sequences.2 > 0.25;
        report.text(
            "verdict",
            match (cycles_hold && sequences_hold, consistent_holds) {
                (true, true) => "reproduced",
                (false, false) => "not reproduced",
                _ => "partly reproduced",
            },
        );
        report.text(
            "finding",
            format!(
                "Rock–paper–scissors: SPO's averaged policy ends {} from the Minimax Winner \
                 (exploitability {}), the reward model's greedy choice {} (exploitability {}). \
                 Consistent oracle: SPO's last iterate is {} from the Condorcet winner, the \
                 reward model {}. Non-Markovian oracle (3-step sequences, take the marked action \
                 exactly once): SPO's per-step policies end at exploitability {} (running \
                 average {}), the additive reward model's greedy sequence at {}.",
                fmt_number(intransitive.spo_average, 3),
                fmt_number(intransitive.spo_exploitability, 3),
                fmt_number(intransitive.rm_distance, 3),
                fmt_number(intransitive.rm_exploitability, 3),
                fmt_number(consistent.spo_last, 3),
                fmt_number(consistent.rm_distance, 3),
                fmt_number(sequences.0, 3),
                fmt_number(sequences.1, 3),
                fmt_number(sequences.2, 3),
            ),
        );
        report.figures.push(Figure {
            file: "mw-distance.svg".into(),
            title: "SPO's averaged policy: distance to the Minimax Winner over iterations".into(),
            svg: line_chart(
                "Total variation to the Minimax Winner",
                "log₁₀ iteration",
                "TV(π̄_t, MW)",
                &rows
                    .iter()
                    .map(|r| Series {
                        name: r.key.into(),
                        points: r.curve.clone(),
                    })
                    .collect::<Vec<_>>(),
                true,
            )?,
        });
        Ok(report)
    }
}

/// The non-Markovian oracle on 3-step binary sequences: SPO with per-step policies against an
/// additive (Markov) Bradley–Terry reward model. Returns the exploitability of SPO's last
/// iterate, of its running average, and of the reward model's greedy sequence.
fn non_markovian(config: &Config, report: &mut Report) -> Result<(f64, f64, f64)> {
    let game = SequenceGame::exactly_once(3, 2, 1)?;
    let spo = StepwiseSelfPlay {
        batch: config.batch,
        step: config.step,
        iterations: config.iterations,
        exploration: config.exploration,
    };
    let (last, average) = spo.run(&game, config.seed.wrapping_add(100))?;
    let last = game
        .oracle
        .exploitability(&game.sequence_distribution(&last));
    let average = game.oracle.exploitability(&average);
    let rm = markov_reward_model(
        &game,
        config.comparisons,
        config.alpha,
        config.seed.wrapping_add(101),
    )?;
    let rm = game.oracle.exploitability(&rm);
    report.number("non_markovian.spo.exploitability", last);
    report.number("non_markovian.spo.average_exploitability", average);
    report.number("non_markovian.rm.exploitability", rm);
    Ok((last, average, rm))
}
