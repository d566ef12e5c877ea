//! Plackett–Luce by maximum likelihood, and Luce spectral ranking (LSR, I-LSR).

use choicelab_core::{Comparisons, Error, Items, Location, Result, SetChoices};
use faer::linalg::solvers::Solve;
use faer::Mat;

use crate::fitted::FittedUtilities;
use crate::graph::WinGraph;
use crate::newton::{maximise, NewtonSettings};

/// Plackett–Luce for choices from sets and rankings: P(i chosen from S) = e^{θ_i} / Σ_{j∈S} e^{θ_j}.
#[derive(Debug, Clone)]
pub struct PlackettLuce {
    /// Ridge penalty α ≥ 0 on Σθ²; with α = 0 the win graph must be strongly connected.
    pub alpha: f64,
    /// Stop when no Newton step moves a utility by more than this.
    pub tolerance: f64,
    /// Most Newton steps.
    pub max_iterations: usize,
}

impl Default for PlackettLuce {
    fn default() -> Self {
        Self {
            alpha: 0.0,
            tolerance: 1e-10,
            max_iterations: 100,
        }
    }
}

impl PlackettLuce {
    /// Fits θ by Newton's method with the analytic Hessian.
    pub fn fit(&self, data: &SetChoices) -> Result<FittedUtilities> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(Error::parameter(
                "alpha",
                format!("{} must be ≥ 0", self.alpha),
            ));
        }
        require_choices(data)?;
        if self.alpha == 0.0 {
            win_graph(data).require_strongly_connected(data.items())?;
        }
        let choices = data.choices();
        let evaluate = |theta: &[f64], mut derivatives: Option<(&mut [f64], &mut Mat<f64>)>| {
            let mut loglik = 0.0;
            let mut members = Vec::new();
            let mut probs = Vec::new();
            for choice in choices {
                members.clear();
                members.push(choice.winner as usize);
                members.extend(choice.others.iter().map(|&i| i as usize));
                let max = members
                    .iter()
                    .map(|&i| theta[i])
                    .fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = members.iter().map(|&i| (theta[i] - max).exp()).sum();
                let log_total = max + total.ln();
                loglik += theta[choice.winner as usize] - log_total;
                if let Some((grad, information)) = derivatives.as_mut() {
                    probs.clear();
                    probs.extend(members.iter().map(|&i| (theta[i] - log_total).exp()));
                    grad[choice.winner as usize] += 1.0;
                    for (k, &i) in members.iter().enumerate() {
                        grad[i] -= probs[k];
                        information[(i, i)] += probs[k];
                        for (l, &j) in members.iter().enumerate() {
                            information[(i, j)] -= probs[k] * probs[l];
                        }
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
        Ok(fit.into_utilities("plackett-luce", data.items(), choices.len()))
    }
}

fn require_choices(data: &SetChoices) -> Result<()> {
    if data.choices().is_empty() {
        return Err(Error::invalid(
            Location::new("<choices>"),
            "no choices to fit",
        ));
    }
    Ok(())
}

fn win_graph(data: &SetChoices) -> WinGraph {
    let mut graph = WinGraph::new(data.items().len());
    for choice in data.choices() {
        for &loser in &choice.others {
            graph.add_win(choice.winner, loser);
        }
    }
    graph
}

/// A weighted win of one item over a set, the unit of Luce spectral ranking.
struct Win<'a> {
    winner: u32,
    others: &'a [u32],
    weight: f64,
}

/// Luce spectral ranking (Maystre & Grossglauser, NeurIPS 2015), as choix computes it.
///
/// The Markov chain has rate(loser → winner) += weight / Σ_{j ∈ set} w_j for each choice; its
/// stationary distribution π gives θ = ln π, centred. One step from w = 1 is LSR; iterating
/// with w = e^θ until the L1 change is at most `tolerance` is I-LSR, which converges to the
/// maximum-likelihood estimate. `prior_rate` is choix's LSR `alpha`: a rate added between
/// every pair of items (not a ridge penalty).
#[derive(Debug, Clone)]
pub struct SpectralRanking {
    /// Rate added to every off-diagonal entry of the chain.
    pub prior_rate: f64,
    /// I-LSR stops when ‖θ_{k+1} − θ_k‖₁ ≤ tolerance.
    pub tolerance: f64,
    /// Most I-LSR iterations.
    pub max_iterations: usize,
}

impl Default for SpectralRanking {
    fn default() -> Self {
        Self {
            prior_rate: 0.0,
            tolerance: 1e-8,
            max_iterations: 100,
        }
    }
}

impl SpectralRanking {
    /// One LSR step from equal strengths, on choices from sets (rankings, top-1).
    pub fn lsr_choices(&self, data: &SetChoices) -> Result<FittedUtilities> {
        self.fit_choices(data, false)
    }

    /// I-LSR on choices from sets: the maximum-likelihood Plackett–Luce estimate.
    pub fn ilsr_choices(&self, data: &SetChoices) -> Result<FittedUtilities> {
        self.fit_choices(data, true)
    }

    /// One LSR step from equal strengths, on pairwise comparisons (soft labels split the rate).
    pub fn lsr_pairwise(&self, data: &Comparisons) -> Result<FittedUtilities> {
        self.fit_pairwise(data, false)
    }

    /// I-LSR on pairwise comparisons: the maximum-likelihood Bradley–Terry estimate.
    pub fn ilsr_pairwise(&self, data: &Comparisons) -> Result<FittedUtilities> {
        self.fit_pairwise(data, true)
    }

    fn fit_choices(&self, data: &SetChoices, iterate: bool) -> Result<FittedUtilities> {
        require_choices(data)?;
        if self.prior_rate == 0.0 {
            win_graph(data).require_strongly_connected(data.items())?;
        }
        let wins: Vec<Win> = data
            .choices()
            .iter()
            .map(|c| Win {
                winner: c.winner,
                others: &c.others,
                weight: 1.0,
            })
            .collect();
        self.run(data.items(), &wins, iterate)
    }

    fn fit_pairwise(&self, data: &Comparisons, iterate: bool) -> Result<FittedUtilities> {
        if data.records().is_empty() {
            return Err(Error::invalid(
                Location::new("<comparisons>"),
                "no comparisons to fit",
            ));
        }
        let mut graph = WinGraph::new(data.items().len());
        let mut wins = Vec::new();
        for r in data.records() {
            let y = r.first_share();
            if y > 0.0 {
                graph.add_win(r.first, r.second);
                wins.push(Win {
                    winner: r.first,
                    others: std::slice::from_ref(&r.second),
                    weight: r.weight * y,
                });
            }
            if y < 1.0 {
                graph.add_win(r.second, r.first);
                wins.push(Win {
                    winner: r.second,
                    others: std::slice::from_ref(&r.first),
                    weight: r.weight * (1.0 - y),
                });
            }
        }
        if self.prior_rate == 0.0 {
            graph.require_strongly_connected(data.items())?;
        }
        self.run(data.items(), &wins, iterate)
    }

    fn run(&self, items: &Items, wins: &[Win], iterate: bool) -> Result<FittedUtilities> {
        let n = items.len();
        let mut theta = vec![0.0; n];
        let mut iterations = 0;
        loop {
            iterations += 1;
            let next = self.step(n, wins, &theta)?;
            let change: f64 = next.iter().zip(&theta).map(|(a, b)| (a - b).abs()).sum();
            theta = next;
            if !iterate || change <= self.tolerance {
                break;
            }
            if iterations >= self.max_iterations {
                return Err(Error::NotConverged {
                    method: "I-LSR".into(),
                    iterations,
                    residual: change,
                    tolerance: self.tolerance,
                    reason: "iteration limit".into(),
                });
            }
        }
        Ok(FittedUtilities {
            model: if iterate { "ilsr" } else { "lsr" },
            items: items.clone(),
            theta,
            std_errors: None,
            loglik: f64::NAN,
            iterations,
            n_obs: wins.len(),
            tie_parameter: None,
        })
    }

    /// One spectral step: the chain for strengths e^θ, its stationary distribution, ln, centred.
    fn step(&self, n: usize, wins: &[Win], theta: &[f64]) -> Result<Vec<f64>> {
        let strength: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let mut rate = Mat::from_fn(n, n, |i, j| if i == j { 0.0 } else { self.prior_rate });
        for win in wins {
            let total: f64 = strength[win.winner as usize]
                + win
                    .others
                    .iter()
                    .map(|&i| strength[i as usize])
                    .sum::<f64>();
            for &loser in win.others {
                rate[(loser as usize, win.winner as usize)] += win.weight / total;
            }
        }
        // π Q = 0 with Σπ = 1: solve Qᵀπ = 0 with the last equation replaced by Σπ = 1.
        let mut system = Mat::<f64>::zeros(n, n);
        for i in 0..n {
            let out: f64 = (0..n).map(|j| rate[(i, j)]).sum();
            for j in 0..n {
                system[(j, i)] = rate[(i, j)];
            }
            system[(i, i)] -= out;
        }
        for j in 0..n {
            system[(n - 1, j)] = 1.0;
        }
        let mut rhs = Mat::<f64>::zeros(n, 1);
        rhs[(n - 1, 0)] = 1.0;
        let pi = system.partial_piv_lu().solve(&rhs);
        let logs: Vec<f64> = (0..n).map(|i| pi[(i, 0)].ln()).collect();
        if logs.iter().any(|l| !l.is_finite()) {
            return Err(Error::Numerical {
                context: "Luce spectral ranking".into(),
                message: "the chain's stationary distribution has a zero or negative entry".into(),
            });
        }
        let mean = logs.iter().sum::<f64>() / n as f64;
        Ok(logs.iter().map(|l| l - mean).collect())
    }
}
