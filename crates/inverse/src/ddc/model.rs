//! Rust's (1987) model: mileage states, keep or replace, a maintenance-cost shape, mileage
//! increments θ₃ and discount β.

use choicelab_core::{Error, Result};

use choicelab_core::panel::{Increments, Panel};

/// The shape of the monthly maintenance cost c(x, θ) in the mileage state x, times a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostShape {
    /// c = s·θ₁·x.
    Linear,
    /// c = s·(θ₁·x + θ₂·x²).
    Quadratic,
    /// c = s·(θ₁·x + θ₂·x² + θ₃·x³).
    Cubic,
    /// c = s·θ₁·√x.
    SquareRoot,
    /// c = s·θ₁/(S + 1 − x), S the number of states.
    Hyperbolic,
}

impl CostShape {
    /// The shape named `linear`, `quadratic`, `cubic`, `sqrt` or `hyperbolic`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "linear" => Ok(CostShape::Linear),
            "quadratic" => Ok(CostShape::Quadratic),
            "cubic" => Ok(CostShape::Cubic),
            "sqrt" | "square-root" => Ok(CostShape::SquareRoot),
            "hyperbolic" => Ok(CostShape::Hyperbolic),
            other => Err(Error::parameter(
                "cost",
                format!("unknown cost shape `{other}`; valid: linear, quadratic, cubic, sqrt, hyperbolic"),
            )),
        }
    }

    /// Number of cost coefficients θ₁₁, θ₁₂, ….
    pub fn n_coefficients(self) -> usize {
        match self {
            CostShape::Quadratic => 2,
            CostShape::Cubic => 3,
            _ => 1,
        }
    }

    /// Names of (RC, cost coefficients): `rc`, `theta11`, `theta12`, ….
    pub fn parameter_names(self) -> Vec<String> {
        let mut names = vec!["rc".to_string()];
        names.extend((1..=self.n_coefficients()).map(|j| format!("theta1{j}")));
        names
    }

    /// ∂c(x)/∂θ_k / scale: the cost's basis functions at state x of n.
    fn basis(self, x: f64, n_states: usize) -> [f64; 3] {
        match self {
            CostShape::Linear => [x, 0.0, 0.0],
            CostShape::Quadratic => [x, x * x, 0.0],
            CostShape::Cubic => [x, x * x, x * x * x],
            CostShape::SquareRoot => [x.sqrt(), 0.0, 0.0],
            CostShape::Hyperbolic => [1.0 / (n_states as f64 + 1.0 - x), 0.0, 0.0],
        }
    }
}

/// A bus-engine replacement model with known transition probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct ZurcherModel {
    /// Mileage states 0..n.
    pub n_states: usize,
    /// Discount factor β ∈ [0, 1).
    pub beta: f64,
    /// P(the state rises by j) after keeping, j = 0, 1, …; the top state absorbs.
    pub increments: Vec<f64>,
    /// The maintenance-cost shape.
    pub cost: CostShape,
    /// The cost scale s (Rust's 0.001 for the linear shape).
    pub scale: f64,
}

impl ZurcherModel {
    /// The model whose increments θ₃ are estimated from `panel`'s counts (the first stage of
    /// every estimator), checked, with the increments' estimate.
    pub fn for_panel(
        panel: &Panel,
        beta: f64,
        cost: CostShape,
        scale: f64,
    ) -> Result<(Self, Increments)> {
        let increments = panel.increments()?;
        let model = ZurcherModel {
            n_states: panel.n_states,
            beta,
            increments: increments.probabilities.clone(),
            cost,
            scale,
        };
        model.check()?;
        Ok((model, increments))
    }

    /// Checks β ∈ [0, 1), at least two states, and increments forming a distribution.
    pub fn check(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.beta) {
            return Err(Error::parameter(
                "beta",
                format!("β must lie in [0, 1), got {}", self.beta),
            ));
        }
        if self.n_states < 2 {
            return Err(Error::parameter(
                "states",
                "the model needs at least 2 states",
            ));
        }
        let total: f64 = self.increments.iter().sum();
        if self.increments.is_empty()
            || self.increments.iter().any(|p| !(0.0..=1.0).contains(p))
            || (total - 1.0).abs() > 1e-9
        {
            return Err(Error::parameter(
                "increments",
                format!(
                    "mileage increments must be probabilities summing to 1, got {:?}",
                    self.increments
                ),
            ));
        }
        Ok(())
    }

    /// The keep transition matrix, row-major n×n: from x up j states, the top absorbing.
    pub fn transition_matrix(&self) -> Vec<f64> {
        let n = self.n_states;
        let mut p = vec![0.0; n * n];
        for x in 0..n {
            for (j, &q) in self.increments.iter().enumerate() {
                p[x * n + (x + j).min(n - 1)] += q;
            }
        }
        p
    }

    /// Σ_y P(x, y)·values(y) for the keep transitions from x, without forming P.
    pub fn expect(&self, values: &[f64], x: usize) -> f64 {
        let top = self.n_states - 1;
        self.increments
            .iter()
            .enumerate()
            .map(|(j, p)| p * values[(x + j).min(top)])
            .sum()
    }

    /// Maintenance cost c(x) for cost coefficients `theta`.
    pub fn cost(&self, x: usize, theta: &[f64]) -> f64 {
        let basis = self.cost.basis(x as f64, self.n_states);
        self.scale * theta.iter().zip(basis).map(|(t, b)| t * b).sum::<f64>()
    }

    /// ∂c(x)/∂θ_j for cost coefficient j.
    pub fn cost_partial(&self, x: usize, j: usize) -> f64 {
        self.scale * self.cost.basis(x as f64, self.n_states)[j]
    }

    /// ∂u_keep(x)/∂θ_j for θ = (RC, cost coefficients…), where u_keep(x) = −c(x).
    pub fn keep_partial(&self, x: usize, j: usize) -> f64 {
        if j == 0 {
            0.0
        } else {
            -self.cost_partial(x, j - 1)
        }
    }

    /// ∂u_replace/∂θ_j for θ = (RC, cost coefficients…), where u_replace = −RC − c(0).
    pub fn replace_partial(&self, j: usize) -> f64 {
        if j == 0 {
            -1.0
        } else {
            -self.cost_partial(0, j - 1)
        }
    }
}
