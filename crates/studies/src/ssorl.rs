//! `ssorl`: semi-supervised offline RL from action-free trajectories (Zheng et al., ICML
//! 2023): a share of the trajectories, all from the low-return half, keeps its actions; an
//! inverse dynamics model trained on them labels the rest; TD3+BC and IQL train on the labelled
//! part alone, on the proxy-labelled union and on the fully labelled data.

use choicelab_core::episodes::Episodes;
use choicelab_core::{Error, Result, Seed};
use choicelab_envs::classic_control::make;
use choicelab_nn::datagen::env_short_name;
use choicelab_nn::{proxy_labelled_union, split_labelled, IdmParams, LabelSource};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::offline_common::{
    action_bound, check_common, final_score, generate_suite, nn_error, train_scored, Algorithm,
    DataSettings, LearnerSettings,
};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::{fmt_number, mean_sd, Report, Table};

/// The SS-ORL study.
pub struct Ssorl;

/// The inverse dynamics model's settings (the rest are the paper's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdmSettings {
    /// Hidden widths (paper: 1024, 1024).
    pub hidden: Vec<usize>,
    /// Gradient steps.
    pub steps: usize,
    /// Minibatch size (paper: 1,024).
    pub batch_size: usize,
    /// Adam learning rate (paper: 1e-4).
    pub lr: f64,
}

/// Configuration of `ssorl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Worlds (each needs a data-generation preset).
    pub envs: Vec<String>,
    /// Data-set levels the split is applied to.
    pub levels: Vec<String>,
    /// Labelled shares of the trajectories, drawn from the low-return half (1 = all labelled).
    pub shares: Vec<f64>,
    /// Learners; the first one's scores carry the plain metric names.
    pub algorithms: Vec<String>,
    /// Seeds per cell (split, IDM and learner).
    pub seeds: usize,
    /// Base seed (data generation uses it too).
    pub seed: Seed,
    /// Data generation.
    pub data: DataSettings,
    /// Learner sizes and evaluation.
    pub learner: LearnerSettings,
    /// The inverse dynamics model.
    pub idm: IdmSettings,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            envs: vec!["Pendulum-v1".into(), "MountainCarContinuous-v0".into()],
            levels: vec!["medium-replay".into(), "medium-expert".into()],
            shares: vec![0.01, 0.05, 0.1, 1.0],
            algorithms: vec!["td3bc".into(), "iql".into()],
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
            idm: IdmSettings {
                hidden: vec![256, 256],
                steps: 3_000,
                batch_size: 256,
                lr: 1e-3,
            },
        }
    }
    fn quick() -> Self {
        Config {
            envs: vec!["Pendulum-v1".into()],
            levels: vec!["medium-expert".into()],
            shares: vec![0.1, 1.0],
            algorithms: vec!["td3bc".into()],
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
            idm: IdmSettings {
                hidden: vec![32, 32],
                steps: 200,
                batch_size: 128,
                lr: 1e-3,
            },
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Zheng, Jiang, Grover & Levine et al. (ICML 2023), Semi-Supervised Offline \
Reinforcement Learning with Action-Free Trajectories: when only a small share of trajectories \
carries actions — 10%, all drawn from the low-return half — an inverse dynamics model trained \
on them labels the rest, and TD3+BC trained on true plus proxy labels recovers most of the \
fully labelled score, while training on the labelled trajectories alone does not. Data here: \
generated D4RL-style sets in Pendulum-v1 and MountainCarContinuous-v0 (see offline-rl); IDM \
error is the mean squared error of its labels on the unlabelled (held-out) trajectories.";

/// What one labelled share, level and seed gives: the two training sets and the IDM's error.
struct Split {
    level: usize,
    share: usize,
    seed: Seed,
    labelled: Episodes,
    union: Episodes,
    idm_mse: f64,
}

/// Which data a training run used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// All trajectories with their actions.
    Full,
    /// The labelled share only (index into the splits).
    LabelledOnly(usize),
    /// Labelled plus proxy-labelled (index into the splits).
    Ssorl(usize),
}

impl Study for Ssorl {
    fn name(&self) -> &'static str {
        "ssorl"
    }

    fn description(&self) -> &'static str {
        "Offline RL from mostly action-free trajectories: inverse dynamics proxy labels (SS-ORL)"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        let algorithms = check_common(&config.levels, &config.algorithms, config.seeds)?;
        check_shares(&config.shares)?;
        let mut report = Report::new(
            self.name(),
            "Offline RL with action-free trajectories (SS-ORL)",
            CLAIM,
            to_toml(&config)?,
        );
        for env_id in &config.envs {
            progress.stage(&format!("ssorl: generating data in {env_id}"));
            let suite = generate_suite(env_id, &config.data, config.seed)?;
            let data: Vec<&Episodes> = config
                .levels
                .iter()
                .map(|l| suite.dataset(l).expect("levels were checked"))
                .collect();
            progress.stage(&format!("ssorl: splitting and labelling in {env_id}"));
            let max_action = action_bound(make(env_id)?.as_ref())?;
            let cells: Vec<(usize, usize, Seed)> = (0..config.levels.len())
                .flat_map(|l| {
                    let partial = config.shares.iter().enumerate().filter(|(_, s)| **s < 1.0);
                    partial.flat_map(move |(p, _)| {
                        (0..config.seeds as u64).map(move |s| (l, p, config.seed + 1 + s))
                    })
                })
                .collect();
            let splits = cells
                .par_iter()
                .map(|&(l, p, seed)| {
                    split_and_label(&config, env_id, max_action, data[l], l, p, seed)
                })
                .collect::<Result<Vec<Split>>>()?;
            progress.stage(&format!("ssorl: training in {env_id}"));
            let mut jobs: Vec<(Algorithm, Variant, usize, Seed)> = Vec::new();
            for algorithm in &algorithms {
                for l in 0..config.levels.len() {
                    for s in 0..config.seeds as u64 {
                        jobs.push((*algorithm, Variant::Full, l, config.seed + 1 + s));
                    }
                }
                for (i, split) in splits.iter().enumerate() {
                    jobs.push((
                        *algorithm,
                        Variant::LabelledOnly(i),
                        split.level,
                        split.seed,
                    ));
                    jobs.push((*algorithm, Variant::Ssorl(i), split.level, split.seed));
                }
            }
            let scores = jobs
                .par_iter()
                .map(|&(algorithm, variant, l, seed)| {
                    let episodes = match variant {
                        Variant::Full => data[l],
                        Variant::LabelledOnly(i) => &splits[i].labelled,
                        Variant::Ssorl(i) => &splits[i].union,
                    };
                    let curve = train_scored(algorithm, episodes, env_id, &config.learner, seed)?;
                    Ok(final_score(&curve))
                })
                .collect::<Result<Vec<f64>>>()?;
            summarise(
                &mut report,
                &config,
                env_id,
                &algorithms,
                &splits,
                &jobs,
                &scores,
            );
        }
        Ok(report)
    }
}

fn check_shares(shares: &[f64]) -> Result<()> {
    match shares.iter().find(|s| !(**s > 0.0 && **s <= 1.0)) {
        Some(s) => Err(Error::parameter("shares", format!("{s} is outside (0, 1]"))),
        None => Ok(()),
    }
}

/// Draws the labelled share from the low-return half, trains the IDM on it (labels clipped to
/// `[-max_action, max_action]`) and labels the rest.
fn split_and_label(
    config: &Config,
    env_id: &str,
    max_action: f64,
    data: &Episodes,
    level: usize,
    share: usize,
    seed: Seed,
) -> Result<Split> {
    let fraction = config.shares[share];
    let (labelled, unlabelled) = split_labelled(data, fraction, LabelSource::LowReturnHalf, seed)
        .map_err(|e| nn_error(env_id, e))?;
    let params = IdmParams {
        hidden: config.idm.hidden.clone(),
        steps: config.idm.steps,
        batch_size: config.idm.batch_size,
        lr: config.idm.lr,
        eval_every: (config.idm.steps / 10).max(1),
        max_action,
        seed,
        ..IdmParams::default()
    };
    let (idm, _) = params.fit(&labelled).map_err(|e| nn_error(env_id, e))?;
    let idm_mse = idm
        .action_mse(&unlabelled)
        .map_err(|e| nn_error(env_id, e))?;
    let union =
        proxy_labelled_union(&labelled, &unlabelled, &idm).map_err(|e| nn_error(env_id, e))?;
    Ok(Split {
        level,
        share,
        seed,
        labelled,
        union,
        idm_mse,
    })
}

/// Percent label of a share: 0.1 → `p10`, 0.01 → `p1`, 0.005 → `p0.5`.
fn share_key(share: f64) -> String {
    let pct = share * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("p{}", pct.round() as i64)
    } else {
        format!("p{pct}")
    }
}

/// Tables, metrics and the claim's verdict for one world.
fn summarise(
    report: &mut Report,
    config: &Config,
    env_id: &str,
    algorithms: &[Algorithm],
    splits: &[Split],
    jobs: &[(Algorithm, Variant, usize, Seed)],
    scores: &[f64],
) {
    let env = env_short_name(env_id);
    let mut idm_p10 = Vec::new();
    let mut table = Table::new(
        format!(
            "{env_id}: final normalised score, mean ± sd over {} seeds; labelled trajectories \
             from the low-return half",
            config.seeds
        ),
        &[
            "learner",
            "level",
            "labelled share",
            "labelled only",
            "SS-ORL (proxy labels)",
            "fully labelled",
            "IDM label MSE",
        ],
    );
    for (primary, algorithm) in algorithms.iter().enumerate().map(|(i, a)| (i == 0, a)) {
        for (l, level) in config.levels.iter().enumerate() {
            let collect = |want: &dyn Fn(Variant) -> bool| -> Vec<f64> {
                jobs.iter()
                    .zip(scores)
                    .filter(|((a, v, jl, _), _)| a == algorithm && *jl == l && want(*v))
                    .map(|(_, s)| *s)
                    .collect()
            };
            let (full, full_sd) = mean_sd(&collect(&|v| v == Variant::Full));
            let names = |suffix: &str| {
                let mut keys = vec![format!("{env}.{level}.{}.{suffix}", algorithm.key())];
                if primary {
                    keys.push(format!("{env}.{level}.{suffix}"));
                }
                keys
            };
            for key in names("full") {
                report.number(key, full);
            }
            for (p, share) in config.shares.iter().enumerate() {
                let key = share_key(*share);
                let (only, ssorl, mse) = if *share >= 1.0 {
                    ((full, full_sd), (full, full_sd), f64::NAN)
                } else {
                    let in_share = |i: usize| splits[i].share == p;
                    let only = mean_sd(&collect(
                        &|v| matches!(v, Variant::LabelledOnly(i) if in_share(i)),
                    ));
                    let ssorl =
                        mean_sd(&collect(&|v| matches!(v, Variant::Ssorl(i) if in_share(i))));
                    let mses: Vec<f64> = splits
                        .iter()
                        .filter(|s| s.level == l && s.share == p)
                        .map(|s| s.idm_mse)
                        .collect();
                    if (*share - 0.1).abs() < 1e-12 && primary {
                        idm_p10.extend(&mses);
                    }
                    (only, ssorl, mean_sd(&mses).0)
                };
                for k in names(&format!("{key}.labelled_only")) {
                    report.number(k, only.0);
                }
                for k in names(&format!("{key}.ssorl")) {
                    report.number(k, ssorl.0);
                }
                if primary && mse.is_finite() {
                    report.number(format!("{env}.{level}.{key}.idm_mse"), mse);
                }
                table.push(vec![
                    algorithm.key().into(),
                    level.clone(),
                    format!("{}%", share * 100.0),
                    format!("{} ± {}", fmt_number(only.0, 1), fmt_number(only.1, 1)),
                    format!("{} ± {}", fmt_number(ssorl.0, 1), fmt_number(ssorl.1, 1)),
                    format!("{} ± {}", fmt_number(full, 1), fmt_number(full_sd, 1)),
                    if mse.is_finite() {
                        fmt_number(mse, 4)
                    } else {
                        "—".into()
                    },
                ]);
            }
            if primary {
                if let (Some(only), Some(ssorl)) = (
                    report.number_of(&format!("{env}.{level}.p10.labelled_only")),
                    report.number_of(&format!("{env}.{level}.p10.ssorl")),
                ) {
                    let recovered = share_of(ssorl, full);
                    report.notes.push(format!(
                        "{env_id} {level}, 10% labelled from the low-return half, {}: SS-ORL {} \
                         ({}% of the fully labelled {}), labelled only {} — {}.",
                        algorithm.key(),
                        fmt_number(ssorl, 1),
                        fmt_number(100.0 * recovered, 0),
                        fmt_number(full, 1),
                        fmt_number(only, 1),
                        claim_verdict(only, ssorl, full)
                    ));
                }
            }
        }
    }
    if !idm_p10.is_empty() {
        report.number(format!("{env}.idm_mse"), mean_sd(&idm_p10).0);
    }
    report.tables.push(table);
}

/// `score` as a share of the fully labelled `full` (NaN unless `full` is positive).
fn share_of(score: f64, full: f64) -> f64 {
    if full > 0.0 {
        score / full
    } else {
        f64::NAN
    }
}

/// Whether one cell reproduces the claim, with "most" read as 80% of the fully labelled score.
/// Where labelled-only training already reaches that share there is no gap for proxy labels to
/// close, and the cell cannot test the claim either way.
fn claim_verdict(only: f64, ssorl: f64, full: f64) -> &'static str {
    if share_of(only, full) >= 0.8 {
        "labelled-only training already reaches most of the fully labelled score, so this set \
         cannot test the claim"
    } else if share_of(ssorl, full) >= 0.8 && ssorl > only {
        "proxy labelling recovers most of the fully labelled score, as claimed"
    } else {
        "the claim is not reproduced here"
    }
}

#[cfg(test)]
mod tests {
    use super::claim_verdict;

    #[test]
    fn the_verdict_needs_a_gap_and_most_of_it_closed() {
        assert!(claim_verdict(47.9, 71.6, 93.3).contains("not reproduced"));
        assert!(claim_verdict(40.0, 80.0, 90.0).contains("as claimed"));
        assert!(claim_verdict(100.1, 100.0, 100.0).contains("cannot test"));
        assert!(claim_verdict(-21.9, -5.1, 9.7).contains("not reproduced"));
        assert!(claim_verdict(5.0, 20.0, -3.0).contains("not reproduced"));
    }
}
