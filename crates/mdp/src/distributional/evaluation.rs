//! The law of the return under a given policy: categorical evaluation of Markov policies, the
//! exact finite-support law of any policy over a horizon, and seeded Monte Carlo.

use std::collections::BTreeMap;

use choicelab_core::{stream_rng, Error, Result, Seed, TabularMdp};
use rand::RngExt;
use rayon::prelude::*;

use super::atoms::{check_coverage, check_horizon, Atoms};
use super::augmented::AugmentedSolution;
use super::outcomes::{Outcome, Outcomes};
use crate::solution::check_policy;

/// A policy that may read how many decisions were made and the current stock.
pub trait StockPolicy: Sync {
    /// The action after `t` decisions in state `s` with stock `stock`.
    fn action(&self, t: usize, s: usize, stock: f64) -> usize;
}

impl StockPolicy for AugmentedSolution {
    fn action(&self, t: usize, s: usize, stock: f64) -> usize {
        AugmentedSolution::action(self, t, s, stock)
    }
}

/// A stationary Markov policy: one action per state, blind to the stock and the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkovPolicy(pub Vec<usize>);

impl StockPolicy for MarkovPolicy {
    /// The action of state `s` (an out-of-range marker when the policy is too short, which
    /// execution reports as an error).
    fn action(&self, _: usize, s: usize, _: f64) -> usize {
        self.0.get(s).copied().unwrap_or(usize::MAX)
    }
}

/// The categorical law of the return from every state under the stationary Markov `policy`:
/// `horizon` backups from G = 0, or (γ < 1, no horizon) backups until no law moves by 1e-12 in
/// Wasserstein-1 distance. `laws[s]` has one probability per atom.
pub fn markov_laws(
    mdp: &TabularMdp,
    gamma: f64,
    horizon: Option<usize>,
    atoms: &Atoms,
    policy: &[usize],
) -> Result<Vec<Vec<f64>>> {
    check_horizon(gamma, horizon)?;
    check_policy(mdp, policy)?;
    check_coverage(atoms, mdp, gamma, horizon)?;
    let outcomes = Outcomes::new(mdp);
    Ok(markov_laws_unchecked(
        &outcomes, gamma, horizon, atoms, policy,
    ))
}

/// [`markov_laws`] for inputs already checked.
pub(crate) fn markov_laws_unchecked(
    outcomes: &Outcomes,
    gamma: f64,
    horizon: Option<usize>,
    atoms: &Atoms,
    policy: &[usize],
) -> Vec<Vec<f64>> {
    const MAX_SWEEPS: usize = 1_000_000;
    let m = atoms.len();
    let mut zero = vec![0.0; m];
    atoms.project_into(&mut zero, 0.0, 1.0);
    let n = outcomes.n_states();
    let mut laws = vec![zero; n];
    let sweeps = horizon.unwrap_or(MAX_SWEEPS);
    for _ in 0..sweeps {
        let next: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|s| {
                let mut law = vec![0.0; m];
                for o in outcomes.of(s, policy[s]) {
                    atoms.push_forward(&mut law, &laws[o.next], o.reward, gamma, o.probability);
                }
                law
            })
            .collect();
        let change = next
            .iter()
            .zip(&laws)
            .map(|(new, old)| wasserstein(new, old, atoms.step()))
            .fold(0.0, f64::max);
        laws = next;
        if horizon.is_none() && change < 1e-12 {
            break;
        }
    }
    laws
}

/// Wasserstein-1 distance between two laws on the same atoms.
fn wasserstein(a: &[f64], b: &[f64], step: f64) -> f64 {
    let mut gap = 0.0;
    let mut distance = 0.0;
    for (x, y) in a.iter().zip(b) {
        gap += x - y;
        distance += f64::abs(gap);
    }
    distance * step
}

/// Where and how an episode runs: an episode ends in an absorbing state or after `horizon`
/// decisions; its return is G = Σ_{t<horizon} γᵗ r_t and the stock follows c ← (c + r)/γ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rollout {
    /// The start state.
    pub start: usize,
    /// The initial stock c₀ (−b for CVaR, −threshold, −target; 0 for stock-blind policies).
    pub initial_stock: f64,
    /// Discount γ ∈ [0, 1].
    pub gamma: f64,
    /// Decisions at most.
    pub horizon: usize,
}

impl Rollout {
    fn check(&self, mdp: &TabularMdp) -> Result<()> {
        check_horizon(self.gamma, Some(self.horizon))?;
        if self.start >= mdp.n_states() {
            return Err(Error::parameter(
                "start",
                format!("state {} out of range 0..{}", self.start, mdp.n_states()),
            ));
        }
        if !self.initial_stock.is_finite() {
            return Err(Error::parameter(
                "initial_stock",
                format!("{} is not finite", self.initial_stock),
            ));
        }
        Ok(())
    }
}

/// The exact law of the return of `rollout` under `policy`, by propagating every (state,
/// stock, return so far) forward. Sorted (value, probability) pairs; an error if more than
/// `max_support` distinct situations arise.
pub fn exact_return_law(
    mdp: &TabularMdp,
    policy: &dyn StockPolicy,
    rollout: &Rollout,
    max_support: usize,
) -> Result<Vec<(f64, f64)>> {
    rollout.check(mdp)?;
    let Rollout {
        start,
        initial_stock,
        gamma,
        horizon,
    } = *rollout;
    let outcomes = Outcomes::new(mdp);
    let absorbing = outcomes.absorbing();
    // Keys use f64 bits: equal sums merge exactly, and the order is deterministic.
    let mut live: BTreeMap<(usize, u64, u64), f64> = BTreeMap::new();
    let mut finished: BTreeMap<u64, f64> = BTreeMap::new();
    live.insert((start, initial_stock.to_bits(), 0f64.to_bits()), 1.0);
    let mut discount = 1.0;
    for t in 0..horizon {
        let mut next: BTreeMap<(usize, u64, u64), f64> = BTreeMap::new();
        for (&(s, c_bits, g_bits), &mass) in &live {
            let (c, g) = (f64::from_bits(c_bits), f64::from_bits(g_bits));
            if absorbing[s] {
                *finished.entry(g_bits).or_default() += mass;
                continue;
            }
            let a = checked_action(policy, &outcomes, t, s, c)?;
            for o in outcomes.of(s, a) {
                if o.probability == 0.0 {
                    continue;
                }
                let stock = if gamma > 0.0 {
                    (c + o.reward) / gamma
                } else {
                    c
                };
                let key = (o.next, stock.to_bits(), (g + discount * o.reward).to_bits());
                *next.entry(key).or_default() += mass * o.probability;
            }
        }
        if next.len() > max_support {
            return Err(Error::parameter(
                "max_support",
                format!(
                    "more than {max_support} distinct (state, stock, return) situations after {} \
                     decisions; the law is too large to enumerate",
                    t + 1
                ),
            ));
        }
        live = next;
        discount *= gamma;
    }
    for (&(_, _, g_bits), &mass) in &live {
        *finished.entry(g_bits).or_default() += mass;
    }
    let mut law: Vec<(f64, f64)> = finished
        .into_iter()
        .map(|(bits, p)| (f64::from_bits(bits), p))
        .collect();
    law.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(law)
}

/// The returns of `episodes` seeded Monte Carlo runs of `rollout` under `policy`. The same seed
/// gives the same returns at any thread count (each block of episodes draws from its own
/// stream).
pub fn monte_carlo_returns(
    mdp: &TabularMdp,
    policy: &dyn StockPolicy,
    rollout: &Rollout,
    episodes: usize,
    seed: Seed,
) -> Result<Vec<f64>> {
    const BLOCK: usize = 1024;
    rollout.check(mdp)?;
    let Rollout {
        start,
        initial_stock,
        gamma,
        horizon,
    } = *rollout;
    if episodes == 0 {
        return Err(Error::parameter("episodes", "must be at least 1"));
    }
    let outcomes = Outcomes::new(mdp);
    let absorbing = outcomes.absorbing();
    let blocks: Vec<Result<Vec<f64>>> = (0..episodes.div_ceil(BLOCK))
        .into_par_iter()
        .map(|block| {
            let mut rng = stream_rng(seed, block as u64);
            let count = BLOCK.min(episodes - block * BLOCK);
            (0..count)
                .map(|_| {
                    let (mut s, mut c, mut g, mut discount) = (start, initial_stock, 0.0, 1.0);
                    for t in 0..horizon {
                        if absorbing[s] {
                            break;
                        }
                        let a = checked_action(policy, &outcomes, t, s, c)?;
                        let o = sample(outcomes.of(s, a), rng.random::<f64>());
                        g += discount * o.reward;
                        c = if gamma > 0.0 {
                            (c + o.reward) / gamma
                        } else {
                            c
                        };
                        discount *= gamma;
                        s = o.next;
                    }
                    Ok(g)
                })
                .collect()
        })
        .collect();
    let mut returns = Vec::with_capacity(episodes);
    for block in blocks {
        returns.extend(block?);
    }
    Ok(returns)
}

/// The outcome that uniform draw `u` selects.
fn sample(outcomes: &[Outcome], mut u: f64) -> Outcome {
    for o in outcomes {
        if u < o.probability {
            return *o;
        }
        u -= o.probability;
    }
    *outcomes
        .iter()
        .rev()
        .find(|o| o.probability > 0.0)
        .unwrap_or(&outcomes[0])
}

fn checked_action(
    policy: &dyn StockPolicy,
    outcomes: &Outcomes,
    t: usize,
    s: usize,
    c: f64,
) -> Result<usize> {
    let a = policy.action(t, s, c);
    if a < outcomes.n_actions() && outcomes.is_feasible(s, a) {
        Ok(a)
    } else {
        Err(Error::parameter(
            "policy",
            format!("action {a} is not feasible in state {s}"),
        ))
    }
}

/// Mean and CVaR of Monte Carlo returns with their standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReturnSummary {
    /// Number of episodes.
    pub episodes: usize,
    /// Sample mean.
    pub mean: f64,
    /// Its standard error.
    pub mean_se: f64,
    /// The tail level α of the CVaR.
    pub alpha: f64,
    /// Sample CVaR_α (mean of the lowest α-fraction, the boundary sample counted in part).
    pub cvar: f64,
    /// Its asymptotic standard error, sd(v + min(G − v, 0)/α)/√n at the sample α-quantile v.
    pub cvar_se: f64,
}

/// Summarises Monte Carlo returns at CVaR level `alpha` ∈ (0, 1].
pub fn summarise_returns(samples: &[f64], alpha: f64) -> Result<ReturnSummary> {
    if samples.is_empty() {
        return Err(Error::parameter("samples", "no returns to summarise"));
    }
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(Error::parameter(
            "alpha",
            format!("CVaR level {alpha} must be in (0, 1]"),
        ));
    }
    let n = samples.len() as f64;
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mean = sorted.iter().sum::<f64>() / n;
    let sd = |values: &mut dyn Iterator<Item = f64>, centre: f64| -> f64 {
        let total: f64 = values.map(|v| (v - centre).powi(2)).sum();
        (total / (n - 1.0).max(1.0)).sqrt()
    };
    let mean_se = sd(&mut sorted.iter().copied(), mean) / n.sqrt();
    let pairs: Vec<(f64, f64)> = sorted.iter().map(|&g| (g, 1.0 / n)).collect();
    let cvar = super::atoms::cvar_of_sorted(&pairs, alpha);
    let quantile = sorted[((alpha * n).ceil() as usize).clamp(1, sorted.len()) - 1];
    let tail: Vec<f64> = sorted
        .iter()
        .map(|&g| quantile + (g - quantile).min(0.0) / alpha)
        .collect();
    let tail_mean = tail.iter().sum::<f64>() / n;
    let cvar_se = sd(&mut tail.iter().copied(), tail_mean) / n.sqrt();
    Ok(ReturnSummary {
        episodes: samples.len(),
        mean,
        mean_se,
        alpha,
        cvar,
        cvar_se,
    })
}
