//! `choicelab model fetch --from`, `model list` and `ask` (the local model and the mock
//! endpoint). The tests that need the SmolLM2 file skip where it is absent, unless
//! `CHOICELAB_REQUIRE_MODELS` is set (CI sets it after fetching the model).

use std::path::PathBuf;
use std::process::{Command, Output};

use choicelab_agents::remote::mock::{MockChooser, MockServer};
use choicelab_agents::{find_model, SMOLLM2};

fn choicelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_choicelab"))
        .args(args)
        .output()
        .expect("the choicelab binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn smollm2() -> Option<PathBuf> {
    let found = find_model(&SMOLLM2, None);
    if found.is_none() {
        assert!(
            std::env::var_os("CHOICELAB_REQUIRE_MODELS").is_none(),
            "CHOICELAB_REQUIRE_MODELS is set but {} is not in the models folder",
            SMOLLM2.file
        );
        eprintln!("skipped: {} not found", SMOLLM2.file);
    }
    found
}

#[test]
fn a_file_with_the_wrong_sha256_is_refused_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.gguf");
    std::fs::write(&fake, b"GGUF, but not the model").unwrap();
    let dest = dir.path().join("models");
    let out = choicelab(&[
        "model",
        "fetch",
        "smollm2",
        "--dest",
        dest.to_str().unwrap(),
        "--from",
        fake.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("sha256 mismatch"), "{stderr}");
    assert!(!dest.join(SMOLLM2.file).exists());
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "no part file left"
    );

    let out = choicelab(&["model", "fetch", "gpt-9", "--dest", dest.to_str().unwrap()]);
    assert!(text(&out.stderr).contains("unknown model `gpt-9` (known: smollm2)"));
}

#[test]
fn the_model_is_copied_verified_and_then_found_present() {
    let Some(path) = smollm2() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().to_str().unwrap();
    let from = path.to_str().unwrap();
    let out = choicelab(&["model", "fetch", "smollm2", "--dest", dest, "--from", from]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("sha256 verified"));
    let out = choicelab(&["model", "fetch", "smollm2", "--dest", dest]);
    assert!(text(&out.stdout).contains("present, sha256 verified"));
    let out = choicelab(&["model", "list", "--models", dest]);
    assert!(text(&out.stdout).contains("smollm2    present"));
}

#[test]
fn ask_reports_the_answer_with_its_speeds() {
    let Some(path) = smollm2() else { return };
    let out = choicelab(&[
        "--threads",
        "2",
        "ask",
        "--model",
        path.to_str().unwrap(),
        "--max-tokens",
        "24",
        "--json",
        "What is the capital of France?",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(line["text"].as_str().unwrap().contains("Paris"), "{line}");
    for field in [
        "prompt_tokens",
        "completion_tokens",
        "prefill_tok_s",
        "decode_tok_s",
    ] {
        assert!(line[field].as_f64().unwrap() > 0.0, "{field}: {line}");
    }
}

#[test]
fn ask_reaches_an_openai_compatible_endpoint_and_names_a_dead_one() {
    let server = MockServer::start(MockChooser::default()).unwrap();
    let out = choicelab(&[
        "ask",
        "--chooser",
        "openai",
        "--model",
        "mock",
        "--base-url",
        &server.base_url(),
        "Which?\n\nA. tea\nB. coffee\n\nAnswer with the letter only: A or B.",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer = text(&out.stdout);
    assert!(answer == "A\n" || answer == "B\n", "{answer:?}");
    assert_eq!(server.requests(), 1);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = choicelab(&[
        "ask",
        "--chooser",
        "openai",
        "--model",
        "mock",
        "--base-url",
        &format!("http://127.0.0.1:{port}/v1"),
        "Hello",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("connection refused"),
        "{}",
        text(&out.stderr)
    );
}
