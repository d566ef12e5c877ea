//! Implicit Q-learning (Kostrikov et al. 2022) with CORL's defaults.
//!
//! Per step: the value `V(s)` moves toward the expectile τ of `min Q'(s, a)` (asymmetric L2);
//! the twin Q move toward `r + γ (1 − terminal) V(s')`; the policy maximises the
//! advantage-weighted log-likelihood of the data's actions, weights `min(exp(β (Q' − V)), 100)`.
//! The policy is a Gaussian with mean `max_action · tanh(f(s))` and a state-independent
//! log-std clamped to `[-20, 2]`; its actor learning rate follows a cosine schedule to 0.

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer};
use choicelab_core::episodes::Transitions;
use choicelab_core::{rng, Rng, Seed};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, OfflineData};
use crate::error::{Error, Result};
use crate::mlp::{Ensemble, Mlp, Output};
use crate::model::ActorModel;
use crate::policy::{gaussian_log_prob, DeterministicPolicy};
use crate::td3bc::adam;
use crate::train::{check_common, run, Progress, Stepper};

/// IQL hyper-parameters; defaults are CORL's (`algorithms/offline/iql.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IqlParams {
    /// Expectile τ of the value loss (0.7).
    pub expectile: f64,
    /// Inverse temperature β of the advantage weights (3.0).
    pub beta: f64,
    /// Upper clip of `exp(β A)` (100).
    pub exp_adv_max: f64,
    /// Discount γ (0.99).
    pub discount: f64,
    /// Polyak rate of the target Q networks (0.005).
    pub tau: f64,
    /// Minibatch size (256).
    pub batch_size: usize,
    /// Hidden widths of every network (256, 256).
    pub hidden: Vec<usize>,
    /// Learning rate of actor, Q and V (3e-4); the actor's decays by a cosine schedule.
    pub lr: f64,
    /// Normalise observations with training-set mean and std (on).
    pub normalize: bool,
    /// Action bound (1).
    pub max_action: f64,
    /// Gradient steps (CORL: 1,000,000).
    pub steps: usize,
    /// Learning-curve point and hook call every this many steps (5,000).
    pub eval_every: usize,
    /// Seed of initialisation and batches.
    pub seed: Seed,
}

impl Default for IqlParams {
    fn default() -> Self {
        Self {
            expectile: 0.7,
            beta: 3.0,
            exp_adv_max: 100.0,
            discount: 0.99,
            tau: 0.005,
            batch_size: 256,
            hidden: vec![256, 256],
            lr: 3e-4,
            normalize: true,
            max_action: 1.0,
            steps: 1_000_000,
            eval_every: 5_000,
            seed: 0,
        }
    }
}

impl IqlParams {
    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        check_common(
            &self.hidden,
            self.batch_size,
            self.steps,
            self.eval_every,
            self.max_action,
            &[("lr", self.lr)],
        )?;
        // (name, value, lower bound, whether the lower bound itself is allowed, upper bound)
        let ranges = [
            ("expectile", self.expectile, 0.0, false, 1.0),
            ("beta", self.beta, 0.0, true, f64::MAX),
            ("exp_adv_max", self.exp_adv_max, 0.0, false, f64::MAX),
            ("discount", self.discount, 0.0, true, 1.0),
            ("tau", self.tau, 0.0, false, 1.0),
        ];
        for (name, v, lo, closed, hi) in ranges {
            let above = if closed { v >= lo } else { v > lo };
            if !(v.is_finite() && above && v <= hi) {
                return Err(Error::parameter(
                    name,
                    format!("{v} is outside its range up to {hi}"),
                ));
            }
        }
        Ok(())
    }

    /// Trains on `data`; returns the (mean) policy and the learning curve.
    pub fn fit(&self, data: &Transitions) -> Result<(ActorModel, Vec<Progress>)> {
        self.fit_with(data, |_, _| Ok(()))
    }

    /// Trains on `data`, calling `hook` every `eval_every` steps and after the last one.
    pub fn fit_with(
        &self,
        data: &Transitions,
        mut hook: impl FnMut(&Progress, &ActorModel) -> Result<()>,
    ) -> Result<(ActorModel, Vec<Progress>)> {
        let mut learner = IqlLearner::new(self.clone(), data)?;
        let curve = run(&mut learner, self.steps, self.eval_every, &mut hook)?;
        Ok((learner.actor_model()?, curve))
    }
}

/// IQL's state: networks, optimisers, data and random stream.
pub struct IqlLearner {
    params: IqlParams,
    data: OfflineData,
    actor: DeterministicPolicy,
    log_std: Var,
    q: Ensemble,
    q_target: Ensemble,
    v: Mlp,
    actor_opt: AdamW,
    q_opt: AdamW,
    v_opt: AdamW,
    rng: Rng,
    steps_done: usize,
}

impl IqlLearner {
    /// Checks parameters and data; initialises V, the twin Q and the actor from the seed.
    pub fn new(params: IqlParams, data: &Transitions) -> Result<Self> {
        params.check()?;
        let data = OfflineData::new(data, params.normalize, params.max_action)?;
        let mut rng = rng(params.seed);
        let (s, a) = (data.obs_dim(), data.action_dim());
        let with = |input: usize, output: usize| {
            let mut sizes = vec![input];
            sizes.extend_from_slice(&params.hidden);
            sizes.push(output);
            sizes
        };
        let q = Ensemble::new(2, &with(s + a, 1), Output::Identity, &mut rng)?;
        let v = Mlp::new(&with(s, 1), Output::Identity, &mut rng)?;
        let actor = DeterministicPolicy::new(s, &params.hidden, a, params.max_action, &mut rng)?;
        let log_std = Var::zeros((1, a), DType::F32, &Device::Cpu)?;
        let q_target = q.detached_copy()?;
        let mut actor_vars = actor.net.vars();
        actor_vars.push(log_std.clone());
        Ok(Self {
            actor_opt: adam(actor_vars, params.lr)?,
            q_opt: adam(q.vars(), params.lr)?,
            v_opt: adam(v.vars(), params.lr)?,
            params,
            data,
            actor,
            log_std,
            q,
            q_target,
            v,
            rng,
            steps_done: 0,
        })
    }

    /// The value network.
    pub fn value(&self) -> &Mlp {
        &self.v
    }

    /// One gradient step of V, Q and the actor; returns `(value + Q loss, actor loss)`.
    pub fn train_step(&mut self) -> Result<(f32, f32)> {
        let (c, a) = Stepper::step(self)?;
        Ok((c.unwrap_or(f32::NAN), a.unwrap_or(f32::NAN)))
    }

    fn update(&mut self, b: &Batch) -> Result<(f32, f32)> {
        let p = self.params.clone();
        let sa = Tensor::cat(&[&b.observations, &b.actions], D::Minus1)?;
        let next_v = self.v.forward(&b.next_observations)?.detach();
        // Value: expectile regression toward the target twin-Q minimum.
        let target_q = self.q_target.min(&sa)?.detach();
        let adv = (&target_q - self.v.forward(&b.observations)?)?;
        let below = adv.lt(0.0)?.to_dtype(DType::F32)?;
        let weight = (below.affine(-1.0, p.expectile)?).abs()?;
        let v_loss = (weight * adv.sqr()?)?.mean_all()?;
        self.v_opt.backward_step(&v_loss)?;
        // Q: regression toward r + γ (1 − terminal) V(s').
        let y = (&b.rewards + ((&b.not_done * next_v)? * p.discount)?)?.detach();
        let qs = self.q.forward_all(&sa)?;
        let mut q_loss = candle_nn::loss::mse(&qs[0], &y)?;
        for q in &qs[1..] {
            q_loss = (q_loss + candle_nn::loss::mse(q, &y)?)?;
        }
        let q_loss = (q_loss / qs.len() as f64)?;
        self.q_opt.backward_step(&q_loss)?;
        self.q_target.soft_update(&self.q, p.tau)?;
        // Actor: advantage-weighted regression.
        let exp_adv = (adv.detach() * p.beta)?.exp()?.clamp(0.0, p.exp_adv_max)?;
        let mean = self.actor.forward(&b.observations)?;
        let log_std = self
            .log_std
            .as_tensor()
            .clamp(-20.0, 2.0)?
            .broadcast_as(mean.shape())?;
        let nll = gaussian_log_prob(&b.actions, &mean, &log_std)?.neg()?;
        let actor_loss = (exp_adv * nll)?.mean_all()?;
        self.actor_opt.backward_step(&actor_loss)?;
        let progress = self.steps_done as f64 / p.steps.max(1) as f64;
        self.actor_opt
            .set_learning_rate(p.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        let critic = v_loss.to_scalar::<f32>()? + q_loss.to_scalar::<f32>()?;
        Ok((critic, actor_loss.to_scalar::<f32>()?))
    }
}

impl Stepper for IqlLearner {
    fn step(&mut self) -> Result<(Option<f32>, Option<f32>)> {
        self.steps_done += 1;
        let batch = self.data.sample(&mut self.rng, self.params.batch_size)?;
        let (c, a) = self.update(&batch)?;
        Ok((Some(c), Some(a)))
    }

    fn actor_model(&self) -> Result<ActorModel> {
        Ok(ActorModel {
            policy: DeterministicPolicy {
                net: self.actor.net.detached_copy()?,
                max_action: self.actor.max_action,
            },
            normalizer: self.data.normalizer().clone(),
        })
    }
}
