//! Bradley–Terry by maximum likelihood: P(i ≻ j) = σ(θ_i − θ_j).

use choicelab_core::{Comparisons, Error, Outcome, Result};

use choicelab_core::logistic::{log_sigmoid, sigmoid};

use crate::fitted::FittedUtilities;
use crate::graph::WinGraph;
use crate::newton::{maximise, NewtonSettings};
use crate::newton_cg::{self, PairCounts};
use crate::ties::{self, Ties};

/// Largest number of items fitted with dense Newton steps under [`Solver::Auto`].
pub const DENSE_ITEMS: usize = 2000;

/// How the Newton steps of a Bradley–Terry fit are solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// Dense for at most [`DENSE_ITEMS`] items, conjugate gradients above.
    Auto,
    /// Cholesky of the dense items × items information; gives standard errors.
    Dense,
    /// Preconditioned conjugate gradients on the comparison graph (memory linear in the number
    /// of distinct pairs); no standard errors, since they need the inverse's diagonal.
    ConjugateGradient,
}

/// Bradley–Terry parameters: the ridge penalty and Newton's stopping rule.
///
/// The objective is the negative log-likelihood plus α·Σθ², exactly choix's `opt_*` penalty
/// (whose docstring's "prior variance 1/α" is really 1/(2α)). Soft labels y = P(first ≻ second)
/// enter as y·ln σ(θ_a − θ_b) + (1 − y)·ln σ(θ_b − θ_a). Ties are rejected unless `ties` names
/// a model for them (Rao–Kupper or Davidson, fitted by L-BFGS, without standard errors).
#[derive(Debug, Clone)]
pub struct BradleyTerry {
    /// Ridge penalty α ≥ 0; with α = 0 the comparison graph must be strongly connected.
    pub alpha: f64,
    /// Stop when no Newton step moves a utility by more than this.
    pub tolerance: f64,
    /// Most Newton steps.
    pub max_iterations: usize,
    /// How Newton steps are solved.
    pub solver: Solver,
    /// How ties in the data are modelled.
    pub ties: Ties,
}

impl Default for BradleyTerry {
    fn default() -> Self {
        Self {
            alpha: 0.0,
            tolerance: 1e-10,
            max_iterations: 100,
            solver: Solver::Auto,
            ties: Ties::Reject,
        }
    }
}

impl BradleyTerry {
    /// Bradley–Terry with ridge penalty `alpha`.
    pub fn with_alpha(alpha: f64) -> Self {
        Self {
            alpha,
            ..Self::default()
        }
    }

    /// Checks the parameters and the data.
    fn check(&self, data: &Comparisons) -> Result<()> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(Error::parameter(
                "alpha",
                format!("{} must be ≥ 0", self.alpha),
            ));
        }
        if data.records().is_empty() {
            return Err(Error::invalid(
                choicelab_core::Location::new("<comparisons>"),
                "no comparisons to fit",
            ));
        }
        if self.ties == Ties::Reject && data.records().iter().any(|r| r.outcome == Outcome::Tie) {
            return Err(Error::parameter(
                "ties",
                "the data has ties: model them (Rao–Kupper or Davidson), give them as a soft \
                 label of 0.5, or split them",
            ));
        }
        if self.alpha == 0.0 {
            let mut graph = WinGraph::new(data.items().len());
            for r in data.records() {
                let y = r.first_share();
                if y > 0.0 {
                    graph.add_win(r.first, r.second);
                }
                if y < 1.0 {
                    graph.add_win(r.second, r.first);
                }
            }
            graph.require_strongly_connected(data.items())?;
        }
        Ok(())
    }

    /// Fits θ by Newton's method with the analytic Hessian.
    pub fn fit(&self, data: &Comparisons) -> Result<FittedUtilities> {
        self.check(data)?;
        if self.ties != Ties::Reject {
            return ties::fit(data, self.ties, self.alpha, 100 * self.max_iterations);
        }
        let n = data.items().len();
        let dense = match self.solver {
            Solver::Auto => n <= DENSE_ITEMS,
            Solver::Dense => true,
            Solver::ConjugateGradient => false,
        };
        if dense {
            self.fit_dense(data)
        } else {
            let pairs = PairCounts::new(data.records());
            let fit = newton_cg::fit(n, &pairs, self.alpha, self.tolerance, self.max_iterations)?;
            Ok(FittedUtilities {
                model: "bradley-terry",
                items: data.items().clone(),
                theta: fit.theta,
                std_errors: None,
                loglik: fit.loglik,
                iterations: fit.iterations,
                n_obs: data.records().len(),
                tie_parameter: None,
            })
        }
    }

    fn fit_dense(&self, data: &Comparisons) -> Result<FittedUtilities> {
        let records = data.records();
        let evaluate = |theta: &[f64], derivatives: Option<(&mut [f64], &mut faer::Mat<f64>)>| {
            let mut loglik = 0.0;
            match derivatives {
                None => {
                    for r in records {
                        let d = theta[r.first as usize] - theta[r.second as usize];
                        let y = r.first_share();
                        loglik += r.weight * (y * log_sigmoid(d) + (1.0 - y) * log_sigmoid(-d));
                    }
                }
                Some((grad, information)) => {
                    for r in records {
                        let (a, b) = (r.first as usize, r.second as usize);
                        let d = theta[a] - theta[b];
                        let y = r.first_share();
                        loglik += r.weight * (y * log_sigmoid(d) + (1.0 - y) * log_sigmoid(-d));
                        let p = sigmoid(d);
                        let g = r.weight * (y - p);
                        grad[a] += g;
                        grad[b] -= g;
                        let h = r.weight * p * (1.0 - p);
                        information[(a, a)] += h;
                        information[(b, b)] += h;
                        information[(a, b)] -= h;
                        information[(b, a)] -= h;
                    }
                }
            }
            loglik
        };
        let settings = NewtonSettings {
            alpha: self.alpha,
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
        };
        let fit = maximise(data.items().len(), settings, &evaluate)?;
        Ok(fit.into_utilities("bradley-terry", data.items(), records.len()))
    }
}
