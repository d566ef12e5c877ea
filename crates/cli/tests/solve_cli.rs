//! `choicelab solve` through the binary: answers on good files, clear errors on bad ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn choicelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_choicelab"))
        .args(args)
        .output()
        .expect("the choicelab binary runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `solve` on a file holding `text` and returns its stderr, asserting it failed cleanly.
fn solve_error(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, text);
    let out = choicelab(&["solve", path.to_str().unwrap(), "--gamma", "0.9", "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected failure for {text:?}");
    assert_eq!(out.status.code(), Some(1), "no panic: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(name), "error names the file: {stderr}");
    stderr
}

const HEADER: &str = "idstatefrom,idaction,idstateto,probability,reward\n";

#[test]
fn row_not_summing_to_one_names_state_action_sum_and_line() {
    let text = format!("{HEADER}0,0,0,1,1\n0,1,0,0.5,0\n0,1,1,0.4,0\n1,0,1,1,0\n");
    let err = solve_error("sum.csv", &text);
    assert!(err.contains("sum.csv:3"), "{err}");
    assert!(err.contains("field `probability`"), "{err}");
    assert!(err.contains("state 0, action 1 sum to 0.9"), "{err}");
}

#[test]
fn negative_and_nan_probabilities_are_rejected_at_their_line() {
    let err = solve_error("neg.csv", &format!("{HEADER}0,0,0,1,1\n0,1,0,-0.5,0\n"));
    assert!(
        err.contains("neg.csv:3: field `probability`") && err.contains("-0.5"),
        "{err}"
    );
    let err = solve_error("nan.csv", &format!("{HEADER}0,0,0,NaN,1\n"));
    assert!(
        err.contains("nan.csv:2: field `probability`") && err.contains("NaN"),
        "{err}"
    );
}

#[test]
fn out_of_range_ids_name_their_field() {
    let err = solve_error("range.csv", &format!("{HEADER}0,0,0,1,1\n-1,0,0,1,0\n"));
    assert!(
        err.contains("range.csv:3: field `idstatefrom`") && err.contains("out of range"),
        "{err}"
    );
    let json = r#"{"states": 2, "actions": 1, "rewards": [[0], [1]],
        "transitions": [{"state": 0, "action": 0, "next": [5], "probability": [1]},
                        {"state": 1, "action": 0, "next": [1], "probability": [1]}]}"#;
    let err = solve_error("range.json", json);
    assert!(
        err.contains("field `transitions[0].next`") && err.contains("5 out of range 0..2"),
        "{err}"
    );
    let json = r#"{"states": 1, "actions": 1, "rewards": [[0]],
        "transitions": [{"state": 0, "action": 3, "next": [0], "probability": [1]}]}"#;
    let err = solve_error("action.json", json);
    assert!(err.contains("field `transitions[0].action`"), "{err}");
}

#[test]
fn state_without_feasible_action_is_rejected() {
    // State 2 is only ever reached, never left.
    let err = solve_error("dead.csv", &format!("{HEADER}0,0,1,1,1\n1,0,2,1,0\n"));
    assert!(err.contains("state 2 has no feasible action"), "{err}");
    let json = r#"{"states": 2, "actions": 1, "rewards": [[0], [null]],
        "transitions": [{"state": 0, "action": 0, "next": [1], "probability": [1]}]}"#;
    let err = solve_error("dead.json", json);
    assert!(err.contains("state 1 has no feasible action"), "{err}");
}

#[test]
fn malformed_files_never_panic() {
    let err = solve_error("empty.csv", "");
    assert!(err.contains("empty file"), "{err}");
    let err = solve_error("truncated.csv", &format!("{HEADER}0,0,0,1,1\n0,1,0\n"));
    assert!(
        err.contains("truncated.csv:3") && err.contains("3 fields, expected 5"),
        "{err}"
    );
    let err = solve_error("text.csv", &format!("{HEADER}0,0,0,one,1\n"));
    assert!(
        err.contains("text.csv:2: field `probability`") && err.contains("`one` is not a number"),
        "{err}"
    );
    let err = solve_error("header.csv", "from,action,to,p,r\n0,0,0,1,1\n");
    assert!(
        err.contains("header.csv:1") && err.contains("missing column `idstatefrom`"),
        "{err}"
    );
    let err = solve_error("bad.json", "{\"states\": 2,\n \"actions\": }");
    assert!(err.contains("bad.json:2"), "{err}");
    let err = solve_error("binary.csv", "\u{0}\u{1}\u{2}");
    assert!(err.contains("binary.csv"), "{err}");
}

#[test]
fn solves_the_quantecon_example_from_json_and_writes_values() {
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{"states": 2, "actions": 2, "rewards": [[5, 10], [-1, null]],
        "transitions": [{"state": 0, "action": 0, "next": [0, 1], "probability": [0.5, 0.5]},
                        {"state": 0, "action": 1, "next": [1], "probability": [1]},
                        {"state": 1, "action": 0, "next": [1], "probability": [1]}]}"#;
    let path = write(dir.path(), "qe.json", json);
    let values = dir.path().join("values.csv");
    for method in ["vi", "gs", "pi", "mpi"] {
        let out = choicelab(&[
            "solve",
            path.to_str().unwrap(),
            "--gamma",
            "0.95",
            "--method",
            method,
            "--epsilon",
            "1e-9",
            "--out",
            values.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("iterations:") && stdout.contains("residual:"),
            "{stdout}"
        );
        let rows: Vec<Vec<String>> = std::fs::read_to_string(&values)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(String::from).collect())
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][1], "0");
        let v0: f64 = rows[0][2].parse().unwrap();
        assert!((v0 + 60.0 / 7.0).abs() < 1e-8, "{method}: {v0}");
    }
}

#[test]
fn finite_horizon_and_average_reward_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // pymdptoolbox's forest, S=3, as craam CSV.
    let csv = format!(
        "{HEADER}0,0,0,0.1,0\n0,0,1,0.9,0\n0,1,0,1,0\n1,0,0,0.1,0\n1,0,2,0.9,0\n1,1,0,1,1\n\
         2,0,0,0.1,4\n2,0,2,0.9,4\n2,1,0,1,2\n"
    );
    let path = write(dir.path(), "forest.csv", &csv);
    let values = dir.path().join("fh.csv");
    let out = choicelab(&[
        "solve",
        path.to_str().unwrap(),
        "--method",
        "finite",
        "--horizon",
        "3",
        "--gamma",
        "0.9",
        "--out",
        values.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&values).unwrap();
    assert!(
        text.starts_with("stage,state,action,value\n0,0,0,2.69"),
        "{text}"
    );
    let out = choicelab(&[
        "solve",
        path.to_str().unwrap(),
        "--method",
        "rvi",
        "--epsilon",
        "1e-9",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("gain: 3.24"), "{stdout}");
    let out = choicelab(&[
        "solve",
        path.to_str().unwrap(),
        "--method",
        "nope",
        "--gamma",
        "0.9",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("vi, gs, pi, mpi, rvi"), "{stderr}");
}

#[test]
fn non_convergence_is_reported() {
    let out = choicelab(&[
        "solve",
        "--random",
        "50,2,3",
        "--gamma",
        "0.99",
        "--max-iterations",
        "5",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("did not converge"),
        "{stderr}"
    );
}

/// One decision: a sure 1 (action 0) or 0 and 3 with probability ½ each (action 1).
const GAMBLE: &str = "idstatefrom,idaction,idstateto,probability,reward\n\
    0,0,1,1,1\n0,1,1,0.5,0\n0,1,1,0.5,3\n1,0,1,1,0\n1,1,1,1,0\n";

fn stdout_of(args: &[&str]) -> String {
    let out = choicelab(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn cvar_method_trades_mean_for_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "gamble.csv", GAMBLE);
    let file = path.to_str().unwrap();
    let law = dir.path().join("law.csv");
    let cautious = stdout_of(&[
        "solve",
        file,
        "--method",
        "cvar",
        "--alpha",
        "0.5",
        "--horizon",
        "1",
        "--quiet",
        "--out",
        law.to_str().unwrap(),
    ]);
    assert!(
        cautious.contains("cvar (the policy's exact law): 1\n"),
        "{cautious}"
    );
    assert!(cautious.contains("integer lattice: exact"), "{cautious}");
    assert_eq!(
        std::fs::read_to_string(&law).unwrap(),
        "return,probability\n1.0,1.0\n"
    );
    let neutral = stdout_of(&[
        "solve",
        file,
        "--method",
        "cvar",
        "--alpha",
        "1",
        "--horizon",
        "1",
        "--quiet",
    ]);
    assert!(
        neutral.contains("cvar (the policy's exact law): 1.5\n"),
        "{neutral}"
    );
    for (args, message) in [
        (
            vec!["--alpha", "0", "--horizon", "1"],
            "CVaR level 0 must be in (0, 1]",
        ),
        (vec!["--horizon", "1"], "--alpha is required"),
        (vec!["--alpha", "0.5"], "γ = 1 needs a finite horizon"),
    ] {
        let mut all = vec!["solve", file, "--method", "cvar", "--quiet"];
        all.extend(args);
        let out = choicelab(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[test]
fn robust_method_with_radius_zero_is_value_iteration() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "gamble.csv", GAMBLE);
    let file = path.to_str().unwrap();
    let (nominal, robust) = (dir.path().join("vi.csv"), dir.path().join("robust.csv"));
    stdout_of(&[
        "solve",
        file,
        "--gamma",
        "0.9",
        "--epsilon",
        "1e-10",
        "--quiet",
        "--out",
        nominal.to_str().unwrap(),
    ]);
    stdout_of(&[
        "solve",
        file,
        "--gamma",
        "0.9",
        "--epsilon",
        "1e-10",
        "--method",
        "robust",
        "--nature",
        "l1:0",
        "--quiet",
        "--out",
        robust.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(&nominal).unwrap(),
        std::fs::read_to_string(&robust).unwrap()
    );
    // A ball of radius 2 lets nature put all of the gamble's mass on the 0.
    let worst = dir.path().join("worst.csv");
    stdout_of(&[
        "solve",
        file,
        "--gamma",
        "0.9",
        "--method",
        "robust",
        "--nature",
        "l1:2",
        "--quiet",
        "--out",
        worst.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&worst).unwrap().contains("0,0,1"));
    for (nature, message) in [
        ("l2:0.1", "unknown ball `l2`"),
        ("kl:-1", "must be finite and non-negative"),
        ("l1", "expected l1:RADIUS or kl:RADIUS"),
    ] {
        let out = choicelab(&[
            "solve", file, "--gamma", "0.9", "--method", "robust", "--nature", nature, "--quiet",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
}
