//! choicelab-core: the vocabulary every other choicelab crate speaks.
//!
//! It owns the error type, seeds and portable random streams, the sparse [`TabularMdp`] with
//! its readers and checks, observed choices (pairwise [`Comparisons`], [`SetChoices`] and the
//! long-format [`ChoiceSets`] of discrete choice) with theirs, panels of sequential
//! keep-or-replace decisions ([`panel::Panel`]), the Gymnasium environment contract
//! ([`env::Env`], [`spaces::Space`], [`env::TimeLimit`], [`env::SyncVectorEnv`]), offline RL
//! data sets in Minari's layout ([`episodes::Episodes`], flattened to
//! [`episodes::Transitions`]), and the lookup of the data folder.
//!
//! ```
//! use choicelab_core::TabularMdp;
//! // Two states, two actions; action 1 in state 1 is infeasible (reward −∞).
//! let p = [0.5, 0.5, 0.0, 1.0, 0.0, 1.0, 0.5, 0.5];
//! let r = [5.0, 10.0, -1.0, f64::NEG_INFINITY];
//! let mdp = TabularMdp::from_dense(2, 2, &p, &r).unwrap();
//! assert!(!mdp.is_feasible(1, 1));
//! ```

pub mod choice_sets;
mod choice_sets_io;
pub mod choices;
mod choices_io;
mod csv_lines;
pub mod data;
pub mod env;
pub mod episodes;
mod episodes_io;
#[cfg(feature = "parquet")]
mod episodes_parquet;
pub mod error;
pub mod logistic;
pub mod npy;
pub mod numeric;
pub mod panel;
pub mod random;
pub mod rng;
pub mod spaces;
pub mod tabular;
pub mod tabular_io;

pub use choice_sets::{Alternative, ChoiceSets, Observation};
pub use choices::{Comparison, Comparisons, Items, Outcome, SetChoice, SetChoices};
pub use data::DataDir;
pub use episodes_io::D4rlArrays;
pub use error::{Error, Location, Result};
pub use random::{random_integer_mdp, random_sparse_mdp};
pub use rng::{draw_index, rng, stream_rng, Rng, Seed};
pub use tabular::TabularMdp;
