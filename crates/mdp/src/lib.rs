//! choicelab-mdp: exact planning in tabular MDPs.
//!
//! Value iteration (Jacobi and Gauss–Seidel), policy iteration, modified policy iteration,
//! finite-horizon backward induction, relative value iteration, policy evaluation and soft
//! (logit) value iteration. Distributional DP with stock augmentation optimises objectives on
//! the whole return law (CVaR, threshold probabilities, homeostasis). Robust planning, both
//! dynamic ([`RobustValueIteration`] against an L1 ball, a KL ball or a finite set of models at
//! each state-action pair) and static ([`Iwocs`], incremental worst-case search over a
//! parametric family, checked by [`exhaustive_static`]). Iterative methods share one driver
//! (stopping rule, iteration and time limits, an [`Observer`]); Bellman sweeps run in parallel
//! and give the same bits at any thread count.
//!
//! ```
//! use choicelab_core::TabularMdp;
//! use choicelab_mdp::PolicyIteration;
//! // pymdptoolbox's "small" example at γ = 0.9.
//! let p = [0.5, 0.5, 0.0, 1.0, 0.8, 0.2, 0.1, 0.9];
//! let r = [5.0, 10.0, -1.0, 2.0];
//! let mdp = TabularMdp::from_dense(2, 2, &p, &r).unwrap();
//! let solution = PolicyIteration::new(0.9).solve(&mdp).unwrap();
//! assert_eq!(solution.policy, vec![1, 0]);
//! ```

pub mod average;
pub mod bellman;
pub mod bidding;
pub mod distributional;
pub mod driver;
pub mod evaluation;
pub mod examples;
pub mod finite;
pub mod iwocs;
pub mod method;
pub mod policy_iteration;
pub mod robust;
pub mod soft;
pub mod solution;
pub mod value_iteration;

pub use average::RelativeValueIteration;
pub use driver::{Observer, ResidualHistory, Silent, Stopping};
pub use evaluation::{evaluate_policy, Evaluation};
pub use finite::{FiniteHorizon, FiniteHorizonSolution};
pub use iwocs::{
    exhaustive_static, improve_static_policy, static_worst_case, ExhaustiveStatic, Iwocs,
    IwocsSolution, IwocsStep, IwocsStop, ParametricFamily, WorstCaseSearch,
};
pub use method::Method;
pub use policy_iteration::{ModifiedPolicyIteration, PolicyIteration};
pub use robust::{
    evaluate_robust_policy, worst_case_kl, worst_case_l1, Nature, RobustValueIteration,
};
pub use soft::{SoftSolution, SoftValueIteration};
pub use solution::Solution;
pub use value_iteration::{Sweep, ValueIteration};
