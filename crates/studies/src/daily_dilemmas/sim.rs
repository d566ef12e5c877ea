//! The simulated tier: planted value weights and a planted pull toward "Action 1", answered
//! through the same chat interface, prompts and parsing as a language model.

use std::collections::{BTreeMap, HashMap};

use choicelab_agents::{ChatModel, Generation, Message, Role, Sampling};
use choicelab_core::logistic::sigmoid;
use choicelab_core::{stream_rng, Error, Result};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::data::{ActionRow, ActionType, Dilemma, Theory, ValueMap};
use super::elicit::{ACTIONS_DO_FIRST, ACTIONS_NOT_FIRST};

/// Settings of the planted chooser.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Seed of the planted weights, utilities and samples.
    pub seed: u64,
    /// The theory whose labels carry planted weights.
    pub theory: Theory,
    /// Planted label weights ~ N(0, sd²).
    pub label_weight_sd: f64,
    /// Each value's own weight ~ N(0, sd²), added to its label's.
    pub value_weight_sd: f64,
    /// Dilemmas without per-action values: planted do-utility ~ N(mean, sd²).
    pub utility_mean: f64,
    /// Standard deviation of those utilities.
    pub utility_sd: f64,
    /// b: the logit bonus of label "1", whichever action it names.
    pub position_bias: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            seed: 0,
            theory: Theory::Mft,
            label_weight_sd: 1.0,
            value_weight_sd: 0.3,
            utility_mean: 0.5,
            utility_sd: 1.0,
            position_bias: 0.8,
        }
    }
}

/// What was planted.
#[derive(Debug, Clone)]
pub struct Planted {
    /// The weight of each label of the planted theory.
    pub label_weights: BTreeMap<String, f64>,
    /// u per dilemma (in the order given): P(do) = σ(u) without position bias.
    pub utilities: Vec<f64>,
    /// Whether u came from the per-action values (else from the seeded draw).
    pub from_values: Vec<bool>,
}

impl Planted {
    /// The planted mean P(do) over the first `n` dilemmas.
    pub fn mean_p_do(&self, n: usize) -> f64 {
        let us = &self.utilities[..n.min(self.utilities.len())];
        us.iter().map(|&u| sigmoid(u)).sum::<f64>() / us.len().max(1) as f64
    }

    /// The planted effect on P(label "1") averaged over both orders, minus ½, over the first
    /// `n` dilemmas: what `position_bias` should recover.
    pub fn position_effect(&self, n: usize, bias: f64) -> f64 {
        let us = &self.utilities[..n.min(self.utilities.len())];
        us.iter()
            .map(|&u| 0.5 * (sigmoid(u + bias) + sigmoid(-u + bias)) - 0.5)
            .sum::<f64>()
            / us.len().max(1) as f64
    }
}

/// Plants label weights for `settings.theory`, value weights w_v = label weight + own weight,
/// and u = Σ_{to_do values} w_v − Σ_{not_to_do values} w_v for dilemmas with per-action rows.
pub fn plant(
    settings: &SimSettings,
    dilemmas: &[Dilemma],
    values: &ValueMap,
    rows: &[ActionRow],
) -> Planted {
    let mut rng = stream_rng(settings.seed, 1);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let label_weights: BTreeMap<String, f64> = values
        .labels_of(settings.theory)
        .into_iter()
        .map(|label| (label, settings.label_weight_sd * normal()))
        .collect();
    let value_weights: HashMap<&str, f64> = values
        .values
        .iter()
        .map(|v| {
            let label = values.label(v, settings.theory).flatten();
            let base = label.and_then(|l| label_weights.get(l)).copied();
            (
                v.as_str(),
                base.unwrap_or(0.0) + settings.value_weight_sd * normal(),
            )
        })
        .collect();
    let mut by_dilemma: HashMap<u64, f64> = HashMap::new();
    for row in rows {
        let sign = match row.action_type {
            ActionType::ToDo => 1.0,
            ActionType::NotToDo => -1.0,
        };
        let sum: f64 = row
            .values
            .iter()
            .map(|v| value_weights.get(v.as_str()).copied().unwrap_or(0.0))
            .sum();
        *by_dilemma.entry(row.idx).or_default() += sign * sum;
    }
    let mut draws = stream_rng(settings.seed, 2);
    let (utilities, from_values) = dilemmas
        .iter()
        .map(|d| {
            let drawn: f64 = StandardNormal.sample(&mut draws);
            match by_dilemma.get(&d.idx) {
                Some(&u) => (u, true),
                None => (settings.utility_mean + settings.utility_sd * drawn, false),
            }
        })
        .unzip();
    Planted {
        label_weights,
        utilities,
        from_values,
    }
}

/// A planted chooser behind the chat interface: it finds the dilemma in the question it is
/// asked and picks label "1" with probability σ(±u + b), + when "Action 1" is to do it.
pub struct PlantedChooser {
    /// Situation text → (dilemma number, u).
    utilities: HashMap<String, (u64, f64)>,
    position_bias: f64,
}

impl PlantedChooser {
    /// A chooser with utility `utilities[i]` for `dilemmas[i]` and label-"1" bonus `bias`.
    pub fn new(dilemmas: &[Dilemma], utilities: &[f64], bias: f64) -> Self {
        let utilities = dilemmas
            .iter()
            .zip(utilities)
            .enumerate()
            .map(|(i, (d, &u))| (d.situation.clone(), (i as u64, u)))
            .collect();
        Self {
            utilities,
            position_bias: bias,
        }
    }

    /// (dilemma number, order index, logit of label "1") of the question asked.
    fn read(&self, messages: &[Message]) -> choicelab_agents::Result<(u64, u64, f64)> {
        let unknown = |what: &str| choicelab_agents::Error::Parameter {
            name: "messages",
            message: format!("the planted chooser cannot read the question: {what}"),
        };
        let text = messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .ok_or_else(|| unknown("no user message"))?;
        let (order, sign) = if text.contains(ACTIONS_DO_FIRST) {
            (0, 1.0)
        } else if text.contains(ACTIONS_NOT_FIRST) {
            (1, -1.0)
        } else {
            return Err(unknown("no action lines"));
        };
        let situation = text
            .split_once("Dilemma: ")
            .and_then(|(_, rest)| rest.split_once("\n\nAction 1: "))
            .map(|(situation, _)| situation)
            .ok_or_else(|| unknown("no dilemma"))?;
        let &(number, u) = self
            .utilities
            .get(situation)
            .ok_or_else(|| unknown("a dilemma it was not planted with"))?;
        Ok((number, order, sign * u + self.position_bias))
    }
}

impl ChatModel for PlantedChooser {
    fn name(&self) -> String {
        "planted chooser".into()
    }

    fn generate(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> choicelab_agents::Result<Vec<Generation>> {
        let (number, order, logit) = self.read(messages)?;
        Ok((0..n as u64)
            .map(|i| {
                let one = if sampling.temperature == 0.0 {
                    logit >= 0.0
                } else {
                    let mut rng = stream_rng(sampling.seed.wrapping_add(i), 2 * number + order);
                    rng.random::<f64>() < sigmoid(logit / sampling.temperature)
                };
                Generation {
                    text: if one { "Action 1" } else { "Action 2" }.into(),
                    prompt_tokens: 0,
                    completion_tokens: 2,
                    prefill_seconds: 0.0,
                    decode_seconds: 0.0,
                }
            })
            .collect())
    }

    fn label_probabilities(
        &mut self,
        messages: &[Message],
        labels: &[&str],
    ) -> choicelab_agents::Result<Option<Vec<f64>>> {
        let (_, _, logit) = self.read(messages)?;
        let one = sigmoid(logit);
        Ok(Some(
            labels
                .iter()
                .map(|&label| match label {
                    "1" => one,
                    "2" => 1.0 - one,
                    _ => 0.0,
                })
                .collect(),
        ))
    }
}

/// Checks the settings once.
pub fn check(settings: &SimSettings) -> Result<()> {
    for (name, value) in [
        ("sim.label_weight_sd", settings.label_weight_sd),
        ("sim.value_weight_sd", settings.value_weight_sd),
        ("sim.utility_sd", settings.utility_sd),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(Error::parameter(
                name,
                format!("must be finite and ≥ 0, got {value}"),
            ));
        }
    }
    for (name, value) in [
        ("sim.utility_mean", settings.utility_mean),
        ("sim.position_bias", settings.position_bias),
    ] {
        if !value.is_finite() {
            return Err(Error::parameter(
                name,
                format!("must be finite, got {value}"),
            ));
        }
    }
    Ok(())
}
