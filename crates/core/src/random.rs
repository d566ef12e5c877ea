//! Seeded generators of random tabular MDPs.

use rand::RngExt;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::rng::{stream_rng, Seed};
use crate::tabular::TabularMdp;

/// A random sparse MDP: each state-action pair moves to `successors` distinct states drawn
/// uniformly, with probabilities proportional to Uniform(0, 1] weights, and has a reward drawn
/// from Uniform[0, 1). Every action is feasible. The same seed gives the same MDP whatever the
/// thread count, because each state draws from its own sub-stream.
pub fn random_sparse_mdp(
    n_states: usize,
    n_actions: usize,
    successors: usize,
    seed: Seed,
) -> Result<TabularMdp> {
    if n_states == 0 || n_states >= u32::MAX as usize {
        return Err(Error::parameter("states", "must be in 1..2^32 − 1"));
    }
    if n_actions == 0 {
        return Err(Error::parameter("actions", "must be at least 1"));
    }
    if successors == 0 || successors > n_states {
        return Err(Error::parameter(
            "successors",
            format!("must be in 1..={n_states} (the number of states)"),
        ));
    }
    let row_len = successors;
    let rows = n_states * n_actions;
    let mut next_state = vec![0u32; rows * row_len];
    let mut probability = vec![0f64; rows * row_len];
    let mut reward = vec![0f64; rows];
    let per_state = n_actions * row_len;
    next_state
        .par_chunks_mut(per_state)
        .zip(probability.par_chunks_mut(per_state))
        .zip(reward.par_chunks_mut(n_actions))
        .enumerate()
        .for_each(|(s, ((next, prob), rew))| {
            let mut rng = stream_rng(seed, s as u64);
            for a in 0..n_actions {
                let next = &mut next[a * row_len..(a + 1) * row_len];
                let mut filled = 0;
                while filled < row_len {
                    let candidate = rng.random_range(0..n_states as u32);
                    if !next[..filled].contains(&candidate) {
                        next[filled] = candidate;
                        filled += 1;
                    }
                }
                next.sort_unstable();
                let prob = &mut prob[a * row_len..(a + 1) * row_len];
                for p in prob.iter_mut() {
                    *p = 1.0 - rng.random::<f64>();
                }
                let total: f64 = prob.iter().sum();
                prob.iter_mut().for_each(|p| *p /= total);
                rew[a] = rng.random::<f64>();
            }
        });
    let row_start = (0..=rows).map(|row| row * row_len).collect();
    Ok(TabularMdp::from_checked_parts(
        n_states,
        n_actions,
        row_start,
        next_state,
        probability,
        reward,
    ))
}

/// A random MDP with integer rewards: each action of each state but the last moves to two
/// successors drawn uniformly (probabilities ¼/¾, ½/½ or ¾/¼) and pays a reward drawn from
/// −3..=3 per transition; the last state is absorbing with reward 0. Integer rewards keep every
/// return on the integer lattice, where distributional DP is exact.
pub fn random_integer_mdp(n_states: usize, n_actions: usize, seed: Seed) -> Result<TabularMdp> {
    if !(2..u32::MAX as usize).contains(&n_states) || n_actions == 0 {
        return Err(Error::parameter(
            "states",
            "need at least 2 states and at least 1 action",
        ));
    }
    let mut rng = crate::rng::rng(seed);
    let mut entries = Vec::with_capacity(2 * n_states * n_actions);
    for s in 0..n_states - 1 {
        for a in 0..n_actions {
            let first = rng.random_range(0..n_states);
            let second = rng.random_range(0..n_states);
            let p = f64::from(rng.random_range(1..4u8)) / 4.0;
            entries.push((s, a, first, p, f64::from(rng.random_range(-3..4i8))));
            entries.push((s, a, second, 1.0 - p, f64::from(rng.random_range(-3..4i8))));
        }
    }
    for a in 0..n_actions {
        entries.push((n_states - 1, a, n_states - 1, 1.0, 0.0));
    }
    TabularMdp::from_entries(n_states, n_actions, &entries)
}
