//! Intertemporal choice: a sooner-smaller or later-larger amount, valued as amount × D(delay)
//! with exponential (δ^t), hyperbolic (1/(1 + kt)) or quasi-hyperbolic (1 at t = 0, β·δ^t
//! after) discounting, and the logit rule P(later) = σ(φ·(U_later − U_sooner)). Fitted by
//! binomial (Bernoulli for single choices) maximum likelihood; a seeded generator draws
//! choices from planted parameters for recovery studies.
//!
//! ```
//! use choicelab_choice::intertemporal::{Delayed, Discounting};
//! let week = Delayed::new(100.0, 7.0).unwrap();
//! let d = Discounting::Hyperbolic.factor(&[0.02, 1.0], week.delay).unwrap();
//! assert!((d - 1.0 / 1.14).abs() < 1e-12);
//! assert!(Delayed::new(100.0, -1.0).is_err());
//! ```

use choicelab_core::logistic::sigmoid;
use choicelab_core::{stream_rng, Error, Location, Result, Seed};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::binomial::{maximise, BinomialFit, FitSettings, IndexModel, Scale};

/// An amount received after a delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delayed {
    /// The amount, > 0.
    pub amount: f64,
    /// The delay, ≥ 0 (in the unit the discount parameters are per, such as days).
    pub delay: f64,
}

impl Delayed {
    /// A checked option: amount finite and > 0, delay finite and ≥ 0.
    pub fn new(amount: f64, delay: f64) -> Result<Self> {
        Self::located(amount, delay, &Location::new("<option>"))
    }

    fn located(amount: f64, delay: f64, at: &Location) -> Result<Self> {
        let prefix = at.field.clone().map_or(String::new(), |f| format!("{f}."));
        if !(amount.is_finite() && amount > 0.0) {
            return Err(Error::invalid(
                at.clone().field(format!("{prefix}amount")),
                format!("amounts must be positive, got {amount}"),
            ));
        }
        if !(delay.is_finite() && delay >= 0.0) {
            return Err(Error::invalid(
                at.clone().field(format!("{prefix}delay")),
                format!("delays must be ≥ 0, got {delay}"),
            ));
        }
        Ok(Self { amount, delay })
    }
}

/// A choice between a sooner and a later option, made `trials` times, the later one chosen
/// in a share `later_rate` of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntertemporalChoice {
    /// The sooner option.
    pub sooner: Delayed,
    /// The later option (strictly later).
    pub later: Delayed,
    /// Trials (1 for a single choice).
    pub trials: f64,
    /// Share of trials that chose the later option.
    pub later_rate: f64,
}

impl IntertemporalChoice {
    /// A checked choice: valid options, the later one strictly later, n > 0, share in [0, 1].
    pub fn new(sooner: Delayed, later: Delayed, trials: f64, later_rate: f64) -> Result<Self> {
        let at = Location::new("<intertemporal choice>");
        let sooner = Delayed::located(sooner.amount, sooner.delay, &at.clone().field("sooner"))?;
        let later = Delayed::located(later.amount, later.delay, &at.clone().field("later"))?;
        if later.delay <= sooner.delay {
            return Err(Error::invalid(
                at.field("later.delay"),
                format!(
                    "the later option's delay {} is not after the sooner one's {}",
                    later.delay, sooner.delay
                ),
            ));
        }
        if !(trials.is_finite() && trials > 0.0) {
            return Err(Error::invalid(
                at.field("trials"),
                format!("need n > 0, got {trials}"),
            ));
        }
        if !(0.0..=1.0).contains(&later_rate) {
            return Err(Error::invalid(
                at.field("later_rate"),
                format!("the share must be in [0, 1], got {later_rate}"),
            ));
        }
        Ok(Self {
            sooner,
            later,
            trials,
            later_rate,
        })
    }
}

/// A discount function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discounting {
    /// D(t) = δ^t.
    Exponential,
    /// D(t) = 1/(1 + kt).
    Hyperbolic,
    /// D(0) = 1, D(t) = β·δ^t for t > 0.
    QuasiHyperbolic,
}

impl Discounting {
    /// The parameters, in order; φ (the logit sensitivity per unit of amount) is last.
    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            Self::Exponential => &["delta", "phi"],
            Self::Hyperbolic => &["k", "phi"],
            Self::QuasiHyperbolic => &["beta", "delta", "phi"],
        }
    }

    /// A short name (`quasi_hyperbolic`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Exponential => "exponential",
            Self::Hyperbolic => "hyperbolic",
            Self::QuasiHyperbolic => "quasi_hyperbolic",
        }
    }

    /// Checks that `params` has one positive finite value per name.
    pub fn check(self, params: &[f64]) -> Result<()> {
        let names = self.parameter_names();
        if params.len() != names.len() {
            return Err(Error::parameter(
                self.key(),
                format!(
                    "{} values for the parameters {}",
                    params.len(),
                    names.join(", ")
                ),
            ));
        }
        for (name, value) in names.iter().zip(params) {
            if !(value.is_finite() && *value > 0.0) {
                return Err(Error::parameter(
                    *name,
                    format!("must be positive, got {value}"),
                ));
            }
        }
        Ok(())
    }

    /// D(t) at `params` (φ, last, is ignored).
    pub fn factor(self, params: &[f64], t: f64) -> Result<f64> {
        self.check(params)?;
        if !(t.is_finite() && t >= 0.0) {
            return Err(Error::invalid(
                Location::new("<option>").field("delay"),
                format!("delays must be ≥ 0, got {t}"),
            ));
        }
        Ok(self.factor_with_gradient(params, t, &mut [0.0; 2]))
    }

    /// D(t), writing ∂D/∂(discount parameters) into `grad`.
    fn factor_with_gradient(self, params: &[f64], t: f64, grad: &mut [f64; 2]) -> f64 {
        match self {
            Self::Exponential => {
                let d = (t * params[0].ln()).exp();
                grad[0] = t * d / params[0];
                d
            }
            Self::Hyperbolic => {
                let d = 1.0 / (1.0 + params[0] * t);
                grad[0] = -t * d * d;
                d
            }
            Self::QuasiHyperbolic => {
                if t == 0.0 {
                    *grad = [0.0; 2];
                    return 1.0;
                }
                let (beta, delta) = (params[0], params[1]);
                let power = (t * delta.ln()).exp();
                *grad = [power, beta * t * power / delta];
                beta * power
            }
        }
    }

    /// P(later) for a choice at `params`.
    pub fn probability_later(self, params: &[f64], choice: &IntertemporalChoice) -> Result<f64> {
        self.check(params)?;
        let mut grad = vec![0.0; params.len()];
        Ok(sigmoid(index(self, params, choice, &mut grad)))
    }

    /// Maximises the likelihood of `data` from two deterministic starting points.
    pub fn fit(
        self,
        data: &[IntertemporalChoice],
        settings: &FitSettings,
    ) -> Result<FittedDiscounting> {
        for (i, c) in data.iter().enumerate() {
            IntertemporalChoice::new(c.sooner, c.later, c.trials, c.later_rate).map_err(
                |e| match e {
                    Error::Invalid { at, message } => {
                        let field = at.field.map_or(String::new(), |f| format!(".{f}"));
                        Error::invalid(
                            Location::new("<intertemporal choices>")
                                .field(format!("rows[{i}]{field}")),
                            message,
                        )
                    }
                    other => other,
                },
            )?;
        }
        let bound = Bound {
            kind: self,
            data,
            scales: vec![Scale::Positive; self.parameter_names().len()],
        };
        let starts: Vec<Vec<f64>> = match self {
            Self::Exponential => vec![vec![0.999], vec![0.99]],
            Self::Hyperbolic => vec![vec![0.001], vec![0.05]],
            Self::QuasiHyperbolic => vec![vec![1.0, 0.999], vec![0.7, 0.99]],
        }
        .into_iter()
        .map(|mut start| {
            start.push(1.0);
            let mut grad = vec![0.0; start.len()];
            let mean_square = data
                .iter()
                .map(|c| index(self, &start, c, &mut grad).powi(2))
                .sum::<f64>()
                / data.len().max(1) as f64;
            if mean_square > 0.0 {
                *start.last_mut().expect("φ") = 1.0 / mean_square.sqrt();
            }
            start
        })
        .collect();
        let fit = maximise(&bound, &starts, settings, "discounting fit")?;
        Ok(FittedDiscounting { kind: self, fit })
    }
}

/// z = φ·(U_later − U_sooner), writing ∂z/∂params into `grad`.
fn index(kind: Discounting, params: &[f64], c: &IntertemporalChoice, grad: &mut [f64]) -> f64 {
    let phi = params[params.len() - 1];
    let (mut gl, mut gs) = ([0.0; 2], [0.0; 2]);
    let later = c.later.amount * kind.factor_with_gradient(params, c.later.delay, &mut gl);
    let sooner = c.sooner.amount * kind.factor_with_gradient(params, c.sooner.delay, &mut gs);
    let k = params.len() - 1;
    for j in 0..k {
        grad[j] = phi * (c.later.amount * gl[j] - c.sooner.amount * gs[j]);
    }
    grad[k] = later - sooner;
    phi * (later - sooner)
}

struct Bound<'a> {
    kind: Discounting,
    data: &'a [IntertemporalChoice],
    scales: Vec<Scale>,
}

impl IndexModel for Bound<'_> {
    fn scales(&self) -> &[Scale] {
        &self.scales
    }
    fn rows(&self) -> usize {
        self.data.len()
    }
    fn counts(&self, i: usize) -> (f64, f64) {
        (self.data[i].trials, self.data[i].later_rate)
    }
    type Shared = ();
    fn prepare(&self, _: &[f64]) {}
    fn index(&self, psi: &[f64], _: &(), i: usize, grad: &mut [f64]) -> f64 {
        index(self.kind, psi, &self.data[i], grad)
    }
}

/// A fitted discount model.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedDiscounting {
    /// The discount function.
    pub kind: Discounting,
    /// The likelihood fit; its estimates are in [`Discounting::parameter_names`] order.
    pub fit: BinomialFit,
}

/// How generated choice pairs are drawn: the later amount uniform on `later_amount` (whole
/// units), the sooner amount a uniform `ratio` of it (whole units, at least 1), the sooner
/// delay 0 with probability `immediate_share` and else one of `front_delays`, the later delay
/// the sooner one plus one of `gaps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Design {
    /// Range of the later amount.
    pub later_amount: [f64; 2],
    /// Range of sooner/later amount ratios.
    pub ratio: [f64; 2],
    /// Share of pairs whose sooner option is immediate.
    pub immediate_share: f64,
    /// Delays of a sooner option that is not immediate.
    pub front_delays: Vec<f64>,
    /// Waits between the sooner and the later option.
    pub gaps: Vec<f64>,
}

impl Default for Design {
    /// Kirby-style money-now-or-later questions in days: $20–$100 later, 25–98% of it sooner,
    /// half the sooner options immediate, waits from a day to a year.
    fn default() -> Self {
        Self {
            later_amount: [20.0, 100.0],
            ratio: [0.25, 0.98],
            immediate_share: 0.5,
            front_delays: vec![7.0, 14.0, 30.0, 60.0],
            gaps: vec![1.0, 7.0, 14.0, 30.0, 60.0, 90.0, 180.0, 365.0],
        }
    }
}

impl Design {
    fn check(&self) -> Result<()> {
        let [lo, hi] = self.later_amount;
        let [r_lo, r_hi] = self.ratio;
        let bad = |name: &str, why: String| Err(Error::parameter(name, why));
        if !(lo >= 1.0 && hi >= lo && hi.is_finite()) {
            return bad(
                "later_amount",
                format!("need 1 ≤ low ≤ high, got [{lo}, {hi}]"),
            );
        }
        if !(r_lo > 0.0 && r_hi >= r_lo && r_hi.is_finite()) {
            return bad(
                "ratio",
                format!("need 0 < low ≤ high, got [{r_lo}, {r_hi}]"),
            );
        }
        if !(0.0..=1.0).contains(&self.immediate_share) {
            return bad(
                "immediate_share",
                format!("must be in [0, 1], got {}", self.immediate_share),
            );
        }
        let positive = |v: &[f64]| !v.is_empty() && v.iter().all(|d| d.is_finite() && *d > 0.0);
        if !positive(&self.front_delays) && self.immediate_share < 1.0 {
            return bad("front_delays", "need positive delays".into());
        }
        if !positive(&self.gaps) {
            return bad("gaps", "need positive waits".into());
        }
        Ok(())
    }
}

/// `n` single choices drawn from `kind` at the planted `params` (φ last) on pairs from
/// `design`; the same seed gives the same data.
pub fn generate(
    kind: Discounting,
    params: &[f64],
    design: &Design,
    n: usize,
    seed: Seed,
) -> Result<Vec<IntertemporalChoice>> {
    kind.check(params)?;
    design.check()?;
    let mut rng = stream_rng(seed, 0);
    let mut grad = vec![0.0; params.len()];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let [lo, hi] = design.later_amount;
        let later_amount = (lo + rng.random::<f64>() * (hi - lo)).round();
        let ratio = design.ratio[0] + rng.random::<f64>() * (design.ratio[1] - design.ratio[0]);
        let sooner_amount = (ratio * later_amount).round().max(1.0);
        let front = if rng.random::<f64>() < design.immediate_share {
            0.0
        } else {
            design.front_delays[rng.random_range(0..design.front_delays.len())]
        };
        let gap = design.gaps[rng.random_range(0..design.gaps.len())];
        let mut choice = IntertemporalChoice::new(
            Delayed::new(sooner_amount, front)?,
            Delayed::new(later_amount, front + gap)?,
            1.0,
            0.0,
        )?;
        let p = sigmoid(index(kind, params, &choice, &mut grad));
        if rng.random::<f64>() < p {
            choice.later_rate = 1.0;
        }
        out.push(choice);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_gradient_matches_differences() {
        let choice = IntertemporalChoice::new(
            Delayed::new(40.0, 0.0).unwrap(),
            Delayed::new(55.0, 30.0).unwrap(),
            1.0,
            1.0,
        )
        .unwrap();
        let late = IntertemporalChoice {
            sooner: Delayed::new(40.0, 7.0).unwrap(),
            ..choice
        };
        for (kind, at) in [
            (Discounting::Exponential, vec![0.995, 0.3]),
            (Discounting::Hyperbolic, vec![0.02, 0.3]),
            (Discounting::QuasiHyperbolic, vec![0.8, 0.998, 0.3]),
        ] {
            for c in [&choice, &late] {
                let mut grad = vec![0.0; at.len()];
                index(kind, &at, c, &mut grad);
                for j in 0..at.len() {
                    let (mut up, mut down) = (at.clone(), at.clone());
                    let h = 1e-7 * at[j];
                    up[j] += h;
                    down[j] -= h;
                    let mut scratch = vec![0.0; at.len()];
                    let numeric = (index(kind, &up, c, &mut scratch)
                        - index(kind, &down, c, &mut scratch))
                        / (2.0 * h);
                    assert!(
                        (numeric - grad[j]).abs() < 1e-5 * numeric.abs().max(1.0),
                        "{kind:?} {j}: {numeric} vs {}",
                        grad[j]
                    );
                }
            }
        }
    }
}
