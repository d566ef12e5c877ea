//! `choicelab data generate` through the binary: a small TD3 run in Pendulum writes the five
//! D4RL-style data sets as Parquet with the reference returns, and bad requests are named.

use std::process::{Command, Output};

use choicelab_core::episodes::Episodes;

fn choicelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_choicelab"))
        .args(args)
        .output()
        .expect("the choicelab binary runs")
}

const SMALL: &str = r#"{
  "agent": {"hidden": [32, 32], "batch_size": 64, "actor_lr": 0.001, "critic_lr": 0.001,
            "discount": 0.98, "learning_starts": 1000, "total_steps": 6000, "eval_every": 1000,
            "eval_episodes": 2},
  "dataset_steps": 400,
  "reference_episodes": 10
}"#;

#[test]
fn generate_writes_five_parquet_sets_with_reference_scores() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params.json");
    std::fs::write(&params, SMALL).unwrap();
    let out = dir.path().join("sets");
    let run = choicelab(&[
        "data",
        "generate",
        "Pendulum-v1",
        "--quiet",
        "--seed",
        "3",
        "--params",
        params.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let (min, max) = (
        summary["ref_min_score"].as_f64().unwrap(),
        summary["ref_max_score"].as_f64().unwrap(),
    );
    assert!(max > min, "{summary}");
    for level in [
        "random",
        "medium",
        "medium-replay",
        "expert",
        "medium-expert",
    ] {
        let data =
            Episodes::read_parquet(&out.join(format!("pendulum/{level}-v0.parquet"))).unwrap();
        assert_eq!(data.metadata.dataset_id, format!("pendulum/{level}-v0"));
        assert_eq!(data.metadata.ref_min_score, Some(min));
        assert_eq!(data.metadata.ref_max_score, Some(max));
        assert_eq!(data.observation_dim(), 3);
    }
    let curve = std::fs::read_to_string(out.join("pendulum/curve.csv")).unwrap();
    assert_eq!(curve.lines().count(), 1 + 6, "{curve}");
}

#[test]
fn unknown_worlds_and_bad_parameters_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = choicelab(&["data", "generate", "CartPole-v1", "--out", out]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("no preset for `CartPole-v1`"), "{err}");
    let params = dir.path().join("bad.json");
    std::fs::write(&params, r#"{"agent": {"learning_starts": 0}}"#).unwrap();
    let run = choicelab(&[
        "data",
        "generate",
        "Pendulum-v1",
        "--params",
        params.to_str().unwrap(),
        "--out",
        out,
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("learning_starts"), "{err}");
    std::fs::write(&params, r#"{"agent": {"total_steps": "many"}}"#).unwrap();
    let run = choicelab(&[
        "data",
        "generate",
        "Pendulum-v1",
        "--params",
        params.to_str().unwrap(),
        "--out",
        out,
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("bad.json") && err.contains("total_steps"),
        "{err}"
    );
}
