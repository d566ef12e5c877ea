//! Invariants of the Luce-family fits, and their errors on bad input.

use choicelab_choice::{BradleyTerry, PlackettLuce, Solver, SpectralRanking};
use choicelab_core::{Comparisons, Items, Outcome, SetChoices};
use proptest::prelude::*;
use rand::RngExt;

#[test]
fn two_item_fit_has_the_closed_form_and_standard_error() {
    // 30 wins of a over b and 10 of b over a: θ_a − θ_b = logit(0.75), Var = 1/(n·p·(1−p)).
    let mut data = Comparisons::new(Items::numbered(2));
    data.push(0, 1, Outcome::First, 30.0).unwrap();
    data.push(1, 0, Outcome::First, 10.0).unwrap();
    let fit = BradleyTerry::default().fit(&data).unwrap();
    let d = (0.75f64 / 0.25).ln();
    assert!((fit.theta[0] - d / 2.0).abs() < 1e-10 && (fit.theta[1] + d / 2.0).abs() < 1e-10);
    let se = 0.5 * (1.0f64 / (40.0 * 0.75 * 0.25)).sqrt();
    let errors = fit.std_errors.unwrap();
    assert!((errors[0] - se).abs() < 1e-9, "{errors:?} vs {se}");
    let loglik = 30.0 * 0.75f64.ln() + 10.0 * 0.25f64.ln();
    assert!((fit.loglik - loglik).abs() < 1e-9);
}

#[test]
fn soft_labels_equal_aggregated_counts() {
    let mut soft = Comparisons::new(Items::numbered(3));
    soft.push(0, 1, Outcome::Probability(0.75), 4.0).unwrap();
    soft.push(1, 2, Outcome::Probability(0.4), 5.0).unwrap();
    soft.push(2, 0, Outcome::Probability(0.5), 2.0).unwrap();
    let mut counts = Comparisons::new(Items::numbered(3));
    for (a, b, wins, losses) in [(0, 1, 3.0, 1.0), (1, 2, 2.0, 3.0), (2, 0, 1.0, 1.0)] {
        counts.push(a, b, Outcome::First, wins).unwrap();
        counts.push(a, b, Outcome::Second, losses).unwrap();
    }
    let a = BradleyTerry::default().fit(&soft).unwrap();
    let b = BradleyTerry::default().fit(&counts).unwrap();
    for (x, y) in a.theta.iter().zip(&b.theta) {
        assert!((x - y).abs() < 1e-10);
    }
}

#[test]
fn disconnected_graphs_are_errors_that_name_the_components() {
    let mut items = Items::default();
    for name in ["apple", "pear", "fig", "kiwi"] {
        items.intern(name);
    }
    let mut data = Comparisons::new(items);
    data.push(0, 1, Outcome::First, 1.0).unwrap();
    data.push(1, 0, Outcome::First, 1.0).unwrap();
    data.push(2, 3, Outcome::First, 1.0).unwrap();
    data.push(3, 2, Outcome::First, 1.0).unwrap();
    data.push(0, 2, Outcome::First, 1.0).unwrap();
    let err = BradleyTerry::default().fit(&data).unwrap_err().to_string();
    assert!(
        err.contains("not strongly connected") && err.contains("{apple, pear}"),
        "{err}"
    );
    assert!(err.contains("{fig, kiwi}"), "{err}");
    assert!(SpectralRanking::default().ilsr_pairwise(&data).is_err());
    // A penalty makes the estimate exist.
    assert!(BradleyTerry::with_alpha(0.1).fit(&data).is_ok());
    let rankings = SetChoices::from_rankings(3, &[vec![0, 1, 2]]).unwrap();
    assert!(PlackettLuce::default().fit(&rankings).is_err());
}

#[test]
fn bad_records_are_rejected() {
    let mut data = Comparisons::new(Items::numbered(2));
    assert!(data
        .push(0, 0, Outcome::First, 1.0)
        .unwrap_err()
        .to_string()
        .contains("itself"));
    assert!(data
        .push(0, 1, Outcome::Probability(1.5), 1.0)
        .unwrap_err()
        .to_string()
        .contains("outside [0, 1]"));
    assert!(data.push(0, 5, Outcome::First, 1.0).is_err());
    assert!(data.push(0, 1, Outcome::First, -1.0).is_err());
    let err = BradleyTerry::default().fit(&data).unwrap_err().to_string();
    assert!(err.contains("no comparisons"), "{err}");
    let mut choices = SetChoices::new(Items::numbered(3));
    assert!(choices.push(0, &[1, 1]).is_err());
    assert!(choices.push(0, &[]).is_err());
    assert!(BradleyTerry::with_alpha(-1.0).fit(&data).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fits_are_invariant_to_relabelling_and_agree_across_methods(
        wins in prop::collection::vec((0u32..6, 0u32..6), 30..60),
        shift in 1u32..6,
    ) {
        let wins: Vec<(u32, u32)> = wins.into_iter().filter(|(a, b)| a != b).collect();
        let data = Comparisons::from_wins(6, &wins).unwrap();
        let Ok(fit) = BradleyTerry::default().fit(&data) else {
            return Ok(()); // not strongly connected: covered above
        };
        let relabel = |i: u32| (i + shift) % 6;
        let moved: Vec<(u32, u32)> = wins.iter().map(|&(a, b)| (relabel(a), relabel(b))).collect();
        let refit = BradleyTerry::default().fit(&Comparisons::from_wins(6, &moved).unwrap()).unwrap();
        for i in 0..6u32 {
            prop_assert!((fit.theta[i as usize] - refit.theta[relabel(i) as usize]).abs() < 1e-8);
        }
        let spectral = SpectralRanking { tolerance: 1e-12, ..SpectralRanking::default() }
            .ilsr_pairwise(&data)
            .unwrap();
        let pairs: Vec<(u32, Vec<u32>)> = wins.iter().map(|&(a, b)| (a, vec![b])).collect();
        let luce = PlackettLuce::default().fit(&SetChoices::from_top1(6, &pairs).unwrap()).unwrap();
        for i in 0..6 {
            prop_assert!((fit.theta[i] - spectral.theta[i]).abs() < 1e-7);
            prop_assert!((fit.theta[i] - luce.theta[i]).abs() < 1e-8);
        }
        prop_assert!(fit.theta.iter().sum::<f64>().abs() < 1e-9);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn conjugate_gradient_steps_reach_the_dense_optimum(
        wins in prop::collection::vec((0u32..12, 0u32..12, 0.0f64..1.0), 60..150),
        alpha in prop_oneof![Just(0.0), 1e-6f64..1.0],
    ) {
        let mut data = Comparisons::new(Items::numbered(12));
        for &(a, b, y) in wins.iter().filter(|(a, b, _)| a != b) {
            data.push(a, b, Outcome::Probability(y), 1.0).unwrap();
        }
        let dense = BradleyTerry { alpha, solver: Solver::Dense, ..BradleyTerry::default() };
        let Ok(exact) = dense.fit(&data) else { return Ok(()) };
        let sparse = BradleyTerry { solver: Solver::ConjugateGradient, ..dense };
        let fit = sparse.fit(&data).unwrap();
        prop_assert!(fit.std_errors.is_none());
        prop_assert!((fit.loglik - exact.loglik).abs() < 1e-9);
        for (a, b) in fit.theta.iter().zip(&exact.theta) {
            prop_assert!((a - b).abs() < 1e-8, "{:?} vs {:?}", fit.theta, exact.theta);
        }
    }
}

#[test]
fn newton_cg_gives_the_same_bits_on_any_thread_count() {
    // 200,000 comparisons among 1,500 items, so that several parallel chunks are summed.
    let n = 1500u32;
    let mut rng = choicelab_core::rng(12345);
    let wins: Vec<(u32, u32)> = (0..200_000)
        .map(|_| {
            let a = rng.random_range(0..n);
            let b = (a + rng.random_range(1..n)) % n;
            if rng.random_range(0..3) == 0 {
                (b, a)
            } else {
                (a, b)
            }
        })
        .collect();
    let data = Comparisons::from_wins(n as usize, &wins).unwrap();
    let model = BradleyTerry {
        alpha: 1e-6,
        solver: Solver::ConjugateGradient,
        ..BradleyTerry::default()
    };
    let fit = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| model.fit(&data).unwrap())
    };
    assert_eq!(fit(1).theta, fit(3).theta);
}

#[test]
fn a_tiny_penalty_leaves_the_standard_errors_of_centred_utilities_unchanged() {
    let wins = [(0, 1), (1, 2), (2, 0), (0, 2), (1, 0), (2, 1), (0, 1)];
    let data = Comparisons::from_wins(3, &wins).unwrap();
    let plain = BradleyTerry::default().fit(&data).unwrap();
    let penalised = BradleyTerry::with_alpha(1e-9).fit(&data).unwrap();
    let (a, b) = (plain.std_errors.unwrap(), penalised.std_errors.unwrap());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
    }
}
