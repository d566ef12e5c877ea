//! TD3+BC (Fujimoto and Gu 2021) with CORL's defaults.
//!
//! Critic: two Q networks on `[s, a]`, targets `r + γ (1 − terminal) min Q'(s', ã)` with
//! `ã = clip(π'(s') + clip(ε, ±c), ±max_action)`, `ε ~ N(0, σ²)`. Every `policy_freq` steps
//! the actor minimises `−λ Q₁(s, π(s)) + (π(s) − a)²` with `λ = α / mean|Q₁|` (held
//! constant in the gradient), then all three targets move by Polyak averaging.

use candle_core::{Device, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use choicelab_core::episodes::Transitions;
use choicelab_core::{rng, Rng, Seed};
use serde::{Deserialize, Serialize};

use crate::data::{Batch, OfflineData};
use crate::error::{Error, Result};
use crate::mlp::{Ensemble, Output};
use crate::model::ActorModel;
use crate::policy::{standard_normal, DeterministicPolicy};
use crate::train::{check_common, run, Progress, Stepper};

/// TD3+BC hyper-parameters; defaults are CORL's (`algorithms/offline/td3_bc.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Td3BcParams {
    /// Weight α of the Q term against behaviour cloning (2.5).
    pub alpha: f64,
    /// Discount γ (0.99).
    pub discount: f64,
    /// Polyak rate τ of the target networks (0.005).
    pub tau: f64,
    /// Target policy noise σ, as a fraction of `max_action` (0.2).
    pub policy_noise: f64,
    /// Clip of the target policy noise, as a fraction of `max_action` (0.5).
    pub noise_clip: f64,
    /// Actor and target updates every this many critic steps (2).
    pub policy_freq: usize,
    /// Minibatch size (256).
    pub batch_size: usize,
    /// Hidden widths of actor and critics (256, 256).
    pub hidden: Vec<usize>,
    /// Actor learning rate (3e-4).
    pub actor_lr: f64,
    /// Critic learning rate (3e-4).
    pub critic_lr: f64,
    /// Normalise observations with training-set mean and std (on).
    pub normalize: bool,
    /// Action bound: actions lie in `[-max_action, max_action]` (1).
    pub max_action: f64,
    /// Gradient steps (CORL: 1,000,000).
    pub steps: usize,
    /// Learning-curve point and hook call every this many steps (CORL: 5,000).
    pub eval_every: usize,
    /// Seed of initialisation, batches and target noise.
    pub seed: Seed,
}

impl Default for Td3BcParams {
    fn default() -> Self {
        Self {
            alpha: 2.5,
            discount: 0.99,
            tau: 0.005,
            policy_noise: 0.2,
            noise_clip: 0.5,
            policy_freq: 2,
            batch_size: 256,
            hidden: vec![256, 256],
            actor_lr: 3e-4,
            critic_lr: 3e-4,
            normalize: true,
            max_action: 1.0,
            steps: 1_000_000,
            eval_every: 5_000,
            seed: 0,
        }
    }
}

impl Td3BcParams {
    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        check_common(
            &self.hidden,
            self.batch_size,
            self.steps,
            self.eval_every,
            self.max_action,
            &[("actor_lr", self.actor_lr), ("critic_lr", self.critic_lr)],
        )?;
        let ranges = [
            ("alpha", self.alpha, 0.0, f64::MAX),
            ("discount", self.discount, 0.0, 1.0),
            ("tau", self.tau, 0.0, 1.0),
            ("policy_noise", self.policy_noise, 0.0, f64::MAX),
            ("noise_clip", self.noise_clip, 0.0, f64::MAX),
        ];
        for (name, v, lo, hi) in ranges {
            if !(v.is_finite() && v >= lo && v <= hi) {
                return Err(Error::parameter(
                    name,
                    format!("{v} is outside [{lo}, {hi}]"),
                ));
            }
        }
        if self.policy_freq == 0 {
            return Err(Error::parameter("policy_freq", "must be positive"));
        }
        Ok(())
    }

    /// Trains on `data` and returns the policy with its learning curve.
    pub fn fit(&self, data: &Transitions) -> Result<Td3BcFit> {
        self.fit_with(data, |_, _| Ok(()))
    }

    /// Trains on `data`, calling `hook` every `eval_every` steps (and after the last) with the
    /// learning-curve point and the current policy, e.g. to evaluate it on an environment.
    pub fn fit_with(
        &self,
        data: &Transitions,
        mut hook: impl FnMut(&Progress, &ActorModel) -> Result<()>,
    ) -> Result<Td3BcFit> {
        let mut learner = Td3BcLearner::new(self.clone(), data)?;
        let curve = run(&mut learner, self.steps, self.eval_every, &mut hook)?;
        Ok(Td3BcFit {
            model: learner.actor_model()?,
            curve,
            learner,
        })
    }
}

/// A finished TD3+BC run.
pub struct Td3BcFit {
    /// The trained policy and its normaliser.
    pub model: ActorModel,
    /// Learning-curve points.
    pub curve: Vec<Progress>,
    /// The learner, with critics and targets, for inspection or further steps.
    pub learner: Td3BcLearner,
}

/// TD3+BC's state: networks, targets, optimisers, data and random stream.
pub struct Td3BcLearner {
    params: Td3BcParams,
    data: OfflineData,
    actor: DeterministicPolicy,
    actor_target: DeterministicPolicy,
    critics: Ensemble,
    critic_targets: Ensemble,
    actor_opt: AdamW,
    critic_opt: AdamW,
    rng: Rng,
    steps_done: usize,
    /// TD3+BC's actor loss when set, plain TD3's `−mean Q₁(s, π(s))` otherwise.
    behaviour_cloning: bool,
}

/// Adam (candle-nn's AdamW without weight decay) at learning rate `lr`.
pub fn adam(vars: Vec<candle_core::Var>, lr: f64) -> Result<AdamW> {
    Ok(AdamW::new(
        vars,
        ParamsAdamW {
            lr,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?)
}

impl Td3BcLearner {
    /// Checks the parameters and the data and initialises networks from the seed (actor
    /// first, then the two critics).
    pub fn new(params: Td3BcParams, data: &Transitions) -> Result<Self> {
        params.check()?;
        let data = OfflineData::new(data, params.normalize, params.max_action)?;
        Self::from_data(params, data, true)
    }

    /// A learner on prepared data: TD3+BC when `behaviour_cloning`, else plain TD3 (whose
    /// online agent fills `data` as its replay buffer).
    pub(crate) fn from_data(
        params: Td3BcParams,
        data: OfflineData,
        behaviour_cloning: bool,
    ) -> Result<Self> {
        let mut rng = rng(params.seed);
        let (s, a) = (data.obs_dim(), data.action_dim());
        let actor = DeterministicPolicy::new(s, &params.hidden, a, params.max_action, &mut rng)?;
        let mut sizes = vec![s + a];
        sizes.extend_from_slice(&params.hidden);
        sizes.push(1);
        let critics = Ensemble::new(2, &sizes, Output::Identity, &mut rng)?;
        let actor_target = DeterministicPolicy {
            net: actor.net.detached_copy()?,
            max_action: params.max_action,
        };
        let critic_targets = critics.detached_copy()?;
        let actor_opt = adam(actor.net.vars(), params.actor_lr)?;
        let critic_opt = adam(critics.vars(), params.critic_lr)?;
        Ok(Self {
            params,
            data,
            actor,
            actor_target,
            critics,
            critic_targets,
            actor_opt,
            critic_opt,
            rng,
            steps_done: 0,
            behaviour_cloning,
        })
    }

    /// The training data (the replay buffer of the online agent).
    pub(crate) fn data_mut(&mut self) -> &mut OfflineData {
        &mut self.data
    }

    /// The current actor's actions for one normalised observation.
    pub(crate) fn act(&self, observation: &[f32]) -> Result<Vec<f32>> {
        let x = Tensor::from_slice(observation, (1, observation.len()), &Device::Cpu)?;
        Ok(self.actor.forward(&x)?.flatten_all()?.to_vec1::<f32>()?)
    }

    /// The random stream the learner draws batches and noise from.
    pub(crate) fn rng_mut(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Gradient steps done.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }

    /// The critics.
    pub fn critics(&self) -> &Ensemble {
        &self.critics
    }

    /// All parameters (actor, critics, then their targets) flattened, for comparisons.
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
        out.extend(self.actor_target.net.flat_parameters()?);
        Ok(out)
    }

    /// The critic loss `Σ_k mean (Q_k − y)²` on a batch, without training (the target noise
    /// is drawn from the learner's stream, which therefore advances).
    pub fn critic_loss_on(&mut self, batch: &Batch) -> Result<f32> {
        let target = self.target(batch)?;
        Ok(self.critic_loss(batch, &target)?.to_scalar::<f32>()?)
    }

    /// A batch drawn from the learner's own stream.
    pub fn sample(&mut self) -> Result<Batch> {
        self.data.sample(&mut self.rng, self.params.batch_size)
    }

    fn target(&mut self, b: &Batch) -> Result<Tensor> {
        let p = &self.params;
        let noise = (standard_normal(&mut self.rng, b.actions.dims())?
            * (p.policy_noise * p.max_action))?
            .clamp(-p.noise_clip * p.max_action, p.noise_clip * p.max_action)?;
        let next_action = (self.actor_target.forward(&b.next_observations)? + noise)?
            .clamp(-p.max_action, p.max_action)?;
        let x = Tensor::cat(&[&b.next_observations, &next_action], D::Minus1)?;
        let q = self.critic_targets.min(&x)?;
        let y = (&b.rewards + ((&b.not_done * q)? * p.discount)?)?;
        Ok(y.detach())
    }

    fn critic_loss(&self, b: &Batch, target: &Tensor) -> Result<Tensor> {
        let x = Tensor::cat(&[&b.observations, &b.actions], D::Minus1)?;
        let mut loss: Option<Tensor> = None;
        for q in self.critics.forward_all(&x)? {
            let l = candle_nn::loss::mse(&q, target)?;
            loss = Some(match loss {
                None => l,
                Some(acc) => (acc + l)?,
            });
        }
        loss.ok_or_else(|| Error::parameter("critics", "no critic"))
    }

    fn actor_loss(&self, b: &Batch) -> Result<Tensor> {
        let pi = self.actor.forward(&b.observations)?;
        let x = Tensor::cat(&[&b.observations, &pi], D::Minus1)?;
        let q = self.critics.members()[0].forward(&x)?;
        if !self.behaviour_cloning {
            return Ok(q.mean_all()?.neg()?);
        }
        let scale = q.abs()?.mean_all()?.detach().to_scalar::<f32>()?;
        let lambda = self.params.alpha / f64::from(scale);
        let bc = candle_nn::loss::mse(&pi, &b.actions)?;
        Ok(((q.mean_all()? * -lambda)? + bc)?)
    }
}

impl Stepper for Td3BcLearner {
    fn step(&mut self) -> Result<(Option<f32>, Option<f32>)> {
        self.steps_done += 1;
        let batch = self.sample()?;
        let target = self.target(&batch)?;
        let critic_loss = self.critic_loss(&batch, &target)?;
        self.critic_opt.backward_step(&critic_loss)?;
        let critic = critic_loss.to_scalar::<f32>()?;
        if !self.steps_done.is_multiple_of(self.params.policy_freq) {
            return Ok((Some(critic), None));
        }
        let actor_loss = self.actor_loss(&batch)?;
        self.actor_opt.backward_step(&actor_loss)?;
        let tau = self.params.tau;
        self.critic_targets.soft_update(&self.critics, tau)?;
        self.actor_target.net.soft_update(&self.actor.net, tau)?;
        Ok((Some(critic), Some(actor_loss.to_scalar::<f32>()?)))
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

impl Td3BcLearner {
    /// One gradient step (critic, and every `policy_freq` steps actor and targets); returns
    /// the critic loss and, when the actor moved, the actor loss.
    pub fn train_step(&mut self) -> Result<(f32, Option<f32>)> {
        let (c, a) = Stepper::step(self)?;
        Ok((c.unwrap_or(f32::NAN), a))
    }

    /// A copy of the current policy with its normaliser.
    pub fn policy(&self) -> Result<ActorModel> {
        self.actor_model()
    }
}
