//! A client for the OpenAI chat-completions API, as served by OpenAI, vLLM, llama.cpp's server
//! and Ollama: timeouts, retries with exponential backoff and jitter on 429 and 5xx (honouring
//! Retry-After), a concurrency limit for batches, token logprobs when the server gives them,
//! and an on-disk response cache.

mod cache;
pub mod mock;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::chat::{ChatModel, Generation, Message, Role, Sampling};
use crate::error::{Error, Result};
use cache::{cache_key, ResponseCache};

/// Where and how to reach an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Endpoint {
    /// The API's base URL, up to and including `/v1`.
    pub base_url: String,
    /// The model asked.
    pub model: String,
    /// The environment variable holding the API key; none is sent when it is unset.
    pub api_key_env: String,
    /// A system message put before every conversation that has none.
    pub system_prompt: Option<String>,
    /// Seconds one request may take, connection included.
    pub timeout_secs: f64,
    /// Retries after a 429, a 5xx or a timeout.
    pub max_retries: u32,
    /// The first retry's wait in seconds; it doubles with each retry.
    pub backoff_secs: f64,
    /// The longest wait between retries, Retry-After included.
    pub max_backoff_secs: f64,
    /// Requests in flight at once in a batch.
    pub concurrency: usize,
    /// Alternatives asked per token when reading label probabilities.
    pub top_logprobs: usize,
    /// The response cache (JSON lines); none when absent.
    pub cache: Option<std::path::PathBuf>,
}

impl Default for Endpoint {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8000/v1".to_owned(),
            model: "default".to_owned(),
            api_key_env: "OPENAI_API_KEY".to_owned(),
            system_prompt: None,
            timeout_secs: 60.0,
            max_retries: 5,
            backoff_secs: 0.5,
            max_backoff_secs: 30.0,
            concurrency: 8,
            top_logprobs: 20,
            cache: None,
        }
    }
}

impl Endpoint {
    /// Checks the settings once, at the boundary.
    pub fn check(&self) -> Result<()> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::parameter(
                "base_url",
                format!("`{}` is not an http(s) URL", self.base_url),
            ));
        }
        if self.model.trim().is_empty() {
            return Err(Error::parameter("model", "must not be empty"));
        }
        for (name, value) in [
            ("timeout_secs", self.timeout_secs),
            ("backoff_secs", self.backoff_secs),
            ("max_backoff_secs", self.max_backoff_secs),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::parameter(name, format!("must be ≥ 0, got {value}")));
            }
        }
        if self.timeout_secs == 0.0 {
            return Err(Error::parameter("timeout_secs", "must be positive"));
        }
        if self.concurrency == 0 {
            return Err(Error::parameter("concurrency", "must be positive"));
        }
        if !(1..=20).contains(&self.top_logprobs) {
            return Err(Error::parameter(
                "top_logprobs",
                format!(
                    "must be 1 to 20 (the API's range), got {}",
                    self.top_logprobs
                ),
            ));
        }
        Ok(())
    }
}

/// Counters of what a client did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientStats {
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Answers read from the cache instead of asked.
    pub cache_hits: u64,
    /// 200 responses whose body was not a chat completion (counted as unparseable answers).
    pub malformed: u64,
}

/// What one request brought back.
enum Reply {
    /// A chat-completion body.
    Body(Value),
    /// A 200 whose body was not a chat completion.
    Malformed,
    /// A client error (4xx other than 429): the request itself is refused.
    Refused { status: u16, body: String },
}

const LOGPROBS_UNKNOWN: u8 = 0;
const LOGPROBS_YES: u8 = 1;
const LOGPROBS_NO: u8 = 2;

/// A client of one endpoint and model.
#[derive(Debug)]
pub struct OpenAiClient {
    endpoint: Endpoint,
    url: String,
    agent: ureq::Agent,
    api_key: Option<String>,
    cache: Option<ResponseCache>,
    logprobs: AtomicU8,
    requests: AtomicU64,
    retries: AtomicU64,
    cache_hits: AtomicU64,
    malformed: AtomicU64,
}

impl OpenAiClient {
    /// A client for `endpoint` (checked), with its cache opened.
    pub fn new(endpoint: Endpoint) -> Result<Self> {
        endpoint.check()?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs_f64(endpoint.timeout_secs)))
            .max_idle_connections_per_host(endpoint.concurrency.max(1))
            .max_idle_connections(endpoint.concurrency.max(1) * 2)
            .user_agent(concat!("choicelab/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let cache = endpoint
            .cache
            .as_deref()
            .map(ResponseCache::open)
            .transpose()?;
        Ok(Self {
            url: format!(
                "{}/chat/completions",
                endpoint.base_url.trim_end_matches('/')
            ),
            api_key: std::env::var(&endpoint.api_key_env)
                .ok()
                .filter(|k| !k.is_empty()),
            endpoint,
            agent,
            cache,
            logprobs: AtomicU8::new(LOGPROBS_UNKNOWN),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
        })
    }

    /// What the client has done so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
        }
    }

    /// Whether the endpoint gives token logprobs: None until probed.
    pub fn supports_logprobs(&self) -> Option<bool> {
        match self.logprobs.load(Ordering::Relaxed) {
            LOGPROBS_YES => Some(true),
            LOGPROBS_NO => Some(false),
            _ => None,
        }
    }

    /// `n` answers to each conversation, `concurrency` requests in flight at once; answers
    /// come back in the order of `conversations`, conversation i drawn from seed
    /// `sampling.seed + i·n` (as [`ChatModel::generate_many`] promises).
    pub fn generate_batch(
        &self,
        conversations: &[Vec<Message>],
        sampling: &Sampling,
        n: usize,
    ) -> Vec<Result<Vec<Generation>>> {
        self.in_parallel(conversations, |i, messages| {
            self.generate_shared(messages, &sampling.for_conversation(i, n), n)
        })
    }

    /// Label probabilities of each conversation, `concurrency` requests in flight at once.
    pub fn read_labels_batch(
        &self,
        conversations: &[Vec<Message>],
        labels: &[&str],
    ) -> Vec<Result<Option<Vec<f64>>>> {
        // The first request probes for logprobs, so a server without them is asked once.
        let Some((first, rest)) = conversations.split_first() else {
            return Vec::new();
        };
        let mut answers = vec![self.read_labels(first, labels)];
        answers.extend(self.in_parallel(rest, |_, messages| self.read_labels(messages, labels)));
        answers
    }

    /// `ask` of every item (with its index) on up to `concurrency` threads, results in the
    /// items' order.
    fn in_parallel<T: Sync, R: Send>(
        &self,
        items: &[T],
        ask: impl Fn(usize, &T) -> R + Sync,
    ) -> Vec<R> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = self.endpoint.concurrency.min(items.len()).max(1);
        let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else {
                                break;
                            };
                            mine.push((i, ask(i, item)));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a batch worker panicked"))
                .collect()
        });
        let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
        for (i, result) in done.into_iter().flatten() {
            slots[i] = Some(result);
        }
        slots
            .into_iter()
            .map(|s| s.expect("every item was asked"))
            .collect()
    }

    /// `n` answers to one conversation (through `&self`, so batches can share the client).
    fn generate_shared(
        &self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> Result<Vec<Generation>> {
        sampling.check()?;
        let mut answers = Vec::with_capacity(n);
        // Some servers (llama.cpp) ignore `n`: ask again, with the next seeds, for the rest.
        while answers.len() < n {
            let seed = sampling.seed.wrapping_add(answers.len() as u64);
            let request = self.request(
                messages,
                sampling.temperature,
                sampling.max_tokens,
                n - answers.len(),
                seed,
                false,
            );
            let started = Instant::now();
            let reply = self.post(&request)?;
            let seconds = started.elapsed().as_secs_f64();
            let body = match reply {
                Reply::Body(body) => body,
                Reply::Malformed => {
                    answers.push(unparseable(seconds));
                    continue;
                }
                Reply::Refused { status, body } => {
                    return Err(Error::Endpoint {
                        url: self.url.clone(),
                        message: format!("HTTP {status}: {}", excerpt(&body)),
                    })
                }
            };
            let Some(choices) = body["choices"].as_array().filter(|c| !c.is_empty()) else {
                self.malformed.fetch_add(1, Ordering::Relaxed);
                answers.push(unparseable(seconds));
                continue;
            };
            let prompt_tokens = body["usage"]["prompt_tokens"].as_u64().unwrap_or(0) as usize;
            let completion_tokens =
                body["usage"]["completion_tokens"].as_u64().unwrap_or(0) as usize;
            for choice in choices.iter().take(n - answers.len()) {
                let text = choice["message"]["content"].as_str();
                if text.is_none() {
                    self.malformed.fetch_add(1, Ordering::Relaxed);
                }
                answers.push(Generation {
                    text: text.unwrap_or_default().to_owned(),
                    prompt_tokens,
                    completion_tokens: completion_tokens / choices.len(),
                    prefill_seconds: 0.0,
                    decode_seconds: seconds,
                });
            }
        }
        Ok(answers)
    }

    /// The request body, the endpoint's system prompt put first when the conversation has none.
    fn request(
        &self,
        messages: &[Message],
        temperature: f64,
        max_tokens: usize,
        n: usize,
        seed: u64,
        logprobs: bool,
    ) -> Value {
        let mut all = Vec::with_capacity(messages.len() + 1);
        if let Some(system) = &self.endpoint.system_prompt {
            if messages.first().is_none_or(|m| m.role != Role::System) {
                all.push(Message::system(system.clone()));
            }
        }
        all.extend_from_slice(messages);
        let mut body = json!({
            "model": self.endpoint.model,
            "messages": all,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "n": n,
            "seed": seed,
        });
        if logprobs {
            body["logprobs"] = json!(true);
            body["top_logprobs"] = json!(self.endpoint.top_logprobs);
        }
        body
    }

    /// Sends `request`, from the cache when it is there, retrying 429s, 5xx and timeouts.
    fn post(&self, request: &Value) -> Result<Reply> {
        let key = cache_key(&self.url, request);
        if let Some(body) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Reply::Body(body));
        }
        let payload = request.to_string();
        let mut last_problem = String::new();
        for attempt in 0..=self.endpoint.max_retries {
            if attempt > 0 {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut call = self.agent.post(&self.url).content_type("application/json");
            if let Some(key) = &self.api_key {
                call = call.header("Authorization", &format!("Bearer {key}"));
            }
            let wait = match call.send(payload.as_bytes()) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .filter(|s| s.is_finite() && *s >= 0.0);
                    let body = match response.body_mut().read_to_string() {
                        Ok(body) => body,
                        Err(error) => {
                            last_problem = format!("reading the body: {error}");
                            self.pause(attempt, None);
                            continue;
                        }
                    };
                    match status {
                        200..=299 => {
                            return match serde_json::from_str::<Value>(&body) {
                                Ok(value) if value.is_object() => {
                                    if let Some(cache) = &self.cache {
                                        cache.insert(&key, &self.url, request, &value)?;
                                    }
                                    Ok(Reply::Body(value))
                                }
                                _ => {
                                    self.malformed.fetch_add(1, Ordering::Relaxed);
                                    Ok(Reply::Malformed)
                                }
                            };
                        }
                        429 | 500..=599 => {
                            last_problem = format!("HTTP {status}: {}", excerpt(&body));
                            retry_after
                        }
                        _ => return Ok(Reply::Refused { status, body }),
                    }
                }
                Err(ureq::Error::Timeout(_)) => {
                    last_problem = format!("no answer within {} s", self.endpoint.timeout_secs);
                    None
                }
                Err(ureq::Error::ConnectionFailed) => return Err(self.refused()),
                Err(ureq::Error::Io(error))
                    if error.kind() == std::io::ErrorKind::ConnectionRefused =>
                {
                    return Err(self.refused())
                }
                Err(error) => {
                    last_problem = error.to_string();
                    None
                }
            };
            if attempt < self.endpoint.max_retries {
                self.pause(attempt, wait);
            }
        }
        Err(Error::Endpoint {
            url: self.url.clone(),
            message: format!(
                "gave up after {} attempts; last: {last_problem}",
                self.endpoint.max_retries + 1
            ),
        })
    }

    fn refused(&self) -> Error {
        Error::Endpoint {
            url: self.url.clone(),
            message: "connection refused: is a server listening there?".to_owned(),
        }
    }

    /// Waits before retry `attempt + 1`: Retry-After when the server gave one, else the
    /// backoff doubled per attempt with jitter in [½, 1]; never longer than the cap.
    fn pause(&self, attempt: u32, retry_after: Option<f64>) {
        let cap = self.endpoint.max_backoff_secs;
        let seconds = retry_after.unwrap_or_else(|| {
            let full = self.endpoint.backoff_secs * 2f64.powi(attempt.min(30) as i32);
            full.min(cap) * (0.5 + 0.5 * jitter())
        });
        std::thread::sleep(Duration::from_secs_f64(seconds.min(cap)));
    }

    /// Probabilities of `labels` as the first answer token, from the endpoint's top logprobs;
    /// None when the endpoint gives no logprobs (probed once, then remembered).
    fn read_labels(&self, messages: &[Message], labels: &[&str]) -> Result<Option<Vec<f64>>> {
        if self.supports_logprobs() == Some(false) {
            return Ok(None);
        }
        let request = self.request(messages, 0.0, 1, 1, 0, true);
        let body = match self.post(&request)? {
            Reply::Body(body) => body,
            Reply::Malformed => return Ok(None),
            Reply::Refused { .. } => {
                self.logprobs.store(LOGPROBS_NO, Ordering::Relaxed);
                return Ok(None);
            }
        };
        let Some(top) = body["choices"][0]["logprobs"]["content"][0]["top_logprobs"].as_array()
        else {
            self.logprobs.store(LOGPROBS_NO, Ordering::Relaxed);
            return Ok(None);
        };
        self.logprobs.store(LOGPROBS_YES, Ordering::Relaxed);
        let mut probabilities = vec![0.0; labels.len()];
        for alternative in top {
            let (Some(token), Some(logprob)) = (
                alternative["token"].as_str(),
                alternative["logprob"].as_f64(),
            ) else {
                continue;
            };
            // "A" and " A" are the same answer.
            if let Some(k) = labels.iter().position(|l| *l == token.trim()) {
                probabilities[k] += logprob.exp();
            }
        }
        Ok(Some(probabilities))
    }
}

/// An answer that could not be read, counted as unparseable.
fn unparseable(seconds: f64) -> Generation {
    Generation {
        text: String::new(),
        prompt_tokens: 0,
        completion_tokens: 0,
        prefill_seconds: 0.0,
        decode_seconds: seconds,
    }
}

/// The start of a response body, for error messages.
fn excerpt(body: &str) -> String {
    let mut cut: String = body.chars().take(200).collect();
    if cut.len() < body.len() {
        cut.push('…');
    }
    cut
}

/// A number in [0, 1) that differs between calls; only retry timing depends on it.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

impl ChatModel for OpenAiClient {
    fn name(&self) -> String {
        format!("{} at {}", self.endpoint.model, self.endpoint.base_url)
    }

    fn generate(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> Result<Vec<Generation>> {
        self.generate_shared(messages, sampling, n)
    }

    fn label_probabilities(
        &mut self,
        messages: &[Message],
        labels: &[&str],
    ) -> Result<Option<Vec<f64>>> {
        self.read_labels(messages, labels)
    }

    fn generate_many(
        &mut self,
        conversations: &[Vec<Message>],
        sampling: &Sampling,
        n: usize,
    ) -> Vec<Result<Vec<Generation>>> {
        self.generate_batch(conversations, sampling, n)
    }

    fn label_probabilities_many(
        &mut self,
        conversations: &[Vec<Message>],
        labels: &[&str],
    ) -> Vec<Result<Option<Vec<f64>>>> {
        self.read_labels_batch(conversations, labels)
    }
}
