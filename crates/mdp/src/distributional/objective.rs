//! Objectives on the law of the total return, written as expected utilities of the stock-shifted
//! return c₀ + G so that thresholds and targets live in the initial stock.

use choicelab_core::{Error, Result};

use super::atoms::{cvar_of_sorted, Atoms};

/// How far from its target a homeostatic objective lets the return stray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deviation {
    /// Penalty |G − target|.
    Absolute,
    /// Penalty (G − target)².
    Squared,
}

/// What to maximise about the law of the total return G.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// E G: the ordinary objective (stock-augmented DP must equal value iteration).
    Expectation,
    /// CVaR_α(G), the mean of the lower α-tail (α = 1 is the mean), by Rockafellar–Uryasev:
    /// max_b { b − E[(b − G)⁺]/α }, each b an initial stock c₀ = −b with utility min(x, 0).
    Cvar {
        /// Tail mass α ∈ (0, 1].
        alpha: f64,
    },
    /// P(G ≥ threshold), the expected utility 1{x ≥ 0} from initial stock c₀ = −threshold.
    Threshold {
        /// The return to reach.
        threshold: f64,
    },
    /// Homeostatic regulation: maximise −E|G − target| (or −E(G − target)²), the utility −|x|
    /// (or −x²) from initial stock c₀ = −target.
    Homeostatic {
        /// The return to stay near.
        target: f64,
        /// The penalty for straying.
        deviation: Deviation,
    },
}

impl Objective {
    /// Errors unless the parameters are valid (α ∈ (0, 1], finite threshold and target).
    pub fn check(&self) -> Result<()> {
        match *self {
            Objective::Cvar { alpha } if !(alpha > 0.0 && alpha <= 1.0) => Err(Error::parameter(
                "alpha",
                format!("CVaR level {alpha} must be in (0, 1]"),
            )),
            Objective::Threshold { threshold } if !threshold.is_finite() => Err(Error::parameter(
                "threshold",
                format!("{threshold} is not finite"),
            )),
            Objective::Homeostatic { target, .. } if !target.is_finite() => Err(Error::parameter(
                "target",
                format!("{target} is not finite"),
            )),
            _ => Ok(()),
        }
    }

    /// The utility f applied to the stock-shifted return x = c + G.
    pub fn utility(&self, x: f64) -> f64 {
        match *self {
            Objective::Expectation => x,
            Objective::Cvar { .. } => x.min(0.0),
            // Lattice sums can land a rounding error below zero.
            Objective::Threshold { .. } => f64::from(u8::from(x >= -1e-9 * x.abs().max(1.0))),
            Objective::Homeostatic {
                deviation: Deviation::Absolute,
                ..
            } => -x.abs(),
            Objective::Homeostatic {
                deviation: Deviation::Squared,
                ..
            } => -x * x,
        }
    }

    /// The initial stock that absorbs the threshold or target (None for CVaR, whose stock is
    /// searched, and 0 for the expectation).
    pub fn initial_stock(&self) -> Option<f64> {
        match *self {
            Objective::Expectation => Some(0.0),
            Objective::Cvar { .. } => None,
            Objective::Threshold { threshold } => Some(-threshold),
            Objective::Homeostatic { target, .. } => Some(-target),
        }
    }

    /// The objective's value for a law of G given as (value, probability) pairs sorted by value.
    pub fn of_sorted_law(&self, pairs: &[(f64, f64)]) -> f64 {
        match *self {
            Objective::Cvar { alpha } => cvar_of_sorted(pairs, alpha),
            _ => {
                let c0 = self.initial_stock().unwrap_or(0.0);
                let utility: f64 = pairs.iter().map(|&(g, p)| p * self.utility(c0 + g)).sum();
                match self {
                    Objective::Expectation => utility - c0,
                    _ => utility,
                }
            }
        }
    }

    /// The objective's value for a categorical law on `atoms`.
    pub fn of_law(&self, atoms: &Atoms, law: &[f64]) -> f64 {
        let pairs: Vec<(f64, f64)> = law
            .iter()
            .enumerate()
            .filter(|(_, &q)| q > 0.0)
            .map(|(j, &q)| (atoms.atom(j), q))
            .collect();
        self.of_sorted_law(&pairs)
    }

    /// The objective's value for Monte Carlo samples of G.
    pub fn of_samples(&self, samples: &[f64]) -> f64 {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let p = 1.0 / sorted.len() as f64;
        let pairs: Vec<(f64, f64)> = sorted.into_iter().map(|g| (g, p)).collect();
        self.of_sorted_law(&pairs)
    }

    /// A short name for reports.
    pub fn name(&self) -> String {
        match *self {
            Objective::Expectation => "expectation".into(),
            Objective::Cvar { alpha } => format!("CVaR_{alpha}"),
            Objective::Threshold { threshold } => format!("P(G ≥ {threshold})"),
            Objective::Homeostatic {
                target,
                deviation: Deviation::Absolute,
            } => format!("−E|G − {target}|"),
            Objective::Homeostatic {
                target,
                deviation: Deviation::Squared,
            } => format!("−E(G − {target})²"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laws_are_scored_by_their_objective() {
        let law = [(-10.0, 0.2), (0.0, 0.5), (4.0, 0.3)];
        assert!((Objective::Expectation.of_sorted_law(&law) - (-0.8)).abs() < 1e-12);
        let threshold = Objective::Threshold { threshold: 0.0 };
        assert!((threshold.of_sorted_law(&law) - 0.8).abs() < 1e-12);
        let homeostatic = Objective::Homeostatic {
            target: 4.0,
            deviation: Deviation::Absolute,
        };
        assert!((homeostatic.of_sorted_law(&law) + (0.2 * 14.0 + 0.5 * 4.0)).abs() < 1e-12);
        let cvar = Objective::Cvar { alpha: 0.2 };
        assert!((cvar.of_sorted_law(&law) + 10.0).abs() < 1e-12);
        assert!(Objective::Cvar { alpha: 0.0 }.check().is_err());
        assert!(Objective::Cvar { alpha: 1.5 }.check().is_err());
        assert!(Objective::Cvar { alpha: f64::NAN }.check().is_err());
        assert!(Objective::Threshold {
            threshold: f64::INFINITY
        }
        .check()
        .is_err());
    }
}
