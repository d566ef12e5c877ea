//! Nested fixed point maximum likelihood (Rust 1987): the mileage increments from their
//! counts, then (RC, θ₁) by BHHH or BFGS with the analytic gradient through the fixed point,
//! and optionally the full likelihood over every parameter from there.

use choicelab_core::{Error, Result};
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use crate::ddc::fixed_point::FixedPointSettings;
use crate::ddc::likelihood::Likelihood;
use crate::ddc::model::{CostShape, ZurcherModel};
use crate::ddc::outer::{bfgs, bhhh, Budget, Maximum, Outer};
use choicelab_core::panel::{Increments, Panel};

/// NFXP's settings.
#[derive(Debug, Clone)]
pub struct Nfxp {
    /// Discount factor β ∈ [0, 1).
    pub beta: f64,
    /// Maintenance-cost shape.
    pub cost: CostShape,
    /// Cost scale (0.001 in Rust's linear model).
    pub scale: f64,
    /// Starting (RC, θ₁₁, …).
    pub start: Vec<f64>,
    /// Stop when gᵀH⁻¹g, the Newton decrement with BHHH's or BFGS's H (about twice the
    /// log-likelihood still to gain), is below this.
    pub tolerance: f64,
    /// Outer iterations at most (per stage).
    pub max_iterations: usize,
    /// The inner fixed point's settings.
    pub fixed_point: FixedPointSettings,
    /// The outer loop's algorithm.
    pub outer: Outer,
    /// After the two-step fit, maximise the full likelihood of choices and increments over
    /// every parameter (Rust's third stage), for joint standard errors.
    pub full_likelihood: bool,
}

impl Default for Nfxp {
    fn default() -> Self {
        Self {
            beta: 0.9999,
            cost: CostShape::Linear,
            scale: 1e-3,
            start: vec![4.0, 1.0],
            tolerance: 1e-9,
            max_iterations: 500,
            fixed_point: FixedPointSettings::default(),
            outer: Outer::Bhhh,
            full_likelihood: false,
        }
    }
}

/// An NFXP fit.
#[derive(Debug, Clone)]
pub struct FittedDdc {
    /// Mileage increment probabilities θ₃ = (θ₃₀, θ₃₁, …).
    pub increments: Vec<f64>,
    /// Their standard errors: √(p(1 − p)/N) from the first stage, or from the joint BHHH
    /// matrix with the full likelihood.
    pub increments_se: Vec<f64>,
    /// Names of the cost parameters: `rc`, `theta11`, `theta12`, ….
    pub names: Vec<String>,
    /// (RC, θ₁₁, …).
    pub estimates: Vec<f64>,
    /// Standard errors from the inverse BHHH matrix (of the choice likelihood, or of the full
    /// likelihood).
    pub std_errors: Vec<f64>,
    /// Log-likelihood of the choices.
    pub loglik_choice: f64,
    /// Log-likelihood of the mileage transitions.
    pub loglik_transition: f64,
    /// Their sum.
    pub loglik: f64,
    /// Whether every parameter was estimated jointly by the full likelihood.
    pub full_likelihood: bool,
    /// Observations (bus-months with a known usage).
    pub n_obs: usize,
    /// Outer iterations, over both stages with the full likelihood.
    pub iterations: usize,
    /// EV at the estimate.
    pub ev: Vec<f64>,
    /// P(replace | x) at the estimate.
    pub replace_probability: Vec<f64>,
    /// The model at the estimate.
    pub model: ZurcherModel,
}

impl Nfxp {
    /// Fits the increments, then the cost parameters, on `panel`; with `full_likelihood`,
    /// then every parameter jointly from there.
    pub fn fit(&self, panel: &Panel) -> Result<FittedDdc> {
        let (model, increments) = ZurcherModel::for_panel(panel, self.beta, self.cost, self.scale)?;
        let n_obs = panel.transitions().count();
        let k = 1 + self.cost.n_coefficients();
        if self.start.len() != k {
            return Err(Error::parameter(
                "start",
                format!(
                    "{k} starting values needed (RC and {} cost coefficients), got {}",
                    k - 1,
                    self.start.len()
                ),
            ));
        }
        let budget = Budget {
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
        };
        let maximise = |likelihood: &Likelihood, start: &[f64]| match self.outer {
            Outer::Bhhh => bhhh(likelihood, start, budget),
            Outer::Bfgs => bfgs(likelihood, start, budget),
        };
        let partial = Likelihood::new(&model, panel, false, self.fixed_point)?;
        let stage = maximise(&partial, &self.start)?;
        if !self.full_likelihood {
            return Ok(finish(stage, Some(&increments), n_obs, 0));
        }
        let full = Likelihood::new(&model, panel, true, self.fixed_point)?;
        let last = model.increments.len() - 1;
        let start: Vec<f64> = stage
            .theta
            .iter()
            .chain(&model.increments[..last])
            .copied()
            .collect();
        let joint = maximise(&full, &start)?;
        Ok(finish(joint, None, n_obs, stage.iterations))
    }
}

/// The fit at a maximum: with `increments` (the partial likelihood) θ₃ and its standard
/// errors are the first stage's; otherwise they come from the joint maximum, the last entry's
/// by the delta method.
fn finish(
    maximum: Maximum,
    increments: Option<&Increments>,
    n_obs: usize,
    earlier_iterations: usize,
) -> FittedDdc {
    let Maximum {
        theta,
        at,
        iterations,
    } = maximum;
    let k = theta.len();
    let h = Mat::from_fn(k, k, |i, j| at.bhhh[i * k + j]);
    let covariance = h.llt(Side::Lower).ok().map(|llt| llt.inverse());
    let variance = |i: usize| covariance.as_ref().map_or(f64::NAN, |c| c[(i, i)]);
    let model = at.model;
    let k_cost = 1 + model.cost.n_coefficients();
    let (increments_se, loglik_transition) = match increments {
        Some(first_stage) => (first_stage.std_errors.clone(), first_stage.loglik),
        None => {
            let mut se: Vec<f64> = (k_cost..k).map(|i| variance(i).sqrt()).collect();
            let last = covariance.as_ref().map_or(f64::NAN, |c| {
                (k_cost..k)
                    .flat_map(|i| (k_cost..k).map(move |j| (i, j)))
                    .map(|(i, j)| c[(i, j)])
                    .sum::<f64>()
            });
            se.push(last.sqrt());
            (se, at.loglik_transition)
        }
    };
    FittedDdc {
        increments: model.increments.clone(),
        increments_se,
        names: model.cost.parameter_names(),
        std_errors: (0..k_cost).map(|i| variance(i).sqrt()).collect(),
        estimates: theta[..k_cost].to_vec(),
        loglik_choice: at.loglik_choice,
        loglik_transition,
        loglik: at.loglik_choice + loglik_transition,
        full_likelihood: increments.is_none(),
        n_obs,
        iterations: earlier_iterations + iterations,
        ev: at.solved.ev,
        replace_probability: at.solved.replace_probability,
        model,
    }
}
