//! Behaviour cloning: a deterministic tanh policy regressed on the data's actions.

use candle_nn::{AdamW, Optimizer};
use choicelab_core::episodes::Transitions;
use choicelab_core::{rng, Rng, Seed};
use serde::{Deserialize, Serialize};

use crate::data::OfflineData;
use crate::error::Result;
use crate::model::ActorModel;
use crate::policy::DeterministicPolicy;
use crate::td3bc::adam;
use crate::train::{check_common, run, Progress, Stepper};

/// BC hyper-parameters; defaults follow CORL's `any_percent_bc.py` with its TD3+BC network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BcParams {
    /// Minibatch size (256).
    pub batch_size: usize,
    /// Hidden widths (256, 256).
    pub hidden: Vec<usize>,
    /// Learning rate (3e-4).
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

impl Default for BcParams {
    fn default() -> Self {
        Self {
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

impl BcParams {
    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        check_common(
            &self.hidden,
            self.batch_size,
            self.steps,
            self.eval_every,
            self.max_action,
            &[("lr", self.lr)],
        )
    }

    /// Trains on `data`; returns the policy and the learning curve.
    pub fn fit(&self, data: &Transitions) -> Result<(ActorModel, Vec<Progress>)> {
        self.fit_with(data, |_, _| Ok(()))
    }

    /// Trains on `data`, calling `hook` every `eval_every` steps and after the last one.
    pub fn fit_with(
        &self,
        data: &Transitions,
        mut hook: impl FnMut(&Progress, &ActorModel) -> Result<()>,
    ) -> Result<(ActorModel, Vec<Progress>)> {
        self.check()?;
        let data = OfflineData::new(data, self.normalize, self.max_action)?;
        let mut rng = rng(self.seed);
        let actor = DeterministicPolicy::new(
            data.obs_dim(),
            &self.hidden,
            data.action_dim(),
            self.max_action,
            &mut rng,
        )?;
        let opt = adam(actor.net.vars(), self.lr)?;
        let mut learner = BcLearner {
            batch_size: self.batch_size,
            data,
            actor,
            opt,
            rng,
        };
        let curve = run(&mut learner, self.steps, self.eval_every, &mut hook)?;
        Ok((learner.actor_model()?, curve))
    }
}

struct BcLearner {
    batch_size: usize,
    data: OfflineData,
    actor: DeterministicPolicy,
    opt: AdamW,
    rng: Rng,
}

impl Stepper for BcLearner {
    fn step(&mut self) -> Result<(Option<f32>, Option<f32>)> {
        let b = self.data.sample(&mut self.rng, self.batch_size)?;
        let loss = candle_nn::loss::mse(&self.actor.forward(&b.observations)?, &b.actions)?;
        self.opt.backward_step(&loss)?;
        Ok((None, Some(loss.to_scalar::<f32>()?)))
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
