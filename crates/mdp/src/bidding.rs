//! Budget-constrained bidding as an MDP (Cai et al., 2017): the bid landscape, the value
//! function V(n, b) of n auctions left with budget b, and the bidding rules that read it.
//!
//! With market-price law m(δ), δ = 0..=max price, average click rate θ̄ and objective
//! v₁·clicks − v₀·cost (clicks: v₁ = 1, v₀ = 0), V₀ ≡ 0 and
//!
//! V_n(b) = γV_{n−1}(b) + Σ_{δ=0}^{a_n(b)} m(δ)[v₁θ̄ + γ(V_{n−1}(b−δ) − V_{n−1}(b)) − v₀δ],
//!
//! where a_n(b) is the largest bid whose bracket is non-negative (found, as the reference does,
//! by one pointer sweeping down from the top budget), V_n(0) = 0, and once V_n(b) comes within
//! 1e-10 of the budget-free value V_max(n) every larger budget shares it (the early exit, which
//! also keeps the table compact: row n stores only the budgets below its exit).
//!
//! ```
//! use choicelab_mdp::bidding::{BidLandscape, BiddingDp};
//! // Prices 0..=2, equally likely; 3 auctions, budget 2, average click rate 0.1.
//! let landscape = BidLandscape::from_counts(&[1, 1, 1], 0.0).unwrap();
//! let table = BiddingDp::clicks(3, 2, 0.1).solve(&landscape).unwrap();
//! // With one auction left every price is affordable: V₁(2) = θ̄.
//! assert!((table.value(1, 2) - 0.1).abs() < 1e-15);
//! assert!(table.value(2, 2) <= 0.2 + 1e-15);
//! ```

use choicelab_core::{Error, Result};
use rayon::prelude::*;

/// Distance to V_max(n) below which a budget no longer binds.
const EXIT_PRECISION: f64 = 1e-10;
/// Budgets handed to one rayon task.
const CHUNK: usize = 512;
/// Budgets filled before looking for the early exit.
const BLOCK: usize = 8 * CHUNK;

/// The market-price law m(δ), δ = 0..=max price, from a price histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct BidLandscape {
    pdf: Vec<f64>,
}

impl BidLandscape {
    /// m(δ) = (count(δ) + laplace) / (total + bins·laplace): the reference's add-one smoothing
    /// with `laplace` = 1.
    pub fn from_counts(counts: &[u64], laplace: f64) -> Result<Self> {
        if counts.is_empty() {
            return Err(Error::parameter("price counts", "no price bins"));
        }
        if !(laplace >= 0.0 && laplace.is_finite()) {
            return Err(Error::parameter(
                "laplace",
                format!("{laplace} must be finite and non-negative"),
            ));
        }
        let total: u64 = counts.iter().sum();
        let denominator = total as f64 + counts.len() as f64 * laplace;
        if denominator <= 0.0 {
            return Err(Error::parameter(
                "price counts",
                "all bins are empty and there is no smoothing",
            ));
        }
        Ok(Self {
            pdf: counts
                .iter()
                .map(|&c| (c as f64 + laplace) / denominator)
                .collect(),
        })
    }

    /// The highest market price, and so the highest useful bid.
    pub fn max_price(&self) -> usize {
        self.pdf.len() - 1
    }

    /// m(δ) for δ = 0..=max price.
    pub fn pdf(&self) -> &[f64] {
        &self.pdf
    }
}

/// The bidding MDP's settings: N auctions, budget B, θ̄ and the objective.
#[derive(Debug, Clone, PartialEq)]
pub struct BiddingDp {
    /// Auctions per episode N (the table holds n = 0..N−1, what a bid at n ≤ N reads).
    pub auctions: usize,
    /// Budget B.
    pub budget: usize,
    /// Average click rate θ̄ of the training data.
    pub theta_avg: f64,
    /// Value of a click v₁.
    pub click_value: f64,
    /// Weight of cost v₀ (0 for the click objective).
    pub cost_weight: f64,
    /// Discount γ ∈ [0, 1].
    pub gamma: f64,
}

/// V(n, b) for n = 0..N−1 and b = 0..=B, stored up to each row's early exit.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueTable {
    rows: Vec<Vec<f64>>,
    v_max: Vec<f64>,
    budget: usize,
}

impl BiddingDp {
    /// The click objective (v₁ = 1, v₀ = 0, γ = 1).
    pub fn clicks(auctions: usize, budget: usize, theta_avg: f64) -> Self {
        Self {
            auctions,
            budget,
            theta_avg,
            click_value: 1.0,
            cost_weight: 0.0,
            gamma: 1.0,
        }
    }

    fn check(&self) -> Result<()> {
        if self.auctions == 0 {
            return Err(Error::parameter("auctions", "need at least one auction"));
        }
        if !(0.0..=1.0).contains(&self.theta_avg) {
            return Err(Error::parameter(
                "theta_avg",
                format!("average click rate {} is not in [0, 1]", self.theta_avg),
            ));
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(Error::parameter(
                "gamma",
                format!("discount {} is not in [0, 1]", self.gamma),
            ));
        }
        for (name, value) in [
            ("click_value", self.click_value),
            ("cost_weight", self.cost_weight),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::parameter(
                    name,
                    format!("{value} must be finite and non-negative"),
                ));
            }
        }
        Ok(())
    }

    /// The bracket v₁θ + γ(V(b−δ) − V(b)) − v₀δ, in the reference's order of operations.
    #[inline]
    fn bracket(&self, theta: f64, difference: f64, delta: usize) -> f64 {
        self.click_value * theta + self.gamma * difference - self.cost_weight * delta as f64
    }

    /// Fills V(n, b) by dynamic programming over `landscape`.
    pub fn solve(&self, landscape: &BidLandscape) -> Result<ValueTable> {
        self.check()?;
        let (budget, max_bid, pdf) = (self.budget, landscape.max_price(), landscape.pdf());
        let top_bid = if self.cost_weight > 0.0 {
            ((self.click_value * self.theta_avg / self.cost_weight) as usize).min(max_bid)
        } else {
            max_bid
        };
        let increment: f64 = (0..=top_bid)
            .map(|delta| pdf[delta] * self.bracket(self.theta_avg, 0.0, delta))
            .sum();
        // Prefix sums turn the bracket sum into a dot product of the price law (reversed) with
        // a window of the previous row: Σ_{δ≤a} m(δ)[v₁θ̄ + γ(V(b−δ) − V(b)) − v₀δ]
        // = v₁θ̄·M(a) − γV(b)·M(a) − v₀·Mδ(a) + γ Σ_{δ≤a} m(δ)V(b−δ).
        let reversed: Vec<f64> = pdf.iter().rev().copied().collect();
        let (mut mass, mut moment) = (Vec::with_capacity(pdf.len()), Vec::with_capacity(pdf.len()));
        let (mut m_sum, mut d_sum) = (0.0, 0.0);
        for (delta, &m) in pdf.iter().enumerate() {
            m_sum += m;
            d_sum += m * delta as f64;
            mass.push(m_sum);
            moment.push(d_sum);
        }
        let mut rows = vec![vec![0.0; budget + 1]];
        let mut v_max = vec![0.0];
        let mut bids = vec![0usize; budget + 1];
        let mut full = vec![0.0; budget + 1];
        let mut previous = vec![0.0; budget + 1];
        for n in 1..self.auctions {
            let stored = &rows[n - 1];
            previous[..stored.len()].copy_from_slice(stored);
            previous[stored.len()..].fill(v_max[n - 1]);
            let previous = &previous;
            // a_n(b): one pointer sweeping down, as the reference does (the bracket falls with δ).
            let mut pointer = budget as isize - 1;
            for b in (1..=budget).rev() {
                while pointer >= 0
                    && self.bracket(
                        self.theta_avg,
                        previous[pointer as usize] - previous[b],
                        b - pointer as usize,
                    ) >= 0.0
                {
                    pointer -= 1;
                }
                bids[b] = if pointer < 0 {
                    max_bid.min(b)
                } else {
                    max_bid.min(b - pointer as usize - 1)
                };
            }
            let cap = self.gamma * v_max[n - 1] + increment;
            // Blocks of budgets in order, each filled in parallel, so the early exit saves the
            // work past it as the reference's sequential loop does.
            let mut row = vec![0.0; 1];
            let mut start = 1;
            while start <= budget {
                let end = (start + BLOCK).min(budget + 1);
                let block = &mut full[start..end];
                block
                    .par_chunks_mut(CHUNK)
                    .enumerate()
                    .for_each(|(chunk, values)| {
                        for (i, value) in values.iter_mut().enumerate() {
                            let b = start + chunk * CHUNK + i;
                            let (here, a) = (previous[b], bids[b]);
                            let window = dot(&reversed[max_bid - a..], &previous[b - a..=b]);
                            *value = self.gamma * here
                                + self.click_value * self.theta_avg * mass[a]
                                - self.gamma * here * mass[a]
                                - self.cost_weight * moment[a]
                                + self.gamma * window;
                        }
                    });
                match block.iter().position(|v| (v - cap).abs() < EXIT_PRECISION) {
                    Some(i) => {
                        row.extend_from_slice(&block[..=i]);
                        break;
                    }
                    None => row.extend_from_slice(block),
                }
                start = end;
            }
            rows.push(row);
            v_max.push(cap);
        }
        Ok(ValueTable {
            rows,
            v_max,
            budget,
        })
    }
}

impl ValueTable {
    /// V(n, b): row n's stored value, or V_max(n) past its early exit.
    #[inline]
    pub fn value(&self, n: usize, b: usize) -> f64 {
        self.rows[n].get(b).copied().unwrap_or(self.v_max[n])
    }

    /// The budget-free value V_max(n).
    pub fn v_max(&self, n: usize) -> f64 {
        self.v_max[n]
    }

    /// Rows n = 0..N−1.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The budget B the table was solved for.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Stored entries (the compact size; a dense table has N·(B+1)).
    pub fn stored(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    /// The optimal bid with n auctions left (1 ≤ n ≤ N) and budget b for an impression of click
    /// rate `theta`: the last δ = 1, 2, … ≤ min(b, max_bid) before the bracket
    /// v₁θ + γ(V(n−1, b−δ) − V(n−1, b)) − v₀δ turns negative (0 if it is negative at δ = 1).
    pub fn bid(&self, dp: &BiddingDp, n: usize, b: usize, theta: f64, max_bid: usize) -> usize {
        let row = n.saturating_sub(1).min(self.rows.len() - 1);
        let here = self.value(row, b);
        let mut bid = 0;
        for delta in 1..=b.min(max_bid) {
            if dp.bracket(theta, self.value(row, b - delta) - here, delta) >= 0.0 {
                bid = delta;
            } else {
                break;
            }
        }
        bid
    }
}

/// Σ aᵢbᵢ with eight running sums in a fixed order: the same bits on every x86-64 machine,
/// vectorised by the compiler (AVX2 where the processor has it, SSE2 otherwise).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_lanes(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    dot_lanes(a, b)
}

#[inline(always)]
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for k in 0..8 {
            sums[k] += x[k] * y[k];
        }
    }
    let mut total =
        ((sums[0] + sums[4]) + (sums[1] + sums[5])) + ((sums[2] + sums[6]) + (sums[3] + sums[7]));
    for (x, y) in a_rest.iter().zip(b_rest) {
        total += x * y;
    }
    total
}

/// Lin-Bid: bid ⌊θ·b₀/θ̄⌋, capped at `max_bid` (the reference's order of operations).
pub fn lin_bid(b0: f64, theta: f64, theta_avg: f64, max_bid: usize) -> usize {
    ((theta * b0 / theta_avg) as usize).min(max_bid)
}

/// Mcpc: bid the impression's expected value at the training cost per click, ⌊θ·CPC⌋, capped
/// at `max_bid`.
pub fn mcpc_bid(theta: f64, cpc: f64, max_bid: usize) -> usize {
    ((theta * cpc) as usize).min(max_bid)
}
