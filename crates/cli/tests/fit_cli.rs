//! `choicelab fit` through the binary: estimates, the JSON shape, and errors on bad data.

use std::path::Path;
use std::process::{Command, Output};

fn fit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_choicelab"))
        .arg("fit")
        .args(args)
        .output()
        .expect("the choicelab binary runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn bradley_terry_writes_the_common_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "pairs.csv",
        "winner,loser\nfig,pear\nfig,pear\npear,kiwi\nkiwi,fig\n",
    );
    let json = dir.path().join("fit.json");
    let out = fit(&["bt", &data, "--out", json.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["model"], "bradley-terry");
    assert_eq!(value["n_obs"], 4);
    assert_eq!(value["converged"], true);
    let fig = &value["parameters"][0];
    assert_eq!(fig["name"], "fig");
    // choix's golden (testcase-pairwise-2): θ_fig = 0.419617624.
    assert!((fig["estimate"].as_f64().unwrap() - 0.419617624).abs() < 1e-6);
    assert!(fig["se"].as_f64().unwrap() > 0.0);
    assert!(value["loglik"].as_f64().unwrap() < 0.0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("std. error") && stdout.contains("pear"),
        "{stdout}"
    );
}

#[test]
fn plackett_luce_reads_rankings_and_choices() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "rankings.jsonl",
        "[\"0\", \"1\", \"2\"]\n[3, 2, 0]\n\n{\"winner\": \"1\", \"others\": [\"3\"]}\n",
    );
    let out = fit(&["pl", &data]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SYSTEMS.md: the exact optimum of choix's rankings case, item 1 = 0.69506787.
    assert!(stdout.contains("0.695068"), "{stdout}");
}

#[test]
fn bad_data_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "self.csv",
            "winner,loser\nfig,fig\n",
            "self.csv:2: field `loser`: item `fig` is compared with itself",
        ),
        (
            "label.csv",
            "a,b,p_a\nfig,pear,2\n",
            "label.csv:2: field `p_a`: label 2 is outside [0, 1]",
        ),
        ("empty.csv", "", "empty.csv:1: empty file"),
        (
            "split.csv",
            "winner,loser\nfig,pear\nkiwi,plum\n",
            "not strongly connected",
        ),
        (
            "twice.jsonl",
            "[\"a\", \"b\", \"a\"]\n",
            "twice.jsonl:1: item `a` appears twice",
        ),
        (
            "garbage.jsonl",
            "[\"a\", \"b\"]\n{oops\n",
            "garbage.jsonl:2: expected a ranking",
        ),
    ];
    for (name, text, expected) in cases {
        let path = write(dir.path(), name, text);
        let model = if name.ends_with(".jsonl") { "pl" } else { "bt" };
        let out = fit(&[model, &path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    let out = fit(&["mnl", "x.csv"]);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("possible values: bt, pl, thurstonian, logit"));
}

#[test]
fn thurstonian_reports_means_and_spreads() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "soft.csv",
        "a,b,p_a\nx,y,0.7\ny,z,0.6\nz,x,0.3\nx,w,0.9\nw,y,0.2\nz,w,0.8\n",
    );
    let json = dir.path().join("fit.json");
    let out = fit(&["thurstonian", &data, "--out", json.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["model"], "thurstonian");
    let mu: Vec<f64> = value["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["estimate"].as_f64().unwrap())
        .collect();
    assert!(
        mu.iter().sum::<f64>().abs() < 1e-9,
        "standardised means: {mu:?}"
    );
    assert!(
        mu[0] > mu[1] && mu[1] > mu[2] && mu[2] > mu[3],
        "x > y > z > w: {mu:?}"
    );
    assert!(value["sigma"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["estimate"].as_f64().unwrap() > 0.0));
}

#[test]
fn ties_are_modelled_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "ties.csv",
        "a,b,winner\nfig,pear,fig\nfig,pear,tie\npear,fig,pear\nfig,pear,fig\n",
    );
    let out = fit(&["bt", &data]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the data has ties"));
    let json = dir.path().join("fit.json");
    let out = fit(&[
        "bt",
        &data,
        "--ties",
        "davidson",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["model"], "bradley-terry-davidson");
    // Closed form: ν = ties/√(wins·losses) = 1/√2.
    assert!((value["tie_parameter"].as_f64().unwrap() - 0.5f64.sqrt()).abs() < 1e-6);
}

const LOGIT_DATA: &str = "obs,alt,chosen,available,time\n\
    1,bus,1,1,1.0\n1,car,0,1,0.5\n\
    2,bus,0,1,2.0\n2,car,1,1,0.4\n\
    3,bus,1,1,0.5\n3,car,0,0,NA\n\
    4,bus,0,1,1.5\n4,car,1,1,1.0\n\
    5,bus,0,1,0.7\n5,car,1,1,0.9\n";

#[test]
fn logit_fits_a_spec_and_writes_robust_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "long.csv", LOGIT_DATA);
    let spec = write(
        dir.path(),
        "spec.toml",
        "[utilities]\nbus = [\"ASC_BUS\", \"B_TIME * time\"]\ncar = [\"B_TIME * time\"]\n",
    );
    let json = dir.path().join("fit.json");
    let out = fit(&[
        "logit",
        &data,
        "--spec",
        &spec,
        "--out",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["model"], "conditional-logit");
    assert_eq!(value["n_obs"], 5);
    assert_eq!(value["parameters"][0]["name"], "ASC_BUS");
    assert_eq!(value["parameters"][1]["name"], "B_TIME");
    assert!(value["parameters"][1]["se"].as_f64().unwrap() > 0.0);
    assert_eq!(value["robust_se"].as_array().unwrap().len(), 2);
    assert!(value["loglik"].as_f64().unwrap() > value["null_loglik"].as_f64().unwrap());
}

#[test]
fn logit_errors_name_the_spec_and_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "long.csv", LOGIT_DATA);
    let spec = write(
        dir.path(),
        "spec.toml",
        "[utilities]\nbus = [\"ASC_BUS\", \"B_TIME * time\"]\ncar = [\"B_TIME * speed\"]\n",
    );
    let out = fit(&["logit", &data, "--spec", &spec]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("spec.toml:3") && stderr.contains("attribute `speed`"),
        "{stderr}"
    );
    let no_spec = fit(&["logit", &data]);
    assert!(String::from_utf8_lossy(&no_spec.stderr).contains("needs --spec"));
    let bad_data = write(
        dir.path(),
        "bad.csv",
        "obs,alt,chosen,time\n1,bus,1,1\n1,car,1,2\n",
    );
    let out = fit(&["logit", &bad_data, "--spec", &spec]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.csv:3") && stderr.contains("chose both"),
        "{stderr}"
    );
}

#[test]
fn ddc_fits_a_panel_and_names_rust_parameters() {
    let dir = tempfile::tempdir().unwrap();
    // A simulated fleet: 20 buses, 80 months, 30 states.
    let model = choicelab_inverse::ddc::ZurcherModel {
        n_states: 30,
        beta: 0.95,
        increments: vec![0.3, 0.6, 0.1],
        cost: choicelab_inverse::ddc::CostShape::Linear,
        scale: 1e-3,
    };
    let panel = choicelab_inverse::ddc::simulate_fleet(&model, 5.0, &[60.0], 20, 80, 3).unwrap();
    let mut text = String::from("bus,period,state,replace\n");
    for o in &panel.observations {
        text.push_str(&format!(
            "b{},{},{},{}\n",
            o.bus,
            o.period,
            o.state,
            u8::from(o.replace)
        ));
    }
    let data = write(dir.path(), "panel.csv", &text);
    let json = dir.path().join("fit.json");
    let out = fit(&[
        "ddc",
        &data,
        "--states",
        "30",
        "--beta",
        "0.95",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["model"], "ddc-nfxp");
    let names: Vec<&str> = value["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..3], ["rc", "theta11", "theta3_0"]);
    let ccp = fit(&[
        "ddc", &data, "--states", "30", "--beta", "0.95", "--method", "ccp", "--npl", "3",
    ]);
    let stdout = String::from_utf8_lossy(&ccp.stdout);
    assert!(
        ccp.status.success() && stdout.contains("model: ddc-ccp"),
        "{stdout}"
    );
    let full = fit(&[
        "ddc", &data, "--states", "30", "--beta", "0.95", "--outer", "bfgs", "--full",
    ]);
    let stdout = String::from_utf8_lossy(&full.stdout);
    assert!(
        full.status.success() && stdout.contains("theta3_1"),
        "{stdout}"
    );
    let outer = fit(&["ddc", &data, "--states", "30", "--outer", "newton"]);
    assert!(String::from_utf8_lossy(&outer.stderr).contains("valid: bhhh, bfgs"));
    let bad = fit(&["ddc", &data, "--states", "30", "--cost", "cubic2"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown cost shape"));
    let beta = fit(&["ddc", &data, "--states", "30", "--beta", "1"]);
    assert!(String::from_utf8_lossy(&beta.stderr).contains("β must lie in [0, 1)"));
    let range = fit(&["ddc", &data, "--states", "5"]);
    assert!(String::from_utf8_lossy(&range.stderr).contains("out of range"));
}
