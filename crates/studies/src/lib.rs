//! choicelab-studies: each study reproduces one research system's claim and writes a report.
//!
//! A study has a serde `Config` whose defaults are the paper's, read from TOML and overridden
//! by `key=value` pairs; running it returns a [`Report`] (claim, configuration, tables, SVG
//! figures, flat metrics) that [`Report::write`] puts into a folder.
//!
//! ```no_run
//! use choicelab_studies::{find, NoProgress, RunOptions};
//! let study = find("mdp-examples").unwrap();
//! let report = study.run(&RunOptions::default(), &mut NoProgress).unwrap();
//! report.write(std::path::Path::new("runs/mdp-examples")).unwrap();
//! ```

pub mod bus_engine;
pub mod chooser_setup;
pub mod config;
pub mod conjoint_adversarial;
pub mod daily_dilemmas;
pub mod dcppo;
pub mod ddc_monte_carlo;
pub mod distributional_dp;
pub mod dynamical_bandits;
pub mod intertemporal_choice;
pub mod mdp_examples;
mod offline_common;
pub mod offline_rl;
pub mod plot;
pub mod registry;
pub mod regret_preferences;
pub mod report;
mod reservoir_anchors;
pub mod reservoir_ei;
mod reservoir_summary;
pub mod reward_model_robustness;
pub mod risky_choice;
pub mod robust_mdp;
pub mod rtb;
pub mod self_correction;
pub mod spo;
pub mod ssorl;
pub mod swissmetro;
pub mod tour;
pub mod utility_engineering;
pub mod utility_llm;

pub use config::{ConfigSources, StudyConfig};
pub use registry::{find, studies, NoProgress, Progress, RunOptions, Study};
pub use report::{Figure, Metric, Report, Table};
