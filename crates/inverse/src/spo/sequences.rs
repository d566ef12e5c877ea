//! SPO on open-loop action sequences, where a preference can depend on the whole sequence
//! (non-Markovian): per-step policies updated from trajectory-level win rates, against a Markov
//! reward model (additive over steps) fitted by Bradley–Terry.

use choicelab_core::{draw_index, rng, Error, Result, Seed};
use rand::RngExt;

use crate::preferences::robust::{fit_linear_reward, PairLoss};
use crate::spo::{check_self_play, PreferenceMatrix};

/// Sequences of `steps` actions from `actions` choices; sequence index Σ_h a_h·A^h.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceGame {
    /// Steps H.
    pub steps: usize,
    /// Actions per step A.
    pub actions: usize,
    /// Preferences over the A^H sequences.
    pub oracle: PreferenceMatrix,
}

impl SequenceGame {
    /// The non-Markovian oracle that prefers, for sure, a sequence taking action `marked`
    /// exactly once to one that does not (ties otherwise).
    pub fn exactly_once(steps: usize, actions: usize, marked: usize) -> Result<Self> {
        if steps == 0 || actions < 2 || marked >= actions || actions.pow(steps as u32) > 4096 {
            return Err(Error::parameter(
                "sequence game",
                format!("need H ≥ 1, 2 ≤ A, a marked action below A and A^H ≤ 4096, got H = {steps}, A = {actions}, marked {marked}"),
            ));
        }
        let n = actions.pow(steps as u32);
        let good: Vec<bool> = (0..n)
            .map(|x| {
                decode(x, steps, actions)
                    .iter()
                    .filter(|a| **a == marked)
                    .count()
                    == 1
            })
            .collect();
        let p = (0..n * n)
            .map(|c| match (good[c / n], good[c % n]) {
                (true, false) => 1.0,
                (false, true) => 0.0,
                _ => 0.5,
            })
            .collect();
        Ok(Self {
            steps,
            actions,
            oracle: PreferenceMatrix::new(n, p)?,
        })
    }

    /// The distribution over sequences of independent per-step policies.
    pub fn sequence_distribution(&self, policy: &[Vec<f64>]) -> Vec<f64> {
        let n = self.actions.pow(self.steps as u32);
        (0..n)
            .map(|x| {
                decode(x, self.steps, self.actions)
                    .iter()
                    .enumerate()
                    .map(|(h, a)| policy[h][*a])
                    .product()
            })
            .collect()
    }
}

/// The actions of sequence `x`.
fn decode(mut x: usize, steps: usize, actions: usize) -> Vec<usize> {
    (0..steps)
        .map(|_| {
            let a = x % actions;
            x /= actions;
            a
        })
        .collect()
}

/// SPO with one policy per step: B sequences drawn from μ_h = (1−γ)π_h + γ/A, each rewarded by
/// its win rate against the others, and π_h ∝ π_h·exp(η r̂_h) with
/// r̂_h(a) = Σ_{i: a_{i,h} = a} (r_i − ½)/(B μ_h(a)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepwiseSelfPlay {
    /// Sequences per iteration, B ≥ 2.
    pub batch: usize,
    /// Step size η.
    pub step: f64,
    /// Iterations.
    pub iterations: usize,
    /// Uniform exploration γ in the sampling.
    pub exploration: f64,
}

impl StepwiseSelfPlay {
    /// Runs from uniform per-step policies with sampled 0/1 labels; returns the final per-step
    /// policies and the running average of the induced sequence distribution.
    pub fn run(&self, game: &SequenceGame, seed: Seed) -> Result<(Vec<Vec<f64>>, Vec<f64>)> {
        check_self_play(self.batch, self.step, self.iterations, self.exploration)?;
        let (steps, actions) = (game.steps, game.actions);
        let mut rng = rng(seed);
        let mut policy = vec![vec![1.0 / actions as f64; actions]; steps];
        let mut average = vec![0.0; game.oracle.len()];
        for _ in 0..self.iterations {
            let current = game.sequence_distribution(&policy);
            average.iter_mut().zip(&current).for_each(|(a, c)| *a += c);
            let sampling: Vec<Vec<f64>> = policy
                .iter()
                .map(|ph| {
                    ph.iter()
                        .map(|p| (1.0 - self.exploration) * p + self.exploration / actions as f64)
                        .collect()
                })
                .collect();
            let batch: Vec<Vec<usize>> = (0..self.batch)
                .map(|_| sampling.iter().map(|mh| draw_index(&mut rng, mh)).collect())
                .collect();
            let index = |a: &[usize]| a.iter().rev().fold(0, |x, ah| x * actions + ah);
            let mut wins = vec![0.0; self.batch];
            for i in 0..self.batch {
                for j in i + 1..self.batch {
                    let p = game.oracle.get(index(&batch[i]), index(&batch[j]));
                    let first = f64::from(rng.random::<f64>() < p);
                    wins[i] += first;
                    wins[j] += 1.0 - first;
                }
            }
            for h in 0..steps {
                let mut estimate = vec![0.0; actions];
                for (sequence, w) in batch.iter().zip(&wins) {
                    let r = w / (self.batch - 1) as f64;
                    let a = sequence[h];
                    estimate[a] += (r - 0.5) / (self.batch as f64 * sampling[h][a]);
                }
                let top = estimate.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                policy[h]
                    .iter_mut()
                    .zip(&estimate)
                    .for_each(|(p, e)| *p *= (self.step * (e - top)).exp());
                let total: f64 = policy[h].iter().sum();
                policy[h].iter_mut().for_each(|p| *p /= total);
            }
        }
        average
            .iter_mut()
            .for_each(|a| *a /= self.iterations as f64);
        Ok((policy, average))
    }
}

/// The Markov reward-model route: `comparisons` pairs of uniformly random sequences labelled
/// by sampling the oracle, a reward additive over steps, u(h, a), fitted by Bradley–Terry
/// (ridge `ridge`), and the sequence that is greedy in it at every step (a point mass).
pub fn markov_reward_model(
    game: &SequenceGame,
    comparisons: usize,
    ridge: f64,
    seed: Seed,
) -> Result<Vec<f64>> {
    let (steps, actions) = (game.steps, game.actions);
    let n = game.oracle.len();
    let mut rng = rng(seed);
    let features = |x: usize| -> Vec<f64> {
        let mut f = vec![0.0; steps * actions];
        for (h, a) in decode(x, steps, actions).into_iter().enumerate() {
            f[h * actions + a] = 1.0;
        }
        f
    };
    let pairs: Vec<Vec<f64>> = (0..comparisons)
        .map(|_| {
            let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
            let (fi, fj) = (features(i), features(j));
            let first = rng.random::<f64>() < game.oracle.get(i, j);
            fi.iter()
                .zip(&fj)
                .map(|(a, b)| if first { a - b } else { b - a })
                .collect()
        })
        .collect();
    let u = fit_linear_reward(&pairs, &PairLoss::plain(pairs.len()), ridge)?;
    let greedy: Vec<usize> = (0..steps)
        .map(|h| {
            (0..actions).fold(0, |b, a| {
                if u[h * actions + a] > u[h * actions + b] {
                    a
                } else {
                    b
                }
            })
        })
        .collect();
    let x = greedy.iter().rev().fold(0, |x, a| x * actions + a);
    let mut point = vec![0.0; n];
    point[x] = 1.0;
    Ok(point)
}
