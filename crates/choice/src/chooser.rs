//! Choosers: anything that, shown options in some order, picks one. The simulated chooser here
//! has planted Thurstonian utilities; LLM choosers will implement the same trait.

use choicelab_core::{stream_rng, Error, Result, Rng, Seed};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::thurstonian::normal_cdf;

/// An option as a chooser sees it: an id and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceOption {
    /// The option's item id.
    pub id: u32,
    /// What the chooser is shown.
    pub text: String,
}

/// Something that picks one of several options shown in a given order.
pub trait Chooser {
    /// The index (in `options`, as shown) of the option chosen.
    fn choose(&mut self, options: &[ChoiceOption]) -> Result<usize>;

    /// P(first shown option chosen) for a pair shown in this order, when the chooser can
    /// state it (a simulator, or a model's token probabilities); None when it cannot.
    fn pair_probability(
        &mut self,
        first: &ChoiceOption,
        second: &ChoiceOption,
    ) -> Result<Option<f64>>;

    /// The share of answers preferring `a` to `b`, from `samples` answers with `a` shown first
    /// and `samples` with `b` shown first, so a bias toward a position cancels. By default
    /// `choose` is asked, alternating the orders; a chooser whose answers can fail to name an
    /// option counts such an answer half to each.
    fn preference_share(
        &mut self,
        a: &ChoiceOption,
        b: &ChoiceOption,
        samples: usize,
    ) -> Result<f64> {
        let forward = [a.clone(), b.clone()];
        let backward = [b.clone(), a.clone()];
        let mut wins = 0;
        for _ in 0..samples {
            if self.choose(&forward)? == 0 {
                wins += 1;
            }
            if self.choose(&backward)? == 1 {
                wins += 1;
            }
        }
        Ok(wins as f64 / (2 * samples.max(1)) as f64)
    }
}

/// A simulated chooser with planted Thurstonian utilities: option i has utility
/// μ_i + σ_i·ε (ε standard normal, fresh at every query), the option shown first gets
/// `position_bias` added, and for pairs an antisymmetric intransitive term κ·c(i, j) is added
/// to the first option's advantage, with c(i, j) = −c(j, i) fixed by the seed.
#[derive(Debug, Clone)]
pub struct SimulatedChooser {
    mu: Vec<f64>,
    sigma: Vec<f64>,
    position_bias: f64,
    intransitivity: f64,
    seed: Seed,
    rng: Rng,
}

impl SimulatedChooser {
    /// A chooser with means `mu` and spreads `sigma` (all positive), no bias and no
    /// intransitivity, drawing its noise from `seed`.
    pub fn new(mu: Vec<f64>, sigma: Vec<f64>, seed: Seed) -> Result<Self> {
        if mu.len() != sigma.len() || mu.is_empty() {
            return Err(Error::parameter(
                "sigma",
                format!("need one σ per μ, got {} and {}", sigma.len(), mu.len()),
            ));
        }
        if let Some(bad) = sigma.iter().chain(&mu).find(|v| !v.is_finite()) {
            return Err(Error::parameter(
                "utilities",
                format!("{bad} is not finite"),
            ));
        }
        if sigma.iter().any(|&s| s <= 0.0) {
            return Err(Error::parameter("sigma", "every σ must be positive"));
        }
        Ok(Self {
            mu,
            sigma,
            position_bias: 0.0,
            intransitivity: 0.0,
            seed,
            rng: stream_rng(seed, 0),
        })
    }

    /// The same chooser with a bias toward the option shown first (in utility units).
    pub fn with_position_bias(mut self, bias: f64) -> Self {
        self.position_bias = bias;
        self
    }

    /// The same chooser with an intransitive pairwise component of scale κ.
    pub fn with_intransitivity(mut self, kappa: f64) -> Self {
        self.intransitivity = kappa;
        self
    }

    /// The planted means.
    pub fn mu(&self) -> &[f64] {
        &self.mu
    }

    /// c(i, j) ∈ (−1, 1), antisymmetric, a fixed function of the seed and the pair.
    fn cyclic(&self, i: u32, j: u32) -> f64 {
        if i == j {
            return 0.0;
        }
        let (low, high, sign) = if i < j { (i, j, 1.0) } else { (j, i, -1.0) };
        let mut rng = stream_rng(self.seed, 1 + (u64::from(low) << 32 | u64::from(high)));
        sign * (2.0 * rng.random::<f64>() - 1.0)
    }

    fn check(&self, options: &[ChoiceOption]) -> Result<()> {
        if options.len() < 2 {
            return Err(Error::parameter(
                "options",
                "a choice needs at least two options",
            ));
        }
        if let Some(o) = options.iter().find(|o| o.id as usize >= self.mu.len()) {
            return Err(Error::parameter(
                "options",
                format!(
                    "option id {} has no planted utility ({} items)",
                    o.id,
                    self.mu.len()
                ),
            ));
        }
        Ok(())
    }
}

impl Chooser for SimulatedChooser {
    fn choose(&mut self, options: &[ChoiceOption]) -> Result<usize> {
        self.check(options)?;
        if let [first, second] = options {
            let p = self.pair_probability(first, second)?.unwrap_or(0.5);
            return Ok(if self.rng.random::<f64>() < p { 0 } else { 1 });
        }
        let mut best = (f64::NEG_INFINITY, 0);
        for (k, option) in options.iter().enumerate() {
            let i = option.id as usize;
            let noise: f64 = StandardNormal.sample(&mut self.rng);
            let bias = if k == 0 { self.position_bias } else { 0.0 };
            let utility = self.mu[i] + self.sigma[i] * noise + bias;
            if utility > best.0 {
                best = (utility, k);
            }
        }
        Ok(best.1)
    }

    fn pair_probability(
        &mut self,
        first: &ChoiceOption,
        second: &ChoiceOption,
    ) -> Result<Option<f64>> {
        self.check(&[first.clone(), second.clone()])?;
        let (i, j) = (first.id as usize, second.id as usize);
        let advantage = self.mu[i] - self.mu[j]
            + self.position_bias
            + self.intransitivity * self.cyclic(first.id, second.id);
        let spread = (self.sigma[i].powi(2) + self.sigma[j].powi(2)).sqrt();
        Ok(Some(normal_cdf(advantage / spread)))
    }
}
