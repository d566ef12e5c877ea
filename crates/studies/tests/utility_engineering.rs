//! utility-engineering's language-model tier: through the loopback mock endpoint (answers and
//! cache checked end to end), on the local model, and its configuration errors.

mod common;

use std::collections::{BTreeMap, HashMap};

use choicelab_agents::remote::mock::{MockChooser, MockServer};
use choicelab_core::data::DataDir;
use choicelab_studies::{find, NoProgress, Report, RunOptions};

/// A small planted part, so the tests spend their time on the language-model tier.
const SMALL_SIM: [&str; 2] = ["outcomes=20", "round_size=20"];

fn options(data: &DataDir, overrides: &[String]) -> RunOptions {
    let mut all: Vec<&str> = SMALL_SIM.to_vec();
    all.extend(overrides.iter().map(String::as_str));
    RunOptions::quick(&all).with_data(data.clone())
}

/// The outcome sentences the tier asks with `llm.outcomes = n`: spread evenly over the file.
fn asked_outcomes(data: &DataDir, n: usize) -> Vec<String> {
    let path = data
        .file("utility-engineering/options_hierarchical.json")
        .unwrap();
    let parsed: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let all: Vec<String> = parsed.into_values().flatten().collect();
    (0..n).map(|k| all[k * all.len() / n].clone()).collect()
}

#[test]
fn an_endpoint_is_elicited_and_a_rerun_is_answered_from_the_cache() {
    let Some(data) = common::data_from_env("the utility-engineering endpoint test") else {
        return;
    };
    // The mock prefers the k-th asked outcome with utility 0.7·k: a logit chooser with no
    // position bias, answering with token logprobs.
    let texts = asked_outcomes(&data, 6);
    let utilities: HashMap<String, f64> = texts
        .iter()
        .enumerate()
        .map(|(k, t)| (t.clone(), 0.7 * k as f64))
        .collect();
    let server = MockServer::start(MockChooser {
        utilities,
        logprobs: true,
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("answers.jsonl");
    let overrides = vec![
        "chooser=openai".to_owned(),
        format!("chooser.base_url=\"{}\"", server.base_url()),
        "chooser.model=mock".to_owned(),
        format!("chooser.cache=\"{}\"", cache.display()),
        "llm.outcomes=6".to_owned(),
        "llm.round_size=5".to_owned(),
        "llm.holdout_share=0.2".to_owned(),
    ];
    let report = common::run("utility-engineering", &options(&data, &overrides));
    let number = |name: &str| common::number(&report, name);
    assert_eq!(number("llm.pairs"), 15.0);
    // One readout per order and pair.
    assert_eq!(number("llm.answers"), 30.0);
    assert_eq!(server.requests(), 30);
    assert_eq!(number("llm.position_bias_rate"), 0.0);
    assert!((number("llm.first_position_share") - 0.5).abs() < 1e-9);
    assert_eq!(number("llm.holdout_accuracy"), 1.0);
    assert!(number("llm.label_strength") > 0.1);
    let utilities = report
        .tables
        .iter()
        .find(|t| t.title.starts_with("The language model's fitted utilities"))
        .expect("the utilities table");
    // Highest fitted utility first: the planted order, reversed.
    let order: Vec<&str> = utilities.rows.iter().map(|r| r[0].as_str()).collect();
    let planted: Vec<&str> = texts.iter().rev().map(String::as_str).collect();
    assert_eq!(order, planted);

    let again = common::run("utility-engineering", &options(&data, &overrides));
    assert_eq!(server.requests(), 30, "the rerun asked the endpoint again");
    for key in [
        "llm.holdout_accuracy",
        "llm.holdout_log_loss",
        "llm.label_strength",
        "llm.cycle_rate",
        "llm.first_position_share",
    ] {
        assert_eq!(common::number(&again, key), number(key), "{key}");
    }
}

#[test]
fn the_local_model_is_elicited_when_present() {
    let Some(data) = common::data_from_env("the utility-engineering local-model test") else {
        return;
    };
    if !common::local_model_present() {
        return;
    }
    let overrides = vec!["llm.outcomes=4".to_owned(), "llm.round_size=2".to_owned()];
    let report = common::run("utility-engineering", &options(&data, &overrides));
    let number = |name: &str| common::number(&report, name);
    assert_eq!(number("llm.pairs"), 6.0);
    assert_eq!(number("llm.answers"), 12.0);
    let share = number("llm.first_position_share");
    assert!((0.0..=1.0).contains(&share), "{share}");
    assert!(report
        .markdown()
        .contains("SmolLM2-135M-Instruct.Q4_1.gguf"));
}

fn run_err(options: &RunOptions) -> String {
    match find("utility-engineering")
        .unwrap()
        .run(options, &mut NoProgress)
    {
        Ok(report) => panic!("expected an error, got {:?}", report_status(&report)),
        Err(error) => error.to_string(),
    }
}

fn report_status(report: &Report) -> Option<&choicelab_studies::Metric> {
    report.metrics.get("llm.status")
}

#[test]
fn sim_asks_no_model_and_bad_tier_settings_name_their_key() {
    let report = common::run(
        "utility-engineering",
        &RunOptions::quick(&["outcomes=20", "round_size=20", "chooser=sim"]),
    );
    assert_eq!(
        report_status(&report),
        Some(&choicelab_studies::Metric::Text(
            "not asked: chooser = sim".into()
        ))
    );
    let error = run_err(&RunOptions::quick(&[
        "outcomes=20",
        "round_size=20",
        "chooser=sim",
        "llm.outcomes=2",
    ]));
    assert!(error.contains("llm.outcomes"), "{error}");
    let error = run_err(&RunOptions::quick(&["chooser=openai", "outcomes=20"]));
    assert!(error.contains("chooser.model"), "{error}");
}
