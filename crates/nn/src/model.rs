//! A trained deterministic actor with its observation normaliser, saved as safetensors.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::mlp::{Mlp, Output};
use crate::normalizer::Normalizer;
use crate::policy::DeterministicPolicy;

/// A deterministic policy plus the normaliser its inputs need: what BC and TD3+BC return.
#[derive(Debug, Clone)]
pub struct ActorModel {
    /// The policy network (expects normalised observations).
    pub policy: DeterministicPolicy,
    /// Observation statistics from the training set.
    pub normalizer: Normalizer,
}

impl ActorModel {
    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.normalizer.dim()
    }

    /// Action width.
    pub fn action_dim(&self) -> usize {
        self.policy.net.output_dim()
    }

    /// Actions for row-major raw observations (one or many rows), row-major.
    pub fn act(&self, observations: &[f32]) -> Result<Vec<f32>> {
        let d = self.obs_dim();
        if observations.is_empty() || !observations.len().is_multiple_of(d) {
            return Err(Error::InvalidData(format!(
                "{} observation values are not whole rows of width {d}",
                observations.len()
            )));
        }
        if let Some(v) = observations.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!("non-finite observation {v}")));
        }
        let x = Tensor::from_vec(
            self.normalizer.apply(observations),
            (observations.len() / d, d),
            &Device::Cpu,
        )?;
        Ok(self.policy.forward(&x)?.flatten_all()?.to_vec1::<f32>()?)
    }

    /// The tensors written by [`ActorModel::save`]: `actor.*`, `normalizer.mean`,
    /// `normalizer.std` and `max_action`.
    pub fn named_tensors(&self) -> Result<Vec<(String, Tensor)>> {
        let mut named = self.policy.net.named_tensors("actor");
        let (mean, std) = self.normalizer.to_tensors()?;
        named.push(("normalizer.mean".into(), mean));
        named.push(("normalizer.std".into(), std));
        named.push((
            "max_action".into(),
            Tensor::new(&[self.policy.max_action as f32], &Device::Cpu)?,
        ));
        Ok(named)
    }

    /// Writes the actor, the normaliser and the action bound to a safetensors file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let map: HashMap<String, Tensor> = self.named_tensors()?.into_iter().collect();
        candle_core::safetensors::save(&map, path).map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Reads a model written by [`ActorModel::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let fail = |message: String| Error::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let map =
            candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| fail(e.to_string()))?;
        let get = |name: &str| {
            map.get(name)
                .ok_or_else(|| fail(format!("tensor `{name}` is missing")))
        };
        let net = Mlp::from_named_tensors(&map, "actor", Output::Tanh)
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("no `actor.0.weight` tensor".into()))?;
        let normalizer = Normalizer::from_tensors(get("normalizer.mean")?, get("normalizer.std")?)
            .map_err(|e| fail(e.to_string()))?;
        if normalizer.dim() != net.input_dim() {
            return Err(fail(format!(
                "normaliser width {} differs from the actor's input width {}",
                normalizer.dim(),
                net.input_dim()
            )));
        }
        let max_action = get("max_action")?
            .flatten_all()?
            .to_vec1::<f32>()?
            .first()
            .map_or(f64::NAN, |m| f64::from(*m));
        if !(max_action.is_finite() && max_action > 0.0) {
            return Err(fail(format!("max_action {max_action} is not positive")));
        }
        Ok(Self {
            policy: DeterministicPolicy { net, max_action },
            normalizer,
        })
    }
}
