//! Echo-state networks: leaky units, sparse random recurrent weights scaled to a spectral radius.

use choicelab_core::{rng, Error, Result, Rng, Seed};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::reservoir::{Activation, Reservoir};
use crate::sparse::SparseMatrix;

/// An echo-state network's hyperparameters; defaults are reservoirpy 0.4.2's `Reservoir`.
///
/// The update is x(t+1) = (1 − a)·x(t) + a·f(W x(t) + W_in u(t+1) + b + W_fb y(t)), with a the
/// leak rate, f the activation, W sparse Normal(0, 1) entries rescaled to the spectral radius,
/// W_in and W_fb sparse ±1 entries times their scalings, and b a ±1 bias times its scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct EsnParams {
    /// Number of units.
    pub units: usize,
    /// Width of the input vectors.
    pub input_dim: usize,
    /// Spectral radius of W (largest |eigenvalue|), > 0.
    pub spectral_radius: f64,
    /// Leak rate a in (0, 1]; 1 means no leak.
    pub leak: f64,
    /// Scale of the ±1 input weights.
    pub input_scaling: f64,
    /// Fraction of W's entries that are non-zero, in (0, 1].
    pub connectivity: f64,
    /// Fraction of W_in's (and W_fb's) entries that are non-zero, in (0, 1].
    pub input_connectivity: f64,
    /// Scale of the ±1 bias of each unit; 0 for no bias.
    pub bias_scaling: f64,
    /// Width of the fed-back output; 0 for no feedback.
    pub feedback_dim: usize,
    /// Scale of the ±1 feedback weights.
    pub feedback_scaling: f64,
    /// The units' activation.
    pub activation: Activation,
    /// Seed of every weight.
    pub seed: Seed,
}

impl Default for EsnParams {
    fn default() -> Self {
        Self {
            units: 100,
            input_dim: 1,
            spectral_radius: 1.0,
            leak: 1.0,
            input_scaling: 1.0,
            connectivity: 0.1,
            input_connectivity: 0.1,
            bias_scaling: 0.0,
            feedback_dim: 0,
            feedback_scaling: 1.0,
            activation: Activation::Tanh,
            seed: 0,
        }
    }
}

fn fraction(name: &str, x: f64) -> Result<()> {
    if x > 0.0 && x <= 1.0 {
        Ok(())
    } else {
        Err(Error::parameter(
            name,
            format!("need a value in (0, 1], got {x}"),
        ))
    }
}

fn non_negative(name: &str, x: f64) -> Result<()> {
    if x >= 0.0 && x.is_finite() {
        Ok(())
    } else {
        Err(Error::parameter(
            name,
            format!("need a finite value ≥ 0, got {x}"),
        ))
    }
}

impl EsnParams {
    /// Rejects hyperparameters outside their domains.
    pub fn check(&self) -> Result<()> {
        if self.units == 0 || self.input_dim == 0 {
            return Err(Error::parameter(
                "units",
                "need at least one unit and one input",
            ));
        }
        if !(self.spectral_radius > 0.0 && self.spectral_radius.is_finite()) {
            return Err(Error::parameter(
                "spectral_radius",
                format!("need a finite value > 0, got {}", self.spectral_radius),
            ));
        }
        fraction("leak", self.leak)?;
        fraction("connectivity", self.connectivity)?;
        fraction("input_connectivity", self.input_connectivity)?;
        non_negative("input_scaling", self.input_scaling)?;
        non_negative("bias_scaling", self.bias_scaling)?;
        non_negative("feedback_scaling", self.feedback_scaling)
    }

    /// Checks the hyperparameters and draws the weights.
    pub fn build(&self) -> Result<Esn> {
        self.check()?;
        let n = self.units;
        let mut rng = rng(self.seed);
        let normal = |rng: &mut Rng| -> f64 { StandardNormal.sample(rng) };
        let mut recurrent = random_sparse(n, n, self.connectivity, &mut rng, normal)?;
        let radius = recurrent.spectral_radius()?;
        if radius < 1e-12 {
            return Err(Error::Numerical {
                context: "echo-state network".into(),
                message: format!(
                    "the random recurrent weights have spectral radius {radius:e} (nilpotent); \
                     raise connectivity or units"
                ),
            });
        }
        recurrent.scale(self.spectral_radius / radius);
        let sign = |rng: &mut Rng| -> f64 {
            if rng.random::<bool>() {
                1.0
            } else {
                -1.0
            }
        };
        let mut input = random_sparse(n, self.input_dim, self.input_connectivity, &mut rng, sign)?;
        input.scale(self.input_scaling);
        let bias = if self.bias_scaling > 0.0 {
            (0..n).map(|_| sign(&mut rng) * self.bias_scaling).collect()
        } else {
            vec![0.0; n]
        };
        let feedback = if self.feedback_dim > 0 {
            let mut w = random_sparse(
                n,
                self.feedback_dim,
                self.input_connectivity,
                &mut rng,
                sign,
            )?;
            w.scale(self.feedback_scaling);
            Some(w)
        } else {
            None
        };
        Ok(Esn {
            recurrent,
            input,
            bias,
            feedback,
            leak: self.leak,
            activation: self.activation,
            state: vec![0.0; n],
            drive: vec![0.0; n],
            fed_back: vec![0.0; self.feedback_dim],
        })
    }
}

/// A `rows × cols` matrix with round(density·rows·cols) (at least one) entries at distinct
/// uniformly drawn positions, each drawn by `value` (scipy's `sparse.random`, as reservoirpy).
pub(crate) fn random_sparse(
    rows: usize,
    cols: usize,
    density: f64,
    rng: &mut Rng,
    mut value: impl FnMut(&mut Rng) -> f64,
) -> Result<SparseMatrix> {
    let cells = rows * cols;
    let count = ((density * cells as f64).round() as usize).clamp(1, cells);
    let positions = rand::seq::index::sample(rng, cells, count).into_vec();
    let triplets = positions
        .into_iter()
        .map(|p| (p / cols, p % cols, value(rng)))
        .collect();
    SparseMatrix::from_triplets(rows, cols, triplets)
}

/// A built echo-state network: weights and the current state.
#[derive(Debug, Clone)]
pub struct Esn {
    recurrent: SparseMatrix,
    input: SparseMatrix,
    bias: Vec<f64>,
    feedback: Option<SparseMatrix>,
    leak: f64,
    activation: Activation,
    state: Vec<f64>,
    drive: Vec<f64>,
    fed_back: Vec<f64>,
}

impl Esn {
    /// The recurrent weights W.
    pub fn recurrent(&self) -> &SparseMatrix {
        &self.recurrent
    }

    /// The input weights W_in.
    pub fn input_weights(&self) -> &SparseMatrix {
        &self.input
    }

    /// Sets the output y(t) fed back into the next step (teacher forcing while training, the
    /// readout's own prediction when running free); an error without feedback weights.
    pub fn set_feedback(&mut self, output: &[f64]) -> Result<()> {
        if output.len() != self.fed_back.len() || self.feedback.is_none() {
            return Err(Error::parameter(
                "feedback",
                format!(
                    "got {} values for a network with {} feedback inputs",
                    output.len(),
                    self.fed_back.len()
                ),
            ));
        }
        self.fed_back.copy_from_slice(output);
        Ok(())
    }
}

impl Reservoir for Esn {
    fn units(&self) -> usize {
        self.state.len()
    }

    fn input_dim(&self) -> usize {
        self.input.cols()
    }

    fn reset(&mut self) {
        self.state.iter_mut().for_each(|x| *x = 0.0);
        self.fed_back.iter_mut().for_each(|x| *x = 0.0);
    }

    fn step(&mut self, input: &[f64]) {
        for (r, d) in self.drive.iter_mut().enumerate() {
            *d = self.recurrent.row_dot(r, &self.state)
                + self.input.row_dot(r, input)
                + self.bias[r];
        }
        if let Some(feedback) = &self.feedback {
            for (r, d) in self.drive.iter_mut().enumerate() {
                *d += feedback.row_dot(r, &self.fed_back);
            }
        }
        let (a, f) = (self.leak, self.activation);
        for (x, &d) in self.state.iter_mut().zip(&self.drive) {
            *x = (1.0 - a) * *x + a * f.apply(d);
        }
    }

    fn state(&self) -> &[f64] {
        &self.state
    }
}
