//! The optimal stochastic intervention against a fixed opponent: maximise
//! Q(π, p_opp) − λ·Σ_k D(π_k, p_k) by mirror (exponentiated-gradient) ascent on each factor's
//! simplex, with D the KL divergence or squared L2 distance to the design distribution, and λ
//! chosen by the out-of-fold policy value.

use choicelab_core::{Error, Result, Seed};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::contest::{Contest, ContestSettings, Player, Policy};
use super::data::ConjointData;
use super::design::{Design, Side};
use super::model::{Electorate, LogisticFit};

/// How a policy is pulled toward the design distribution p.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    /// Σ_k KL(π_k ‖ p_k).
    Kl,
    /// Σ_k ‖π_k − p_k‖².
    L2,
}

impl Penalty {
    /// D(π_k, p_k) of one factor.
    pub fn value(self, pi: &[f64], p: &[f64]) -> f64 {
        match self {
            Penalty::Kl => pi
                .iter()
                .zip(p)
                .filter(|(x, _)| **x > 0.0)
                .map(|(x, q)| x * (x / q).ln())
                .sum(),
            Penalty::L2 => pi.iter().zip(p).map(|(x, q)| (x - q) * (x - q)).sum(),
        }
    }

    /// argmax over the simplex of ⟨d, π⟩ − λ·D(π, p): p·e^{d/λ} normalised (KL), the
    /// projection of p + d/(2λ) (L2), or the best level (λ = 0).
    pub fn block_max(self, d: &[f64], p: &[f64], lambda: f64) -> Vec<f64> {
        if lambda == 0.0 {
            let best = (0..d.len()).fold(0, |b, l| if d[l] > d[b] { l } else { b });
            return (0..d.len())
                .map(|l| f64::from(u8::from(l == best)))
                .collect();
        }
        match self {
            Penalty::Kl => {
                let logits: Vec<f64> = d
                    .iter()
                    .zip(p)
                    .map(|(d, q)| safe_ln(*q) + d / lambda)
                    .collect();
                normalise_logits(&logits)
            }
            Penalty::L2 => {
                let target: Vec<f64> = d
                    .iter()
                    .zip(p)
                    .map(|(d, q)| q + d / (2.0 * lambda))
                    .collect();
                project_to_simplex(&target)
            }
        }
    }

    /// One mirror step from π along d: log π' = log π + η·D with D = d − λ∇D(π) (for KL
    /// d − λ·log(π/p), the proximal form, which needs ηλ ≤ 1), the step shrunk so that no log
    /// probability moves by more than [`STEP_CAP`] relative to another; returns π' and the step
    /// used. Levels at 0, or (KL) with design probability 0, get 0.
    pub(crate) fn mirror_step(
        self,
        pi: &[f64],
        d: &[f64],
        p: &[f64],
        eta: f64,
        lambda: f64,
    ) -> (Vec<f64>, f64) {
        let active =
            |l: usize| pi[l] > 0.0 && !(self == Penalty::Kl && lambda > 0.0 && p[l] == 0.0);
        let direction: Vec<f64> = (0..pi.len())
            .map(|l| {
                if !active(l) {
                    return 0.0;
                }
                d[l] - match self {
                    Penalty::Kl if lambda > 0.0 => lambda * (pi[l] / p[l]).ln(),
                    Penalty::Kl => 0.0,
                    Penalty::L2 => 2.0 * lambda * (pi[l] - p[l]),
                }
            })
            .collect();
        let (low, high) = (0..pi.len())
            .filter(|&l| active(l))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
                (lo.min(direction[l]), hi.max(direction[l]))
            });
        let spread = high - low;
        let eta = if spread > 0.0 {
            eta.min(STEP_CAP / spread)
        } else {
            eta
        };
        let logits: Vec<f64> = (0..pi.len())
            .map(|l| {
                if active(l) {
                    pi[l].ln() + eta * direction[l]
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        (normalise_logits(&logits), eta)
    }

    /// The largest step the mirror update allows at strength λ.
    fn max_step(self, lambda: f64) -> f64 {
        match self {
            Penalty::Kl if lambda > 0.0 => 1.0 / lambda,
            _ => 1e6,
        }
    }
}

/// The most one mirror step may move a log probability relative to another in its factor.
const STEP_CAP: f64 = 4.0;

/// ln x, with ln 0 = −∞ written as a finite stand-in that exp maps back to 0.
fn safe_ln(x: f64) -> f64 {
    if x > 0.0 {
        x.ln()
    } else {
        -1e300
    }
}

fn normalise_logits(logits: &[f64]) -> Vec<f64> {
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|z| (z - top).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|x| x / total).collect()
}

/// Euclidean projection onto the probability simplex (sort and threshold).
fn project_to_simplex(y: &[f64]) -> Vec<f64> {
    let mut sorted = y.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut cumulative = 0.0;
    let mut theta = 0.0;
    for (i, &s) in sorted.iter().enumerate() {
        cumulative += s;
        let t = (cumulative - 1.0) / (i + 1) as f64;
        if s - t > 0.0 {
            theta = t;
        }
    }
    y.iter().map(|v| (v - theta).max(0.0)).collect()
}

/// Settings of the penalised policy optimisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyOptimiser {
    /// The penalty toward the design distribution.
    pub penalty: Penalty,
    /// Its strength λ ≥ 0.
    pub lambda: f64,
    /// Stop when the blockwise optimality gap Σ_k [max_x h_k(x) − h_k(π_k)] is below this.
    pub tolerance: f64,
    /// Mirror steps per start before giving up.
    pub max_iterations: usize,
}

impl Default for PolicyOptimiser {
    fn default() -> Self {
        Self {
            penalty: Penalty::Kl,
            lambda: 0.0,
            tolerance: 1e-9,
            max_iterations: 20_000,
        }
    }
}

/// A penalised optimum against a fixed opponent.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimum {
    /// The policy.
    pub policy: Policy,
    /// Q at the policy (A's win probability, whichever player optimised).
    pub value: f64,
    /// The player's objective: ±Q − λ·Σ_k D(π_k, p_k).
    pub objective: f64,
    /// Blockwise optimality gap at the end.
    pub gap: f64,
    /// Mirror steps taken, over all starts.
    pub iterations: usize,
}

impl PolicyOptimiser {
    /// Checks λ and the tolerance.
    pub fn check(&self) -> Result<()> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(Error::parameter(
                "lambda",
                format!("must be finite and ≥ 0, got {}", self.lambda),
            ));
        }
        if self.tolerance.is_nan() || self.tolerance <= 0.0 {
            return Err(Error::parameter("tolerance", "must be > 0"));
        }
        Ok(())
    }

    /// The player's best penalised policy against `opponent` (A maximises Q, B minimises it):
    /// mirror ascent from the design distribution, from the best pure profile (softened toward
    /// the design when λ > 0) and from each of `starts`; the best end point wins. Without a
    /// penalty on an exact contest the best pure profile is the global optimum (Q is
    /// multilinear in the marginals), so the result is exact there.
    pub fn optimise(
        &self,
        contest: &Contest,
        player: Player,
        opponent: &Policy,
        starts: &[Policy],
    ) -> Result<Optimum> {
        self.check()?;
        let design = contest.design();
        let side = contest.side(player);
        opponent.check(design, contest.side(other(player)))?;
        let values = match player {
            Player::A => contest.row_values(opponent),
            Player::B => contest.col_values(opponent),
        };
        let prior = Policy::design(design, side);
        let (pure, _) = contest.best_pure_response(player, opponent);
        let mut pure = Policy::pure(design, &pure);
        if self.lambda > 0.0 {
            for (m, p) in pure.marginals.iter_mut().zip(&prior.marginals) {
                m.iter_mut()
                    .zip(p)
                    .for_each(|(x, q)| *x = 0.9 * *x + 0.1 * q);
            }
        }
        let mut best: Option<Optimum> = None;
        let mut iterations = 0;
        for start in [prior.clone(), pure].iter().chain(starts) {
            start.check(design, side)?;
            let optimum = self.ascend(contest, player, &values, &prior, start.clone())?;
            iterations += optimum.iterations;
            if best
                .as_ref()
                .is_none_or(|b| optimum.objective > b.objective)
            {
                best = Some(optimum);
            }
        }
        let mut best = best.expect("at least one start");
        best.iterations = iterations;
        Ok(best)
    }

    /// Mirror ascent from `start` with a step that doubles after each accepted ascent step and
    /// halves after a rejected one.
    fn ascend(
        &self,
        contest: &Contest,
        player: Player,
        values: &[f64],
        prior: &Policy,
        start: Policy,
    ) -> Result<Optimum> {
        let sign = if player == Player::A { 1.0 } else { -1.0 };
        let profiles = contest.profiles(player);
        let free: Vec<usize> = (0..prior.marginals.len())
            .filter(|&k| contest.side(player).fixed[k].is_none())
            .collect();
        let evaluate = |pi: &Policy| {
            let (value, gradient) = profiles.value_and_gradient(pi, values);
            let penalty: f64 = free
                .iter()
                .map(|&k| self.penalty.value(&pi.marginals[k], &prior.marginals[k]))
                .sum();
            (value, gradient, sign * value - self.lambda * penalty)
        };
        let gap = |pi: &Policy, gradient: &[Vec<f64>]| -> f64 {
            free.iter()
                .map(|&k| {
                    let d: Vec<f64> = gradient[k].iter().map(|g| sign * g).collect();
                    let h = |x: &[f64]| {
                        d.iter().zip(x).map(|(d, x)| d * x).sum::<f64>()
                            - self.lambda * self.penalty.value(x, &prior.marginals[k])
                    };
                    let top = self.penalty.block_max(&d, &prior.marginals[k], self.lambda);
                    (h(&top) - h(&pi.marginals[k])).max(0.0)
                })
                .sum()
        };
        let mut pi = start;
        let (mut value, mut gradient, mut objective) = evaluate(&pi);
        let max_step = self.penalty.max_step(self.lambda);
        let mut eta = max_step.min(1.0);
        for iteration in 0..self.max_iterations {
            let current_gap = gap(&pi, &gradient);
            if current_gap <= self.tolerance || eta < 1e-14 {
                return Ok(Optimum {
                    policy: pi,
                    value,
                    objective,
                    gap: current_gap,
                    iterations: iteration,
                });
            }
            let mut next = pi.clone();
            let mut used: f64 = 0.0;
            for &k in &free {
                let d: Vec<f64> = gradient[k].iter().map(|g| sign * g).collect();
                let (step, eta_k) = self.penalty.mirror_step(
                    &pi.marginals[k],
                    &d,
                    &prior.marginals[k],
                    eta,
                    self.lambda,
                );
                next.marginals[k] = step;
                used = used.max(eta_k);
            }
            let (v, g, o) = evaluate(&next);
            if o >= objective - 1e-15 * objective.abs().max(1.0) {
                (pi, value, gradient, objective) = (next, v, g, o);
                eta = (2.0 * used).min(max_step);
            } else {
                eta = used / 2.0;
            }
        }
        Err(Error::NotConverged {
            method: "mirror ascent (conjoint policy)".into(),
            iterations: self.max_iterations,
            residual: gap(&pi, &gradient),
            tolerance: self.tolerance,
            reason: "iteration limit".into(),
        })
    }
}

/// The other player.
fn other(player: Player) -> Player {
    match player {
        Player::A => Player::B,
        Player::B => Player::A,
    }
}

/// Cross-validation of λ by out-of-fold policy value.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaSearch {
    /// Candidate strengths.
    pub lambdas: Vec<f64>,
    /// Folds, by respondent.
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: Seed,
    /// How each fold's outcome models are fitted.
    pub fit: LogisticFit,
    /// The optimiser (its λ is replaced by each candidate's).
    pub optimiser: PolicyOptimiser,
    /// How each fold's Q is computed.
    pub contest: ContestSettings,
}

/// Each λ's mean out-of-fold value (with its standard error over folds) and the best λ.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaChoice {
    /// The λ with the highest mean out-of-fold value.
    pub lambda: f64,
    /// (λ, mean out-of-fold Q, its standard error over folds), per candidate.
    pub values: Vec<(f64, f64, f64)>,
}

impl LambdaSearch {
    /// For each fold: fit the electorate (segments weighted by `shares`) on the other folds,
    /// optimise side A's policy against `opponent` at each λ, and value it with the electorate
    /// fitted on the held-out fold alone; folds run in parallel.
    pub fn run(
        &self,
        design: &Design,
        data: &ConjointData,
        shares: &[(String, f64)],
        sides: (&Side, &Side),
        opponent: &Policy,
    ) -> Result<LambdaChoice> {
        if self.lambdas.is_empty() || self.lambdas.iter().any(|l| !(l.is_finite() && *l >= 0.0)) {
            return Err(Error::parameter(
                "lambdas",
                format!("need finite candidates ≥ 0, got {:?}", self.lambdas),
            ));
        }
        let fold_of = data.folds_by_respondent(self.folds, self.seed)?;
        let per_fold: Vec<Vec<f64>> = (0..self.folds)
            .into_par_iter()
            .map(|f| {
                let contest = |keep: &dyn Fn(usize) -> bool| -> Result<Contest> {
                    let part = data.filter(keep);
                    let (electorate, _) = Electorate::fit(design, &part, shares, &self.fit)?;
                    Contest::new(
                        design,
                        &electorate,
                        sides.0.clone(),
                        sides.1.clone(),
                        self.contest,
                    )
                };
                let train = contest(&|i| fold_of[i] != f)?;
                let test = contest(&|i| fold_of[i] == f)?;
                self.lambdas
                    .iter()
                    .map(|&lambda| {
                        let optimum = PolicyOptimiser {
                            lambda,
                            ..self.optimiser
                        }
                        .optimise(&train, Player::A, opponent, &[])?;
                        Ok(test.value(&optimum.policy, opponent))
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        let n = self.folds as f64;
        let values: Vec<(f64, f64, f64)> = self
            .lambdas
            .iter()
            .enumerate()
            .map(|(j, &lambda)| {
                let xs: Vec<f64> = per_fold.iter().map(|v| v[j]).collect();
                let mean = xs.iter().sum::<f64>() / n;
                let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
                (lambda, mean, (var / n).sqrt())
            })
            .collect();
        let best = values
            .iter()
            .fold(values[0], |b, v| if v.1 > b.1 { *v } else { b });
        Ok(LambdaChoice {
            lambda: best.0,
            values,
        })
    }
}
