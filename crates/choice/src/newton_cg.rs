//! Bradley–Terry for many items: Newton's method whose steps are solved by preconditioned
//! conjugate gradients on the comparison graph's weighted Laplacian, so the items × items
//! Hessian is never formed. Memory and time per step are linear in the number of distinct pairs.

use choicelab_core::{Comparison, Error, Result};
use rayon::prelude::*;

/// Pairs handed to one parallel task; fixed, so sums do not depend on the thread count.
const PAIR_CHUNK: usize = 1 << 16;

/// Comparisons aggregated by unordered pair: for pair k, `wins[k]` are the weights won by
/// `low[k]` and by `high[k]` (low < high).
pub(crate) struct PairCounts {
    low: Vec<u32>,
    high: Vec<u32>,
    wins: Vec<[f64; 2]>,
}

impl PairCounts {
    /// Aggregates records; soft labels split each record's weight between its two items.
    pub fn new(records: &[Comparison]) -> Self {
        let mut keyed: Vec<(u64, [f64; 2])> = records
            .iter()
            .map(|r| {
                let y = r.first_share();
                let (won, lost) = (r.weight * y, r.weight * (1.0 - y));
                if r.first < r.second {
                    (u64::from(r.first) << 32 | u64::from(r.second), [won, lost])
                } else {
                    (u64::from(r.second) << 32 | u64::from(r.first), [lost, won])
                }
            })
            .collect();
        keyed.sort_by_key(|k| k.0);
        let mut pairs = PairCounts {
            low: Vec::new(),
            high: Vec::new(),
            wins: Vec::new(),
        };
        let mut last = None;
        for (key, [a, b]) in keyed {
            if last == Some(key) {
                let w = pairs
                    .wins
                    .last_mut()
                    .expect("a pair was pushed for this key");
                w[0] += a;
                w[1] += b;
            } else {
                pairs.low.push((key >> 32) as u32);
                pairs.high.push(key as u32);
                pairs.wins.push([a, b]);
                last = Some(key);
            }
        }
        pairs
    }

    /// Log-likelihood at θ; with `derivatives`, adds the gradient and writes each pair's
    /// curvature h = n·p·(1 − p). Pairs are split into fixed chunks evaluated in parallel and
    /// summed in chunk order, so the result does not depend on the thread count.
    fn evaluate(&self, theta: &[f64], derivatives: Option<(&mut [f64], &mut [f64])>) -> f64 {
        let pair_terms = |k: usize| {
            let (i, j) = (self.low[k] as usize, self.high[k] as usize);
            (i, j, LogisticTerms::new(theta[i] - theta[j]), self.wins[k])
        };
        match derivatives {
            None => {
                let partial: Vec<f64> = (0..self.low.len().div_ceil(PAIR_CHUNK))
                    .into_par_iter()
                    .map(|c| {
                        let range = c * PAIR_CHUNK..((c + 1) * PAIR_CHUNK).min(self.low.len());
                        range
                            .map(|k| {
                                let (_, _, terms, [a, b]) = pair_terms(k);
                                terms.loglik(a, b)
                            })
                            .sum()
                    })
                    .collect();
                partial.iter().sum()
            }
            Some((grad, curvature)) => {
                let n = theta.len();
                let partial: Vec<(f64, Vec<f64>)> = curvature
                    .par_chunks_mut(PAIR_CHUNK)
                    .enumerate()
                    .map(|(c, curvature)| {
                        let mut local = vec![0.0; n];
                        let mut loglik = 0.0;
                        for (offset, h) in curvature.iter_mut().enumerate() {
                            let (i, j, terms, [a, b]) = pair_terms(c * PAIR_CHUNK + offset);
                            loglik += terms.loglik(a, b);
                            let g = a - (a + b) * terms.p;
                            local[i] += g;
                            local[j] -= g;
                            *h = (a + b) * terms.p * (1.0 - terms.p);
                        }
                        (loglik, local)
                    })
                    .collect();
                let mut loglik = 0.0;
                for (part, local) in partial {
                    loglik += part;
                    grad.iter_mut().zip(&local).for_each(|(g, l)| *g += l);
                }
                loglik
            }
        }
    }

    /// out = (L + shift) x, where L is the Laplacian with pair weights `curvature`, and the
    /// shift is 2α·I, or the projector on the all-ones direction when α = 0.
    fn apply(&self, curvature: &[f64], alpha: f64, x: &[f64], out: &mut [f64]) {
        let n = x.len();
        if alpha > 0.0 {
            out.iter_mut()
                .zip(x)
                .for_each(|(o, &v)| *o = 2.0 * alpha * v);
        } else {
            let mean = x.iter().sum::<f64>() / n as f64;
            out.iter_mut().for_each(|o| *o = mean);
        }
        for ((&i, &j), &h) in self.low.iter().zip(&self.high).zip(curvature) {
            let (i, j) = (i as usize, j as usize);
            let flow = h * (x[i] - x[j]);
            out[i] += flow;
            out[j] -= flow;
        }
    }
}

/// ln σ(d), ln σ(−d) and p = σ(d) from one exponential and one logarithm.
struct LogisticTerms {
    log_p: f64,
    log_q: f64,
    p: f64,
}

impl LogisticTerms {
    #[inline]
    fn new(d: f64) -> Self {
        let e = (-d.abs()).exp();
        let log1p = e.ln_1p();
        let p = if d >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        LogisticTerms {
            log_p: d.min(0.0) - log1p,
            log_q: (-d).min(0.0) - log1p,
            p,
        }
    }

    /// a·ln σ(d) + b·ln σ(−d).
    #[inline]
    fn loglik(&self, a: f64, b: f64) -> f64 {
        a * self.log_p + b * self.log_q
    }
}

/// The result of a Newton-CG fit.
pub(crate) struct NewtonCgFit {
    pub theta: Vec<f64>,
    pub loglik: f64,
    pub iterations: usize,
}

/// Maximises the Bradley–Terry log-likelihood minus α·Σθ² from θ = 0; stops when no Newton
/// step moves a utility by more than `tolerance`. θ is centred when α = 0.
pub(crate) fn fit(
    n: usize,
    pairs: &PairCounts,
    alpha: f64,
    tolerance: f64,
    max_iterations: usize,
) -> Result<NewtonCgFit> {
    let penalty = |theta: &[f64]| alpha * theta.iter().map(|t| t * t).sum::<f64>();
    let mut theta = vec![0.0; n];
    let mut value = pairs.evaluate(&theta, None) - penalty(&theta);
    let mut curvature = vec![0.0; pairs.low.len()];
    for iteration in 1..=max_iterations {
        let mut grad = vec![0.0; n];
        pairs.evaluate(&theta, Some((&mut grad, &mut curvature)));
        grad.iter_mut()
            .zip(&theta)
            .for_each(|(g, t)| *g -= 2.0 * alpha * t);
        let grad_norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        // Inexact Newton: the forcing term shrinks with the gradient (superlinear convergence).
        let forcing = grad_norm.clamp(1e-14, 1e-2);
        let step = conjugate_gradient(pairs, &curvature, alpha, &grad, forcing)?;
        let mut scale = 1.0;
        let mut candidate: Vec<f64>;
        loop {
            candidate = theta
                .iter()
                .zip(&step)
                .map(|(t, s)| t + scale * s)
                .collect();
            let new_value = pairs.evaluate(&candidate, None) - penalty(&candidate);
            if new_value >= value - 1e-12 * value.abs().max(1.0) || scale < 1e-8 {
                value = new_value;
                break;
            }
            scale /= 2.0;
        }
        let largest = step.iter().map(|s| (scale * s).abs()).fold(0.0, f64::max);
        theta = candidate;
        if !value.is_finite() {
            return Err(Error::Numerical {
                context: "Bradley–Terry Newton-CG".into(),
                message: format!("the objective became {value} at iteration {iteration}"),
            });
        }
        if largest < tolerance {
            if alpha == 0.0 {
                let mean = theta.iter().sum::<f64>() / n as f64;
                theta.iter_mut().for_each(|t| *t -= mean);
            }
            return Ok(NewtonCgFit {
                loglik: pairs.evaluate(&theta, None),
                theta,
                iterations: iteration,
            });
        }
    }
    Err(Error::NotConverged {
        method: "Bradley–Terry Newton-CG".into(),
        iterations: max_iterations,
        residual: f64::NAN,
        tolerance,
        reason: "iteration limit".into(),
    })
}

/// Solves (L + shift) x = b by conjugate gradients with a Jacobi preconditioner, to a residual
/// of `forcing`·‖b‖.
fn conjugate_gradient(
    pairs: &PairCounts,
    curvature: &[f64],
    alpha: f64,
    b: &[f64],
    forcing: f64,
) -> Result<Vec<f64>> {
    let n = b.len();
    let shift = if alpha > 0.0 {
        2.0 * alpha
    } else {
        1.0 / n as f64
    };
    let mut diagonal = vec![shift; n];
    for ((&i, &j), &h) in pairs.low.iter().zip(&pairs.high).zip(curvature) {
        diagonal[i as usize] += h;
        diagonal[j as usize] += h;
    }
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
    let target = forcing * dot(b, b).sqrt();
    let mut x = vec![0.0; n];
    let mut r = b.to_vec();
    let mut z: Vec<f64> = r.iter().zip(&diagonal).map(|(r, d)| r / d).collect();
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let mut q = vec![0.0; n];
    let max_steps = 10 * n.max(100);
    for _ in 0..max_steps {
        if dot(&r, &r).sqrt() <= target {
            return Ok(x);
        }
        pairs.apply(curvature, alpha, &p, &mut q);
        let curvature_along = dot(&p, &q);
        if curvature_along <= 0.0 {
            return Err(Error::Numerical {
                context: "Bradley–Terry Newton-CG".into(),
                message: "the information matrix is not positive definite".into(),
            });
        }
        let step = rz / curvature_along;
        for k in 0..n {
            x[k] += step * p[k];
            r[k] -= step * q[k];
        }
        z.iter_mut()
            .zip(&r)
            .zip(&diagonal)
            .for_each(|((z, r), d)| *z = r / d);
        let rz_next = dot(&r, &z);
        let beta = rz_next / rz;
        rz = rz_next;
        p.iter_mut().zip(&z).for_each(|(p, z)| *p = z + beta * *p);
    }
    Err(Error::NotConverged {
        method: "conjugate gradients (Newton step)".into(),
        iterations: max_steps,
        residual: dot(&r, &r).sqrt(),
        tolerance: target,
        reason: "iteration limit".into(),
    })
}
