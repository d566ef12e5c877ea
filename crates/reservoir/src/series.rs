//! Time series of vectors: inputs, targets and reservoir states, one row per time step.

use choicelab_core::{Error, Result};
use faer::MatRef;

/// A `len × dim` row-major series: row t is the vector at time step t.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    dim: usize,
    data: Vec<f64>,
}

impl Series {
    /// A series of `dim`-vectors from row-major `data` (its length must be a multiple of `dim`).
    pub fn new(dim: usize, data: Vec<f64>) -> Result<Self> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(Error::parameter(
                "series",
                format!(
                    "{} values do not make rows of width {dim} (need width ≥ 1)",
                    data.len()
                ),
            ));
        }
        Ok(Self { dim, data })
    }

    /// A series of scalars.
    pub fn scalar(values: Vec<f64>) -> Self {
        Self {
            dim: 1,
            data: values,
        }
    }

    /// An empty series of `dim`-vectors with room for `len` rows.
    pub fn with_capacity(dim: usize, len: usize) -> Self {
        Self {
            dim,
            data: Vec::with_capacity(dim * len),
        }
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no time steps.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Width of each row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `t`.
    pub fn row(&self, t: usize) -> &[f64] {
        &self.data[t * self.dim..(t + 1) * self.dim]
    }

    /// Appends a row (its length must be `dim`).
    pub fn push(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.dim);
        self.data.extend_from_slice(row);
    }

    /// Rows `start..end` as a new series.
    pub fn slice(&self, start: usize, end: usize) -> Series {
        Series {
            dim: self.dim,
            data: self.data[start * self.dim..end * self.dim].to_vec(),
        }
    }

    /// Column `c` as a vector.
    pub fn column(&self, c: usize) -> Vec<f64> {
        self.data
            .iter()
            .skip(c)
            .step_by(self.dim)
            .copied()
            .collect()
    }

    /// The row-major values.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// A faer view of the series as a `len × dim` matrix.
    pub(crate) fn view(&self) -> MatRef<'_, f64> {
        MatRef::from_row_major_slice(&self.data, self.len(), self.dim)
    }
}
