//! Observation normalisation fitted on training data and stored with the model.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Per-feature `(x − mean) / std`, with `std` the population standard deviation plus `eps`
/// (CORL's `compute_mean_std` with eps 1e-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// Per-feature means.
    pub mean: Vec<f32>,
    /// Per-feature scales (standard deviation plus eps), all positive.
    pub std: Vec<f32>,
}

impl Normalizer {
    /// CORL's eps added to the standard deviation.
    pub const EPS: f32 = 1e-3;

    /// The identity map on `dim` features (normalisation off).
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            std: vec![1.0; dim],
        }
    }

    /// Fits means and scales on row-major `rows` of width `dim` (accumulated in f64).
    pub fn fit(rows: &[f32], dim: usize, eps: f32) -> Result<Self> {
        if dim == 0 || rows.is_empty() || !rows.len().is_multiple_of(dim) {
            return Err(Error::InvalidData(format!(
                "cannot fit a normaliser on {} values of width {dim}",
                rows.len()
            )));
        }
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(Error::parameter("eps", format!("{eps} is not ≥ 0")));
        }
        let n = (rows.len() / dim) as f64;
        let mut sum = vec![0.0f64; dim];
        for row in rows.chunks_exact(dim) {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += f64::from(*v);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut sq = vec![0.0f64; dim];
        for row in rows.chunks_exact(dim) {
            for ((s, v), m) in sq.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(*v) - m).powi(2);
            }
        }
        let std: Vec<f32> = sq.iter().map(|s| ((s / n).sqrt() as f32) + eps).collect();
        if let Some(i) = std.iter().position(|s| !(*s > 0.0 && s.is_finite())) {
            return Err(Error::InvalidData(format!(
                "feature {i} has scale {} (constant feature with eps 0, or non-finite data)",
                std[i]
            )));
        }
        Ok(Self {
            mean: mean.iter().map(|m| *m as f32).collect(),
            std,
        })
    }

    /// Feature count.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Normalises row-major `rows` in place.
    pub fn apply_in_place(&self, rows: &mut [f32]) {
        for row in rows.chunks_exact_mut(self.dim()) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
    }

    /// A normalised copy of `rows`.
    pub fn apply(&self, rows: &[f32]) -> Vec<f32> {
        let mut out = rows.to_vec();
        self.apply_in_place(&mut out);
        out
    }

    /// Means and scales as `(1, dim)` tensors, for saving.
    pub fn to_tensors(&self) -> Result<(Tensor, Tensor)> {
        let d = self.dim();
        Ok((
            Tensor::from_vec(self.mean.clone(), (1, d), &Device::Cpu)?,
            Tensor::from_vec(self.std.clone(), (1, d), &Device::Cpu)?,
        ))
    }

    /// Rebuilds a normaliser from saved tensors.
    pub fn from_tensors(mean: &Tensor, std: &Tensor) -> Result<Self> {
        let mean = mean.flatten_all()?.to_vec1::<f32>()?;
        let std = std.flatten_all()?.to_vec1::<f32>()?;
        if mean.len() != std.len() || std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::InvalidData(
                "saved normaliser has mismatched or non-positive scales".into(),
            ));
        }
        Ok(Self { mean, std })
    }
}
