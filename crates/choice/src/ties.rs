//! Bradley–Terry with ties: Rao–Kupper (1967) and Davidson (1970), fitted by L-BFGS with the
//! tie parameter, on log-strengths s (centred afterwards).

use choicelab_core::{Comparisons, Outcome, Result};

use choicelab_core::logistic::{log_sigmoid, sigmoid};

use crate::fitted::FittedUtilities;
use crate::lbfgs::{minimise, LbfgsSettings};

/// How ties enter a Bradley–Terry model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// Ties in the data are an error (split them, or give them as a soft label of ½).
    Reject,
    /// Rao–Kupper: P(i ≻ j) = π_i/(π_i + θπ_j), P(tie) = (θ² − 1)π_iπ_j/((π_i + θπ_j)(π_j + θπ_i)),
    /// θ > 1.
    RaoKupper,
    /// Davidson: P(i ≻ j) = π_i/(π_i + π_j + ν√(π_iπ_j)), P(tie) = ν√(π_iπ_j)/(same), ν > 0.
    Davidson,
}

/// ln(1 + eˣ).
fn softplus(x: f64) -> f64 {
    -log_sigmoid(-x)
}

/// Log-likelihood terms of one comparison with log-strength difference d = s_first − s_second
/// and tie parameter t (τ with θ = 1 + e^τ for Rao–Kupper, η = ln ν for Davidson):
/// returns (ll, ∂ll/∂d, ∂ll/∂t).
fn terms(model: Ties, outcome: Outcome, d: f64, t: f64) -> (f64, f64, f64) {
    // A win of `second` is a win of `first` seen from the other side.
    let (d, sign, shares) = match outcome {
        Outcome::First => (d, 1.0, [1.0, 0.0, 0.0]),
        Outcome::Second => (-d, -1.0, [1.0, 0.0, 0.0]),
        Outcome::Tie => (d, 1.0, [0.0, 0.0, 1.0]),
        Outcome::Probability(p) => (d, 1.0, [p, 1.0 - p, 0.0]),
    };
    let [win, loss, tie] = shares;
    let (mut ll, mut dd, mut dt) = (0.0, 0.0, 0.0);
    match model {
        Ties::RaoKupper => {
            let log_theta = softplus(t);
            let dlog_theta = sigmoid(t);
            let (minus, plus) = (log_theta - d, log_theta + d);
            // ln P(win) = −sp(L − d); ln P(loss) = −sp(L + d);
            // ln P(tie) = ln(θ² − 1) − sp(L − d) − sp(L + d).
            ll -= win * softplus(minus) + loss * softplus(plus);
            dd += win * sigmoid(minus) - loss * sigmoid(plus);
            dt -= (win * sigmoid(minus) + loss * sigmoid(plus)) * dlog_theta;
            if tie > 0.0 {
                let theta2 = (2.0 * log_theta).exp();
                ll += tie * ((theta2 - 1.0).ln() - softplus(minus) - softplus(plus));
                dd += tie * (sigmoid(minus) - sigmoid(plus));
                dt += tie
                    * (2.0 * theta2 / (theta2 - 1.0) - sigmoid(minus) - sigmoid(plus))
                    * dlog_theta;
            }
        }
        Ties::Davidson | Ties::Reject => {
            // With D = e^{d/2} + e^{−d/2} + e^η: ln P(win) = d/2 − ln D, ln P(loss) = −d/2 − ln D,
            // ln P(tie) = η − ln D.
            let half = 0.5 * d;
            let top = half.abs().max(t);
            let log_d = top + ((half - top).exp() + (-half - top).exp() + (t - top).exp()).ln();
            let dlog_d_dd = ((half - log_d).exp() - (-half - log_d).exp()) / 2.0;
            let dlog_d_dt = (t - log_d).exp();
            let total = win + loss + tie;
            ll += win * half - loss * half + tie * t - total * log_d;
            dd += 0.5 * (win - loss) - total * dlog_d_dd;
            dt += tie - total * dlog_d_dt;
        }
    }
    (ll, sign * dd, dt)
}

/// Fits log-strengths and the tie parameter by L-BFGS on the penalised negative
/// log-likelihood; returns the fit and θ (Rao–Kupper) or ν (Davidson).
pub(crate) fn fit(
    data: &Comparisons,
    model: Ties,
    alpha: f64,
    max_iterations: usize,
) -> Result<FittedUtilities> {
    let n = data.items().len();
    let records = data.records();
    // Parameters: s_0..s_{n−1}, then the tie parameter t.
    let objective = |params: &[f64], grad: &mut [f64]| {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let t = params[n];
        let mut nll = 0.0;
        for r in records {
            let (a, b) = (r.first as usize, r.second as usize);
            let (ll, dd, dt) = terms(model, r.outcome, params[a] - params[b], t);
            nll -= r.weight * ll;
            grad[a] -= r.weight * dd;
            grad[b] += r.weight * dd;
            grad[n] -= r.weight * dt;
        }
        for k in 0..n {
            nll += alpha * params[k] * params[k];
            grad[k] += 2.0 * alpha * params[k];
        }
        nll
    };
    let settings = LbfgsSettings {
        memory: 10,
        gradient_tolerance: 1e-9,
        value_tolerance: 1e-15,
        window: 1,
        max_iterations,
    };
    let minimum = minimise(vec![0.0; n + 1], settings, &objective)?;
    let mut theta = minimum.x[..n].to_vec();
    if alpha == 0.0 {
        let mean = theta.iter().sum::<f64>() / n as f64;
        theta.iter_mut().for_each(|s| *s -= mean);
    }
    let t = minimum.x[n];
    let loglik = records
        .iter()
        .map(|r| {
            let d = theta[r.first as usize] - theta[r.second as usize];
            r.weight * terms(model, r.outcome, d, t).0
        })
        .sum();
    let tie_parameter = match model {
        Ties::RaoKupper => 1.0 + t.exp(),
        _ => t.exp(),
    };
    Ok(FittedUtilities {
        model: match model {
            Ties::RaoKupper => "bradley-terry-rao-kupper",
            _ => "bradley-terry-davidson",
        },
        items: data.items().clone(),
        theta,
        std_errors: None,
        loglik,
        iterations: minimum.iterations,
        n_obs: records.len(),
        tie_parameter: Some(tie_parameter),
    })
}
