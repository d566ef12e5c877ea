//! `tour`: the README's main job, every study's quick configuration in one report.

use choicelab_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::bus_engine::BusEngine;
use crate::chooser_setup::ChooserConfig;
use crate::config::ConfigSources;
use crate::config::{to_toml, StudyConfig};
use crate::conjoint_adversarial::ConjointAdversarial;
use crate::daily_dilemmas::DailyDilemmas;
use crate::dcppo::DcppoStudy;
use crate::ddc_monte_carlo::DdcMonteCarlo;
use crate::distributional_dp::DistributionalDp;
use crate::dynamical_bandits::DynamicalBandits;
use crate::intertemporal_choice::IntertemporalChoice;
use crate::mdp_examples::MdpExamples;
use crate::offline_rl::OfflineRl;
use crate::registry::{Progress, RunOptions, Study};
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
use crate::utility_engineering::UtilityEngineering;

/// The tour: runs each study's quick configuration.
pub struct Tour;

/// The tour's configuration: which parts to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Run `mdp-examples --quick`.
    pub mdp_examples: bool,
    /// Run `utility-engineering --quick` (with the local model when it is present).
    pub utility_engineering: bool,
    /// Run `self-correction --quick` (with the local model when it is present).
    pub self_correction: bool,
    /// Run `daily-dilemmas --quick` (needs the data folder; the local model when present).
    pub daily_dilemmas: bool,
    /// Run `swissmetro --quick` (needs the data folder).
    pub swissmetro: bool,
    /// Run `bus-engine --quick` (needs the data folder).
    pub bus_engine: bool,
    /// Run `ddc-monte-carlo --quick`.
    pub ddc_monte_carlo: bool,
    /// Run `dcppo --quick`.
    pub dcppo: bool,
    /// Run `regret-preferences --quick`.
    pub regret_preferences: bool,
    /// Run `reward-model-robustness --quick`.
    pub reward_model_robustness: bool,
    /// Run `spo --quick`.
    pub spo: bool,
    /// Run `distributional-dp --quick`.
    pub distributional_dp: bool,
    /// Run `robust-mdp --quick`.
    pub robust_mdp: bool,
    /// Run `rtb --quick` (needs the data folder).
    pub rtb: bool,
    /// Run `dynamical-bandits --quick` (needs the data folder).
    pub dynamical_bandits: bool,
    /// Run `reservoir-ei --quick`.
    pub reservoir_ei: bool,
    /// Run `risky-choice --quick` (needs the data folder).
    pub risky_choice: bool,
    /// Run `intertemporal-choice --quick`.
    pub intertemporal_choice: bool,
    /// Run `conjoint-adversarial --quick`.
    pub conjoint_adversarial: bool,
    /// Run `offline-rl --quick`.
    pub offline_rl: bool,
    /// Run `ssorl --quick`.
    pub ssorl: bool,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            mdp_examples: true,
            utility_engineering: true,
            self_correction: true,
            daily_dilemmas: true,
            swissmetro: true,
            bus_engine: true,
            ddc_monte_carlo: true,
            dcppo: true,
            regret_preferences: true,
            reward_model_robustness: true,
            spo: true,
            distributional_dp: true,
            robust_mdp: true,
            rtb: true,
            dynamical_bandits: true,
            reservoir_ei: true,
            risky_choice: true,
            intertemporal_choice: true,
            conjoint_adversarial: true,
            offline_rl: true,
            ssorl: true,
        }
    }
    fn quick() -> Self {
        Self::paper()
    }
}

impl Study for Tour {
    fn name(&self) -> &'static str {
        "tour"
    }

    fn description(&self) -> &'static str {
        "the quick configuration of every study, in one report"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        let mut report = Report::new(
            self.name(),
            "choicelab tour",
            "Each study's quick configuration reproduces its claim; the parts below say, each \
             with its own numbers, whether it did.",
            to_toml(&config)?,
        );
        match &options.data {
            Some(data) => report.text("data_folder", data.root().display().to_string()),
            None => report.notes.push(
                "No data folder was found (--data, $CHOICELAB_DATA, user cache): parts that \
                 need data are skipped and say so."
                    .into(),
            ),
        }
        let local_model = ChooserConfig::default().local_path(options.models.as_deref())?;
        let parts: [(bool, &dyn Study); 21] = [
            (config.mdp_examples, &MdpExamples),
            (config.utility_engineering, &UtilityEngineering),
            (config.self_correction, &SelfCorrection),
            (config.daily_dilemmas, &DailyDilemmas),
            (config.swissmetro, &Swissmetro),
            (config.bus_engine, &BusEngine),
            (config.ddc_monte_carlo, &DdcMonteCarlo),
            (config.dcppo, &DcppoStudy),
            (config.regret_preferences, &RegretPreferences),
            (config.reward_model_robustness, &RewardModelRobustness),
            (config.spo, &Spo),
            (config.distributional_dp, &DistributionalDp),
            (config.robust_mdp, &RobustMdp),
            (config.rtb, &Rtb),
            (config.dynamical_bandits, &DynamicalBandits),
            (config.reservoir_ei, &ReservoirEi),
            (config.risky_choice, &RiskyChoice),
            (config.intertemporal_choice, &IntertemporalChoice),
            (config.conjoint_adversarial, &ConjointAdversarial),
            (config.offline_rl, &OfflineRl),
            (config.ssorl, &Ssorl),
        ];
        if local_model.is_none() {
            let asking: Vec<&str> = parts
                .iter()
                .filter(|(_, study)| study.asks_a_language_model())
                .map(|(_, study)| study.name())
                .collect();
            report.notes.push(format!(
                "The local language model (SmolLM2-135M-Instruct) is not in the models folder: \
                 {} ran their simulated choosers only, and their local-model parts are skipped \
                 (`choicelab model fetch smollm2` brings it).",
                asking.join(", ")
            ));
        }
        for (enabled, study) in parts {
            if !enabled {
                continue;
            }
            progress.stage(study.name());
            let overrides = if local_model.is_none() && study.asks_a_language_model() {
                vec!["chooser=sim".to_owned()]
            } else {
                Vec::new()
            };
            let part_options = RunOptions {
                config: ConfigSources {
                    quick: true,
                    overrides,
                    ..ConfigSources::default()
                },
                data: options.data.clone(),
                models: options.models.clone(),
            };
            match study.run(&part_options, progress) {
                Ok(part) => report.absorb(study.name(), part),
                Err(Error::MissingData(why)) => {
                    report.text(format!("{}.status", study.name()), "skipped: no data");
                    report
                        .notes
                        .push(format!("{}: skipped: {why}", study.name()));
                }
                Err(other) => return Err(other),
            }
        }
        Ok(report)
    }
}
