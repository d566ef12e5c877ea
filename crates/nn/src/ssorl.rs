//! SS-ORL's data pipeline (Zheng, Henaff, Amos and Grover, ICML 2023): split a data set by
//! trajectory into a labelled part and an action-free part, fit an [`InverseDynamics`] model on
//! the labelled part, write proxy actions into the rest, and train any offline learner on the
//! union.
//!
//! The paper's default regime labels 10% of the trajectories, all drawn from those whose
//! return lies below the median. The steps, with `data: Episodes`:
//! 1. `let (l, u) = split_labelled(&data, 0.1, LabelSource::LowReturnHalf, seed)?;`
//! 2. `let (idm, curve) = IdmParams { hidden: vec![256, 256], ..Default::default() }.fit(&l)?;`
//! 3. `let idm_mse = idm.action_mse(&u)?;` (the unlabelled part keeps its recorded actions,
//!    so the proxy labels' error can be reported; learners never see them);
//! 4. `let train = proxy_labelled_union(&l, &u, &idm)?.transitions()?;` and, e.g.,
//!    `Td3BcParams::default().fit(&train)`.
//!
//! The labelled-only arm trains on `l.transitions()`, the fully labelled oracle on
//! `data.transitions()`.
//!
//! Deviation from the reference code (facebookresearch/ssorl, `data.py`), which sorts the
//! trajectories by return and draws `⌊share · N⌋` of the `⌊N / 2⌋` lowest: here the count is
//! `⌈share · N⌉` (at least one) and the low half is every trajectory whose return is at or
//! below the median, so ties at the median all count.

use std::collections::HashSet;

use choicelab_core::episodes::{Actions, EpisodeData, Episodes};
use choicelab_core::{rng, Rng, Seed};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::idm::{proxy_name, InverseDynamics};

/// Which trajectories the labelled share is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// Those whose return is at or below the median return (the paper's default).
    LowReturnHalf,
    /// Those whose return is at or above the median return (an ablation).
    HighReturnHalf,
    /// All trajectories (an ablation).
    Uniform,
}

impl LabelSource {
    /// The source's name in errors.
    fn describe(self, median: f64) -> String {
        match self {
            LabelSource::LowReturnHalf => format!("have a return at or below the median {median}"),
            LabelSource::HighReturnHalf => {
                format!("have a return at or above the median {median}")
            }
            LabelSource::Uniform => "exist".into(),
        }
    }
}

/// Splits `episodes` into `(labelled, unlabelled)`: `⌈share · N⌉` episodes (at least one)
/// drawn uniformly without replacement, seeded, from those `from` allows; the rest are the
/// unlabelled part. `share = 1` labels everything. Both parts keep the data set's order, ids,
/// metadata (totals recomputed) and recorded actions; the unlabelled part's actions serve only
/// to measure proxy labels ([`InverseDynamics::action_mse`]).
pub fn split_labelled(
    episodes: &Episodes,
    share: f64,
    from: LabelSource,
    seed: Seed,
) -> Result<(Episodes, Episodes)> {
    episodes.validate("<ssorl split>")?;
    let n = episodes.episodes.len();
    if n == 0 {
        return Err(Error::InvalidData("no episodes to split".into()));
    }
    if !(share > 0.0 && share <= 1.0) {
        return Err(Error::parameter(
            "share",
            format!("{share} is outside (0, 1]"),
        ));
    }
    let part = |chosen: &dyn Fn(usize) -> bool| -> Result<Episodes> {
        let picked = episodes
            .episodes
            .iter()
            .enumerate()
            .filter(|(i, _)| chosen(*i))
            .map(|(_, e)| e.clone())
            .collect();
        Ok(Episodes::new(episodes.metadata.clone(), picked)?)
    };
    if share == 1.0 {
        return Ok((part(&|_| true)?, part(&|_| false)?));
    }
    // Rounded up, ignoring floating-point noise such as 0.1 · 30 = 3.0000000000000004.
    let exact = share * n as f64;
    let count = ((exact - 1e-9 * exact.max(1.0)).ceil() as usize).max(1);
    let returns: Vec<f64> = episodes
        .episodes
        .iter()
        .map(EpisodeData::total_reward)
        .collect();
    let median = median(&returns);
    let pool: Vec<usize> = (0..n)
        .filter(|&i| match from {
            LabelSource::LowReturnHalf => returns[i] <= median,
            LabelSource::HighReturnHalf => returns[i] >= median,
            LabelSource::Uniform => true,
        })
        .collect();
    if count > pool.len() {
        return Err(Error::InvalidData(format!(
            "{count} labelled episodes requested (share {share} of {n}) but only {} {}",
            pool.len(),
            from.describe(median)
        )));
    }
    let mut chosen: Vec<usize> = draw_subset(&mut rng(seed), pool.len(), count)
        .into_iter()
        .map(|j| pool[j])
        .collect();
    chosen.sort_unstable();
    let labelled = part(&|i| chosen.binary_search(&i).is_ok())?;
    let unlabelled = part(&|i| chosen.binary_search(&i).is_err())?;
    Ok((labelled, unlabelled))
}

/// The training set of SS-ORL: the `labelled` episodes with their recorded actions, then the
/// `unlabelled` ones with the IDM's proxy labels ([`InverseDynamics::label`]). Ids stay as they
/// are when the two parts' ids are disjoint; otherwise the unlabelled episodes are renumbered
/// from one past the largest labelled id. The metadata is the labelled part's (the unlabelled
/// part's when no episode is labelled; reference scores taken from whichever has them), its
/// `algorithm_name` marked as proxy-labelled when any episode is.
pub fn proxy_labelled_union(
    labelled: &Episodes,
    unlabelled: &Episodes,
    idm: &InverseDynamics,
) -> Result<Episodes> {
    labelled.validate("<labelled>")?;
    if let Some(first) = labelled.episodes.first() {
        let d = labelled.observation_dim();
        if d != idm.obs_dim() {
            return Err(Error::InvalidData(format!(
                "labelled observations have width {d}, the IDM's have width {}",
                idm.obs_dim()
            )));
        }
        match &first.actions {
            Actions::Continuous(rows) if rows[0].len() == idm.action_dim() => {}
            Actions::Continuous(rows) => {
                return Err(Error::InvalidData(format!(
                    "labelled actions have width {}, the IDM predicts width {}",
                    rows[0].len(),
                    idm.action_dim()
                )))
            }
            Actions::Discrete(_) => {
                return Err(Error::InvalidData(
                    "labelled actions are discrete, the IDM predicts continuous ones".into(),
                ))
            }
        }
    }
    let mut episodes = labelled.episodes.clone();
    let mut metadata = labelled.metadata.clone();
    if !unlabelled.episodes.is_empty() {
        let proxy = idm.label(unlabelled)?;
        let ids: HashSet<u64> = episodes.iter().map(|e| e.id).collect();
        let renumber = proxy.episodes.iter().any(|e| ids.contains(&e.id));
        let first_id = episodes.iter().map(|e| e.id).max().map_or(0, |m| m + 1);
        for (i, mut e) in proxy.episodes.into_iter().enumerate() {
            if renumber {
                e.id = first_id.checked_add(i as u64).ok_or_else(|| {
                    Error::InvalidData("episode ids overflow when renumbering".into())
                })?;
            }
            episodes.push(e);
        }
        if labelled.episodes.is_empty() {
            metadata = proxy.metadata;
        }
        metadata.algorithm_name = proxy_name(&metadata.algorithm_name);
        metadata.ref_min_score = metadata.ref_min_score.or(unlabelled.metadata.ref_min_score);
        metadata.ref_max_score = metadata.ref_max_score.or(unlabelled.metadata.ref_max_score);
    }
    if episodes.is_empty() {
        return Err(Error::InvalidData(
            "both the labelled and the unlabelled part are empty".into(),
        ));
    }
    Ok(Episodes::new(metadata, episodes)?)
}

/// `k` distinct indices of `0..n` drawn uniformly (partial Fisher–Yates), sorted.
pub(crate) fn draw_subset(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = rng.random_range(i..n);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

/// The median of non-empty finite `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    }
}
