//! Cross-validation grouped by problem, and the scores of predicted choice shares.

use choicelab_core::{rng, Error, Result, Seed};
use rand::seq::SliceRandom;

/// Assigns each row to one of `folds` folds so that rows with the same group (problem id)
/// share a fold: the distinct groups, in ascending order, are shuffled with `seed` and dealt
/// round-robin.
pub fn grouped_folds(groups: &[u64], folds: usize, seed: Seed) -> Result<Vec<usize>> {
    let mut distinct: Vec<u64> = groups.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if folds < 2 || folds > distinct.len() {
        return Err(Error::parameter(
            "folds",
            format!(
                "need 2 ≤ folds ≤ {} distinct groups, got {folds}",
                distinct.len()
            ),
        ));
    }
    distinct.shuffle(&mut rng(seed));
    let mut fold_of = std::collections::HashMap::with_capacity(distinct.len());
    for (k, g) in distinct.iter().enumerate() {
        fold_of.insert(*g, k % folds);
    }
    Ok(groups.iter().map(|g| fold_of[g]).collect())
}

/// Out-of-fold predictions: for each fold, `fit_predict(train, test)` fits on the other
/// folds' rows and predicts the fold's rows (in `test` order).
pub fn out_of_fold(
    fold_of: &[usize],
    mut fit_predict: impl FnMut(&[usize], &[usize]) -> Result<Vec<f64>>,
) -> Result<Vec<f64>> {
    let folds = fold_of.iter().copied().max().map_or(0, |m| m + 1);
    let mut predicted = vec![f64::NAN; fold_of.len()];
    for fold in 0..folds {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..fold_of.len()).partition(|&i| fold_of[i] == fold);
        let out = fit_predict(&train, &test)?;
        if out.len() != test.len() {
            return Err(Error::parameter(
                "predictions",
                format!("{} predictions for {} held-out rows", out.len(), test.len()),
            ));
        }
        for (i, p) in test.into_iter().zip(out) {
            predicted[i] = p;
        }
    }
    Ok(predicted)
}

/// How well predicted shares match observed ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// 1 − SSE/SST, unweighted (SST about the mean observed share).
    pub r2: f64,
    /// 1 − SSE/SST with each row weighted by its trials (SST about the weighted mean).
    pub r2_weighted: f64,
    /// Mean squared error, unweighted.
    pub mse: f64,
    /// Mean squared error weighted by trials.
    pub mse_weighted: f64,
}

impl Scores {
    /// Scores of `predicted` against `observed` with trial weights `weights`.
    pub fn new(predicted: &[f64], observed: &[f64], weights: &[f64]) -> Self {
        let n = observed.len() as f64;
        let total_weight: f64 = weights.iter().sum();
        let mean = observed.iter().sum::<f64>() / n;
        let weighted_mean = observed
            .iter()
            .zip(weights)
            .map(|(y, w)| w * y)
            .sum::<f64>()
            / total_weight;
        let (mut sse, mut sst, mut wsse, mut wsst) = (0.0, 0.0, 0.0, 0.0);
        for ((p, y), w) in predicted.iter().zip(observed).zip(weights) {
            sse += (y - p).powi(2);
            sst += (y - mean).powi(2);
            wsse += w * (y - p).powi(2);
            wsst += w * (y - weighted_mean).powi(2);
        }
        Self {
            r2: 1.0 - sse / sst,
            r2_weighted: 1.0 - wsse / wsst,
            mse: sse / n,
            mse_weighted: wsse / total_weight,
        }
    }
}

/// Adjusted R² = 1 − (1 − R²)(N − 1)/(N − K − 1) for K estimated parameters on N rows.
pub fn adjusted_r2(r2: f64, rows: usize, parameters: usize) -> f64 {
    let n = rows as f64;
    1.0 - (1.0 - r2) * (n - 1.0) / (n - parameters as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_stay_together_and_folds_are_balanced() {
        let groups: Vec<u64> = (0..200).map(|i| i / 2).collect();
        let folds = grouped_folds(&groups, 10, 3).unwrap();
        for pair in folds.chunks(2) {
            assert_eq!(pair[0], pair[1]);
        }
        for f in 0..10 {
            assert_eq!(folds.iter().filter(|&&x| x == f).count(), 20);
        }
        assert_eq!(folds, grouped_folds(&groups, 10, 3).unwrap());
        assert_ne!(folds, grouped_folds(&groups, 10, 4).unwrap());
        assert!(grouped_folds(&groups, 101, 0).is_err());
    }

    #[test]
    fn perfect_and_mean_predictions() {
        let y = [0.2, 0.4, 0.9];
        let w = [1.0, 2.0, 3.0];
        let exact = Scores::new(&y, &y, &w);
        assert_eq!((exact.r2, exact.mse), (1.0, 0.0));
        let mean = Scores::new(&[0.5; 3], &y, &w);
        assert!(mean.r2.abs() < 1e-12);
    }
}
