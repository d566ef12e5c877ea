//! The training loop shared by the offline learners: learning-curve points and hooks.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::ActorModel;

/// One point of a learning curve: mean losses since the previous point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Gradient steps done so far.
    pub step: usize,
    /// Mean critic loss since the previous point (`NaN` for learners without a critic).
    pub critic_loss: f64,
    /// Mean actor loss since the previous point (`NaN` when no actor update happened).
    pub actor_loss: f64,
}

/// What a learner does at one gradient step.
pub(crate) trait Stepper {
    /// One gradient step; returns `(critic loss, actor loss)`, either possibly absent.
    fn step(&mut self) -> Result<(Option<f32>, Option<f32>)>;
    /// A copy of the current policy (its own weights).
    fn actor_model(&self) -> Result<ActorModel>;
}

/// Runs `steps` gradient steps; every `eval_every` steps and after the last one, records a
/// [`Progress`] point and calls `hook` with it and the current policy.
pub(crate) fn run<S: Stepper>(
    learner: &mut S,
    steps: usize,
    eval_every: usize,
    hook: &mut dyn FnMut(&Progress, &ActorModel) -> Result<()>,
) -> Result<Vec<Progress>> {
    let mut curve = Vec::new();
    let (mut critic_sum, mut critic_n, mut actor_sum, mut actor_n) = (0.0, 0usize, 0.0, 0usize);
    for step in 1..=steps {
        let (critic, actor) = learner.step()?;
        if let Some(c) = critic {
            if !c.is_finite() {
                return Err(Error::Diverged {
                    what: "critic loss",
                    step,
                });
            }
            critic_sum += f64::from(c);
            critic_n += 1;
        }
        if let Some(a) = actor {
            if !a.is_finite() {
                return Err(Error::Diverged {
                    what: "actor loss",
                    step,
                });
            }
            actor_sum += f64::from(a);
            actor_n += 1;
        }
        if step % eval_every == 0 || step == steps {
            let mean = |s: f64, n: usize| if n == 0 { f64::NAN } else { s / n as f64 };
            let point = Progress {
                step,
                critic_loss: mean(critic_sum, critic_n),
                actor_loss: mean(actor_sum, actor_n),
            };
            (critic_sum, critic_n, actor_sum, actor_n) = (0.0, 0, 0.0, 0);
            hook(&point, &learner.actor_model()?)?;
            curve.push(point);
        }
    }
    Ok(curve)
}

/// Checks shared by the learners' parameter sets.
pub(crate) fn check_common(
    hidden: &[usize],
    batch_size: usize,
    steps: usize,
    eval_every: usize,
    max_action: f64,
    lrs: &[(&'static str, f64)],
) -> Result<()> {
    if hidden.is_empty() || hidden.contains(&0) {
        return Err(Error::parameter(
            "hidden",
            format!("need at least one positive width, got {hidden:?}"),
        ));
    }
    if batch_size == 0 {
        return Err(Error::parameter("batch_size", "must be positive"));
    }
    if steps == 0 {
        return Err(Error::parameter("steps", "must be positive"));
    }
    if eval_every == 0 {
        return Err(Error::parameter("eval_every", "must be positive"));
    }
    if !(max_action.is_finite() && max_action > 0.0) {
        return Err(Error::parameter(
            "max_action",
            format!("{max_action} is not positive"),
        ));
    }
    for (name, lr) in lrs {
        if !(lr.is_finite() && *lr > 0.0) {
            return Err(Error::parameter(name, format!("{lr} is not positive")));
        }
    }
    Ok(())
}
