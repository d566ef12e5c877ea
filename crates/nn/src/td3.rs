//! Online TD3 (Fujimoto, van Hoof and Meger 2018): the agent that generates D4RL-style data
//! sets.
//!
//! The agent acts in a world with its deterministic actor plus exploration noise (Gaussian,
//! or Ornstein–Uhlenbeck as rl-baselines3-zoo uses for MountainCarContinuous), after
//! `learning_starts` steps of uniform random actions; every step after that it stores the
//! transition in its replay buffer (every transition is kept) and takes one gradient step of
//! the TD3 update shared with TD3+BC (twin critics, target policy smoothing, delayed actor and
//! Polyak targets, actor loss `−mean Q₁(s, π(s))`). Observations are not normalised. Every
//! `eval_every` steps the noise-free actor plays `eval_episodes` episodes with fixed seeds and
//! a [`Snapshot`] of it is kept, so a caller can pick a policy of a chosen quality afterwards.

use choicelab_core::env::{Action, Env};
use choicelab_core::episodes::EpisodeData;
use choicelab_core::Seed;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::data::OfflineData;
use crate::error::{Error, Result};
use crate::model::ActorModel;
use crate::rollout::{
    add_gaussian_noise, clip_to_box, evaluate, symmetric_action_box, EpisodeRecorder,
};
use crate::td3bc::{Td3BcLearner, Td3BcParams};
use crate::train::{check_common, Stepper};

/// Exploration noise added to the actor's action while collecting data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exploration {
    /// Independent `N(0, (sigma · max_action)²)` per step (TD3's default, sigma 0.1).
    Gaussian {
        /// Standard deviation as a fraction of `max_action`.
        sigma: f64,
    },
    /// Ornstein–Uhlenbeck noise `x ← x − θ x dt + σ √dt ε` with `dt = 0.01`, reset at every
    /// episode start and scaled by `max_action` (stable-baselines3's `OrnsteinUhlenbeckActionNoise`).
    OrnsteinUhlenbeck {
        /// Volatility σ.
        sigma: f64,
        /// Mean reversion θ (0.15).
        theta: f64,
    },
}

/// Online TD3 hyper-parameters; defaults are the TD3 authors' (`sfujim/TD3`, `main.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Td3Params {
    /// Discount γ (0.99).
    pub discount: f64,
    /// Polyak rate τ (0.005).
    pub tau: f64,
    /// Target policy noise, fraction of `max_action` (0.2).
    pub policy_noise: f64,
    /// Clip of the target policy noise, fraction of `max_action` (0.5).
    pub noise_clip: f64,
    /// Actor and target updates every this many critic steps (2).
    pub policy_freq: usize,
    /// Minibatch size (256).
    pub batch_size: usize,
    /// Hidden widths of actor and critics (256, 256).
    pub hidden: Vec<usize>,
    /// Actor learning rate (3e-4).
    pub actor_lr: f64,
    /// Critic learning rate (3e-4).
    pub critic_lr: f64,
    /// Exploration noise (Gaussian, sigma 0.1).
    pub exploration: Exploration,
    /// Steps of uniform random actions before the actor acts and learning starts (25,000).
    pub learning_starts: usize,
    /// Environment steps in all (1,000,000).
    pub total_steps: usize,
    /// Evaluation and snapshot every this many steps (5,000).
    pub eval_every: usize,
    /// Episodes per evaluation (10).
    pub eval_episodes: usize,
    /// Seed of initialisation, exploration, batches and the world's resets.
    pub seed: Seed,
}

impl Default for Td3Params {
    fn default() -> Self {
        Self {
            discount: 0.99,
            tau: 0.005,
            policy_noise: 0.2,
            noise_clip: 0.5,
            policy_freq: 2,
            batch_size: 256,
            hidden: vec![256, 256],
            actor_lr: 3e-4,
            critic_lr: 3e-4,
            exploration: Exploration::Gaussian { sigma: 0.1 },
            learning_starts: 25_000,
            total_steps: 1_000_000,
            eval_every: 5_000,
            eval_episodes: 10,
            seed: 0,
        }
    }
}

/// One evaluation during online training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlinePoint {
    /// Environment steps so far.
    pub step: usize,
    /// Training episodes completed so far.
    pub episodes: usize,
    /// Mean return of the noise-free actor over the evaluation episodes.
    pub eval_mean: f64,
    /// Standard deviation of those returns.
    pub eval_std: f64,
    /// Mean critic loss since the previous point (`NaN` before learning starts).
    pub critic_loss: f64,
    /// Mean actor loss since the previous point (`NaN` when the actor did not move).
    pub actor_loss: f64,
}

/// The actor as it was at one evaluation.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Environment steps when it was taken.
    pub step: usize,
    /// Its mean evaluation return.
    pub eval_mean: f64,
    /// The actor (identity normaliser).
    pub model: ActorModel,
}

/// A finished online run.
#[derive(Debug, Clone)]
pub struct Td3Run {
    /// One point per evaluation.
    pub curve: Vec<OnlinePoint>,
    /// The actor at every evaluation, in order.
    pub snapshots: Vec<Snapshot>,
    /// The completed training episodes in order, numbered from 0 (the replay buffer as
    /// episodes; a final unfinished episode is left out).
    pub episodes: Vec<EpisodeData>,
    /// The environment step at which each training episode ended.
    pub episode_end_steps: Vec<usize>,
}

impl Td3Params {
    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        check_common(
            &self.hidden,
            self.batch_size,
            self.total_steps,
            self.eval_every,
            1.0,
            &[("actor_lr", self.actor_lr), ("critic_lr", self.critic_lr)],
        )?;
        self.offline_params(1.0).check()?;
        let (name, sigma, theta) = match self.exploration {
            Exploration::Gaussian { sigma } => ("exploration.sigma", sigma, 0.0),
            Exploration::OrnsteinUhlenbeck { sigma, theta } => ("exploration", sigma, theta),
        };
        if !(sigma.is_finite() && sigma >= 0.0 && theta.is_finite() && theta >= 0.0) {
            return Err(Error::parameter(
                name,
                format!("sigma {sigma} and theta {theta} must be ≥ 0"),
            ));
        }
        if self.learning_starts == 0 || self.learning_starts >= self.total_steps {
            return Err(Error::parameter(
                "learning_starts",
                format!(
                    "{} must be positive and below total_steps {}",
                    self.learning_starts, self.total_steps
                ),
            ));
        }
        if self.eval_episodes == 0 {
            return Err(Error::parameter("eval_episodes", "must be positive"));
        }
        Ok(())
    }

    /// The shared TD3 update's parameters (the BC weight is unused online).
    fn offline_params(&self, max_action: f64) -> Td3BcParams {
        Td3BcParams {
            discount: self.discount,
            tau: self.tau,
            policy_noise: self.policy_noise,
            noise_clip: self.noise_clip,
            policy_freq: self.policy_freq,
            batch_size: self.batch_size,
            hidden: self.hidden.clone(),
            actor_lr: self.actor_lr,
            critic_lr: self.critic_lr,
            normalize: false,
            max_action,
            steps: self.total_steps,
            eval_every: self.eval_every,
            seed: self.seed,
            ..Td3BcParams::default()
        }
    }

    /// The seed of evaluation episode 0 (evaluations use the same episodes every time).
    pub fn eval_seed(&self) -> u64 {
        self.seed.wrapping_add(1_000_003)
    }

    /// Trains in `env`, evaluating in `eval_env` (a second instance of the same world), and
    /// calls `hook` after every evaluation.
    pub fn train(
        &self,
        env: &mut dyn Env,
        eval_env: &mut dyn Env,
        mut hook: impl FnMut(&OnlinePoint) -> Result<()>,
    ) -> Result<Td3Run> {
        self.check()?;
        let (space, max_action) = symmetric_action_box(env)?;
        let obs_dim = env.observation_space().flat_size();
        if eval_env.id() != env.id() {
            return Err(Error::InvalidData(format!(
                "evaluation world {} differs from training world {}",
                eval_env.id(),
                env.id()
            )));
        }
        let buffer = OfflineData::empty(obs_dim, space.size());
        let mut learner = Td3BcLearner::from_data(self.offline_params(max_action), buffer, false)?;
        let mut run = Td3Run {
            curve: Vec::new(),
            snapshots: Vec::new(),
            episodes: Vec::new(),
            episode_end_steps: Vec::new(),
        };
        let mut ou = vec![0.0f64; space.size()];
        let (obs, _) = env.reset(Some(self.seed));
        let mut recorder = EpisodeRecorder::new(obs, Some(self.seed));
        let mut losses = LossMeans::default();
        for step in 1..=self.total_steps {
            let obs = recorder.last_observation().to_vec();
            let action = if step <= self.learning_starts {
                space.sample(learner.rng_mut())
            } else {
                let mut a = learner.act(&obs)?;
                match self.exploration {
                    Exploration::Gaussian { sigma } => {
                        add_gaussian_noise(&mut a, sigma, &space, learner.rng_mut())
                    }
                    Exploration::OrnsteinUhlenbeck { sigma, theta } => {
                        const DT: f64 = 0.01;
                        for (x, a) in ou.iter_mut().zip(a.iter_mut()) {
                            let eps: f64 = StandardNormal.sample(learner.rng_mut());
                            *x += -theta * *x * DT + sigma * DT.sqrt() * eps;
                            *a += (*x * max_action) as f32;
                        }
                        clip_to_box(&mut a, &space);
                    }
                }
                a
            };
            let outcome = env.step(&Action::Continuous(action.clone()))?;
            learner.data_mut().push(
                &obs,
                &action,
                outcome.reward,
                &outcome.observation,
                outcome.terminated,
            )?;
            recorder.push(action, &outcome);
            if outcome.done() {
                let id = run.episodes.len() as u64;
                let (next, _) = env.reset(None);
                let finished = std::mem::replace(&mut recorder, EpisodeRecorder::new(next, None));
                run.episodes.push(finished.finish(id)?);
                run.episode_end_steps.push(step);
                ou.iter_mut().for_each(|x| *x = 0.0);
            }
            if step > self.learning_starts {
                let (critic, actor) = learner.step()?;
                losses.add(critic, actor, step)?;
            }
            if step % self.eval_every == 0 || step == self.total_steps {
                let model = learner.actor_model()?;
                let returns = evaluate(&model, eval_env, self.eval_episodes, self.eval_seed())?;
                let (eval_mean, eval_std) = mean_std(&returns);
                let (critic_loss, actor_loss) = losses.take();
                let point = OnlinePoint {
                    step,
                    episodes: run.episodes.len(),
                    eval_mean,
                    eval_std,
                    critic_loss,
                    actor_loss,
                };
                hook(&point)?;
                run.curve.push(point);
                run.snapshots.push(Snapshot {
                    step,
                    eval_mean,
                    model,
                });
            }
        }
        Ok(run)
    }
}

/// Running means of the losses between evaluations.
#[derive(Debug, Default)]
struct LossMeans {
    critic: (f64, usize),
    actor: (f64, usize),
}

impl LossMeans {
    fn add(&mut self, critic: Option<f32>, actor: Option<f32>, step: usize) -> Result<()> {
        for (value, slot, what) in [
            (critic, &mut self.critic, "critic loss"),
            (actor, &mut self.actor, "actor loss"),
        ] {
            if let Some(v) = value {
                if !v.is_finite() {
                    return Err(Error::Diverged { what, step });
                }
                slot.0 += f64::from(v);
                slot.1 += 1;
            }
        }
        Ok(())
    }

    fn take(&mut self) -> (f64, f64) {
        let mean = |(s, n): (f64, usize)| if n == 0 { f64::NAN } else { s / n as f64 };
        let out = (mean(self.critic), mean(self.actor));
        *self = Self::default();
        out
    }
}

/// Mean and population standard deviation (0 and 0 for an empty slice).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}
