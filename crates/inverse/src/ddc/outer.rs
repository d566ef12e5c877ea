//! NFXP's outer maximisers over a [`Likelihood`]: BHHH handing over to chord-Newton steps, and
//! BFGS. Each warm-starts the fixed point from the last accepted EV.

use choicelab_core::{Error, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};

use crate::ddc::likelihood::{Evaluation, Likelihood};

/// BHHH hands over to Newton steps once its decrement is below this.
const SWITCH_TO_NEWTON: f64 = 1e-4;

/// The outer loop's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outer {
    /// Berndt–Hall–Hall–Hausman steps (the outer product of the scores as −Hessian), then
    /// chord-Newton steps once close.
    Bhhh,
    /// BFGS on the analytic gradient, started from the inverse BHHH matrix, with Armijo
    /// backtracking.
    Bfgs,
}

impl Outer {
    /// `bhhh` or `bfgs`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "bhhh" => Ok(Self::Bhhh),
            "bfgs" => Ok(Self::Bfgs),
            other => Err(Error::parameter(
                "outer",
                format!("unknown outer method `{other}`; valid: bhhh, bfgs"),
            )),
        }
    }
}

/// A maximum: the parameters, the likelihood there, and the outer iterations taken.
pub(crate) struct Maximum {
    pub theta: Vec<f64>,
    pub at: Evaluation,
    pub iterations: usize,
}

/// Stopping rule and budget of an outer loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Stop when the decrement gᵀH⁻¹g is below this.
    pub tolerance: f64,
    pub max_iterations: usize,
}

fn symmetric(values: &[f64], k: usize) -> Mat<f64> {
    Mat::from_fn(k, k, |i, j| values[i * k + j])
}

fn column(values: &[f64]) -> Mat<f64> {
    Mat::from_fn(values.len(), 1, |i, _| values[i])
}

fn not_identified() -> Error {
    Error::Numerical {
        context: "NFXP".into(),
        message: "the outer-product matrix is singular: the parameters are not identified".into(),
    }
}

fn not_converged(method: &str, budget: Budget, at: &Evaluation) -> Error {
    Error::NotConverged {
        method: method.into(),
        iterations: budget.max_iterations,
        residual: at.gradient.iter().fold(0.0, |m, g| f64::max(m, g.abs())),
        tolerance: budget.tolerance,
        reason: "iteration limit".into(),
    }
}

/// BHHH from `start`, handing over to [`polish`] once the decrement is below 1e-4.
pub(crate) fn bhhh(likelihood: &Likelihood, start: &[f64], budget: Budget) -> Result<Maximum> {
    let k = start.len();
    let mut theta = start.to_vec();
    let mut current = likelihood.evaluate(&theta, &vec![0.0; likelihood.n_states()])?;
    let mut polished = false;
    for iteration in 1..=budget.max_iterations {
        let ev = current.solved.ev.clone();
        let llt = symmetric(&current.bhhh, k)
            .llt(Side::Lower)
            .map_err(|_| not_identified())?;
        let direction = llt.solve(column(&current.gradient));
        let decrement: f64 = (0..k)
            .map(|i| direction[(i, 0)] * current.gradient[i])
            .sum();
        if decrement < SWITCH_TO_NEWTON && !polished {
            polished = true;
            let (polished_theta, polished_at, converged) = polish(likelihood, theta, current);
            if converged {
                return Ok(Maximum {
                    theta: polished_theta,
                    at: polished_at,
                    iterations: iteration - 1,
                });
            }
            theta = polished_theta;
            current = polished_at;
            continue;
        }
        if decrement < budget.tolerance {
            return Ok(Maximum {
                theta,
                at: current,
                iterations: iteration - 1,
            });
        }
        let direction: Vec<f64> = (0..k).map(|i| direction[(i, 0)]).collect();
        let floor = current.loglik() - 1e-10 * current.loglik().abs();
        (theta, current) = backtrack(likelihood, &theta, &direction, &ev, 1e-8, |_, next| {
            next.loglik() >= floor
        })
        .ok_or_else(|| no_ascent("BHHH", iteration))?;
    }
    Err(not_converged("NFXP (BHHH)", budget, &current))
}

/// Halves the step along `direction` from 1 until `accept(step, evaluation)` holds (a failed
/// evaluation counts as a rejection); None once the step is below `smallest`.
fn backtrack(
    likelihood: &Likelihood,
    theta: &[f64],
    direction: &[f64],
    ev: &[f64],
    smallest: f64,
    accept: impl Fn(f64, &Evaluation) -> bool,
) -> Option<(Vec<f64>, Evaluation)> {
    let mut step = 1.0;
    while step >= smallest {
        let candidate: Vec<f64> = theta
            .iter()
            .zip(direction)
            .map(|(t, d)| t + step * d)
            .collect();
        if let Ok(next) = likelihood.evaluate(&candidate, ev) {
            if accept(step, &next) {
                return Some((candidate, next));
            }
        }
        step /= 2.0;
    }
    None
}

fn no_ascent(method: &str, iteration: usize) -> Error {
    Error::Numerical {
        context: format!("NFXP ({method})"),
        message: format!("no ascent along the {method} direction at iteration {iteration}"),
    }
}

/// BFGS from `start`: H⁻¹ starts as the inverse BHHH matrix there; steps backtrack until
/// Armijo's condition holds; the update is skipped when sᵀy ≤ 0.
pub(crate) fn bfgs(likelihood: &Likelihood, start: &[f64], budget: Budget) -> Result<Maximum> {
    let k = start.len();
    let mut theta = start.to_vec();
    let mut current = likelihood.evaluate(&theta, &vec![0.0; likelihood.n_states()])?;
    let mut inverse = symmetric(&current.bhhh, k)
        .llt(Side::Lower)
        .map_err(|_| not_identified())?
        .inverse();
    for iteration in 1..=budget.max_iterations {
        let g = column(&current.gradient);
        let direction = &inverse * &g;
        let slope: f64 = (0..k).map(|i| direction[(i, 0)] * g[(i, 0)]).sum();
        if slope < budget.tolerance {
            return Ok(Maximum {
                theta,
                at: current,
                iterations: iteration - 1,
            });
        }
        let direction: Vec<f64> = (0..k).map(|i| direction[(i, 0)]).collect();
        let base = current.loglik();
        let (candidate, next) = backtrack(
            likelihood,
            &theta,
            &direction,
            &current.solved.ev,
            1e-10,
            |step, next| next.loglik() >= base + 1e-4 * step * slope,
        )
        .ok_or_else(|| no_ascent("BFGS", iteration))?;
        // Minimising −LL: s = Δθ, y = Δ(−∇LL).
        let s = Mat::from_fn(k, 1, |i, _| candidate[i] - theta[i]);
        let y = Mat::from_fn(k, 1, |i, _| current.gradient[i] - next.gradient[i]);
        let sy: f64 = (0..k).map(|i| s[(i, 0)] * y[(i, 0)]).sum();
        if sy > 1e-12 {
            let rho = 1.0 / sy;
            let identity = Mat::<f64>::identity(k, k);
            let left = &identity - rho * (&s * y.transpose());
            let right = &identity - rho * (&y * s.transpose());
            inverse = &left * &inverse * &right + rho * (&s * s.transpose());
        }
        theta = candidate;
        current = next;
    }
    Err(not_converged("NFXP (BFGS)", budget, &current))
}

/// Newton steps with a Hessian from forward differences of the analytic gradient, kept
/// fixed (a chord method): BHHH converges only linearly, and these take its answer to working
/// precision in a few evaluations. Returns whether the Newton decrement fell below 1e-16;
/// a step that fails to improve the likelihood ends the polish unconverged.
fn polish(
    likelihood: &Likelihood,
    mut theta: Vec<f64>,
    mut current: Evaluation,
) -> (Vec<f64>, Evaluation, bool) {
    let k = theta.len();
    let ev = current.solved.ev.clone();
    let mut hessian = vec![0.0; k * k];
    for j in 0..k {
        let h = 1e-6 * theta[j].abs().max(1.0);
        let mut shifted = theta.clone();
        shifted[j] += h;
        let Ok(up) = likelihood.evaluate(&shifted, &ev) else {
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
        let step = llt.solve(column(&current.gradient));
        let decrement: f64 = (0..k).map(|i| step[(i, 0)] * current.gradient[i]).sum();
        if decrement < 1e-16 {
            return (theta, current, true);
        }
        let candidate: Vec<f64> = (0..k).map(|i| theta[i] + step[(i, 0)]).collect();
        let Ok(next) = likelihood.evaluate(&candidate, &current.solved.ev) else {
            return (theta, current, false);
        };
        if next.loglik() < current.loglik() - 1e-12 * current.loglik().abs() {
            return (theta, current, false);
        }
        theta = candidate;
        current = next;
    }
    (theta, current, false)
}
