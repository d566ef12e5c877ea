//! Preferences over trajectory segments (Knox et al. 2022): the partial-return and regret
//! models of how a person compares two segments, synthetic comparisons on delivery boards,
//! maximum-likelihood reward learners under either model, and the human comparisons shipped
//! in `delivery/human_data`.

pub mod human;
pub mod learn;
pub mod robust;
pub mod segments;

use choicelab_core::logistic::{log_sigmoid, sigmoid};
use choicelab_core::{Error, Result};

pub use human::{HumanPreferences, Segment, CONDITIONS};
pub use learn::{scaled_return, FittedReward, RewardLearner};
pub use segments::{label, optimal, random_pairs, summarise, Labelling, SegmentSummary};

/// How a person is modelled to compare segment 1 with segment 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreferenceModel {
    /// P(σ₁ ≻ σ₂) = σ((Σr(σ₁) − Σr(σ₂))/τ): the sum of rewards decides.
    PartialReturn,
    /// P(σ₁ ≻ σ₂) = σ((regret(σ₂) − regret(σ₁))/τ) with, for deterministic moves,
    /// regret(σ) = V*(s₀) − (Σr(σ) + V*(s_T)): how far each segment falls short of optimal play.
    Regret,
}

/// Two segments compared, summarised by segment 1 minus segment 2 of the partial return, of
/// V* at the start and of V* at the end (the columns of the shipped `X` arrays).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentDifference {
    /// Δ Σr.
    pub partial_return: f64,
    /// Δ V*(s₀).
    pub start_value: f64,
    /// Δ V*(s_T).
    pub end_value: f64,
}

impl PreferenceModel {
    /// The logit's argument before dividing by τ: ΔPR, or ΔPR − ΔV*(s₀) + ΔV*(s_T) (which is
    /// regret(σ₂) − regret(σ₁)).
    pub fn argument(self, d: &SegmentDifference) -> f64 {
        match self {
            Self::PartialReturn => d.partial_return,
            Self::Regret => d.partial_return - d.start_value + d.end_value,
        }
    }

    /// The noiseless label: 1 when the argument is positive, 0 when negative, 0.5 at a tie.
    pub fn deterministic_label(self, d: &SegmentDifference) -> f64 {
        let z = self.argument(d);
        if z > 0.0 {
            1.0
        } else if z < 0.0 {
            0.0
        } else {
            0.5
        }
    }

    /// P(σ₁ ≻ σ₂) at temperature τ > 0.
    pub fn probability(self, d: &SegmentDifference, temperature: f64) -> Result<f64> {
        check_temperature(temperature)?;
        Ok(sigmoid(self.argument(d) / temperature))
    }

    /// Σ y·log p + (1 − y)·log(1 − p) over comparisons with soft labels y ∈ [0, 1]
    /// (1: segment 1 preferred, 0.5: indifferent), at temperature τ > 0.
    pub fn log_likelihood(
        self,
        comparisons: &[SegmentDifference],
        labels: &[f64],
        temperature: f64,
    ) -> Result<f64> {
        check_temperature(temperature)?;
        if comparisons.len() != labels.len() {
            return Err(Error::parameter(
                "labels",
                format!(
                    "{} labels for {} comparisons",
                    labels.len(),
                    comparisons.len()
                ),
            ));
        }
        if let Some(i) = labels.iter().position(|y| !(0.0..=1.0).contains(y)) {
            return Err(Error::parameter(
                "labels",
                format!("label {i} is {}, outside [0, 1]", labels[i]),
            ));
        }
        Ok(comparisons
            .iter()
            .zip(labels)
            .map(|(d, y)| {
                let z = self.argument(d) / temperature;
                y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z)
            })
            .sum())
    }
}

fn check_temperature(temperature: f64) -> Result<()> {
    if temperature.is_finite() && temperature > 0.0 {
        Ok(())
    } else {
        Err(Error::parameter(
            "temperature",
            format!("τ must be finite and > 0, got {temperature}"),
        ))
    }
}
