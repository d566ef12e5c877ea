//! Conjoint analysis with optimal stochastic interventions (Jerzak, Chandra & Hazra 2025):
//! forced-choice designs and simulated respondents, the difference-form outcome model
//! P(a ≻ b) = σ(g(a) − g(b)) with main effects and pairwise interactions, AMCEs, factorised
//! policies that maximise the expected win probability against a fixed opponent under a KL or
//! L2 pull toward the design, and the two-party zero-sum game solved by mirror-prox.
//!
//! ```
//! use choicelab_choice::conjoint::{
//!     Contest, ContestSettings, Design, Electorate, Factor, OutcomeModel, Player, Policy,
//!     PolicyOptimiser, Segment, Side,
//! };
//! let design = Design::new(vec![Factor::uniform("tone", &["calm", "angry", "funny"])]).unwrap();
//! let model = OutcomeModel::from_terms(&design, false, &[("tone=funny", 1.0)]).unwrap();
//! let voters = Electorate::new(vec![Segment { name: "all".into(), share: 1.0, model }]).unwrap();
//! let side = Side::free(&design);
//! let contest =
//!     Contest::new(&design, &voters, side.clone(), side, ContestSettings::default()).unwrap();
//! let opponent = contest.design_policy(Player::B);
//! let best = PolicyOptimiser::default().optimise(&contest, Player::A, &opponent, &[]).unwrap();
//! assert!(best.policy.marginals[0][2] > 0.999_999);
//! ```

mod contest;
mod data;
mod design;
mod game;
mod model;
mod policy;

pub use contest::{amces, Amce, Contest, ContestSettings, Player, Policy, ValueGradient};
pub use data::{ConjointData, Simulation, Task};
pub use design::{Design, Factor, Side};
pub use game::{exploitability, Equilibrium, EquilibriumSolver, Exploitability};
pub use model::{Electorate, FittedOutcome, LogisticFit, OutcomeModel, Segment, Terms};
pub use policy::{LambdaChoice, LambdaSearch, Optimum, Penalty, PolicyOptimiser};
