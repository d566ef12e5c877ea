//! Rank-dependent valuation of lotteries (cumulative prospect theory, Tversky & Kahneman 1992)
//! with analytic derivatives, over outcomes sorted once per lottery.
//!
//! Gains are ranked from the best down and losses from the worst up; outcome i of a branch
//! gets the decision weight π_i = w(c_i) − w(c_{i−1}), c_i the probability of an outcome at
//! least as extreme. With linear weighting π_i = p_i, which gives expected utility.

use std::collections::HashMap;

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

/// The distinct magnitudes |x| and cumulative probabilities c of a set of lotteries, shared
/// by their ranked outcomes so that an evaluation computes |x|^α and w(c) once per distinct
/// value (choices13k's 73,789 ranked outcomes have 339 magnitudes and 304 cumulative
/// probabilities).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tables {
    magnitudes: Vec<f64>,
    ln_magnitudes: Vec<f64>,
    points: Vec<WeightPoint>,
    magnitude_index: HashMap<u64, u32>,
    point_index: HashMap<u64, u32>,
}

/// The tables' values at one parameter vector: |x|^α, |x|^β, and (w, ∂w/∂γ) at γ_gain and
/// γ_loss (empty under linear weighting).
pub(crate) struct Evaluated {
    gain_magnitude: Vec<f64>,
    loss_magnitude: Vec<f64>,
    gain_weight: Vec<(f64, f64)>,
    loss_weight: Vec<(f64, f64)>,
}

impl Tables {
    fn magnitude(&mut self, abs: f64) -> u32 {
        let next = self.magnitudes.len() as u32;
        let k = *self.magnitude_index.entry(abs.to_bits()).or_insert(next);
        if k == next {
            self.magnitudes.push(abs);
            self.ln_magnitudes.push(abs.ln());
        }
        k
    }

    fn point(&mut self, c: f64) -> u32 {
        let next = self.points.len() as u32;
        let k = *self.point_index.entry(c.to_bits()).or_insert(next);
        if k == next {
            self.points.push(WeightPoint::new(c));
        }
        k
    }

    /// The tables' values at `params`.
    pub(crate) fn evaluate(&self, params: &CptParams) -> Evaluated {
        let power = |curvature: f64| -> Vec<f64> {
            if curvature == 1.0 {
                self.magnitudes.clone()
            } else {
                self.ln_magnitudes
                    .iter()
                    .map(|l| (curvature * l).exp())
                    .collect()
            }
        };
        let weights = |gamma: f64| -> Vec<(f64, f64)> {
            match params.weighting {
                Weighting::Linear => Vec::new(),
                weighting => self
                    .points
                    .iter()
                    .map(|p| p.weight(weighting, gamma))
                    .collect(),
            }
        };
        let gain_magnitude = power(params.alpha);
        let loss_magnitude = if params.beta == params.alpha {
            gain_magnitude.clone()
        } else {
            power(params.beta)
        };
        let gain_weight = weights(params.gamma_gain);
        let loss_weight = if params.gamma_loss == params.gamma_gain {
            gain_weight.clone()
        } else {
            weights(params.gamma_loss)
        };
        Evaluated {
            gain_magnitude,
            loss_magnitude,
            gain_weight,
            loss_weight,
        }
    }
}

/// One outcome of a branch (gains or losses), ranked: its probability and the table indices
/// of its magnitude and cumulative probability.
#[derive(Debug, Clone, Copy)]
struct Entry {
    p: f64,
    magnitude: u32,
    point: u32,
}

/// A lottery's ranked outcomes: gains best first, then losses worst first; zero outcomes and
/// zero probabilities dropped, equal outcomes merged.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ranked {
    entries: Vec<Entry>,
    gains: usize,
}

impl Ranked {
    /// Sorts and merges a lottery's outcomes, adding their values to `tables`.
    pub(crate) fn new(lottery: &Lottery, tables: &mut Tables) -> Self {
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
                let (p, x) = branch[if reversed { branch.len() - 1 - k } else { k }];
                c += p;
                let last = k + 1 == branch.len();
                let c = if alone && last {
                    1.0
                } else {
                    (c / total).min(1.0)
                };
                entries.push(Entry {
                    p,
                    magnitude: tables.magnitude(x.abs()),
                    point: tables.point(c),
                });
            }
        }
        Self { entries, gains }
    }

    /// U(L) under `params` with the tables evaluated there (`at`); adds
    /// ∂U/∂(α, β, λ, γ_gain, γ_loss) to `grad`.
    pub(crate) fn value(
        &self,
        tables: &Tables,
        at: &Evaluated,
        params: &CptParams,
        grad: &mut [f64; 5],
    ) -> f64 {
        let (gains, losses) = self.entries.split_at(self.gains);
        let linear = params.weighting == Weighting::Linear;
        let mut total = 0.0;
        let mut previous = (0.0, 0.0);
        for e in gains {
            let magnitude = at.gain_magnitude[e.magnitude as usize];
            let (pi, d_pi) = if linear {
                (e.p, 0.0)
            } else {
                let (w, dw) = at.gain_weight[e.point as usize];
                let step = (w - previous.0, dw - previous.1);
                previous = (w, dw);
                step
            };
            total += pi * magnitude;
            grad[0] += pi * magnitude * tables.ln_magnitudes[e.magnitude as usize];
            grad[3] += magnitude * d_pi;
        }
        previous = (0.0, 0.0);
        for e in losses {
            let magnitude = at.loss_magnitude[e.magnitude as usize];
            let v = -params.lambda * magnitude;
            let (pi, d_pi) = if linear {
                (e.p, 0.0)
            } else {
                let (w, dw) = at.loss_weight[e.point as usize];
                let step = (w - previous.0, dw - previous.1);
                previous = (w, dw);
                step
            };
            total += pi * v;
            grad[1] += pi * v * tables.ln_magnitudes[e.magnitude as usize];
            grad[2] -= pi * magnitude;
            grad[4] += v * d_pi;
        }
        total
    }

    /// U(lottery) under `params`, with tables of its own.
    pub(crate) fn value_of(lottery: &Lottery, params: &CptParams) -> f64 {
        let mut tables = Tables::default();
        let ranked = Self::new(lottery, &mut tables);
        ranked.value(&tables, &tables.evaluate(params), params, &mut [0.0; 5])
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
        let mut tables = Tables::default();
        let ranked = Self::new(lottery, &mut tables);
        let at = tables.evaluate(&CptParams {
            gamma_gain,
            gamma_loss,
            weighting,
            ..CptParams::expected_value()
        });
        let mut merged = Vec::with_capacity(ranked.entries.len());
        for (k, branch) in [
            &ranked.entries[..ranked.gains],
            &ranked.entries[ranked.gains..],
        ]
        .into_iter()
        .enumerate()
        {
            let (sign, table) = if k == 0 {
                (1.0, &at.gain_weight)
            } else {
                (-1.0, &at.loss_weight)
            };
            let mut previous = 0.0;
            for e in branch {
                let pi = match weighting {
                    Weighting::Linear => e.p,
                    _ => {
                        let w = table[e.point as usize].0;
                        let pi = w - previous;
                        previous = w;
                        pi
                    }
                };
                let x = sign * tables.magnitudes[e.magnitude as usize];
                merged.push((x, e.p, pi));
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
        let mut tables = Tables::default();
        let ranked = Ranked::new(&lottery, &mut tables);
        let value = |params: &CptParams, grad: &mut [f64; 5]| {
            ranked.value(&tables, &tables.evaluate(params), params, grad)
        };
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
            value(&make(at), &mut grad);
            for j in 0..5 {
                let (mut up, mut down) = (at, at);
                up[j] += 1e-6;
                down[j] -= 1e-6;
                let mut scratch = [0.0; 5];
                let numeric =
                    (value(&make(up), &mut scratch) - value(&make(down), &mut scratch)) / 2e-6;
                assert!(
                    (numeric - grad[j]).abs() < 1e-6 * numeric.abs().max(1.0),
                    "{weighting:?} {j}: {numeric} vs {}",
                    grad[j]
                );
            }
        }
    }
}
