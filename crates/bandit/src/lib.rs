//! choicelab-bandit: bandit policies and a seeded regret simulator.
//!
//! Policies choose among a fixed set of arms (action vectors) through the [`Policy`] trait:
//! [`DynLinUcb`] (Mussi, Metelli & Restelli 2023: epochs of growing length, ridge regression on
//! the end-of-epoch reward, optimism), and the baselines [`LinUcb`], [`DLinUcb`] (discounted),
//! [`Ar2`] (autoregressive bandits), [`Exp3`], [`BatchExp3`], [`Ucb1`] and [`Fixed`] (the
//! clairvoyant, or an expert's allocation). The crate knows no world: an [`Environment`] turns an
//! action into a reward, and [`Simulation`] runs many independent trials of one policy in
//! parallel (rayon), recording the regret of the arms' expected values at checkpoints, with the
//! same bits at any thread count.
//!
//! ```
//! use choicelab_bandit::{Environment, Fixed, Simulation};
//! use choicelab_core::Rng;
//!
//! /// A world that pays the first coordinate of the action.
//! struct First;
//! impl Environment for First {
//!     fn reset(&mut self) {}
//!     fn step(&mut self, action: &[f64], _: &mut Rng) -> f64 {
//!         action[0]
//!     }
//! }
//! let arms = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
//! let values = [1.0, 0.0];
//! let simulation = Simulation::new(100, 2, 1)?;
//! let curve = simulation.run(&arms, &values, || First, || Fixed::new(1))?;
//! assert_eq!(curve.final_mean(), 100.0);
//! # Ok::<(), choicelab_core::Error>(())
//! ```

mod ar2;
mod dynlin;
mod exp3;
mod linalg;
mod linucb;
mod policy;
mod simulate;

pub use ar2::Ar2;
pub use dynlin::{epoch_length, Confidence, DynLinUcb, SystemBounds};
pub use exp3::{batch_size, BatchExp3, Exp3};
pub use linucb::{DLinUcb, LinUcb};
pub use policy::{Environment, Fixed, Policy, Ucb1};
pub use simulate::{log_checkpoints, RegretCurve, Simulation};
