//! Lotteries, problems (a pair of lotteries) and observed choice shares between them.

use choicelab_core::{Error, Location, Result};

/// How far the probabilities of a lottery may sum from 1.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// A lottery: outcomes x with probabilities p, finite, p ∈ [0, 1], Σ p = 1 within
/// [`SUM_TOLERANCE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Lottery {
    outcomes: Vec<(f64, f64)>,
}

impl Lottery {
    /// A lottery from (p, x) pairs; errors name `<lottery>` and the offending entry.
    pub fn new(outcomes: Vec<(f64, f64)>) -> Result<Self> {
        Self::located(outcomes, &Location::new("<lottery>").field("outcomes"))
    }

    /// A lottery from (p, x) pairs; errors name `at` with the entry index appended to its
    /// field (`B[2].p`).
    pub fn located(outcomes: Vec<(f64, f64)>, at: &Location) -> Result<Self> {
        let base = at.field.clone().unwrap_or_else(|| "outcomes".into());
        let here = |i: usize, part: &str| at.clone().field(format!("{base}[{i}].{part}"));
        if outcomes.is_empty() {
            return Err(Error::invalid(at.clone(), "a lottery needs an outcome"));
        }
        for (i, &(p, x)) in outcomes.iter().enumerate() {
            if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                return Err(Error::invalid(
                    here(i, "p"),
                    format!("probability {p} is not in [0, 1]"),
                ));
            }
            if !x.is_finite() {
                return Err(Error::invalid(
                    here(i, "x"),
                    format!("outcome {x} is not finite"),
                ));
            }
        }
        let total: f64 = outcomes.iter().map(|o| o.0).sum();
        if (total - 1.0).abs() > SUM_TOLERANCE {
            return Err(Error::invalid(
                at.clone(),
                format!(
                    "probabilities sum to {total}, not 1 (tolerance {SUM_TOLERANCE:e}): {}",
                    outcomes
                        .iter()
                        .map(|o| o.0.to_string())
                        .collect::<Vec<_>>()
                        .join(" + ")
                ),
            ));
        }
        Ok(Self { outcomes })
    }

    /// A sure outcome.
    pub fn sure(x: f64) -> Result<Self> {
        Self::new(vec![(1.0, x)])
    }

    /// The (p, x) pairs as given.
    pub fn outcomes(&self) -> &[(f64, f64)] {
        &self.outcomes
    }

    /// Σ p·x.
    pub fn expected_value(&self) -> f64 {
        self.outcomes.iter().map(|(p, x)| p * x).sum()
    }

    /// Standard deviation of the outcome.
    pub fn std_dev(&self) -> f64 {
        let mean = self.expected_value();
        let var: f64 = self
            .outcomes
            .iter()
            .map(|(p, x)| p * (x - mean).powi(2))
            .sum();
        var.max(0.0).sqrt()
    }
}

/// A choice problem: lottery A or lottery B.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Option A.
    pub a: Lottery,
    /// Option B.
    pub b: Lottery,
}

/// A problem and how often B was chosen over it.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskyChoice {
    /// The lotteries.
    pub problem: Problem,
    /// Trials n (the binomial weight of the row).
    pub trials: f64,
    /// Share of trials that chose B.
    pub rate: f64,
}

impl RiskyChoice {
    /// A checked row: n > 0 finite, rate ∈ [0, 1].
    pub fn new(problem: Problem, trials: f64, rate: f64) -> Result<Self> {
        if !(trials.is_finite() && trials > 0.0) {
            return Err(Error::invalid(
                Location::new("<risky choice>").field("trials"),
                format!("need n > 0, got {trials}"),
            ));
        }
        if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
            return Err(Error::invalid(
                Location::new("<risky choice>").field("rate"),
                format!("the share choosing B must be in [0, 1], got {rate}"),
            ));
        }
        Ok(Self {
            problem,
            trials,
            rate,
        })
    }
}
