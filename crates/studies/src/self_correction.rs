//! `self-correction`: iterative intrinsic self-correction of open answers against multiple
//! choice, on a generated task bank with exact gold (Rahmani et al. 2025, arXiv 2511.09381).

pub mod dialogue;
pub mod metrics;
mod report_parts;
pub mod simulated;
pub mod tasks;

use std::time::Instant;

use choicelab_agents::Sampling;
use choicelab_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::chooser_setup::{ChooserConfig, ChooserKind};
use crate::config::{to_toml, StudyConfig};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::Report;
use dialogue::{run_dialogues, Dialogue, Format, Schedule};
use metrics::{bootstrap_accuracy, curves, Curves};
use report_parts::{
    llm_notes, record_example, record_figures, record_llm_items, record_metrics, record_prompts,
    record_recovery, record_tables, recovery,
};
use simulated::{ChainRates, Planted, SimulatedSolver};
use tasks::{task_bank, Item};

/// The self-correction study.
pub struct SelfCorrection;

/// The language model's part of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmTier {
    /// Items asked, each in both formats.
    pub items: usize,
    /// Review rounds after the initial answer.
    pub rounds: usize,
    /// The most tokens an answer may have.
    pub max_tokens: usize,
    /// Sampling temperature (0: greedy, the paper's main curves).
    pub temperature: f64,
}

/// Configuration of `self-correction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seed of the task bank, the simulated solver, the bootstrap and the sampling.
    pub seed: u64,
    /// Items of the simulated tier, each in both formats.
    pub items: usize,
    /// Review rounds of the simulated tier after the initial answer (the paper's 5).
    pub rounds: usize,
    /// Bootstrap resamples of items for the accuracy intervals.
    pub bootstrap_draws: usize,
    /// A recovered rate passes when it is within this many binomial standard errors of the
    /// planted one.
    pub recovery_z: f64,
    /// The simulated solver's planted chains.
    pub planted: Planted,
    /// Who answers beside the simulated solver: `local`, `sim` (the solver only) or `openai`.
    pub chooser: ChooserConfig,
    /// The language model's items, rounds and sampling.
    pub llm: LlmTier,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            seed: 0,
            items: 2000,
            rounds: 5,
            bootstrap_draws: 1000,
            recovery_z: 4.0,
            planted: Planted {
                generation: ChainRates {
                    initial: 0.40,
                    correction: vec![0.55, 0.30, 0.10, 0.05, 0.03],
                    corruption: vec![0.02, 0.05, 0.10, 0.28, 0.35],
                },
                multiple_choice: ChainRates {
                    initial: 0.62,
                    correction: vec![0.05; 5],
                    corruption: vec![0.03; 5],
                },
            },
            chooser: ChooserConfig::default(),
            llm: LlmTier {
                items: 60,
                rounds: 5,
                max_tokens: 160,
                temperature: 0.0,
            },
        }
    }

    fn quick() -> Self {
        Config {
            items: 600,
            bootstrap_draws: 400,
            llm: LlmTier {
                items: 6,
                rounds: 2,
                max_tokens: 40,
                temperature: 0.0,
            },
            ..Self::paper()
        }
    }
}

impl Config {
    /// Checks the configuration once; errors name the key.
    fn check(&self) -> Result<()> {
        let positive = |key: &str, value: usize| {
            if value == 0 {
                Err(Error::parameter(key, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("items", self.items)?;
        positive("rounds", self.rounds)?;
        positive("bootstrap_draws", self.bootstrap_draws)?;
        positive("llm.items", self.llm.items)?;
        positive("llm.rounds", self.llm.rounds)?;
        positive("llm.max_tokens", self.llm.max_tokens)?;
        if !(self.llm.temperature.is_finite() && self.llm.temperature >= 0.0) {
            return Err(Error::parameter(
                "llm.temperature",
                format!("must be finite and ≥ 0, got {}", self.llm.temperature),
            ));
        }
        if !(self.recovery_z.is_finite() && self.recovery_z > 0.0) {
            return Err(Error::parameter("recovery_z", "must be positive"));
        }
        self.planted
            .generation
            .check("planted.generation", self.rounds)?;
        self.planted
            .multiple_choice
            .check("planted.multiple_choice", self.rounds)
    }
}

const CLAIM: &str = "Rahmani, Krishna, Wang, Naghiaei, Yilmaz (2025, arXiv 2511.09381) compare \
intrinsic self-correction in two output spaces: the model writes a free-form answer and revises \
it, or picks one of fixed options and re-picks, for an initial answer plus 5 rounds of a neutral \
\"review your previous response\" turn with the whole conversation in context. Their reading \
(shape, not numbers): open-ended answers improve fast in rounds 1–2, then plateau or decline as \
corrections dry up and corruptions grow; multiple-choice curves are flatter, with fewer \
corrections and fewer corruptions (the first pick persists). The paper's own numbers \
(DisambiguationQA, tinyTruthfulQA; SmolLM2-1.7B to Qwen2.5-14B and Gemini-2.0-Flash) were not \
read for this study and are not compared here.";

/// One tier's run: its items, dialogues per format and their curves.
pub struct TierRun {
    /// Who answered.
    pub label: String,
    /// The items asked.
    pub items: Vec<Item>,
    /// Review rounds after the initial answer.
    pub rounds: usize,
    /// Dialogues and curves, generation first.
    pub formats: Vec<FormatRun>,
    /// Seconds the tier took.
    pub seconds: f64,
}

/// One format's dialogues within a tier.
pub struct FormatRun {
    /// The format.
    pub format: Format,
    /// One dialogue per item.
    pub dialogues: Vec<Dialogue>,
    /// Their curves.
    pub curves: Curves,
    /// 95% bootstrap interval of the final round's accuracy.
    pub final_interval: (f64, f64),
}

/// How one tier is asked.
struct TierPlan<'a> {
    label: &'a str,
    rounds: usize,
    sampling: Sampling,
    schedule: Schedule,
}

fn run_tier(
    plan: &TierPlan,
    model: &mut dyn choicelab_agents::ChatModel,
    items: Vec<Item>,
    config: &Config,
    progress: &mut dyn Progress,
) -> Result<TierRun> {
    let &TierPlan {
        label,
        rounds,
        ref sampling,
        schedule,
    } = plan;
    let started = Instant::now();
    let mut formats = Vec::new();
    for format in Format::BOTH {
        let total = items.len();
        let dialogues = run_dialogues(
            model,
            &items,
            format,
            rounds,
            sampling,
            schedule,
            &mut |round, done| {
                if schedule == Schedule::RoundByRound || round == rounds {
                    progress.stage(&format!(
                        "self-correction: {label}, {}: round {round} of {rounds} ({done} of \
                         {total} items)",
                        format.label()
                    ));
                }
            },
        )?;
        let trajectories: Vec<_> = dialogues.iter().map(|d| d.rounds.clone()).collect();
        formats.push(FormatRun {
            format,
            curves: curves(&trajectories),
            final_interval: bootstrap_accuracy(
                &trajectories,
                rounds,
                config.bootstrap_draws,
                config.seed,
            ),
            dialogues,
        });
    }
    Ok(TierRun {
        label: label.into(),
        items,
        rounds,
        formats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

impl Study for SelfCorrection {
    fn name(&self) -> &'static str {
        "self-correction"
    }

    fn asks_a_language_model(&self) -> bool {
        true
    }

    fn description(&self) -> &'static str {
        "iterative self-correction, open generation vs multiple choice: accuracy and flips per round"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        config.check()?;
        let mut report = Report::new(
            self.name(),
            "Self-correction: open generation against multiple choice",
            CLAIM,
            to_toml(&config)?,
        );

        let sim_items = task_bank(config.items, config.seed);
        let mut solver = SimulatedSolver::new(&sim_items, config.planted.clone(), config.seed);
        let plan = TierPlan {
            label: "simulated solver",
            rounds: config.rounds,
            sampling: Sampling::greedy(16),
            schedule: Schedule::RoundByRound,
        };
        let sim = run_tier(&plan, &mut solver, sim_items, &config, progress)?;
        let checked = recovery(&sim, &config);

        let llm = match config.chooser.open(options.models.as_deref())? {
            None => None,
            Some(opened) => {
                let mut model = opened.model;
                let label = model.name();
                let schedule = if config.chooser.kind == ChooserKind::Local {
                    Schedule::ItemByItem
                } else {
                    Schedule::RoundByRound
                };
                let plan = TierPlan {
                    label: &label,
                    rounds: config.llm.rounds,
                    sampling: Sampling {
                        temperature: config.llm.temperature,
                        max_tokens: config.llm.max_tokens,
                        seed: config.seed,
                    },
                    schedule,
                };
                let items = task_bank(config.llm.items, config.seed);
                let run = run_tier(&plan, &mut model, items, &config, progress)?;
                Some((run, opened.description))
            }
        };

        // The headline names belong to the language model when it ran, else to the solver;
        // the solver is always also under `sim.`.
        record_metrics(&mut report, "sim.", &sim);
        record_tables(&mut report, &sim);
        match &llm {
            Some((run, description)) => {
                record_metrics(&mut report, "", run);
                record_tables(&mut report, run);
                report.text("primary_tier", "language model");
                report.text("llm.chooser", description.clone());
                report.number("llm.seconds", run.seconds);
            }
            None => {
                record_metrics(&mut report, "", &sim);
                report.text("primary_tier", "simulated");
            }
        }
        report.text(
            "llm.status",
            if llm.is_some() {
                "ran"
            } else {
                "not asked: chooser = sim"
            },
        );
        record_recovery(&mut report, &checked, &config);
        record_prompts(&mut report, &sim.items[0]);
        record_figures(&mut report, &sim, &config, llm.as_ref().map(|(run, _)| run))?;
        match &llm {
            Some((run, description)) => {
                record_llm_items(&mut report, run);
                record_example(&mut report, run);
                llm_notes(&mut report, run, description, &config);
            }
            None => report.notes.push(
                "chooser = sim: only the simulated solver ran, so the unprefixed metrics \
                 (`generation.accuracy.r<k>`, …) are the simulated tier's (the same numbers as \
                 `sim.…`). Run with `--set chooser=local` (SmolLM2) or `--set chooser=openai \
                 --set chooser.base_url=… --set chooser.model=…` to add a language model."
                    .into(),
            ),
        }
        report.notes.push(
            "Not built: the option distribution σ⁽ᵏ⁾ from logprobs (inertia, mass on gold, \
             entropy; the answer's first token here is reasoning, not the letter), a \
             rationale-before-pick variant of the multiple-choice rounds, temperature-1 \
             repeats for variance, chain-of-thought and self-consistency prompting, the \
             marketplace-derived questions, a hard/easy split, and the paper's datasets \
             (DisambiguationQA, tinyTruthfulQA) with their LLM judges. The paper's numbers \
             were not read, so no measured value is compared with them."
                .into(),
        );
        Ok(report)
    }
}
