//! Rank-dependent valuation of lotteries (cumulative prospect theory, Tversky & Kahneman 1992)
//! with analytic derivatives, over outcomes sorted once per lottery.
//!
//! Gains are ranked from the best down and losses from the worst up; outcome i of a branch
//! gets the decision weight π_i = w(c_i) − w(c_{i−1}), c_i the probability of an outcome at
//! least as extreme. With linear weighting π_i = p_i, which gives expected utility.

use serde::{Deserialize, Serialize};

use super::lottery::Lottery;

/// A probability weighting function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// w(p) = p: decision weights are the probabilities.
    Linear,
    /// Prelec (1998): w(p) = exp(−(−ln p)^γ).
    Prelec,
    /// Tversky & Kahneman (1992): w(p) = p^γ / (p^γ + (1 − p)^γ)^{1/γ}.
    TverskyKahneman,
}

impl Weighting {
    /// w(p) at γ.
    pub fn weight(self, p: f64, gamma: f64) -> f64 {
        WeightPoint::new(p).weight(self, gamma).0
    }
}

/// Parameters of the value and weighting functions: v(x) = x^α for gains, −λ(−x)^β for
/// losses; γ of the weighting function for gains and for losses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CptParams {
    /// Curvature α of gains.
    pub alpha: f64,
    /// Curvature β of losses.
    pub beta: f64,
    /// Loss aversion λ.
    pub lambda: f64,
    /// Weighting γ of gains.
    pub gamma_gain: f64,
    /// Weighting γ of losses.
    pub gamma_loss: f64,
    /// The weighting function.
    pub weighting: Weighting,
}

impl CptParams {
    /// α = β = λ = γ = 1 with linear weighting: the expected value.
    pub fn expected_value() -> Self {
        Self {
            alpha: 1.0,
            beta: 1.0,
            lambda: 1.0,
            gamma_gain: 1.0,
            gamma_loss: 1.0,
            weighting: Weighting::Linear,
        }
    }
}

/// A cumulative probability c with the logarithms its weights need.
#[derive(Debug, Clone, Copy)]
struct WeightPoint {
    c: f64,
    ln_c: f64,
    ln_rest: f64,
    /// ln(−ln c), Prelec's exponent base.
    ln_neg_ln_c: f64,
}

impl WeightPoint {
    fn new(c: f64) -> Self {
        let c = c.clamp(0.0, 1.0);
        Self {
            c,
            ln_c: c.ln(),
            ln_rest: (1.0 - c).ln(),
            ln_neg_ln_c: (-c.ln()).ln(),
        }
    }

    /// (w(c), ∂w/∂γ).
    fn weight(&self, weighting: Weighting, gamma: f64) -> (f64, f64) {
        if self.c >= 1.0 {
            return (1.0, 0.0);
        }
        if self.c <= 0.0 {
            return (0.0, 0.0);
        }
        match weighting {
            Weighting::Linear => (self.c, 0.0),
            Weighting::Prelec => {
                if gamma == 1.0 {
                    return (self.c, -self.c * (-self.ln_c) * self.ln_neg_ln_c);
                }
                let s = (gamma * self.ln_neg_ln_c).exp();
                let w = (-s).exp();
                (w, -w * s * self.ln_neg_ln_c)
            }
            Weighting::TverskyKahneman => {
                if gamma == 1.0 {
                    let (c, rest) = (self.c, 1.0 - self.c);
                    return (c, c * (self.ln_c - c * self.ln_c - rest * self.ln_rest));
                }
                let (a, b) = ((gamma * self.ln_c).exp(), (gamma * self.ln_rest).exp());
                let sum = a + b;
                let ln_sum = sum.ln();
                let w = (gamma * self.ln_c - ln_sum / gamma).exp();
                let d = self.ln_c + ln_sum / (gamma * gamma)
                    - (a * self.ln_c + b * self.ln_rest) / (gamma * sum);
                (w, w * d)
            }
        }
    }
}

/// One outcome of a branch (gains or losses), ranked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    p: f64,
    abs: f64,
    ln_abs: f64,
    point: WeightPoint,
}

/// A lottery's ranked outcomes: gains best first, then losses worst first; zero outcomes and
/// zero probabilities dropped, equal outcomes merged.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ranked {
    entries: Vec<Entry>,
    gains: usize,
}

impl Ranked {
    /// Sorts and merges a lottery's outcomes.
    pub(crate) fn new(lottery: &Lottery) -> Self {
        let mut outcomes: Vec<(f64, f64)> = lottery
            .outcomes()
            .iter()
            .copied()
            .filter(|&(p, x)| p > 0.0 && x != 0.0)
            .collect();
        outcomes.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(outcomes.len());
        for (p, x) in outcomes {
            match merged.last_mut() {
                Some(last) if last.1 == x => last.0 += p,
                _ => merged.push((p, x)),
            }
        }
        let gains = merged.iter().take_while(|o| o.1 > 0.0).count();
        let mut entries = Vec::with_capacity(merged.len());
        let mut push = |(p, x): (f64, f64), c: f64| {
            entries.push(Entry {
                p,
                abs: x.abs(),
                ln_abs: x.abs().ln(),
                point: WeightPoint::new(c),
            })
        };
        // Cumulative probabilities relative to the lottery's total (which may differ from 1
        // by float noise), and exactly 1 at the end of a branch that holds all the mass, so
        // that w(1) = 1 and a single-signed lottery's weights sum to 1.
        let total: f64 = lottery.outcomes().iter().map(|o| o.0).sum();
        let zero_mass = lottery.outcomes().iter().any(|o| o.0 > 0.0 && o.1 == 0.0);
        let (gain_part, loss_part) = merged.split_at(gains);
        for (branch, reversed) in [(gain_part, false), (loss_part, true)] {
            let alone = !zero_mass && branch.len() == merged.len();
            let mut c = 0.0;
            for k in 0..branch.len() {
                let o = branch[if reversed { branch.len() - 1 - k } else { k }];
                c += o.0;
                let last = k + 1 == branch.len();
                push(
                    o,
                    if alone && last {
                        1.0
                    } else {
                        (c / total).min(1.0)
                    },
                );
            }
        }
        Self { entries, gains }
    }

    /// U(L) under `params`; adds ∂U/∂(α, β, λ, γ_gain, γ_loss) to `grad`.
    pub(crate) fn value(&self, params: &CptParams, grad: &mut [f64; 5]) -> f64 {
        let (gains, losses) = self.entries.split_at(self.gains);
        let mut total = 0.0;
        for (branch, sign) in [(gains, 1.0), (losses, -1.0)] {
            let gain = sign > 0.0;
            let (curvature, scale, gamma) = if gain {
                (params.alpha, 1.0, params.gamma_gain)
            } else {
                (params.beta, params.lambda, params.gamma_loss)
            };
            let (mut previous, mut previous_d) = (0.0, 0.0);
            for e in branch {
                let magnitude = if curvature == 1.0 {
                    e.abs
                } else {
                    (curvature * e.ln_abs).exp()
                };
                let v = sign * scale * magnitude;
                let (pi, d_pi) = match params.weighting {
                    Weighting::Linear => (e.p, 0.0),
                    weighting => {
                        let (w, dw) = e.point.weight(weighting, gamma);
                        let step = (w - previous, dw - previous_d);
                        (previous, previous_d) = (w, dw);
                        step
                    }
                };
                total += pi * v;
                let (curve, weight) = if gain { (0, 3) } else { (1, 4) };
                grad[curve] += pi * v * e.ln_abs;
                grad[weight] += v * d_pi;
                if !gain {
                    grad[2] -= pi * magnitude;
                }
            }
        }
        total
    }

    /// The decision weight of each outcome of the lottery, in `lottery`'s order (equal
    /// outcomes share their merged weight in proportion to their probabilities; zero outcomes
    /// get their probability under linear weighting and 0 otherwise, since v(0) = 0 makes it
    /// irrelevant).
    pub(crate) fn weights_of(
        lottery: &Lottery,
        weighting: Weighting,
        gamma_gain: f64,
        gamma_loss: f64,
    ) -> Vec<f64> {
        let ranked = Self::new(lottery);
        let mut merged = Vec::with_capacity(ranked.entries.len());
        for (k, branch) in [
            &ranked.entries[..ranked.gains],
            &ranked.entries[ranked.gains..],
        ]
        .into_iter()
        .enumerate()
        {
            let gamma = if k == 0 { gamma_gain } else { gamma_loss };
            let mut previous = 0.0;
            for e in branch {
                let pi = match weighting {
                    Weighting::Linear => e.p,
                    other => {
                        let w = e.point.weight(other, gamma).0;
                        let pi = w - previous;
                        previous = w;
                        pi
                    }
                };
                merged.push((e.abs * if k == 0 { 1.0 } else { -1.0 }, e.p, pi));
            }
        }
        lottery
            .outcomes()
            .iter()
            .map(|&(p, x)| {
                if x == 0.0 || p == 0.0 {
                    return if weighting == Weighting::Linear {
                        p
                    } else {
                        0.0
                    };
                }
                merged
                    .iter()
                    .find(|m| m.0 == x)
                    .map_or(0.0, |m| m.2 * p / m.1)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_central_differences() {
        let lottery = Lottery::new(vec![
            (0.2, 30.0),
            (0.1, 5.0),
            (0.3, -12.0),
            (0.25, -2.5),
            (0.15, 0.0),
        ])
        .unwrap();
        let ranked = Ranked::new(&lottery);
        for weighting in [Weighting::Prelec, Weighting::TverskyKahneman] {
            let at = [0.7, 0.85, 1.8, 0.6, 0.75];
            let make = |v: [f64; 5]| CptParams {
                alpha: v[0],
                beta: v[1],
                lambda: v[2],
                gamma_gain: v[3],
                gamma_loss: v[4],
                weighting,
            };
            let mut grad = [0.0; 5];
            ranked.value(&make(at), &mut grad);
            for j in 0..5 {
                let (mut up, mut down) = (at, at);
                up[j] += 1e-6;
                down[j] -= 1e-6;
                let mut scratch = [0.0; 5];
                let numeric = (ranked.value(&make(up), &mut scratch)
                    - ranked.value(&make(down), &mut scratch))
                    / 2e-6;
                assert!(
                    (numeric - grad[j]).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{weighting:?} {j}: {numeric} vs {}",
                    grad[j]
                );
            }
        }
    }
}
