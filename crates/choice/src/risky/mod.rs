//! Risky choice: lotteries, expected value, expected utility and cumulative prospect theory
//! with a logit choice rule, fitted to aggregate choice shares (choices13k) by binomial
//! maximum likelihood, with cross-validation grouped by problem and feature baselines.
//!
//! ```
//! use choicelab_choice::risky::{value, CptParams, Lottery, Weighting};
//! let lottery = Lottery::new(vec![(0.5, 100.0), (0.5, -50.0)]).unwrap();
//! let cpt = CptParams { alpha: 0.88, beta: 0.88, lambda: 2.25, gamma_gain: 0.61,
//!                       gamma_loss: 0.69, weighting: Weighting::TverskyKahneman };
//! assert!(value(&lottery, &cpt) < 0.0 && lottery.expected_value() == 25.0);
//! ```

mod choices13k;
mod cv;
mod features;
mod lottery;
mod model;
mod value;

pub use choices13k::{Choices13k, Selection, PROBLEMS, SELECTIONS, TASK_FEATURES};
pub use cv::{adjusted_r2, grouped_folds, out_of_fold, Scores};
pub use features::{FeatureData, FittedLogistic, FittedMlp, LogisticRegression, Mlp};
pub use lottery::{Lottery, Problem, RiskyChoice, SUM_TOLERANCE};
pub use model::{decision_weights, value, Curvature, FittedRisky, RiskyData, RiskyModel};
pub use value::{CptParams, Weighting};
