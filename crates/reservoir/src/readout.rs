//! The ridge-regression readout: a linear map from states to targets with an unpenalised bias.

use choicelab_core::{Error, Result};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};

use crate::series::Series;

/// Ridge regression of targets on states with a bias column.
///
/// Minimises ‖Y − X W − 1 bᵀ‖² + λ‖W‖² (the bias b is not penalised, as in reservoirpy 0.4.2's
/// `Ridge`): X and Y are centred on their column means, (X̃ᵀX̃ + λI) W = X̃ᵀỸ is solved by a
/// dense Cholesky factorisation (faer), and b = ȳ − Wᵀx̄.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ridge {
    lambda: f64,
}

impl Ridge {
    /// A ridge readout with penalty `lambda` ≥ 0.
    pub fn new(lambda: f64) -> Result<Self> {
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(Error::parameter(
                "ridge",
                format!("need a finite penalty ≥ 0, got {lambda}"),
            ));
        }
        Ok(Self { lambda })
    }

    /// The penalty λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Fits the readout of `targets` (one row per state) from `states`.
    pub fn fit(&self, states: &Series, targets: &Series) -> Result<Readout> {
        let (t, n, m) = (states.len(), states.dim(), targets.dim());
        if targets.len() != t || t == 0 {
            return Err(Error::parameter(
                "targets",
                format!(
                    "{} target rows for {t} states (need as many, ≥ 1)",
                    targets.len()
                ),
            ));
        }
        let x_mean = column_means(states.view());
        let y_mean = column_means(targets.view());
        let x = centred(states.view(), &x_mean);
        let y = centred(targets.view(), &y_mean);
        // Only the lower triangle of the symmetric XᵀX is formed; the Cholesky reads only it.
        let mut gram = Mat::<f64>::zeros(n, n);
        triangular::matmul(
            gram.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            x.transpose(),
            BlockStructure::Rectangular,
            x.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        for i in 0..n {
            gram[(i, i)] += self.lambda;
        }
        let mut cross = Mat::<f64>::zeros(n, m);
        matmul(
            cross.as_mut(),
            Accum::Replace,
            x.transpose(),
            y.as_ref(),
            1.0,
            Par::Seq,
        );
        let weights = gram
            .llt(Side::Lower)
            .map_err(|e| Error::Numerical {
                context: "ridge readout".into(),
                message: format!(
                    "XᵀX + λI is not positive definite ({e:?}); raise the ridge penalty \
                     (λ = {:e})",
                    self.lambda
                ),
            })?
            .solve(cross);
        if weights
            .col_iter()
            .flat_map(|c| c.iter())
            .any(|w| !w.is_finite())
        {
            return Err(Error::Numerical {
                context: "ridge readout".into(),
                message: "non-finite weights (states contain NaN or overflow)".into(),
            });
        }
        let bias = (0..m)
            .map(|j| y_mean[j] - (0..n).map(|i| weights[(i, j)] * x_mean[i]).sum::<f64>())
            .collect();
        Ok(Readout { weights, bias })
    }
}

fn column_means(x: MatRef<'_, f64>) -> Vec<f64> {
    let rows = x.nrows().max(1) as f64;
    (0..x.ncols())
        .map(|j| x.col(j).iter().sum::<f64>() / rows)
        .collect()
}

fn centred(x: MatRef<'_, f64>, mean: &[f64]) -> Mat<f64> {
    Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - mean[j])
}

/// A fitted linear readout y = Wᵀx + b.
#[derive(Debug, Clone)]
pub struct Readout {
    weights: Mat<f64>,
    bias: Vec<f64>,
}

impl Readout {
    /// Weight of state unit `unit` on output `output`.
    pub fn weight(&self, unit: usize, output: usize) -> f64 {
        self.weights[(unit, output)]
    }

    /// The bias of each output.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Outputs for every state row.
    pub fn predict(&self, states: &Series) -> Result<Series> {
        let (n, m) = (self.weights.nrows(), self.weights.ncols());
        if states.dim() != n {
            return Err(Error::parameter(
                "states",
                format!("rows of width {} for a readout of {n} units", states.dim()),
            ));
        }
        let mut out = Mat::<f64>::zeros(states.len(), m);
        matmul(
            out.as_mut(),
            Accum::Replace,
            states.view(),
            self.weights.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut data = Vec::with_capacity(states.len() * m);
        for t in 0..states.len() {
            data.extend((0..m).map(|j| out[(t, j)] + self.bias[j]));
        }
        Series::new(m, data)
    }
}
