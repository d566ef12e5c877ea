//! The study registry: every study by name, and what running one needs.

use choicelab_core::{DataDir, Error, Result};

use crate::bus_engine::BusEngine;
use crate::config::ConfigSources;
use crate::conjoint_adversarial::ConjointAdversarial;
use crate::daily_dilemmas::DailyDilemmas;
use crate::dcppo::DcppoStudy;
use crate::ddc_monte_carlo::DdcMonteCarlo;
use crate::distributional_dp::DistributionalDp;
use crate::dynamical_bandits::DynamicalBandits;
use crate::intertemporal_choice::IntertemporalChoice;
use crate::mdp_examples::MdpExamples;
use crate::offline_rl::OfflineRl;
use crate::regret_preferences::RegretPreferences;
use crate::report::Report;
use crate::reservoir_ei::ReservoirEi;
use crate::reward_model_robustness::RewardModelRobustness;
use crate::risky_choice::RiskyChoice;
use crate::robust_mdp::RobustMdp;
use crate::rtb::Rtb;
use crate::self_correction::SelfCorrection;
use crate::spo::Spo;
use crate::ssorl::Ssorl;
use crate::swissmetro::Swissmetro;
use crate::tour::Tour;
use crate::utility_engineering::UtilityEngineering;

/// Receives a running study's progress messages.
pub trait Progress {
    /// The study entered a new stage of work.
    fn stage(&mut self, message: &str);
}

/// A progress sink that discards everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&mut self, _: &str) {}
}

/// Everything a study run is given besides its code.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where its configuration comes from.
    pub config: ConfigSources,
    /// The data folder, if one was found.
    pub data: Option<DataDir>,
    /// The models folder given on the command line (else `$CHOICELAB_MODELS`, then the user
    /// cache folder).
    pub models: Option<std::path::PathBuf>,
}

impl RunOptions {
    /// The quick configuration with `key=value` overrides, and no data folder.
    pub fn quick(overrides: &[&str]) -> Self {
        Self {
            config: ConfigSources {
                quick: true,
                overrides: overrides.iter().map(|s| s.to_string()).collect(),
                ..ConfigSources::default()
            },
            data: None,
            models: None,
        }
    }

    /// The same options reading data from `data`.
    pub fn with_data(self, data: DataDir) -> Self {
        Self {
            data: Some(data),
            ..self
        }
    }
}

/// A study: reproduces one paper's claim and reports on it.
pub trait Study: Sync {
    /// The name used on the command line.
    fn name(&self) -> &'static str;
    /// One line saying what it reproduces.
    fn description(&self) -> &'static str;
    /// Runs the study.
    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report>;
    /// Whether its configuration has a `chooser` section that asks a language model (the tour
    /// then runs it with `chooser=sim` where the local model is absent).
    fn asks_a_language_model(&self) -> bool {
        false
    }
}

/// Every study, in the order `choicelab studies` lists them.
pub fn studies() -> Vec<&'static dyn Study> {
    vec![
        &Tour,
        &MdpExamples,
        &UtilityEngineering,
        &SelfCorrection,
        &DailyDilemmas,
        &Swissmetro,
        &BusEngine,
        &DdcMonteCarlo,
        &DcppoStudy,
        &RegretPreferences,
        &RewardModelRobustness,
        &Spo,
        &DistributionalDp,
        &RobustMdp,
        &Rtb,
        &DynamicalBandits,
        &ReservoirEi,
        &RiskyChoice,
        &IntertemporalChoice,
        &ConjointAdversarial,
        &OfflineRl,
        &Ssorl,
    ]
}

/// The study called `name`, or an error listing the valid names.
pub fn find(name: &str) -> Result<&'static dyn Study> {
    let all = studies();
    all.iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|s| s.name()).collect();
            Error::parameter(
                "study",
                format!(
                    "unknown study `{name}`; valid studies: {}",
                    names.join(", ")
                ),
            )
        })
}
