//! The NFXP log-likelihood of a panel with its analytic gradient and BHHH matrix, either of
//! the choices alone over (RC, cost coefficients) with θ₃ held at its first-stage estimate, or
//! the full likelihood of choices and mileage increments over (RC, cost coefficients,
//! θ₃₀ … θ₃,J−2), θ₃,J−1 = 1 − Σ the others.

use choicelab_core::{Error, Result};

use crate::ddc::fixed_point::{Bellman, FixedPointSettings, Solved};
use crate::ddc::model::ZurcherModel;
use choicelab_core::panel::Panel;

/// One cell of the panel: bus-months in state x with this decision and this increment since
/// the month before.
#[derive(Debug, Clone, Copy)]
struct Cell {
    state: usize,
    replace: bool,
    usage: usize,
    count: u64,
}

/// The likelihood of a panel under a model.
pub(crate) struct Likelihood<'a> {
    model: &'a ZurcherModel,
    cells: Vec<Cell>,
    /// Whether θ₃ is estimated along with the cost parameters.
    full: bool,
    settings: FixedPointSettings,
}

/// The log-likelihood, its gradient and BHHH matrix Σ_n s_n s_nᵀ at a parameter vector.
pub(crate) struct Evaluation {
    pub loglik_choice: f64,
    /// Σ n_j ln θ₃ⱼ when θ₃ is estimated, else 0.
    pub loglik_transition: f64,
    pub gradient: Vec<f64>,
    pub bhhh: Vec<f64>,
    pub solved: Solved,
    /// The model at this point (θ₃ from the parameters when they include it).
    pub model: ZurcherModel,
}

impl Evaluation {
    /// The objective being maximised.
    pub fn loglik(&self) -> f64 {
        self.loglik_choice + self.loglik_transition
    }
}

impl<'a> Likelihood<'a> {
    /// The likelihood of `panel`'s months with a known increment.
    pub fn new(
        model: &'a ZurcherModel,
        panel: &Panel,
        full: bool,
        settings: FixedPointSettings,
    ) -> Result<Self> {
        let width = model.increments.len();
        let mut counts = vec![0u64; model.n_states * 2 * width];
        for o in panel.transitions() {
            let usage = o.usage.expect("transitions have a usage") as usize;
            counts[(o.state as usize * 2 + usize::from(o.replace)) * width + usage] += 1;
        }
        if full {
            if let Some(j) = model.increments.iter().position(|p| *p == 0.0) {
                return Err(Error::parameter(
                    "full_likelihood",
                    format!(
                        "an increment of {j} states never occurs in the panel, so the full \
                         likelihood has no interior maximum in θ₃; use the partial likelihood"
                    ),
                ));
            }
        }
        let cells = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, &count)| Cell {
                state: i / (2 * width),
                replace: (i / width) % 2 == 1,
                usage: i % width,
                count,
            })
            .collect();
        Ok(Self {
            model,
            cells,
            full,
            settings,
        })
    }

    /// Number of mileage states.
    pub fn n_states(&self) -> usize {
        self.model.n_states
    }

    /// Number of free θ₃ entries estimated (0 for the partial likelihood).
    pub fn free_increments(&self) -> usize {
        if self.full {
            self.model.increments.len() - 1
        } else {
            0
        }
    }

    /// The model at `theta`: θ₃ from its tail when the likelihood is full.
    fn model_at(&self, theta: &[f64]) -> Result<ZurcherModel> {
        let mut model = self.model.clone();
        let free = self.free_increments();
        if free > 0 {
            let tail = &theta[theta.len() - free..];
            let last = 1.0 - tail.iter().sum::<f64>();
            if tail.iter().chain([&last]).any(|p| !(*p > 0.0 && *p < 1.0)) {
                return Err(Error::Numerical {
                    context: "NFXP (full likelihood)".into(),
                    message: format!("θ₃ left the simplex: {tail:?}, last {last}"),
                });
            }
            model.increments = tail.iter().copied().chain([last]).collect();
        }
        Ok(model)
    }

    /// The likelihood at `theta` = (RC, cost coefficients, [θ₃ free entries]), solving the
    /// fixed point from `ev_start`; derivatives by the implicit function theorem,
    /// ∂EV/∂θ = (I − T′)⁻¹ ∂T/∂θ.
    pub fn evaluate(&self, theta: &[f64], ev_start: &[f64]) -> Result<Evaluation> {
        let model = self.model_at(theta)?;
        let n = model.n_states;
        let k = theta.len();
        let k_cost = k - self.free_increments();
        let costs: Vec<f64> = (0..n).map(|x| model.cost(x, &theta[1..k_cost])).collect();
        let bellman = Bellman {
            model: &model,
            rc: theta[0],
            costs,
        };
        let solved = bellman.solve(ev_start, self.settings)?;
        let beta = model.beta;
        let replace = &solved.replace_probability;
        let mut d_ev = Vec::with_capacity(k);
        for j in 0..k_cost {
            // The flow utilities' partials, averaged over the choice and next month.
            let flow: Vec<f64> = (0..n)
                .map(|y| {
                    (1.0 - replace[y]) * model.keep_partial(y, j)
                        + replace[y] * model.replace_partial(j)
                })
                .collect();
            let rhs: Vec<f64> = (0..n).map(|x| model.expect(&flow, x)).collect();
            d_ev.push(solved.implicit(&rhs));
        }
        let (top, last) = (n - 1, model.increments.len() - 1);
        for i in 0..self.free_increments() {
            // ∂T/∂θ₃ᵢ: moving mass from the last increment to increment i.
            let rhs: Vec<f64> = (0..n)
                .map(|x| solved.log_sum[(x + i).min(top)] - solved.log_sum[(x + last).min(top)])
                .collect();
            d_ev.push(solved.implicit(&rhs));
        }
        let mut loglik_choice = 0.0;
        let mut loglik_transition = 0.0;
        let mut gradient = vec![0.0; k];
        let mut bhhh = vec![0.0; k * k];
        let mut score = vec![0.0; k];
        let mut d_gap = vec![0.0; k];
        let mut gap_state = usize::MAX;
        for cell in &self.cells {
            let x = cell.state;
            if x != gap_state {
                // ∂(v_keep − v_replace)(x)/∂θ.
                for (j, d) in d_gap.iter_mut().enumerate() {
                    let flow = if j < k_cost {
                        model.keep_partial(x, j) - model.replace_partial(j)
                    } else {
                        0.0
                    };
                    *d = flow + beta * (d_ev[j][x] - d_ev[j][0]);
                }
                gap_state = x;
            }
            let p_replace = replace[x];
            let probability = if cell.replace {
                p_replace
            } else {
                1.0 - p_replace
            };
            let weight = if cell.replace {
                p_replace - 1.0
            } else {
                p_replace
            };
            let count = cell.count as f64;
            loglik_choice += count * probability.ln();
            score
                .iter_mut()
                .zip(&d_gap)
                .for_each(|(s, d)| *s = weight * d);
            if self.full {
                let p = model.increments[cell.usage];
                loglik_transition += count * p.ln();
                if cell.usage < last {
                    score[k_cost + cell.usage] += 1.0 / p;
                } else {
                    score[k_cost..].iter_mut().for_each(|s| *s -= 1.0 / p);
                }
            }
            for a in 0..k {
                gradient[a] += count * score[a];
                for b in 0..k {
                    bhhh[a * k + b] += count * score[a] * score[b];
                }
            }
        }
        if !(loglik_choice + loglik_transition).is_finite() {
            return Err(Error::Numerical {
                context: "NFXP".into(),
                message: format!("the log-likelihood is not finite at {theta:?}"),
            });
        }
        Ok(Evaluation {
            loglik_choice,
            loglik_transition,
            gradient,
            bhhh,
            solved,
            model,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddc::model::CostShape;
    use crate::ddc::simulate::simulate_fleet;

    #[test]
    fn the_full_gradient_matches_finite_differences() {
        let model = ZurcherModel {
            n_states: 40,
            beta: 0.99,
            increments: vec![0.3, 0.5, 0.2],
            cost: CostShape::Quadratic,
            scale: 1e-3,
        };
        let panel = simulate_fleet(&model, 9.0, &[20.0, 0.5], 30, 80, 3).expect("a fleet");
        let likelihood =
            Likelihood::new(&model, &panel, true, FixedPointSettings::default()).expect("valid");
        let theta = [8.0, 15.0, 0.8, 0.32, 0.47];
        let ev = vec![0.0; model.n_states];
        let at = likelihood.evaluate(&theta, &ev).expect("evaluates");
        for j in 0..theta.len() {
            let h = 1e-6;
            let mut up = theta;
            let mut down = theta;
            up[j] += h;
            down[j] -= h;
            let numeric = (likelihood.evaluate(&up, &ev).unwrap().loglik()
                - likelihood.evaluate(&down, &ev).unwrap().loglik())
                / (2.0 * h);
            let analytic = at.gradient[j];
            assert!(
                (numeric - analytic).abs() < 1e-5 * analytic.abs().max(1.0),
                "parameter {j}: analytic {analytic}, numeric {numeric}"
            );
        }
    }
}
