//! Tasks: an input series, targets, a warm-up / train / test split, and how a readout is scored.

use choicelab_core::{Error, Result, Rng};
use rand::RngExt;

use crate::readout::Ridge;
use crate::reservoir::{collect_states, Reservoir};
use crate::series::Series;
use crate::tasks::{nrmse, squared_correlation, Narma};

/// How a task scores the readout's test predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// Σ over target columns of the squared correlation between prediction and target.
    MemoryCapacity,
    /// RMSE / population standard deviation of the target, averaged over target columns.
    Nrmse,
}

/// A supervised task: rows `0..warmup` only drive the reservoir, rows `warmup..train_end` fit
/// the readout and rows `train_end..` test it; the state runs on from training into testing.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    inputs: Series,
    targets: Series,
    warmup: usize,
    train_end: usize,
    score: Score,
}

impl Task {
    /// A task from its parts; needs `warmup < train_end < len` and equally long series.
    pub fn new(
        inputs: Series,
        targets: Series,
        warmup: usize,
        train_end: usize,
        score: Score,
    ) -> Result<Self> {
        if inputs.len() != targets.len() || !(warmup < train_end && train_end < inputs.len()) {
            return Err(Error::parameter(
                "task",
                format!(
                    "need warm-up < train end < length and as many targets as inputs; got \
                     warm-up {warmup}, train end {train_end}, {} inputs, {} targets",
                    inputs.len(),
                    targets.len()
                ),
            ));
        }
        Ok(Self {
            inputs,
            targets,
            warmup,
            train_end,
            score,
        })
    }

    /// Memory capacity as reservoirpy 0.4.2's `memory_capacity`: a series of `len` inputs
    /// Uniform[−0.8, 0.8); the input at row r is s[r + k_max] and target k (1..=k_max) is
    /// s[r + k_max − k]; the last round(test_fraction·len) rows test, warm-up k_max.
    pub fn memory_capacity(
        k_max: usize,
        len: usize,
        test_fraction: f64,
        rng: &mut Rng,
    ) -> Result<Self> {
        if k_max == 0 || len <= k_max || !(0.0..1.0).contains(&test_fraction) {
            return Err(Error::parameter(
                "memory_capacity",
                format!(
                    "need 1 ≤ k_max < len and test fraction in [0, 1); got k_max {k_max}, \
                     len {len}, test fraction {test_fraction}"
                ),
            ));
        }
        let s: Vec<f64> = (0..len).map(|_| rng.random_range(-0.8..0.8)).collect();
        let rows = len - k_max;
        let inputs = Series::scalar(s[k_max..].to_vec());
        let mut targets = Vec::with_capacity(rows * k_max);
        for r in 0..rows {
            targets.extend((1..=k_max).map(|k| s[r + k_max - k]));
        }
        let test = (test_fraction * len as f64).round() as usize;
        Self::new(
            inputs,
            Series::new(k_max, targets)?,
            k_max,
            rows.saturating_sub(test),
            Score::MemoryCapacity,
        )
    }

    /// NARMA10 of either recursion: `train` rows (the first `warmup` only drive) then `test`.
    pub fn narma(
        variant: Narma,
        train: usize,
        test: usize,
        warmup: usize,
        rng: &mut Rng,
    ) -> Result<Self> {
        let (u, y) = variant.generate(train + test, rng);
        Self::new(
            Series::scalar(u),
            Series::scalar(y),
            warmup,
            train,
            Score::Nrmse,
        )
    }

    /// Direct `horizon`-step prediction of `series`: the input at row t is x(t), the target
    /// x(t + horizon); the last round(test_fraction·rows) rows test.
    pub fn forecast(
        series: &[f64],
        horizon: usize,
        test_fraction: f64,
        warmup: usize,
    ) -> Result<Self> {
        let rows = series.len().saturating_sub(horizon);
        if horizon == 0 || !(0.0..1.0).contains(&test_fraction) {
            return Err(Error::parameter(
                "forecast",
                format!(
                    "need horizon ≥ 1 and test fraction in [0, 1); got {horizon}, {test_fraction}"
                ),
            ));
        }
        let test = (test_fraction * rows as f64).round() as usize;
        Self::new(
            Series::scalar(series[..rows].to_vec()),
            Series::scalar(series[horizon..].to_vec()),
            warmup,
            rows.saturating_sub(test),
            Score::Nrmse,
        )
    }

    /// The input series.
    pub fn inputs(&self) -> &Series {
        &self.inputs
    }

    /// The target series.
    pub fn targets(&self) -> &Series {
        &self.targets
    }

    /// Number of test rows.
    pub fn test_len(&self) -> usize {
        self.inputs.len() - self.train_end
    }

    /// How the task is scored.
    pub fn score_kind(&self) -> Score {
        self.score
    }

    /// Resets `reservoir`, drives it with the inputs, fits a ridge readout on the training rows
    /// and returns the predictions for the test rows.
    pub fn predict<R: Reservoir + ?Sized>(
        &self,
        reservoir: &mut R,
        ridge: Ridge,
    ) -> Result<Series> {
        reservoir.reset();
        let states = collect_states(reservoir, &self.inputs, self.warmup)?;
        let split = self.train_end - self.warmup;
        let train = states.slice(0, split);
        let targets = self.targets.slice(self.warmup, self.train_end);
        let readout = ridge.fit(&train, &targets)?;
        readout.predict(&states.slice(split, states.len()))
    }

    /// The task's score of `reservoir` with a ridge readout (see [`Score`]).
    pub fn evaluate<R: Reservoir + ?Sized>(&self, reservoir: &mut R, ridge: Ridge) -> Result<f64> {
        let predicted = self.predict(reservoir, ridge)?;
        let test = self.targets.slice(self.train_end, self.targets.len());
        let columns = (0..test.dim()).map(|c| (predicted.column(c), test.column(c)));
        Ok(match self.score {
            Score::MemoryCapacity => columns.map(|(p, y)| squared_correlation(&p, &y)).sum(),
            Score::Nrmse => columns.map(|(p, y)| nrmse(&p, &y)).sum::<f64>() / test.dim() as f64,
        })
    }
}
