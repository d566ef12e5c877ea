//! Reservoirs that obey Dale's law: separate excitatory and inhibitory populations, a global
//! balance knob, and per-neuron homeostatic adaptation of inhibition toward target rates.
//!
//! The construction follows SYSTEMS.md's account of Srinivasan, Plenz & Girvan (2025), whose
//! constants come from a third-party re-implementation and are unverified against the paper:
//! each neuron receives k_E excitatory and k_I inhibitory inputs with weights |Normal(μ, 0.2μ)|,
//! μ_E = 1/(k_E f_E); a fraction of neurons receives input with weights Uniform(−σ/2, σ/2); the
//! update is V = (A_E − A_I) r + W_in u, r ← (1 − a) r + a·f(c (V − θ)), sigmoid f, c = 10,
//! θ = 0, no leak (a = 1).

use choicelab_core::{rng, Error, Result, Seed};
use rand::RngExt;
use rand_distr::{Beta, Distribution, Normal};

use crate::reservoir::{Activation, Reservoir};
use crate::series::Series;
use crate::sparse::SparseMatrix;

/// Hyperparameters of a Dale's-law reservoir; defaults are SYSTEMS.md's with balance 1.
#[derive(Debug, Clone, PartialEq)]
pub struct DaleParams {
    /// Number of neurons; the first round(f_E·N) are excitatory, the rest inhibitory.
    pub units: usize,
    /// Excitatory fraction f_E, strictly inside (0, 1).
    pub excitatory_fraction: f64,
    /// Excitatory inputs per neuron k_E.
    pub k_excitatory: usize,
    /// Inhibitory inputs per neuron k_I.
    pub k_inhibitory: usize,
    /// Global balance β: the expected total inhibitory weight onto a neuron over its total
    /// excitatory weight, k_I μ_I / (k_E μ_E) — the ratio of inhibitory to excitatory drive when
    /// both populations fire at the same rate. β < 1 is excitation-dominated, β = 1 balanced,
    /// β > 1 over-inhibited. (The re-implementation's μ_I = (f_E/f_I) μ_E is β = 4 at f_E = 0.8.)
    pub balance: f64,
    /// Coefficient of variation of the weights before the absolute value (σ = cv·μ).
    pub weight_cv: f64,
    /// Sigmoid gain c.
    pub gain: f64,
    /// Threshold θ.
    pub threshold: f64,
    /// Leak rate a in (0, 1]; 1 means no leak.
    pub leak: f64,
    /// Fraction of neurons that receive input, in (0, 1].
    pub input_fraction: f64,
    /// Width σ of the input weights Uniform(−σ/2, σ/2).
    pub input_scaling: f64,
    /// Width of the input vectors.
    pub input_dim: usize,
    /// The neurons' activation (rates live in its range).
    pub activation: Activation,
    /// Seed of every weight.
    pub seed: Seed,
}

impl Default for DaleParams {
    fn default() -> Self {
        Self {
            units: 500,
            excitatory_fraction: 0.8,
            k_excitatory: 50,
            k_inhibitory: 50,
            balance: 1.0,
            weight_cv: 0.2,
            gain: 10.0,
            threshold: 0.0,
            leak: 1.0,
            input_fraction: 0.3,
            input_scaling: 1.0,
            input_dim: 1,
            activation: Activation::Sigmoid,
            seed: 0,
        }
    }
}

impl DaleParams {
    /// Sizes of the excitatory and inhibitory populations.
    pub fn populations(&self) -> (usize, usize) {
        let e = (self.excitatory_fraction * self.units as f64).round() as usize;
        (e.min(self.units), self.units - e.min(self.units))
    }

    /// Rejects hyperparameters outside their domains.
    pub fn check(&self) -> Result<()> {
        let f = self.excitatory_fraction;
        if !(f > 0.0 && f < 1.0) {
            return Err(Error::parameter(
                "excitatory_fraction",
                format!("need a fraction strictly inside (0, 1), got {f}"),
            ));
        }
        let (n_e, n_i) = self.populations();
        if self.k_excitatory == 0 || self.k_excitatory > n_e {
            return Err(Error::parameter(
                "k_excitatory",
                format!(
                    "need 1 ≤ k_E ≤ {n_e} excitatory neurons, got {}",
                    self.k_excitatory
                ),
            ));
        }
        if self.k_inhibitory == 0 || self.k_inhibitory > n_i {
            return Err(Error::parameter(
                "k_inhibitory",
                format!(
                    "need 1 ≤ k_I ≤ {n_i} inhibitory neurons, got {}",
                    self.k_inhibitory
                ),
            ));
        }
        for (name, x) in [
            ("balance", self.balance),
            ("weight_cv", self.weight_cv),
            ("input_scaling", self.input_scaling),
        ] {
            if !(x >= 0.0 && x.is_finite()) {
                return Err(Error::parameter(
                    name,
                    format!("need a finite value ≥ 0, got {x}"),
                ));
            }
        }
        if !(self.gain > 0.0 && self.gain.is_finite() && self.threshold.is_finite()) {
            return Err(Error::parameter(
                "gain",
                format!(
                    "need a finite gain > 0 and a finite threshold, got {}",
                    self.gain
                ),
            ));
        }
        for (name, x) in [("leak", self.leak), ("input_fraction", self.input_fraction)] {
            if !(x > 0.0 && x <= 1.0) {
                return Err(Error::parameter(
                    name,
                    format!("need a value in (0, 1], got {x}"),
                ));
            }
        }
        if self.input_dim == 0 {
            return Err(Error::parameter("input_dim", "need at least one input"));
        }
        Ok(())
    }

    /// Checks the hyperparameters and draws the weights.
    pub fn build(&self) -> Result<DaleReservoir> {
        self.check()?;
        let n = self.units;
        let (n_e, n_i) = self.populations();
        let mut rng = rng(self.seed);
        let mu_e = 1.0 / (self.k_excitatory as f64 * self.excitatory_fraction);
        let mu_i = self.balance * mu_e * self.k_excitatory as f64 / self.k_inhibitory as f64;
        let mut block = |offset: usize, size: usize, k: usize, mu: f64| -> Result<SparseMatrix> {
            let normal = Normal::new(mu, self.weight_cv * mu)
                .map_err(|e| Error::parameter("weight_cv", format!("cannot draw weights: {e}")))?;
            let mut triplets = Vec::with_capacity(n * k);
            for i in 0..n {
                for j in rand::seq::index::sample(&mut rng, size, k) {
                    let w: f64 = normal.sample(&mut rng);
                    triplets.push((i, offset + j, w.abs()));
                }
            }
            SparseMatrix::from_triplets(n, n, triplets)
        };
        let excitatory = block(0, n_e, self.k_excitatory, mu_e)?;
        let inhibitory = block(n_e, n_i, self.k_inhibitory, mu_i)?;
        let driven = ((self.input_fraction * n as f64).round() as usize).clamp(1, n);
        let half = self.input_scaling / 2.0;
        let mut triplets = Vec::with_capacity(driven * self.input_dim);
        for i in rand::seq::index::sample(&mut rng, n, driven) {
            for d in 0..self.input_dim {
                let w = if half > 0.0 {
                    rng.random_range(-half..half)
                } else {
                    0.0
                };
                triplets.push((i, d, w));
            }
        }
        let input = SparseMatrix::from_triplets(n, self.input_dim, triplets)?;
        Ok(DaleReservoir {
            excitatory,
            inhibitory,
            input,
            n_excitatory: n_e,
            gain: self.gain,
            threshold: self.threshold,
            leak: self.leak,
            activation: self.activation,
            rates: vec![0.0; n],
            drive: vec![0.0; n],
        })
    }
}

/// Per-neuron target rates for homeostatic adaptation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetRates {
    /// Every neuron shares the rate ρ.
    Homogeneous(f64),
    /// Each neuron draws ρ_i ~ Beta(κm, κ(1 − m)) (mean m; κ = 4, m = 0.5 is Beta(2, 2)),
    /// mapped affinely from (0, 1) onto the activation's range.
    Beta {
        /// Mean m of the Beta draw, in (0, 1).
        mean: f64,
        /// Concentration κ = α + β > 0.
        concentration: f64,
    },
}

impl TargetRates {
    /// One target per neuron for `activation`, seeded; an error for targets outside the
    /// activation's open range.
    pub fn draw(&self, units: usize, activation: Activation, seed: Seed) -> Result<Vec<f64>> {
        match *self {
            TargetRates::Homogeneous(rho) => {
                activation.check_in_range("target rate", rho)?;
                Ok(vec![rho; units])
            }
            TargetRates::Beta {
                mean,
                concentration,
            } => {
                let bad = !(mean > 0.0 && mean < 1.0 && concentration > 0.0);
                let beta = Beta::new(concentration * mean, concentration * (1.0 - mean))
                    .ok()
                    .filter(|_| !bad)
                    .ok_or_else(|| {
                        Error::parameter(
                            "target rate",
                            format!(
                                "Beta targets need a mean in (0, 1) and concentration > 0, got \
                                 mean {mean}, concentration {concentration}"
                            ),
                        )
                    })?;
                let (low, high) = activation.range();
                let mut rng = rng(seed);
                (0..units)
                    .map(|_| {
                        let x: f64 = beta.sample(&mut rng);
                        // Keep draws that round onto 0 or 1 strictly inside the range.
                        let x = x.clamp(1e-6, 1.0 - 1e-6);
                        Ok(low + (high - low) * x)
                    })
                    .collect()
            }
        }
    }
}

/// What an adaptation phase did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptationLog {
    /// Time steps run.
    pub steps: usize,
    /// Times a synapse was pushed below 0 and clipped to 0.
    pub clip_events: usize,
    /// Inhibitory synapses at 0 when adaptation stopped.
    pub synapses_at_zero: usize,
    /// Inhibitory synapses in all.
    pub synapses: usize,
    /// Mean over neurons of |time-averaged rate − target| over the last phase.
    pub rate_error: f64,
}

/// A built Dale's-law reservoir: signed weight blocks and the current rates.
#[derive(Debug, Clone)]
pub struct DaleReservoir {
    excitatory: SparseMatrix,
    inhibitory: SparseMatrix,
    input: SparseMatrix,
    n_excitatory: usize,
    gain: f64,
    threshold: f64,
    leak: f64,
    activation: Activation,
    rates: Vec<f64>,
    drive: Vec<f64>,
}

impl DaleReservoir {
    /// The excitatory block A_E (non-negative).
    pub fn excitatory(&self) -> &SparseMatrix {
        &self.excitatory
    }

    /// The inhibitory block A_I (non-negative; it enters the update with a minus sign).
    pub fn inhibitory(&self) -> &SparseMatrix {
        &self.inhibitory
    }

    /// Number of excitatory neurons (they come first).
    pub fn n_excitatory(&self) -> usize {
        self.n_excitatory
    }

    /// The realised balance: total inhibitory over total excitatory weight, over all neurons.
    pub fn balance(&self) -> f64 {
        self.inhibitory.values().iter().sum::<f64>() / self.excitatory.values().iter().sum::<f64>()
    }

    /// The signed recurrent matrix A_E − A_I.
    pub fn recurrent(&self) -> Result<SparseMatrix> {
        let mut triplets = Vec::with_capacity(self.excitatory.nnz() + self.inhibitory.nnz());
        for (block, sign) in [(&self.excitatory, 1.0), (&self.inhibitory, -1.0)] {
            for r in 0..block.rows() {
                let (idx, val) = block.row(r);
                triplets.extend(idx.iter().zip(val).map(|(&c, &v)| (r, c, sign * v)));
            }
        }
        SparseMatrix::from_triplets(self.rates.len(), self.rates.len(), triplets)
    }

    fn check_targets(&self, targets: &[f64]) -> Result<()> {
        if targets.len() != self.rates.len() {
            return Err(Error::parameter(
                "target rate",
                format!("{} targets for {} neurons", targets.len(), self.rates.len()),
            ));
        }
        targets
            .iter()
            .try_for_each(|&rho| self.activation.check_in_range("target rate", rho))
    }

    /// Iterative homeostasis: from the reset state, drives the reservoir with `inputs` and after
    /// every step moves each inhibitory synapse onto neuron i by δ(r_i(t) − ρ_i), clipped at 0
    /// (the implemented form of the rule; the paper's exact form is unverified). `schedule`
    /// lists phases (δ, steps) run in order, cycling through `inputs`; the weights are then
    /// frozen and the state reset.
    pub fn adapt(
        &mut self,
        inputs: &Series,
        targets: &[f64],
        schedule: &[(f64, usize)],
    ) -> Result<AdaptationLog> {
        self.check_targets(targets)?;
        if inputs.is_empty() || inputs.dim() != self.input.cols() {
            return Err(Error::parameter(
                "inputs",
                format!("need a non-empty series of width {}", self.input.cols()),
            ));
        }
        if let Some(&(delta, _)) = schedule.iter().find(|(d, _)| !(*d > 0.0 && d.is_finite())) {
            return Err(Error::parameter(
                "adaptation rate",
                format!("need δ > 0, got {delta}"),
            ));
        }
        self.reset();
        let n = self.rates.len();
        let (mut steps, mut clip_events) = (0, 0);
        let mut mean_rates = vec![0.0; n];
        for (phase, &(delta, length)) in schedule.iter().enumerate() {
            let last = phase + 1 == schedule.len();
            for _ in 0..length {
                self.step(inputs.row(steps % inputs.len()));
                steps += 1;
                for (i, &target) in targets.iter().enumerate() {
                    let change = delta * (self.rates[i] - target);
                    for w in self.inhibitory.row_values_mut(i) {
                        let moved = *w + change;
                        if moved < 0.0 {
                            clip_events += usize::from(*w > 0.0);
                            *w = 0.0;
                        } else {
                            *w = moved;
                        }
                    }
                }
                if last {
                    mean_rates
                        .iter_mut()
                        .zip(&self.rates)
                        .for_each(|(m, r)| *m += r);
                }
            }
        }
        let last_len = schedule.last().map_or(0, |p| p.1).max(1) as f64;
        let rate_error = mean_rates
            .iter()
            .zip(targets)
            .map(|(m, rho)| (m / last_len - rho).abs())
            .sum::<f64>()
            / n as f64;
        self.reset();
        Ok(AdaptationLog {
            steps,
            clip_events,
            synapses_at_zero: self
                .inhibitory
                .values()
                .iter()
                .filter(|w| **w == 0.0)
                .count(),
            synapses: self.inhibitory.nnz(),
            rate_error,
        })
    }

    /// One-shot design (non-iterative): scales neuron i's inhibitory row by
    /// Ω_i = ((A_E ρ)_i + (W_in ū)_i − V_i*) / (A_I ρ)_i with V_i* = θ + f⁻¹(ρ_i)/c, so that at
    /// rates ρ and the mean input ū each neuron sits at its target; a negative Ω_i (the neuron
    /// cannot reach ρ_i even without inhibition) is clipped to 0. Returns how many were clipped.
    pub fn design_one_shot(&mut self, targets: &[f64], mean_input: &[f64]) -> Result<usize> {
        self.check_targets(targets)?;
        if mean_input.len() != self.input.cols() {
            return Err(Error::parameter(
                "mean input",
                format!(
                    "need {} values, got {}",
                    self.input.cols(),
                    mean_input.len()
                ),
            ));
        }
        let mut clipped = 0;
        for (i, &rho) in targets.iter().enumerate() {
            let wanted = self.threshold + self.activation.inverse(rho)? / self.gain;
            let excitation =
                self.excitatory.row_dot(i, targets) + self.input.row_dot(i, mean_input);
            let inhibition = self.inhibitory.row_dot(i, targets);
            if inhibition <= 0.0 {
                continue;
            }
            let mut omega = (excitation - wanted) / inhibition;
            if omega < 0.0 {
                clipped += 1;
                omega = 0.0;
            }
            self.inhibitory
                .row_values_mut(i)
                .iter_mut()
                .for_each(|w| *w *= omega);
        }
        self.reset();
        Ok(clipped)
    }
}

impl Reservoir for DaleReservoir {
    fn units(&self) -> usize {
        self.rates.len()
    }

    fn input_dim(&self) -> usize {
        self.input.cols()
    }

    fn reset(&mut self) {
        self.rates.iter_mut().for_each(|r| *r = 0.0);
    }

    fn step(&mut self, input: &[f64]) {
        for (i, v) in self.drive.iter_mut().enumerate() {
            *v = self.excitatory.row_dot(i, &self.rates) - self.inhibitory.row_dot(i, &self.rates)
                + self.input.row_dot(i, input);
        }
        let (a, f, c, theta) = (self.leak, self.activation, self.gain, self.threshold);
        for (r, &v) in self.rates.iter_mut().zip(&self.drive) {
            *r = (1.0 - a) * *r + a * f.apply(c * (v - theta));
        }
    }

    fn state(&self) -> &[f64] {
        &self.rates
    }
}
