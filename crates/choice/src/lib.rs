//! choicelab-choice: utilities from static choices.
//!
//! Bradley–Terry for pairwise comparisons (hard or soft labels, optional ridge penalty, standard
//! errors from the observed information), Plackett–Luce for choices from sets and rankings, and
//! Luce spectral ranking (LSR, I-LSR) as choix computes them, and Thurstonian utilities (μ, σ)
//! fitted to soft labels as Utility Engineering does, and McFadden's conditional logit on choice
//! sets with a utility specification from TOML or JSON. Unpenalised fits require a
//! strongly connected comparison graph and name its components otherwise. [`risky`] holds
//! lotteries, expected value, expected utility and cumulative prospect theory with a logit
//! choice rule fitted to aggregate choice shares (choices13k) with grouped cross-validation
//! and feature baselines; [`intertemporal`] holds exponential, hyperbolic and quasi-hyperbolic
//! discounting with a generator of sooner–later choices.
//! [`conjoint`] learns optimal stochastic interventions from forced-choice conjoint data and
//! solves their two-party game.
//!
//! ```
//! use choicelab_core::Comparisons;
//! use choicelab_choice::BradleyTerry;
//! // choix's pairwise golden case: a 3-cycle plus one extra win of item 0 over item 1.
//! let data = Comparisons::from_wins(3, &[(0, 1), (0, 1), (1, 2), (2, 0)]).unwrap();
//! let fit = BradleyTerry::default().fit(&data).unwrap();
//! assert!((fit.theta[0] - 0.419617624).abs() < 1e-6);
//! ```

mod binomial;
mod fitted;
mod graph;
mod lbfgs;
mod newton;
mod newton_cg;
mod ties;

pub mod active;
pub mod agreement;
pub mod bradley_terry;
pub mod chooser;
pub mod conjoint;
pub mod elicitation;
pub mod intertemporal;
pub mod logit;
pub mod logit_spec;
pub mod luce;
pub mod risky;
pub mod thurstonian;

pub use active::{ActiveSelection, PairPool};
pub use binomial::{BinomialFit, FitSettings, StartOutcome};
pub use bradley_terry::{BradleyTerry, Solver};
pub use chooser::{ChoiceOption, Chooser, SimulatedChooser};
pub use elicitation::{Elicitation, Elicited, Round, Strategy};
pub use fitted::FittedUtilities;
pub use logit::{ConditionalLogit, FittedLogit};
pub use logit_spec::LogitSpec;
pub use luce::{PlackettLuce, SpectralRanking};
pub use thurstonian::{fit_thurstonian_adam, FittedThurstonian, Thurstonian};
pub use ties::Ties;
