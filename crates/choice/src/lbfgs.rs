//! Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, alg. 7.5).

use choicelab_core::{Error, Result};

/// Settings of an L-BFGS run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LbfgsSettings {
    /// Pairs (s, y) kept for the inverse-Hessian approximation.
    pub memory: usize,
    /// Stop when the largest gradient component is below this.
    pub gradient_tolerance: f64,
    /// Stop when the last `window` steps together lowered f by less than this, relative to
    /// max(|f|, 1) (with a window of 1, scipy's `ftol`): the loss is then minimised to that
    /// precision even where the minimiser runs off to infinity, as it does for items that win
    /// or lose every comparison.
    pub value_tolerance: f64,
    /// Steps over which the decrease of f is measured.
    pub window: usize,
    /// Most iterations.
    pub max_iterations: usize,
}

/// A minimum found by L-BFGS.
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
}

/// Minimises f from `x`; `f(x, grad)` returns f(x) and writes ∇f(x) into `grad`.
pub(crate) fn minimise(
    mut x: Vec<f64>,
    settings: LbfgsSettings,
    f: &dyn Fn(&[f64], &mut [f64]) -> f64,
) -> Result<Minimum> {
    let n = x.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let mut grad = vec![0.0; n];
    let mut value = f(&x, &mut grad);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let mut trial_grad = vec![0.0; n];
    let mut recent = std::collections::VecDeque::with_capacity(settings.window + 1);
    recent.push_back(value);
    for iteration in 1..=settings.max_iterations {
        if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < settings.gradient_tolerance {
            return Ok(Minimum {
                x,
                value,
                iterations: iteration - 1,
            });
        }
        // Two-loop recursion: direction = −H·grad.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        let gamma = history
            .last()
            .map_or(1.0 / dot(&grad, &grad).sqrt().max(1.0), |(s, y, _)| {
                dot(s, y) / dot(y, y)
            });
        q.iter_mut().for_each(|q| *q *= gamma);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        let direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&grad, &direction);
        if slope >= 0.0 {
            history.clear();
            continue;
        }
        // Backtracking line search on the Armijo condition.
        let mut step = 1.0;
        let (candidate, new_value) = loop {
            let candidate: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(x, d)| x + step * d)
                .collect();
            let new_value = f(&candidate, &mut trial_grad);
            if new_value.is_finite() && new_value <= value + 1e-4 * step * slope {
                break (candidate, new_value);
            }
            step /= 2.0;
            if step < 1e-20 {
                return Err(Error::Numerical {
                    context: "L-BFGS line search".into(),
                    message: format!(
                        "no decrease along the search direction at iteration {iteration}"
                    ),
                });
            }
        };
        let s: Vec<f64> = candidate.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = trial_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            if history.len() == settings.memory {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        x = candidate;
        value = new_value;
        grad.copy_from_slice(&trial_grad);
        recent.push_back(value);
        if recent.len() > settings.window.max(1) + 1 {
            recent.pop_front();
        }
        let decrease = recent.front().copied().unwrap_or(value) - value;
        let full_window = recent.len() == settings.window.max(1) + 1;
        if full_window && decrease <= settings.value_tolerance * value.abs().max(1.0) {
            return Ok(Minimum {
                x,
                value,
                iterations: iteration,
            });
        }
    }
    Err(Error::NotConverged {
        method: "L-BFGS".into(),
        iterations: settings.max_iterations,
        residual: grad.iter().fold(0.0f64, |m, g| m.max(g.abs())),
        tolerance: settings.gradient_tolerance,
        reason: "iteration limit".into(),
    })
}
