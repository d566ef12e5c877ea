//! `choicelab studies` and `choicelab run` through the binary.

use std::process::{Command, Output};

fn choicelab(args: &[&str], data: Option<&str>, cache_home: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_choicelab"));
    command
        .args(args)
        .env_remove("CHOICELAB_DATA")
        .env_remove("CHOICELAB_MODELS")
        .env("XDG_CACHE_HOME", cache_home)
        .env("HOME", cache_home);
    if let Some(dir) = data {
        command.env("CHOICELAB_DATA", dir);
    }
    command.output().expect("the choicelab binary runs")
}

#[test]
fn studies_are_listed() {
    let home = tempfile::tempdir().unwrap();
    let out = choicelab(&["studies"], None, home.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("tour") && stdout.contains("mdp-examples"),
        "{stdout}"
    );
}

#[test]
fn tour_runs_without_a_data_folder_and_says_what_it_skipped() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = home.path().join("tour");
    let out = choicelab(
        &["run", "tour", "--quiet", "--out", out_dir.to_str().unwrap()],
        None,
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("No data folder was found"), "{report}");
    assert!(report.contains("RiverSwim skipped"), "{report}");
    // A fresh home has no local model: the studies that ask one run their simulated choosers.
    assert!(
        report.contains(
            "The local language model (SmolLM2-135M-Instruct) is not in the models folder"
        ),
        "{report}"
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("metrics.json")).unwrap())
            .unwrap();
    assert_eq!(metrics["mdp-examples.verdict"], "reproduced");
    assert_eq!(metrics["swissmetro.status"], "skipped: no data");
    assert_eq!(metrics["bus-engine.status"], "skipped: no data");
    assert_eq!(metrics["rtb.status"], "skipped: no data");
    assert_eq!(metrics["ddc-monte-carlo.verdict"], "reproduced");
    assert_eq!(metrics["ddc-monte-carlo.b9999.nfxp.converged_share"], 1.0);
    assert_eq!(metrics["dcppo.verdict"], "partly reproduced");
    assert_eq!(metrics["regret-preferences.verdict"], "reproduced");
    assert_eq!(
        metrics["regret-preferences.human.status"],
        "skipped: no data"
    );
    let regret = |key: &str| {
        metrics[format!("regret-preferences.{key}")]
            .as_f64()
            .unwrap()
    };
    assert!(regret("regret.scaled_return.n300") > regret("partial_return.scaled_return.n300"));
    assert_eq!(metrics["spo.verdict"], "reproduced");
    assert_eq!(metrics["distributional-dp.verdict"], "reproduced");
    assert_eq!(
        metrics["distributional-dp.expectation.riverswim.status"],
        "skipped: no data"
    );
    let ddp = |key: &str| {
        metrics[format!("distributional-dp.{key}")]
            .as_f64()
            .unwrap()
    };
    assert!(ddp("expectation.max_abs_diff_vs_vi") < 1e-9);
    assert!(ddp("cvar.augmented") > ddp("cvar.markov_best"));
    assert!(ddp("cvar.markov_best") > ddp("cvar.mean_optimal"));
    assert_eq!(metrics["robust-mdp.verdict"], "reproduced");
    assert_eq!(metrics["dynamical-bandits.status"], "skipped: no data");
    let reservoir = |key: &str| metrics[format!("reservoir-ei.{key}")].as_f64().unwrap();
    assert!((27.0..=33.0).contains(&reservoir("anchor.mc")));
    assert!(reservoir("mc.global_best") > 0.0 && reservoir("narma10.adaptive_nrmse") > 0.0);
    assert_eq!(metrics["risky-choice.status"], "skipped: no data");
    assert_eq!(metrics["intertemporal-choice.verdict"], "reproduced");
    assert_eq!(metrics["intertemporal-choice.identification.correct"], 3.0);
    assert_eq!(metrics["robust-mdp.riverswim.status"], "skipped: no data");
    let robust = |key: &str| metrics[format!("robust-mdp.{key}")].as_f64().unwrap();
    assert!((robust("iwocs.worst_case") - robust("exhaustive.worst_case")).abs() < 1e-6);
    assert!(robust("iwocs.worst_case") > robust("nominal.worst_case"));
    assert!(robust("iwocs.worst_case") > robust("windy.robust_vi.dynamic_value"));
    // The two-parameter gusty walk: IWOCS never beats the min–max bound.
    assert!(robust("gusty.duality_gap_bound") >= -1e-9);
    let spo = |key: &str| metrics[format!("spo.{key}")].as_f64().unwrap();
    assert!(spo("spo.mw_distance") < 0.05 && spo("rm.mw_distance") > 0.5);
    for method in ["plain", "flip", "smooth", "margin"] {
        let key = format!("reward-model-robustness.{method}.accuracy");
        assert!(metrics[&key].as_f64().unwrap() > 0.5, "{key}");
    }
    let dcppo = |key: &str| metrics[format!("dcppo.{key}")].as_f64().unwrap();
    assert!(dcppo("n30.pessimistic.suboptimality") < dcppo("n30.plain.suboptimality"));
    assert!(dcppo("reward_error") < dcppo("n30.reward_error") / 5.0);
    assert!(report.contains("Outcome 0"), "{report}");
    for key in [
        "active.holdout_accuracy",
        "random.holdout_accuracy",
        "active.spearman",
        "random.spearman",
        "active.cycle_rate",
        "edges",
    ] {
        let value = &metrics[format!("utility-engineering.{key}")];
        assert!(value.as_f64().is_some(), "{key}: {value}");
    }
    assert_eq!(
        metrics["utility-engineering.llm.status"],
        "not asked: chooser = sim"
    );
    assert_eq!(metrics["self-correction.sim.check.verdict"], "pass");
    assert_eq!(metrics["self-correction.primary_tier"], "simulated");
    assert_eq!(metrics["daily-dilemmas.status"], "skipped: no data");
    assert_eq!(
        metrics["mdp-examples.riverswim_g099.status"],
        "skipped: no data"
    );
}

#[test]
fn mdp_examples_writes_report_metrics_and_figures() {
    let Ok(data) = std::env::var("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: the RiverSwim part of this test is skipped");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let out_dir = home.path().join("examples");
    let out = choicelab(
        &[
            "run",
            "mdp-examples",
            "--quiet",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        Some(&data),
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verdict: reproduced"));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("metrics.json")).unwrap())
            .unwrap();
    let object = metrics.as_object().unwrap();
    assert!(object.values().all(|v| v.is_number() || v.is_string()));
    assert_eq!(metrics["checks.passed"], metrics["checks.total"]);
    assert!(metrics["riverswim_g099.pi.max_abs_error"].as_f64().unwrap() < 1e-4);
    let svg = std::fs::read_to_string(out_dir.join("residuals-riverswim_g099.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("## Claim") && report.contains("residuals-forest3_g096.svg"));
}

#[test]
fn configuration_errors_list_the_valid_choices() {
    let home = tempfile::tempdir().unwrap();
    let out = choicelab(&["run", "no-such-study"], None, home.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("tour, mdp-examples"),
        "{stderr}"
    );
    let out = choicelab(
        &["run", "mdp-examples", "--set", "epsilom=1"],
        None,
        home.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("valid keys: epsilon, horizon, max_iterations"),
        "{stderr}"
    );
    let config = home.path().join("bad.toml");
    std::fs::write(&config, "epsilon = \"small\"\n").unwrap();
    let out = choicelab(
        &["run", "mdp-examples", "--config", config.to_str().unwrap()],
        None,
        home.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("epsilon"),
        "{stderr}"
    );
}

#[test]
fn settings_reach_the_report() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = home.path().join("set");
    let out = choicelab(
        &[
            "run",
            "mdp-examples",
            "--quiet",
            "--set",
            "epsilon=1e-9",
            "--set",
            "horizon=5",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        None,
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(
        report.contains("epsilon = 0.000000001") && report.contains("horizon = 5"),
        "{report}"
    );
}

#[test]
fn esn_scores_a_task_and_rejects_unknown_ones() {
    let home = tempfile::tempdir().unwrap();
    let args = [
        "esn",
        "narma10-classic",
        "--units",
        "50",
        "--train",
        "600",
        "--test",
        "200",
        "--seeds",
        "2",
    ];
    let out = choicelab(&args, None, home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["nrmse"].as_f64().unwrap() < 1.0 && lines[1]["seconds"].as_f64().is_some());
    let out = choicelab(&["esn", "narma30"], None, home.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown task `narma30`"));
    let out = choicelab(
        &["esn", "narma10", "--spectral-radius", "0"],
        None,
        home.path(),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("spectral_radius"));
}
