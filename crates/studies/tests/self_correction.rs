//! `self-correction`: the simulated tier recovers its planted rates, the metric names, bad
//! configurations, and the local model's loop on two items.

mod common;

use choicelab_studies::{find, NoProgress, RunOptions};
use common::{number, run};

#[test]
fn the_simulated_tier_recovers_its_planted_rates_and_crossings() {
    let options = RunOptions::quick(&["chooser=sim", "items=400"]);
    let report = run("self-correction", &options);
    assert_eq!(
        report.metrics.get("sim.check.verdict"),
        Some(&choicelab_studies::Metric::Text("pass".into())),
        "max z {}, crossings planted {:?} measured {:?}",
        number(&report, "sim.check.max_z"),
        report.metrics.get("sim.check.crossings_planted"),
        report.metrics.get("sim.check.crossings_measured"),
    );
    assert_eq!(number(&report, "sim.check.rates_recovered"), 1.0);
    assert_eq!(number(&report, "sim.check.crossings_match"), 1.0);
    // The planted generation chain gains most in round 1, MC stays flat.
    let gain =
        number(&report, "generation.accuracy.r1") - number(&report, "generation.accuracy.r0");
    assert!(gain > 0.2, "generation gain in round 1: {gain}");
    let drift = (number(&report, "multiple_choice.accuracy.r5")
        - number(&report, "multiple_choice.accuracy.r0"))
    .abs();
    assert!(drift < 0.1, "multiple-choice drift: {drift}");
    assert!(
        number(&report, "generation.flip_to_wrong")
            > number(&report, "multiple_choice.flip_to_wrong")
    );
    assert_eq!(number(&report, "generation.unparseable"), 0.0);
    // Same seed, same numbers.
    assert_eq!(
        run("self-correction", &options).metrics_json(),
        report.metrics_json()
    );
}

#[test]
fn metrics_carry_the_documented_names() {
    let report = run(
        "self-correction",
        &RunOptions::quick(&["chooser=sim", "items=40", "rounds=2", "bootstrap_draws=50"]),
    );
    for prefix in ["", "sim."] {
        for format in ["generation", "multiple_choice"] {
            for k in 0..=2 {
                number(&report, &format!("{prefix}{format}.accuracy.r{k}"));
            }
            assert!(report
                .number_of(&format!("{prefix}{format}.accuracy.r3"))
                .is_none());
            for name in [
                "flip_to_wrong",
                "flip_to_right",
                "unparseable",
                "correction.r1",
                "corruption.r2",
                "change.r1",
                "final_accuracy_ci_low",
            ] {
                number(&report, &format!("{prefix}{format}.{name}"));
            }
        }
    }
    assert_eq!(number(&report, "items"), 40.0);
    assert_eq!(number(&report, "rounds"), 2.0);
    assert_eq!(
        report.number_of("generation.accuracy.r2"),
        report.number_of("sim.generation.accuracy.r2"),
        "sim-only runs report the simulated tier unprefixed"
    );
    assert!(report.figures.iter().any(|f| f.file == "accuracy.svg"));
    let markdown = report.markdown();
    assert!(
        markdown.contains("Review your previous response"),
        "the prompt is quoted"
    );
}

#[test]
fn bad_configurations_name_their_key() {
    for (set, key) in [
        ("rounds=0", "rounds"),
        ("items=0", "items"),
        ("llm.items=0", "llm.items"),
        ("llm.rounds=0", "llm.rounds"),
        ("rounds=6", "planted.generation.correction"),
        (
            "planted.multiple_choice.initial=1.5",
            "planted.multiple_choice.initial",
        ),
    ] {
        let error = find("self-correction")
            .unwrap()
            .run(&RunOptions::quick(&["chooser=sim", set]), &mut NoProgress)
            .err()
            .unwrap_or_else(|| panic!("{set} was accepted"));
        assert!(
            error.to_string().contains(&format!("`{key}`")),
            "{set}: {error}"
        );
    }
}

#[test]
fn the_local_model_runs_the_loop_on_two_items() {
    if !common::local_model_present() {
        return;
    }
    let report = run(
        "self-correction",
        &RunOptions::quick(&[
            "chooser=local",
            "items=40",
            "rounds=1",
            "bootstrap_draws=50",
            "llm.items=2",
            "llm.rounds=1",
            "llm.max_tokens=24",
        ]),
    );
    assert_eq!(
        report.metrics.get("primary_tier"),
        Some(&choicelab_studies::Metric::Text("language model".into()))
    );
    assert_eq!(number(&report, "items"), 2.0);
    assert_eq!(number(&report, "llm.answers"), 8.0);
    assert!(number(&report, "llm.completion_tokens") > 0.0);
    for format in ["generation", "multiple_choice"] {
        // Four answers per format (2 items × 2 rounds), each either read or counted unreadable.
        let unparseable = number(&report, &format!("{format}.unparseable")) * 4.0;
        assert!(
            unparseable.fract() == 0.0 && (0.0..=4.0).contains(&unparseable),
            "{format}: {unparseable} unreadable answers"
        );
        for k in 0..=1 {
            let accuracy = number(&report, &format!("{format}.accuracy.r{k}"));
            // Two items: accuracy is 0, ½ or 1, and an unreadable answer is a wrong one.
            assert!(
                [0.0, 0.5, 1.0].contains(&accuracy),
                "{format} r{k}: {accuracy}"
            );
        }
    }
    let markdown = report.markdown();
    assert!(markdown.contains("conversations, verbatim"));
}

#[test]
fn an_endpoint_serving_the_simulated_solver_answers_as_the_solver_does() {
    use choicelab_agents::remote::mock::MockServer;
    use choicelab_studies::self_correction::simulated::SimulatedSolver;
    use choicelab_studies::self_correction::tasks::task_bank;
    use choicelab_studies::self_correction::Config;
    use choicelab_studies::StudyConfig;
    // The same items, rounds and greedy decoding in both tiers, so the endpoint tier (the
    // solver over HTTP, every item's round k asked at once) must equal the simulated one.
    let (items, rounds, seed) = (40, 3, 0);
    let solver = SimulatedSolver::new(&task_bank(items, seed), Config::quick().planted, seed);
    let server = MockServer::backed_by(Box::new(solver)).unwrap();
    let settings = [
        "chooser=openai".to_owned(),
        format!("chooser.base_url=\"{}\"", server.base_url()),
        "chooser.model=solver".to_owned(),
        "chooser.cache=none".to_owned(),
        format!("items={items}"),
        format!("rounds={rounds}"),
        format!("llm.items={items}"),
        format!("llm.rounds={rounds}"),
        "llm.max_tokens=16".to_owned(),
    ];
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let report = run("self-correction", &RunOptions::quick(&settings));
    // 40 items × 2 formats × (1 + 3 rounds).
    assert_eq!(server.requests(), 40 * 2 * 4);
    for format in ["generation", "multiple_choice"] {
        for key in (0..=rounds)
            .map(|k| format!("{format}.accuracy.r{k}"))
            .chain([
                format!("{format}.flip_to_wrong"),
                format!("{format}.flip_to_right"),
            ])
        {
            assert_eq!(
                number(&report, &key),
                number(&report, &format!("sim.{key}")),
                "{key}"
            );
        }
    }
}
