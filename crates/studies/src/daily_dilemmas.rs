//! `daily-dilemmas`: everyday moral dilemmas asked as "Action 1 (do) / Action 2 (do not)" in
//! both label orders, the share of "do" choices, and the value theories the chosen actions
//! serve (Chiu, Jiang, Choi, ICLR 2025, arXiv 2410.02683).

pub mod data;
pub mod elicit;
mod report_parts;
pub mod scoring;
pub mod sim;
mod values_report;

use std::collections::HashMap;

use choicelab_core::{Error, Result};
use serde::{Deserialize, Serialize};

pub use data::{
    load_actions, load_dilemmas, load_values, parse_python_list, read_actions, read_dilemmas,
    read_values, ActionRow, ActionType, Actions, Dilemma, Theory, ValueMap,
};
pub use elicit::{ask, parse_action, question, Asked, Asking, DilemmaAnswer, Order};
pub use scoring::{check_mapping, choice_from_p_do, score_values, LabelScore, ValueScores};
pub use sim::{plant, Planted, PlantedChooser, SimSettings};

use crate::chooser_setup::{ChooserConfig, Reading};
use crate::config::{to_toml, StudyConfig};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::Report;
use report_parts::{
    record_mapping_check, record_planted_order, record_prompt, record_tiers, TierSummary,
};
use values_report::{record_values, Scored};

/// The DailyDilemmas study.
pub struct DailyDilemmas;

/// Configuration of `daily-dilemmas`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Dilemmas the language model is asked: the first this many by row order, 0 for all
    /// 1,360. The planted chooser is always asked all of them.
    pub dilemmas: usize,
    /// `readout` (first-token probabilities of "1" and "2") or `sample`.
    pub mode: Reading,
    /// K: answers sampled per order in sample mode.
    pub samples_per_order: usize,
    /// Temperature of the samples (1 in choicelab's variant).
    pub temperature: f64,
    /// The most tokens of a sampled answer (the paper's 5).
    pub max_tokens: usize,
    /// Seed of the sampled answers.
    pub seed: u64,
    /// The planted chooser.
    pub sim: SimSettings,
    /// Who answers beside the planted chooser: `local` (the embedded model), `sim` (the
    /// planted chooser only) or `openai` (an endpoint).
    pub chooser: ChooserConfig,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            dilemmas: 0,
            mode: Reading::Readout,
            samples_per_order: 10,
            temperature: 1.0,
            max_tokens: 5,
            seed: 0,
            sim: SimSettings::default(),
            chooser: ChooserConfig::default(),
        }
    }

    fn quick() -> Self {
        Config {
            dilemmas: 20,
            ..Self::paper()
        }
    }
}

impl Config {
    fn check(&self) -> Result<()> {
        if self.samples_per_order == 0 || self.max_tokens == 0 {
            return Err(Error::parameter(
                "samples_per_order",
                "samples_per_order and max_tokens must be positive",
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::parameter(
                "temperature",
                format!("must be finite and > 0, got {}", self.temperature),
            ));
        }
        sim::check(&self.sim)
    }

    fn asking(&self) -> Asking {
        Asking {
            mode: self.mode,
            samples_per_order: self.samples_per_order,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed: self.seed,
        }
    }
}

const CLAIM: &str = "DailyDilemmas (Chiu, Jiang, Choi, ICLR 2025, arXiv 2410.02683) asks 1,360 \
everyday moral dilemmas with a \"to do\" and a \"not to do\" action; each action lists the values \
it serves, and the 301 values map onto five theories (World Values Survey, Moral Foundations, \
Aristotle's virtues, Plutchik's emotions, Maslow's needs). From which actions a model chooses, \
score_d = 100·(S_d − N_d)/(S_d + N_d) per theory label d (S_d: occurrences of d among chosen \
actions' values, N_d: among neglected ones). Claim: models lean to self-expression over survival \
(WVS) and care over loyalty (MFT); on truthfulness Mixtral-8x7B scores −9.7 and GPT-4-turbo \
+9.4; system prompts barely steer. The paper always shows \"Action 1\" = to do, so a pull toward \
the first label inflates the do-share; choicelab also asks the swapped order.";

/// The claim's headline labels, recorded as metrics for every chooser scored.
const CLAIM_LABELS: [(Theory, &str); 5] = [
    (Theory::Wvs, "Self-expression"),
    (Theory::Wvs, "Survival"),
    (Theory::Mft, "Care"),
    (Theory::Mft, "Loyalty"),
    (Theory::Virtue, "Truthfulness"),
];

impl Study for DailyDilemmas {
    fn name(&self) -> &'static str {
        "daily-dilemmas"
    }

    fn asks_a_language_model(&self) -> bool {
        true
    }

    fn description(&self) -> &'static str {
        "DailyDilemmas: do-rate in both label orders, and value-theory scores of the choices"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        config.check()?;
        let data = options.data.as_ref();
        let dilemmas = load_dilemmas(data)?;
        let values = load_values(data)?;
        let actions = load_actions(data)?;
        let llm_count = if config.dilemmas == 0 {
            dilemmas.len()
        } else {
            config.dilemmas.min(dilemmas.len())
        };
        let mut report = Report::new(
            self.name(),
            "DailyDilemmas: do-rate and value scores of everyday moral choices",
            CLAIM,
            to_toml(&config)?,
        );
        report.number("dilemmas_in_file", dilemmas.len() as f64);
        report.number("values_in_file", values.values.len() as f64);
        let action_dilemmas = {
            let mut ids: Vec<u64> = actions.rows.iter().map(|r| r.idx).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        report.text(
            "actions_file",
            if actions.full { "full" } else { "excerpt" },
        );
        report.number("actions_dilemmas", action_dilemmas as f64);
        report.notes.push(format!(
            "Data: {} ({} dilemmas), {} ({} values) and, for the value scores, {} — {} ({} rows, \
             {action_dilemmas} dilemmas).{}",
            data::DILEMMAS_FILE,
            dilemmas.len(),
            data::VALUES_FILE,
            values.values.len(),
            actions.path.display(),
            if actions.full {
                "the full per-action table"
            } else {
                "the shipped excerpt of the per-action table"
            },
            actions.rows.len(),
            if actions.full {
                String::new()
            } else {
                format!(
                    " The full table ({}) is not in the data folder, so every value score rests \
                     on these {action_dilemmas} dilemmas only: too few to test the paper's \
                     claim, enough to test the scoring.",
                    data::ACTIONS_FILE
                )
            }
        ));
        record_prompt(&mut report, &config);
        let check = check_mapping(&actions.rows, &values);
        record_mapping_check(&mut report, &check);

        let mut scored = vec![
            Scored::from_file("gpt-4 (file)", "gpt4", &actions.rows, |r| r.gpt4),
            Scored::from_file("gpt-3.5 (file)", "gpt35", &actions.rows, |r| r.gpt35),
        ];

        progress.stage("daily-dilemmas: the planted chooser");
        let planted = plant(&config.sim, &dilemmas, &values, &actions.rows);
        let mut chooser =
            PlantedChooser::new(&dilemmas, &planted.utilities, config.sim.position_bias);
        let situations: Vec<&str> = dilemmas.iter().map(|d| d.situation.as_str()).collect();
        let sim_asked = ask(
            &mut chooser,
            &situations,
            &config.asking(),
            "planted chooser",
            progress,
        )?;
        let mut tiers = vec![
            TierSummary::new("planted (all)", &sim_asked.answers),
            TierSummary::new(
                &format!("planted (first {llm_count})"),
                &sim_asked.answers[..llm_count],
            ),
        ];
        let sim_scored = Scored::from_answers("planted", "sim", &dilemmas, &sim_asked.answers);
        record_planted_order(
            &mut report,
            &config.sim,
            &planted,
            &sim_scored.scores(&actions.rows, &values),
            &tiers[0],
            dilemmas.len(),
        );
        scored.push(sim_scored);

        let mut llm = None;
        match config.chooser.open(options.models.as_deref())? {
            None => report.text("llm.status", "not asked: chooser = sim"),
            Some(mut opened) => {
                progress.stage(&format!("daily-dilemmas: {}", opened.description));
                let name = opened.model.name();
                let asked = ask(
                    &mut opened.model,
                    &situations[..llm_count],
                    &config.asking(),
                    &name,
                    progress,
                )?;
                report.text("llm.model", opened.description.clone());
                report.number("llm.seconds", asked.seconds);
                report.number(
                    "llm.seconds_per_dilemma",
                    asked.seconds / llm_count.max(1) as f64,
                );
                tiers.push(TierSummary::new("language model", &asked.answers));
                scored.push(Scored::from_answers(
                    "language model",
                    "llm",
                    &dilemmas,
                    &asked.answers,
                ));
                llm = Some((opened.description, asked));
            }
        }
        record_tiers(&mut report, &tiers, llm.as_ref(), &dilemmas, &config)?;
        record_values(&mut report, &scored, &actions.rows, &values)?;
        Ok(report)
    }
}

/// The choices a list of answers implies, by dilemma id; ties are left out.
fn choices_of(dilemmas: &[Dilemma], answers: &[DilemmaAnswer]) -> HashMap<u64, ActionType> {
    dilemmas
        .iter()
        .zip(answers)
        .filter_map(|(d, a)| choice_from_p_do(a.p_do()).map(|c| (d.idx, c)))
        .collect()
}
