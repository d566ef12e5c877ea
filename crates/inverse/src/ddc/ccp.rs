//! Hotz–Miller conditional choice probabilities (CCP), with optional nested pseudo-likelihood
//! (NPL, Aguirregabiria–Mira) iterations: no fixed point in the outer loop, one linear solve
//! per iteration.

use choicelab_core::logistic::{log_sigmoid, sigmoid};
use choicelab_core::numeric::dot;
use choicelab_core::{Error, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};

use crate::ddc::model::{CostShape, ZurcherModel};
use choicelab_core::panel::{Increments, Panel};

/// Euler–Mascheroni γ: the mean of a standard type-I extreme value shock.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The CCP estimator's settings.
#[derive(Debug, Clone)]
pub struct Ccp {
    /// Discount factor β ∈ [0, 1).
    pub beta: f64,
    /// Maintenance-cost shape.
    pub cost: CostShape,
    /// Cost scale.
    pub scale: f64,
    /// NPL policy iterations after the first (0: plain two-step Hotz–Miller).
    pub npl_iterations: usize,
}

impl Default for Ccp {
    fn default() -> Self {
        Self {
            beta: 0.9999,
            cost: CostShape::Linear,
            scale: 1e-3,
            npl_iterations: 0,
        }
    }
}

/// A CCP fit.
#[derive(Debug, Clone)]
pub struct FittedCcp {
    /// Names of the cost parameters: `rc`, `theta11`, ….
    pub names: Vec<String>,
    /// (RC, θ₁₁, …).
    pub estimates: Vec<f64>,
    /// Standard errors from the pseudo-likelihood's information (ignoring first-stage noise).
    pub std_errors: Vec<f64>,
    /// Mileage increments θ₃, with standard errors and the transition log-likelihood.
    pub increments: Increments,
    /// Observations (bus-months with a known usage).
    pub n_obs: usize,
    /// The pseudo log-likelihood of the choices at the estimate.
    pub loglik_choice: f64,
    /// P(replace | x) implied by the estimate (the last NPL policy).
    pub replace_probability: Vec<f64>,
    /// NPL iterations run.
    pub iterations: usize,
}

impl Ccp {
    /// Estimates the increments by their counts, the CCPs by a cubic logit in mileage, then
    /// (RC, θ) by the pseudo-likelihood; NPL iterations replace the CCPs by the model's.
    pub fn fit(&self, panel: &Panel) -> Result<FittedCcp> {
        let (model, increments) = ZurcherModel::for_panel(panel, self.beta, self.cost, self.scale)?;
        let n = model.n_states;
        let cells: Vec<(f64, f64)> = panel
            .choice_counts()
            .into_iter()
            .map(|(keeps, replaces)| (keeps as f64, replaces as f64))
            .collect();
        let features: Vec<Vec<f64>> = (0..n)
            .map(|x| {
                let t = x as f64 / n as f64;
                vec![1.0, t, t * t, t * t * t]
            })
            .collect();
        let (coefficients, _, _) = logit(&cells, &features, &vec![0.0; n])?;
        let mut replace: Vec<f64> = features
            .iter()
            .map(|f| sigmoid(-dot(f, &coefficients)))
            .collect();
        let transitions = model.transition_matrix();
        let k = 1 + self.cost.n_coefficients();
        let mut result = None;
        for iteration in 0..=self.npl_iterations {
            let (design, offset) = pseudo_index(&model, &transitions, &replace)?;
            let (theta, information, loglik) = logit(&cells, &design, &offset)?;
            replace = (0..n)
                .map(|x| sigmoid(-(dot(&design[x], &theta) + offset[x])))
                .collect();
            let covariance = Mat::from_fn(k, k, |i, j| information[i * k + j])
                .llt(Side::Lower)
                .map(|llt| llt.inverse())
                .map_err(|_| Error::Numerical {
                    context: "CCP".into(),
                    message: "the pseudo-likelihood's information is singular".into(),
                })?;
            result = Some(FittedCcp {
                names: self.cost.parameter_names(),
                std_errors: (0..k).map(|i| covariance[(i, i)].sqrt()).collect(),
                estimates: theta,
                increments: increments.clone(),
                n_obs: panel.transitions().count(),
                loglik_choice: loglik,
                replace_probability: replace.clone(),
                iterations: iteration,
            });
        }
        Ok(result.expect("at least one iteration"))
    }
}

/// v_keep(x) − v_replace(x) = design(x)·θ + offset(x) for θ = (RC, cost coefficients), by the
/// Hotz–Miller inversion V = (I − βF)⁻¹ Σ_d p_d (u_d + γ − ln p_d).
fn pseudo_index(
    model: &ZurcherModel,
    transitions: &[f64],
    replace: &[f64],
) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
    let n = model.n_states;
    let beta = model.beta;
    let k = 1 + model.cost.n_coefficients();
    let system = Mat::from_fn(n, n, |x, y| {
        let controlled = (1.0 - replace[x]) * transitions[x * n + y] + replace[x] * transitions[y];
        f64::from(x == y) - beta * controlled
    });
    let lu = system.partial_piv_lu();
    // Right-hand sides: K columns for the θ parts, one for the constant (shock) part.
    let rhs = Mat::from_fn(n, k + 1, |x, j| {
        let p = replace[x].clamp(1e-300, 1.0 - 1e-16);
        if j < k {
            (1.0 - p) * model.keep_partial(x, j) + p * model.replace_partial(j)
        } else {
            (1.0 - p) * (EULER_GAMMA - (1.0 - p).ln()) + p * (EULER_GAMMA - p.ln())
        }
    });
    let value = lu.solve(&rhs);
    if (0..n).any(|x| (0..=k).any(|j| !value[(x, j)].is_finite())) {
        return Err(Error::Numerical {
            context: "CCP".into(),
            message: "the Hotz–Miller value solve is not finite".into(),
        });
    }
    let expected = |x: usize, j: usize| -> f64 {
        (0..n).map(|y| transitions[x * n + y] * value[(y, j)]).sum()
    };
    let from_zero: Vec<f64> = (0..=k).map(|j| expected(0, j)).collect();
    let mut design = Vec::with_capacity(n);
    let mut offset = Vec::with_capacity(n);
    for x in 0..n {
        design.push(
            (0..k)
                .map(|j| {
                    model.keep_partial(x, j) - model.replace_partial(j)
                        + beta * (expected(x, j) - from_zero[j])
                })
                .collect(),
        );
        offset.push(beta * (expected(x, k) - from_zero[k]));
    }
    Ok((design, offset))
}

/// Maximises Σ_x keeps·ln σ(z) + replaces·ln σ(−z), z = design(x)·θ + offset(x), by Newton;
/// returns θ, the information matrix (row-major) and the log-likelihood.
fn logit(
    cells: &[(f64, f64)],
    design: &[Vec<f64>],
    offset: &[f64],
) -> Result<(Vec<f64>, Vec<f64>, f64)> {
    let k = design[0].len();
    let mut theta = vec![0.0; k];
    let evaluate = |theta: &[f64]| -> (f64, Vec<f64>, Vec<f64>) {
        let (mut loglik, mut gradient, mut information) = (0.0, vec![0.0; k], vec![0.0; k * k]);
        for (x, &(keeps, replaces)) in cells.iter().enumerate() {
            if keeps + replaces == 0.0 {
                continue;
            }
            let z = dot(&design[x], theta) + offset[x];
            let p_keep = sigmoid(z);
            loglik += keeps * log_sigmoid(z) + replaces * log_sigmoid(-z);
            let residual = keeps - (keeps + replaces) * p_keep;
            let weight = (keeps + replaces) * p_keep * (1.0 - p_keep);
            for a in 0..k {
                gradient[a] += residual * design[x][a];
                for b in 0..k {
                    information[a * k + b] += weight * design[x][a] * design[x][b];
                }
            }
        }
        (loglik, gradient, information)
    };
    let (mut loglik, mut gradient, mut information) = evaluate(&theta);
    for _ in 0..100 {
        let h = Mat::from_fn(k, k, |i, j| information[i * k + j]);
        let llt = h.llt(Side::Lower).map_err(|_| Error::Numerical {
            context: "CCP logit".into(),
            message: "the information matrix is singular: parameters not identified".into(),
        })?;
        let step = llt.solve(Mat::from_fn(k, 1, |i, _| gradient[i]));
        let decrement: f64 = (0..k).map(|i| step[(i, 0)] * gradient[i]).sum();
        if decrement < 1e-20 {
            return Ok((theta, information, loglik));
        }
        let mut scale = 1.0;
        loop {
            let candidate: Vec<f64> = (0..k).map(|i| theta[i] + scale * step[(i, 0)]).collect();
            let next = evaluate(&candidate);
            if next.0 >= loglik - 1e-12 * loglik.abs() || scale < 1e-10 {
                theta = candidate;
                (loglik, gradient, information) = next;
                break;
            }
            scale /= 2.0;
        }
    }
    Err(Error::NotConverged {
        method: "Newton (CCP logit)".into(),
        iterations: 100,
        residual: gradient.iter().fold(0.0, |m, g| f64::max(m, g.abs())),
        tolerance: 1e-20,
        reason: "iteration limit".into(),
    })
}
