//! The embedded local model: a llama-family GGUF file run on the CPU, its tokenizer and chat
//! template read from the same file.
//!
//! candle reads the file; the forward pass is ours (`llama.rs`). candle-transformers'
//! quantized llama quantizes every activation to 8 bits before each product. Measured on
//! SmolLM2-135M-Instruct Q4_1 against a float64 reference of the same weights, that moves the
//! first-token probabilities of "What is the capital of France?" from ("The" 0.152, "L"
//! 0.140) to ("L" 0.151, "The" 0.114): the answer turns into French nonsense, and every
//! probability readout a chooser reports is off by as much. Keeping activations in f32 gives
//! the reference's probabilities, and is faster on this model (no SIMD kernel for Q4_1 there).
//!
//! Prompts that share a beginning share work: the attention cache of the longest common
//! prefix with the previous prompt is kept, so the questions of a study (same system prompt,
//! same framing) pay only for the tokens that differ.

mod llama;
mod template;
mod tokenizer;
mod weights;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::quantized::gguf_file;
use choicelab_core::stream_rng;
use rand::RngExt;

use crate::chat::{ChatModel, Generation, Message, Sampling};
use crate::error::{Error, Result};
use llama::{KvCache, Llama};
use template::ChatTemplate;

/// A GGUF chat model loaded for CPU inference.
pub struct LocalModel {
    path: PathBuf,
    network: Llama,
    tokenizer: tokenizers::Tokenizer,
    template: ChatTemplate,
    stop_tokens: Vec<u32>,
    /// The attention cache and the tokens it holds.
    cache: KvCache,
    cached_tokens: Vec<u32>,
    pool: rayon::ThreadPool,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("path", &self.path)
            .field("threads", &self.pool.current_num_threads())
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads a llama-family GGUF file with its tokenizer and chat template, to run on
    /// `threads` threads (more than the machine's cores only slows it down).
    pub fn load(path: &Path, threads: usize) -> Result<Self> {
        if threads == 0 {
            return Err(Error::parameter("threads", "must be positive"));
        }
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut magic = [0u8; 4];
        if file.read_exact(&mut magic).is_err() || &magic != b"GGUF" {
            return Err(Error::model(
                path,
                format!(
                    "not a GGUF file (it starts with \"{}\", not \"GGUF\")",
                    magic.escape_ascii()
                ),
            ));
        }
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let content = gguf_file::Content::read(&mut file)
            .map_err(|e| Error::model(path, format!("unreadable GGUF: {e}")))?;
        let metadata_str = |key: &str| {
            content
                .metadata
                .get(key)
                .and_then(|v| v.to_string().ok())
                .cloned()
        };
        let architecture = metadata_str("general.architecture").unwrap_or_default();
        if architecture != "llama" {
            return Err(Error::model(
                path,
                format!("architecture `{architecture}` is not supported (llama only)"),
            ));
        }
        let tokenizer =
            tokenizer::gguf_tokenizer(&content).map_err(|e| Error::model(path, e.to_string()))?;
        let token_text = |key: &str| -> Option<String> {
            let id = content.metadata.get(key)?.to_u32().ok()?;
            tokenizer.id_to_token(id)
        };
        let template_source = metadata_str("tokenizer.chat_template").ok_or_else(|| {
            Error::model(
                path,
                "no chat template (`tokenizer.chat_template`) in the file",
            )
        })?;
        let template = ChatTemplate::new(
            &template_source,
            token_text("tokenizer.ggml.bos_token_id").unwrap_or_default(),
            token_text("tokenizer.ggml.eos_token_id").unwrap_or_default(),
        )
        .map_err(|e| Error::model(path, e.to_string()))?;
        let mut stop_tokens: Vec<u32> = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>"]
            .iter()
            .filter_map(|t| tokenizer.token_to_id(t))
            .collect();
        if let Some(eos) = content
            .metadata
            .get("tokenizer.ggml.eos_token_id")
            .and_then(|v| v.to_u32().ok())
        {
            stop_tokens.push(eos);
        }
        let network = Llama::load(&content, &mut file)
            .map_err(|e| Error::model(path, format!("loading the weights: {e}")))?;
        if network.vocabulary() < tokenizer.get_vocab_size(true) {
            return Err(Error::model(
                path,
                format!(
                    "the tokenizer has {} tokens but the network only {}",
                    tokenizer.get_vocab_size(true),
                    network.vocabulary()
                ),
            ));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("choicelab-llm-{i}"))
            .build()
            .map_err(|e| Error::parameter("threads", e.to_string()))?;
        let cache = KvCache::new(network.config());
        Ok(Self {
            path: path.to_path_buf(),
            network,
            tokenizer,
            template,
            stop_tokens,
            cache,
            cached_tokens: Vec::new(),
            pool,
        })
    }

    /// The prompt text of `messages` under the model's chat template, the assistant's turn
    /// opened at the end.
    pub fn prompt(&self, messages: &[Message]) -> Result<String> {
        self.template.render(messages, true)
    }

    /// The token ids of `text` (special tokens recognised).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        tokenizer::encode(&self.tokenizer, text)
    }

    /// The text of token ids, special tokens included.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        tokenizer::decode(&self.tokenizer, ids)
    }

    /// One answer to `messages`.
    pub fn generate_one(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
    ) -> Result<Generation> {
        sampling.check()?;
        let prompt = self.encode(&self.prompt(messages)?)?;
        self.check_length(prompt.len(), sampling.max_tokens)?;
        let started = Instant::now();
        let mut logits = self.prefill(&prompt)?;
        let prefill_seconds = started.elapsed().as_secs_f64();
        let mut rng = stream_rng(sampling.seed, 0);
        let started = Instant::now();
        let mut answer = Vec::new();
        loop {
            let next = if sampling.temperature == 0.0 {
                argmax(&logits)
            } else {
                let u: f64 = rng.random();
                draw(&logits, sampling.temperature, u)
            };
            if self.stop_tokens.contains(&next) {
                break;
            }
            answer.push(next);
            if answer.len() == sampling.max_tokens {
                break;
            }
            logits = self.feed(&[next])?;
        }
        Ok(Generation {
            text: self.decode(&answer)?,
            prompt_tokens: prompt.len(),
            completion_tokens: answer.len(),
            prefill_seconds,
            decode_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The probability of each token id as the first token of the answer to `messages`.
    pub fn first_token_probabilities(
        &mut self,
        messages: &[Message],
        tokens: &[u32],
    ) -> Result<Vec<f64>> {
        let prompt = self.encode(&self.prompt(messages)?)?;
        self.check_length(prompt.len(), 1)?;
        let logits = self.prefill(&prompt)?;
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
        tokens
            .iter()
            .map(|&t| {
                logits
                    .get(t as usize)
                    .map(|&l| f64::from(l - max).exp() / total)
                    .ok_or_else(|| {
                        Error::parameter("tokens", format!("token {t} is outside the vocabulary"))
                    })
            })
            .collect()
    }

    fn check_length(&self, prompt: usize, answer: usize) -> Result<()> {
        if prompt == 0 {
            return Err(Error::parameter("messages", "the prompt is empty"));
        }
        let context = self.network.config().context;
        if prompt + answer > context {
            return Err(Error::parameter(
                "messages",
                format!(
                    "{prompt} prompt tokens + {answer} answer tokens exceed the context of {context}"
                ),
            ));
        }
        Ok(())
    }

    /// Runs `prompt` through the network, keeping the cached positions of the longest prefix
    /// it shares with what the cache holds; returns the logits of the next token.
    fn prefill(&mut self, prompt: &[u32]) -> Result<Vec<f32>> {
        // At least the last token is always run, since its logits are the answer.
        let shared = self
            .cached_tokens
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt.len() - 1);
        self.cache.truncate(shared, self.network.config());
        self.cached_tokens.truncate(shared);
        self.feed(&prompt[shared..])
    }

    /// Feeds `tokens` after the cached positions; returns the logits of the next token.
    fn feed(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let (network, cache) = (&self.network, &mut self.cache);
        let logits = self.pool.install(|| network.forward(tokens, cache))?;
        self.cached_tokens.extend_from_slice(tokens);
        debug_assert_eq!(self.cached_tokens.len(), self.cache.len());
        Ok(logits)
    }
}

/// The most probable token (the first one on ties).
fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// The token whose cumulative probability under softmax(logits / temperature) first exceeds
/// `u` ∈ [0, 1).
fn draw(logits: &[f32], temperature: f64, u: f64) -> u32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f64> = logits
        .iter()
        .map(|&l| (f64::from(l - max) / temperature).exp())
        .collect();
    let target = u * weights.iter().sum::<f64>();
    let mut cumulative = 0.0;
    for (i, w) in weights.iter().enumerate() {
        cumulative += w;
        if cumulative > target {
            return i as u32;
        }
    }
    argmax(logits)
}

impl ChatModel for LocalModel {
    fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    fn generate(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> Result<Vec<Generation>> {
        (0..n as u64)
            .map(|i| {
                let draw = Sampling {
                    seed: sampling.seed.wrapping_add(i),
                    ..*sampling
                };
                self.generate_one(messages, &draw)
            })
            .collect()
    }

    fn label_probabilities(
        &mut self,
        messages: &[Message],
        labels: &[&str],
    ) -> Result<Option<Vec<f64>>> {
        let mut tokens = Vec::with_capacity(labels.len());
        for label in labels {
            match self.encode(label)?.as_slice() {
                [token] => tokens.push(*token),
                other => {
                    return Err(Error::parameter(
                        "labels",
                        format!(
                        "label `{label}` is {} tokens for this model; a one-pass readout needs one",
                        other.len()
                    ),
                    ))
                }
            }
        }
        self.first_token_probabilities(messages, &tokens).map(Some)
    }
}
