//! A chat model as a `Chooser`: options shown under letters, the answer read by sampling (an
//! unparseable answer counts half to each option) or by one forward pass over the letters.

use choicelab_choice::{ChoiceOption, Chooser};
use choicelab_core::{stream_rng, Rng, Seed};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::chat::{ChatModel, Message, Sampling};
use crate::error::Error;
use crate::protocol::{lettered_question, parse_letter, LETTERS};

/// How a chooser's answer is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AnswerMode {
    /// The probability of each letter as the answer's first token (one forward pass, or the
    /// endpoint's logprobs): P(A) without sampling.
    Readout,
    /// Sampled answers, parsed; successive questions get successive seeds from `seed`.
    Sample {
        /// Softmax temperature (0 = greedy).
        temperature: f64,
        /// The most tokens an answer may have.
        max_tokens: usize,
        /// First seed.
        seed: u64,
    },
}

/// What a chooser has been asked so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Answers drawn or read.
    pub answers: u64,
    /// Sampled answers that named no option (each counted half to each option).
    pub unparseable: u64,
    /// Whether a readout was asked of a model that gives no token probabilities, so the
    /// chooser fell back to sampled answers.
    pub fell_back_to_sampling: bool,
}

/// One pair asked in both orders: the probability of each option when it was shown first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OrderSplit {
    /// The first option's id.
    pub a: u32,
    /// The second option's id.
    pub b: u32,
    /// P(a chosen) with a shown first.
    pub a_shown_first: f64,
    /// P(b chosen) with b shown first.
    pub b_shown_first: f64,
}

impl OrderSplit {
    /// P(the option shown first is chosen), averaged over both orders: 0.5 without a bias.
    pub fn first_position_share(&self) -> f64 {
        0.5 * (self.a_shown_first + self.b_shown_first)
    }

    /// Whether the same position wins in both orders, so the answer follows the position and
    /// not the options (a share of exactly ½ in either order is no win).
    pub fn position_decides(&self) -> bool {
        let wins = |p: f64| p > 0.5;
        let loses = |p: f64| p < 0.5;
        (wins(self.a_shown_first) && wins(self.b_shown_first))
            || (loses(self.a_shown_first) && loses(self.b_shown_first))
    }
}

/// The sampling a readout falls back to when the model gives no token probabilities.
const FALLBACK_TEMPERATURE: f64 = 1.0;
const FALLBACK_MAX_TOKENS: usize = 16;

/// A chat model answering lettered choice questions.
pub struct LlmChooser<M> {
    model: M,
    system: Option<String>,
    preamble: String,
    mode: AnswerMode,
    seed: Seed,
    draws: u64,
    rng: Rng,
    tally: Tally,
    orders: Vec<OrderSplit>,
}

impl<M: ChatModel> LlmChooser<M> {
    /// A chooser asking `model` "`preamble` A. … B. … Answer with the letter only".
    /// `seed` drives the coin flips that settle unparseable single answers.
    pub fn new(model: M, preamble: impl Into<String>, mode: AnswerMode, seed: Seed) -> Self {
        Self {
            model,
            system: None,
            preamble: preamble.into(),
            mode,
            seed,
            draws: 0,
            rng: stream_rng(seed, 0),
            tally: Tally::default(),
            orders: Vec::new(),
        }
    }

    /// The same chooser with a system message before every question (without one, a local
    /// model's template may insert its own default).
    pub fn with_system_prompt(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// The conversation that asks to choose among `options`.
    pub fn question(&self, options: &[&str]) -> Vec<Message> {
        let mut messages: Vec<Message> = self.system.iter().map(Message::system).collect();
        messages.extend(lettered_question(&self.preamble, options));
        messages
    }

    /// What has been asked so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Every pair `preference_share` asked, split by order, in the order asked.
    pub fn orders(&self) -> &[OrderSplit] {
        &self.orders
    }

    /// The model answering.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The mode in use: a readout switches to sampling once the model shows it cannot read.
    pub fn mode(&self) -> AnswerMode {
        self.mode
    }

    fn fall_back_to_sampling(&mut self) {
        self.tally.fell_back_to_sampling = true;
        self.mode = AnswerMode::Sample {
            temperature: FALLBACK_TEMPERATURE,
            max_tokens: FALLBACK_MAX_TOKENS,
            seed: self.seed,
        };
    }

    /// The probability of each shown option (read in one pass), normalised over the letters;
    /// None (and sampling from now on) when the model gives no token probabilities.
    fn readout(&mut self, options: &[ChoiceOption]) -> choicelab_core::Result<Option<Vec<f64>>> {
        let texts: Vec<&str> = options.iter().map(|o| o.text.as_str()).collect();
        let messages = self.question(&texts);
        let Some(p) = self
            .model
            .label_probabilities(&messages, &LETTERS[..options.len()])?
        else {
            self.fall_back_to_sampling();
            return Ok(None);
        };
        self.tally.answers += 1;
        let total: f64 = p.iter().sum();
        if total.is_nan() || total <= 0.0 {
            return Ok(Some(vec![1.0 / options.len() as f64; options.len()]));
        }
        Ok(Some(p.iter().map(|q| q / total).collect()))
    }

    /// `n` sampled answers, each as Some(option index) or None (unparseable).
    fn sample(
        &mut self,
        options: &[ChoiceOption],
        n: usize,
        temperature: f64,
        max_tokens: usize,
        seed: u64,
    ) -> choicelab_core::Result<Vec<Option<usize>>> {
        let texts: Vec<&str> = options.iter().map(|o| o.text.as_str()).collect();
        let messages = self.question(&texts);
        let sampling = Sampling {
            temperature,
            max_tokens,
            seed: seed.wrapping_add(self.draws),
        };
        self.draws += n as u64;
        let answers = self.model.generate(&messages, &sampling, n)?;
        let picks: Vec<_> = answers
            .iter()
            .map(|a| parse_letter(&a.text, options.len()))
            .collect();
        self.tally.answers += picks.len() as u64;
        self.tally.unparseable += picks.iter().filter(|p| p.is_none()).count() as u64;
        Ok(picks)
    }

    fn check(options: &[ChoiceOption]) -> choicelab_core::Result<()> {
        if options.len() < 2 || options.len() > LETTERS.len() {
            return Err(Error::parameter(
                "options",
                format!("need 2 to {} options, got {}", LETTERS.len(), options.len()),
            )
            .into());
        }
        Ok(())
    }
}

impl<M: ChatModel> Chooser for LlmChooser<M> {
    fn choose(&mut self, options: &[ChoiceOption]) -> choicelab_core::Result<usize> {
        Self::check(options)?;
        match self.mode {
            AnswerMode::Readout => {
                let Some(p) = self.readout(options)? else {
                    return self.choose(options);
                };
                let u: f64 = self.rng.random();
                let mut cumulative = 0.0;
                Ok(p.iter()
                    .position(|q| {
                        cumulative += q;
                        u < cumulative
                    })
                    .unwrap_or(options.len() - 1))
            }
            AnswerMode::Sample {
                temperature,
                max_tokens,
                seed,
            } => match self.sample(options, 1, temperature, max_tokens, seed)?[0] {
                Some(pick) => Ok(pick),
                None => Ok(self.rng.random_range(0..options.len())),
            },
        }
    }

    fn pair_probability(
        &mut self,
        first: &ChoiceOption,
        second: &ChoiceOption,
    ) -> choicelab_core::Result<Option<f64>> {
        match self.mode {
            AnswerMode::Readout => Ok(self
                .readout(&[first.clone(), second.clone()])?
                .map(|p| p[0])),
            AnswerMode::Sample { .. } => Ok(None),
        }
    }

    fn preference_share(
        &mut self,
        a: &ChoiceOption,
        b: &ChoiceOption,
        samples: usize,
    ) -> choicelab_core::Result<f64> {
        let forward = [a.clone(), b.clone()];
        let backward = [b.clone(), a.clone()];
        match self.mode {
            AnswerMode::Readout => {
                let Some(a_first) = self.readout(&forward)? else {
                    return self.preference_share(a, b, samples);
                };
                let Some(b_first) = self.readout(&backward)? else {
                    return self.preference_share(a, b, samples);
                };
                self.orders.push(OrderSplit {
                    a: a.id,
                    b: b.id,
                    a_shown_first: a_first[0],
                    b_shown_first: b_first[0],
                });
                Ok(0.5 * (a_first[0] + 1.0 - b_first[0]))
            }
            AnswerMode::Sample {
                temperature,
                max_tokens,
                seed,
            } => {
                let samples = samples.max(1);
                // The share of answers naming the option shown first, per order.
                let mut first_wins = [0.0; 2];
                for (k, shown) in [&forward, &backward].into_iter().enumerate() {
                    for pick in self.sample(shown, samples, temperature, max_tokens, seed)? {
                        first_wins[k] += match pick {
                            Some(0) => 1.0,
                            Some(_) => 0.0,
                            None => 0.5,
                        };
                    }
                    first_wins[k] /= samples as f64;
                }
                self.orders.push(OrderSplit {
                    a: a.id,
                    b: b.id,
                    a_shown_first: first_wins[0],
                    b_shown_first: first_wins[1],
                });
                Ok(0.5 * (first_wins[0] + 1.0 - first_wins[1]))
            }
        }
    }
}
