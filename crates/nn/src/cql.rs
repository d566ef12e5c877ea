//! Conservative Q-learning (Kumar et al. 2020), CQL(H) with importance sampling, with
//! CORL's defaults.
//!
//! Per step, on one minibatch and with every loss computed from the parameters before the
//! step (the updates then run in CORL's order: temperature, actor, critics, targets):
//! - Temperature: `log α` (from 0) minimises `−log α · mean(log π(ã|s) − action_dim)`, which
//!   drives the policy's entropy toward the target `−action_dim`; the step uses
//!   `α = alpha_multiplier · exp(log α)` from before this update.
//! - Actor: a tanh-squashed Gaussian with state-dependent log-std minimises
//!   `mean(α log π(ã|s) − min_k Q_k(s, ã))` for a reparameterised `ã ~ π(s)`; for the first
//!   `bc_steps` steps the Q term is the log-likelihood `log π(a|s)` of the data's action.
//! - Critics: each of the two `Q_k` minimises `mean (Q_k(s, a) − y)²` with
//!   `y = r + γ (1 − terminal) min_k Q'_k(s', a')`, `a' ~ π(s')` (minus `α log π(a'|s')` with
//!   `backup_entropy`), plus `cql_alpha · mean(T · logsumexp(x / T) − Q_k(s, a))`, `T` the
//!   temperature `cql_temp`, where per state `x` holds `Q_k(s, u) − log U(u)` for
//!   `cql_n_actions` uniform actions `u` and `Q_k(s, ã) − log π(ã|·)` for as many (detached)
//!   policy actions drawn at `s` and as many at `s'`.
//! - Targets: Polyak averaging every `target_update_period` steps.
//!
//! The returned [`ActorModel`] is deterministic: `max_action · tanh(mean(s))`.
//!
//! Initialisation as CORL's `init_module_weights`: with `orthogonal_init`, the critics' hidden
//! weights are orthogonal with gain √2 and their last layer orthogonal with gain 0.01, biases
//! 0; the actor (whose hidden layers CORL leaves at torch's default, here `U(±1/√fan_in)`)
//! and, without `orthogonal_init`, the critics end in a Xavier-uniform layer with gain 0.01.
//!
//! Deviations from CORL:
//! - CORL's log-std is `m · raw + c` with learnable scalars `m` (1) and `c` (−1); here `c` is
//!   folded into the log-std head's initial bias (−1) and `m` is absent: the same initial
//!   policy and function class, without the two extra parameters.
//! - Uniform actions span `[−max_action, max_action]` with density `(2 max_action)^−d` (CORL
//!   draws from `[−1, 1]` whatever the bound) and log-densities of policy actions include the
//!   `max_action` scaling (CORL's omit it); both agree with CORL at `max_action = 1`.
//! - The Lagrange variant, the max-target backup, the variant without importance sampling and
//!   the clipping of the penalty (all off or infinite in CORL's defaults) are not offered.
//! - CORL fixes the actor's hidden widths at 256, 256, 256; here `hidden` sets both networks.

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer};
use choicelab_core::episodes::Transitions;
use choicelab_core::{rng, Rng, Seed};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, OfflineData};
use crate::error::{Error, Result};
use crate::mlp::{orthogonal, uniform, Ensemble, Mlp, Output};
use crate::model::ActorModel;
use crate::policy::{DeterministicPolicy, GaussianPolicy};
use crate::td3bc::adam;
use crate::train::{check_common, run, Progress, Stepper};

/// CQL hyper-parameters; defaults are CORL's (`algorithms/offline/cql.py` `TrainConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CqlParams {
    /// Weight of the conservative penalty (`cql_alpha`, 10).
    pub cql_alpha: f64,
    /// Uniform and policy actions sampled per state for each part of the penalty (10).
    pub cql_n_actions: usize,
    /// Temperature `T` of the penalty's log-sum-exp (1).
    pub cql_temp: f64,
    /// Discount γ (0.99).
    pub discount: f64,
    /// Polyak rate of the target critics (`soft_target_update_rate`, 0.005).
    pub tau: f64,
    /// Target critics move every this many steps (1).
    pub target_update_period: usize,
    /// Factor on the entropy temperature `exp(log α)` (1).
    pub alpha_multiplier: f64,
    /// Learn `log α` toward the target entropy `−action_dim` (on); off, `α = alpha_multiplier`.
    pub automatic_entropy_tuning: bool,
    /// Subtract `α log π(a'|s')` in the critic target (off).
    pub backup_entropy: bool,
    /// Steps at the start whose actor loss uses the data's log-likelihood instead of Q (0).
    pub bc_steps: usize,
    /// Minibatch size (256).
    pub batch_size: usize,
    /// Hidden widths of actor and critics (256, 256, 256).
    pub hidden: Vec<usize>,
    /// Actor and temperature learning rate (3e-5).
    pub policy_lr: f64,
    /// Critic learning rate (3e-4).
    pub qf_lr: f64,
    /// Orthogonal initialisation of the critics (on).
    pub orthogonal_init: bool,
    /// Normalise observations with training-set mean and std (on).
    pub normalize: bool,
    /// Action bound: actions lie in `[-max_action, max_action]` (1).
    pub max_action: f64,
    /// Gradient steps (CORL: 1,000,000).
    pub steps: usize,
    /// Learning-curve point and hook call every this many steps (5,000).
    pub eval_every: usize,
    /// Seed of initialisation, batches and every sampled action.
    pub seed: Seed,
}

impl Default for CqlParams {
    fn default() -> Self {
        Self {
            cql_alpha: 10.0,
            cql_n_actions: 10,
            cql_temp: 1.0,
            discount: 0.99,
            tau: 0.005,
            target_update_period: 1,
            alpha_multiplier: 1.0,
            automatic_entropy_tuning: true,
            backup_entropy: false,
            bc_steps: 0,
            batch_size: 256,
            hidden: vec![256, 256, 256],
            policy_lr: 3e-5,
            qf_lr: 3e-4,
            orthogonal_init: true,
            normalize: true,
            max_action: 1.0,
            steps: 1_000_000,
            eval_every: 5_000,
            seed: 0,
        }
    }
}

impl CqlParams {
    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        check_common(
            &self.hidden,
            self.batch_size,
            self.steps,
            self.eval_every,
            self.max_action,
            &[("policy_lr", self.policy_lr), ("qf_lr", self.qf_lr)],
        )?;
        // (name, value, lower bound, whether the lower bound itself is allowed, upper bound)
        let ranges = [
            ("cql_alpha", self.cql_alpha, 0.0, true, f64::MAX),
            ("cql_temp", self.cql_temp, 0.0, false, f64::MAX),
            ("discount", self.discount, 0.0, true, 1.0),
            ("tau", self.tau, 0.0, false, 1.0),
            (
                "alpha_multiplier",
                self.alpha_multiplier,
                0.0,
                true,
                f64::MAX,
            ),
        ];
        for (name, v, lo, closed, hi) in ranges {
            let above = if closed { v >= lo } else { v > lo };
            if !(v.is_finite() && above && v <= hi) {
                let open = if closed { "[" } else { "(" };
                return Err(Error::parameter(
                    name,
                    format!("{v} is outside {open}{lo}, {hi}]"),
                ));
            }
        }
        if self.cql_n_actions == 0 {
            return Err(Error::parameter("cql_n_actions", "must be positive"));
        }
        if self.target_update_period == 0 {
            return Err(Error::parameter("target_update_period", "must be positive"));
        }
        Ok(())
    }

    /// Trains on `data`; returns the deterministic (mean) policy and the learning curve.
    pub fn fit(&self, data: &Transitions) -> Result<(ActorModel, Vec<Progress>)> {
        self.fit_with(data, |_, _| Ok(()))
    }

    /// Trains on `data`, calling `hook` every `eval_every` steps (and after the last) with the
    /// learning-curve point and the current policy, e.g. to evaluate it on an environment.
    pub fn fit_with(
        &self,
        data: &Transitions,
        mut hook: impl FnMut(&Progress, &ActorModel) -> Result<()>,
    ) -> Result<(ActorModel, Vec<Progress>)> {
        let mut learner = CqlLearner::new(self.clone(), data)?;
        let curve = run(&mut learner, self.steps, self.eval_every, &mut hook)?;
        Ok((learner.actor_model()?, curve))
    }
}

/// CQL's state: actor, critics and targets, temperature, optimisers, data and random stream.
pub struct CqlLearner {
    params: CqlParams,
    data: OfflineData,
    actor: GaussianPolicy,
    critics: Ensemble,
    critic_targets: Ensemble,
    log_alpha: Var,
    actor_opt: AdamW,
    critic_opt: AdamW,
    alpha_opt: AdamW,
    rng: Rng,
    steps_done: usize,
}

/// CORL's `init_module_weights` on `net`, drawn from `rng` after its default initialisation:
/// see the module documentation; the last layer's bias becomes `last_bias`.
fn corl_init(net: &Mlp, orthogonal_init: bool, last_bias: Vec<f32>, rng: &mut Rng) -> Result<()> {
    let sizes = net.sizes();
    let last = sizes.len() - 2;
    for (i, pair) in sizes.windows(2).enumerate() {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let weight = match (orthogonal_init, i == last) {
            (true, false) => orthogonal(rng, fan_out, fan_in, std::f64::consts::SQRT_2)?,
            (true, true) => orthogonal(rng, fan_out, fan_in, 0.01)?,
            (false, true) => {
                let bound = 0.01 * (6.0 / (fan_in + fan_out) as f64).sqrt();
                uniform(rng, &[fan_out, fan_in], bound as f32)?
            }
            (false, false) => continue,
        };
        let bias = if i == last {
            Tensor::from_vec(last_bias.clone(), fan_out, &Device::Cpu)?
        } else {
            Tensor::zeros(fan_out, DType::F32, &Device::Cpu)?
        };
        net.set_layer(i, &weight, &bias)?;
    }
    Ok(())
}

/// Each row of `x` `(b, d)` repeated `n` times in a row: `(b · n, d)`.
fn repeat_rows(x: &Tensor, n: usize) -> Result<Tensor> {
    let (b, d) = x.dims2()?;
    Ok(x.unsqueeze(1)?.repeat((1, n, 1))?.reshape((b * n, d))?)
}

/// Row-wise concatenation of observations and actions.
fn sa(obs: &Tensor, actions: &Tensor) -> Result<Tensor> {
    Ok(Tensor::cat(&[obs, actions], D::Minus1)?)
}

impl CqlLearner {
    /// Checks parameters and data; initialises from the seed the actor, then the two critics.
    pub fn new(params: CqlParams, data: &Transitions) -> Result<Self> {
        params.check()?;
        let data = OfflineData::new(data, params.normalize, params.max_action)?;
        let mut rng = rng(params.seed);
        let (s, a) = (data.obs_dim(), data.action_dim());
        let actor = GaussianPolicy::new(s, &params.hidden, a, true, params.max_action, &mut rng)?;
        // Mean head bias 0, log-std head bias −1 (CORL's log-std offset).
        let actor_bias = [vec![0.0; a], vec![-1.0; a]].concat();
        corl_init(&actor.net, false, actor_bias, &mut rng)?;
        let mut sizes = vec![s + a];
        sizes.extend_from_slice(&params.hidden);
        sizes.push(1);
        let members = (0..2)
            .map(|_| {
                let q = Mlp::new(&sizes, Output::Identity, &mut rng)?;
                corl_init(&q, params.orthogonal_init, vec![0.0], &mut rng)?;
                Ok(q)
            })
            .collect::<Result<_>>()?;
        let critics = Ensemble::from_members(members)?;
        let log_alpha = Var::zeros(1, DType::F32, &Device::Cpu)?;
        Ok(Self {
            actor_opt: adam(actor.net.vars(), params.policy_lr)?,
            critic_opt: adam(critics.vars(), params.qf_lr)?,
            alpha_opt: adam(vec![log_alpha.clone()], params.policy_lr)?,
            critic_targets: critics.detached_copy()?,
            params,
            data,
            actor,
            critics,
            log_alpha,
            rng,
            steps_done: 0,
        })
    }

    /// Gradient steps done.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// The stochastic actor (network outputs: mean, then log-std, before the tanh).
    pub fn actor(&self) -> &GaussianPolicy {
        &self.actor
    }

    /// The two critics.
    pub fn critics(&self) -> &Ensemble {
        &self.critics
    }

    /// The entropy temperature `α = alpha_multiplier · exp(log α)`.
    pub fn alpha(&self) -> Result<f64> {
        let log_alpha = self.log_alpha.as_tensor().to_vec1::<f32>()?[0];
        Ok(self.params.alpha_multiplier * f64::from(log_alpha).exp())
    }

    /// A copy of the current deterministic policy with its normaliser.
    pub fn policy(&self) -> Result<ActorModel> {
        self.actor_model()
    }

    /// A batch (observations normalised) drawn from the learner's own stream.
    pub fn sample(&mut self) -> Result<Batch> {
        self.data.sample(&mut self.rng, self.params.batch_size)
    }

    /// All parameters (actor, critics, target critics, `log α`) flattened, for comparisons.
    pub fn flat_parameters(&self) -> Result<Vec<f32>> {
        let mut out = self.actor.net.flat_parameters()?;
        for m in self
            .critics
            .members()
            .iter()
            .chain(self.critic_targets.members())
        {
            out.extend(m.flat_parameters()?);
        }
        out.extend(self.log_alpha.as_tensor().to_vec1::<f32>()?);
        Ok(out)
    }

    /// One gradient step of temperature, actor and critics (and the targets when due);
    /// returns `(critic loss with penalty, actor loss)`.
    pub fn train_step(&mut self) -> Result<(f32, f32)> {
        let (c, a) = Stepper::step(self)?;
        Ok((c.unwrap_or(f32::NAN), a.unwrap_or(f32::NAN)))
    }

    /// The critics' loss: Bellman errors plus the conservative penalty, summed over both.
    fn critic_loss(&mut self, b: &Batch, alpha: f64) -> Result<Tensor> {
        let p = &self.params;
        let (n, temp) = (p.cql_n_actions, p.cql_temp);
        let (rows, action_dim) = b.actions.dims2()?;
        let (next_a, next_logp) = self.actor.sample(&b.next_observations, &mut self.rng)?;
        let mut next_q = self
            .critic_targets
            .min(&sa(&b.next_observations, &next_a)?)?;
        if p.backup_entropy {
            next_q = (next_q - (next_logp * alpha)?)?;
        }
        let y = (&b.rewards + ((&b.not_done * next_q)? * p.discount)?)?.detach();
        // Penalty samples: n uniform actions, n policy actions at s and n at s', per state.
        let obs = repeat_rows(&b.observations, n)?;
        let next_obs = repeat_rows(&b.next_observations, n)?;
        let random = uniform(&mut self.rng, &[rows * n, action_dim], p.max_action as f32)?;
        let (current, current_logp) = self.actor.sample(&obs, &mut self.rng)?;
        let (following, following_logp) = self.actor.sample(&next_obs, &mut self.rng)?;
        let log_uniform = -(action_dim as f64) * (2.0 * p.max_action).ln();
        let log_density = Tensor::cat(
            &[
                &Tensor::full(log_uniform as f32, (rows * n, 1), &Device::Cpu)?,
                &current_logp,
                &following_logp,
            ],
            0,
        )?
        .detach();
        let x = Tensor::cat(
            &[
                &sa(&b.observations, &b.actions)?,
                &sa(&obs, &random)?,
                &sa(&obs, &current.detach())?,
                &sa(&obs, &following.detach())?,
            ],
            0,
        )?;
        let mut loss = Tensor::zeros((), DType::F32, &Device::Cpu)?;
        for q in self.critics.forward_all(&x)? {
            let q_data = q.narrow(0, 0, rows)?;
            let weighted = (q.narrow(0, rows, 3 * rows * n)? - &log_density)?;
            // Rows are (part, state, sample): log-sum-exp over parts and samples per state.
            let soft_max = ((weighted.reshape((3, rows, n))? / temp)?.log_sum_exp((0, 2))? * temp)?;
            let penalty = (soft_max - q_data.squeeze(1)?)?.mean_all()?;
            let bellman = candle_nn::loss::mse(&q_data, &y)?;
            loss = ((loss + bellman)? + (penalty * p.cql_alpha)?)?;
        }
        Ok(loss)
    }
}

impl Stepper for CqlLearner {
    fn step(&mut self) -> Result<(Option<f32>, Option<f32>)> {
        self.steps_done += 1;
        let b = self.sample()?;
        let (new_a, log_pi) = self.actor.sample(&b.observations, &mut self.rng)?;
        let alpha = self.alpha()?;
        let target_entropy = -(self.actor.action_dim() as f64);
        let entropy_gap = (log_pi.detach() + target_entropy)?
            .mean_all()?
            .to_scalar::<f32>()?;
        let alpha_loss = (self.log_alpha.as_tensor() * -f64::from(entropy_gap))?.sum_all()?;
        let fit = if self.steps_done <= self.params.bc_steps {
            self.actor.log_prob(&b.observations, &b.actions)?
        } else {
            self.critics.min(&sa(&b.observations, &new_a)?)?
        };
        let actor_loss = ((log_pi * alpha)? - fit)?.mean_all()?;
        let critic_loss = self.critic_loss(&b, alpha)?;
        if self.params.automatic_entropy_tuning {
            self.alpha_opt.backward_step(&alpha_loss)?;
        }
        self.actor_opt.backward_step(&actor_loss)?;
        self.critic_opt.backward_step(&critic_loss)?;
        if self
            .steps_done
            .is_multiple_of(self.params.target_update_period)
        {
            self.critic_targets
                .soft_update(&self.critics, self.params.tau)?;
        }
        Ok((
            Some(critic_loss.to_scalar::<f32>()?),
            Some(actor_loss.to_scalar::<f32>()?),
        ))
    }

    fn actor_model(&self) -> Result<ActorModel> {
        Ok(ActorModel {
            policy: DeterministicPolicy {
                net: self.actor.net.head(self.actor.action_dim(), Output::Tanh)?,
                max_action: self.actor.max_action,
            },
            normalizer: self.data.normalizer().clone(),
        })
    }
}
