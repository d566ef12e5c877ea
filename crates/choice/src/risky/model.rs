//! Risky-choice models with a logit choice rule, P(B) = σ(φ·(U_B − U_A)), fitted to aggregate
//! choice shares by binomial maximum likelihood.

use std::sync::Arc;

use choicelab_core::{Error, Location, Result};
use serde::{Deserialize, Serialize};

use super::lottery::{Lottery, RiskyChoice};
use super::value::{CptParams, Evaluated, Ranked, Tables, Weighting};
use crate::binomial::{
    loglik, maximise, probabilities, BinomialFit, FitSettings, IndexModel, Scale,
};

/// The shape of the value function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Curvature {
    /// v(x) = x (α = β = 1).
    Linear,
    /// v(x) = x^α for gains and −λ(−x)^α for losses (β = α).
    Power,
    /// v(x) = x^α for gains and −λ(−x)^β for losses, β estimated separately.
    PowerSeparate,
}

/// A risky-choice model: value function, loss aversion and probability weighting, each
/// optional, and the logit sensitivity φ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskyModel {
    /// The value function's curvature.
    pub curvature: Curvature,
    /// Estimate λ (else λ = 1).
    pub loss_aversion: bool,
    /// The probability weighting (linear: expected utility).
    pub weighting: Weighting,
    /// Separate γ for gains and losses (else one γ).
    pub separate_gamma: bool,
}

impl RiskyModel {
    /// Expected value: P(B) = σ(φ·(EV_B − EV_A)).
    pub fn ev() -> Self {
        Self {
            curvature: Curvature::Linear,
            loss_aversion: false,
            weighting: Weighting::Linear,
            separate_gamma: false,
        }
    }

    /// Expected utility with the sign-preserving power utility sign(x)|x|^α.
    pub fn eu() -> Self {
        Self {
            curvature: Curvature::Power,
            ..Self::ev()
        }
    }

    /// Cumulative prospect theory with β = α, loss aversion λ and one γ of `weighting`.
    pub fn cpt(weighting: Weighting) -> Self {
        Self {
            curvature: Curvature::Power,
            loss_aversion: true,
            weighting,
            separate_gamma: false,
        }
    }

    /// The estimated parameters' names, in order (φ last).
    pub fn parameter_names(&self) -> Vec<&'static str> {
        let mut names = Vec::with_capacity(6);
        match self.curvature {
            Curvature::Linear => {}
            Curvature::Power => names.push("alpha"),
            Curvature::PowerSeparate => names.extend(["alpha", "beta"]),
        }
        if self.loss_aversion {
            names.push("lambda");
        }
        match (self.weighting, self.separate_gamma) {
            (Weighting::Linear, _) => {}
            (_, false) => names.push("gamma"),
            (_, true) => names.extend(["gamma_gain", "gamma_loss"]),
        }
        names.push("phi");
        names
    }

    fn check(&self) -> Result<()> {
        if self.separate_gamma && self.weighting == Weighting::Linear {
            return Err(Error::parameter(
                "separate_gamma",
                "linear weighting has no γ to separate",
            ));
        }
        Ok(())
    }

    /// The value parameters and φ from the estimates, in [`Self::parameter_names`] order.
    pub fn unpack(&self, estimates: &[f64]) -> Result<(CptParams, f64)> {
        let expected = self.parameter_names().len();
        if estimates.len() != expected {
            return Err(Error::parameter(
                "estimates",
                format!("{} values for {expected} parameters", estimates.len()),
            ));
        }
        Ok(self.params(estimates))
    }

    fn params(&self, psi: &[f64]) -> (CptParams, f64) {
        let mut next = psi.iter().copied();
        let mut take = |free: bool| {
            if free {
                next.next().unwrap_or(1.0)
            } else {
                1.0
            }
        };
        let alpha = take(self.curvature != Curvature::Linear);
        let beta = match self.curvature {
            Curvature::PowerSeparate => take(true),
            _ => alpha,
        };
        let lambda = take(self.loss_aversion);
        let gamma_gain = take(self.weighting != Weighting::Linear);
        let gamma_loss = if self.separate_gamma {
            take(true)
        } else {
            gamma_gain
        };
        let phi = take(true);
        let params = CptParams {
            alpha,
            beta,
            lambda,
            gamma_gain,
            gamma_loss,
            weighting: self.weighting,
        };
        (params, phi)
    }

    /// Writes ∂/∂(free value parameters) from ∂/∂(α, β, λ, γ_gain, γ_loss), scaled by φ.
    fn chain(&self, natural: &[f64; 5], phi: f64, out: &mut [f64]) {
        let mut k = 0;
        let mut put = |value: f64| {
            out[k] = phi * value;
            k += 1;
        };
        match self.curvature {
            Curvature::Linear => {}
            Curvature::Power => put(natural[0] + natural[1]),
            Curvature::PowerSeparate => {
                put(natural[0]);
                put(natural[1]);
            }
        }
        if self.loss_aversion {
            put(natural[2]);
        }
        match (self.weighting, self.separate_gamma) {
            (Weighting::Linear, _) => {}
            (_, false) => put(natural[3] + natural[4]),
            (_, true) => {
                put(natural[3]);
                put(natural[4]);
            }
        }
    }

    /// U(lottery) under the estimates (φ is ignored).
    pub fn utility(&self, lottery: &Lottery, estimates: &[f64]) -> Result<f64> {
        let (params, _) = self.unpack(estimates)?;
        Ok(value(lottery, &params))
    }

    /// Deterministic starting points: a few (α, λ, γ) triples projected on the free
    /// parameters, each with φ = 1/rms(U_B − U_A) so that the index starts at unit scale.
    fn starts(&self, data: &RiskyData) -> Vec<Vec<f64>> {
        let names = self.parameter_names();
        let mut starts: Vec<Vec<f64>> = Vec::new();
        for (alpha, lambda, gamma) in [(1.0, 1.0, 1.0), (0.5, 1.0, 0.6), (0.8, 2.0, 0.8)] {
            let mut start: Vec<f64> = names
                .iter()
                .map(|n| match *n {
                    "alpha" | "beta" => alpha,
                    "lambda" => lambda,
                    "gamma" | "gamma_gain" | "gamma_loss" => gamma,
                    _ => 1.0,
                })
                .collect();
            let (params, _) = self.params(&start);
            let at = data.tables.evaluate(&params);
            let mut scratch = [0.0; 5];
            let mut value = |r: &Ranked| r.value(&data.tables, &at, &params, &mut scratch);
            let mean_square = data
                .ranked
                .iter()
                .map(|(a, b)| (value(b) - value(a)).powi(2))
                .sum::<f64>()
                / data.len().max(1) as f64;
            if let Some(phi) = start.last_mut() {
                *phi = if mean_square > 0.0 {
                    1.0 / mean_square.sqrt()
                } else {
                    1.0
                };
            }
            if !starts.contains(&start) {
                starts.push(start);
            }
        }
        starts
    }

    /// The binomial log-likelihood of `data` at the estimates (in [`Self::parameter_names`]
    /// order) and its gradient with respect to them.
    pub fn loglik(&self, data: &RiskyData, estimates: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.check()?;
        self.unpack(estimates)?;
        if let Some(k) = estimates.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::parameter(
                self.parameter_names()[k],
                format!("must be positive, got {}", estimates[k]),
            ));
        }
        Ok(loglik(&Bound::new(self, data), estimates))
    }

    /// Maximises the binomial likelihood of `data`'s choice shares (each row weighted by its
    /// trials) from deterministic starting points; an error when none converges.
    pub fn fit(&self, data: &RiskyData, settings: &FitSettings) -> Result<FittedRisky> {
        self.check()?;
        let bound = Bound::new(self, data);
        let fit = maximise(&bound, &self.starts(data), settings, "risky-choice fit")?;
        Ok(FittedRisky {
            model: *self,
            names: self.parameter_names(),
            rows: data.len(),
            fit,
        })
    }
}

/// U(lottery) under `params` (rank-dependent when the weighting is not linear).
pub fn value(lottery: &Lottery, params: &CptParams) -> f64 {
    Ranked::value_of(lottery, params)
}

/// The decision weight of each outcome of `lottery`, in its order: cumulative weights of
/// gains ranked from the best and of losses ranked from the worst.
pub fn decision_weights(
    lottery: &Lottery,
    weighting: Weighting,
    gamma_gain: f64,
    gamma_loss: f64,
) -> Vec<f64> {
    Ranked::weights_of(lottery, weighting, gamma_gain, gamma_loss)
}

/// Choice shares between lottery pairs, with the pairs' outcomes ranked once for fast
/// likelihood evaluations.
#[derive(Debug, Clone, Default)]
pub struct RiskyData {
    choices: Vec<RiskyChoice>,
    ranked: Vec<(Ranked, Ranked)>,
    tables: Arc<Tables>,
}

impl RiskyData {
    /// Ranks every problem's outcomes; an error names the first row with n ≤ 0 or a share
    /// outside [0, 1].
    pub fn new(choices: Vec<RiskyChoice>) -> Result<Self> {
        for (i, c) in choices.iter().enumerate() {
            if !(c.trials.is_finite() && c.trials > 0.0 && (0.0..=1.0).contains(&c.rate)) {
                return Err(Error::invalid(
                    Location::new("<risky choices>").field(format!("rows[{i}]")),
                    format!(
                        "need n > 0 and a share in [0, 1], got n = {}, share = {}",
                        c.trials, c.rate
                    ),
                ));
            }
        }
        let mut tables = Tables::default();
        let ranked = choices
            .iter()
            .map(|c| {
                (
                    Ranked::new(&c.problem.a, &mut tables),
                    Ranked::new(&c.problem.b, &mut tables),
                )
            })
            .collect();
        Ok(Self {
            choices,
            ranked,
            tables: Arc::new(tables),
        })
    }

    /// The rows.
    pub fn choices(&self) -> &[RiskyChoice] {
        &self.choices
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.choices.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }

    /// The rows at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            choices: indices.iter().map(|&i| self.choices[i].clone()).collect(),
            ranked: indices.iter().map(|&i| self.ranked[i].clone()).collect(),
            tables: Arc::clone(&self.tables),
        }
    }
}

/// A model bound to data, as the likelihood machinery sees it.
struct Bound<'a> {
    model: &'a RiskyModel,
    data: &'a RiskyData,
    scales: Vec<Scale>,
}

impl<'a> Bound<'a> {
    fn new(model: &'a RiskyModel, data: &'a RiskyData) -> Self {
        let scales = vec![Scale::Positive; model.parameter_names().len()];
        Self {
            model,
            data,
            scales,
        }
    }
}

impl IndexModel for Bound<'_> {
    fn scales(&self) -> &[Scale] {
        &self.scales
    }

    fn rows(&self) -> usize {
        self.data.len()
    }

    fn counts(&self, i: usize) -> (f64, f64) {
        let c = &self.data.choices[i];
        (c.trials, c.rate)
    }

    type Shared = Evaluated;

    fn prepare(&self, psi: &[f64]) -> Evaluated {
        self.data.tables.evaluate(&self.model.params(psi).0)
    }

    fn index(&self, psi: &[f64], at: &Evaluated, i: usize, grad: &mut [f64]) -> f64 {
        let (params, phi) = self.model.params(psi);
        let (a, b) = &self.data.ranked[i];
        let tables = &self.data.tables;
        let (mut da, mut db) = ([0.0; 5], [0.0; 5]);
        let difference =
            b.value(tables, at, &params, &mut db) - a.value(tables, at, &params, &mut da);
        let natural: [f64; 5] = std::array::from_fn(|k| db[k] - da[k]);
        self.model.chain(&natural, phi, grad);
        if let Some(last) = grad.last_mut() {
            *last = difference;
        }
        phi * difference
    }
}

/// A fitted risky-choice model.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedRisky {
    /// The model.
    pub model: RiskyModel,
    /// Parameter names (φ last).
    pub names: Vec<&'static str>,
    /// Rows fitted.
    pub rows: usize,
    /// The likelihood fit; its estimates are in `names` order.
    pub fit: BinomialFit,
}

impl FittedRisky {
    /// The estimate of `name`.
    pub fn estimate(&self, name: &str) -> Option<f64> {
        self.position(name).map(|k| self.fit.estimates[k])
    }

    /// The standard error of `name`.
    pub fn std_error(&self, name: &str) -> Option<f64> {
        let k = self.position(name)?;
        self.fit.std_errors.as_ref().map(|se| se[k])
    }

    /// The correlation of the estimates of `a` and `b`.
    pub fn correlation_of(&self, a: &str, b: &str) -> Option<f64> {
        let (i, j) = (self.position(a)?, self.position(b)?);
        self.fit
            .correlation
            .as_ref()
            .map(|c| c[i * self.names.len() + j])
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }

    /// P(B) for every row of `data`.
    pub fn predict(&self, data: &RiskyData) -> Vec<f64> {
        probabilities(&Bound::new(&self.model, data), &self.fit.estimates)
    }
}
