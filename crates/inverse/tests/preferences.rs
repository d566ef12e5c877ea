//! Segment-preference models and the shipped human comparisons.

use std::path::{Path, PathBuf};

use choicelab_core::npy::NpyArray;
use choicelab_inverse::preferences::{
    HumanPreferences, PreferenceModel, SegmentDifference, CONDITIONS,
};

fn human_folder() -> Option<PathBuf> {
    std::env::var_os("CHOICELAB_DATA").map(|d| PathBuf::from(d).join("delivery/human_data"))
}

#[test]
fn the_shipped_deterministic_labels_pin_the_sign_convention() {
    let Some(folder) = human_folder() else {
        eprintln!("CHOICELAB_DATA unset: the human preference tests are skipped");
        return;
    };
    let mut total = 0;
    for condition in CONDITIONS {
        let data = HumanPreferences::read(&folder, condition).expect(condition);
        total += data.labels.len();
        for (model, kind) in [
            (PreferenceModel::PartialReturn, "det_pr"),
            (PreferenceModel::Regret, "det_regret"),
        ] {
            let shipped = HumanPreferences::synthetic_labels(&folder, condition, kind).unwrap();
            let ours: Vec<f64> = data
                .differences
                .iter()
                .map(|d| model.deterministic_label(d))
                .collect();
            assert_eq!(ours, shipped, "{condition} {kind}");
        }
        for model in [PreferenceModel::PartialReturn, PreferenceModel::Regret] {
            let ll = model
                .log_likelihood(&data.differences, &data.labels, 1.0)
                .unwrap();
            assert!(ll.is_finite() && ll < 0.0, "{condition}: {ll}");
        }
    }
    let control = HumanPreferences::read(&folder, "Privileged-Control").unwrap();
    assert_eq!(control.labels.len(), 1793);
    let count = |y: f64| control.labels.iter().filter(|l| **l == y).count();
    assert_eq!((count(1.0), count(0.5), count(0.0)), (888, 354, 551));
    assert_eq!(control.segments[0][0].start, (4, 2));
    assert_eq!(control.segments[0][0].moves, [(-1, 0), (0, -1), (0, -1)]);
    assert_eq!(total, 9630, "comparisons over the nine conditions");
}

#[test]
fn regret_reduces_to_partial_return_when_v_star_is_constant() {
    let d = SegmentDifference {
        partial_return: 2.5,
        start_value: 0.0,
        end_value: 0.0,
    };
    for tau in [0.3, 1.0, 7.0] {
        let pr = PreferenceModel::PartialReturn.probability(&d, tau).unwrap();
        let regret = PreferenceModel::Regret.probability(&d, tau).unwrap();
        assert_eq!(pr, regret);
    }
    // The same partial return, but segment 1 starts lower and ends higher: regret prefers it.
    let shaped = SegmentDifference {
        partial_return: 0.0,
        start_value: -3.0,
        end_value: 2.0,
    };
    assert_eq!(
        PreferenceModel::PartialReturn
            .probability(&shaped, 1.0)
            .unwrap(),
        0.5
    );
    assert!(PreferenceModel::Regret.probability(&shaped, 1.0).unwrap() > 0.99);
    // Swapping the segments gives the complementary probability.
    let swapped = SegmentDifference {
        partial_return: -1.0,
        start_value: 3.0,
        end_value: -2.0,
    };
    let forward = SegmentDifference {
        partial_return: 1.0,
        start_value: -3.0,
        end_value: 2.0,
    };
    for model in [PreferenceModel::PartialReturn, PreferenceModel::Regret] {
        let p = model.probability(&forward, 2.0).unwrap();
        let q = model.probability(&swapped, 2.0).unwrap();
        assert!((p + q - 1.0).abs() < 1e-15 && (0.0..=1.0).contains(&p));
    }
}

#[test]
fn bad_input_is_reported() {
    let d = [SegmentDifference {
        partial_return: 1.0,
        start_value: 0.0,
        end_value: 0.0,
    }];
    let model = PreferenceModel::Regret;
    for tau in [0.0, -1.0, f64::NAN] {
        let message = model.probability(&d[0], tau).unwrap_err().to_string();
        assert!(message.contains("τ"), "{message}");
    }
    assert!(model
        .log_likelihood(&d, &[1.5], 1.0)
        .unwrap_err()
        .to_string()
        .contains("label 0"));
    assert!(model
        .log_likelihood(&d, &[], 1.0)
        .unwrap_err()
        .to_string()
        .contains("0 labels"));
    let folder = tempfile::tempdir().unwrap();
    write_npy(folder.path(), "Bad_full_filtered_X.npy", &[2, 3], &[0.0; 6]);
    write_npy(folder.path(), "Bad_full_filtered_Y.npy", &[2], &[1.0, 0.5]);
    write_npy(
        folder.path(),
        "Bad_full_filtered_segment_pairs.npy",
        &[2, 2, 4],
        &[0.0; 16],
    );
    let message = HumanPreferences::read(folder.path(), "Bad")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("Bad_full_filtered_segment_pairs.npy") && message.contains("(2, 2, 4, 2)"),
        "{message}"
    );
    write_npy(
        folder.path(),
        "Bad_full_filtered_segment_pairs.npy",
        &[2, 2, 4, 2],
        &[0.0; 32],
    );
    write_npy(folder.path(), "Bad_full_filtered_Y.npy", &[2], &[1.0, 0.7]);
    let message = HumanPreferences::read(folder.path(), "Bad")
        .unwrap_err()
        .to_string();
    assert!(message.contains("0.7"), "{message}");
    let missing = HumanPreferences::read(folder.path(), "Absent")
        .unwrap_err()
        .to_string();
    assert!(missing.contains("Absent_full_filtered_X.npy"), "{missing}");
}

/// Writes `values` with `shape` as a `.npy` file.
fn write_npy(folder: &Path, name: &str, shape: &[usize], values: &[f64]) {
    let array = NpyArray {
        shape: shape.to_vec(),
        values: values.to_vec(),
    };
    std::fs::write(folder.join(name), array.to_bytes()).unwrap();
}
