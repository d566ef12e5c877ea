//! Reward models robust to wrong and ambiguous preference pairs (Wang et al. 2024, "Secrets of
//! RLHF II"), for linear Bradley–Terry reward models on feature vectors: preference strength
//! from a cross-fitted bootstrap ensemble, and three corrections by strength (flip, label
//! smoothing, adaptive margin).

use choicelab_core::logistic::{log_sigmoid, sigmoid};
use choicelab_core::numeric::dot;
use choicelab_core::{rng, Error, Result, Seed};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rand::RngExt;

/// A preference pair as the difference of features, chosen minus rejected: the label is in the
/// orientation.
pub type PairFeatures = Vec<f64>;

/// Per-pair training adjustments of the Bradley–Terry loss
/// −(1 − ε)·log σ(wᵀz − m) − ε·log σ(−(wᵀz − m)).
#[derive(Debug, Clone, PartialEq)]
pub struct PairLoss {
    /// Label smoothing ε per pair (0: none).
    pub smoothing: Vec<f64>,
    /// Margin m per pair (0: none).
    pub margin: Vec<f64>,
}

impl PairLoss {
    /// The plain loss for `n` pairs.
    pub fn plain(n: usize) -> Self {
        Self {
            smoothing: vec![0.0; n],
            margin: vec![0.0; n],
        }
    }
}

/// Fits w of a linear Bradley–Terry reward model r(x) = wᵀx to oriented pair differences by
/// Newton's method on the (smoothed, margined) loss plus (λ/2)‖w‖².
pub fn fit_linear_reward(pairs: &[PairFeatures], loss: &PairLoss, ridge: f64) -> Result<Vec<f64>> {
    let d = pairs.first().map_or(0, Vec::len);
    if d == 0 || pairs.iter().any(|z| z.len() != d) {
        return Err(Error::parameter(
            "pairs",
            "need pairs with feature vectors of one positive length",
        ));
    }
    if loss.smoothing.len() != pairs.len() || loss.margin.len() != pairs.len() {
        return Err(Error::parameter(
            "loss",
            "one smoothing and one margin per pair",
        ));
    }
    if let Some(e) = loss.smoothing.iter().find(|e| !(0.0..=0.5).contains(*e)) {
        return Err(Error::parameter(
            "smoothing",
            format!("ε = {e} is outside [0, 0.5]"),
        ));
    }
    if !(ridge.is_finite() && ridge > 0.0) {
        return Err(Error::parameter(
            "ridge",
            format!("must be > 0, got {ridge}"),
        ));
    }
    let objective = |w: &[f64]| -> f64 {
        let data: f64 = pairs
            .iter()
            .enumerate()
            .map(|(i, z)| {
                let x = dot(z, w) - loss.margin[i];
                let e = loss.smoothing[i];
                (1.0 - e) * log_sigmoid(x) + e * log_sigmoid(-x)
            })
            .sum();
        data - 0.5 * ridge * dot(w, w)
    };
    let mut w = vec![0.0; d];
    for _ in 0..100 {
        let mut gradient: Vec<f64> = w.iter().map(|x| -ridge * x).collect();
        let mut hessian = Mat::<f64>::from_fn(d, d, |i, j| if i == j { ridge } else { 0.0 });
        for (i, z) in pairs.iter().enumerate() {
            let p = sigmoid(dot(z, &w) - loss.margin[i]);
            let residual = 1.0 - loss.smoothing[i] - p;
            for a in 0..d {
                gradient[a] += residual * z[a];
                for b in 0..d {
                    hessian[(a, b)] += p * (1.0 - p) * z[a] * z[b];
                }
            }
        }
        let llt = hessian.llt(Side::Lower).map_err(|_| Error::Numerical {
            context: "Bradley–Terry reward model".into(),
            message: "the Hessian is not positive definite".into(),
        })?;
        let step = llt.solve(Mat::from_fn(d, 1, |i, _| gradient[i]));
        let decrement: f64 = (0..d).map(|i| step[(i, 0)] * gradient[i]).sum();
        let before = objective(&w);
        let mut scale = 1.0;
        loop {
            let trial: Vec<f64> = (0..d).map(|i| w[i] + scale * step[(i, 0)]).collect();
            if objective(&trial) >= before - 1e-12 * before.abs() || scale < 1e-10 {
                w = trial;
                break;
            }
            scale /= 2.0;
        }
        if decrement < 1e-18 * before.abs().max(1.0) {
            return Ok(w);
        }
    }
    Ok(w)
}

/// Each pair's preference strength: mean μ̂ and standard deviation σ̂ over an ensemble of the
/// reward gap wᵀz, cross-fitted: the pairs are split into `folds`, and a pair is scored only by
/// the `members` models trained on bootstrap resamples of the other folds.
#[derive(Debug, Clone, PartialEq)]
pub struct Strength {
    /// μ̂ per pair.
    pub mean: Vec<f64>,
    /// σ̂ per pair.
    pub spread: Vec<f64>,
}

impl Strength {
    /// μ̂_i divided by the standard deviation of μ̂ over the pairs: strength on a scale free of
    /// the reward's units, which the corrections' thresholds use.
    pub fn standardised(&self) -> Vec<f64> {
        let n = self.mean.len().max(1) as f64;
        let m = self.mean.iter().sum::<f64>() / n;
        let sd = (self.mean.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(f64::MIN_POSITIVE);
        self.mean.iter().map(|x| x / sd).collect()
    }
}

/// The cross-fitted strengths of `pairs`.
pub fn preference_strength(
    pairs: &[PairFeatures],
    members: usize,
    folds: usize,
    ridge: f64,
    seed: Seed,
) -> Result<Strength> {
    if members < 2 || folds < 2 || pairs.len() < folds {
        return Err(Error::parameter(
            "ensemble",
            format!(
                "need at least 2 members, 2 folds and as many pairs as folds, got {members}, \
                 {folds} and {}",
                pairs.len()
            ),
        ));
    }
    let n = pairs.len();
    let mut rng = rng(seed);
    let mut gaps = vec![Vec::with_capacity(members); n];
    for fold in 0..folds {
        let train: Vec<usize> = (0..n).filter(|i| i % folds != fold).collect();
        for _ in 0..members {
            let resample: Vec<PairFeatures> = (0..train.len())
                .map(|_| pairs[train[rng.random_range(0..train.len())]].clone())
                .collect();
            let w = fit_linear_reward(&resample, &PairLoss::plain(resample.len()), ridge)?;
            for i in (fold..n).step_by(folds) {
                gaps[i].push(dot(&pairs[i], &w));
            }
        }
    }
    let (mean, spread) = gaps
        .iter()
        .map(|g| {
            let m = g.iter().sum::<f64>() / g.len() as f64;
            let v = g.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (g.len() - 1) as f64;
            (m, v.sqrt())
        })
        .unzip();
    Ok(Strength { mean, spread })
}

/// A correction of the training pairs by strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correction {
    /// Train on the pairs as labelled.
    Plain,
    /// Reverse pairs whose standardised mean strength μ̂/sd(μ̂) is below −`threshold`.
    Flip {
        /// Standardised strength below which a pair is flipped.
        threshold: f64,
    },
    /// Label smoothing ε on pairs whose standardised |μ̂| is below `threshold`.
    Smooth {
        /// Smoothing of the ambiguous pairs.
        epsilon: f64,
        /// Standardised |μ̂| below which a pair counts as ambiguous.
        threshold: f64,
    },
    /// Margin m_i = `scale`·max(0, μ̂_i/sd(μ̂)), growing with strength.
    Margin {
        /// Margin per unit of standardised strength.
        scale: f64,
    },
}

/// The corrected pairs and their loss, with the indices of flipped pairs.
pub fn apply_correction(
    pairs: &[PairFeatures],
    strength: &Strength,
    correction: Correction,
) -> (Vec<PairFeatures>, PairLoss, Vec<usize>) {
    let n = pairs.len();
    let standard = strength.standardised();
    let mut out = pairs.to_vec();
    let mut loss = PairLoss::plain(n);
    let mut flipped = Vec::new();
    match correction {
        Correction::Plain => {}
        Correction::Flip { threshold } => {
            for (i, s) in standard.iter().enumerate() {
                if *s < -threshold {
                    out[i].iter_mut().for_each(|x| *x = -*x);
                    flipped.push(i);
                }
            }
        }
        Correction::Smooth { epsilon, threshold } => {
            for (i, s) in standard.iter().enumerate() {
                if s.abs() < threshold {
                    loss.smoothing[i] = epsilon;
                }
            }
        }
        Correction::Margin { scale } => {
            for (i, s) in standard.iter().enumerate() {
                loss.margin[i] = scale * s.max(0.0);
            }
        }
    }
    (out, loss, flipped)
}

/// The share of pairs whose reward gap under w has the sign the orientation claims.
pub fn accuracy(pairs: &[PairFeatures], w: &[f64]) -> f64 {
    pairs.iter().filter(|z| dot(z, w) > 0.0).count() as f64 / pairs.len().max(1) as f64
}
