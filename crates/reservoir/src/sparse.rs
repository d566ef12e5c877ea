//! Sparse recurrent weights (compressed rows) and their spectral radius.

use choicelab_core::{Error, Result};
use faer::Mat;

/// A square or rectangular matrix in compressed sparse row form.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseMatrix {
    rows: usize,
    cols: usize,
    /// Start of each row's entries in `indices` and `values` (length rows + 1).
    starts: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
}

impl SparseMatrix {
    /// A matrix from `(row, col, value)` triplets; entries of one row are kept in column order,
    /// duplicates are summed.
    pub fn from_triplets(
        rows: usize,
        cols: usize,
        mut triplets: Vec<(usize, usize, f64)>,
    ) -> Result<Self> {
        if let Some(&(r, c, _)) = triplets.iter().find(|(r, c, _)| *r >= rows || *c >= cols) {
            return Err(Error::parameter(
                "triplets",
                format!("entry ({r}, {c}) lies outside a {rows} × {cols} matrix"),
            ));
        }
        triplets.sort_by_key(|&(r, c, _)| (r, c));
        let mut starts = vec![0; rows + 1];
        let mut indices: Vec<usize> = Vec::with_capacity(triplets.len());
        let mut values: Vec<f64> = Vec::with_capacity(triplets.len());
        let mut last = None;
        for (r, c, v) in triplets {
            if last == Some((r, c)) {
                if let Some(x) = values.last_mut() {
                    *x += v;
                }
                continue;
            }
            last = Some((r, c));
            starts[r + 1] += 1;
            indices.push(c);
            values.push(v);
        }
        for r in 0..rows {
            starts[r + 1] += starts[r];
        }
        Ok(Self {
            rows,
            cols,
            starts,
            indices,
            values,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Column indices and values of row `r`.
    pub fn row(&self, r: usize) -> (&[usize], &[f64]) {
        let span = self.starts[r]..self.starts[r + 1];
        (&self.indices[span.clone()], &self.values[span])
    }

    /// Mutable values of row `r` (the sparsity pattern is fixed).
    pub fn row_values_mut(&mut self, r: usize) -> &mut [f64] {
        &mut self.values[self.starts[r]..self.starts[r + 1]]
    }

    /// Every stored value, row by row.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Multiplies every stored value by `factor`.
    pub fn scale(&mut self, factor: f64) {
        self.values.iter_mut().for_each(|v| *v *= factor);
    }

    /// Row `r` times the dense vector `x` (four interleaved partial sums, fixed order).
    #[inline]
    pub fn row_dot(&self, r: usize, x: &[f64]) -> f64 {
        let (idx, val) = self.row(r);
        let (chunks_i, chunks_v) = (idx.chunks_exact(4), val.chunks_exact(4));
        let tail: f64 = chunks_i
            .remainder()
            .iter()
            .zip(chunks_v.remainder())
            .map(|(&c, &v)| v * x[c])
            .sum();
        let mut lanes = [0.0; 4];
        for (i4, v4) in chunks_i.zip(chunks_v) {
            for ((lane, &v), &c) in lanes.iter_mut().zip(v4).zip(i4) {
                *lane += v * x[c];
            }
        }
        (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
    }

    /// `y = self · x`.
    pub fn mul_vec(&self, x: &[f64], y: &mut [f64]) {
        for (r, out) in y.iter_mut().enumerate().take(self.rows) {
            *out = self.row_dot(r, x);
        }
    }

    /// The dense matrix.
    pub fn to_dense(&self) -> Mat<f64> {
        let mut m = Mat::zeros(self.rows, self.cols);
        for r in 0..self.rows {
            let (idx, val) = self.row(r);
            for (&c, &v) in idx.iter().zip(val) {
                m[(r, c)] += v;
            }
        }
        m
    }

    /// The spectral radius, max |λ| over all eigenvalues, from the full (non-symmetric) real
    /// eigenvalue decomposition of the dense matrix (faer's Hessenberg QR, `eigenvalues`); it
    /// costs O(n³) but is exact to rounding, unlike power iteration, which misses complex or
    /// nearly tied dominant eigenvalues of non-symmetric matrices.
    pub fn spectral_radius(&self) -> Result<f64> {
        spectral_radius(&self.to_dense())
    }
}

/// The spectral radius of a dense square matrix, from all of its eigenvalues.
pub fn spectral_radius(m: &Mat<f64>) -> Result<f64> {
    if m.nrows() != m.ncols() {
        return Err(Error::parameter(
            "matrix",
            format!(
                "the spectral radius needs a square matrix, got {} × {}",
                m.nrows(),
                m.ncols()
            ),
        ));
    }
    if m.nrows() == 0 {
        return Ok(0.0);
    }
    let eigenvalues = m.eigenvalues().map_err(|e| Error::Numerical {
        context: "spectral radius".into(),
        message: format!("eigenvalue decomposition failed: {e:?}"),
    })?;
    Ok(eigenvalues
        .iter()
        .map(|z| z.re.hypot(z.im))
        .fold(0.0, f64::max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplets_sum_duplicates_and_multiply() {
        let m =
            SparseMatrix::from_triplets(2, 3, vec![(1, 2, 1.0), (0, 1, 2.0), (1, 2, 0.5)]).unwrap();
        assert_eq!(m.nnz(), 2);
        let mut y = [0.0; 2];
        m.mul_vec(&[1.0, 3.0, 2.0], &mut y);
        assert_eq!(y, [6.0, 3.0]);
        assert!(SparseMatrix::from_triplets(2, 2, vec![(2, 0, 1.0)]).is_err());
    }

    #[test]
    fn rotation_has_complex_dominant_eigenvalues() {
        // [[0, -2], [2, 0]] has eigenvalues ±2i: power iteration on it never settles.
        let m = SparseMatrix::from_triplets(2, 2, vec![(0, 1, -2.0), (1, 0, 2.0)]).unwrap();
        assert!((m.spectral_radius().unwrap() - 2.0).abs() < 1e-12);
    }
}
