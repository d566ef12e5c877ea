//! Feature baselines for choice shares: a logistic regression on raw features and a
//! one-hidden-layer perceptron, both fitted by the same binomial likelihood as the
//! cognitive models, on features standardised with the training rows' means and spreads.

use choicelab_core::{stream_rng, Error, Location, Result, Seed};
use rand_distr::{Distribution, Normal};

use super::model::RiskyData;
use crate::binomial::{maximise, probabilities, FitSettings, IndexModel, Scale};

/// Rows of numeric features, each with its trials and share of yes (choices of B).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureData {
    width: usize,
    x: Vec<f64>,
    trials: Vec<f64>,
    rates: Vec<f64>,
}

impl FeatureData {
    /// Row-major features `x` (`width` per row) with each row's trials and share.
    pub fn new(width: usize, x: Vec<f64>, trials: Vec<f64>, rates: Vec<f64>) -> Result<Self> {
        let at = Location::new("<features>");
        if width == 0 || x.len() != width * trials.len() || rates.len() != trials.len() {
            return Err(Error::invalid(
                at,
                format!(
                    "{} values, {} trial counts and {} shares do not make rows of {width}",
                    x.len(),
                    trials.len(),
                    rates.len()
                ),
            ));
        }
        if let Some(k) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                at.field(format!("row {} column {}", k / width, k % width)),
                "feature is not finite",
            ));
        }
        if let Some(i) = (0..trials.len()).find(|&i| {
            !(trials[i] > 0.0 && trials[i].is_finite() && (0.0..=1.0).contains(&rates[i]))
        }) {
            return Err(Error::invalid(
                at.field(format!("row {i}")),
                format!(
                    "need n > 0 and a share in [0, 1], got {} and {}",
                    trials[i], rates[i]
                ),
            ));
        }
        Ok(Self {
            width,
            x,
            trials,
            rates,
        })
    }

    /// The raw expected-value features of each problem: (EV_A, EV_B).
    pub fn expected_values(data: &RiskyData) -> Self {
        let choices = data.choices();
        Self {
            width: 2,
            x: choices
                .iter()
                .flat_map(|c| [c.problem.a.expected_value(), c.problem.b.expected_value()])
                .collect(),
            trials: choices.iter().map(|c| c.trials).collect(),
            rates: choices.iter().map(|c| c.rate).collect(),
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.trials.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.trials.is_empty()
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The rows at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            width: self.width,
            x: indices
                .iter()
                .flat_map(|&i| self.row(i).iter().copied())
                .collect(),
            trials: indices.iter().map(|&i| self.trials[i]).collect(),
            rates: indices.iter().map(|&i| self.rates[i]).collect(),
        }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.width..(i + 1) * self.width]
    }
}

/// Column means and standard deviations (1 for a constant column).
#[derive(Debug, Clone, PartialEq)]
struct Standardiser {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardiser {
    fn of(data: &FeatureData) -> Self {
        let n = data.len() as f64;
        let mean: Vec<f64> = (0..data.width)
            .map(|j| (0..data.len()).map(|i| data.row(i)[j]).sum::<f64>() / n)
            .collect();
        let scale = (0..data.width)
            .map(|j| {
                let var = (0..data.len())
                    .map(|i| (data.row(i)[j] - mean[j]).powi(2))
                    .sum::<f64>()
                    / n;
                if var > 0.0 {
                    var.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, scale }
    }

    fn apply(&self, data: &FeatureData) -> FeatureData {
        let mut out = data.clone();
        for row in out.x.chunks_exact_mut(data.width) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.scale[j];
            }
        }
        out
    }
}

/// Logistic regression P(B) = σ(w₀ + Σ_j w_j x_j) with an optional ridge penalty (on the
/// standardised weights, not the intercept).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticRegression {
    /// Ridge penalty (λ/2)‖w‖² added to the mean negative log-likelihood per trial.
    pub ridge: f64,
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLogistic {
    /// Intercept w₀ on the raw features.
    pub intercept: f64,
    /// Weights w_j on the raw features.
    pub weights: Vec<f64>,
    /// Binomial log-likelihood at the estimate.
    pub loglik: f64,
    standardiser: Standardiser,
    psi: Vec<f64>,
}

/// Linear index over standardised features: ψ = (w₀, w₁, …).
struct Linear<'a> {
    data: &'a FeatureData,
    scales: Vec<Scale>,
    ridge: f64,
}

impl IndexModel for Linear<'_> {
    fn scales(&self) -> &[Scale] {
        &self.scales
    }
    fn rows(&self) -> usize {
        self.data.len()
    }
    fn counts(&self, i: usize) -> (f64, f64) {
        (self.data.trials[i], self.data.rates[i])
    }
    type Shared = ();
    fn prepare(&self, _: &[f64]) {}
    fn index(&self, psi: &[f64], _: &(), i: usize, grad: &mut [f64]) -> f64 {
        let x = self.data.row(i);
        grad[0] = 1.0;
        grad[1..].copy_from_slice(x);
        psi[0] + psi[1..].iter().zip(x).map(|(w, x)| w * x).sum::<f64>()
    }
    fn penalty(&self, psi: &[f64], grad: &mut [f64]) -> f64 {
        let mut total = 0.0;
        for (g, w) in grad[1..].iter_mut().zip(&psi[1..]) {
            *g += self.ridge * w;
            total += 0.5 * self.ridge * w * w;
        }
        total
    }
}

impl LogisticRegression {
    /// Maximises the (penalised) binomial likelihood from w = 0.
    pub fn fit(&self, data: &FeatureData, settings: &FitSettings) -> Result<FittedLogistic> {
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(Error::parameter(
                "ridge",
                format!("must be ≥ 0, got {}", self.ridge),
            ));
        }
        let standardiser = Standardiser::of(data);
        let scaled = standardiser.apply(data);
        let model = Linear {
            data: &scaled,
            scales: vec![Scale::Free; data.width + 1],
            ridge: self.ridge,
        };
        let settings = FitSettings {
            std_errors: false,
            ..*settings
        };
        let fit = maximise(
            &model,
            &[vec![0.0; data.width + 1]],
            &settings,
            "logistic regression",
        )?;
        let psi = fit.estimates;
        let weights: Vec<f64> = (0..data.width)
            .map(|j| psi[j + 1] / standardiser.scale[j])
            .collect();
        let intercept = psi[0]
            - (0..data.width)
                .map(|j| weights[j] * standardiser.mean[j])
                .sum::<f64>();
        Ok(FittedLogistic {
            intercept,
            weights,
            loglik: fit.loglik,
            standardiser,
            psi,
        })
    }
}

impl FittedLogistic {
    /// P(B) for every row of `data`; an error when its rows are not as wide as the fit's.
    pub fn predict(&self, data: &FeatureData) -> Result<Vec<f64>> {
        check_width(self.weights.len(), data)?;
        let scaled = self.standardiser.apply(data);
        let model = Linear {
            data: &scaled,
            scales: vec![Scale::Free; data.width + 1],
            ridge: 0.0,
        };
        Ok(probabilities(&model, &self.psi))
    }
}

fn check_width(width: usize, data: &FeatureData) -> Result<()> {
    if data.width != width {
        return Err(Error::invalid(
            Location::new("<features>"),
            format!("rows of {} features for a model of {width}", data.width),
        ));
    }
    Ok(())
}

/// A one-hidden-layer perceptron P(B) = σ(b + Σ_h v_h tanh(c_h + W_h·x)) with a ridge
/// penalty on W and v, fitted by L-BFGS from a seeded start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mlp {
    /// Hidden units.
    pub hidden: usize,
    /// Ridge penalty (λ/2)(‖W‖² + ‖v‖²) added to the mean negative log-likelihood per trial.
    pub penalty: f64,
    /// Seed of the starting weights.
    pub seed: Seed,
}

/// A fitted perceptron.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedMlp {
    /// Binomial log-likelihood at the estimate.
    pub loglik: f64,
    /// L-BFGS iterations.
    pub iterations: usize,
    network: Network,
    standardiser: Standardiser,
    psi: Vec<f64>,
}

/// The network's shape; ψ = (W row-major, c, v, b).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Network {
    width: usize,
    hidden: usize,
}

impl Network {
    fn parameters(&self) -> usize {
        self.hidden * (self.width + 2) + 1
    }
}

struct Bound<'a> {
    data: &'a FeatureData,
    network: Network,
    scales: Vec<Scale>,
    penalty: f64,
}

impl IndexModel for Bound<'_> {
    fn scales(&self) -> &[Scale] {
        &self.scales
    }
    fn rows(&self) -> usize {
        self.data.len()
    }
    fn counts(&self, i: usize) -> (f64, f64) {
        (self.data.trials[i], self.data.rates[i])
    }
    type Shared = ();
    fn prepare(&self, _: &[f64]) {}
    fn index(&self, psi: &[f64], _: &(), i: usize, grad: &mut [f64]) -> f64 {
        let Network { width, hidden } = self.network;
        let x = self.data.row(i);
        let (w, rest) = psi.split_at(hidden * width);
        let (c, rest) = rest.split_at(hidden);
        let (v, b) = rest.split_at(hidden);
        let (gw, rest) = grad.split_at_mut(hidden * width);
        let (gc, rest) = rest.split_at_mut(hidden);
        let (gv, gb) = rest.split_at_mut(hidden);
        let mut z = b[0];
        for h in 0..hidden {
            let row = &w[h * width..(h + 1) * width];
            let a = (c[h] + row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>()).tanh();
            z += v[h] * a;
            gv[h] = a;
            let back = v[h] * (1.0 - a * a);
            gc[h] = back;
            gw[h * width..(h + 1) * width]
                .iter_mut()
                .zip(x)
                .for_each(|(g, x)| *g = back * x);
        }
        gb[0] = 1.0;
        z
    }
    fn penalty(&self, psi: &[f64], grad: &mut [f64]) -> f64 {
        let Network { width, hidden } = self.network;
        let mut total = 0.0;
        let penalised = (0..hidden * width).chain(hidden * (width + 1)..hidden * (width + 2));
        for k in penalised {
            grad[k] += self.penalty * psi[k];
            total += 0.5 * self.penalty * psi[k] * psi[k];
        }
        total
    }
}

impl Mlp {
    /// Fits the network on standardised features.
    pub fn fit(&self, data: &FeatureData, settings: &FitSettings) -> Result<FittedMlp> {
        if self.hidden == 0 {
            return Err(Error::parameter("hidden", "need at least one hidden unit"));
        }
        if !(self.penalty.is_finite() && self.penalty >= 0.0) {
            return Err(Error::parameter(
                "penalty",
                format!("must be ≥ 0, got {}", self.penalty),
            ));
        }
        let network = Network {
            width: data.width,
            hidden: self.hidden,
        };
        let standardiser = Standardiser::of(data);
        let scaled = standardiser.apply(data);
        let model = Bound {
            data: &scaled,
            network,
            scales: vec![Scale::Free; network.parameters()],
            penalty: self.penalty,
        };
        let mut rng = stream_rng(self.seed, 0);
        let input = Normal::new(0.0, 1.0 / (data.width as f64).sqrt())
            .map_err(|e| Error::parameter("width", e.to_string()))?;
        let output = Normal::new(0.0, 1.0 / (self.hidden as f64).sqrt())
            .map_err(|e| Error::parameter("hidden", e.to_string()))?;
        let mut start = vec![0.0; network.parameters()];
        let (w, rest) = start.split_at_mut(self.hidden * data.width);
        w.iter_mut().for_each(|x| *x = input.sample(&mut rng));
        rest[self.hidden..2 * self.hidden]
            .iter_mut()
            .for_each(|x| *x = output.sample(&mut rng));
        let settings = FitSettings {
            std_errors: false,
            ..*settings
        };
        let fit = maximise(&model, &[start], &settings, "perceptron")?;
        Ok(FittedMlp {
            loglik: fit.loglik,
            iterations: fit.iterations,
            network,
            standardiser,
            psi: fit.estimates,
        })
    }
}

impl FittedMlp {
    /// P(B) for every row of `data`; an error when its rows are not as wide as the fit's.
    pub fn predict(&self, data: &FeatureData) -> Result<Vec<f64>> {
        check_width(self.network.width, data)?;
        let scaled = self.standardiser.apply(data);
        let model = Bound {
            data: &scaled,
            network: self.network,
            scales: vec![Scale::Free; self.network.parameters()],
            penalty: 0.0,
        };
        Ok(probabilities(&model, &self.psi))
    }

    /// Number of weights and biases.
    pub fn parameters(&self) -> usize {
        self.network.parameters()
    }
}
