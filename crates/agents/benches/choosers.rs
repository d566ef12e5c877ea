//! The chooser layer's hot paths.
//!
//! `cargo bench -p choicelab-agents --bench choosers` (add `-- --quick` for a fast pass).
//! - `remote/batch_256_c32`: 256 chat completions against the loopback mock server with 32
//!   requests in flight (throughput in requests); the issue asks for at least 200 per second.
//! - `local/*` (where SmolLM2 is in the models folder), on 2 threads: one pairwise readout
//!   (both option orders, sharing the prompt's prefix), prefill of a ~200-token prompt, and
//!   up to 32 greedy decoded tokens (prefill of the story prompt included, mostly cached).

use std::hint::black_box;

use choicelab_agents::protocol::lettered_question;
use choicelab_agents::remote::mock::{MockChooser, MockServer};
use choicelab_agents::{
    find_model, ChatModel, Endpoint, LocalModel, Message, OpenAiClient, Sampling, SMOLLM2,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn remote(c: &mut Criterion) {
    let server = MockServer::start(MockChooser::default()).expect("the mock starts");
    let client = OpenAiClient::new(Endpoint {
        base_url: server.base_url(),
        model: "mock".into(),
        concurrency: 32,
        ..Endpoint::default()
    })
    .expect("a valid endpoint");
    let conversations: Vec<Vec<Message>> = (0..256)
        .map(|i| lettered_question(&format!("Question {i}"), &["tea", "coffee"]))
        .collect();
    let sampling = Sampling {
        temperature: 1.0,
        max_tokens: 4,
        seed: 0,
    };
    let mut group = c.benchmark_group("remote");
    group.sample_size(10);
    group.throughput(Throughput::Elements(conversations.len() as u64));
    group.bench_function("batch_256_c32", |b| {
        b.iter(|| {
            for answer in client.generate_batch(black_box(&conversations), &sampling, 1) {
                answer.expect("the mock answers");
            }
        })
    });
    group.finish();
}

fn local(c: &mut Criterion) {
    let Some(path) = find_model(&SMOLLM2, None) else {
        eprintln!("local benchmarks skipped: {} not found", SMOLLM2.file);
        return;
    };
    let mut model = LocalModel::load(&path, 2).expect("the model loads");
    let mut group = c.benchmark_group("local");
    group.sample_size(10);
    let preamble = "Which of these two outcomes would you prefer?";
    let pair = |first: &str, second: &str| lettered_question(preamble, &[first, second]);
    let (a, b) = ("You receive $100.", "A stranger receives $1,000.");
    group.bench_function("pairwise_readout_both_orders", |bench| {
        bench.iter(|| {
            let forward = model.label_probabilities(&pair(a, b), &["A", "B"]).unwrap();
            let backward = model.label_probabilities(&pair(b, a), &["A", "B"]).unwrap();
            black_box((forward, backward))
        })
    });
    let long: String = (0..40).map(|i| format!("item {i}, ")).collect();
    let prompt = [Message::user(format!("Repeat: {long}"))];
    let tokens = model.encode(&model.prompt(&prompt).unwrap()).unwrap().len();
    group.throughput(Throughput::Elements(tokens as u64));
    group.bench_function("prefill", |bench| {
        bench.iter(|| {
            // A different first word each time defeats the prefix cache.
            let unique = [Message::user(format!("{} {long}", bench_counter()))];
            model.first_token_probabilities(&unique, &[0]).unwrap()
        })
    });
    let story = [Message::user("Tell me a long story about a dragon.")];
    let sampling = Sampling::greedy(32);
    let decoded = model
        .generate_one(&story, &sampling)
        .unwrap()
        .completion_tokens;
    group.throughput(Throughput::Elements(decoded as u64));
    group.bench_function("decode_greedy", |bench| {
        bench.iter(|| model.generate_one(&story, &sampling).unwrap())
    });
    group.finish();
}

/// A number that changes at every call.
fn bench_counter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

criterion_group!(benches, remote, local);
criterion_main!(benches);
