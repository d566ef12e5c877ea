//! A mock OpenAI-compatible server on loopback, answering lettered questions as a simulated
//! chooser with known utilities. Faults can be queued (429 with Retry-After, 500, a malformed
//! body, a slow answer), so the whole remote path is tested end to end without a network.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use choicelab_core::stream_rng;
use rand::RngExt;
use serde_json::{json, Value};

use crate::chat::{ChatModel, Message, Sampling};
use crate::protocol::LETTERS;

/// A fault the server answers the next request with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// 429 Too Many Requests with a Retry-After of this many seconds.
    TooManyRequests {
        /// The Retry-After header's value.
        retry_after_secs: f64,
    },
    /// 500 Internal Server Error.
    ServerError,
    /// 200 with a body that is not JSON.
    Malformed,
    /// The normal answer, after this many seconds.
    Slow {
        /// The delay.
        seconds: f64,
    },
}

/// How the mock chooses.
#[derive(Debug, Clone, Default)]
pub struct MockChooser {
    /// Utility of each option text; unknown texts have utility 0. P(option) ∝ exp(utility).
    pub utilities: HashMap<String, f64>,
    /// Whether `logprobs` requests get token logprobs (else the field is ignored, as some
    /// servers do).
    pub logprobs: bool,
}

/// Who writes the mock's answers.
enum Answerer {
    /// Lettered questions answered from option utilities.
    Chooser(MockChooser),
    /// Any chat model (a study's simulated chooser): every request is passed to it.
    Model(Mutex<Box<dyn ChatModel + Send>>),
}

struct State {
    answerer: Answerer,
    faults: Mutex<VecDeque<Fault>>,
    requests: AtomicU64,
    stop: AtomicBool,
}

/// A running mock server; it stops when dropped.
pub struct MockServer {
    address: SocketAddr,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server on a free loopback port.
    pub fn start(chooser: MockChooser) -> std::io::Result<Self> {
        Self::serve(Answerer::Chooser(chooser))
    }

    /// Starts a server whose answers `model` writes: each request's messages, temperature,
    /// token limit, `n` and seed are passed to it. It gives no logprobs (as servers that
    /// ignore the field do), so clients sample.
    pub fn backed_by(model: Box<dyn ChatModel + Send>) -> std::io::Result<Self> {
        Self::serve(Answerer::Model(Mutex::new(model)))
    }

    fn serve(answerer: Answerer) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let state = Arc::new(State {
            answerer,
            faults: Mutex::new(VecDeque::new()),
            requests: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let shared = Arc::clone(&state);
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(stream) = stream {
                    let state = Arc::clone(&shared);
                    std::thread::spawn(move || serve_connection(stream, &state));
                }
            }
        });
        Ok(Self {
            address,
            state,
            acceptor: Some(acceptor),
        })
    }

    /// The base URL to give a client (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// Queues faults: the next requests get them, in order, before normal answers resume.
    pub fn push_faults(&self, faults: &[Fault]) {
        lock(&self.state.faults).extend(faults.iter().copied());
    }

    /// Chat-completion requests received so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Serves requests on one kept-alive connection until the client closes it.
fn serve_connection(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    while !state.stop.load(Ordering::Relaxed) {
        let Some((path, body)) = read_request(&mut reader) else {
            return;
        };
        let (status, headers, payload) = if path.ends_with("/chat/completions") {
            state.requests.fetch_add(1, Ordering::Relaxed);
            respond(state, &body)
        } else {
            (
                404,
                Vec::new(),
                json!({"error": {"message": "not found"}}).to_string(),
            )
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            429 => "Too Many Requests",
            _ => "Internal Server Error",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            payload.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err()
            || writer.write_all(payload.as_bytes()).is_err()
            || writer.flush().is_err()
        {
            return;
        }
    }
}

/// Reads one HTTP/1.1 request: its path and body. None at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((path, body))
}

/// The status, extra headers and body answering one chat-completion request.
fn respond(state: &State, body: &[u8]) -> (u16, Vec<(&'static str, String)>, String) {
    let fault = lock(&state.faults).pop_front();
    match fault {
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            return (
                429,
                vec![("Retry-After", retry_after_secs.to_string())],
                json!({"error": {"message": "rate limited"}}).to_string(),
            )
        }
        Some(Fault::ServerError) => {
            return (
                500,
                Vec::new(),
                "{\"error\": {\"message\": \"boom\"}}".to_owned(),
            )
        }
        Some(Fault::Malformed) => return (200, Vec::new(), "{\"choices\": [".to_owned()),
        Some(Fault::Slow { seconds }) => std::thread::sleep(Duration::from_secs_f64(seconds)),
        None => {}
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return (
            400,
            Vec::new(),
            json!({"error": {"message": "body is not JSON"}}).to_string(),
        );
    };
    match &state.answerer {
        Answerer::Chooser(chooser) => (200, Vec::new(), completion(chooser, &request).to_string()),
        Answerer::Model(model) => match model_completion(&mut **lock(model), &request) {
            Ok(answer) => (200, Vec::new(), answer.to_string()),
            Err(message) => (
                400,
                Vec::new(),
                json!({"error": {"message": message}}).to_string(),
            ),
        },
    }
}

/// A chat completion written by `model`, or why the request cannot be answered.
fn model_completion(model: &mut dyn ChatModel, request: &Value) -> Result<Value, String> {
    let messages: Vec<Message> = serde_json::from_value(request["messages"].clone())
        .map_err(|e| format!("`messages`: {e}"))?;
    let number = |key: &str| request[key].as_f64();
    let sampling = Sampling {
        temperature: number("temperature").unwrap_or(1.0),
        max_tokens: request["max_tokens"].as_u64().unwrap_or(16) as usize,
        seed: request["seed"].as_u64().unwrap_or(0),
    };
    let n = request["n"].as_u64().unwrap_or(1).max(1) as usize;
    let answers = model
        .generate(&messages, &sampling, n)
        .map_err(|e| e.to_string())?;
    let choices: Vec<Value> = answers
        .iter()
        .enumerate()
        .map(|(index, answer)| {
            json!({
                "index": index,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
            })
        })
        .collect();
    Ok(json!({
        "id": "mock",
        "object": "chat.completion",
        "model": request["model"],
        "choices": choices,
        "usage": {
            "prompt_tokens": answers.first().map_or(0, |a| a.prompt_tokens),
            "completion_tokens": answers.iter().map(|a| a.completion_tokens).sum::<usize>(),
        },
    }))
}

/// A chat completion answering `request` as the simulated chooser.
fn completion(chooser: &MockChooser, request: &Value) -> Value {
    let question = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let options = lettered_options(question);
    let n = request["n"].as_u64().unwrap_or(1).max(1);
    let seed = request["seed"].as_u64().unwrap_or(0);
    let weights: Vec<f64> = options
        .iter()
        .map(|o| chooser.utilities.get(*o).copied().unwrap_or(0.0).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut rng = stream_rng(seed, 0);
    let choices: Vec<Value> = (0..n)
        .map(|index| {
            let text = if options.is_empty() {
                "I cannot tell.".to_owned()
            } else {
                let u: f64 = rng.random::<f64>() * total;
                let mut cumulative = 0.0;
                let pick = weights
                    .iter()
                    .position(|w| {
                        cumulative += w;
                        u < cumulative
                    })
                    .unwrap_or(options.len() - 1);
                LETTERS[pick].to_owned()
            };
            let mut choice = json!({
                "index": index,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            });
            if chooser.logprobs && request["logprobs"] == json!(true) && !options.is_empty() {
                let top: Vec<Value> = weights
                    .iter()
                    .zip(LETTERS)
                    .map(|(w, letter)| json!({"token": letter, "logprob": (w / total).ln()}))
                    .collect();
                choice["logprobs"] = json!({"content": [{"token": text, "top_logprobs": top}]});
            }
            choice
        })
        .collect();
    json!({
        "id": "mock",
        "object": "chat.completion",
        "model": request["model"],
        "choices": choices,
        "usage": {"prompt_tokens": question.len() / 4, "completion_tokens": n},
    })
}

/// The option texts of a lettered question ("A. text" lines, in letter order).
fn lettered_options(question: &str) -> Vec<&str> {
    let mut options = Vec::new();
    for line in question.lines() {
        let expected = LETTERS.get(options.len());
        match line.split_once(". ") {
            Some((letter, text)) if Some(&letter) == expected => options.push(text),
            _ => {}
        }
    }
    options
}
