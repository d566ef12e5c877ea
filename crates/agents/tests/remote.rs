//! The remote path end to end against the loopback mock server: logprobs and their absence,
//! retries, malformed bodies, timeouts, refused connections and the response cache.

use std::collections::HashMap;
use std::time::Instant;

use choicelab_agents::protocol::lettered_question;
use choicelab_agents::remote::mock::{Fault, MockChooser, MockServer};
use choicelab_agents::{
    AnswerMode, ChatModel, Endpoint, LlmChooser, Message, OpenAiClient, Sampling,
};
use choicelab_choice::{ChoiceOption, Chooser};

fn tea_over_coffee(logprobs: bool) -> MockServer {
    let utilities = HashMap::from([("tea".to_owned(), 1.0), ("coffee".to_owned(), 0.0)]);
    MockServer::start(MockChooser {
        utilities,
        logprobs,
    })
    .unwrap()
}

fn client(server: &MockServer, change: impl FnOnce(&mut Endpoint)) -> OpenAiClient {
    let mut endpoint = Endpoint {
        base_url: server.base_url(),
        model: "mock".into(),
        backoff_secs: 0.001,
        max_backoff_secs: 0.5,
        ..Endpoint::default()
    };
    change(&mut endpoint);
    OpenAiClient::new(endpoint).unwrap()
}

fn options() -> [ChoiceOption; 2] {
    [
        ChoiceOption {
            id: 0,
            text: "tea".into(),
        },
        ChoiceOption {
            id: 1,
            text: "coffee".into(),
        },
    ]
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn logprobs_are_read_when_the_server_gives_them() {
    let server = tea_over_coffee(true);
    let mut client = client(&server, |_| {});
    let question = lettered_question("Which do you prefer?", &["tea", "coffee"]);
    let p = client
        .label_probabilities(&question, &["A", "B"])
        .unwrap()
        .unwrap();
    assert!((p[0] - sigmoid(1.0)).abs() < 1e-12, "{p:?}");
    assert_eq!(client.supports_logprobs(), Some(true));

    let mut chooser = LlmChooser::new(client, "Which do you prefer?", AnswerMode::Readout, 1);
    let [tea, coffee] = options();
    let share = chooser.preference_share(&tea, &coffee, 5).unwrap();
    assert!((share - sigmoid(1.0)).abs() < 1e-12, "{share}");
    assert!(!chooser.tally().fell_back_to_sampling);
}

#[test]
fn without_logprobs_a_readout_falls_back_to_sampling() {
    let server = tea_over_coffee(false);
    let mut client = client(&server, |_| {});
    let question = lettered_question("Which do you prefer?", &["tea", "coffee"]);
    assert_eq!(
        client.label_probabilities(&question, &["A", "B"]).unwrap(),
        None
    );
    assert_eq!(client.supports_logprobs(), Some(false));

    let mut chooser = LlmChooser::new(client, "Which do you prefer?", AnswerMode::Readout, 1);
    let [tea, coffee] = options();
    let share = chooser.preference_share(&tea, &coffee, 200).unwrap();
    assert!(chooser.tally().fell_back_to_sampling);
    assert_eq!(chooser.tally().answers, 400);
    // 400 draws of P = 0.731: the share is within 0.1 with overwhelming probability.
    assert!((share - sigmoid(1.0)).abs() < 0.1, "{share}");
}

#[test]
fn rate_limits_and_server_errors_are_retried_honouring_retry_after() {
    let server = tea_over_coffee(false);
    let mut client = client(&server, |_| {});
    server.push_faults(&[
        Fault::TooManyRequests {
            retry_after_secs: 0.2,
        },
        Fault::ServerError,
        Fault::ServerError,
    ]);
    let started = Instant::now();
    let answers = client
        .generate(&[Message::user("Hello")], &Sampling::greedy(8), 1)
        .unwrap();
    assert!(
        started.elapsed().as_secs_f64() >= 0.2,
        "Retry-After not honoured"
    );
    assert_eq!(answers[0].text, "I cannot tell.");
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries), (4, 3));
    assert_eq!(server.requests(), 4);

    server.push_faults(&[Fault::ServerError; 3]);
    let mut impatient = self::client(&server, |e| e.max_retries = 2);
    let error = impatient
        .generate(&[Message::user("Hello")], &Sampling::greedy(8), 1)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("gave up after 3 attempts") && error.contains("HTTP 500"),
        "{error}"
    );
}

#[test]
fn a_malformed_body_counts_as_an_unparseable_answer() {
    let server = tea_over_coffee(false);
    let client = client(&server, |_| {});
    server.push_faults(&[Fault::Malformed, Fault::Malformed]);
    let sampling = AnswerMode::Sample {
        temperature: 1.0,
        max_tokens: 4,
        seed: 3,
    };
    let mut chooser = LlmChooser::new(client, "Which do you prefer?", sampling, 1);
    let [tea, coffee] = options();
    // One answer per order, both malformed: each counts half.
    let share = chooser.preference_share(&tea, &coffee, 1).unwrap();
    assert_eq!(share, 0.5);
    assert_eq!(chooser.tally().unparseable, 2);
    assert_eq!(chooser.model().stats().malformed, 2);
}

#[test]
fn a_slow_server_times_out_and_a_closed_port_is_refused() {
    let server = tea_over_coffee(false);
    let mut client = client(&server, |e| {
        e.timeout_secs = 0.2;
        e.max_retries = 0;
    });
    server.push_faults(&[Fault::Slow { seconds: 1.5 }]);
    let started = Instant::now();
    let error = client
        .generate(&[Message::user("Hello")], &Sampling::greedy(8), 1)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no answer within 0.2 s"), "{error}");
    assert!(started.elapsed().as_secs_f64() < 1.5);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut nobody = OpenAiClient::new(Endpoint {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "mock".into(),
        ..Endpoint::default()
    })
    .unwrap();
    let error = nobody
        .generate(&[Message::user("Hello")], &Sampling::greedy(8), 1)
        .unwrap_err()
        .to_string();
    assert!(error.contains("connection refused"), "{error}");
}

#[test]
fn a_second_run_reads_every_answer_from_the_cache() {
    let server = tea_over_coffee(true);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("answers.jsonl");
    let conversations: Vec<Vec<Message>> = (0..10)
        .map(|i| lettered_question(&format!("Question {i}: which?"), &["tea", "coffee"]))
        .collect();
    let sampling = Sampling {
        temperature: 1.0,
        max_tokens: 4,
        seed: 11,
    };
    let ask = || {
        let client = client(&server, |e| e.cache = Some(cache.clone()));
        let answers: Vec<String> = client
            .generate_batch(&conversations, &sampling, 3)
            .into_iter()
            .flat_map(|r| r.unwrap())
            .map(|g| g.text)
            .collect();
        (answers, client.stats())
    };
    let (first, stats) = ask();
    assert_eq!((stats.requests, stats.cache_hits), (10, 0));
    assert_eq!(first.len(), 30);
    let (second, stats) = ask();
    assert_eq!(second, first);
    assert_eq!((stats.requests, stats.cache_hits), (0, 10));
    assert_eq!(server.requests(), 10);
    let lines = std::fs::read_to_string(&cache).unwrap().lines().count();
    assert_eq!(lines, 10);
}

#[test]
fn bad_endpoint_settings_are_refused_at_the_boundary() {
    for (change, name) in [
        (
            Endpoint {
                base_url: "ftp://x".into(),
                ..Endpoint::default()
            },
            "base_url",
        ),
        (
            Endpoint {
                concurrency: 0,
                ..Endpoint::default()
            },
            "concurrency",
        ),
        (
            Endpoint {
                timeout_secs: f64::NAN,
                ..Endpoint::default()
            },
            "timeout_secs",
        ),
        (
            Endpoint {
                top_logprobs: 0,
                ..Endpoint::default()
            },
            "top_logprobs",
        ),
    ] {
        let error = OpenAiClient::new(change).unwrap_err().to_string();
        assert!(error.contains(name), "{error}");
    }
}

/// Answers every conversation with its last user message, the seed and the temperature.
struct Echo;

impl ChatModel for Echo {
    fn name(&self) -> String {
        "echo".into()
    }

    fn generate(
        &mut self,
        messages: &[Message],
        sampling: &Sampling,
        n: usize,
    ) -> choicelab_agents::Result<Vec<choicelab_agents::Generation>> {
        let last = messages.last().map_or("", |m| m.content.as_str());
        Ok((0..n as u64)
            .map(|i| choicelab_agents::Generation {
                text: format!(
                    "{last} | seed {} | T {}",
                    sampling.seed + i,
                    sampling.temperature
                ),
                prompt_tokens: 3,
                completion_tokens: 1,
                prefill_seconds: 0.0,
                decode_seconds: 0.0,
            })
            .collect())
    }

    fn label_probabilities(
        &mut self,
        _: &[Message],
        _: &[&str],
    ) -> choicelab_agents::Result<Option<Vec<f64>>> {
        Ok(None)
    }
}

#[test]
fn a_server_backed_by_a_model_passes_requests_through_and_batches_get_their_own_seeds() {
    let server = MockServer::backed_by(Box::new(Echo)).unwrap();
    let mut client = client(&server, |e| e.concurrency = 4);
    let sampling = Sampling {
        temperature: 0.5,
        max_tokens: 4,
        seed: 100,
    };
    let conversations: Vec<Vec<Message>> = (0..6)
        .map(|i| vec![Message::user(format!("q{i}"))])
        .collect();
    let remote: Vec<Vec<String>> = client
        .generate_many(&conversations, &sampling, 2)
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(|g| g.text).collect())
        .collect();
    // The same batch asked of the model directly gives the same answers.
    let direct: Vec<Vec<String>> = Echo
        .generate_many(&conversations, &sampling, 2)
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(|g| g.text).collect())
        .collect();
    assert_eq!(remote, direct);
    assert_eq!(
        remote[0],
        ["q0 | seed 100 | T 0.5", "q0 | seed 101 | T 0.5"]
    );
    assert_eq!(remote[5][1], "q5 | seed 111 | T 0.5");
    // It gives no logprobs, so readouts are refused politely (None), probed once.
    let labels = client
        .label_probabilities_many(&conversations, &["A", "B"])
        .into_iter()
        .map(|r| r.unwrap())
        .collect::<Vec<_>>();
    assert!(labels.iter().all(Option::is_none));
    assert_eq!(client.supports_logprobs(), Some(false));
    assert_eq!(server.requests(), 6 + 1);
}
