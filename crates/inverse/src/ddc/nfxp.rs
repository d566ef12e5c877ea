//! Nested fixed point maximum likelihood (Rust 1987): the mileage increments from their
//! counts, then (RC, θ₁) by BHHH with the analytic gradient through the fixed point.

use choicelab_core::{Error, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};

use crate::ddc::fixed_point::{Bellman, FixedPointSettings, Solved};
use crate::ddc::model::{CostShape, ZurcherModel};
use crate::ddc::panel::{Increments, Panel};

/// BHHH hands over to Newton steps once its decrement is below this.
const SWITCH_TO_NEWTON: f64 = 1e-4;

/// NFXP's settings.
#[derive(Debug, Clone)]
pub struct Nfxp {
    /// Discount factor β ∈ [0, 1).
    pub beta: f64,
    /// Maintenance-cost shape.
    pub cost: CostShape,
    /// Cost scale (0.001 in Rust's linear model).
    pub scale: f64,
    /// Starting (RC, θ₁₁, …).
    pub start: Vec<f64>,
    /// Stop when gᵀH⁻¹g, the BHHH Newton decrement (about twice the log-likelihood still to
    /// gain), is below this.
    pub tolerance: f64,
    /// BHHH iterations at most.
    pub max_iterations: usize,
    /// The inner fixed point's settings.
    pub fixed_point: FixedPointSettings,
}

impl Default for Nfxp {
    fn default() -> Self {
        Self {
            beta: 0.9999,
            cost: CostShape::Linear,
            scale: 1e-3,
            start: vec![4.0, 1.0],
            tolerance: 1e-9,
            max_iterations: 500,
            fixed_point: FixedPointSettings::default(),
        }
    }
}

/// An NFXP fit.
#[derive(Debug, Clone)]
pub struct FittedDdc {
    /// Mileage increment probabilities θ₃ = (θ₃₀, θ₃₁, …).
    pub increments: Vec<f64>,
    /// Their standard errors, √(p(1 − p)/N).
    pub increments_se: Vec<f64>,
    /// Names of the cost parameters: `rc`, `theta11`, `theta12`, ….
    pub names: Vec<String>,
    /// (RC, θ₁₁, …).
    pub estimates: Vec<f64>,
    /// Standard errors from the inverse BHHH matrix of the choice likelihood.
    pub std_errors: Vec<f64>,
    /// Log-likelihood of the choices.
    pub loglik_choice: f64,
    /// Log-likelihood of the mileage transitions.
    pub loglik_transition: f64,
    /// Their sum.
    pub loglik: f64,
    /// Observations (bus-months with a known usage).
    pub n_obs: usize,
    /// BHHH iterations.
    pub iterations: usize,
    /// EV at the estimate.
    pub ev: Vec<f64>,
    /// P(replace | x) at the estimate.
    pub replace_probability: Vec<f64>,
    /// The model at the estimate.
    pub model: ZurcherModel,
}

/// The choice likelihood, its per-cell scores and the solved fixed point at (RC, θ).
struct Evaluation {
    loglik: f64,
    gradient: Vec<f64>,
    bhhh: Vec<f64>,
    solved: Solved,
}

impl Nfxp {
    /// Fits the increments, then the cost parameters, on `panel`.
    pub fn fit(&self, panel: &Panel) -> Result<FittedDdc> {
        let (model, increments) = ZurcherModel::for_panel(panel, self.beta, self.cost, self.scale)?;
        let n_obs = panel.transitions().count();
        let k = 1 + self.cost.n_coefficients();
        if self.start.len() != k {
            return Err(Error::parameter(
                "start",
                format!(
                    "{k} starting values needed (RC and {} cost coefficients), got {}",
                    k - 1,
                    self.start.len()
                ),
            ));
        }
        let cells = panel.choice_counts();
        let mut theta = self.start.clone();
        let mut ev = vec![0.0; model.n_states];
        let mut polished = false;
        let mut current = evaluate(&model, &cells, &theta, &ev, self.fixed_point)?;
        for iteration in 1..=self.max_iterations {
            ev.clone_from(&current.solved.ev);
            let h = Mat::from_fn(k, k, |i, j| current.bhhh[i * k + j]);
            let llt = h.llt(Side::Lower).map_err(|_| Error::Numerical {
                context: "NFXP (BHHH)".into(),
                message:
                    "the outer-product matrix is singular: the cost parameters are not identified"
                        .into(),
            })?;
            let g = Mat::from_fn(k, 1, |i, _| current.gradient[i]);
            let direction = llt.solve(&g);
            let decrement: f64 = (0..k)
                .map(|i| direction[(i, 0)] * current.gradient[i])
                .sum();
            if decrement < SWITCH_TO_NEWTON && !polished {
                polished = true;
                let (polished_theta, polished_at, converged) =
                    polish(&model, &cells, theta.clone(), current, self.fixed_point);
                if converged {
                    return Ok(self.finish(
                        model,
                        polished_theta,
                        polished_at,
                        &increments,
                        n_obs,
                        iteration - 1,
                    ));
                }
                theta = polished_theta;
                current = polished_at;
                continue;
            }
            if decrement < self.tolerance {
                return Ok(self.finish(model, theta, current, &increments, n_obs, iteration - 1));
            }
            let mut step = 1.0;
            loop {
                let candidate: Vec<f64> = (0..k)
                    .map(|i| theta[i] + step * direction[(i, 0)])
                    .collect();
                match evaluate(&model, &cells, &candidate, &ev, self.fixed_point) {
                    Ok(next) if next.loglik >= current.loglik - 1e-10 * current.loglik.abs() => {
                        theta = candidate;
                        current = next;
                        break;
                    }
                    _ if step > 1e-8 => step /= 2.0,
                    Ok(_) | Err(_) => {
                        return Err(Error::Numerical {
                            context: "NFXP (BHHH)".into(),
                            message: format!(
                                "no ascent along the BHHH direction at iteration {iteration}"
                            ),
                        })
                    }
                }
            }
        }
        Err(Error::NotConverged {
            method: "NFXP (BHHH)".into(),
            iterations: self.max_iterations,
            residual: current
                .gradient
                .iter()
                .fold(0.0, |m, g| f64::max(m, g.abs())),
            tolerance: self.tolerance,
            reason: "iteration limit".into(),
        })
    }

    fn finish(
        &self,
        model: ZurcherModel,
        theta: Vec<f64>,
        at: Evaluation,
        increments: &Increments,
        n_obs: usize,
        iterations: usize,
    ) -> FittedDdc {
        let k = theta.len();
        let h = Mat::from_fn(k, k, |i, j| at.bhhh[i * k + j]);
        let std_errors = match h.llt(Side::Lower) {
            Ok(llt) => {
                let inverse = llt.inverse();
                (0..k).map(|i| inverse[(i, i)].sqrt()).collect()
            }
            Err(_) => vec![f64::NAN; k],
        };
        FittedDdc {
            increments: model.increments.clone(),
            increments_se: increments.std_errors.clone(),
            names: model.cost.parameter_names(),
            estimates: theta,
            std_errors,
            loglik_choice: at.loglik,
            loglik_transition: increments.loglik,
            loglik: at.loglik + increments.loglik,
            n_obs,
            iterations,
            ev: at.solved.ev.clone(),
            replace_probability: at.solved.replace_probability.clone(),
            model,
        }
    }
}

/// Newton steps with a Hessian from forward differences of the analytic gradient, kept
/// fixed (a chord method): BHHH converges only linearly, and these take its answer to working
/// precision in a few evaluations. Returns whether the Newton decrement fell below 1e-16;
/// a step that fails to improve the likelihood ends the polish unconverged.
fn polish(
    model: &ZurcherModel,
    cells: &[(u64, u64)],
    mut theta: Vec<f64>,
    mut current: Evaluation,
    settings: FixedPointSettings,
) -> (Vec<f64>, Evaluation, bool) {
    let k = theta.len();
    let ev = current.solved.ev.clone();
    let mut hessian = vec![0.0; k * k];
    for j in 0..k {
        let h = 1e-6 * theta[j].abs().max(1.0);
        let mut shifted = theta.clone();
        shifted[j] += h;
        let Ok(up) = evaluate(model, cells, &shifted, &ev, settings) else {
            return (theta, current, false);
        };
        for i in 0..k {
            hessian[i * k + j] = (up.gradient[i] - current.gradient[i]) / h;
        }
    }
    // −H, symmetrised, must be positive definite at a maximum.
    let negative = Mat::from_fn(k, k, |i, j| {
        -0.5 * (hessian[i * k + j] + hessian[j * k + i])
    });
    let Ok(llt) = negative.llt(Side::Lower) else {
        return (theta, current, false);
    };
    for _ in 0..20 {
        let step = llt.solve(Mat::from_fn(k, 1, |i, _| current.gradient[i]));
        let decrement: f64 = (0..k).map(|i| step[(i, 0)] * current.gradient[i]).sum();
        if decrement < 1e-16 {
            return (theta, current, true);
        }
        let candidate: Vec<f64> = (0..k).map(|i| theta[i] + step[(i, 0)]).collect();
        let Ok(next) = evaluate(model, cells, &candidate, &current.solved.ev, settings) else {
            return (theta, current, false);
        };
        if next.loglik < current.loglik - 1e-12 * current.loglik.abs() {
            return (theta, current, false);
        }
        theta = candidate;
        current = next;
    }
    (theta, current, false)
}

/// The choice log-likelihood at (RC, θ), its gradient and BHHH matrix, by the implicit
/// function theorem: ∂EV/∂θ = (I − T′)⁻¹ ∂T/∂θ.
fn evaluate(
    model: &ZurcherModel,
    cells: &[(u64, u64)],
    theta: &[f64],
    ev_start: &[f64],
    settings: FixedPointSettings,
) -> Result<Evaluation> {
    let n = model.n_states;
    let k = theta.len();
    let costs: Vec<f64> = (0..n).map(|x| model.cost(x, &theta[1..])).collect();
    let bellman = Bellman {
        model,
        rc: theta[0],
        costs,
    };
    let solved = bellman.solve(ev_start, settings)?;
    let beta = model.beta;
    let replace = &solved.replace_probability;
    // ∂v_keep(x)/∂θ and ∂v_replace/∂θ holding EV fixed are the utilities' partials.
    let mut d_ev = Vec::with_capacity(k);
    for j in 0..k {
        let flow: Vec<f64> = (0..n)
            .map(|y| {
                (1.0 - replace[y]) * model.keep_partial(y, j)
                    + replace[y] * model.replace_partial(j)
            })
            .collect();
        let rhs: Vec<f64> = (0..n).map(|x| model.expect(&flow, x)).collect();
        d_ev.push(solved.implicit(&rhs));
    }
    let mut loglik = 0.0;
    let mut gradient = vec![0.0; k];
    let mut bhhh = vec![0.0; k * k];
    for (x, &(keeps, replacements)) in cells.iter().enumerate() {
        if keeps + replacements == 0 {
            continue;
        }
        let p_replace = replace[x];
        // ∂(v_keep − v_replace)(x)/∂θ_j.
        let d_gap: Vec<f64> = (0..k)
            .map(|j| {
                model.keep_partial(x, j) - model.replace_partial(j)
                    + beta * (d_ev[j][x] - d_ev[j][0])
            })
            .collect();
        for (count, kept) in [(keeps, true), (replacements, false)] {
            if count == 0 {
                continue;
            }
            let probability = if kept { 1.0 - p_replace } else { p_replace };
            loglik += count as f64 * probability.ln();
            let weight = if kept { p_replace } else { p_replace - 1.0 };
            let score: Vec<f64> = d_gap.iter().map(|d| weight * d).collect();
            for a in 0..k {
                gradient[a] += count as f64 * score[a];
                for b in 0..k {
                    bhhh[a * k + b] += count as f64 * score[a] * score[b];
                }
            }
        }
    }
    if !loglik.is_finite() {
        return Err(Error::Numerical {
            context: "NFXP".into(),
            message: format!("the choice log-likelihood is {loglik} at {theta:?}"),
        });
    }
    Ok(Evaluation {
        loglik,
        gradient,
        bhhh,
        solved,
    })
}
