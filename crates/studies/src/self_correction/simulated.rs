//! The simulated solver: a `ChatModel` whose correctness follows a two-state Markov chain per
//! format with planted rates, writing real answer text so the same prompts, history and
//! judging run for it as for a language model.

use std::collections::HashMap;

use choicelab_agents::protocol::LETTERS;
use choicelab_agents::{ChatModel, Generation, Message, Role, Sampling};
use choicelab_core::{stream_rng, Error};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::dialogue::{judge, question_text, Format};
use super::tasks::Item;

/// The planted chain of one format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRates {
    /// P(correct) in round 0.
    pub initial: f64,
    /// P(correct_k | wrong_{k−1}) for rounds k = 1, 2, …
    pub correction: Vec<f64>,
    /// P(wrong_k | correct_{k−1}) for rounds k = 1, 2, …
    pub corruption: Vec<f64>,
}

impl ChainRates {
    /// Checks that every rate is a probability and that `rounds` rounds are planted; errors
    /// name the configuration key under `key`.
    pub fn check(&self, key: &str, rounds: usize) -> choicelab_core::Result<()> {
        let probability = |name: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::parameter(
                    format!("{key}.{name}"),
                    format!("must be a probability in [0, 1], got {p}"),
                ))
            }
        };
        probability("initial", self.initial)?;
        for (name, rates) in [
            ("correction", &self.correction),
            ("corruption", &self.corruption),
        ] {
            if rates.len() < rounds {
                return Err(Error::parameter(
                    format!("{key}.{name}"),
                    format!("plants {} rounds, `rounds` asks for {rounds}", rates.len()),
                ));
            }
            for &p in rates {
                probability(name, p)?;
            }
        }
        Ok(())
    }
}

/// The planted chains of both formats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Planted {
    /// Open generation: high early correction, rising corruption.
    pub generation: ChainRates,
    /// Multiple choice: low correction and low corruption.
    pub multiple_choice: ChainRates,
}

impl Planted {
    /// The chain of `format`.
    pub fn of(&self, format: Format) -> &ChainRates {
        match format {
            Format::Generation => &self.generation,
            Format::MultipleChoice => &self.multiple_choice,
        }
    }
}

/// A solver that knows every item's gold and is right with the planted probabilities, given
/// whether its previous answer (read back from the history with the study's judge) was right.
/// Staying wrong, its multiple-choice pick persists while its open answer is drawn afresh.
pub struct SimulatedSolver {
    items: Vec<Item>,
    by_question: HashMap<String, (usize, Format)>,
    planted: Planted,
    seed: u64,
}

impl SimulatedSolver {
    /// A solver for `items` with the planted chains; `seed` fixes every draw.
    pub fn new(items: &[Item], planted: Planted, seed: u64) -> Self {
        let by_question = items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| Format::BOTH.map(|f| (question_text(item, f), (i, f))))
            .collect();
        Self {
            items: items.to_vec(),
            by_question,
            planted,
            seed,
        }
    }

    fn answer(&self, messages: &[Message], draw: usize) -> choicelab_agents::Result<String> {
        let unknown = || choicelab_agents::Error::Parameter {
            name: "messages",
            message: "the simulated solver was asked a question outside its task bank".into(),
        };
        let question = messages
            .iter()
            .find(|m| m.role == Role::User)
            .ok_or_else(unknown)?;
        let &(index, format) = self
            .by_question
            .get(&question.content)
            .ok_or_else(unknown)?;
        let item = &self.items[index];
        let previous: Vec<&Message> = messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
            .collect();
        let round = previous.len();
        let rates = self.planted.of(format);
        let last = previous.last().map(|m| judge(item, format, &m.content));
        let p_correct = match &last {
            None => rates.initial,
            Some(judged) => {
                let at = round - 1;
                let rate = if judged.correct {
                    rates.corruption.get(at).map(|p| 1.0 - p)
                } else {
                    rates.correction.get(at).copied()
                };
                rate.ok_or_else(|| choicelab_agents::Error::Parameter {
                    name: "rounds",
                    message: format!("no planted rate for round {round}"),
                })?
            }
        };
        let stream = ((index as u64 * 2 + u64::from(format == Format::MultipleChoice)) << 24)
            | ((round as u64) << 8)
            | draw as u64;
        let mut rng = stream_rng(self.seed, stream);
        let correct = rng.random::<f64>() < p_correct;
        let wrong: Vec<usize> = (0..item.options.len())
            .filter(|&i| i != item.gold_index)
            .collect();
        let pick = if correct {
            item.gold_index
        } else {
            let stays_wrong = last.as_ref().is_some_and(|j| !j.correct && j.parsed);
            let kept = last
                .as_ref()
                .and_then(|j| j.answer.as_ref())
                .and_then(|a| item.options.iter().position(|o| o == a));
            match (format, stays_wrong, kept) {
                (Format::MultipleChoice, true, Some(kept)) => kept,
                _ => wrong[rng.random_range(0..wrong.len())],
            }
        };
        Ok(match format {
            Format::Generation => format!(
                "Working it through.\nThe final answer is: {}",
                item.options[pick]
            ),
            Format::MultipleChoice => format!(
                "Weighing the options.\nThe final answer is: {}",
                LETTERS[pick]
            ),
        })
    }
}

impl ChatModel for SimulatedSolver {
    fn name(&self) -> String {
        "simulated two-state solver".into()
    }

    fn generate(
        &mut self,
        messages: &[Message],
        _sampling: &Sampling,
        n: usize,
    ) -> choicelab_agents::Result<Vec<Generation>> {
        (0..n)
            .map(|draw| {
                Ok(Generation {
                    text: self.answer(messages, draw)?,
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    prefill_seconds: 0.0,
                    decode_seconds: 0.0,
                })
            })
            .collect()
    }

    fn label_probabilities(
        &mut self,
        _messages: &[Message],
        _labels: &[&str],
    ) -> choicelab_agents::Result<Option<Vec<f64>>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::self_correction::dialogue::{run_dialogues, Schedule};
    use crate::self_correction::tasks::task_bank;

    fn certain() -> Planted {
        let chain = |initial| ChainRates {
            initial,
            correction: vec![1.0],
            corruption: vec![0.0],
        };
        Planted {
            generation: chain(0.0),
            multiple_choice: chain(1.0),
        }
    }

    #[test]
    fn a_certain_chain_writes_judgeable_answers() {
        let items = task_bank(8, 1);
        let mut solver = SimulatedSolver::new(&items, certain(), 5);
        for format in Format::BOTH {
            let dialogues = run_dialogues(
                &mut solver,
                &items,
                format,
                1,
                &Sampling::greedy(8),
                Schedule::RoundByRound,
                &mut |_, _| {},
            )
            .unwrap();
            for dialogue in &dialogues {
                let right: Vec<bool> = dialogue.rounds.iter().map(|j| j.correct).collect();
                let expected = match format {
                    Format::Generation => [false, true],
                    Format::MultipleChoice => [true, true],
                };
                assert_eq!(right, expected, "{:?}", dialogue.messages);
                assert!(dialogue.rounds.iter().all(|j| j.parsed));
                assert_eq!(
                    dialogue.messages.len(),
                    5,
                    "system, question, answer, review, answer"
                );
            }
        }
        let stranger = [Message::user("What is the capital of Mars?")];
        assert!(solver.generate(&stranger, &Sampling::greedy(8), 1).is_err());
    }
}
