//! The expected-value fixed point EV = T(EV) of Rust's model, by his poly-algorithm:
//! contraction steps, then Newton–Kantorovich steps EV ← EV − (I − T′)⁻¹(EV − T(EV)).
//!
//! Mileage only rises after keeping, so T′ = β·(P·diag(p_keep) + (P·p_replace)·e₀ᵀ) is an
//! upper-banded matrix plus one column: I − T′ is solved by back substitution and the
//! Sherman–Morrison formula in O(states × increments), never factorised densely.

use choicelab_core::{Error, Result};

use crate::ddc::model::ZurcherModel;

/// Settings of the poly-algorithm.
#[derive(Debug, Clone, Copy)]
pub struct FixedPointSettings {
    /// Contraction steps at most before switching to Newton–Kantorovich. Rust's rule also
    /// switches early, once successive changes shrink by about β: the contraction is then in
    /// its slow linear phase, where Newton–Kantorovich is far faster.
    pub max_contractions: usize,
    /// Switch once a contraction step changes EV by less than this (sup norm).
    pub switch_tolerance: f64,
    /// Stop when ‖EV − T(EV)‖∞ is below this times max(1, ‖EV‖∞): at β near 1, EV is of
    /// order u/(1 − β) and rounding bounds the absolute residual.
    pub tolerance: f64,
    /// Newton–Kantorovich steps at most.
    pub max_newton: usize,
}

impl Default for FixedPointSettings {
    fn default() -> Self {
        Self {
            max_contractions: 50,
            switch_tolerance: 1e-2,
            tolerance: 1e-12,
            max_newton: 30,
        }
    }
}

/// I − T′ at a fixed point, ready to solve with.
#[derive(Debug, Clone)]
pub(crate) struct Jacobian {
    beta: f64,
    increments: Vec<f64>,
    keep: Vec<f64>,
    /// w = β·U⁻¹(P·p_replace), U = I − β·P·diag(p_keep).
    correction: Vec<f64>,
}

impl Jacobian {
    fn new(model: &ZurcherModel, replace: &[f64]) -> Self {
        let keep: Vec<f64> = replace.iter().map(|r| 1.0 - r).collect();
        let mut jacobian = Self {
            beta: model.beta,
            increments: model.increments.clone(),
            keep,
            correction: Vec::new(),
        };
        let flow: Vec<f64> = (0..replace.len())
            .map(|x| model.beta * model.expect(replace, x))
            .collect();
        jacobian.correction = jacobian.upper_solve(&flow);
        jacobian
    }

    /// Solves U·z = b by back substitution: U(x, y) = δ(x, y) − β·P(x, y)·p_keep(y), y ≥ x.
    fn upper_solve(&self, b: &[f64]) -> Vec<f64> {
        let n = b.len();
        let mut z = vec![0.0; n];
        for x in (0..n).rev() {
            let (mut diagonal, mut sum) = (1.0, b[x]);
            for (j, &p) in self.increments.iter().enumerate() {
                let y = (x + j).min(n - 1);
                let coefficient = self.beta * p * self.keep[y];
                if y == x {
                    diagonal -= coefficient;
                } else {
                    sum += coefficient * z[y];
                }
            }
            z[x] = sum / diagonal;
        }
        z
    }

    /// Solves (I − T′)·y = b: I − T′ = U − β·(P·p_replace)·e₀ᵀ, by Sherman–Morrison.
    pub(crate) fn solve(&self, b: &[f64]) -> Vec<f64> {
        let mut z = self.upper_solve(b);
        let scale = z[0] / (1.0 - self.correction[0]);
        z.iter_mut()
            .zip(&self.correction)
            .for_each(|(z, w)| *z += w * scale);
        z
    }
}

/// The solved fixed point: EV, the choice probabilities and I − T′.
pub struct Solved {
    /// EV(x): expected value of next month's best choice after keeping in state x.
    pub ev: Vec<f64>,
    /// log(e^{v_keep(x)} + e^{v_replace}) at EV, the values T averages.
    pub log_sum: Vec<f64>,
    /// P(replace | x).
    pub replace_probability: Vec<f64>,
    /// I − T′ at EV, for Newton steps and implicit derivatives.
    pub(crate) jacobian: Jacobian,
    /// Contraction and Newton–Kantorovich steps taken.
    pub steps: (usize, usize),
}

/// The model with its cost parameters: v_keep(x) = −c(x) + βEV(x), v_replace = −RC − c(0) +
/// βEV(0).
pub(crate) struct Bellman<'a> {
    pub model: &'a ZurcherModel,
    pub rc: f64,
    pub costs: Vec<f64>,
}

impl Bellman<'_> {
    /// T(EV) into `out` and P(replace | x) into `replace`; log-sums are taken around their
    /// maximum, and `log_sum` is scratch space.
    fn apply(&self, ev: &[f64], out: &mut [f64], replace: &mut [f64], log_sum: &mut [f64]) {
        let n = self.model.n_states;
        let beta = self.model.beta;
        let v_replace = -self.rc - self.costs[0] + beta * ev[0];
        for x in 0..n {
            let v_keep = -self.costs[x] + beta * ev[x];
            // One exponential per state: e = exp(−|v_replace − v_keep|).
            let gap = v_replace - v_keep;
            let e = (-gap.abs()).exp();
            log_sum[x] = v_keep.max(v_replace) + e.ln_1p();
            replace[x] = if gap > 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
        }
        for (x, value) in out.iter_mut().enumerate() {
            *value = self.model.expect(log_sum, x);
        }
    }

    /// Solves EV = T(EV) from `start`.
    pub fn solve(&self, start: &[f64], settings: FixedPointSettings) -> Result<Solved> {
        let n = self.model.n_states;
        let mut ev = start.to_vec();
        let mut next = vec![0.0; n];
        let mut replace = vec![0.0; n];
        let mut scratch = vec![0.0; n];
        let sup = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max)
        };
        let mut contractions = 0;
        let mut last_change = f64::INFINITY;
        while contractions < settings.max_contractions {
            self.apply(&ev, &mut next, &mut replace, &mut scratch);
            contractions += 1;
            let change = sup(&ev, &next);
            std::mem::swap(&mut ev, &mut next);
            let linear_phase = change > 0.0 && change / last_change > 0.9 * self.model.beta;
            if change < settings.switch_tolerance || (contractions >= 2 && linear_phase) {
                break;
            }
            last_change = change;
        }
        for newton in 0..=settings.max_newton {
            self.apply(&ev, &mut next, &mut replace, &mut scratch);
            let residual = sup(&ev, &next);
            if !residual.is_finite() {
                return Err(Error::Numerical {
                    context: "expected-value fixed point".into(),
                    message: format!("the residual became {residual}"),
                });
            }
            let jacobian = Jacobian::new(self.model, &replace);
            let size = ev.iter().fold(1.0, |m: f64, v| m.max(v.abs()));
            if residual < settings.tolerance * size {
                return Ok(Solved {
                    ev,
                    log_sum: scratch,
                    replace_probability: replace,
                    jacobian,
                    steps: (contractions, newton),
                });
            }
            if newton == settings.max_newton {
                return Err(Error::NotConverged {
                    method: "Newton–Kantorovich (expected-value fixed point)".into(),
                    iterations: newton,
                    residual,
                    tolerance: settings.tolerance,
                    reason: "iteration limit".into(),
                });
            }
            let difference: Vec<f64> = ev.iter().zip(&next).map(|(e, t)| e - t).collect();
            let step = jacobian.solve(&difference);
            ev.iter_mut().zip(&step).for_each(|(e, s)| *e -= s);
        }
        unreachable!("the loop returns on its last step")
    }
}

impl Solved {
    /// Solves (I − T′)·y = rhs.
    pub(crate) fn implicit(&self, rhs: &[f64]) -> Vec<f64> {
        self.jacobian.solve(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddc::model::CostShape;

    #[test]
    fn structured_solve_matches_a_dense_one() {
        let model = ZurcherModel {
            n_states: 12,
            beta: 0.97,
            increments: vec![0.3, 0.5, 0.15, 0.05],
            cost: CostShape::Linear,
            scale: 1e-3,
        };
        let replace: Vec<f64> = (0..12).map(|x| 0.02 + 0.07 * x as f64).collect();
        let jacobian = Jacobian::new(&model, &replace);
        let b: Vec<f64> = (0..12).map(|x| (x as f64).sin()).collect();
        let y = jacobian.solve(&b);
        // Multiply back by the dense I − T′.
        let p = model.transition_matrix();
        let n = 12;
        for x in 0..n {
            let flow: f64 = (0..n).map(|z| p[x * n + z] * replace[z]).sum();
            let mut row_times_y = y[x];
            for (k, value) in y.iter().enumerate() {
                let mut t = model.beta * p[x * n + k] * (1.0 - replace[k]);
                if k == 0 {
                    t += model.beta * flow;
                }
                row_times_y -= t * value;
            }
            assert!(
                (row_times_y - b[x]).abs() < 1e-12,
                "row {x}: {row_times_y} vs {}",
                b[x]
            );
        }
    }
}
