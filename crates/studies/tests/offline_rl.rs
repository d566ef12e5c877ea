//! `offline-rl` and `ssorl` in their quick forms: the metrics the issue names, determinism
//! whatever the thread count, and clear errors for bad configurations. Both studies share one
//! generated data suite in this process.

mod common;

use choicelab_studies::{find, NoProgress, RunOptions};
use common::{metrics_at, number, run};

const LEARNERS: [&str; 4] = ["bc", "td3bc", "iql", "cql"];

#[test]
fn offline_rl_quick_scores_every_learner_on_every_level() {
    let report = run("offline-rl", &RunOptions::quick(&[]));
    let (min, max) = (
        number(&report, "pendulum.ref_min_score"),
        number(&report, "pendulum.ref_max_score"),
    );
    // Pendulum's uniform random policy scores about −1,200; the agent must beat it.
    assert!((-1_600.0..-900.0).contains(&min), "{min}");
    assert!(max > min + 100.0, "{min} {max}");
    for level in ["medium", "medium-replay"] {
        let data = number(&report, &format!("pendulum.{level}.data_score"));
        assert!(data.is_finite() && data < 100.0, "{level}: {data}");
        let best = number(&report, &format!("pendulum.{level}.data_best"));
        assert!(
            best >= data,
            "{level}: best episode {best} below the mean {data}"
        );
        for learner in LEARNERS {
            let score = number(&report, &format!("pendulum.{level}.{learner}"));
            // A normalised score far outside [−50, 150] would mean a broken scale.
            assert!(
                (-60.0..160.0).contains(&score),
                "{level} {learner}: {score}"
            );
        }
    }
    assert_eq!(report.figures.len(), 3);
    assert!(report
        .markdown()
        .contains("Pendulum-v1 medium-replay (data: mean episode"));
}

#[test]
fn ssorl_quick_reports_the_named_metrics() {
    let report = run("ssorl", &RunOptions::quick(&[]));
    for key in ["p10.ssorl", "p10.labelled_only", "full", "p100.ssorl"] {
        let score = number(&report, &format!("pendulum.medium-expert.{key}"));
        assert!((-60.0..160.0).contains(&score), "{key}: {score}");
    }
    // At 100% labelled the three arms are the same training run.
    assert_eq!(
        number(&report, "pendulum.medium-expert.p100.ssorl"),
        number(&report, "pendulum.medium-expert.full")
    );
    let mse = number(&report, "pendulum.idm_mse");
    // Actions lie in [−2, 2]: labels no worse than a constant guess (variance at most 4).
    assert!(mse > 0.0 && mse < 4.0, "{mse}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let options = RunOptions::quick(&[
        "learner.steps=100",
        "learner.eval_every=50",
        "algorithms=[\"td3bc\", \"cql\"]",
    ]);
    assert_eq!(
        metrics_at("offline-rl", &options, 1),
        metrics_at("offline-rl", &options, 2)
    );
    let options =
        RunOptions::quick(&["learner.steps=100", "learner.eval_every=50", "idm.steps=50"]);
    assert_eq!(
        metrics_at("ssorl", &options, 1),
        metrics_at("ssorl", &options, 2)
    );
}

#[test]
fn bad_configurations_are_named() {
    for (study, set, expect) in [
        (
            "offline-rl",
            "algorithms=[\"sac\"]",
            "unknown algorithm `sac`",
        ),
        ("offline-rl", "levels=[\"hard\"]", "unknown level `hard`"),
        (
            "offline-rl",
            "envs=[\"CartPole-v1\"]",
            "no data-generation preset",
        ),
        ("offline-rl", "seeds=0", "`seeds`: must be positive"),
        ("ssorl", "levels=[\"hard\"]", "unknown level `hard`"),
        ("ssorl", "shares=[0.0]", "0 is outside (0, 1]"),
    ] {
        let err = find(study)
            .unwrap()
            .run(&RunOptions::quick(&[set]), &mut NoProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{study} {set}: {err}");
    }
}
