//! Training data for offline learners: checked, normalised transitions and seeded minibatches.

use candle_core::{Device, Tensor};
use choicelab_core::episodes::Transitions;
use choicelab_core::Rng;
use rand::RngExt;

use crate::error::{Error, Result};
use crate::normalizer::Normalizer;

/// Continuous-action transitions held as `f32` columns, observations already normalised.
#[derive(Debug, Clone)]
pub struct OfflineData {
    obs_dim: usize,
    action_dim: usize,
    observations: Vec<f32>,
    next_observations: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    not_done: Vec<f32>,
    normalizer: Normalizer,
}

/// One minibatch as `(batch, ·)` tensors.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Normalised observations.
    pub observations: Tensor,
    /// Actions.
    pub actions: Tensor,
    /// Rewards, `(batch, 1)`.
    pub rewards: Tensor,
    /// Normalised next observations.
    pub next_observations: Tensor,
    /// `1 − terminal`, `(batch, 1)`: 0 after a termination, 1 after a truncation.
    pub not_done: Tensor,
}

impl OfflineData {
    /// Checks `data` (lengths, widths, finite values), that it has continuous actions within `±max_action` and at least one
    /// transition, fits the normaliser on its observations when `normalize` is set (on the
    /// training set only), and normalises observations and next observations.
    pub fn new(data: &Transitions, normalize: bool, max_action: f64) -> Result<Self> {
        data.validate()?;
        let (action_dim, actions) = data.continuous_actions().ok_or_else(|| {
            Error::InvalidData(
                "this learner needs continuous actions, the data are discrete".into(),
            )
        })?;
        if data.is_empty() {
            return Err(Error::InvalidData("no transitions".into()));
        }
        if let Some(i) = actions.iter().position(|a| f64::from(a.abs()) > max_action) {
            return Err(Error::InvalidData(format!(
                "action {} of transition {} lies outside [-{max_action}, {max_action}]",
                actions[i],
                i / action_dim
            )));
        }
        let obs_dim = data.obs_dim;
        let normalizer = if normalize {
            Normalizer::fit(&data.observations, obs_dim, Normalizer::EPS)?
        } else {
            Normalizer::identity(obs_dim)
        };
        Ok(Self {
            obs_dim,
            action_dim,
            observations: normalizer.apply(&data.observations),
            next_observations: normalizer.apply(&data.next_observations),
            actions: actions.to_vec(),
            rewards: data.rewards.clone(),
            not_done: data
                .terminals
                .iter()
                .map(|t| if *t { 0.0 } else { 1.0 })
                .collect(),
            normalizer,
        })
    }

    /// An empty, unnormalised buffer for online learning (a replay buffer that keeps every
    /// transition), filled by [`OfflineData::push`].
    pub fn empty(obs_dim: usize, action_dim: usize) -> Self {
        Self {
            obs_dim,
            action_dim,
            observations: Vec::new(),
            next_observations: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            not_done: Vec::new(),
            normalizer: Normalizer::identity(obs_dim),
        }
    }

    /// Appends one transition (raw observations: the buffer of [`OfflineData::empty`] does not
    /// normalise); errors on wrong widths or non-finite values.
    pub fn push(
        &mut self,
        observation: &[f32],
        action: &[f32],
        reward: f64,
        next_observation: &[f32],
        terminal: bool,
    ) -> Result<()> {
        let widths = [
            ("observation", observation.len(), self.obs_dim),
            ("action", action.len(), self.action_dim),
            ("next observation", next_observation.len(), self.obs_dim),
        ];
        for (what, got, want) in widths {
            if got != want {
                return Err(Error::InvalidData(format!(
                    "{what} has width {got}, the buffer holds width {want}"
                )));
            }
        }
        let mut values = observation.iter().chain(action).chain(next_observation);
        if !reward.is_finite() || values.any(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "transition {} has a non-finite value",
                self.len()
            )));
        }
        self.observations.extend_from_slice(observation);
        self.actions.extend_from_slice(action);
        self.rewards.push(reward as f32);
        self.next_observations.extend_from_slice(next_observation);
        self.not_done.push(if terminal { 0.0 } else { 1.0 });
        Ok(())
    }

    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether there are none (only for an [`OfflineData::empty`] buffer before its first push).
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action width.
    pub fn action_dim(&self) -> usize {
        self.action_dim
    }

    /// The fitted normaliser (identity when normalisation is off).
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// `batch` transitions drawn uniformly with replacement from `rng`.
    pub fn sample(&self, rng: &mut Rng, batch: usize) -> Result<Batch> {
        let n = self.len();
        let idx: Vec<usize> = (0..batch).map(|_| rng.random_range(0..n)).collect();
        self.gather(&idx)
    }

    /// The transitions at `idx` as a batch.
    pub fn gather(&self, idx: &[usize]) -> Result<Batch> {
        let b = idx.len();
        let rows = |src: &[f32], width: usize| -> Result<Tensor> {
            let mut out = Vec::with_capacity(b * width);
            for &i in idx {
                out.extend_from_slice(&src[i * width..(i + 1) * width]);
            }
            Ok(Tensor::from_vec(out, (b, width), &Device::Cpu)?)
        };
        Ok(Batch {
            observations: rows(&self.observations, self.obs_dim)?,
            actions: rows(&self.actions, self.action_dim)?,
            rewards: rows(&self.rewards, 1)?,
            next_observations: rows(&self.next_observations, self.obs_dim)?,
            not_done: rows(&self.not_done, 1)?,
        })
    }
}
