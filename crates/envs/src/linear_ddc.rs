//! A linear dynamic-discrete-choice world: a finite-horizon linear MDP whose features
//! φ(s,a) lie on the simplex, with P(s'|s,a) = Σ_k φ_k(s,a) μ_k(s') and r(s,a) = φ(s,a)ᵀw,
//! and a human who chooses by the DDC model (soft-optimal with unit-scale, mean-zero Gumbel
//! shocks).

use choicelab_core::logistic::log_sum_exp;
use choicelab_core::numeric::dot;
use choicelab_core::{draw_index, rng, stream_rng, Error, Result, Rng, Seed};
use rand::RngExt;
use rand_distr::{Distribution, Gamma};
use serde::{Deserialize, Serialize};

/// Known state–action features: φ(s,a) ∈ ℝ^d for every state and action.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    states: usize,
    actions: usize,
    dim: usize,
    values: Vec<f64>,
}

impl Features {
    /// Features from row-major values, (s, a, k) ↦ values[(s·actions + a)·dim + k].
    pub fn new(states: usize, actions: usize, dim: usize, values: Vec<f64>) -> Result<Self> {
        if states == 0 || actions < 2 || dim == 0 {
            return Err(Error::parameter(
                "features",
                format!(
                    "need at least one state, two actions and one feature, got {states} states, \
                     {actions} actions, {dim} features"
                ),
            ));
        }
        if values.len() != states * actions * dim {
            return Err(Error::parameter(
                "features",
                format!(
                    "{states}·{actions}·{dim} = {} values needed, got {}",
                    states * actions * dim,
                    values.len()
                ),
            ));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let (s, a, k) = (i / (actions * dim), i / dim % actions, i % dim);
            return Err(Error::parameter(
                "features",
                format!("φ({s},{a})[{k}] is {}", values[i]),
            ));
        }
        Ok(Self {
            states,
            actions,
            dim,
            values,
        })
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.states
    }

    /// Number of actions.
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// Feature dimension d.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// φ(s,a).
    pub fn at(&self, state: usize, action: usize) -> &[f64] {
        let start = (state * self.actions + action) * self.dim;
        &self.values[start..start + self.dim]
    }

    /// φ(s,a)ᵀθ for every (s,a), row-major by state.
    pub fn linear(&self, theta: &[f64]) -> Vec<f64> {
        self.values
            .chunks_exact(self.dim)
            .map(|phi| dot(phi, theta))
            .collect()
    }
}

/// One logged step: the state, the human's action and the state that followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// State s_h.
    pub state: usize,
    /// Action a_h.
    pub action: usize,
    /// Next state s_{h+1}.
    pub next_state: usize,
}

/// Logged episodes of a fixed horizon: transition h of episode e at `e·horizon + h`.
#[derive(Debug, Clone, PartialEq)]
pub struct Episodes {
    /// Steps per episode H.
    pub horizon: usize,
    /// The transitions, episode by episode.
    pub transitions: Vec<Transition>,
}

impl Episodes {
    /// Number of episodes.
    pub fn len(&self) -> usize {
        self.transitions.len() / self.horizon.max(1)
    }

    /// Whether there are no episodes.
    pub fn is_empty(&self) -> bool {
        self.transitions.is_empty()
    }

    /// The transitions at step h (0-based) of every episode.
    pub fn at_step(&self, h: usize) -> impl Iterator<Item = &Transition> {
        self.transitions.iter().skip(h).step_by(self.horizon.max(1))
    }

    /// Checks every state and action against the features and the horizon.
    pub fn check(&self, features: &Features) -> Result<()> {
        if self.horizon == 0 || !self.transitions.len().is_multiple_of(self.horizon) {
            return Err(Error::parameter(
                "episodes",
                format!(
                    "{} transitions do not make whole episodes of horizon {}",
                    self.transitions.len(),
                    self.horizon
                ),
            ));
        }
        if self.is_empty() {
            return Err(Error::parameter("episodes", "no episodes"));
        }
        for (i, t) in self.transitions.iter().enumerate() {
            if t.state >= features.states()
                || t.next_state >= features.states()
                || t.action >= features.actions()
            {
                return Err(Error::parameter(
                    "episodes",
                    format!(
                        "episode {} step {}: ({}, {}, {}) is outside {} states × {} actions",
                        i / self.horizon,
                        i % self.horizon,
                        t.state,
                        t.action,
                        t.next_state,
                        features.states(),
                        features.actions()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// How [`LinearDdcWorld::generate`] draws a world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldDesign {
    /// Number of states.
    pub states: usize,
    /// Number of actions.
    pub actions: usize,
    /// Feature dimension d (latent transition components).
    pub dim: usize,
    /// Steps per episode H.
    pub horizon: usize,
    /// Dirichlet concentration of φ(s,a); small values make each pair load on one component.
    pub feature_concentration: f64,
    /// Dirichlet concentration of each μ_k; small values make next states predictable.
    pub transition_concentration: f64,
    /// Reward weights are drawn uniform on [0, reward_scale]; the scale sets how sharply the
    /// human (unit Gumbel shocks) prefers better actions.
    pub reward_scale: f64,
    /// Episodes start uniformly among this many states (narrow: poor coverage elsewhere).
    pub start_states: usize,
}

impl Default for WorldDesign {
    /// The `dcppo` study's world: 60 states, 6 actions, d = 30, H = 4, features and
    /// transitions concentrated (Dirichlet 0.03 and 0.05), rewards on [0, 10], one start state.
    fn default() -> Self {
        Self {
            states: 60,
            actions: 6,
            dim: 30,
            horizon: 4,
            feature_concentration: 0.03,
            transition_concentration: 0.05,
            reward_scale: 10.0,
            start_states: 1,
        }
    }
}

/// A finite-horizon linear MDP with a human who chooses by the DDC model.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearDdcWorld {
    /// φ(s,a), known to the learner.
    pub features: Features,
    /// μ_k(s'), row-major by component: P(s'|s,a) = Σ_k φ_k(s,a) μ_k(s').
    pub next_state_mix: Vec<f64>,
    /// Planted reward weights w: r(s,a) = φ(s,a)ᵀw, the same at every step.
    pub reward_weights: Vec<f64>,
    /// Steps per episode H.
    pub horizon: usize,
    /// Distribution of the first state.
    pub initial: Vec<f64>,
}

/// Per-step tables over (s,a), row-major by state; `[h]` is step h (0-based).
pub type StepTables = Vec<Vec<f64>>;

impl LinearDdcWorld {
    /// Draws a world from `design` with `seed`.
    pub fn generate(design: &WorldDesign, seed: Seed) -> Result<Self> {
        let WorldDesign {
            states,
            actions,
            dim,
            horizon,
            ..
        } = *design;
        if states == 0 || actions < 2 || dim == 0 || horizon == 0 {
            return Err(Error::parameter(
                "world",
                format!(
                    "need states, dim and horizon ≥ 1 and actions ≥ 2, got {states} states, \
                     {actions} actions, dim {dim}, horizon {horizon}"
                ),
            ));
        }
        if design.start_states == 0 || design.start_states > states {
            return Err(Error::parameter(
                "start_states",
                format!("must be in 1..={states}, got {}", design.start_states),
            ));
        }
        if !(design.reward_scale.is_finite() && design.reward_scale > 0.0) {
            return Err(Error::parameter(
                "reward_scale",
                format!("must be finite and > 0, got {}", design.reward_scale),
            ));
        }
        let mut rng = rng(seed);
        let mut values = Vec::with_capacity(states * actions * dim);
        for _ in 0..states * actions {
            values.extend(dirichlet(&mut rng, design.feature_concentration, dim)?);
        }
        let features = Features::new(states, actions, dim, values)?;
        let mut next_state_mix = Vec::with_capacity(dim * states);
        for _ in 0..dim {
            next_state_mix.extend(dirichlet(
                &mut rng,
                design.transition_concentration,
                states,
            )?);
        }
        let reward_weights = (0..dim)
            .map(|_| design.reward_scale * rng.random::<f64>())
            .collect();
        let mut initial = vec![0.0; states];
        initial[..design.start_states].fill(1.0 / design.start_states as f64);
        let world = Self {
            features,
            next_state_mix,
            reward_weights,
            horizon,
            initial,
        };
        world.check()?;
        Ok(world)
    }

    /// Checks the shapes and that μ_k and the initial distribution are distributions.
    pub fn check(&self) -> Result<()> {
        let (s, d) = (self.features.states(), self.features.dim());
        if self.horizon == 0 {
            return Err(Error::parameter("horizon", "must be at least 1"));
        }
        if self.next_state_mix.len() != d * s || self.reward_weights.len() != d {
            return Err(Error::parameter(
                "world",
                format!(
                    "μ needs {d}·{s} values and w {d}, got {} and {}",
                    self.next_state_mix.len(),
                    self.reward_weights.len()
                ),
            ));
        }
        let is_distribution = |p: &[f64]| {
            p.iter().all(|x| x.is_finite() && *x >= 0.0)
                && (p.iter().sum::<f64>() - 1.0).abs() < 1e-9
        };
        let a = self.actions();
        if let Some(i) = (0..s * a).find(|&i| !is_distribution(self.features.at(i / a, i % a))) {
            return Err(Error::parameter(
                "features",
                format!(
                    "φ({},{}) is not on the simplex, so P(·|s,a) = Σ φ_k μ_k is no distribution",
                    i / a,
                    i % a
                ),
            ));
        }
        if let Some(k) =
            (0..d).find(|&k| !is_distribution(&self.next_state_mix[k * s..(k + 1) * s]))
        {
            return Err(Error::parameter(
                "next_state_mix",
                format!("μ_{k} is not a distribution over the {s} states"),
            ));
        }
        if self.initial.len() != s || !is_distribution(&self.initial) {
            return Err(Error::parameter(
                "initial",
                format!("must be a distribution over the {s} states"),
            ));
        }
        if self.reward_weights.iter().any(|w| !w.is_finite()) {
            return Err(Error::parameter("reward_weights", "must be finite"));
        }
        Ok(())
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.features.states()
    }

    /// Number of actions.
    pub fn actions(&self) -> usize {
        self.features.actions()
    }

    /// The true reward r(s,a) for every pair.
    pub fn rewards(&self) -> Vec<f64> {
        self.features.linear(&self.reward_weights)
    }

    /// P(·|s,a) for every pair: row (s·actions + a) of a (S·A) × S matrix.
    pub fn transitions(&self) -> Vec<f64> {
        let (s, d) = (self.states(), self.features.dim());
        let mut p = Vec::with_capacity(s * self.actions() * s);
        for state in 0..s {
            for action in 0..self.actions() {
                let phi = self.features.at(state, action);
                p.extend((0..s).map(|next| {
                    (0..d)
                        .map(|k| phi[k] * self.next_state_mix[k * s + next])
                        .sum::<f64>()
                }));
            }
        }
        p
    }

    /// The human's Q_h and policy π_h(a|s) = exp Q_h(s,a) / Σ_b exp Q_h(s,b), with
    /// V_h(s) = log Σ_a exp Q_h(s,a): the shocks are Gumbel centred at mean zero (location −γ,
    /// γ Euler's constant), so the expected maximum carries no γ. Another location would add a
    /// constant per step, which changes no choice.
    pub fn human(&self) -> (StepTables, StepTables) {
        let rewards = self.rewards();
        let p = self.transitions();
        let (s, a) = (self.states(), self.actions());
        let mut q = vec![Vec::new(); self.horizon];
        let mut policy = vec![Vec::new(); self.horizon];
        let mut next_value = vec![0.0; s];
        for h in (0..self.horizon).rev() {
            let qh: Vec<f64> = (0..s * a)
                .map(|i| rewards[i] + dot(&p[i * s..(i + 1) * s], &next_value))
                .collect();
            let mut ph = vec![0.0; s * a];
            for state in 0..s {
                let row = &qh[state * a..(state + 1) * a];
                let v = log_sum_exp(row);
                next_value[state] = v;
                for (x, q) in ph[state * a..(state + 1) * a].iter_mut().zip(row) {
                    *x = (q - v).exp();
                }
            }
            q[h] = qh;
            policy[h] = ph;
        }
        (q, policy)
    }

    /// V^π_1 for a deterministic policy (`policy[h][s]` the action) under rewards r, averaged
    /// over the initial distribution.
    pub fn value_of(&self, policy: &[Vec<usize>], rewards: &[f64]) -> Result<f64> {
        let (s, a) = (self.states(), self.actions());
        if policy.len() != self.horizon
            || policy
                .iter()
                .any(|ph| ph.len() != s || ph.iter().any(|x| *x >= a))
            || rewards.len() != s * a
        {
            return Err(Error::parameter(
                "policy",
                format!(
                    "need {} steps of {s} actions below {a}, and {} rewards",
                    self.horizon,
                    s * a
                ),
            ));
        }
        let p = self.transitions();
        let mut value = vec![0.0; s];
        for h in (0..self.horizon).rev() {
            value = (0..s)
                .map(|state| {
                    let i = state * a + policy[h][state];
                    rewards[i] + dot(&p[i * s..(i + 1) * s], &value)
                })
                .collect();
        }
        Ok(dot(&self.initial, &value))
    }

    /// An optimal deterministic policy for rewards r (no shocks), by backward induction.
    pub fn optimal_policy(&self, rewards: &[f64]) -> Vec<Vec<usize>> {
        let p = self.transitions();
        let (s, a) = (self.states(), self.actions());
        let mut value = vec![0.0; s];
        let mut policy = vec![Vec::new(); self.horizon];
        for h in (0..self.horizon).rev() {
            let mut next = vec![0.0; s];
            policy[h] = (0..s)
                .map(|state| {
                    let (best, v) = (0..a)
                        .map(|action| {
                            let i = state * a + action;
                            (action, rewards[i] + dot(&p[i * s..(i + 1) * s], &value))
                        })
                        .fold((0, f64::NEG_INFINITY), |m, x| if x.1 > m.1 { x } else { m });
                    next[state] = v;
                    best
                })
                .collect();
            value = next;
        }
        policy
    }

    /// The expected share of episodes at (s,a) at each step under the human's policy.
    pub fn human_occupancy(&self) -> StepTables {
        let (_, policy) = self.human();
        let p = self.transitions();
        let (s, a) = (self.states(), self.actions());
        let mut at_state = self.initial.clone();
        let mut occupancy = Vec::with_capacity(self.horizon);
        for ph in &policy {
            let oh: Vec<f64> = (0..s * a).map(|i| at_state[i / a] * ph[i]).collect();
            at_state = vec![0.0; s];
            for (i, w) in oh.iter().enumerate() {
                for (next, x) in at_state.iter_mut().enumerate() {
                    *x += w * p[i * s + next];
                }
            }
            occupancy.push(oh);
        }
        occupancy
    }

    /// `episodes` episodes of the human, episode e from stream e of `seed`.
    pub fn simulate(&self, episodes: usize, seed: Seed) -> Episodes {
        let (_, policy) = self.human();
        let p = self.transitions();
        let (s, a) = (self.states(), self.actions());
        let mut transitions = Vec::with_capacity(episodes * self.horizon);
        for e in 0..episodes {
            let mut rng = stream_rng(seed, e as u64);
            let mut state = draw_index(&mut rng, &self.initial);
            for ph in &policy {
                let action = draw_index(&mut rng, &ph[state * a..(state + 1) * a]);
                let i = state * a + action;
                let next_state = draw_index(&mut rng, &p[i * s..(i + 1) * s]);
                transitions.push(Transition {
                    state,
                    action,
                    next_state,
                });
                state = next_state;
            }
        }
        Episodes {
            horizon: self.horizon,
            transitions,
        }
    }
}

impl LinearDdcWorld {
    /// V*_1 − V^π_1 under the planted reward, from the initial distribution.
    pub fn suboptimality(&self, policy: &[Vec<usize>]) -> Result<f64> {
        let rewards = self.rewards();
        let best = self.value_of(&self.optimal_policy(&rewards), &rewards)?;
        Ok(best - self.value_of(policy, &rewards)?)
    }

    /// Root mean squared error of rewards r̂_h = φᵀŵ_h (one weight vector per step) against
    /// the planted ones (see [`LinearDdcWorld::centred_error`]).
    pub fn reward_error(&self, reward_weights: &[Vec<f64>]) -> f64 {
        let estimates: StepTables = reward_weights
            .iter()
            .map(|w| self.features.linear(w))
            .collect();
        self.centred_error(&estimates, &vec![self.rewards(); self.horizon])
    }

    /// Root mean squared error of estimated Q̂_h tables against the human's Q_h
    /// (see [`LinearDdcWorld::centred_error`]).
    pub fn q_error(&self, q: &StepTables) -> f64 {
        self.centred_error(q, &self.human().0)
    }

    /// Root mean squared difference of per-step (s,a) tables, weighted by the human's
    /// occupancy of (s,a) at each step, after removing each step's mean difference (the
    /// constant that choices cannot identify); the squares are averaged over the steps.
    pub fn centred_error(&self, estimates: &StepTables, truth: &StepTables) -> f64 {
        let occupancy = self.human_occupancy();
        let total: f64 = estimates
            .iter()
            .zip(truth)
            .zip(&occupancy)
            .map(|((estimate, truth), weights)| {
                let difference: Vec<f64> = estimate.iter().zip(truth).map(|(e, t)| e - t).collect();
                let mean = dot(weights, &difference);
                weights
                    .iter()
                    .zip(&difference)
                    .map(|(p, x)| p * (x - mean).powi(2))
                    .sum::<f64>()
            })
            .sum();
        (total / estimates.len().max(1) as f64).sqrt()
    }
}

/// A draw from the symmetric Dirichlet(α) on `dim` points.
fn dirichlet(rng: &mut Rng, alpha: f64, dim: usize) -> Result<Vec<f64>> {
    let gamma = Gamma::new(alpha, 1.0)
        .map_err(|e| Error::parameter("concentration", format!("must be finite and > 0 ({e})")))?;
    let mut x: Vec<f64> = (0..dim).map(|_| gamma.sample(rng)).collect();
    let total: f64 = x.iter().sum();
    if total > 0.0 {
        x.iter_mut().for_each(|v| *v /= total);
    } else {
        x.fill(0.0);
        x[0] = 1.0;
    }
    Ok(x)
}
