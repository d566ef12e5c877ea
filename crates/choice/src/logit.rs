//! McFadden's conditional logit on [`ChoiceSets`]: P_n(i) = av_in·e^{V_in} / Σ_j av_jn·e^{V_jn},
//! with V linear in the coefficients of a [`LogitSpec`]. Fitted by Newton's method with the
//! analytic Hessian; classical (inverse Hessian) and robust (sandwich) standard errors.

use std::collections::BTreeMap;

use choicelab_core::{ChoiceSets, Error, Location, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};
use rayon::prelude::*;

use crate::logit_spec::LogitSpec;

/// Observations per parallel chunk; fixed so that sums, and so results, never depend on the
/// thread count.
const CHUNK: usize = 2048;

/// A conditional logit model and the settings of its fit.
#[derive(Debug, Clone)]
pub struct ConditionalLogit {
    /// The utilities.
    pub spec: LogitSpec,
    /// Convergence: the largest Newton step, scaled by max(1, |β_k|), below this (or a Newton
    /// decrement at rounding level, 1e-20·|LL|).
    pub tolerance: f64,
    /// Newton iterations before giving up.
    pub max_iterations: usize,
    /// Ridge penalty λ: maximise LL(β) − (λ/2)‖β‖² over the free coefficients (0: plain
    /// maximum likelihood). With λ > 0 the standard errors are those of the penalised fit,
    /// from (−H + λI)⁻¹.
    pub ridge: f64,
}

/// A fitted conditional logit.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLogit {
    /// Names of the estimated coefficients, in alphabetical order.
    pub names: Vec<String>,
    /// Estimates β̂.
    pub estimates: Vec<f64>,
    /// Classical standard errors: √diag(−H⁻¹).
    pub std_errors: Vec<f64>,
    /// Robust (sandwich) standard errors: √diag(H⁻¹ B H⁻¹), B = Σ_n g_n g_nᵀ.
    pub robust_std_errors: Vec<f64>,
    /// Coefficients held fixed, with their values.
    pub fixed: Vec<(String, f64)>,
    /// Log-likelihood at β̂.
    pub loglik: f64,
    /// Log-likelihood with every coefficient at 0 (equal shares among available alternatives).
    pub null_loglik: f64,
    /// Number of observations.
    pub n_obs: usize,
    /// Newton iterations taken.
    pub iterations: usize,
    /// ‖∇‖∞ of the objective (LL less the ridge penalty) at β̂.
    pub gradient_norm: f64,
    /// Condition number of the (penalised) Hessian at β̂.
    pub condition_number: f64,
    /// The objective (LL, less the ridge penalty if any) at β = 0 and after each Newton
    /// iteration.
    pub history: Vec<f64>,
}

impl FittedLogit {
    /// McFadden's ρ² = 1 − LL/LL₀.
    pub fn rho_squared(&self) -> f64 {
        1.0 - self.loglik / self.null_loglik
    }

    /// Adjusted ρ̄² = 1 − (LL − K)/LL₀.
    pub fn rho_bar_squared(&self) -> f64 {
        1.0 - (self.loglik - self.estimates.len() as f64) / self.null_loglik
    }

    /// Akaike's criterion 2K − 2LL.
    pub fn aic(&self) -> f64 {
        2.0 * self.estimates.len() as f64 - 2.0 * self.loglik
    }

    /// Schwarz's criterion K·ln N − 2LL.
    pub fn bic(&self) -> f64 {
        self.estimates.len() as f64 * (self.n_obs as f64).ln() - 2.0 * self.loglik
    }

    /// The estimate of coefficient `name`, fixed or estimated.
    pub fn coefficient(&self, name: &str) -> Option<f64> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|k| self.estimates[k])
            .or_else(|| self.fixed.iter().find(|f| f.0 == name).map(|f| f.1))
    }
}

/// The specification bound to a data set: each row's utility is offset + x·β.
struct Design {
    names: Vec<String>,
    /// Row-major, rows × K.
    x: Vec<f64>,
    offset: Vec<f64>,
}

/// Where a term's coefficient comes from.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The estimated coefficient with this index.
    Free(usize),
    /// A coefficient held at this value.
    Fixed(f64),
}

/// LL, its gradient, the information −H and (on request) B = Σ g_n g_nᵀ at β.
struct Evaluation {
    loglik: f64,
    gradient: Vec<f64>,
    information: Vec<f64>,
    outer: Vec<f64>,
}

impl Default for ConditionalLogit {
    fn default() -> Self {
        Self::new(LogitSpec::new())
    }
}

impl ConditionalLogit {
    /// A model with these utilities and default settings (tolerance 1e-10, 100 iterations,
    /// no ridge penalty).
    pub fn new(spec: LogitSpec) -> Self {
        Self {
            spec,
            tolerance: 1e-10,
            max_iterations: 100,
            ridge: 0.0,
        }
    }

    /// Maximises the log-likelihood from β = 0.
    pub fn fit(&self, data: &ChoiceSets) -> Result<FittedLogit> {
        if data.is_empty() {
            return Err(Error::invalid(
                Location::new("choice sets"),
                "no observations to fit",
            ));
        }
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(Error::parameter(
                "ridge",
                format!("must be finite and ≥ 0, got {}", self.ridge),
            ));
        }
        let design = self.bind(data)?;
        let k = design.names.len();
        let mut beta = vec![0.0; k];
        let objective = |beta: &[f64], outer: bool| {
            let mut at = evaluate(data, &design, beta, outer);
            penalise(&mut at, beta, self.ridge);
            at
        };
        let mut current = objective(&beta, false);
        let null_loglik = current.loglik;
        let mut history = vec![current.loglik];
        for iteration in 1..=self.max_iterations {
            let information = to_mat(&current.information, k);
            let step = match information.llt(Side::Lower) {
                Ok(llt) => llt.solve(Mat::from_fn(k, 1, |i, _| current.gradient[i])),
                Err(_) => return Err(not_identified(&design.names, &beta, &information)),
            };
            // gᵀH⁻¹g: twice the log-likelihood still to gain. The step test alone can stall on
            // a flat direction held only by a ridge, where rounding keeps the step at ~1e-10.
            let decrement: f64 = (0..k).map(|i| step[(i, 0)] * current.gradient[i]).sum();
            let mut scale = 1.0;
            let (candidate, next) = loop {
                let candidate: Vec<f64> = (0..k).map(|i| beta[i] + scale * step[(i, 0)]).collect();
                let next = objective(&candidate, false);
                if next.loglik >= current.loglik - 1e-12 * current.loglik.abs() || scale < 1e-10 {
                    break (candidate, next);
                }
                scale /= 2.0;
            };
            let largest = (0..k)
                .map(|i| (scale * step[(i, 0)]).abs() / beta[i].abs().max(1.0))
                .fold(0.0, f64::max);
            beta = candidate;
            current = next;
            history.push(current.loglik);
            if !current.loglik.is_finite() {
                return Err(Error::Numerical {
                    context: "conditional logit".into(),
                    message: format!(
                        "the log-likelihood became {} at iteration {iteration}",
                        current.loglik
                    ),
                });
            }
            if largest < self.tolerance || decrement < 1e-20 * current.loglik.abs().max(1.0) {
                let at = objective(&beta, true);
                return finish(data, &design, at, beta, null_loglik, history, self);
            }
        }
        Err(Error::NotConverged {
            method: "Newton (conditional logit)".into(),
            iterations: self.max_iterations,
            residual: current
                .gradient
                .iter()
                .fold(0.0, |m, g| f64::max(m, g.abs())),
            tolerance: self.tolerance,
            reason: "iteration limit".into(),
        })
    }

    /// Resolves the spec against the data: every alternative needs a utility, every term a
    /// known attribute, every fixed coefficient a use.
    fn bind(&self, data: &ChoiceSets) -> Result<Design> {
        let spec = &self.spec;
        let alternatives = data.alternatives();
        for (name, terms) in &spec.utilities {
            if alternatives.get(name).is_none() {
                let at = terms
                    .first()
                    .map_or(Location::new("specification"), |t| t.at.clone());
                return Err(Error::invalid(
                    at,
                    format!(
                        "alternative `{name}` is not in the data (alternatives: {})",
                        alternatives.names().join(", ")
                    ),
                ));
            }
        }
        let mut parsed = Vec::with_capacity(alternatives.len());
        for name in alternatives.names() {
            let terms = spec.utilities.get(name).ok_or_else(|| {
                Error::invalid(
                    Location::new("specification").field("utilities"),
                    format!("alternative `{name}` of the data has no utility in the specification"),
                )
            })?;
            let mut resolved = Vec::with_capacity(terms.len());
            for written in terms {
                let term = written.parse()?;
                let attribute = match &term.attribute {
                    None => None,
                    Some(a) => Some(data.attributes().iter().position(|x| x == a).ok_or_else(
                        || {
                            Error::invalid(
                                written.at.clone(),
                                format!(
                                    "attribute `{a}` is not in the data (attributes: {})",
                                    data.attributes().join(", ")
                                ),
                            )
                        },
                    )?),
                };
                if resolved.contains(&(term.coefficient.clone(), attribute)) {
                    return Err(Error::invalid(
                        written.at.clone(),
                        format!("term `{}` appears twice in `{name}`", written.text),
                    ));
                }
                resolved.push((term.coefficient, attribute));
            }
            parsed.push(resolved);
        }
        let used: BTreeMap<&str, ()> = parsed
            .iter()
            .flatten()
            .map(|(c, _)| (c.as_str(), ()))
            .collect();
        for (name, (_, at)) in &spec.fixed {
            if !used.contains_key(name.as_str()) {
                return Err(Error::invalid(
                    at.clone(),
                    format!("fixed coefficient `{name}` appears in no utility"),
                ));
            }
        }
        let names: Vec<String> = used
            .keys()
            .filter(|c| !spec.fixed.contains_key(**c))
            .map(|c| c.to_string())
            .collect();
        // Each alternative's terms as (free coefficient index or fixed value, attribute).
        let targets: Vec<Vec<(Target, Option<usize>)>> = parsed
            .iter()
            .map(|terms| {
                terms
                    .iter()
                    .map(|(coefficient, attribute)| {
                        let target = match spec.fixed.get(coefficient) {
                            Some((value, _)) => Target::Fixed(*value),
                            None => Target::Free(
                                names
                                    .binary_search(coefficient)
                                    .expect("a free coefficient"),
                            ),
                        };
                        (target, *attribute)
                    })
                    .collect()
            })
            .collect();
        let k = names.len();
        let width = data.attributes().len();
        let mut x = vec![0.0; data.rows() * k];
        let mut offset = vec![0.0; data.rows()];
        let mut row = 0;
        for observation in data.observations() {
            for (j, &alternative) in observation.alternatives.iter().enumerate() {
                let values = &observation.values[j * width..(j + 1) * width];
                for &(target, attribute) in &targets[alternative as usize] {
                    let value = attribute.map_or(1.0, |a| values[a]);
                    match target {
                        Target::Fixed(fixed) => offset[row] += fixed * value,
                        Target::Free(c) => x[row * k + c] += value,
                    }
                }
                row += 1;
            }
        }
        Ok(Design { names, x, offset })
    }
}

/// The fitted model at β̂, with its standard errors.
fn finish(
    data: &ChoiceSets,
    design: &Design,
    at: Evaluation,
    beta: Vec<f64>,
    null_loglik: f64,
    history: Vec<f64>,
    model: &ConditionalLogit,
) -> Result<FittedLogit> {
    let k = design.names.len();
    let spec = &model.spec;
    let penalty = 0.5 * model.ridge * beta.iter().map(|b| b * b).sum::<f64>();
    let information = to_mat(&at.information, k);
    let eigenvalues = information
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|_| Error::Numerical {
            context: "conditional logit".into(),
            message: "the eigenvalues of the Hessian did not converge".into(),
        })?;
    let (smallest, largest) = (
        eigenvalues.first().copied().unwrap_or(1.0),
        eigenvalues.last().copied().unwrap_or(1.0),
    );
    if k > 0 && smallest <= 1e-12 * largest.max(f64::MIN_POSITIVE) {
        return Err(not_identified(&design.names, &beta, &information));
    }
    let covariance = match information.llt(Side::Lower) {
        Ok(llt) => llt.inverse(),
        Err(_) => return Err(not_identified(&design.names, &beta, &information)),
    };
    let outer = to_mat(&at.outer, k);
    let sandwich = &covariance * &outer * &covariance;
    Ok(FittedLogit {
        names: design.names.clone(),
        std_errors: (0..k).map(|i| covariance[(i, i)].sqrt()).collect(),
        robust_std_errors: (0..k).map(|i| sandwich[(i, i)].sqrt()).collect(),
        estimates: beta,
        fixed: spec
            .fixed
            .iter()
            .map(|(n, (v, _))| (n.clone(), *v))
            .collect(),
        loglik: at.loglik + penalty,
        null_loglik,
        n_obs: data.len(),
        iterations: history.len() - 1,
        history,
        gradient_norm: at.gradient.iter().fold(0.0, |m, g| f64::max(m, g.abs())),
        condition_number: if k == 0 { 1.0 } else { largest / smallest },
    })
}

/// LL, gradient and information (and B when `outer`) at β, summed over fixed chunks.
fn evaluate(data: &ChoiceSets, design: &Design, beta: &[f64], outer: bool) -> Evaluation {
    let k = beta.len();
    let chunks: Vec<Evaluation> = (0..data.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut sum = Evaluation {
                loglik: 0.0,
                gradient: vec![0.0; k],
                information: vec![0.0; k * k],
                outer: vec![0.0; if outer { k * k } else { 0 }],
            };
            let mut utility = Vec::new();
            let mut mean = vec![0.0; k];
            let mut score = vec![0.0; k];
            let mut deviation = vec![0.0; k];
            for n in c * CHUNK..((c + 1) * CHUNK).min(data.len()) {
                let rows = data.row_range(n);
                let observation = data.observation(n);
                utility.clear();
                let mut top = f64::NEG_INFINITY;
                for (j, r) in rows.clone().enumerate() {
                    let v = if observation.available[j] {
                        let x = &design.x[r * k..(r + 1) * k];
                        design.offset[r] + x.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>()
                    } else {
                        f64::NEG_INFINITY
                    };
                    top = top.max(v);
                    utility.push(v);
                }
                utility.iter_mut().for_each(|v| *v = (*v - top).exp());
                let total: f64 = utility.iter().sum();
                let chosen = rows.start + observation.chosen;
                sum.loglik += (utility[observation.chosen] / total).ln();
                mean.iter_mut().for_each(|m| *m = 0.0);
                for (j, r) in rows.clone().enumerate() {
                    let p = utility[j] / total;
                    utility[j] = p;
                    if p > 0.0 {
                        let x = &design.x[r * k..(r + 1) * k];
                        mean.iter_mut().zip(x).for_each(|(m, x)| *m += p * x);
                    }
                }
                for (j, r) in rows.enumerate() {
                    let p = utility[j];
                    if p == 0.0 {
                        continue;
                    }
                    let x = &design.x[r * k..(r + 1) * k];
                    deviation
                        .iter_mut()
                        .zip(x.iter().zip(&mean))
                        .for_each(|(d, (x, m))| *d = x - m);
                    for (a, row) in sum.information.chunks_exact_mut(k).enumerate() {
                        let weighted = p * deviation[a];
                        row[..=a]
                            .iter_mut()
                            .zip(&deviation)
                            .for_each(|(cell, d)| *cell += weighted * d);
                    }
                }
                let x_chosen = &design.x[chosen * k..(chosen + 1) * k];
                for a in 0..k {
                    score[a] = x_chosen[a] - mean[a];
                    sum.gradient[a] += score[a];
                }
                if outer {
                    for a in 0..k {
                        for b in 0..=a {
                            sum.outer[a * k + b] += score[a] * score[b];
                        }
                    }
                }
            }
            sum
        })
        .collect();
    let mut total = Evaluation {
        loglik: 0.0,
        gradient: vec![0.0; k],
        information: vec![0.0; k * k],
        outer: vec![0.0; if outer { k * k } else { 0 }],
    };
    for chunk in chunks {
        total.loglik += chunk.loglik;
        add(&mut total.gradient, &chunk.gradient);
        add(&mut total.information, &chunk.information);
        add(&mut total.outer, &chunk.outer);
    }
    total
}

/// Turns LL, its gradient and information at β into those of LL − (λ/2)‖β‖².
fn penalise(at: &mut Evaluation, beta: &[f64], ridge: f64) {
    if ridge == 0.0 {
        return;
    }
    let k = beta.len();
    for (i, b) in beta.iter().enumerate() {
        at.loglik -= 0.5 * ridge * b * b;
        at.gradient[i] -= ridge * b;
        at.information[i * k + i] += ridge;
    }
}

fn add(into: &mut [f64], from: &[f64]) {
    into.iter_mut().zip(from).for_each(|(a, b)| *a += b);
}

/// A symmetric matrix from its row-major lower triangle.
fn to_mat(lower: &[f64], k: usize) -> Mat<f64> {
    Mat::from_fn(k, k, |i, j| {
        if j <= i {
            lower[i * k + j]
        } else {
            lower[j * k + i]
        }
    })
}

/// The error for a singular Hessian, naming the coefficients along its flattest direction.
fn not_identified(names: &[String], beta: &[f64], information: &Mat<f64>) -> Error {
    let involved = information
        .self_adjoint_eigen(Side::Lower)
        .ok()
        .map(|eigen| {
            let direction = eigen.U().col(0);
            let largest = (0..names.len())
                .map(|i| direction[i].abs())
                .fold(0.0, f64::max);
            (0..names.len())
                .filter(|&i| direction[i].abs() > 0.1 * largest)
                .map(|i| format!("`{}`", names[i]))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Error::Numerical {
        context: "conditional logit".into(),
        message: format!(
            "the Hessian is singular at β = {beta:?}, so the model is not identified along a \
             combination of {involved}: either it leaves every choice probability unchanged (a \
             constant in every alternative, an attribute that does not vary, collinear \
             attributes), or the choices are perfectly predicted along it (separation) and the \
             estimates diverge"
        ),
    }
}
