//! The pair pool of an elicitation and Utility Engineering's rule for choosing the next pairs:
//! the closest utilities among the least-compared items.

use choicelab_core::{Error, Result, Rng};
use rand::seq::SliceRandom;

/// Where each unordered pair of items stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Not yet asked, available for training.
    Pool,
    /// Asked, part of the training data.
    Asked,
    /// Held out for evaluation, never trained on.
    HeldOut,
}

/// Every unordered pair {a, b} of n items, a < b, with its status and the items' degrees.
#[derive(Debug, Clone)]
pub struct PairPool {
    n: usize,
    pairs: Vec<(u32, u32)>,
    status: Vec<Status>,
    degree: Vec<usize>,
}

impl PairPool {
    /// All n(n−1)/2 pairs of n ≥ 3 items, none asked.
    pub fn new(n: usize) -> Result<Self> {
        if n < 3 {
            return Err(Error::parameter(
                "items",
                format!("an elicitation needs at least 3 items, got {n}"),
            ));
        }
        let pairs: Vec<(u32, u32)> = (0..n as u32)
            .flat_map(|a| (a + 1..n as u32).map(move |b| (a, b)))
            .collect();
        Ok(Self {
            n,
            status: vec![Status::Pool; pairs.len()],
            pairs,
            degree: vec![0; n],
        })
    }

    /// Index of pair {a, b}, a ≠ b.
    fn index(&self, a: u32, b: u32) -> usize {
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        let (a, b, n) = (a as usize, b as usize, self.n);
        a * n - a * (a + 1) / 2 + (b - a - 1)
    }

    /// Holds out `fraction` of all pairs, at most `max` of them, drawn by `rng`.
    pub fn hold_out(&mut self, fraction: f64, max: usize, rng: &mut Rng) -> Vec<(u32, u32)> {
        let count = ((fraction * self.pairs.len() as f64) as usize).min(max);
        let mut order: Vec<usize> = (0..self.pairs.len()).collect();
        let (chosen, _) = order.partial_shuffle(rng, count);
        let mut held: Vec<usize> = chosen.to_vec();
        held.sort_unstable();
        held.into_iter()
            .map(|k| {
                self.status[k] = Status::HeldOut;
                self.pairs[k]
            })
            .collect()
    }

    /// A random 2-regular graph of pool pairs: a Hamiltonian cycle through a random
    /// permutation, redrawn while it would use a held-out pair (up to 10,000 draws).
    pub fn two_regular(&self, rng: &mut Rng) -> Result<Vec<(u32, u32)>> {
        let mut order: Vec<u32> = (0..self.n as u32).collect();
        for _ in 0..10_000 {
            order.shuffle(rng);
            let cycle: Vec<(u32, u32)> = (0..self.n)
                .map(|k| (order[k], order[(k + 1) % self.n]))
                .collect();
            if cycle
                .iter()
                .all(|&(a, b)| self.status[self.index(a, b)] == Status::Pool)
            {
                return Ok(cycle);
            }
        }
        Err(Error::parameter(
            "holdout",
            "no 2-regular starting graph avoids the held-out pairs; hold out fewer pairs",
        ))
    }

    /// Records pair {a, b} as asked.
    pub fn mark_asked(&mut self, a: u32, b: u32) {
        let k = self.index(a, b);
        if self.status[k] != Status::Asked {
            self.status[k] = Status::Asked;
            self.degree[a as usize] += 1;
            self.degree[b as usize] += 1;
        }
    }

    /// Pairs not yet asked nor held out.
    pub fn remaining(&self) -> Vec<(u32, u32)> {
        (0..self.pairs.len())
            .filter(|&k| self.status[k] == Status::Pool)
            .map(|k| self.pairs[k])
            .collect()
    }

    /// How many pairs each item has been asked in.
    pub fn degrees(&self) -> &[usize] {
        &self.degree
    }
}

/// Utility Engineering's active rule: draw `round_size` pairs uniformly from those in the
/// bottom `delta_share` of |μ_a − μ_b| and the bottom `degree_share` of summed degree,
/// widening both shares by `widen` up to `tries` times when too few qualify, then topping up
/// with uniformly random remaining pairs.
#[derive(Debug, Clone)]
pub struct ActiveSelection {
    /// Pairs added per round (500).
    pub round_size: usize,
    /// Share of remaining pairs with the smallest |Δμ| that qualify (0.10).
    pub delta_share: f64,
    /// Share of remaining pairs with the smallest summed degree that qualify (0.20).
    pub degree_share: f64,
    /// Factor both shares grow by when too few pairs qualify (1.5).
    pub widen: f64,
    /// Attempts, the first included, before topping up at random (5).
    pub tries: usize,
}

impl Default for ActiveSelection {
    fn default() -> Self {
        Self {
            round_size: 500,
            delta_share: 0.10,
            degree_share: 0.20,
            widen: 1.5,
            tries: 5,
        }
    }
}

impl ActiveSelection {
    /// The next round's pairs from `pool`'s remaining pairs, given the current means `mu`.
    pub fn select(&self, pool: &PairPool, mu: &[f64], rng: &mut Rng) -> Vec<(u32, u32)> {
        let remaining = pool.remaining();
        let wanted = self.round_size.min(remaining.len());
        let delta: Vec<f64> = remaining
            .iter()
            .map(|&(a, b)| (mu[a as usize] - mu[b as usize]).abs())
            .collect();
        let degree: Vec<f64> = remaining
            .iter()
            .map(|&(a, b)| (pool.degrees()[a as usize] + pool.degrees()[b as usize]) as f64)
            .collect();
        let (mut delta_share, mut degree_share) = (self.delta_share, self.degree_share);
        let mut qualified = Vec::new();
        for _ in 0..self.tries.max(1) {
            let delta_cut = quantile(&delta, delta_share);
            let degree_cut = quantile(&degree, degree_share);
            qualified = (0..remaining.len())
                .filter(|&k| delta[k] <= delta_cut && degree[k] <= degree_cut)
                .collect();
            if qualified.len() >= wanted {
                let (chosen, _) = qualified.partial_shuffle(rng, wanted);
                return chosen.iter().map(|&k| remaining[k]).collect();
            }
            delta_share = (delta_share * self.widen).min(1.0);
            degree_share = (degree_share * self.widen).min(1.0);
        }
        let mut taken = vec![false; remaining.len()];
        qualified.iter().for_each(|&k| taken[k] = true);
        let mut rest: Vec<usize> = (0..remaining.len()).filter(|&k| !taken[k]).collect();
        let (top_up, _) = rest.partial_shuffle(rng, wanted - qualified.len());
        qualified
            .iter()
            .chain(top_up.iter())
            .map(|&k| remaining[k])
            .collect()
    }
}

/// `round_size` pairs drawn uniformly from the remaining ones: the random baseline.
pub fn select_random(pool: &PairPool, round_size: usize, rng: &mut Rng) -> Vec<(u32, u32)> {
    let mut remaining = pool.remaining();
    let wanted = round_size.min(remaining.len());
    let (chosen, _) = remaining.partial_shuffle(rng, wanted);
    chosen.to_vec()
}

/// The `share`-quantile of `values` (the largest value among the lowest ⌈share·n⌉).
fn quantile(values: &[f64], share: f64) -> f64 {
    if values.is_empty() {
        return f64::NEG_INFINITY;
    }
    let mut sorted = values.to_vec();
    let k = ((share * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    let (_, kth, _) = sorted.select_nth_unstable_by(k, f64::total_cmp);
    *kth
}

#[cfg(test)]
mod tests {
    use super::*;
    use choicelab_core::rng;

    #[test]
    fn pair_indices_cover_every_pair_once() {
        let pool = PairPool::new(7).unwrap();
        for (k, &(a, b)) in pool.pairs.iter().enumerate() {
            assert_eq!(pool.index(a, b), k);
            assert_eq!(pool.index(b, a), k);
        }
    }

    #[test]
    fn start_graph_is_two_regular_and_avoids_the_holdout() {
        let mut pool = PairPool::new(30).unwrap();
        let held = pool.hold_out(0.05, 1000, &mut rng(42));
        assert_eq!(held.len(), 21);
        let cycle = pool.two_regular(&mut rng(1)).unwrap();
        assert_eq!(cycle.len(), 30);
        for &(a, b) in &cycle {
            pool.mark_asked(a, b);
            assert!(!held.contains(&(a.min(b), a.max(b))));
        }
        assert!(pool.degrees().iter().all(|&d| d == 2));
        assert_eq!(pool.remaining().len(), 435 - 21 - 30);
    }

    #[test]
    fn active_rounds_prefer_close_and_rarely_compared_pairs() {
        let n = 40;
        let mut pool = PairPool::new(n).unwrap();
        for (a, b) in pool.two_regular(&mut rng(3)).unwrap() {
            pool.mark_asked(a, b);
        }
        let mu: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let rule = ActiveSelection {
            round_size: 20,
            ..ActiveSelection::default()
        };
        let chosen = rule.select(&pool, &mu, &mut rng(4));
        assert_eq!(chosen.len(), 20);
        let mean_gap = |pairs: &[(u32, u32)]| {
            pairs
                .iter()
                .map(|&(a, b)| a.abs_diff(b) as f64)
                .sum::<f64>()
                / pairs.len() as f64
        };
        let random = select_random(&pool, 20, &mut rng(4));
        assert!(mean_gap(&chosen) < mean_gap(&random) / 3.0);
        let again = rule.select(&pool, &mu, &mut rng(4));
        assert_eq!(chosen, again);
    }
}
