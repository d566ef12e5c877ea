//! Golden values from choix (commit 7494ad3, `tests/data/*.json`, in the data folder's
//! `choix/`) and from SYSTEMS.md (the exact rankings optimum and choix's regularised test).

use choicelab_choice::{BradleyTerry, FittedUtilities, PlackettLuce, SpectralRanking};
use choicelab_core::{Comparisons, SetChoices};
use serde_json::Value;

fn case(name: &str) -> Option<Value> {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: choix golden file {name} skipped");
        return None;
    };
    let path = std::path::Path::new(&dir).join("choix").join(name);
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// choix's own tolerance: atol 1e-4, rtol 1e-5.
fn assert_close_choix(fit: &FittedUtilities, expected: &[f64]) {
    for (a, b) in fit.theta.iter().zip(expected) {
        assert!(
            (a - b).abs() <= 1e-4 + 1e-5 * b.abs(),
            "{} {:?} vs {expected:?}",
            fit.model,
            fit.theta
        );
    }
}

fn assert_close(actual: &[f64], expected: &[f64], tolerance: f64) {
    for (a, b) in actual.iter().zip(expected) {
        assert!((a - b).abs() <= tolerance, "{actual:?} vs {expected:?}");
    }
}

#[test]
fn pairwise_cases() {
    for name in ["testcase-pairwise-1.json", "testcase-pairwise-2.json"] {
        let Some(case) = case(name) else { return };
        let n = case["n_items"].as_u64().unwrap() as usize;
        let wins: Vec<(u32, u32)> = case["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let p = ids(p);
                (p[0], p[1])
            })
            .collect();
        let data = Comparisons::from_wins(n, &wins).unwrap();
        let ml = numbers(&case["ml_est"]);
        let newton = BradleyTerry::default().fit(&data).unwrap();
        assert_close_choix(&newton, &ml);
        assert_close(&newton.theta, &ml, 1e-6);
        assert_close_choix(
            &SpectralRanking::default().ilsr_pairwise(&data).unwrap(),
            &ml,
        );
        assert_close_choix(
            &SpectralRanking::default().lsr_pairwise(&data).unwrap(),
            &numbers(&case["lsr_est"]),
        );
    }
}

#[test]
fn ranking_cases() {
    for name in ["testcase-rankings-1.json", "testcase-rankings-2.json"] {
        let Some(case) = case(name) else { return };
        let n = case["n_items"].as_u64().unwrap() as usize;
        let rankings: Vec<Vec<u32>> = case["data"].as_array().unwrap().iter().map(ids).collect();
        let data = SetChoices::from_rankings(n, &rankings).unwrap();
        let ml = numbers(&case["ml_est"]);
        assert_close_choix(&PlackettLuce::default().fit(&data).unwrap(), &ml);
        assert_close_choix(
            &SpectralRanking::default().ilsr_choices(&data).unwrap(),
            &ml,
        );
        assert_close_choix(
            &SpectralRanking::default().lsr_choices(&data).unwrap(),
            &numbers(&case["lsr_est"]),
        );
    }
}

#[test]
fn top1_cases() {
    for name in ["testcase-top1-1.json", "testcase-top1-2.json"] {
        let Some(case) = case(name) else { return };
        let n = case["n_items"].as_u64().unwrap() as usize;
        let choices: Vec<(u32, Vec<u32>)> = case["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_u64().unwrap() as u32, ids(&c[1])))
            .collect();
        let data = SetChoices::from_top1(n, &choices).unwrap();
        let ml = numbers(&case["ml_est"]);
        let newton = PlackettLuce::default().fit(&data).unwrap();
        assert_close_choix(&newton, &ml);
        assert_close(&newton.theta, &ml, 1e-6);
        assert_close_choix(
            &SpectralRanking::default().lsr_choices(&data).unwrap(),
            &numbers(&case["lsr_est"]),
        );
    }
}

#[test]
fn exact_rankings_optimum_from_systems_md() {
    let rankings = vec![vec![0, 1, 2], vec![3, 2, 0], vec![1, 3]];
    let data = SetChoices::from_rankings(4, &rankings).unwrap();
    let exact = [-0.44330849, 0.69506787, -0.67060957, 0.41885019];
    assert_close(
        &PlackettLuce::default().fit(&data).unwrap().theta,
        &exact,
        1e-6,
    );
    let tight = SpectralRanking {
        tolerance: 1e-12,
        ..SpectralRanking::default()
    };
    assert_close(&tight.ilsr_choices(&data).unwrap().theta, &exact, 1e-6);
}

#[test]
fn regularised_golden_pins_the_penalty_convention() {
    // choix tests: opt_pairwise with alpha = 0.5 on these 20 comparisons among 8 items.
    let wins = [
        (7, 3),
        (2, 0),
        (5, 2),
        (4, 2),
        (2, 1),
        (4, 5),
        (6, 3),
        (5, 4),
        (7, 0),
        (2, 3),
        (4, 0),
        (0, 4),
        (6, 5),
        (3, 2),
        (3, 4),
        (3, 4),
        (5, 2),
        (7, 3),
        (7, 6),
        (6, 5),
    ];
    let data = Comparisons::from_wins(8, &wins).unwrap();
    let fit = BradleyTerry::with_alpha(0.5).fit(&data).unwrap();
    let expected = [
        -0.51974039,
        -0.46280878,
        -0.31376862,
        -0.06854694,
        -0.3185146,
        -0.00346107,
        0.63032783,
        1.05651257,
    ];
    assert_close(&fit.theta, &expected, 1e-6);
}
