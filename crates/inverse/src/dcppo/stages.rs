//! The three stages of DCPPO on logged episodes, each callable alone: the human's Q by
//! maximum likelihood, the reward by Bellman-residual ridge regression, and pessimistic value
//! iteration (PEVI) with the recovered reward.

use choicelab_choice::{ConditionalLogit, FittedLogit, LogitSpec};
use choicelab_core::{Alternative, ChoiceSets, Error, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};

use choicelab_core::logistic::log_sum_exp;
use choicelab_envs::linear_ddc::{Episodes, Features, StepTables};

/// Stage 1: Q̂_h(s,a) = φ(s,a)ᵀθ̂_h for each step h.
#[derive(Debug, Clone)]
pub struct QEstimate {
    /// θ̂_h, one vector per step.
    pub theta: Vec<Vec<f64>>,
    /// The conditional logit fitted at each step (standard errors, log-likelihood, …).
    pub fits: Vec<FittedLogit>,
}

impl QEstimate {
    /// Q̂_h(s,a) for every pair, per step.
    pub fn tables(&self, features: &Features) -> StepTables {
        self.theta.iter().map(|t| features.linear(t)).collect()
    }
}

/// Stage 1: at each step h, a conditional logit over the actions with utilities φ(s,a)ᵀθ_h,
/// fitted by Newton's method with the analytic Hessian and ridge penalty `ridge`.
///
/// Choices identify Q_h only up to directions c with φ(s,a)ᵀc the same for every action of a
/// state. In a linear MDP, c = Σ_{s'} μ(s') is one (φᵀc = 1 everywhere), so Q_h is identified
/// at best up to a constant per step. The ridge penalty picks the minimum-norm θ̂_h; the
/// constant it leaves shifts every reward of a step alike and so changes no policy.
pub fn estimate_q(features: &Features, episodes: &Episodes, ridge: f64) -> Result<QEstimate> {
    episodes.check(features)?;
    check_ridge(ridge)?;
    let (a, d) = (features.actions(), features.dim());
    let attributes: Vec<String> = (0..d).map(|k| format!("phi{k}")).collect();
    let attribute_refs: Vec<&str> = attributes.iter().map(String::as_str).collect();
    let names: Vec<String> = (0..a).map(|j| format!("a{j}")).collect();
    let coefficients: Vec<String> = (0..d).map(|k| format!("theta{k:04}")).collect();
    let terms: Vec<String> = coefficients
        .iter()
        .zip(&attributes)
        .map(|(c, x)| format!("{c} * {x}"))
        .collect();
    let term_refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    let spec = names.iter().fold(LogitSpec::new(), |spec, name| {
        spec.utility(name, &term_refs)
    });
    let model = ConditionalLogit {
        ridge,
        ..ConditionalLogit::new(spec)
    };
    let mut theta = Vec::with_capacity(episodes.horizon);
    let mut fits = Vec::with_capacity(episodes.horizon);
    for h in 0..episodes.horizon {
        let mut sets = ChoiceSets::new(&attribute_refs);
        for (e, t) in episodes.at_step(h).enumerate() {
            let rows: Vec<Alternative<'_>> = names
                .iter()
                .enumerate()
                .map(|(j, name)| Alternative {
                    name,
                    available: true,
                    chosen: j == t.action,
                    values: features.at(t.state, j),
                })
                .collect();
            sets.push(&e.to_string(), &rows)?;
        }
        let fit = model.fit(&sets).map_err(|e| at_step(e, h))?;
        theta.push(
            coefficients
                .iter()
                .map(|c| fit.coefficient(c).expect("every coefficient is estimated"))
                .collect(),
        );
        fits.push(fit);
    }
    Ok(QEstimate { theta, fits })
}

/// Names the stage-1 step in a numerical error.
fn at_step(error: Error, h: usize) -> Error {
    let prefix = format!("DCPPO stage 1, step {h}");
    match error {
        Error::Numerical { context, message } => Error::Numerical {
            context: format!("{prefix}: {context}"),
            message,
        },
        Error::NotConverged {
            method,
            iterations,
            residual,
            tolerance,
            reason,
        } => Error::NotConverged {
            method: format!("{prefix}: {method}"),
            iterations,
            residual,
            tolerance,
            reason,
        },
        other => other,
    }
}

/// Stage 2: reward weights ŵ_h = argmin Σ_τ (φ(s_τ,a_τ)ᵀw − y_τ)² + λ‖w‖², with
/// y_τ = Q̂_h(s_τ,a_τ) − V̂_{h+1}(s'_τ) and V̂_{h+1}(s) = log Σ_a exp Q̂_{h+1}(s,a)
/// (V̂ after the last step is 0). One weight vector per step.
pub fn recover_reward(
    features: &Features,
    episodes: &Episodes,
    q: &QEstimate,
    ridge: f64,
) -> Result<Vec<Vec<f64>>> {
    episodes.check(features)?;
    check_ridge(ridge)?;
    if q.theta.len() != episodes.horizon {
        return Err(Error::parameter(
            "q",
            format!(
                "stage 1 has {} steps, the episodes {}",
                q.theta.len(),
                episodes.horizon
            ),
        ));
    }
    let tables = q.tables(features);
    let a = features.actions();
    let soft_value = |h: usize, s: usize| {
        tables
            .get(h)
            .map_or(0.0, |qh| log_sum_exp(&qh[s * a..(s + 1) * a]))
    };
    (0..episodes.horizon)
        .map(|h| {
            let targets = episodes.at_step(h).map(|t| {
                (
                    features.at(t.state, t.action),
                    tables[h][t.state * a + t.action] - soft_value(h + 1, t.next_state),
                )
            });
            Ok(RidgeSystem::accumulate(features.dim(), ridge, targets)?.solution)
        })
        .collect()
}

/// Stage 3 settings: PEVI with bonus Γ_h(s,a) = β‖φ(s,a)‖_{Λ_h⁻¹}, Λ_h = Σ φφᵀ + λI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pessimism {
    /// β, the bonus multiplier (0: plain least-squares value iteration).
    pub beta: f64,
    /// λ of Λ_h and of the least-squares regression of V̄_{h+1}.
    pub ridge: f64,
}

/// Stage 3's result.
#[derive(Debug, Clone, PartialEq)]
pub struct PessimisticPlan {
    /// Q̄_h(s,a), clipped to the range the recovered rewards allow, per step.
    pub q: StepTables,
    /// Γ_h(s,a), per step.
    pub bonus: StepTables,
    /// π̂_h(s) = argmax_a Q̄_h(s,a), per step; ties (as when the bonus pins several actions
    /// at the floor) go to the larger unclipped value r̂ + P̂V̄ − Γ.
    pub policy: Vec<Vec<usize>>,
    /// [lo_h, hi_h], the range Q̄_h is clipped to, per step.
    pub range: Vec<(f64, f64)>,
}

impl PessimisticPlan {
    /// The share of Q̄_h(s,a) entries, over every step, pinned at the floor of their range.
    pub fn floor_share(&self) -> f64 {
        let (mut floored, mut total) = (0usize, 0usize);
        for (qh, (lo, _)) in self.q.iter().zip(&self.range) {
            floored += qh.iter().filter(|q| **q <= *lo).count();
            total += qh.len();
        }
        floored as f64 / total.max(1) as f64
    }
}

/// Stage 3: pessimistic value iteration with rewards r̂_h = φᵀŵ_h. For h = H…1:
/// P̂V̄_{h+1} = φᵀĝ_h with ĝ_h the ridge regression of V̄_{h+1}(s') on φ(s,a), then
/// Q̄_h = clip(r̂_h + P̂V̄_{h+1} − Γ_h, lo_h, hi_h), where [lo_h, hi_h] sums the smallest and
/// largest recovered reward over the remaining steps (PEVI's [0, H−h+1] for rewards in [0,1]).
pub fn pessimistic_plan(
    features: &Features,
    episodes: &Episodes,
    reward_weights: &[Vec<f64>],
    settings: Pessimism,
) -> Result<PessimisticPlan> {
    episodes.check(features)?;
    check_ridge(settings.ridge)?;
    if !(settings.beta.is_finite() && settings.beta >= 0.0) {
        return Err(Error::parameter(
            "beta",
            format!("must be finite and ≥ 0, got {}", settings.beta),
        ));
    }
    let horizon = episodes.horizon;
    if reward_weights.len() != horizon
        || reward_weights
            .iter()
            .any(|w| w.len() != features.dim() || w.iter().any(|x| !x.is_finite()))
    {
        return Err(Error::parameter(
            "reward_weights",
            format!(
                "need {horizon} vectors of {} finite weights, one per step",
                features.dim()
            ),
        ));
    }
    let (s, a) = (features.states(), features.actions());
    let rewards: StepTables = reward_weights.iter().map(|w| features.linear(w)).collect();
    let mut hi = vec![0.0; horizon + 1];
    let mut lo = vec![0.0; horizon + 1];
    for h in (0..horizon).rev() {
        let (min, max) = rewards[h]
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(*r), hi.max(*r))
            });
        lo[h] = lo[h + 1] + min;
        hi[h] = hi[h + 1] + max;
    }
    let mut value = vec![0.0; s];
    let mut plan = PessimisticPlan {
        q: vec![Vec::new(); horizon],
        bonus: vec![Vec::new(); horizon],
        policy: vec![Vec::new(); horizon],
        range: (0..horizon).map(|h| (lo[h], hi[h])).collect(),
    };
    for h in (0..horizon).rev() {
        let system = RidgeSystem::accumulate(
            features.dim(),
            settings.ridge,
            episodes
                .at_step(h)
                .map(|t| (features.at(t.state, t.action), value[t.next_state])),
        )?;
        let continuation = features.linear(&system.solution);
        let bonus: Vec<f64> = (0..s * a)
            .map(|i| {
                let phi = features.at(i / a, i % a);
                settings.beta * system.norm_squared(phi).max(0.0).sqrt()
            })
            .collect();
        let unclipped: Vec<f64> = (0..s * a)
            .map(|i| rewards[h][i] + continuation[i] - bonus[i])
            .collect();
        let qh: Vec<f64> = unclipped.iter().map(|q| q.clamp(lo[h], hi[h])).collect();
        let mut policy = Vec::with_capacity(s);
        for state in 0..s {
            let key = |j: usize| (qh[state * a + j], unclipped[state * a + j]);
            let best = (0..a).fold(0, |b, j| if key(j) > key(b) { j } else { b });
            value[state] = qh[state * a + best];
            policy.push(best);
        }
        plan.q[h] = qh;
        plan.bonus[h] = bonus;
        plan.policy[h] = policy;
    }
    Ok(plan)
}

/// PEVI's theoretical bonus multiplier β = c·d·H·√ζ with ζ = log(2dHK/δ) and c = 1, times
/// the reward range (PEVI assumes rewards in [0,1]); K is the number of episodes and δ the
/// failure probability.
pub fn theory_beta(
    dim: usize,
    horizon: usize,
    episodes: usize,
    delta: f64,
    reward_range: f64,
) -> Result<f64> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::parameter(
            "delta",
            format!("must lie in (0, 1), got {delta}"),
        ));
    }
    if dim == 0
        || horizon == 0
        || episodes == 0
        || !(reward_range.is_finite() && reward_range >= 0.0)
    {
        return Err(Error::parameter(
            "theory_beta",
            format!(
                "needs d, H and K ≥ 1 and a finite reward range, got d = {dim}, H = {horizon}, \
                 K = {episodes}, range {reward_range}"
            ),
        ));
    }
    let (d, h, k) = (dim as f64, horizon as f64, episodes as f64);
    Ok(d * h * (2.0 * d * h * k / delta).ln().sqrt() * reward_range)
}

fn check_ridge(ridge: f64) -> Result<()> {
    if ridge.is_finite() && ridge > 0.0 {
        Ok(())
    } else {
        Err(Error::parameter(
            "ridge",
            format!("must be finite and > 0, got {ridge}"),
        ))
    }
}

/// A ridge regression Λ = Σ φφᵀ + λI, solution Λ⁻¹ Σ φ y, and Λ⁻¹ for the bonus norms.
struct RidgeSystem {
    solution: Vec<f64>,
    inverse: Mat<f64>,
}

impl RidgeSystem {
    fn accumulate<'a>(
        dim: usize,
        ridge: f64,
        rows: impl Iterator<Item = (&'a [f64], f64)>,
    ) -> Result<Self> {
        let mut gram = Mat::<f64>::from_fn(dim, dim, |i, j| if i == j { ridge } else { 0.0 });
        let mut moment = Mat::<f64>::zeros(dim, 1);
        for (phi, y) in rows {
            for i in 0..dim {
                moment[(i, 0)] += phi[i] * y;
                for j in 0..=i {
                    gram[(i, j)] += phi[i] * phi[j];
                }
            }
        }
        for i in 0..dim {
            for j in 0..i {
                gram[(j, i)] = gram[(i, j)];
            }
        }
        let llt = gram.llt(Side::Lower).map_err(|_| Error::Numerical {
            context: "DCPPO ridge regression".into(),
            message: "Σ φφᵀ + λI is not positive definite".into(),
        })?;
        let solution = llt.solve(&moment);
        Ok(Self {
            solution: (0..dim).map(|i| solution[(i, 0)]).collect(),
            inverse: llt.inverse(),
        })
    }

    /// φᵀΛ⁻¹φ.
    fn norm_squared(&self, phi: &[f64]) -> f64 {
        let n = phi.len();
        (0..n)
            .map(|i| phi[i] * (0..n).map(|j| self.inverse[(i, j)] * phi[j]).sum::<f64>())
            .sum()
    }
}
