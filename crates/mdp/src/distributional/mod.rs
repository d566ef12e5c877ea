//! Distributional dynamic programming with stock augmentation (Pires et al., 2025).
//!
//! Return laws live on a grid of [`Atoms`] (two-neighbour projection; exact when rewards and
//! atoms share a lattice). [`StockAugmented`] adds the stock c (reward so far, rescaled so the
//! objective applies to c₀ + G) to the state and runs distributional value or policy iteration
//! for an [`Objective`]: the expectation (equal to value iteration), CVaR by
//! Rockafellar–Uryasev, the probability of reaching a threshold, or homeostatic regulation.
//! Policies are then executed on (s, c), evaluated exactly ([`exact_return_law`]) or by seeded
//! Monte Carlo ([`monte_carlo_returns`]), and compared with the best stationary Markov policy
//! ([`MarkovSearch`]).
//!
//! ```
//! use choicelab_core::TabularMdp;
//! use choicelab_mdp::distributional::{Atoms, Objective, StockAugmented, StockGrid};
//! // One decision: a sure 1, or 0 and 3 with probability ½ each (mean 1.5).
//! let mdp = TabularMdp::from_entries(
//!     2,
//!     2,
//!     &[(0, 0, 1, 1.0, 1.0), (0, 1, 1, 0.5, 0.0), (0, 1, 1, 0.5, 3.0), (1, 0, 1, 1.0, 0.0), (1, 1, 1, 1.0, 0.0)],
//! )
//! .unwrap();
//! let atoms = Atoms::lattice(0.0, 3.0, 1.0).unwrap();
//! let stock = StockGrid::new(-3.0, 3.0, 1.0).unwrap();
//! let cvar = StockAugmented::new(1.0, Some(1), atoms, stock, Objective::Cvar { alpha: 0.5 })
//!     .solve(&mdp)
//!     .unwrap();
//! // CVaR_½ of the gamble is 0, of the sure thing 1.
//! assert_eq!(cvar.evaluate(0).unwrap().value, 1.0);
//! ```

mod atoms;
mod augmented;
mod evaluation;
mod objective;
mod outcomes;
mod search;
mod stock;

pub use atoms::{cvar_of_sorted, return_range, Atoms};
pub use augmented::{AugmentedSolution, DistributionalMethod, ObjectiveValue, StockAugmented};
pub use evaluation::{
    exact_return_law, markov_laws, monte_carlo_returns, summarise_returns, MarkovPolicy,
    ReturnSummary, Rollout, StockPolicy,
};
pub use objective::{Deviation, Objective};
pub use outcomes::{Outcome, Outcomes};
pub use search::{MarkovBest, MarkovSearch};
pub use stock::StockGrid;
