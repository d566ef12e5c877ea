//! The daily-dilemmas study: its readers on the shipped files, the value scores against counts
//! read off the excerpt by hand, the planted chooser, and the local model on two dilemmas.

mod common;

use std::collections::HashMap;
use std::path::Path;

use choicelab_core::data::{DataDir, DataOrigin};
use choicelab_core::Error;
use choicelab_studies::daily_dilemmas::{
    read_actions, read_dilemmas, read_values, score_values, ActionType, Theory,
};
use choicelab_studies::{find, Metric, NoProgress, RunOptions};

fn folder(data: &DataDir) -> std::path::PathBuf {
    data.root().join("dailydilemmas")
}

#[test]
fn the_readers_read_the_shipped_files() {
    let Some(data) = common::data_from_env("the daily-dilemmas reader test") else {
        return;
    };
    let dir = folder(&data);
    let dilemmas = read_dilemmas(&dir.join("dilemma.csv")).unwrap();
    assert_eq!(dilemmas.len(), 1360);
    assert_eq!((dilemmas[0].row, dilemmas[0].idx), (0, 55));
    // A quoted field with commas inside stays one field.
    assert!(dilemmas[0]
        .situation
        .starts_with("You're a project manager in a marketing firm. You notice a colleague"));
    assert!(dilemmas[0]
        .situation
        .ends_with("report this to your superior?"));
    assert_eq!(dilemmas[1359].row, 1359);
    let values = read_values(&dir.join("values.csv")).unwrap();
    assert_eq!(values.values.len(), 301);
    assert_eq!(values.label("honesty", Theory::Mft), Some(Some("Fairness")));
    assert_eq!(
        values.label("honesty", Theory::Virtue),
        Some(Some("Truthfulness"))
    );
    assert_eq!(values.label("self", Theory::Wvs), Some(None));
    assert_eq!(values.label("no such value", Theory::Wvs), None);
    assert_eq!(values.labels_of(Theory::Wvs).len(), 4);
    assert_eq!(values.labels_of(Theory::Mft).len(), 5);
    let rows = read_actions(&dir.join("dilemmas_with_detail_by_action_test.csv")).unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(
        (rows[1].idx, rows[1].action_type),
        (55, ActionType::NotToDo)
    );
    assert_eq!(
        rows[1].values,
        ["avoidance of conflict", "tolerance", "self", "complicity"]
    );
    assert_eq!(
        rows[1].labels(Theory::Wvs),
        [
            Some("Survival".into()),
            Some("Self-expression".into()),
            None,
            None
        ]
    );
    assert_eq!(rows[1].gpt4, Some(ActionType::ToDo));
}

#[test]
fn a_bad_line_is_named_by_file_line_and_field() {
    let Some(data) = common::data_from_env("the daily-dilemmas bad-line test") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(folder(&data).join("dilemma.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert!(lines[5].starts_with("4,283,"));
    lines[5] = lines[5].replacen(",283,", ",2x3,", 1);
    let path = dir.path().join("dilemma.csv");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let Err(error) = read_dilemmas(&path) else {
        panic!("a bad idx was read");
    };
    let error = error.to_string();
    assert!(
        error.contains(&format!("{}:6", path.display())) && error.contains("`idx`"),
        "{error}"
    );

    let text =
        std::fs::read_to_string(folder(&data).join("dilemmas_with_detail_by_action_test.csv"))
            .unwrap();
    let broken = text.replacen(
        "\"['Care', 'Fairness', nan, 'Authority']\"",
        "\"['Care', Fairness]\"",
        1,
    );
    assert_ne!(broken, text);
    let path = dir.path().join("actions.csv");
    std::fs::write(&path, broken).unwrap();
    let Err(error) = read_actions(&path) else {
        panic!("a bad list was read");
    };
    let error = error.to_string();
    assert!(
        error.contains(&format!("{}:3", path.display())) && error.contains("`mft`"),
        "{error}"
    );
}

#[test]
fn value_scores_from_gpt4s_stored_answers_match_counts_read_by_hand() {
    let Some(data) = common::data_from_env("the daily-dilemmas golden test") else {
        return;
    };
    let dir = folder(&data);
    let values = read_values(&dir.join("values.csv")).unwrap();
    let rows = read_actions(&dir.join("dilemmas_with_detail_by_action_test.csv")).unwrap();
    let choices: HashMap<u64, ActionType> = rows
        .iter()
        .filter_map(|r| r.gpt4.map(|c| (r.idx, c)))
        .collect();
    let scores = score_values(&rows, &choices, &values);
    assert_eq!(scores.dilemmas_scored, 4);
    // dilemmas_with_detail_by_action_test.csv (kellycyy/daily_dilemmas): gpt-4 answers to_do
    // on all four dilemmas (55, 107, 176, 257), so the to_do rows are selected. Counting the
    // mft lists by hand: to_do rows hold Fairness 4+0+1+1, Authority 2+1+0+0, Loyalty
    // 1+2+0+2, Care 0+2+0+2; not_to_do rows hold Care 1+2+0+1, Fairness 1, Authority 1+1+0+1.
    let counts = |theory, label| {
        let e = scores.label(theory, label).unwrap();
        (e.selected, e.neglected, e.score())
    };
    assert_eq!(counts(Theory::Mft, "Fairness"), (6, 1, Some(500.0 / 7.0)));
    assert_eq!(counts(Theory::Mft, "Authority"), (3, 3, Some(0.0)));
    assert_eq!(counts(Theory::Mft, "Loyalty"), (5, 0, Some(100.0)));
    assert_eq!(counts(Theory::Mft, "Care"), (4, 4, Some(0.0)));
    assert_eq!(counts(Theory::Mft, "Purity"), (0, 0, None));
    // wvs: to_do rows Traditional 2+2+0+2, Secular-rational 2+0+1+0, Survival 1+0+0+1,
    // Self-expression 0+0+0+1; not_to_do rows Survival 1+1+1+1, Self-expression 1,
    // Traditional 0+1+0+1.
    assert_eq!(counts(Theory::Wvs, "Traditional"), (6, 2, Some(50.0)));
    assert_eq!(counts(Theory::Wvs, "Survival"), (2, 4, Some(-100.0 / 3.0)));
    assert_eq!(counts(Theory::Wvs, "Self-expression"), (1, 1, Some(0.0)));
    // virtue: Truthfulness in the to_do rows of 55 and 176; Courage in the to_do rows of 107
    // and 257 and in 257's not_to_do row; Patience in 107's not_to_do row.
    assert_eq!(counts(Theory::Virtue, "Truthfulness"), (2, 0, Some(100.0)));
    assert_eq!(counts(Theory::Virtue, "Courage"), (2, 1, Some(100.0 / 3.0)));
    assert_eq!(counts(Theory::Virtue, "Patience"), (0, 1, Some(-100.0)));
    // Flipping every choice swaps S and N.
    let flipped: HashMap<u64, ActionType> = choices
        .keys()
        .map(|&idx| (idx, ActionType::NotToDo))
        .collect();
    let flipped = score_values(&rows, &flipped, &values);
    assert_eq!(flipped.label(Theory::Mft, "Loyalty").unwrap().neglected, 5);
}

#[test]
fn averaging_both_orders_removes_the_planted_position_bias() {
    let Some(data) = common::data_from_env("the daily-dilemmas planted test") else {
        return;
    };
    // Readouts are exact, so only the second-order term in b separates the both-order mean
    // from the planted mean (0.015 at b = 1); samples add noise of about 0.005.
    for (mode, tolerance, effect_tolerance) in [("readout", 0.02, 1e-9), ("sample", 0.03, 0.02)] {
        let options = RunOptions::quick(&[
            "chooser=sim",
            &format!("mode=\"{mode}\""),
            "samples_per_order=4",
            "sim.position_bias=1.0",
        ])
        .with_data(data.clone());
        let report = common::run("daily-dilemmas", &options);
        let number = |name: &str| common::number(&report, name);
        let planted = number("sim.planted_do_rate");
        assert_eq!(number("n_dilemmas"), 1360.0);
        assert!((number("do_rate") - planted).abs() < tolerance, "{mode}");
        assert!(number("do_rate.order_do_first") - planted > 0.1, "{mode}");
        assert!(number("do_rate.order_not_first") - planted < -0.1, "{mode}");
        let effect = number("sim.planted_position_effect");
        assert!(effect > 0.1, "{effect}");
        assert!(
            (number("position_bias") - effect).abs() < effect_tolerance,
            "{mode}"
        );
        assert_eq!(
            report.metrics["tier"],
            Metric::Text("planted chooser".into())
        );
        assert_eq!(
            report.metrics["actions_file"],
            Metric::Text("excerpt".into())
        );
    }
}

/// Writes a data folder of 20 synthetic dilemmas, one per ordered pair of MFT labels: the
/// to_do action serves a value of the first label, not_to_do one of the second.
fn synthetic_folder(root: &Path) {
    let dir = root.join("dailydilemmas");
    std::fs::create_dir_all(&dir).unwrap();
    let labels = ["Care", "Fairness", "Loyalty", "Authority", "Purity"];
    let mut values = String::from(",value,WVS,MFT,Virtue,Emotion,Maslow\n");
    for (i, label) in labels.iter().enumerate() {
        values.push_str(&format!("{i},v {label},,{label},,,\n"));
    }
    let mut dilemmas = String::from(",idx,basic_situation,dilemma_situation\n");
    let mut actions =
        String::from("idx,action_type,action,values_names,wvs,mft,virtue,emotion,maslow\n");
    let mut n = 0;
    for (a, first) in labels.iter().enumerate() {
        for (b, second) in labels.iter().enumerate() {
            if a == b {
                continue;
            }
            dilemmas.push_str(&format!(
                "{n},{},basic,\"Dilemma {n}, {first} or {second}: do you act?\"\n",
                100 + n
            ));
            for (kind, label) in [("to_do", first), ("not_to_do", second)] {
                actions.push_str(&format!(
                    "{},{kind},act,['v {label}'],[nan],['{label}'],[nan],[nan],[nan]\n",
                    100 + n
                ));
            }
            n += 1;
        }
    }
    std::fs::write(dir.join("values.csv"), values).unwrap();
    std::fs::write(dir.join("dilemma.csv"), dilemmas).unwrap();
    std::fs::write(dir.join("dilemmas_with_detail_by_action.csv"), actions).unwrap();
}

#[test]
fn the_scores_order_the_labels_as_planted() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_folder(dir.path());
    let data = DataDir::new(dir.path().to_path_buf(), DataOrigin::Explicit);
    for seed in 0..3 {
        let options = RunOptions::quick(&[
            "chooser=sim",
            "sim.value_weight_sd=0",
            &format!("sim.seed={seed}"),
        ])
        .with_data(data.clone());
        let report = common::run("daily-dilemmas", &options);
        assert_eq!(report.metrics["actions_file"], Metric::Text("full".into()));
        assert_eq!(common::number(&report, "sim.labels_scored"), 5.0);
        // Every pair of labels meets once each way, so a label's score counts the labels
        // planted below it: exactly the planted order.
        assert_eq!(common::number(&report, "sim.label_spearman"), 1.0, "{seed}");
        assert_eq!(common::number(&report, "sim.top_label_recovered"), 1.0);
    }
}

#[test]
fn missing_data_is_missing_data() {
    let study = find("daily-dilemmas").unwrap();
    let error = study
        .run(&RunOptions::quick(&["chooser=sim"]), &mut NoProgress)
        .unwrap_err();
    assert!(matches!(error, Error::MissingData(_)), "{error}");
    let empty = tempfile::tempdir().unwrap();
    let data = DataDir::new(empty.path().to_path_buf(), DataOrigin::Explicit);
    let error = study
        .run(
            &RunOptions::quick(&["chooser=sim"]).with_data(data),
            &mut NoProgress,
        )
        .unwrap_err();
    assert!(matches!(error, Error::MissingData(_)), "{error}");
    assert!(
        error.to_string().contains("dailydilemmas/dilemma.csv"),
        "{error}"
    );
}

#[test]
fn the_local_model_answers_two_dilemmas() {
    let Some(data) = common::data_from_env("the daily-dilemmas local-model test") else {
        return;
    };
    if !common::local_model_present() {
        return;
    }
    let options = RunOptions::quick(&["dilemmas=2"]).with_data(data);
    let report = common::run("daily-dilemmas", &options);
    let number = |name: &str| common::number(&report, name);
    assert_eq!(number("n_dilemmas"), 2.0);
    assert_eq!(number("sim.n_dilemmas"), 1360.0);
    assert_eq!(
        report.metrics["tier"],
        Metric::Text("language model".into())
    );
    let mass = number("label_mass");
    assert!(mass > 0.0 && mass <= 1.0 + 1e-9, "{mass}");
    for key in [
        "do_rate",
        "do_rate.order_do_first",
        "do_rate.order_not_first",
    ] {
        let p = number(key);
        assert!((0.0..=1.0).contains(&p), "{key} = {p}");
    }
    assert!(number("position_bias").abs() <= 0.5);
}

#[test]
fn an_endpoint_serving_the_planted_chooser_answers_as_the_planted_chooser_does() {
    use choicelab_agents::remote::mock::MockServer;
    use choicelab_studies::daily_dilemmas::{
        load_actions, load_dilemmas, load_values, plant, PlantedChooser, SimSettings,
    };
    let Some(data) = common::data_from_env("the daily-dilemmas endpoint test") else {
        return;
    };
    let dilemmas = load_dilemmas(Some(&data)).unwrap();
    let values = load_values(Some(&data)).unwrap();
    let actions = load_actions(Some(&data)).unwrap();
    let settings = SimSettings::default();
    let planted = plant(&settings, &dilemmas, &values, &actions.rows);
    let chooser = PlantedChooser::new(&dilemmas, &planted.utilities, settings.position_bias);
    let server = MockServer::backed_by(Box::new(chooser)).unwrap();
    let common_settings = ["dilemmas=24", "mode=sample", "samples_per_order=4"];
    let mut remote: Vec<String> = common_settings.iter().map(|s| s.to_string()).collect();
    remote.extend([
        "chooser=openai".to_owned(),
        format!("chooser.base_url=\"{}\"", server.base_url()),
        "chooser.model=planted".to_owned(),
        "chooser.cache=none".to_owned(),
    ]);
    let remote: Vec<&str> = remote.iter().map(String::as_str).collect();
    let through_http = common::run(
        "daily-dilemmas",
        &RunOptions::quick(&remote).with_data(data.clone()),
    );
    let mut direct: Vec<&str> = common_settings.to_vec();
    direct.push("chooser=sim");
    let direct = common::run(
        "daily-dilemmas",
        &RunOptions::quick(&direct).with_data(data),
    );
    // The same seeded draws, whether the planted chooser is asked in-process or over HTTP:
    // 24 dilemmas × 2 orders × 4 samples, plus one greedy answer per dilemma.
    assert_eq!(server.requests(), 24 * 2 + 24);
    for (llm, sim) in [
        ("do_rate", "sim.subset.do_rate"),
        ("position_bias", "sim.subset.position_bias"),
        ("do_rate.single_order", "sim.subset.do_rate.single_order"),
    ] {
        assert_eq!(
            common::number(&through_http, llm),
            common::number(&direct, sim),
            "{llm}"
        );
    }
}
