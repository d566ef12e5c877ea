//! Running policies in worlds: evaluation returns and recorded episodes in Minari's layout.

use choicelab_core::env::{Action, BoxSpace, Env, Space};
use choicelab_core::episodes::{Actions, EpisodeData};
use choicelab_core::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result};
use crate::model::ActorModel;

/// A policy as rollouts use it: raw observation in, action out (within the action box).
pub type PolicyFn<'a> = dyn FnMut(&[f32]) -> Result<Vec<f32>> + 'a;

/// The action box of `env` and its bound `max_action`; errors unless the space is a box that
/// is symmetric with the same bound on every coordinate (what the learners' tanh policies
/// produce).
pub fn symmetric_action_box(env: &dyn Env) -> Result<(BoxSpace, f64)> {
    let Space::Box(b) = env.action_space() else {
        return Err(Error::InvalidData(format!(
            "{} has discrete actions; these learners need a box",
            env.id()
        )));
    };
    let bound = b.high().first().copied().unwrap_or(f32::NAN);
    let symmetric = b.high().iter().all(|h| *h == bound) && b.low().iter().all(|l| *l == -bound);
    if !(symmetric && bound.is_finite() && bound > 0.0) {
        return Err(Error::InvalidData(format!(
            "{}'s action box {b} is not [-m, m] with one finite bound m",
            env.id()
        )));
    }
    Ok((b.clone(), f64::from(bound)))
}

/// Clips `action` into `space` coordinate by coordinate.
pub fn clip_to_box(action: &mut [f32], space: &BoxSpace) {
    for ((a, l), h) in action.iter_mut().zip(space.low()).zip(space.high()) {
        *a = a.clamp(*l, *h);
    }
}

/// Adds `N(0, (sigma · bound)²)` noise to every coordinate of `action` and clips it into the
/// box (exploration and recording noise).
pub fn add_gaussian_noise(action: &mut [f32], sigma: f64, space: &BoxSpace, rng: &mut Rng) {
    let bound = f64::from(space.high().first().copied().unwrap_or(1.0));
    for a in action.iter_mut() {
        let eps: f64 = StandardNormal.sample(rng);
        *a += (eps * sigma * bound) as f32;
    }
    clip_to_box(action, space);
}

/// Plays `episodes` episodes of `model` without noise, resetting with seeds `seed, seed + 1,
/// …`; returns each episode's undiscounted return.
pub fn evaluate(
    model: &ActorModel,
    env: &mut dyn Env,
    episodes: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    let (space, _) = symmetric_action_box(env)?;
    let mut policy = |obs: &[f32]| -> Result<Vec<f32>> {
        let mut a = model.act(obs)?;
        clip_to_box(&mut a, &space);
        Ok(a)
    };
    (0..episodes as u64)
        .map(|k| Ok(play(&mut policy, env, seed + k)?.total_reward()))
        .collect()
}

/// Records whole episodes of `policy` until at least `min_steps` steps are recorded, resetting
/// episode `k` with seed `seed + k` and numbering episodes from `first_id`.
pub fn record(
    policy: &mut PolicyFn<'_>,
    env: &mut dyn Env,
    min_steps: usize,
    seed: u64,
    first_id: u64,
) -> Result<Vec<EpisodeData>> {
    let mut out: Vec<EpisodeData> = Vec::new();
    let mut steps = 0;
    while steps < min_steps {
        let k = out.len() as u64;
        let mut episode = play(policy, env, seed + k)?;
        episode.id = first_id + k;
        steps += episode.len();
        out.push(episode);
    }
    Ok(out)
}

/// One episode of `policy` from `reset(Some(seed))` until termination or truncation.
pub fn play(policy: &mut PolicyFn<'_>, env: &mut dyn Env, seed: u64) -> Result<EpisodeData> {
    let (obs, _) = env.reset(Some(seed));
    let mut recorder = EpisodeRecorder::new(obs, Some(seed));
    loop {
        let action = policy(recorder.last_observation())?;
        let outcome = env.step(&Action::Continuous(action.clone()))?;
        let done = outcome.done();
        recorder.push(action, &outcome);
        if done {
            return recorder.finish(0);
        }
        if recorder.len() > 10_000_000 {
            return Err(Error::InvalidData(format!(
                "{} ran 10 million steps without ending; wrap it in a TimeLimit",
                env.id()
            )));
        }
    }
}

/// Builds one [`EpisodeData`] step by step.
#[derive(Debug, Clone)]
pub struct EpisodeRecorder {
    seed: Option<u64>,
    observations: Vec<Vec<f32>>,
    actions: Vec<Vec<f32>>,
    rewards: Vec<f64>,
    terminations: Vec<bool>,
    truncations: Vec<bool>,
}

impl EpisodeRecorder {
    /// Starts an episode at its first observation.
    pub fn new(first_observation: Vec<f32>, seed: Option<u64>) -> Self {
        Self {
            seed,
            observations: vec![first_observation],
            actions: Vec::new(),
            rewards: Vec::new(),
            terminations: Vec::new(),
            truncations: Vec::new(),
        }
    }

    /// The latest observation.
    pub fn last_observation(&self) -> &[f32] {
        &self.observations[self.observations.len() - 1]
    }

    /// Steps recorded.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether no step is recorded yet.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Appends a step: the action taken and what followed.
    pub fn push(&mut self, action: Vec<f32>, outcome: &choicelab_core::env::StepOutcome) {
        self.actions.push(action);
        self.rewards.push(outcome.reward);
        self.terminations.push(outcome.terminated);
        self.truncations.push(outcome.truncated);
        self.observations.push(outcome.observation.clone());
    }

    /// The finished episode with id `id`; errors if no step was recorded.
    pub fn finish(self, id: u64) -> Result<EpisodeData> {
        if self.rewards.is_empty() {
            return Err(Error::InvalidData(
                "an episode needs at least one step".into(),
            ));
        }
        Ok(EpisodeData {
            id,
            seed: self.seed,
            observations: self.observations,
            actions: Actions::Continuous(self.actions),
            rewards: self.rewards,
            terminations: self.terminations,
            truncations: self.truncations,
        })
    }
}
