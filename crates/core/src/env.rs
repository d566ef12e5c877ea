//! The Gymnasium environment contract: [`Env`] with `reset` and `step`, the [`TimeLimit`]
//! wrapper and the vectorised runner [`SyncVectorEnv`].
//!
//! Observations are float32 vectors, as gymnasium returns them; worlds keep their own internal
//! state (usually float64), which [`Env::state`] and [`Env::set_state`] expose so a trajectory
//! can be replayed from a copied state.
//!
//! ```
//! use choicelab_core::env::{Action, Env, StepOutcome, TimeLimit, Info};
//! use choicelab_core::spaces::Space;
//! use choicelab_core::Result;
//!
//! /// A counter that ends when it reaches 3.
//! struct Count { n: u32, obs: Space, act: Space }
//! impl Env for Count {
//!     fn id(&self) -> &str { "Count" }
//!     fn observation_space(&self) -> &Space { &self.obs }
//!     fn action_space(&self) -> &Space { &self.act }
//!     fn reset(&mut self, _seed: Option<u64>) -> (Vec<f32>, Info) { self.n = 0; (vec![0.0], Info::new()) }
//!     fn step(&mut self, action: &Action) -> Result<StepOutcome> {
//!         self.act.check(action, "Count")?;
//!         self.n += 1;
//!         Ok(StepOutcome::new(vec![self.n as f32], 1.0, self.n >= 3))
//!     }
//!     fn state(&self) -> Vec<f64> { vec![f64::from(self.n)] }
//!     fn set_state(&mut self, s: &[f64]) -> Result<()> { self.n = s.first().copied().unwrap_or(0.0) as u32; Ok(()) }
//! }
//!
//! let env = Count { n: 0, obs: Space::Discrete(10), act: Space::Discrete(1) };
//! let mut env = TimeLimit::new(env, 2);
//! env.reset(Some(0));
//! assert!(!env.step(&Action::Discrete(0))?.truncated);
//! let last = env.step(&Action::Discrete(0))?;
//! assert!(last.truncated && !last.terminated);
//! # Ok::<(), choicelab_core::Error>(())
//! ```

use std::collections::BTreeMap;

use crate::error::{Error, Result};
pub use crate::spaces::{Action, BoxSpace, Space};

/// Extra information a step or reset returns (gymnasium's `info` dict), by name.
pub type Info = BTreeMap<String, f64>;

/// What one step returns: gymnasium's `(observation, reward, terminated, truncated, info)`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// The observation after the step (float32).
    pub observation: Vec<f32>,
    /// The reward of the step.
    pub reward: f64,
    /// Whether the world reached a terminal state (no bootstrapping past it).
    pub terminated: bool,
    /// Whether the episode was cut short from outside, e.g. by a time limit.
    pub truncated: bool,
    /// Extra information.
    pub info: Info,
}

impl StepOutcome {
    /// An outcome that is not truncated and carries no info.
    pub fn new(observation: Vec<f32>, reward: f64, terminated: bool) -> Self {
        Self {
            observation,
            reward,
            terminated,
            truncated: false,
            info: Info::new(),
        }
    }

    /// Whether the episode is over (terminated or truncated).
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// A world an agent acts in, with gymnasium's API.
///
/// `reset(Some(seed))` reseeds the world's generator; `reset(None)` continues its stream (a
/// world that was never reseeded starts from its constructor's seed). `step` rejects actions
/// outside [`action_space`](Env::action_space) with an error instead of panicking.
pub trait Env {
    /// The world's name, e.g. `CartPole-v1` (used in error messages).
    fn id(&self) -> &str;
    /// The space observations lie in.
    fn observation_space(&self) -> &Space;
    /// The space actions must lie in.
    fn action_space(&self) -> &Space;
    /// Starts a new episode and returns its first observation.
    fn reset(&mut self, seed: Option<u64>) -> (Vec<f32>, Info);
    /// Applies `action` and returns what followed.
    fn step(&mut self, action: &Action) -> Result<StepOutcome>;
    /// The internal state (for the classic-control worlds, gymnasium's `env.unwrapped.state`),
    /// widened to float64.
    fn state(&self) -> Vec<f64>;
    /// Replaces the internal state, as after a reset to it; errors on a wrong width or a
    /// non-finite value.
    fn set_state(&mut self, state: &[f64]) -> Result<()>;
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> (Vec<f32>, Info) {
        (**self).reset(seed)
    }
    fn step(&mut self, action: &Action) -> Result<StepOutcome> {
        (**self).step(action)
    }
    fn state(&self) -> Vec<f64> {
        (**self).state()
    }
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        (**self).set_state(state)
    }
}

/// Cuts episodes at `max_episode_steps` steps by setting `truncated` (never `terminated`), as
/// gymnasium's `TimeLimit` wrapper. The count restarts at `reset` and at `set_state`.
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    env: E,
    max_episode_steps: usize,
    elapsed: usize,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env` with a limit of `max_episode_steps` steps per episode.
    pub fn new(env: E, max_episode_steps: usize) -> Self {
        Self {
            env,
            max_episode_steps,
            elapsed: 0,
        }
    }

    /// The limit.
    pub fn max_episode_steps(&self) -> usize {
        self.max_episode_steps
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> usize {
        self.elapsed
    }

    /// The wrapped world.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped world, mutably (stepping it directly bypasses the count).
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// The wrapped world, unwrapped.
    pub fn into_inner(self) -> E {
        self.env
    }
}

impl<E: Env> Env for TimeLimit<E> {
    fn id(&self) -> &str {
        self.env.id()
    }
    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.env.action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> (Vec<f32>, Info) {
        self.elapsed = 0;
        self.env.reset(seed)
    }
    fn step(&mut self, action: &Action) -> Result<StepOutcome> {
        let mut outcome = self.env.step(action)?;
        self.elapsed += 1;
        if self.elapsed >= self.max_episode_steps {
            outcome.truncated = true;
        }
        Ok(outcome)
    }
    fn state(&self) -> Vec<f64> {
        self.env.state()
    }
    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.env.set_state(state)?;
        self.elapsed = 0;
        Ok(())
    }
}

/// What one step of a [`SyncVectorEnv`] returns: one entry per copy.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorStep {
    /// Observations.
    pub observations: Vec<Vec<f32>>,
    /// Rewards.
    pub rewards: Vec<f64>,
    /// Terminations.
    pub terminated: Vec<bool>,
    /// Truncations.
    pub truncated: Vec<bool>,
    /// Infos.
    pub infos: Vec<Info>,
}

/// N copies of a world stepped together, as gymnasium's `SyncVectorEnv` in its default
/// `NEXT_STEP` autoreset mode: a copy whose episode ended on one step is reset on its next
/// step instead of stepped; that step ignores its action and returns the reset observation with
/// reward 0, not terminated, not truncated.
#[derive(Debug)]
pub struct SyncVectorEnv<E> {
    envs: Vec<E>,
    needs_reset: Vec<bool>,
}

impl<E: Env> SyncVectorEnv<E> {
    /// Runs `envs` together; errors if there are none or their spaces differ.
    pub fn new(envs: Vec<E>) -> Result<Self> {
        let Some(first) = envs.first() else {
            return Err(Error::parameter("envs", "a vector needs at least one copy"));
        };
        for (i, env) in envs.iter().enumerate() {
            if env.action_space() != first.action_space()
                || env.observation_space() != first.observation_space()
            {
                return Err(Error::parameter(
                    "envs",
                    format!("copy {i} ({}) has other spaces than copy 0", env.id()),
                ));
            }
        }
        let needs_reset = vec![false; envs.len()];
        Ok(Self { envs, needs_reset })
    }

    /// The number of copies.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Whether there are no copies (never: `new` refuses an empty vector).
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// The copies.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// Resets every copy: copy i with seed `seed + i` (wrapping) when a seed is given, as
    /// gymnasium does, otherwise continuing each copy's stream.
    pub fn reset(&mut self, seed: Option<u64>) -> (Vec<Vec<f32>>, Vec<Info>) {
        self.needs_reset.iter_mut().for_each(|r| *r = false);
        self.envs
            .iter_mut()
            .enumerate()
            .map(|(i, env)| env.reset(seed.map(|s| s.wrapping_add(i as u64))))
            .unzip()
    }

    /// Steps every copy with its action (see the type's doc for the autoreset); errors if the
    /// number of actions is not the number of copies or a copy rejects its action.
    pub fn step(&mut self, actions: &[Action]) -> Result<VectorStep> {
        if actions.len() != self.envs.len() {
            return Err(Error::parameter(
                "actions",
                format!("{} actions for {} copies", actions.len(), self.envs.len()),
            ));
        }
        // Check every action first, so a bad one leaves no copy stepped.
        for ((env, action), needs_reset) in self.envs.iter().zip(actions).zip(&self.needs_reset) {
            if !needs_reset {
                env.action_space().check(action, env.id())?;
            }
        }
        let n = self.envs.len();
        let mut out = VectorStep {
            observations: Vec::with_capacity(n),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            truncated: Vec::with_capacity(n),
            infos: Vec::with_capacity(n),
        };
        for ((env, action), needs_reset) in
            self.envs.iter_mut().zip(actions).zip(&mut self.needs_reset)
        {
            if *needs_reset {
                let (observation, info) = env.reset(None);
                out.observations.push(observation);
                out.rewards.push(0.0);
                out.terminated.push(false);
                out.truncated.push(false);
                out.infos.push(info);
                *needs_reset = false;
            } else {
                let step = env.step(action)?;
                *needs_reset = step.done();
                out.observations.push(step.observation);
                out.rewards.push(step.reward);
                out.terminated.push(step.terminated);
                out.truncated.push(step.truncated);
                out.infos.push(step.info);
            }
        }
        Ok(out)
    }
}
