//! A conjoint design: factors with named levels and the distribution each is randomised by, and
//! the sides of a contest, each of which may hold some factors fixed (a candidate's party).

use choicelab_core::{draw_index, Error, Location, Result, Rng};

/// One attribute of a profile: its name, its levels and the design's randomisation over them.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// Name (`age`).
    pub name: String,
    /// Level names; level 0 is the reference level of the outcome model's treatment coding.
    pub levels: Vec<String>,
    /// Design probability of each level (sums to 1).
    pub probabilities: Vec<f64>,
}

impl Factor {
    /// A factor whose levels the design draws uniformly.
    pub fn uniform(name: &str, levels: &[&str]) -> Self {
        let p = 1.0 / levels.len().max(1) as f64;
        Self::with_probabilities(name, levels, &vec![p; levels.len()])
    }

    /// A factor with its own design probabilities.
    pub fn with_probabilities(name: &str, levels: &[&str], probabilities: &[f64]) -> Self {
        Self {
            name: name.into(),
            levels: levels.iter().map(|l| l.to_string()).collect(),
            probabilities: probabilities.to_vec(),
        }
    }

    /// The index of level `name`, or an error at `at` listing the levels.
    pub fn level(&self, name: &str, at: Location) -> Result<usize> {
        self.levels.iter().position(|l| l == name).ok_or_else(|| {
            Error::invalid(
                at.field(self.name.clone()),
                format!(
                    "`{name}` is not a level of factor `{}` (levels: {})",
                    self.name,
                    self.levels.join(", ")
                ),
            )
        })
    }
}

/// Factors and their design distributions; profiles are one level per factor, drawn
/// independently.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    factors: Vec<Factor>,
}

impl Design {
    /// Checks the factors: at least one, unique names, at least two distinct levels each, and
    /// design probabilities that are non-negative and sum to 1 (within 1e-9).
    pub fn new(factors: Vec<Factor>) -> Result<Self> {
        let at = |k: usize, field: &str| {
            Location::new("<conjoint design>").field(format!("factors[{k}].{field}"))
        };
        if factors.is_empty() {
            return Err(Error::invalid(
                Location::new("<conjoint design>"),
                "a design needs at least one factor",
            ));
        }
        for (k, factor) in factors.iter().enumerate() {
            if factors[..k].iter().any(|f| f.name == factor.name) {
                return Err(Error::invalid(
                    at(k, "name"),
                    format!("factor `{}` appears twice", factor.name),
                ));
            }
            if factor.levels.len() < 2 {
                return Err(Error::invalid(
                    at(k, "levels"),
                    format!(
                        "factor `{}` has {} level(s); a factor needs at least two",
                        factor.name,
                        factor.levels.len()
                    ),
                ));
            }
            for (l, level) in factor.levels.iter().enumerate() {
                if factor.levels[..l].contains(level) {
                    return Err(Error::invalid(
                        at(k, "levels"),
                        format!("level `{level}` of `{}` appears twice", factor.name),
                    ));
                }
            }
            let p = &factor.probabilities;
            if p.len() != factor.levels.len() {
                return Err(Error::invalid(
                    at(k, "probabilities"),
                    format!(
                        "`{}` has {} levels but {} design probabilities",
                        factor.name,
                        factor.levels.len(),
                        p.len()
                    ),
                ));
            }
            let total: f64 = p.iter().sum();
            if p.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || (total - 1.0).abs() > 1e-9 {
                return Err(Error::invalid(
                    at(k, "probabilities"),
                    format!(
                        "the design probabilities of `{}` must be ≥ 0 and sum to 1, got {p:?} \
                         (sum {total})",
                        factor.name
                    ),
                ));
            }
        }
        Ok(Self { factors })
    }

    /// The factors, in order.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// Number of levels of each factor.
    pub fn level_counts(&self) -> Vec<usize> {
        self.factors.iter().map(|f| f.levels.len()).collect()
    }

    /// The index of factor `name`.
    pub fn factor(&self, name: &str) -> Result<usize> {
        self.factors
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.factors.iter().map(|f| f.name.as_str()).collect();
                Error::parameter(
                    "factor",
                    format!("no factor `{name}` (factors: {})", names.join(", ")),
                )
            })
    }

    /// Draws a profile's levels from the design distribution into `levels`.
    pub fn draw(&self, rng: &mut Rng, levels: &mut [usize]) {
        for (level, factor) in levels.iter_mut().zip(&self.factors) {
            *level = draw_index(rng, &factor.probabilities);
        }
    }

    /// A profile's levels as `factor=level` pairs, for reports.
    pub fn describe(&self, levels: &[usize]) -> String {
        let parts: Vec<String> = self
            .factors
            .iter()
            .zip(levels)
            .map(|(f, &l)| format!("{}={}", f.name, f.levels[l]))
            .collect();
        parts.join(", ")
    }
}

/// One side of a contest: the design's factors, some held at a fixed level (a party label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The fixed level of each factor, `None` where the side chooses.
    pub fixed: Vec<Option<usize>>,
}

impl Side {
    /// A side that chooses every factor.
    pub fn free(design: &Design) -> Self {
        Self {
            fixed: vec![None; design.factors.len()],
        }
    }

    /// The same side with factor `factor` held at level `level`.
    pub fn fix(mut self, design: &Design, factor: &str, level: &str) -> Result<Self> {
        let k = design.factor(factor)?;
        let l = design.factors[k].level(level, Location::new("<side>"))?;
        self.fixed[k] = Some(l);
        Ok(self)
    }

    /// Number of profiles the side can field.
    pub fn n_profiles(&self, design: &Design) -> f64 {
        self.fixed
            .iter()
            .zip(design.factors())
            .map(|(f, factor)| {
                if f.is_some() {
                    1.0
                } else {
                    factor.levels.len() as f64
                }
            })
            .product()
    }

    /// The design distribution of factor `k` on this side: the design's, or all mass on the
    /// fixed level.
    pub fn design_marginal(&self, design: &Design, k: usize) -> Vec<f64> {
        match self.fixed[k] {
            Some(level) => {
                let mut p = vec![0.0; design.factors[k].levels.len()];
                p[level] = 1.0;
                p
            }
            None => design.factors[k].probabilities.clone(),
        }
    }
}
