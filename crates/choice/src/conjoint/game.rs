//! The adversarial case: two sides choose factorised policies in the zero-sum game
//! f(π_A, π_B) = Q(π_A, π_B) − λ·D(π_A) + λ·D(π_B), solved by mirror-prox (extragradient on
//! each factor's simplex) with iterate averaging, and judged by exploitability.

use choicelab_core::{Error, Result};

use super::contest::{Contest, Player, Policy};
use super::policy::{Penalty, PolicyOptimiser};

/// How far a pair of policies is from an equilibrium.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exploitability {
    /// max_π' f(π', π_B) − min_π'' f(π_A, π'') in the penalised game the solver solves; its
    /// best responses come from mirror ascent from several starts, so with λ > 0 and strong
    /// interactions it is a lower bound.
    pub penalised: f64,
    /// max_π' Q(π', π_B) − min_π'' Q(π_A, π'') without penalty: exact by enumerating pure
    /// profiles when the contest is exact.
    pub unpenalised: f64,
}

/// The exploitability of (π_A, π_B) in the game penalised by λ·D and without penalty.
pub fn exploitability(
    contest: &Contest,
    a: &Policy,
    b: &Policy,
    penalty: Penalty,
    lambda: f64,
) -> Result<Exploitability> {
    let optimiser = PolicyOptimiser {
        penalty,
        lambda,
        tolerance: 1e-11,
        ..PolicyOptimiser::default()
    };
    let divergence = |pi: &Policy, player: Player| -> f64 {
        let prior = contest.design_policy(player);
        (0..pi.marginals.len())
            .filter(|&k| contest.side(player).fixed[k].is_none())
            .map(|k| penalty.value(&pi.marginals[k], &prior.marginals[k]))
            .sum()
    };
    // Each player's best penalised objective: max ±Q − λ·D over its own policy.
    let best_a = optimiser.optimise(contest, Player::A, b, std::slice::from_ref(a))?;
    let best_b = optimiser.optimise(contest, Player::B, a, std::slice::from_ref(b))?;
    let penalised = best_a.objective
        + lambda * divergence(b, Player::B)
        + best_b.objective
        + lambda * divergence(a, Player::A);
    let (_, top) = contest.best_pure_response(Player::A, b);
    let (_, bottom) = contest.best_pure_response(Player::B, a);
    Ok(Exploitability {
        penalised: penalised.max(0.0),
        unpenalised: (top - bottom).max(0.0),
    })
}

/// Settings of the mirror-prox equilibrium solver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquilibriumSolver {
    /// The penalty toward each side's design distribution.
    pub penalty: Penalty,
    /// Its strength λ ≥ 0 (the same for both sides).
    pub lambda: f64,
    /// Mirror step η (capped at 1/λ for KL).
    pub step: f64,
    /// Extragradient iterations at most.
    pub max_iterations: usize,
    /// Exploitability is measured every this many iterations; the solver also stops once ten
    /// checks in a row have not lowered the best exploitability by 1% (a stall, as where no
    /// factorised equilibrium exists).
    pub check_every: usize,
    /// Stop once the penalised exploitability is at most this.
    pub tolerance: f64,
}

impl Default for EquilibriumSolver {
    fn default() -> Self {
        Self {
            penalty: Penalty::Kl,
            lambda: 0.0,
            step: 10.0,
            max_iterations: 5000,
            check_every: 50,
            tolerance: 1e-6,
        }
    }
}

/// A solved game.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// Side A's policy.
    pub a: Policy,
    /// Side B's policy.
    pub b: Policy,
    /// Q(π_A, π_B): A's expected vote share.
    pub value: f64,
    /// Its exploitability.
    pub exploitability: Exploitability,
    /// Whether the penalised exploitability reached the tolerance.
    pub converged: bool,
    /// Whether the returned pair is the iterate average (else the last iterate, returned when
    /// it is less exploitable).
    pub averaged: bool,
    /// Iterations run.
    pub iterations: usize,
    /// (iteration, penalised exploitability of the averaged pair) at each check.
    pub trace: Vec<(usize, f64)>,
}

impl EquilibriumSolver {
    /// Mirror-prox from both design distributions: a half step of each side along its own
    /// gradient, a full step from the old point along the gradient at the half step, and the
    /// running average of the half-step points; stops when the average or the last iterate is
    /// within `tolerance` of an equilibrium, and returns the less exploitable of the two.
    pub fn solve(&self, contest: &Contest) -> Result<Equilibrium> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(Error::parameter("lambda", "must be finite and ≥ 0"));
        }
        if !(self.step > 0.0 && self.step.is_finite())
            || self.check_every == 0
            || self.max_iterations == 0
        {
            return Err(Error::parameter(
                "step",
                "the step must be > 0 and the iteration counts ≥ 1",
            ));
        }
        let priors = [
            contest.design_policy(Player::A),
            contest.design_policy(Player::B),
        ];
        let eta = match self.penalty {
            Penalty::Kl if self.lambda > 0.0 => self.step.min(1.0 / self.lambda),
            _ => self.step,
        };
        let step = |from: &Policy, gradient: &[Vec<f64>], player: Player| -> Policy {
            let sign = if player == Player::A { 1.0 } else { -1.0 };
            let prior = &priors[player as usize];
            let mut next = from.clone();
            for (k, m) in next.marginals.iter_mut().enumerate() {
                if contest.side(player).fixed[k].is_none() {
                    let d: Vec<f64> = gradient[k].iter().map(|g| sign * g).collect();
                    *m = self
                        .penalty
                        .mirror_step(
                            &from.marginals[k],
                            &d,
                            &prior.marginals[k],
                            eta,
                            self.lambda,
                        )
                        .0;
                }
            }
            next
        };
        let (mut xa, mut xb) = (priors[0].clone(), priors[1].clone());
        let (mut avg_a, mut avg_b) = (xa.clone(), xb.clone());
        let mut trace = Vec::new();
        let mut best: Option<(Policy, Policy, Exploitability, bool)> = None;
        let mut iterations = 0;
        // The best exploitability ten checks ago, for the stall rule.
        let mut history: Vec<f64> = Vec::new();
        for t in 1..=self.max_iterations {
            iterations = t;
            let g = contest.value_and_gradient(&xa, &xb);
            let (ya, yb) = (step(&xa, &g.a, Player::A), step(&xb, &g.b, Player::B));
            let h = contest.value_and_gradient(&ya, &yb);
            xa = step(&xa, &h.a, Player::A);
            xb = step(&xb, &h.b, Player::B);
            let weight = 1.0 / t as f64;
            for (avg, y) in [(&mut avg_a, &ya), (&mut avg_b, &yb)] {
                for (m, n) in avg.marginals.iter_mut().zip(&y.marginals) {
                    m.iter_mut()
                        .zip(n)
                        .for_each(|(m, n)| *m += weight * (n - *m));
                }
            }
            if t % self.check_every == 0 || t == self.max_iterations {
                let averaged = exploitability(contest, &avg_a, &avg_b, self.penalty, self.lambda)?;
                let last = exploitability(contest, &xa, &xb, self.penalty, self.lambda)?;
                trace.push((t, averaged.penalised));
                let candidate = if last.penalised < averaged.penalised {
                    (xa.clone(), xb.clone(), last, false)
                } else {
                    (avg_a.clone(), avg_b.clone(), averaged, true)
                };
                let done = candidate.2.penalised <= self.tolerance;
                if best
                    .as_ref()
                    .is_none_or(|b| candidate.2.penalised < b.2.penalised)
                {
                    best = Some(candidate);
                }
                let record = best.as_ref().map_or(f64::INFINITY, |b| b.2.penalised);
                history.push(record);
                let stalled = history.len() > 10 && record > 0.99 * history[history.len() - 11];
                if done || stalled {
                    break;
                }
            }
        }
        let (a, b, exploitability, averaged) = best.expect("at least one check");
        Ok(Equilibrium {
            converged: exploitability.penalised <= self.tolerance,
            value: contest.value(&a, &b),
            a,
            b,
            exploitability,
            averaged,
            iterations,
            trace,
        })
    }
}
