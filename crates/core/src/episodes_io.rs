//! Reading and writing [`Episodes`]: JSON for small cases and the D4RL flat layout.

use std::path::Path;

use crate::episodes::{Actions, DatasetMetadata, EpisodeData, Episodes};
use crate::error::{Error, Location, Result};

/// D4RL's flat arrays (as in its HDF5 files), row-major, one row per step of every episode
/// back to back.
#[derive(Debug, Clone, Copy)]
pub struct D4rlArrays<'a> {
    /// Observation width.
    pub obs_dim: usize,
    /// `n × obs_dim` observations (the state each step starts from).
    pub observations: &'a [f32],
    /// Action width.
    pub action_dim: usize,
    /// `n × action_dim` actions.
    pub actions: &'a [f32],
    /// `n` rewards.
    pub rewards: &'a [f32],
    /// `n` flags: the step ended its episode in a terminal state.
    pub terminals: &'a [bool],
    /// `n` flags: the step ended its episode by the time limit.
    pub timeouts: &'a [bool],
    /// Optional `n × obs_dim` next observations (present in some D4RL files).
    pub next_observations: Option<&'a [f32]>,
}

impl Episodes {
    /// Rebuilds episodes from D4RL's flat layout.
    ///
    /// Episode ends are recovered from the flags: an episode ends at row `i` when
    /// `terminals[i]` or `timeouts[i]` is set; rows after the last flag form a final episode
    /// treated as truncated (the recording stopped). Flags are copied to `terminations` and
    /// `truncations`. The final observation (Minari's row `T + 1`) is not in the flat
    /// `observations`, because the next row is already the next episode's reset, so:
    /// - with `next_observations`, it is `next_observations[i]` and no step is lost;
    /// - without them, a truncated episode gives up its last step, whose starting observation
    ///   becomes the final one and which inherits the truncation (what D4RL's
    ///   `qlearning_dataset` does); an episode left with no step is dropped;
    /// - without them, a terminated episode keeps every step and repeats its last observation
    ///   as the final one; that placeholder is never bootstrapped from, since the step is
    ///   terminal.
    pub fn from_d4rl(metadata: DatasetMetadata, arrays: &D4rlArrays<'_>) -> Result<Self> {
        let at = |field: String| Location::new("<d4rl arrays>").field(field);
        let n = arrays.rewards.len();
        if arrays.obs_dim == 0 || arrays.action_dim == 0 {
            return Err(Error::parameter(
                "obs_dim/action_dim",
                "observation and action widths must be positive",
            ));
        }
        let mut lengths = vec![
            (
                "observations",
                arrays.observations.len(),
                n * arrays.obs_dim,
            ),
            ("actions", arrays.actions.len(), n * arrays.action_dim),
            ("terminals", arrays.terminals.len(), n),
            ("timeouts", arrays.timeouts.len(), n),
        ];
        if let Some(next) = arrays.next_observations {
            lengths.push(("next_observations", next.len(), n * arrays.obs_dim));
        }
        for (name, got, want) in lengths {
            if got != want {
                return Err(Error::invalid(
                    at(name.into()),
                    format!("{got} values, expected {want} for {n} rewards"),
                ));
            }
        }
        if let Some(i) = arrays.rewards.iter().position(|r| !r.is_finite()) {
            return Err(Error::invalid(
                at(format!("rewards[{i}]")),
                format!("non-finite reward {}", arrays.rewards[i]),
            ));
        }
        let obs = |i: usize| arrays.observations[i * arrays.obs_dim..][..arrays.obs_dim].to_vec();
        let act = |i: usize| arrays.actions[i * arrays.action_dim..][..arrays.action_dim].to_vec();
        let mut episodes = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start..n)
                .find(|&i| arrays.terminals[i] || arrays.timeouts[i])
                .unwrap_or(n - 1);
            let terminated = arrays.terminals[end];
            let (last, final_obs) = match arrays.next_observations {
                Some(next) => (end, next[end * arrays.obs_dim..][..arrays.obs_dim].to_vec()),
                None if terminated => (end, obs(end)),
                None => (end.wrapping_sub(1), obs(end)),
            };
            if last != usize::MAX && last >= start {
                let steps = start..=last;
                let mut observations: Vec<Vec<f32>> = steps.clone().map(obs).collect();
                observations.push(final_obs);
                let t = last + 1 - start;
                let mut terminations = vec![false; t];
                let mut truncations = vec![false; t];
                terminations[t - 1] = terminated;
                truncations[t - 1] = arrays.timeouts[end] || !terminated;
                episodes.push(EpisodeData {
                    id: episodes.len() as u64,
                    seed: None,
                    observations,
                    actions: Actions::Continuous(steps.clone().map(act).collect()),
                    rewards: steps.map(|i| f64::from(arrays.rewards[i])).collect(),
                    terminations,
                    truncations,
                });
            }
            start = end + 1;
        }
        let mut metadata = metadata;
        metadata.total_episodes = episodes.len();
        metadata.total_steps = episodes.iter().map(EpisodeData::len).sum();
        let data = Episodes { metadata, episodes };
        data.validate("<d4rl arrays>")?;
        Ok(data)
    }

    /// The data set as pretty JSON (metadata and episodes).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).expect("episodes serialise to JSON")
    }

    /// Parses and checks a data set from JSON; `source` names it in errors.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let data: Episodes = serde_json::from_str(text).map_err(|e| {
            Error::parse(Location::new(source).line(e.line() as u64), e.to_string())
        })?;
        data.validate(source)?;
        Ok(data)
    }

    /// Reads and checks a JSON data set from a file.
    pub fn read_json(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Writes the data set as JSON to a file.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json_string()).map_err(|e| Error::io(path, e))
    }
}
