//! choicelab-nn: neural networks on candle's CPU backend and the offline RL learners built on
//! them.
//!
//! It owns seeded MLPs and Q ensembles ([`Mlp`], [`Ensemble`]) with Polyak-averaged target
//! copies, Adam, observation normalisation fitted on training data ([`Normalizer`]),
//! deterministic, Gaussian and tanh-squashed Gaussian policies, safetensors checkpoints that
//! carry the normaliser ([`ActorModel`]), and the offline learners behaviour cloning
//! ([`BcParams`]), TD3+BC ([`Td3BcParams`]), IQL ([`IqlParams`]) and CQL ([`CqlParams`]) with
//! CORL's defaults, training on [`choicelab_core::episodes::Transitions`]. Online TD3
//! ([`Td3Params`]) acts in any [`choicelab_core::env::Env`] with a box of actions, and
//! [`DatagenParams`] turns its run into D4RL-style random, medium, medium-replay, expert and
//! medium-expert data sets. Every random draw comes from a seeded ChaCha stream, so the same
//! seed gives the same weights bit for bit.
//!
//! Threads and memory: candle sizes its matrix-multiply pool from `RAYON_NUM_THREADS` and its
//! element-wise pool (a spinning barrier pool used from 65,536 elements, i.e. a 256×256
//! activation) from `CANDLE_NUM_THREADS`, defaulting to the former. When `RAYON_NUM_THREADS` is
//! unset, candle 0.11 reads `/proc/cpuinfo` at every matrix product; on a shared or busy
//! machine the spinning pool is many times slower than one thread; and glibc returns the large
//! activation buffers to the kernel at every free. For many small networks side by side, run
//! with `RAYON_NUM_THREADS=1 CANDLE_NUM_THREADS=1` and
//! `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824`
//! (the `choicelab` command sets the equivalent itself; see `bench/README.md`).
//!
//! SS-ORL (offline RL when only some trajectories carry actions): an inverse dynamics model
//! ([`IdmParams`], [`InverseDynamics`]), the labelled/unlabelled split ([`split_labelled`]) and
//! the proxy-labelled union that any of the learners trains on ([`proxy_labelled_union`]).
//!
//! ```
//! use choicelab_core::episodes::{TransitionActions, Transitions};
//! use choicelab_nn::BcParams;
//! // A one-dimensional expert a = s / 2 on 64 states.
//! let s: Vec<f32> = (0..64).map(|i| i as f32 / 32.0 - 1.0).collect();
//! let a: Vec<f32> = s.iter().map(|x| x / 2.0).collect();
//! let data = Transitions::new(
//!     1,
//!     s.clone(),
//!     TransitionActions::Continuous { dim: 1, values: a },
//!     vec![0.0; 64],
//!     s,
//!     vec![false; 64],
//!     vec![false; 64],
//! )
//! .unwrap();
//! let params = BcParams { hidden: vec![16], batch_size: 32, steps: 200, eval_every: 100, ..BcParams::default() };
//! let (model, curve) = params.fit(&data).unwrap();
//! assert_eq!(curve.len(), 2);
//! assert_eq!(model.act(&[0.5]).unwrap().len(), 1);
//! ```

pub mod bc;
pub mod cql;
pub mod data;
pub mod datagen;
pub mod error;
pub mod idm;
pub mod iql;
pub mod mlp;
pub mod model;
pub mod normalizer;
mod ops;
pub mod policy;
pub mod rollout;
pub mod ssorl;
pub mod td3;
pub mod td3bc;
mod train;

pub use bc::BcParams;
pub use cql::{CqlLearner, CqlParams};
pub use data::{Batch, OfflineData};
pub use datagen::{DatagenParams, Suite, LEVELS};
pub use error::{Error, Result};
pub use idm::{IdmParams, IdmProgress, InverseDynamics};
pub use iql::{IqlLearner, IqlParams};
pub use mlp::{Ensemble, Mlp, Output};
pub use model::ActorModel;
pub use normalizer::Normalizer;
pub use policy::{gaussian_log_prob, tanh_gaussian_log_prob, DeterministicPolicy, GaussianPolicy};
pub use rollout::{evaluate, record, EpisodeRecorder};
pub use ssorl::{proxy_labelled_union, split_labelled, LabelSource};
pub use td3::{Exploration, OnlinePoint, Snapshot, Td3Params, Td3Run};
pub use td3bc::{Td3BcFit, Td3BcLearner, Td3BcParams};
pub use train::Progress;
