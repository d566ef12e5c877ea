//! What every chat model speaks: messages, sampling settings, answers, and the `ChatModel`
//! trait the local model and remote endpoints both implement.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The asker.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role's name as chat templates and the OpenAI API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// How answers are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Softmax temperature; 0 is greedy (always the most probable token).
    pub temperature: f64,
    /// The most tokens an answer may have.
    pub max_tokens: usize,
    /// Seed of the draws: the same seed gives the same answers.
    pub seed: u64,
}

impl Sampling {
    /// Greedy decoding of at most `max_tokens` tokens.
    pub fn greedy(max_tokens: usize) -> Self {
        Self {
            temperature: 0.0,
            max_tokens,
            seed: 0,
        }
    }

    /// The settings of conversation `index` of a batch asking `n` answers of each: its
    /// seed moved past every earlier conversation's.
    pub fn for_conversation(&self, index: usize, n: usize) -> Self {
        Self {
            seed: self
                .seed
                .wrapping_add((index as u64).wrapping_mul(n as u64)),
            ..*self
        }
    }

    /// Checks the settings once, at the boundary.
    pub fn check(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(Error::parameter(
                "temperature",
                format!("must be finite and ≥ 0, got {}", self.temperature),
            ));
        }
        if self.max_tokens == 0 {
            return Err(Error::parameter("max_tokens", "must be positive"));
        }
        Ok(())
    }
}

/// One answer, with what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// The answer's text.
    pub text: String,
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens in the answer.
    pub completion_tokens: usize,
    /// Seconds spent reading the prompt (0 for a remote model, which does not say).
    pub prefill_seconds: f64,
    /// Seconds spent writing the answer (for a remote model: the whole request).
    pub decode_seconds: f64,
}

/// A chat model: the embedded local model, or an OpenAI-compatible endpoint.
pub trait ChatModel {
    /// A short name for reports (the model file or the endpoint's model).
    fn name(&self) -> String;

    /// `n` answers to `messages`, drawn with `sampling` (answer i uses seed `sampling.seed + i`).
    fn generate(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> Result<Vec<Generation>>;

    /// The probability of each label as the first token of the answer, read from one forward
    /// pass (the local model) or the endpoint's logprobs; None when the model cannot say.
    fn label_probabilities(
        &mut self,
        messages: &[Message],
        labels: &[&str],
    ) -> Result<Option<Vec<f64>>>;

    /// `n` answers to each conversation, in order; an endpoint asks them concurrently.
    /// Conversation i is drawn from seed `sampling.seed + i·n`, so no two answers of a batch
    /// share a seed.
    fn generate_many(
        &mut self,
        conversations: &[Vec<Message>],
        sampling: &Sampling,
        n: usize,
    ) -> Vec<Result<Vec<Generation>>> {
        conversations
            .iter()
            .enumerate()
            .map(|(i, messages)| self.generate(messages, &sampling.for_conversation(i, n), n))
            .collect()
    }

    /// [`ChatModel::label_probabilities`] of each conversation, in order; an endpoint asks
    /// them concurrently.
    fn label_probabilities_many(
        &mut self,
        conversations: &[Vec<Message>],
        labels: &[&str],
    ) -> Vec<Result<Option<Vec<f64>>>> {
        conversations
            .iter()
            .map(|messages| self.label_probabilities(messages, labels))
            .collect()
    }
}

impl<M: ChatModel + ?Sized> ChatModel for Box<M> {
    fn name(&self) -> String {
        (**self).name()
    }

    fn generate(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> Result<Vec<Generation>> {
        (**self).generate(messages, sampling, n)
    }

    fn label_probabilities(
        &mut self,
        messages: &[Message],
        labels: &[&str],
    ) -> Result<Option<Vec<f64>>> {
        (**self).label_probabilities(messages, labels)
    }

    fn generate_many(
        &mut self,
        conversations: &[Vec<Message>],
        sampling: &Sampling,
        n: usize,
    ) -> Vec<Result<Vec<Generation>>> {
        (**self).generate_many(conversations, sampling, n)
    }

    fn label_probabilities_many(
        &mut self,
        conversations: &[Vec<Message>],
        labels: &[&str],
    ) -> Vec<Result<Option<Vec<f64>>>> {
        (**self).label_probabilities_many(conversations, labels)
    }
}
