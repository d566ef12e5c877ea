//! `choicelab env rollout` through the binary: it replays gymnasium's trajectories (the envs
//! crate's fixtures, recorded with gymnasium 1.4.0 by bench/gen_gym_fixtures.py) and names the
//! file, line and field of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn choicelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_choicelab"))
        .args(args)
        .output()
        .expect("the choicelab binary runs")
}

fn fixture(world: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../envs/tests/fixtures/gym")
        .join(format!("{world}.csv"))
}

/// The first episode of a fixture: its reset state, its actions (one per line, as the CLI
/// reads them) and its step rows (state, reward, terminated, truncated).
fn first_episode(world: &str) -> (String, String, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(fixture(world)).unwrap();
    let mut rows = text.lines().filter(|l| !l.starts_with('#')).skip(1);
    let reset: Vec<&str> = rows.next().unwrap().split(',').collect();
    let width = reset.len() - 6;
    let init = reset[3..3 + width].join(",");
    let (mut actions, mut steps) = (String::new(), Vec::new());
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        if f[0] == "reset" {
            break;
        }
        actions.push_str(&f[2].replace(';', ","));
        actions.push('\n');
        steps.push(f[3..].iter().map(|s| s.to_string()).collect());
    }
    (init, actions, steps)
}

fn run_error(args: &[&str]) -> String {
    let out = choicelab(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clean failure: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn rollout_reproduces_gymnasium_episodes() {
    let dir = tempfile::tempdir().unwrap();
    for world in [
        "CartPole-v1",
        "Pendulum-v1",
        "MountainCarContinuous-v0",
        "Acrobot-v1",
    ] {
        let (init, actions, steps) = first_episode(world);
        let actions_path = dir.path().join(format!("{world}.actions"));
        std::fs::write(
            &actions_path,
            format!("# first episode of seed 42\n{actions}"),
        )
        .unwrap();
        let out_path = dir.path().join(format!("{world}.csv"));
        let out = choicelab(&[
            "env",
            "rollout",
            world,
            "--init-state",
            &init,
            "--actions",
            actions_path.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&out_path).unwrap();
        let mut lines = text.lines();
        assert!(lines
            .next()
            .unwrap()
            .ends_with("reward,terminated,truncated"));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), steps.len(), "{world}");
        for (row, want) in rows.iter().zip(&steps) {
            let got: Vec<&str> = row.split(',').collect();
            assert_eq!(got.len(), want.len(), "{world}: {row}");
            for (g, w) in got.iter().zip(want) {
                let (g, w): (f64, f64) = (g.parse().unwrap(), w.parse().unwrap());
                assert!((g - w).abs() <= 1e-10, "{world}: {row} vs {want:?}");
            }
        }
    }
}

#[test]
fn rollout_writes_to_stdout_without_out() {
    let dir = tempfile::tempdir().unwrap();
    let actions = dir.path().join("a.txt");
    std::fs::write(&actions, "1\n0\n\n1\n").unwrap();
    let out = choicelab(&[
        "env",
        "rollout",
        "CartPole-v1",
        "--init-state",
        "0,0,-0.01,0",
        "--actions",
        actions.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(stdout.starts_with("s0,s1,s2,s3,reward,terminated,truncated\n"));
}

#[test]
fn rollout_errors_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let bad_index = write("index.txt", "1\n0\n2\n");
    let e = run_error(&[
        "env",
        "rollout",
        "CartPole-v1",
        "--init-state",
        "0,0,0,0",
        "--actions",
        &bad_index,
    ]);
    assert!(
        e.contains("index.txt:3: field `action`") && e.contains("not in Discrete(2)"),
        "{e}"
    );

    let text = write("text.txt", "0.5\nfast\n");
    let e = run_error(&[
        "env",
        "rollout",
        "Pendulum-v1",
        "--init-state",
        "1,0",
        "--actions",
        &text,
    ]);
    assert!(
        e.contains("text.txt:2: field `action[0]`: `fast` is not a number"),
        "{e}"
    );

    let outside = write("outside.txt", "0.5\n\n2.5\n");
    let e = run_error(&[
        "env",
        "rollout",
        "Pendulum-v1",
        "--init-state",
        "1,0",
        "--actions",
        &outside,
    ]);
    assert!(
        e.contains("outside.txt:3: field `action`") && e.contains("outside [-2, 2]"),
        "{e}"
    );

    let nan = write("nan.txt", "NaN\n");
    let e = run_error(&[
        "env",
        "rollout",
        "MountainCarContinuous-v0",
        "--init-state",
        "-0.5,0",
        "--actions",
        &nan,
    ]);
    assert!(
        e.contains("nan.txt:1: field `action`") && e.contains("NaN"),
        "{e}"
    );

    let ok = write("ok.txt", "0\n");
    let e = run_error(&[
        "env",
        "rollout",
        "Acrobot-v1",
        "--init-state",
        "0,0,0",
        "--actions",
        &ok,
    ]);
    assert!(
        e.contains("--init-state") && e.contains("4 state values, 3 were given"),
        "{e}"
    );
    let e = run_error(&[
        "env",
        "rollout",
        "Acrobot-v1",
        "--init-state",
        "0,x,0,0",
        "--actions",
        &ok,
    ]);
    assert!(
        e.contains("--init-state: value 2 `x` is not a number"),
        "{e}"
    );
    let e = run_error(&[
        "env",
        "rollout",
        "Hopper-v5",
        "--init-state",
        "0",
        "--actions",
        &ok,
    ]);
    assert!(e.contains("unknown world `Hopper-v5`"), "{e}");
    let e = run_error(&[
        "env",
        "rollout",
        "Acrobot-v1",
        "--init-state",
        "0,0,0,0",
        "--actions",
        "/nonexistent/a.txt",
    ]);
    assert!(e.contains("/nonexistent/a.txt"), "{e}");
}
