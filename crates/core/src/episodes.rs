//! Offline RL data sets in Minari's layout: whole episodes with their metadata, checks, and the
//! flat [`Transitions`] that learners train on.
//!
//! An episode of `T` steps holds `T + 1` observations (the initial and the final one included),
//! `T` actions, rewards, terminations and truncations, as Minari stores them. Flattening keeps
//! Minari's pairing: the next observation of step `t` is `observations[t + 1]`, including the
//! final observation of a truncated episode, and the terminal flag of a transition is the
//! *termination* only, so learners bootstrap through truncations and never through terminations.
//!
//! ```
//! use choicelab_core::episodes::{Actions, DatasetMetadata, EpisodeData, Episodes};
//! let episode = EpisodeData {
//!     id: 0,
//!     seed: Some(7),
//!     observations: vec![vec![0.0], vec![0.5], vec![1.0]],
//!     actions: Actions::Continuous(vec![vec![0.5], vec![0.5]]),
//!     rewards: vec![0.0, 1.0],
//!     terminations: vec![false, true],
//!     truncations: vec![false, false],
//! };
//! let data = Episodes::new(DatasetMetadata::named("line/walk-v0"), vec![episode]).unwrap();
//! let t = data.transitions().unwrap();
//! assert_eq!(t.len(), 2);
//! assert_eq!(t.next_observation(0), &[0.5]);
//! assert!(t.terminals[1]);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};

/// The actions of one episode: continuous rows or discrete indices, `T` of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actions {
    /// One row of `action_dim` floats per step.
    Continuous(Vec<Vec<f32>>),
    /// One action index per step.
    Discrete(Vec<u32>),
}

impl Actions {
    /// Number of steps these actions cover.
    pub fn len(&self) -> usize {
        match self {
            Actions::Continuous(rows) => rows.len(),
            Actions::Discrete(a) => a.len(),
        }
    }

    /// Whether there are no actions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One recorded episode with Minari's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeData {
    /// Episode id, unique within its data set.
    pub id: u64,
    /// The seed the environment was reset with, when known.
    pub seed: Option<u64>,
    /// `T + 1` observations: the initial one, then the one after each step.
    pub observations: Vec<Vec<f32>>,
    /// `T` actions.
    pub actions: Actions,
    /// `T` rewards.
    pub rewards: Vec<f64>,
    /// `T` flags: the episode ended in a terminal state after this step.
    pub terminations: Vec<bool>,
    /// `T` flags: the episode was cut (time limit) after this step.
    pub truncations: Vec<bool>,
}

impl EpisodeData {
    /// Number of steps `T`.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether the episode has no steps.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// The undiscounted return (sum of rewards).
    pub fn total_reward(&self) -> f64 {
        self.rewards.iter().sum()
    }
}

/// Data-set metadata with Minari's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetMetadata {
    /// `(namespace/)(env_name/)name(-vN)`, e.g. `pendulum/medium-v0`.
    pub dataset_id: String,
    /// The environment spec's name, e.g. `Pendulum-v1`.
    pub env_spec: String,
    /// The algorithm that generated the data (`SAC`, `random`).
    pub algorithm_name: String,
    /// Number of episodes (checked against the episodes).
    pub total_episodes: usize,
    /// Number of steps over all episodes (checked against the episodes).
    pub total_steps: usize,
    /// Return of the random policy, the 0 of the normalised score.
    pub ref_min_score: Option<f64>,
    /// Return of the expert policy, the 100 of the normalised score.
    pub ref_max_score: Option<f64>,
    /// The seed the data were generated with.
    pub seed: Option<u64>,
}

impl DatasetMetadata {
    /// Metadata with only a data-set id; the totals are filled in by [`Episodes::new`].
    pub fn named(dataset_id: impl Into<String>) -> Self {
        Self {
            dataset_id: dataset_id.into(),
            env_spec: String::new(),
            algorithm_name: String::new(),
            total_episodes: 0,
            total_steps: 0,
            ref_min_score: None,
            ref_max_score: None,
            seed: None,
        }
    }
}

/// D4RL's normalised score `100 (R − min) / (max − min)`.
pub fn normalized_score(ret: f64, ref_min: f64, ref_max: f64) -> Result<f64> {
    if !(ret.is_finite() && ref_min.is_finite() && ref_max.is_finite()) {
        return Err(Error::parameter(
            "normalized_score",
            format!("non-finite input: return {ret}, min {ref_min}, max {ref_max}"),
        ));
    }
    if ref_max == ref_min {
        return Err(Error::parameter(
            "ref_max_score",
            format!("equals ref_min_score ({ref_min}); the score is undefined"),
        ));
    }
    Ok(100.0 * (ret - ref_min) / (ref_max - ref_min))
}

/// A checked data set: metadata and episodes with consistent widths and lengths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episodes {
    /// Data-set metadata; totals match the episodes.
    pub metadata: DatasetMetadata,
    /// The episodes, in recording order.
    pub episodes: Vec<EpisodeData>,
}

impl Episodes {
    /// Checks `episodes` (see [`Episodes::validate`]) and sets the metadata's totals from them.
    pub fn new(mut metadata: DatasetMetadata, episodes: Vec<EpisodeData>) -> Result<Self> {
        metadata.total_episodes = episodes.len();
        metadata.total_steps = episodes.iter().map(EpisodeData::len).sum();
        let data = Self { metadata, episodes };
        data.validate("<episodes>")?;
        Ok(data)
    }

    /// Observation width (0 for an empty data set).
    pub fn observation_dim(&self) -> usize {
        self.episodes
            .first()
            .and_then(|e| e.observations.first())
            .map_or(0, Vec::len)
    }

    /// Checks every rule, naming `source`, the episode id and the step in errors: `T + 1`
    /// observations and `T` of everything else, one observation width, one action kind and
    /// width, finite observations, actions and rewards, an end flag only on the last step,
    /// and totals matching the metadata.
    pub fn validate(&self, source: &str) -> Result<()> {
        let at = |field: String| Location::new(source).field(field);
        let obs_dim = self.observation_dim();
        if obs_dim == 0 && !self.episodes.is_empty() {
            return Err(Error::invalid(
                at(format!("episode {}.observations[0]", self.episodes[0].id)),
                "observations have width 0",
            ));
        }
        let mut action_kind: Option<(bool, usize)> = None;
        let mut ids = std::collections::HashSet::new();
        for e in &self.episodes {
            let ep = |field: &str| at(format!("episode {}.{field}", e.id));
            if !ids.insert(e.id) {
                return Err(Error::invalid(ep("id"), "duplicate episode id"));
            }
            let t = e.rewards.len();
            if t == 0 {
                return Err(Error::invalid(ep("rewards"), "episode has no steps"));
            }
            let lengths = [
                ("observations", e.observations.len(), t + 1),
                ("actions", e.actions.len(), t),
                ("terminations", e.terminations.len(), t),
                ("truncations", e.truncations.len(), t),
            ];
            for (name, got, want) in lengths {
                if got != want {
                    return Err(Error::invalid(
                        ep(name),
                        format!("{got} entries, expected {want} for an episode of {t} rewards"),
                    ));
                }
            }
            for (step, row) in e.observations.iter().enumerate() {
                if row.len() != obs_dim {
                    return Err(Error::invalid(
                        ep(&format!("observations[{step}]")),
                        format!("observation width {}, expected {obs_dim}", row.len()),
                    ));
                }
                if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                    return Err(Error::invalid(
                        ep(&format!("observations[{step}]")),
                        format!("non-finite observation value {v}"),
                    ));
                }
            }
            let kind = match &e.actions {
                Actions::Continuous(rows) => {
                    let width = rows[0].len();
                    for (step, row) in rows.iter().enumerate() {
                        let field = || ep(&format!("actions[{step}]"));
                        if row.len() != width || width == 0 {
                            return Err(Error::invalid(
                                field(),
                                format!("action width {}, expected {width} (> 0)", row.len()),
                            ));
                        }
                        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                            return Err(Error::invalid(field(), format!("non-finite action {v}")));
                        }
                    }
                    (false, width)
                }
                Actions::Discrete(_) => (true, 1),
            };
            match action_kind {
                None => action_kind = Some(kind),
                Some(k) if k != kind => {
                    return Err(Error::invalid(
                        ep("actions"),
                        format!(
                            "actions are {} of width {}, earlier episodes have {} of width {}",
                            kind_name(kind.0),
                            kind.1,
                            kind_name(k.0),
                            k.1
                        ),
                    ))
                }
                Some(_) => {}
            }
            for (step, r) in e.rewards.iter().enumerate() {
                if !r.is_finite() {
                    return Err(Error::invalid(
                        ep(&format!("rewards[{step}]")),
                        format!("non-finite reward {r}"),
                    ));
                }
            }
            for step in 0..t - 1 {
                if e.terminations[step] || e.truncations[step] {
                    return Err(Error::invalid(
                        ep(&format!("terminations[{step}]")),
                        format!("episode ends at step {step} but has {t} steps"),
                    ));
                }
            }
        }
        let steps: usize = self.episodes.iter().map(EpisodeData::len).sum();
        if self.metadata.total_episodes != self.episodes.len() || self.metadata.total_steps != steps
        {
            return Err(Error::invalid(
                at("metadata".into()),
                format!(
                    "total_episodes {} and total_steps {} do not match the data ({} episodes, {steps} steps)",
                    self.metadata.total_episodes,
                    self.metadata.total_steps,
                    self.episodes.len()
                ),
            ));
        }
        Ok(())
    }

    /// The normalised score of a return, with the metadata's reference scores.
    pub fn normalized_score(&self, ret: f64) -> Result<f64> {
        match (self.metadata.ref_min_score, self.metadata.ref_max_score) {
            (Some(min), Some(max)) => normalized_score(ret, min, max),
            _ => Err(Error::parameter(
                "ref_min_score/ref_max_score",
                format!(
                    "data set `{}` has no reference scores",
                    self.metadata.dataset_id
                ),
            )),
        }
    }

    /// Flattens the episodes into transitions (Minari pairing, termination-only terminals).
    pub fn transitions(&self) -> Result<Transitions> {
        let obs_dim = self.observation_dim();
        let n = self.metadata.total_steps;
        let mut observations = Vec::with_capacity(n * obs_dim);
        let mut next_observations = Vec::with_capacity(n * obs_dim);
        let mut rewards = Vec::with_capacity(n);
        let mut terminals = Vec::with_capacity(n);
        let mut timeouts = Vec::with_capacity(n);
        let mut continuous = Vec::new();
        let mut discrete = Vec::new();
        let mut action_dim = 0;
        let mut is_discrete = false;
        for e in &self.episodes {
            for t in 0..e.len() {
                observations.extend_from_slice(&e.observations[t]);
                next_observations.extend_from_slice(&e.observations[t + 1]);
                rewards.push(e.rewards[t] as f32);
                terminals.push(e.terminations[t]);
                timeouts.push(e.truncations[t]);
            }
            match &e.actions {
                Actions::Continuous(rows) => {
                    action_dim = rows[0].len();
                    rows.iter().for_each(|r| continuous.extend_from_slice(r));
                }
                Actions::Discrete(a) => {
                    is_discrete = true;
                    discrete.extend_from_slice(a);
                }
            }
        }
        let actions = if is_discrete {
            TransitionActions::Discrete(discrete)
        } else {
            TransitionActions::Continuous {
                dim: action_dim,
                values: continuous,
            }
        };
        Transitions::new(
            obs_dim,
            observations,
            actions,
            rewards,
            next_observations,
            terminals,
            timeouts,
        )
    }
}

fn kind_name(discrete: bool) -> &'static str {
    if discrete {
        "discrete"
    } else {
        "continuous"
    }
}

/// The actions of flat transitions: row-major continuous values or discrete indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionActions {
    /// `len × dim` floats, row-major.
    Continuous {
        /// Action width.
        dim: usize,
        /// The values, row-major.
        values: Vec<f32>,
    },
    /// One index per transition.
    Discrete(Vec<u32>),
}

/// Flat transitions `(s, a, r, s', terminal)`, row-major `f32`, ready for minibatches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transitions {
    /// Observation width.
    pub obs_dim: usize,
    /// `len × obs_dim` observations.
    pub observations: Vec<f32>,
    /// The actions.
    pub actions: TransitionActions,
    /// `len` rewards.
    pub rewards: Vec<f32>,
    /// `len × obs_dim` next observations.
    pub next_observations: Vec<f32>,
    /// `len` flags: the next state is terminal (termination only; no bootstrapping past it).
    pub terminals: Vec<bool>,
    /// `len` flags: the episode was truncated after this step (bootstrapping continues).
    pub timeouts: Vec<bool>,
}

impl Transitions {
    /// Checked transitions: every column has `len` rows of the right width, all values finite.
    pub fn new(
        obs_dim: usize,
        observations: Vec<f32>,
        actions: TransitionActions,
        rewards: Vec<f32>,
        next_observations: Vec<f32>,
        terminals: Vec<bool>,
        timeouts: Vec<bool>,
    ) -> Result<Self> {
        let t = Self {
            obs_dim,
            observations,
            actions,
            rewards,
            next_observations,
            terminals,
            timeouts,
        };
        t.validate()?;
        Ok(t)
    }

    /// Checks the column lengths and widths and that every value is finite (the fields are
    /// public, so learners check again before training).
    pub fn validate(&self) -> Result<()> {
        let at = |field: String| Location::new("<transitions>").field(field);
        let n = self.rewards.len();
        let obs_dim = self.obs_dim;
        if obs_dim == 0 {
            return Err(Error::parameter("obs_dim", "must be positive"));
        }
        let action_len = match &self.actions {
            TransitionActions::Continuous { dim, values } => {
                if *dim == 0 {
                    return Err(Error::parameter("action dim", "must be positive"));
                }
                if values.len() != n * dim {
                    return Err(Error::invalid(
                        at("actions".into()),
                        format!("{} values, expected {n} rows of width {dim}", values.len()),
                    ));
                }
                n
            }
            TransitionActions::Discrete(a) => a.len(),
        };
        let checks = [
            ("observations", self.observations.len(), n * obs_dim),
            (
                "next_observations",
                self.next_observations.len(),
                n * obs_dim,
            ),
            ("actions (rows)", action_len, n),
            ("terminals", self.terminals.len(), n),
            ("timeouts", self.timeouts.len(), n),
        ];
        for (name, got, want) in checks {
            if got != want {
                return Err(Error::invalid(
                    at(name.into()),
                    format!("{got} entries, expected {want} for {n} rewards (observation width {obs_dim})"),
                ));
            }
        }
        let finite = |name: &str, values: &[f32], width: usize| -> Result<()> {
            match values.iter().position(|v| !v.is_finite()) {
                Some(i) => Err(Error::invalid(
                    at(format!("{name}[{}]", i / width)),
                    format!("non-finite value {} at transition {}", values[i], i / width),
                )),
                None => Ok(()),
            }
        };
        finite("rewards", &self.rewards, 1)?;
        finite("observations", &self.observations, obs_dim)?;
        finite("next_observations", &self.next_observations, obs_dim)?;
        if let TransitionActions::Continuous { dim, values } = &self.actions {
            finite("actions", values, *dim)?;
        }
        Ok(())
    }

    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether there are no transitions.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Observation of transition `i`.
    pub fn observation(&self, i: usize) -> &[f32] {
        &self.observations[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Next observation of transition `i`.
    pub fn next_observation(&self, i: usize) -> &[f32] {
        &self.next_observations[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Continuous actions as `(width, row-major values)`, or `None` for discrete actions.
    pub fn continuous_actions(&self) -> Option<(usize, &[f32])> {
        match &self.actions {
            TransitionActions::Continuous { dim, values } => Some((*dim, values)),
            TransitionActions::Discrete(_) => None,
        }
    }
}
