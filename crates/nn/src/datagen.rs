//! D4RL-style data sets from an online agent: random, medium, medium-replay, expert and
//! medium-expert, with the reference returns of the normalised score stored beside the data.
//!
//! Following D4RL (Fu et al. 2020) and d3rlpy: an online agent (here TD3, [`Td3Params`]) is
//! trained with periodic noise-free evaluations, each keeping a snapshot of the actor.
//! - **expert**: the snapshot with the best evaluation return;
//! - **medium**: the snapshot, no later than the expert, whose evaluation return is closest
//!   to `random + medium_fraction · (expert − random)` (D4RL: "about a third of expert");
//! - **random**: uniform random actions;
//! - **medium-replay**: every training episode that ended no later than the medium snapshot
//!   (D4RL's replay buffer up to the medium policy);
//! - **medium-expert**: the medium and expert episodes together.
//!
//! When the world has a "solved" return (MountainCarContinuous: 90, Gymnasium's reward
//! threshold) and the agent's best snapshot stays below it, the agent is trained again from
//! the next seed, up to `attempts` runs: TD3 in MountainCar often settles on standing still
//! before its exploration ever reaches the goal, a do-nothing "expert" that would make every
//! normalised score meaningless. A run that never solves the task is an error.
//!
//! Medium and expert episodes are recorded with Gaussian action noise `record_noise`
//! (D4RL recorded SAC's stochastic policy; a deterministic actor alone gives no action
//! coverage). The reference returns are those of the uniform random policy and of the
//! noise-free expert, each over `reference_episodes` episodes, and every data set carries them
//! as `ref_min_score` / `ref_max_score`, so `normalized_score = 100 (R − min) / (max − min)`.

use choicelab_core::env::Env;
use choicelab_core::episodes::{DatasetMetadata, EpisodeData, Episodes};
use choicelab_core::rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rollout::{
    add_gaussian_noise, clip_to_box, evaluate, play, record, symmetric_action_box,
};
use crate::td3::{mean_std, Exploration, OnlinePoint, Snapshot, Td3Params, Td3Run};

/// The five data-set levels, in the order [`generate`] returns them.
pub const LEVELS: [&str; 5] = [
    "random",
    "medium",
    "medium-replay",
    "expert",
    "medium-expert",
];

/// How to generate the data sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatagenParams {
    /// The online agent (its seed seeds everything).
    pub agent: Td3Params,
    /// Steps recorded for each of random, medium and expert (whole episodes, so slightly more).
    pub dataset_steps: usize,
    /// Gaussian action noise (fraction of `max_action`) while recording medium and expert.
    pub record_noise: f64,
    /// Where medium sits between random (0) and expert (1) (one third).
    pub medium_fraction: f64,
    /// Episodes over which the random and expert reference returns are averaged.
    pub reference_episodes: usize,
    /// The evaluation return that counts as solving the task (none: any policy better than
    /// random will do).
    pub solved_return: Option<f64>,
    /// Training runs (seeds `agent.seed`, `agent.seed + 1`, …) tried until one solves the task.
    pub attempts: usize,
}

impl Default for DatagenParams {
    fn default() -> Self {
        Self {
            agent: Td3Params::default(),
            dataset_steps: 100_000,
            record_noise: 0.1,
            medium_fraction: 1.0 / 3.0,
            reference_episodes: 100,
            solved_return: None,
            attempts: 1,
        }
    }
}

/// The generated data sets and how they were chosen.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The world's id, e.g. `Pendulum-v1`.
    pub env_id: String,
    /// One data set per entry of [`LEVELS`], in that order.
    pub datasets: Vec<Episodes>,
    /// Mean return of the uniform random policy (the normalised score's 0).
    pub ref_min_score: f64,
    /// Mean return of the noise-free expert (the normalised score's 100).
    pub ref_max_score: f64,
    /// The medium snapshot's step and evaluation return.
    pub medium: (usize, f64),
    /// The expert snapshot's step and evaluation return.
    pub expert: (usize, f64),
    /// The online agent's learning curve.
    pub curve: Vec<OnlinePoint>,
    /// Every training run's agent seed and best evaluation return; the last one made the data.
    pub attempts: Vec<(u64, f64)>,
}

impl Suite {
    /// The data set of `level` (one of [`LEVELS`]).
    pub fn dataset(&self, level: &str) -> Option<&Episodes> {
        LEVELS
            .iter()
            .position(|l| *l == level)
            .and_then(|i| self.datasets.get(i))
    }
}

/// The short, lower-case name D4RL-style ids use: `Pendulum-v1` → `pendulum`.
pub fn env_short_name(env_id: &str) -> String {
    let base = env_id.rsplit_once("-v").map_or(env_id, |(b, _)| b);
    base.to_lowercase()
}

impl DatagenParams {
    /// Settings sized for a 2-core CPU for the worlds choicelab ships, from rl-baselines3-zoo's
    /// tuned TD3 hyper-parameters (64×64 networks instead of 400×300; Pendulum: γ 0.98,
    /// learning rate 1e-3, Gaussian noise 0.1, 20,000 steps; MountainCarContinuous:
    /// Ornstein–Uhlenbeck noise σ 0.5, learning starts after 1,000 steps, solved at 90 within
    /// 5 attempts); snapshots every 500 (Pendulum) or 1,000 steps, fine enough to find a medium
    /// policy; `None` for other worlds.
    pub fn preset(env_id: &str, seed: u64) -> Option<Self> {
        let base = Td3Params {
            hidden: vec![64, 64],
            actor_lr: 1e-3,
            critic_lr: 1e-3,
            eval_every: 500,
            seed,
            ..Td3Params::default()
        };
        let (agent, solved_return, attempts) = match env_id {
            "Pendulum-v1" => (
                Td3Params {
                    discount: 0.98,
                    learning_starts: 2_000,
                    total_steps: 20_000,
                    ..base
                },
                None,
                1,
            ),
            "MountainCarContinuous-v0" => (
                Td3Params {
                    exploration: Exploration::OrnsteinUhlenbeck {
                        sigma: 0.5,
                        theta: 0.15,
                    },
                    learning_starts: 1_000,
                    total_steps: 50_000,
                    eval_every: 1_000,
                    ..base
                },
                Some(90.0),
                5,
            ),
            _ => return None,
        };
        Some(Self {
            agent,
            dataset_steps: 50_000,
            solved_return,
            attempts,
            ..Self::default()
        })
    }

    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        self.agent.check()?;
        if self.dataset_steps == 0 {
            return Err(Error::parameter("dataset_steps", "must be positive"));
        }
        if self.reference_episodes == 0 {
            return Err(Error::parameter("reference_episodes", "must be positive"));
        }
        if !(self.record_noise.is_finite() && self.record_noise >= 0.0) {
            return Err(Error::parameter(
                "record_noise",
                format!("{} is not ≥ 0", self.record_noise),
            ));
        }
        if self.attempts == 0 {
            return Err(Error::parameter("attempts", "must be positive"));
        }
        if self.solved_return.is_some_and(|r| !r.is_finite()) {
            return Err(Error::parameter("solved_return", "must be finite"));
        }
        if !(self.medium_fraction > 0.0 && self.medium_fraction < 1.0) {
            return Err(Error::parameter(
                "medium_fraction",
                format!("{} is outside (0, 1)", self.medium_fraction),
            ));
        }
        Ok(())
    }

    /// Trains the agent in `env` (evaluating in `eval_env`, a second instance), picks the
    /// medium and expert snapshots and records the five data sets; `hook` sees every
    /// evaluation of the online runs.
    pub fn generate(
        &self,
        env: &mut dyn Env,
        eval_env: &mut dyn Env,
        mut hook: impl FnMut(&OnlinePoint) -> Result<()>,
    ) -> Result<Suite> {
        self.check()?;
        let (space, _) = symmetric_action_box(env)?;
        let mut attempts = Vec::new();
        let (run, seed) = loop {
            let agent = Td3Params {
                seed: self.agent.seed.wrapping_add(attempts.len() as u64),
                ..self.agent.clone()
            };
            let run = agent.train(env, eval_env, &mut hook)?;
            let best = best_snapshot(&run)?.eval_mean;
            attempts.push((agent.seed, best));
            match self.solved_return {
                Some(solved) if best < solved => {
                    if attempts.len() == self.attempts {
                        return Err(Error::InvalidData(format!(
                            "no training run solved {} (evaluation return ≥ {solved}); best \
                             returns by seed: {}; train longer, try other seeds or change the \
                             agent's parameters",
                            env.id(),
                            attempts
                                .iter()
                                .map(|(s, r)| format!("{s}: {r:.2}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
                _ => break (run, agent.seed),
            }
        };
        // Distinct episode seeds per purpose, far from training and evaluation resets.
        let seeds = |k: u64| seed.wrapping_add(10_000_000 * (k + 1));
        let mut draws = rng(seeds(0));
        let mut uniform = |_: &[f32]| -> Result<Vec<f32>> { Ok(space.sample(&mut draws)) };
        let ref_min = mean_std(
            &(0..self.reference_episodes as u64)
                .map(|k| Ok(play(&mut uniform, eval_env, seeds(1) + k)?.total_reward()))
                .collect::<Result<Vec<f64>>>()?,
        )
        .0;
        let expert = best_snapshot(&run)?;
        let ref_max = mean_std(&evaluate(
            &expert.model,
            eval_env,
            self.reference_episodes,
            seeds(2),
        )?)
        .0;
        if ref_max <= ref_min {
            return Err(Error::InvalidData(format!(
                "the best policy (return {ref_max:.2}) is no better than random ({ref_min:.2}); \
                 train longer or change the agent's parameters"
            )));
        }
        let target = ref_min + self.medium_fraction * (ref_max - ref_min);
        let medium = run
            .snapshots
            .iter()
            .filter(|s| s.step <= expert.step)
            .min_by(|a, b| {
                (a.eval_mean - target)
                    .abs()
                    .total_cmp(&(b.eval_mean - target).abs())
            })
            .ok_or_else(|| Error::InvalidData("no snapshot before the expert".into()))?;

        let random_eps = record(&mut uniform, env, self.dataset_steps, seeds(3), 0)?;
        let noisy = |snapshot: &Snapshot, stream: u64| {
            let model = snapshot.model.clone();
            let space = space.clone();
            let mut draws = rng(seeds(stream));
            let sigma = self.record_noise;
            move |obs: &[f32]| -> Result<Vec<f32>> {
                let mut a = model.act(obs)?;
                clip_to_box(&mut a, &space);
                add_gaussian_noise(&mut a, sigma, &space, &mut draws);
                Ok(a)
            }
        };
        let medium_eps = record(&mut noisy(medium, 4), env, self.dataset_steps, seeds(5), 0)?;
        let expert_eps = record(&mut noisy(expert, 6), env, self.dataset_steps, seeds(7), 0)?;
        let replay_eps: Vec<EpisodeData> = run
            .episodes
            .iter()
            .zip(&run.episode_end_steps)
            .filter(|(_, end)| **end <= medium.step)
            .map(|(e, _)| e.clone())
            .collect();
        if replay_eps.is_empty() {
            return Err(Error::InvalidData(format!(
                "no training episode ended before the medium snapshot at step {}",
                medium.step
            )));
        }
        let mut medium_expert = medium_eps.clone();
        let offset = medium_expert.len() as u64;
        medium_expert.extend(expert_eps.iter().cloned().map(|mut e| {
            e.id += offset;
            e
        }));

        let env_id = env.id().to_string();
        let short = env_short_name(&env_id);
        let episodes = [
            random_eps,
            medium_eps,
            replay_eps,
            expert_eps,
            medium_expert,
        ];
        let datasets = LEVELS
            .iter()
            .zip(episodes)
            .map(|(level, eps)| {
                let metadata = DatasetMetadata {
                    env_spec: env_id.clone(),
                    algorithm_name: if *level == "random" { "random" } else { "TD3" }.into(),
                    ref_min_score: Some(ref_min),
                    ref_max_score: Some(ref_max),
                    seed: Some(seed),
                    ..DatasetMetadata::named(format!("{short}/{level}-v0"))
                };
                Ok(Episodes::new(metadata, eps)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Suite {
            env_id,
            datasets,
            ref_min_score: ref_min,
            ref_max_score: ref_max,
            medium: (medium.step, medium.eval_mean),
            expert: (expert.step, expert.eval_mean),
            curve: run.curve,
            attempts,
        })
    }
}

/// The snapshot with the highest evaluation return (the later one on ties).
fn best_snapshot(run: &Td3Run) -> Result<&Snapshot> {
    run.snapshots
        .iter()
        .max_by(|a, b| a.eval_mean.total_cmp(&b.eval_mean))
        .ok_or_else(|| Error::InvalidData("the online run made no snapshot".into()))
}
