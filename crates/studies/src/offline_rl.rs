//! `offline-rl`: BC, TD3+BC, IQL and CQL on D4RL-style data sets generated in Pendulum and
//! MountainCarContinuous by an online TD3 agent, scored by D4RL's normalised score.

use choicelab_core::{Result, Seed};
use choicelab_nn::datagen::env_short_name;
use choicelab_nn::{Suite, LEVELS};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::offline_common::{
    check_common, final_score, generate_suite, mean_curve, train_scored, Algorithm, DataSettings,
    LearnerSettings, ScoreCurve,
};
use crate::plot::{line_chart, Series};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, mean_sd, Figure, Report, Table};

/// The offline RL benchmark study.
pub struct OfflineRl;

/// Configuration of `offline-rl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Worlds (each needs a data-generation preset).
    pub envs: Vec<String>,
    /// Data-set levels (random, medium, medium-replay, expert, medium-expert).
    pub levels: Vec<String>,
    /// Learners: bc, td3bc, iql, cql.
    pub algorithms: Vec<String>,
    /// Training seeds per (world, level, learner).
    pub seeds: usize,
    /// Base seed (data generation uses it too).
    pub seed: Seed,
    /// Data generation.
    pub data: DataSettings,
    /// Learner sizes and evaluation.
    pub learner: LearnerSettings,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            envs: vec!["Pendulum-v1".into(), "MountainCarContinuous-v0".into()],
            levels: LEVELS.iter().map(|l| l.to_string()).collect(),
            algorithms: ["bc", "td3bc", "iql", "cql"].map(String::from).to_vec(),
            seeds: 3,
            seed: 0,
            data: DataSettings {
                agent_steps: 0,
                dataset_steps: 50_000,
                reference_episodes: 50,
            },
            learner: LearnerSettings {
                hidden: vec![64, 64],
                batch_size: 256,
                steps: 10_000,
                eval_every: 1_000,
                eval_episodes: 10,
            },
        }
    }
    fn quick() -> Self {
        Config {
            envs: vec!["Pendulum-v1".into()],
            levels: vec!["medium".into(), "medium-replay".into()],
            seeds: 1,
            data: DataSettings {
                agent_steps: 6_000,
                dataset_steps: 2_000,
                reference_episodes: 5,
            },
            learner: LearnerSettings {
                hidden: vec![32, 32],
                batch_size: 64,
                steps: 300,
                eval_every: 150,
                eval_episodes: 2,
            },
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Offline RL on D4RL-style data (Fu et al. 2020, D4RL; CORL's defaults, \
Tarasov et al. 2023): with data from a partly trained policy, TD3+BC (Fujimoto & Gu 2021) and \
IQL (Kostrikov et al. 2022) reach normalised scores in the range of their D4RL results — near or \
above the behaviour on medium and medium-expert data — and clearly above behaviour cloning on \
medium-replay data, where BC copies a mixture of poor policies; CQL (Kumar et al. 2020) is \
conservative and close to the best on most sets. Data here: Pendulum-v1 and \
MountainCarContinuous-v0, generated the way D4RL did with an online agent (TD3 instead of SAC) \
at random, medium (a third of expert), medium-replay, expert and medium-expert levels; score = \
100 (return − random) / (expert − random).";

impl Study for OfflineRl {
    fn name(&self) -> &'static str {
        "offline-rl"
    }

    fn description(&self) -> &'static str {
        "BC, TD3+BC, IQL and CQL on generated D4RL-style data sets (Pendulum, MountainCar)"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        let algorithms = check_common(&config.levels, &config.algorithms, config.seeds)?;
        let mut report = Report::new(
            self.name(),
            "Offline RL on generated D4RL-style data sets",
            CLAIM,
            to_toml(&config)?,
        );
        let mut data_table = Table::new(
            "Generated data sets: reference returns, chosen snapshots, and the normalised \
             score of the data's mean and best episode",
            &[
                "world",
                "random",
                "expert",
                "medium snapshot",
                "expert snapshot",
                "level",
                "episodes",
                "steps",
                "data score",
                "best episode",
            ],
        );
        for env_id in &config.envs {
            progress.stage(&format!("offline-rl: generating data in {env_id}"));
            let suite = generate_suite(env_id, &config.data, config.seed)?;
            describe_suite(&mut report, &mut data_table, &suite, &config.levels)?;
            progress.stage(&format!("offline-rl: training on {env_id}"));
            let jobs: Vec<(usize, Algorithm, Seed)> = config
                .levels
                .iter()
                .enumerate()
                .flat_map(|(l, _)| {
                    algorithms.iter().flat_map(move |a| {
                        (0..config.seeds as u64).map(move |s| (l, *a, config.seed + 1 + s))
                    })
                })
                .collect();
            let curves = jobs
                .par_iter()
                .map(|(l, algorithm, seed)| {
                    let data = suite
                        .dataset(&config.levels[*l])
                        .expect("levels were checked against LEVELS");
                    train_scored(*algorithm, data, env_id, &config.learner, *seed)
                })
                .collect::<Result<Vec<ScoreCurve>>>()?;
            summarise_env(&mut report, &config, env_id, &algorithms, &jobs, &curves)?;
        }
        report.tables.insert(0, data_table);
        Ok(report)
    }
}

/// Reference returns, snapshots and data-set sizes of one world.
fn describe_suite(
    report: &mut Report,
    table: &mut Table,
    suite: &Suite,
    levels: &[String],
) -> Result<()> {
    let env = env_short_name(&suite.env_id);
    let online = Series {
        name: "TD3 (noise-free evaluation)".into(),
        points: suite
            .curve
            .iter()
            .map(|p| (p.step as f64, p.eval_mean))
            .collect(),
    };
    report.figures.push(Figure {
        file: format!("online-{env}.svg"),
        title: format!(
            "{}: the data-generating TD3 agent's evaluation return (seed {}); medium snapshot at \
             step {}, expert at {}{}",
            suite.env_id,
            suite.attempts.last().map_or(0, |(seed, _)| *seed),
            suite.medium.0,
            suite.expert.0,
            rejected_runs(suite)
        ),
        svg: line_chart(
            &suite.env_id,
            "environment step",
            "return",
            &[online],
            false,
        )?,
    });
    report.number(format!("{env}.ref_min_score"), suite.ref_min_score);
    report.number(format!("{env}.ref_max_score"), suite.ref_max_score);
    for level in levels {
        let data = suite.dataset(level).expect("levels were checked");
        let returns: Vec<f64> = data.episodes.iter().map(|e| e.total_reward()).collect();
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        let best = returns.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let score = data.normalized_score(mean)?;
        let best_score = data.normalized_score(best)?;
        report.number(format!("{env}.{level}.data_score"), score);
        report.number(format!("{env}.{level}.data_best"), best_score);
        table.push(vec![
            suite.env_id.clone(),
            fmt_number(suite.ref_min_score, 1),
            fmt_number(suite.ref_max_score, 1),
            format!(
                "step {} ({})",
                suite.medium.0,
                fmt_number(suite.medium.1, 1)
            ),
            format!(
                "step {} ({})",
                suite.expert.0,
                fmt_number(suite.expert.1, 1)
            ),
            level.clone(),
            data.metadata.total_episodes.to_string(),
            data.metadata.total_steps.to_string(),
            fmt_number(score, 1),
            fmt_number(best_score, 1),
        ]);
    }
    Ok(())
}

/// The training runs that did not solve the task before the one that made the data.
fn rejected_runs(suite: &Suite) -> String {
    let rejected = &suite.attempts[..suite.attempts.len().saturating_sub(1)];
    if rejected.is_empty() {
        return String::new();
    }
    let runs: Vec<String> = rejected
        .iter()
        .map(|(seed, best)| format!("seed {seed} best {}", fmt_number(*best, 1)))
        .collect();
    format!(
        "; earlier runs below the solved return: {}",
        runs.join(", ")
    )
}

/// Scores table, metrics, learning curves and the claim's checks for one world.
fn summarise_env(
    report: &mut Report,
    config: &Config,
    env_id: &str,
    algorithms: &[Algorithm],
    jobs: &[(usize, Algorithm, Seed)],
    curves: &[ScoreCurve],
) -> Result<()> {
    let env = env_short_name(env_id);
    let mut columns = vec!["level".to_string()];
    columns.extend(algorithms.iter().map(|a| a.key().to_string()));
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!(
            "{env_id}: final normalised score, mean ± sd over {} seeds ({} gradient steps)",
            config.seeds, config.learner.steps
        ),
        &columns,
    );
    for (l, level) in config.levels.iter().enumerate() {
        let mut row = vec![level.clone()];
        let mut series = Vec::new();
        for algorithm in algorithms {
            let runs: Vec<&ScoreCurve> = jobs
                .iter()
                .zip(curves)
                .filter(|((jl, ja, _), _)| *jl == l && ja == algorithm)
                .map(|(_, c)| c)
                .collect();
            let finals: Vec<f64> = runs.iter().map(|c| final_score(c)).collect();
            let (mean, sd) = mean_sd(&finals);
            let key = format!("{env}.{level}.{}", algorithm.key());
            report.number(key.clone(), mean);
            report.number(format!("{key}.sd"), sd);
            row.push(format!("{} ± {}", fmt_number(mean, 1), fmt_number(sd, 1)));
            series.push(mean_curve(algorithm.key(), &runs));
        }
        table.push(row);
        report.figures.push(Figure {
            file: format!("curve-{env}-{level}.svg"),
            title: format!("{env_id} {level}: normalised score during training (mean over seeds)"),
            svg: line_chart(
                &format!("{env_id} {level}"),
                "gradient step",
                "normalised score",
                &series,
                false,
            )?,
        });
    }
    report.tables.push(table);
    let score = |key: &str| report.number_of(&format!("{env}.medium-replay.{key}"));
    let cell = |a: &str| Some((score(a)?, score(&format!("{a}.sd"))?));
    if let (Some(bc), Some(td3bc), Some(iql), Some(data_mean), Some(data_best)) = (
        cell("bc"),
        cell("td3bc"),
        cell("iql"),
        score("data_score"),
        score("data_best"),
    ) {
        let show =
            |(mean, sd): (f64, f64)| format!("{} ± {}", fmt_number(mean, 1), fmt_number(sd, 1));
        report.notes.push(format!(
            "{env_id} medium-replay (data: mean episode {}, best {}): TD3+BC {} and IQL {} \
             against BC {} — {}.",
            fmt_number(data_mean, 1),
            fmt_number(data_best, 1),
            show(td3bc),
            show(iql),
            show(bc),
            replay_verdict(bc, td3bc, iql)
        ));
    }
    Ok(())
}

/// Whether a learner's `(mean, sd)` is clearly above BC's: by more than either seed spread.
fn clearly_above(learner: (f64, f64), bc: (f64, f64)) -> bool {
    learner.0 - bc.0 > learner.1.max(bc.1)
}

/// The medium-replay check of the claim: TD3+BC and IQL both clearly above BC.
fn replay_verdict(bc: (f64, f64), td3bc: (f64, f64), iql: (f64, f64)) -> &'static str {
    match (clearly_above(td3bc, bc), clearly_above(iql, bc)) {
        (true, true) => "both clearly above BC (by more than the seed spread), as on D4RL",
        (true, false) => {
            "TD3+BC is clearly above BC (by more than the seed spread) but IQL is not: the claim \
             is reproduced for TD3+BC only"
        }
        (false, true) => {
            "IQL is clearly above BC (by more than the seed spread) but TD3+BC is not: the claim \
             is reproduced for IQL only"
        }
        (false, false) => "neither is clearly above BC: the claim is not reproduced here",
    }
}

#[cfg(test)]
mod tests {
    use super::replay_verdict;

    #[test]
    fn clearly_above_means_beyond_the_seed_spread() {
        let bc = (2.5, 5.7);
        assert!(replay_verdict(bc, (9.7, 3.5), (3.2, 7.0)).contains("TD3+BC only"));
        assert!(replay_verdict(bc, (20.0, 3.0), (15.0, 4.0)).contains("both clearly above"));
        assert!(replay_verdict(bc, (5.0, 1.0), (30.0, 9.0)).contains("IQL only"));
        assert!(replay_verdict(bc, (8.0, 1.0), (-1.0, 2.0)).contains("not reproduced"));
    }
}
