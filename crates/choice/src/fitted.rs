//! What a fitted utility model knows: one utility per item, with standard errors.

use choicelab_core::Items;

/// Utilities θ (centred, log-strengths) of named items, as fitted by a Luce-family model.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedUtilities {
    /// The model that produced them (`bradley-terry`, `plackett-luce`, `lsr`, `ilsr`).
    pub model: &'static str,
    /// The items, by index.
    pub items: Items,
    /// θ_i, centred to mean 0 unless a penalty identifies them.
    pub theta: Vec<f64>,
    /// Standard errors of the centred utilities from the observed information (penalty
    /// included), when the method gives them.
    pub std_errors: Option<Vec<f64>>,
    /// Log-likelihood at θ (without any penalty).
    pub loglik: f64,
    /// Iterations the fit took.
    pub iterations: usize,
    /// Number of observations (comparisons or choices).
    pub n_obs: usize,
    /// The tie parameter when ties are modelled: θ (Rao–Kupper) or ν (Davidson).
    pub tie_parameter: Option<f64>,
}

impl FittedUtilities {
    /// P(i preferred to j) = σ(θ_i − θ_j).
    pub fn prob_prefers(&self, i: u32, j: u32) -> f64 {
        choicelab_core::logistic::sigmoid(self.theta[i as usize] - self.theta[j as usize])
    }
}
