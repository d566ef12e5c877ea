//! Maximum likelihood for aggregate binary choices: row i has n_i trials of which a share y_i
//! said yes, and P(yes) = σ(z_i(ψ)) for an index z that the model computes with its gradient.
//! The objective is the mean negative log-likelihood per trial,
//! −Σ n_i [y_i ln σ(z_i) + (1 − y_i) ln σ(−z_i)] / Σ n_i (the binomial coefficients, constant
//! in ψ, are left out, so non-integer counts n_i·y_i are fine), minimised by L-BFGS from
//! several starting points over unconstrained coordinates (ψ = e^θ for positive parameters).
//! Standard errors come from the observed information, differentiated numerically from the
//! analytic gradient.

use choicelab_core::logistic::{log_sigmoid, sigmoid};
use choicelab_core::{Error, Result};
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};
use rayon::prelude::*;

use crate::lbfgs::{minimise, LbfgsSettings};

/// Rows per parallel chunk; fixed so that sums, and so results, never depend on the thread
/// count.
const CHUNK: usize = 512;

/// Settings of a maximum-likelihood fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSettings {
    /// Stop when the largest gradient component of the mean negative log-likelihood per trial,
    /// in the optimiser's coordinates (log of positive parameters), is below this.
    pub gradient_tolerance: f64,
    /// Most L-BFGS iterations from each starting point.
    pub max_iterations: usize,
    /// Compute standard errors (observed information) after the fit.
    pub std_errors: bool,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            gradient_tolerance: 1e-6,
            max_iterations: 1000,
            std_errors: true,
        }
    }
}

/// How a parameter maps to the optimiser's unconstrained coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// ψ = e^θ > 0.
    Positive,
    /// ψ = θ.
    Free,
}

/// A model of binary choice shares with a differentiable index.
pub(crate) trait IndexModel: Sync {
    /// The scale of each parameter.
    fn scales(&self) -> &[Scale];
    /// Rows of data.
    fn rows(&self) -> usize;
    /// Row i's (trials n_i, share y_i of yes).
    fn counts(&self, i: usize) -> (f64, f64);
    /// What every row's index at ψ shares (tables of values), computed once per evaluation.
    type Shared: Sync;
    /// The shared part at ψ.
    fn prepare(&self, psi: &[f64]) -> Self::Shared;
    /// Row i's index z_i at ψ; writes ∂z_i/∂ψ into `grad`.
    fn index(&self, psi: &[f64], shared: &Self::Shared, i: usize, grad: &mut [f64]) -> f64;
    /// A penalty added to the mean negative log-likelihood; adds its gradient in ψ to `grad`.
    fn penalty(&self, _psi: &[f64], _grad: &mut [f64]) -> f64 {
        0.0
    }
}

/// What one starting point led to.
#[derive(Debug, Clone, PartialEq)]
pub enum StartOutcome {
    /// A minimum with this mean negative log-likelihood (penalty included) per trial.
    Minimum(f64),
    /// The optimiser failed from this start; the message says why.
    Failed(String),
}

/// A binomial maximum-likelihood fit: the best minimum over the starting points.
#[derive(Debug, Clone, PartialEq)]
pub struct BinomialFit {
    /// The estimates ψ̂, in the model's parameter order.
    pub estimates: Vec<f64>,
    /// Log-likelihood Σ n_i [y_i ln p_i + (1 − y_i) ln(1 − p_i)] at ψ̂.
    pub loglik: f64,
    /// Total trials Σ n_i.
    pub trials: f64,
    /// L-BFGS iterations of the best start.
    pub iterations: usize,
    /// ‖∇‖∞ of the objective at ψ̂ in the optimiser's coordinates.
    pub gradient_norm: f64,
    /// Each start's outcome, in order.
    pub starts: Vec<StartOutcome>,
    /// Standard errors from the observed information, when asked for.
    pub std_errors: Option<Vec<f64>>,
    /// Correlation matrix of the estimates (row-major), when standard errors were asked for.
    pub correlation: Option<Vec<f64>>,
}

impl BinomialFit {
    /// Starts whose minimum is within `tolerance` (relative) of the best one.
    pub fn agreeing_starts(&self, tolerance: f64) -> usize {
        let values: Vec<f64> = self
            .starts
            .iter()
            .filter_map(|s| match s {
                StartOutcome::Minimum(v) => Some(*v),
                StartOutcome::Failed(_) => None,
            })
            .collect();
        let best = values.iter().copied().fold(f64::INFINITY, f64::min);
        values
            .iter()
            .filter(|v| (*v - best).abs() <= tolerance * best.abs().max(1.0))
            .count()
    }
}

/// ψ from θ.
fn natural(scales: &[Scale], theta: &[f64]) -> Vec<f64> {
    scales
        .iter()
        .zip(theta)
        .map(|(s, t)| match s {
            Scale::Positive => t.exp(),
            Scale::Free => *t,
        })
        .collect()
}

/// θ from ψ, or an error naming a positive parameter that is not.
fn unconstrained(scales: &[Scale], psi: &[f64]) -> Result<Vec<f64>> {
    scales
        .iter()
        .zip(psi)
        .enumerate()
        .map(|(k, (s, p))| match s {
            Scale::Positive if !(p.is_finite() && *p > 0.0) => Err(Error::parameter(
                format!("start[{k}]"),
                format!("a positive parameter must start above 0, got {p}"),
            )),
            Scale::Positive => Ok(p.ln()),
            Scale::Free => Ok(*p),
        })
        .collect()
}

/// Σ n_i·(negative log-likelihood of row i) and its gradient in ψ, with Σ n_i.
fn total_nll<M: IndexModel>(model: &M, psi: &[f64], grad: &mut [f64]) -> (f64, f64) {
    let k = psi.len();
    let shared = model.prepare(psi);
    let parts: Vec<(f64, f64, Vec<f64>)> = (0..model.rows().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (mut nll, mut trials, mut sum) = (0.0, 0.0, vec![0.0; k]);
            let mut dz = vec![0.0; k];
            for i in c * CHUNK..((c + 1) * CHUNK).min(model.rows()) {
                let (n, y) = model.counts(i);
                let z = model.index(psi, &shared, i, &mut dz);
                // y ln σ(z) + (1 − y) ln σ(−z) = ln σ(z) − (1 − y) z.
                nll -= n * (log_sigmoid(z) - (1.0 - y) * z);
                trials += n;
                let residual = n * (sigmoid(z) - y);
                sum.iter_mut()
                    .zip(&dz)
                    .for_each(|(g, d)| *g += residual * d);
            }
            (nll, trials, sum)
        })
        .collect();
    grad.iter_mut().for_each(|g| *g = 0.0);
    let (mut nll, mut trials) = (0.0, 0.0);
    for (part, n, sum) in parts {
        nll += part;
        trials += n;
        grad.iter_mut().zip(&sum).for_each(|(g, s)| *g += s);
    }
    (nll, trials)
}

/// The objective in θ: mean negative log-likelihood per trial plus the penalty.
fn objective<M: IndexModel>(model: &M, theta: &[f64], grad: &mut [f64]) -> f64 {
    let scales = model.scales();
    let psi = natural(scales, theta);
    let (nll, trials) = total_nll(model, &psi, grad);
    grad.iter_mut().for_each(|g| *g /= trials);
    let value = nll / trials + model.penalty(&psi, grad);
    for ((g, s), p) in grad.iter_mut().zip(scales).zip(&psi) {
        if *s == Scale::Positive {
            *g *= p;
        }
    }
    value
}

/// Minimises from each start (natural parameters) and keeps the lowest minimum. An error
/// when no start reaches a minimum whose gradient meets the tolerance.
pub(crate) fn maximise<M: IndexModel>(
    model: &M,
    starts: &[Vec<f64>],
    settings: &FitSettings,
    what: &str,
) -> Result<BinomialFit> {
    if model.rows() == 0 {
        return Err(Error::parameter("data", format!("{what}: no rows to fit")));
    }
    if !(settings.gradient_tolerance.is_finite() && settings.gradient_tolerance > 0.0) {
        return Err(Error::parameter(
            "gradient_tolerance",
            format!("must be > 0, got {}", settings.gradient_tolerance),
        ));
    }
    let lbfgs = LbfgsSettings {
        memory: 10,
        gradient_tolerance: settings.gradient_tolerance,
        // Stop only when a whole iteration lowers nothing at all: the gradient test decides.
        value_tolerance: 0.0,
        window: 1,
        max_iterations: settings.max_iterations,
    };
    let f = |theta: &[f64], grad: &mut [f64]| objective(model, theta, grad);
    let mut outcomes = Vec::with_capacity(starts.len());
    let mut best: Option<(Vec<f64>, f64, usize, f64)> = None;
    let mut first_error = None;
    for start in starts {
        let theta = unconstrained(model.scales(), start)?;
        match minimise(theta, lbfgs, &f) {
            Ok(minimum) => {
                let mut grad = vec![0.0; minimum.x.len()];
                objective(model, &minimum.x, &mut grad);
                let norm = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
                if norm > settings.gradient_tolerance {
                    outcomes.push(StartOutcome::Failed(format!(
                        "stalled at ‖∇‖∞ = {norm:.2e} > {:.0e}",
                        settings.gradient_tolerance
                    )));
                    continue;
                }
                outcomes.push(StartOutcome::Minimum(minimum.value));
                if best.as_ref().is_none_or(|b| minimum.value < b.1) {
                    best = Some((minimum.x, minimum.value, minimum.iterations, norm));
                }
            }
            Err(error) => {
                outcomes.push(StartOutcome::Failed(error.to_string()));
                first_error.get_or_insert(error);
            }
        }
    }
    let Some((theta, _, iterations, gradient_norm)) = best else {
        return Err(first_error.unwrap_or_else(|| Error::NotConverged {
            method: format!("L-BFGS ({what})"),
            iterations: settings.max_iterations,
            residual: f64::NAN,
            tolerance: settings.gradient_tolerance,
            reason: "no starting point reached the gradient tolerance".into(),
        }));
    };
    let psi = natural(model.scales(), &theta);
    let mut grad = vec![0.0; psi.len()];
    let (nll, trials) = total_nll(model, &psi, &mut grad);
    let (std_errors, correlation) = if settings.std_errors {
        let (se, correlation) = standard_errors(model, &theta, what)?;
        (Some(se), Some(correlation))
    } else {
        (None, None)
    };
    Ok(BinomialFit {
        estimates: psi,
        loglik: -nll,
        trials,
        iterations,
        gradient_norm,
        starts: outcomes,
        std_errors,
        correlation,
    })
}

/// Standard errors of ψ̂ and the correlation of the estimates, from the inverse observed
/// information of the total log-likelihood in θ (central differences of the analytic
/// gradient, symmetrised), carried to ψ by the delta method.
fn standard_errors<M: IndexModel>(
    model: &M,
    theta: &[f64],
    what: &str,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let k = theta.len();
    let scales = model.scales();
    let gradient = |theta: &[f64]| {
        let psi = natural(scales, theta);
        let mut grad = vec![0.0; k];
        total_nll(model, &psi, &mut grad);
        for ((g, s), p) in grad.iter_mut().zip(scales).zip(&psi) {
            if *s == Scale::Positive {
                *g *= p;
            }
        }
        grad
    };
    let mut hessian = Mat::<f64>::zeros(k, k);
    for j in 0..k {
        let h = 1e-4 * theta[j].abs().max(1.0);
        let (mut up, mut down) = (theta.to_vec(), theta.to_vec());
        up[j] += h;
        down[j] -= h;
        let (gu, gd) = (gradient(&up), gradient(&down));
        for i in 0..k {
            hessian[(i, j)] += 0.5 * (gu[i] - gd[i]) / (2.0 * h);
            hessian[(j, i)] += 0.5 * (gu[i] - gd[i]) / (2.0 * h);
        }
    }
    let covariance = hessian
        .llt(Side::Lower)
        .map_err(|_| Error::Numerical {
            context: what.to_string(),
            message: "the observed information is not positive definite at the estimate, so \
                      the parameters are not identified there and have no standard errors"
                .into(),
        })?
        .inverse();
    let psi = natural(scales, theta);
    let se_theta: Vec<f64> = (0..k).map(|i| covariance[(i, i)].sqrt()).collect();
    let se = (0..k)
        .map(|i| match scales[i] {
            Scale::Positive => psi[i] * se_theta[i],
            Scale::Free => se_theta[i],
        })
        .collect();
    let correlation = (0..k * k)
        .map(|c| covariance[(c / k, c % k)] / (se_theta[c / k] * se_theta[c % k]))
        .collect();
    Ok((se, correlation))
}

/// The log-likelihood at ψ and its gradient in ψ (no penalty).
pub(crate) fn loglik<M: IndexModel>(model: &M, psi: &[f64]) -> (f64, Vec<f64>) {
    let mut grad = vec![0.0; psi.len()];
    let (nll, _) = total_nll(model, psi, &mut grad);
    grad.iter_mut().for_each(|g| *g = -*g);
    (-nll, grad)
}

/// P(yes) for every row at ψ.
pub(crate) fn probabilities<M: IndexModel>(model: &M, psi: &[f64]) -> Vec<f64> {
    let mut dz = vec![0.0; psi.len()];
    let shared = model.prepare(psi);
    (0..model.rows())
        .map(|i| sigmoid(model.index(psi, &shared, i, &mut dz)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P = σ(a + b·x) on a few rows with soft labels.
    struct Line {
        x: Vec<f64>,
        n: Vec<f64>,
        y: Vec<f64>,
    }

    impl IndexModel for Line {
        fn scales(&self) -> &[Scale] {
            &[Scale::Free, Scale::Positive]
        }
        fn rows(&self) -> usize {
            self.x.len()
        }
        fn counts(&self, i: usize) -> (f64, f64) {
            (self.n[i], self.y[i])
        }
        type Shared = ();
        fn prepare(&self, _: &[f64]) {}
        fn index(&self, psi: &[f64], _: &(), i: usize, grad: &mut [f64]) -> f64 {
            grad[0] = 1.0;
            grad[1] = self.x[i];
            psi[0] + psi[1] * self.x[i]
        }
    }

    #[test]
    fn gradient_matches_differences_and_fit_has_zero_score() {
        let model = Line {
            x: vec![-2.0, -1.0, 0.0, 1.0, 2.0, 3.0],
            n: vec![10.0, 20.0, 15.0, 12.0, 30.0, 5.0],
            y: vec![0.1, 0.3, 0.4, 0.7, 0.8, 1.0],
        };
        let theta = [0.3, -0.2];
        let mut grad = [0.0; 2];
        objective(&model, &theta, &mut grad);
        for j in 0..2 {
            let (mut up, mut down) = (theta, theta);
            up[j] += 1e-6;
            down[j] -= 1e-6;
            let mut scratch = [0.0; 2];
            let numeric = (objective(&model, &up, &mut scratch)
                - objective(&model, &down, &mut scratch))
                / 2e-6;
            assert!(
                (numeric - grad[j]).abs() < 1e-8,
                "{j}: {numeric} {}",
                grad[j]
            );
        }
        let fit = maximise(
            &model,
            &[vec![0.0, 1.0], vec![1.0, 0.1]],
            &FitSettings::default(),
            "line",
        )
        .unwrap();
        assert!(fit
            .starts
            .iter()
            .all(|s| matches!(s, StartOutcome::Minimum(_))));
        let (se, correlation) = (fit.std_errors.unwrap(), fit.correlation.unwrap());
        assert!(se.iter().all(|s| s.is_finite() && *s > 0.0));
        assert!((correlation[0] - 1.0).abs() < 1e-12 && correlation[1].abs() < 1.0);
    }
}
