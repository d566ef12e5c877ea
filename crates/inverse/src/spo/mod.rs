//! Self-play preference optimisation (Swamy et al. 2024) over K alternatives (a bandit): the
//! preference oracle as a matrix, its Minimax Winner by linear programming, SPO's self-play
//! loop with win-rate rewards and multiplicative weights, and the reward-model baseline
//! (Bradley–Terry, then the best alternative).

pub mod sequences;

use choicelab_choice::BradleyTerry;
use choicelab_core::{rng, Comparisons, Error, Items, Outcome, Result, Rng, Seed};
use rand::RngExt;

/// P(i ≻ j) for K alternatives, with P(i ≻ j) + P(j ≻ i) = 1 and P(i ≻ i) = ½.
#[derive(Debug, Clone, PartialEq)]
pub struct PreferenceMatrix {
    k: usize,
    p: Vec<f64>,
}

impl PreferenceMatrix {
    /// A matrix from row-major probabilities, checked.
    pub fn new(k: usize, p: Vec<f64>) -> Result<Self> {
        if k < 2 || p.len() != k * k {
            return Err(Error::parameter(
                "preferences",
                format!(
                    "need a K × K matrix with K ≥ 2, got {} values for K = {k}",
                    p.len()
                ),
            ));
        }
        for i in 0..k {
            for j in 0..k {
                let (a, b) = (p[i * k + j], p[j * k + i]);
                if !(0.0..=1.0).contains(&a) || (a + b - 1.0).abs() > 1e-9 {
                    return Err(Error::parameter(
                        "preferences",
                        format!("P({i} ≻ {j}) = {a} and P({j} ≻ {i}) = {b} must be probabilities summing to 1"),
                    ));
                }
            }
        }
        Ok(Self { k, p })
    }

    /// Rock–paper–scissors: each alternative beats the next with probability `strength`.
    pub fn rock_paper_scissors(strength: f64) -> Result<Self> {
        Self::weighted_cycle(&[strength; 3])
    }

    /// A three-cycle in which 0 beats 1, 1 beats 2 and 2 beats 0 with the given probabilities;
    /// unequal strengths give a non-uniform Minimax Winner.
    pub fn weighted_cycle(strengths: &[f64; 3]) -> Result<Self> {
        let mut p = vec![0.5; 9];
        for (i, s) in strengths.iter().enumerate() {
            let j = (i + 1) % 3;
            p[i * 3 + j] = *s;
            p[j * 3 + i] = 1.0 - s;
        }
        Self::new(3, p)
    }

    /// Bradley–Terry preferences from utilities: P(i ≻ j) = σ(u_i − u_j), which has a Condorcet
    /// winner (the largest utility).
    pub fn bradley_terry(utilities: &[f64]) -> Result<Self> {
        let k = utilities.len();
        let p = (0..k * k)
            .map(|x| choicelab_core::logistic::sigmoid(utilities[x / k] - utilities[x % k]))
            .collect();
        Self::new(k, p)
    }

    /// K.
    pub fn len(&self) -> usize {
        self.k
    }

    /// Whether there are no alternatives (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.k == 0
    }

    /// P(i ≻ j).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.p[i * self.k + j]
    }

    /// Exploitability ½ − min_j Σ_i π_i P(i ≻ j): how much a best response beats π (0 at a
    /// Minimax Winner).
    pub fn exploitability(&self, policy: &[f64]) -> f64 {
        let worst = (0..self.k)
            .map(|j| (0..self.k).map(|i| policy[i] * self.get(i, j)).sum::<f64>())
            .fold(f64::INFINITY, f64::min);
        0.5 - worst
    }

    /// The Minimax Winner: p ∈ Δ_K maximising min_j Σ_i p_i P(i ≻ j), by the simplex method on
    /// the game's linear program (Bland's rule).
    pub fn minimax_winner(&self) -> Result<Vec<f64>> {
        // max 1ᵀy s.t. A y ≤ 1, y ≥ 0 with A_ij = P(i ≻ j) − ½ + 1 > 0 for the column player;
        // the row player's strategy is the optimal dual, read off the slack columns.
        let k = self.k;
        let width = 2 * k + 1;
        let mut tableau = vec![0.0; (k + 1) * width];
        for i in 0..k {
            for j in 0..k {
                tableau[i * width + j] = self.get(i, j) + 0.5;
            }
            tableau[i * width + k + i] = 1.0;
            tableau[i * width + 2 * k] = 1.0;
        }
        for j in 0..k {
            tableau[k * width + j] = -1.0;
        }
        let mut basis: Vec<usize> = (k..2 * k).collect();
        for _ in 0..10_000 {
            let Some(entering) = (0..2 * k).find(|&j| tableau[k * width + j] < -1e-12) else {
                let value = tableau[k * width + 2 * k];
                let x: Vec<f64> = (0..k)
                    .map(|i| tableau[k * width + k + i].max(0.0))
                    .collect();
                let total: f64 = x.iter().sum();
                if !(value > 0.0 && total > 0.0) {
                    break;
                }
                return Ok(x.iter().map(|v| v / total).collect());
            };
            let leaving = (0..k)
                .filter(|&r| tableau[r * width + entering] > 1e-12)
                .min_by(|&a, &b| {
                    let ra = tableau[a * width + 2 * k] / tableau[a * width + entering];
                    let rb = tableau[b * width + 2 * k] / tableau[b * width + entering];
                    ra.total_cmp(&rb).then(basis[a].cmp(&basis[b]))
                })
                .ok_or_else(|| Error::Numerical {
                    context: "Minimax Winner".into(),
                    message: "the linear program is unbounded".into(),
                })?;
            let pivot = tableau[leaving * width + entering];
            for c in 0..width {
                tableau[leaving * width + c] /= pivot;
            }
            for r in 0..=k {
                if r != leaving {
                    let factor = tableau[r * width + entering];
                    if factor != 0.0 {
                        for c in 0..width {
                            tableau[r * width + c] -= factor * tableau[leaving * width + c];
                        }
                    }
                }
            }
            basis[leaving] = entering;
        }
        Err(Error::Numerical {
            context: "Minimax Winner".into(),
            message: "the simplex method did not reach an optimum".into(),
        })
    }
}

/// Checks self-play settings: a batch ≥ 2, a step η > 0, iterations ≥ 1, exploration in [0, 1).
pub(crate) fn check_self_play(
    batch: usize,
    step: f64,
    iterations: usize,
    exploration: f64,
) -> Result<()> {
    if batch < 2
        || !(step.is_finite() && step > 0.0)
        || iterations == 0
        || !(0.0..1.0).contains(&exploration)
    {
        return Err(Error::parameter(
            "self-play",
            format!(
                "need a batch ≥ 2, a step > 0, iterations ≥ 1 and exploration in [0, 1), got \
                 {batch}, {step}, {iterations} and {exploration}"
            ),
        ));
    }
    Ok(())
}

/// Total variation distance ½ Σ |p − q|.
pub fn total_variation(p: &[f64], q: &[f64]) -> f64 {
    0.5 * p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>()
}

/// How the self-play rater answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rater {
    /// With the probability P(i ≻ j) itself.
    Probability,
    /// With a 0/1 label drawn with probability P(i ≻ j).
    Sampled,
}

/// SPO's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfPlay {
    /// Alternatives sampled per iteration, B ≥ 2.
    pub batch: usize,
    /// Step size η of the multiplicative-weights update.
    pub step: f64,
    /// Iterations.
    pub iterations: usize,
    /// The rater.
    pub rater: Rater,
    /// Share γ of uniform exploration mixed into the sampling distribution (Exp3's), which
    /// bounds the importance weights; 0 samples from π itself.
    pub exploration: f64,
}

/// SPO's result: the last iterate, the running average, and the averaged policy's distance
/// to a reference policy after each iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfPlayRun {
    /// π_T.
    pub last: Vec<f64>,
    /// (1/T) Σ_t π_t.
    pub average: Vec<f64>,
    /// Mean win rate over each batch (½ by symmetry of the self-comparisons left out).
    pub batch_win_rate: Vec<f64>,
    /// Total variation of the running average to the reference after each iteration.
    pub distance: Vec<f64>,
}

impl SelfPlay {
    /// Runs SPO from the uniform policy: each iteration samples B alternatives from
    /// μ_t = (1 − γ)π_t + γ/K, rewards each by its win rate against the other B − 1, and
    /// updates π_{t+1} ∝ π_t · exp(η r̂) with the importance-weighted centred reward
    /// r̂(a) = Σ_{i: a_i = a} (r_i − ½) / (B μ_t(a)).
    pub fn run(
        &self,
        oracle: &PreferenceMatrix,
        reference: &[f64],
        seed: Seed,
    ) -> Result<SelfPlayRun> {
        check_self_play(self.batch, self.step, self.iterations, self.exploration)?;
        let k = oracle.len();
        let mut rng = rng(seed);
        let mut policy = vec![1.0 / k as f64; k];
        let mut sum = vec![0.0; k];
        let mut run = SelfPlayRun {
            last: Vec::new(),
            average: Vec::new(),
            batch_win_rate: Vec::with_capacity(self.iterations),
            distance: Vec::with_capacity(self.iterations),
        };
        for t in 1..=self.iterations {
            sum.iter_mut().zip(&policy).for_each(|(s, p)| *s += p);
            let sampling: Vec<f64> = policy
                .iter()
                .map(|p| (1.0 - self.exploration) * p + self.exploration / k as f64)
                .collect();
            let batch: Vec<usize> = (0..self.batch)
                .map(|_| choicelab_core::draw_index(&mut rng, &sampling))
                .collect();
            let rewards = self.win_rates(oracle, &batch, &mut rng);
            run.batch_win_rate
                .push(rewards.iter().sum::<f64>() / rewards.len() as f64);
            let mut estimate = vec![0.0; k];
            for (a, r) in batch.iter().zip(&rewards) {
                estimate[*a] += (r - 0.5) / (self.batch as f64 * sampling[*a]);
            }
            let top = estimate.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            policy
                .iter_mut()
                .zip(&estimate)
                .for_each(|(p, e)| *p *= (self.step * (e - top)).exp());
            let total: f64 = policy.iter().sum();
            policy.iter_mut().for_each(|p| *p /= total);
            let average: Vec<f64> = sum.iter().map(|s| s / t as f64).collect();
            run.distance.push(total_variation(&average, reference));
        }
        run.average = sum.iter().map(|s| s / self.iterations as f64).collect();
        run.last = policy;
        Ok(run)
    }

    /// r_i = (1/(B−1)) Σ_{j≠i} P̃(a_i ≻ a_j), self-comparisons excluded.
    fn win_rates(&self, oracle: &PreferenceMatrix, batch: &[usize], rng: &mut Rng) -> Vec<f64> {
        let b = batch.len();
        let mut wins = vec![0.0; b];
        for i in 0..b {
            for j in i + 1..b {
                let p = oracle.get(batch[i], batch[j]);
                let first = match self.rater {
                    Rater::Probability => p,
                    Rater::Sampled => f64::from(rng.random::<f64>() < p),
                };
                wins[i] += first;
                wins[j] += 1.0 - first;
            }
        }
        wins.iter().map(|w| w / (b - 1) as f64).collect()
    }
}

/// The reward-model route: `comparisons` uniformly random pairs labelled by sampling the
/// oracle, Bradley–Terry utilities fitted to them (ridge `alpha`), and the policy that always
/// picks the best-rated alternative. Returns (utilities, policy).
pub fn reward_model_policy(
    oracle: &PreferenceMatrix,
    comparisons: usize,
    alpha: f64,
    seed: Seed,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let k = oracle.len();
    let mut rng = rng(seed);
    let mut data = Comparisons::new(Items::numbered(k));
    for _ in 0..comparisons {
        let i = rng.random_range(0..k);
        let mut j = rng.random_range(0..k - 1);
        if j >= i {
            j += 1;
        }
        let outcome = if rng.random::<f64>() < oracle.get(i, j) {
            Outcome::First
        } else {
            Outcome::Second
        };
        data.push(i as u32, j as u32, outcome, 1.0)?;
    }
    let fitted = BradleyTerry {
        alpha,
        ..BradleyTerry::default()
    }
    .fit(&data)?;
    let best = (0..k).fold(0, |b, i| {
        if fitted.theta[i] > fitted.theta[b] {
            i
        } else {
            b
        }
    });
    let mut policy = vec![0.0; k];
    policy[best] = 1.0;
    Ok((fitted.theta, policy))
}
