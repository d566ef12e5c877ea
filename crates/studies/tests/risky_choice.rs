//! The risky-choice study's quick form on choices13k.

mod common;

use choicelab_studies::{find, Metric, NoProgress, RunOptions};

#[test]
fn cpt_beats_eu_and_ev_held_out_on_choices13k() {
    let Some(data) = common::data_from_env("the risky-choice test") else {
        return;
    };
    let report = common::run("risky-choice", &RunOptions::quick(&[]).with_data(data));
    let number = |name: &str| common::number(&report, name);
    // c13k_selections.csv: 14,568 rows, 13,006 problems (SYSTEMS.md, the data's README).
    assert_eq!(number("rows"), 14568.0);
    assert_eq!(number("problems"), 13006.0);
    for key in [
        "ev.r2",
        "eu.r2",
        "cpt.r2",
        "cpt.lambda",
        "cpt.alpha",
        "cpt.gamma",
    ] {
        assert!(number(key).is_finite(), "{key}");
    }
    assert!(number("cpt.r2") > number("eu.r2") && number("eu.r2") > number("ev.r2"));
    assert!(number("cpt.r2") < number("cpt.insample_r2"));
    assert!(number("cpt.alpha.se") > 0.0 && number("cpt.alpha.se") < 0.05);
    assert!(number("ev_logistic.r2") > number("ev.r2") - 0.01);
    assert_eq!(report.metrics["verdict"], Metric::Text("reproduced".into()));
    assert!(report.figures.iter().any(|f| f.svg.starts_with("<svg")));
}

#[test]
fn without_data_it_asks_for_the_folder() {
    let err = find("risky-choice")
        .unwrap()
        .run(&RunOptions::default(), &mut NoProgress)
        .unwrap_err();
    assert!(
        matches!(err, choicelab_core::Error::MissingData(_)),
        "{err}"
    );
    assert!(err.to_string().contains("choices13k"), "{err}");
}
