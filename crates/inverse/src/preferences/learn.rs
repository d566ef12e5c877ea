//! Learning linear reward weights from segment comparisons by maximum likelihood, under the
//! partial-return model (a logistic regression) or the regret model (through V*_w, whose
//! gradient is the successor features of w's optimal policy), and judging them by the scaled
//! return of the policy they induce.

use choicelab_core::logistic::{log_sigmoid, sigmoid};
use choicelab_core::numeric::dot;
use choicelab_core::{Error, Result};
use choicelab_envs::delivery::{DeliveryBoard, MOVES};
use choicelab_mdp::{evaluate_policy, Evaluation};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use crate::preferences::segments::{difference, optimal, successor_features, SegmentSummary};
use crate::preferences::PreferenceModel;

/// Settings of the reward learners (temperature fixed at 1: its scale is w's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardLearner {
    /// Which model the labels are assumed to follow.
    pub model: PreferenceModel,
    /// Discount γ < 1 of V* and of the segments' feature sums.
    pub gamma: f64,
    /// Ridge penalty (λ/2)‖w‖², which also fixes the scale when labels separate.
    pub ridge: f64,
    /// Outer iterations at most.
    pub max_iterations: usize,
}

/// Learned reward weights.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedReward {
    /// ŵ on [gas, goal, sheep, coin, road block, mud].
    pub weights: [f64; 6],
    /// The log-likelihood of the labels at ŵ (without the penalty).
    pub loglik: f64,
    /// Iterations taken.
    pub iterations: usize,
}

impl RewardLearner {
    /// A learner for `model` with γ = 0.999, ridge 1e-3 and 100 iterations.
    pub fn new(model: PreferenceModel) -> Self {
        Self {
            model,
            gamma: 0.999,
            ridge: 1e-3,
            max_iterations: 100,
        }
    }

    /// Fits ŵ to `pairs` (summarised at this learner's γ) with soft labels in [0, 1].
    ///
    /// Partial return: Newton's method on a concave logistic likelihood. Regret: each step
    /// freezes w's optimal policy π, whose successor features ψ make the argument linear in w,
    /// z = Δφ + Δ(γᵀψ(end)) − Δψ(start); a Newton step on that model, halved until the true
    /// likelihood (with π re-optimised) improves; it stops when w or the likelihood stops
    /// moving. Starts from the partial-return fit.
    pub fn fit(
        &self,
        board: &DeliveryBoard,
        pairs: &[[SegmentSummary; 2]],
        labels: &[f64],
    ) -> Result<FittedReward> {
        if pairs.is_empty() || pairs.len() != labels.len() {
            return Err(Error::parameter(
                "labels",
                format!("{} labels for {} pairs", labels.len(), pairs.len()),
            ));
        }
        if let Some(i) = labels.iter().position(|y| !(0.0..=1.0).contains(y)) {
            return Err(Error::parameter(
                "labels",
                format!("label {i} is {}, outside [0, 1]", labels[i]),
            ));
        }
        if !(self.ridge.is_finite() && self.ridge > 0.0 && (0.0..1.0).contains(&self.gamma)) {
            return Err(Error::parameter(
                "learner",
                format!(
                    "need ridge > 0 and γ in [0, 1), got {} and {}",
                    self.ridge, self.gamma
                ),
            ));
        }
        let partial: Vec<[f64; 6]> = pairs
            .iter()
            .map(|[a, b]| std::array::from_fn(|k| a.features[k] - b.features[k]))
            .collect();
        let start = logistic_newton(&partial, labels, self.ridge, [0.0; 6], self.max_iterations)?;
        if self.model == PreferenceModel::PartialReturn {
            return Ok(FittedReward {
                loglik: soft_loglik(&partial, labels, &start.0),
                weights: start.0,
                iterations: start.1,
            });
        }
        let objective = |w: &[f64; 6]| -> Result<(f64, Vec<[f64; 6]>)> {
            let best = optimal(board, w, self.gamma)?;
            let psi = successor_features(board, &best.policy, self.gamma)?;
            let z: Vec<[f64; 6]> = pairs
                .iter()
                .map(|[a, b]| {
                    std::array::from_fn(|k| {
                        a.features[k] - b.features[k] + a.end_discount * psi[k][a.end]
                            - b.end_discount * psi[k][b.end]
                            - (psi[k][a.start] - psi[k][b.start])
                    })
                })
                .collect();
            let penalty = 0.5 * self.ridge * w.iter().map(|x| x * x).sum::<f64>();
            Ok((soft_loglik(&z, labels, w) - penalty, z))
        };
        let mut w = start.0;
        let (mut value, mut z) = objective(&w)?;
        for iteration in 1..=self.max_iterations {
            let (candidate, _) = logistic_newton(&z, labels, self.ridge, w, 1)?;
            let mut step = 1.0;
            let accepted = loop {
                let trial: [f64; 6] = std::array::from_fn(|k| w[k] + step * (candidate[k] - w[k]));
                let (trial_value, trial_z) = objective(&trial)?;
                if trial_value > value + 1e-12 * value.abs() {
                    break Some((trial, trial_value, trial_z));
                }
                if step < 1e-6 {
                    break None;
                }
                step /= 2.0;
            };
            match accepted {
                Some((trial, trial_value, trial_z)) => {
                    let change = trial
                        .iter()
                        .zip(&w)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    let gain = trial_value - value;
                    (w, value, z) = (trial, trial_value, trial_z);
                    // The likelihood is only piecewise smooth in w (π* jumps), so also stop
                    // once it no longer improves.
                    if change < 1e-8 * w.iter().fold(1.0, |m: f64, x| m.max(x.abs()))
                        || gain < 1e-10 * value.abs().max(1.0)
                    {
                        return Ok(self.finish(board, pairs, labels, w, iteration));
                    }
                }
                None => return Ok(self.finish(board, pairs, labels, w, iteration)),
            }
        }
        Err(Error::NotConverged {
            method: "regret reward learner".into(),
            iterations: self.max_iterations,
            residual: f64::NAN,
            tolerance: 1e-8,
            reason: "iteration limit".into(),
        })
    }

    fn finish(
        &self,
        board: &DeliveryBoard,
        pairs: &[[SegmentSummary; 2]],
        labels: &[f64],
        weights: [f64; 6],
        iterations: usize,
    ) -> FittedReward {
        let loglik = optimal(board, &weights, self.gamma)
            .map(|best| {
                pairs
                    .iter()
                    .zip(labels)
                    .map(|(pair, y)| {
                        let x = self
                            .model
                            .argument(&difference(pair, &weights, &best.values));
                        y * log_sigmoid(x) + (1.0 - y) * log_sigmoid(-x)
                    })
                    .sum()
            })
            .unwrap_or(f64::NAN);
        FittedReward {
            weights,
            loglik,
            iterations,
        }
    }
}

/// Σ y log σ(zᵀw) + (1 − y) log σ(−zᵀw).
fn soft_loglik(z: &[[f64; 6]], labels: &[f64], w: &[f64; 6]) -> f64 {
    z.iter()
        .zip(labels)
        .map(|(z, y)| {
            let x = dot(z, w);
            y * log_sigmoid(x) + (1.0 - y) * log_sigmoid(-x)
        })
        .sum()
}

/// Newton's method on the ridge-penalised soft-label logistic likelihood from `start`, at most
/// `iterations` steps (with step halving); returns the weights and the steps taken.
fn logistic_newton(
    z: &[[f64; 6]],
    labels: &[f64],
    ridge: f64,
    start: [f64; 6],
    iterations: usize,
) -> Result<([f64; 6], usize)> {
    let objective = |w: &[f64; 6]| {
        soft_loglik(z, labels, w) - 0.5 * ridge * w.iter().map(|x| x * x).sum::<f64>()
    };
    let mut w = start;
    for iteration in 1..=iterations {
        let mut gradient = [0.0; 6];
        let mut hessian = Mat::<f64>::from_fn(6, 6, |i, j| if i == j { ridge } else { 0.0 });
        for (zi, y) in z.iter().zip(labels) {
            let x = dot(zi, &w);
            let p = sigmoid(x);
            for a in 0..6 {
                gradient[a] += (y - p) * zi[a];
                for b in 0..6 {
                    hessian[(a, b)] += p * (1.0 - p) * zi[a] * zi[b];
                }
            }
        }
        for a in 0..6 {
            gradient[a] -= ridge * w[a];
        }
        let llt = hessian.llt(Side::Lower).map_err(|_| Error::Numerical {
            context: "segment-preference logistic regression".into(),
            message: "the Hessian is not positive definite".into(),
        })?;
        let step = llt.solve(Mat::from_fn(6, 1, |i, _| gradient[i]));
        let decrement: f64 = (0..6).map(|i| step[(i, 0)] * gradient[i]).sum();
        let before = objective(&w);
        let mut scale = 1.0;
        let next = loop {
            let trial: [f64; 6] = std::array::from_fn(|i| w[i] + scale * step[(i, 0)]);
            if objective(&trial) >= before - 1e-12 * before.abs() || scale < 1e-10 {
                break trial;
            }
            scale /= 2.0;
        };
        w = next;
        if decrement < 1e-16 * before.abs().max(1.0) || iteration == iterations {
            return Ok((w, iteration));
        }
    }
    Ok((w, iterations))
}

/// (V^π̂ − V^unif) / (V* − V^unif) under the true weights, with π̂ optimal for `learned`, each
/// value averaged over the board's start states: 1 is optimal, 0 is as good as moving at random.
pub fn scaled_return(
    board: &DeliveryBoard,
    truth: &[f64; 6],
    learned: &[f64; 6],
    gamma: f64,
) -> Result<f64> {
    let mdp = board.to_mdp(truth)?;
    let best = optimal(board, truth, gamma)?;
    let induced = optimal(board, learned, gamma)?.policy;
    let ours = evaluate_policy(&mdp, gamma, &induced, Evaluation::DenseLu)?;
    let random = uniform_values(board, truth, gamma)?;
    let starts = board.start_states();
    let mean = |v: &[f64]| starts.iter().map(|&s| v[s]).sum::<f64>() / starts.len() as f64;
    let (v_star, v_ours, v_random) = (mean(&best.values), mean(&ours), mean(&random));
    if v_star - v_random <= 0.0 {
        return Err(Error::Numerical {
            context: "scaled return".into(),
            message: "the optimal policy is no better than a random one on this board".into(),
        });
    }
    Ok((v_ours - v_random) / (v_star - v_random))
}

/// Values of the uniformly random policy: (I − γ P_unif) V = r_unif.
fn uniform_values(board: &DeliveryBoard, weights: &[f64; 6], gamma: f64) -> Result<Vec<f64>> {
    let n = board.states();
    let share = 1.0 / MOVES.len() as f64;
    let mut system = Mat::<f64>::identity(n, n);
    let mut rewards = Mat::<f64>::zeros(n, 1);
    for s in 0..n {
        for a in 0..MOVES.len() {
            let step = board.step(s, a);
            system[(s, step.next)] -= gamma * share;
            rewards[(s, 0)] += share * dot(&step.features, weights);
        }
    }
    let values = system.partial_piv_lu().solve(&rewards);
    let values: Vec<f64> = (0..n).map(|s| values[(s, 0)]).collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical {
            context: "random-policy values".into(),
            message: "the linear system is singular".into(),
        });
    }
    Ok(values)
}
