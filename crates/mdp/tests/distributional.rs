//! Distributional DP with stock augmentation: exactness against classic DP, CVaR identities,
//! agreement of DP, exact enumeration and Monte Carlo, and bad input.

use choicelab_core::{random_integer_mdp, random_sparse_mdp, TabularMdp};
use choicelab_mdp::distributional::{
    exact_return_law, markov_laws, monte_carlo_returns, summarise_returns, Atoms, Deviation,
    DistributionalMethod, MarkovPolicy, MarkovSearch, Objective, Rollout, StockAugmented,
    StockGrid,
};
use choicelab_mdp::{FiniteHorizon, ValueIteration};

fn integer_mdp(states: usize, actions: usize, seed: u64) -> TabularMdp {
    random_integer_mdp(states, actions, seed).unwrap()
}

#[test]
fn expectation_equals_value_iteration_on_random_mdps() {
    for seed in 0..3 {
        let mdp = random_sparse_mdp(40, 3, 4, seed).unwrap();
        let gamma = 0.9;
        let atoms = Atoms::covering(&mdp, gamma, None, 41).unwrap();
        let exact = ValueIteration::new(gamma)
            .epsilon(1e-13)
            .solve(&mdp)
            .unwrap();
        for method in [
            DistributionalMethod::ValueIteration,
            DistributionalMethod::PolicyIteration,
        ] {
            let mut planner = StockAugmented::new(
                gamma,
                None,
                atoms.clone(),
                StockGrid::single(0.0).unwrap(),
                Objective::Expectation,
            )
            .method(method);
            planner.tolerance = 1e-13;
            let solution = planner.solve(&mdp).unwrap();
            let worst = (0..40)
                .map(|s| (solution.evaluate(s).unwrap().value - exact.values[s]).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-9, "seed {seed} {method:?}: {worst}");
            assert_eq!(
                (0..40)
                    .map(|s| solution.action(0, s, 0.0))
                    .collect::<Vec<_>>(),
                exact.policy
            );
        }
    }
}

#[test]
fn expectation_with_a_horizon_equals_backward_induction() {
    let mdp = integer_mdp(12, 3, 7);
    let horizon = 9;
    let atoms = Atoms::covering(&mdp, 1.0, Some(horizon), 64).unwrap();
    let stock = StockGrid::single(0.0).unwrap();
    let solution = StockAugmented::new(1.0, Some(horizon), atoms, stock, Objective::Expectation)
        .solve(&mdp)
        .unwrap();
    let exact = FiniteHorizon::new(1.0, horizon).solve(&mdp).unwrap();
    for s in 0..12 {
        let value = solution.evaluate(s).unwrap().value;
        assert!(
            (value - exact.values[0][s]).abs() < 1e-9,
            "{value} vs {}",
            exact.values[0][s]
        );
    }
}

/// Lattice atoms and stocks wide enough for `mdp` over `horizon` steps with γ = 1.
fn lattice(mdp: &TabularMdp, horizon: usize) -> (Atoms, StockGrid) {
    let (low, high) = choicelab_mdp::distributional::return_range(mdp, 1.0, Some(horizon)).unwrap();
    let span = high - low;
    (
        Atoms::lattice(low, high, 1.0).unwrap(),
        StockGrid::new(-span, span, 1.0).unwrap(),
    )
}

#[test]
fn cvar_at_one_is_the_optimal_mean() {
    let mdp = integer_mdp(8, 2, 3);
    let horizon = 6;
    let (atoms, stock) = lattice(&mdp, horizon);
    let solution = StockAugmented::new(
        1.0,
        Some(horizon),
        atoms,
        stock,
        Objective::Cvar { alpha: 1.0 },
    )
    .solve(&mdp)
    .unwrap();
    let exact = FiniteHorizon::new(1.0, horizon).solve(&mdp).unwrap();
    for s in 0..8 {
        let value = solution.evaluate(s).unwrap().value;
        assert!(
            (value - exact.values[0][s]).abs() < 1e-9,
            "state {s}: {value} vs {}",
            exact.values[0][s]
        );
    }
}

#[test]
fn augmented_cvar_is_attained_and_beats_every_markov_policy() {
    for seed in [1, 4, 9] {
        let mdp = integer_mdp(6, 2, seed);
        let horizon = 5;
        let alpha = 0.3;
        let (atoms, stock) = lattice(&mdp, horizon);
        let objective = Objective::Cvar { alpha };
        let solution = StockAugmented::new(1.0, Some(horizon), atoms.clone(), stock, objective)
            .solve(&mdp)
            .unwrap();
        let best = solution.evaluate(0).unwrap();
        // Executing the augmented policy from its stock attains the DP value exactly.
        let law = exact_return_law(
            &mdp,
            &solution,
            &Rollout {
                start: 0,
                initial_stock: best.initial_stock,
                gamma: 1.0,
                horizon,
            },
            100_000,
        )
        .unwrap();
        let attained = objective.of_sorted_law(&law);
        assert!(
            (attained - best.value).abs() < 1e-9,
            "seed {seed}: {attained} vs {}",
            best.value
        );
        // No stationary Markov policy does better (exhaustive: 2⁵ policies).
        let markov = MarkovSearch::new(vec![], 0)
            .run(&mdp, 1.0, Some(horizon), &atoms, &objective, 0)
            .unwrap();
        assert!(markov.exhaustive);
        assert!(
            markov.value <= best.value + 1e-9,
            "seed {seed}: {} > {}",
            markov.value,
            best.value
        );
        // The categorical evaluation of a Markov policy is its exact law on the lattice.
        let laws = markov_laws(&mdp, 1.0, Some(horizon), &atoms, &markov.policy).unwrap();
        let exact = exact_return_law(
            &mdp,
            &MarkovPolicy(markov.policy.clone()),
            &Rollout {
                start: 0,
                initial_stock: 0.0,
                gamma: 1.0,
                horizon,
            },
            100_000,
        )
        .unwrap();
        assert!(
            (objective.of_law(&atoms, &laws[0]) - objective.of_sorted_law(&exact)).abs() < 1e-9
        );
    }
}

#[test]
fn threshold_and_homeostasis_use_the_stock() {
    // Each step: +1 surely (action 0) or +2 (action 1), for three steps; target a total of 4.
    let mdp = TabularMdp::from_entries(
        2,
        2,
        &[
            (0, 0, 0, 1.0, 1.0),
            (0, 1, 0, 1.0, 2.0),
            (1, 0, 1, 1.0, 0.0),
            (1, 1, 1, 1.0, 0.0),
        ],
    )
    .unwrap();
    let horizon = 3;
    let atoms = Atoms::lattice(0.0, 6.0, 1.0).unwrap();
    let stock = StockGrid::new(-8.0, 8.0, 1.0).unwrap();
    let objective = Objective::Homeostatic {
        target: 4.0,
        deviation: Deviation::Absolute,
    };
    let solution = StockAugmented::new(1.0, Some(horizon), atoms.clone(), stock.clone(), objective)
        .solve(&mdp)
        .unwrap();
    assert_eq!(solution.evaluate(0).unwrap().value, 0.0);
    let law = exact_return_law(
        &mdp,
        &solution,
        &Rollout {
            start: 0,
            initial_stock: -4.0,
            gamma: 1.0,
            horizon,
        },
        1000,
    )
    .unwrap();
    assert_eq!(law, vec![(4.0, 1.0)]);
    let reach = StockAugmented::new(
        1.0,
        Some(horizon),
        atoms,
        stock,
        Objective::Threshold { threshold: 5.0 },
    )
    .solve(&mdp)
    .unwrap();
    assert_eq!(reach.evaluate(0).unwrap().value, 1.0);
}

#[test]
fn monte_carlo_agrees_with_the_exact_law_and_is_seeded() {
    let mdp = integer_mdp(6, 2, 4);
    let horizon = 5;
    let (atoms, stock) = lattice(&mdp, horizon);
    let objective = Objective::Cvar { alpha: 0.25 };
    let solution = StockAugmented::new(1.0, Some(horizon), atoms, stock, objective)
        .solve(&mdp)
        .unwrap();
    let c0 = solution.evaluate(0).unwrap().initial_stock;
    let exact = exact_return_law(
        &mdp,
        &solution,
        &Rollout {
            start: 0,
            initial_stock: c0,
            gamma: 1.0,
            horizon,
        },
        100_000,
    )
    .unwrap();
    let mean: f64 = exact.iter().map(|(g, p)| g * p).sum();
    let samples = monte_carlo_returns(
        &mdp,
        &solution,
        &Rollout {
            start: 0,
            initial_stock: c0,
            gamma: 1.0,
            horizon,
        },
        20_000,
        5,
    )
    .unwrap();
    let summary = summarise_returns(&samples, 0.25).unwrap();
    assert!(
        (summary.mean - mean).abs() < 5.0 * summary.mean_se,
        "{summary:?} vs {mean}"
    );
    let cvar = objective.of_sorted_law(&exact);
    assert!(
        (summary.cvar - cvar).abs() < 5.0 * summary.cvar_se + 1e-9,
        "{summary:?} vs {cvar}"
    );
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let again = one.install(|| {
        monte_carlo_returns(
            &mdp,
            &solution,
            &Rollout {
                start: 0,
                initial_stock: c0,
                gamma: 1.0,
                horizon,
            },
            20_000,
            5,
        )
        .unwrap()
    });
    assert_eq!(samples, again);
}

#[test]
fn bad_input_is_rejected_with_clear_errors() {
    let mdp = integer_mdp(5, 2, 1);
    let (atoms, stock) = lattice(&mdp, 4);
    let message = |objective: Objective, atoms: &Atoms, horizon: Option<usize>, gamma: f64| {
        StockAugmented::new(gamma, horizon, atoms.clone(), stock.clone(), objective)
            .solve(&mdp)
            .unwrap_err()
            .to_string()
    };
    for alpha in [0.0, -0.5, 1.5, f64::NAN] {
        assert!(message(Objective::Cvar { alpha }, &atoms, Some(4), 1.0).contains("alpha"));
    }
    let narrow = Atoms::new(-1.0, 1.0, 11).unwrap();
    assert!(message(Objective::Expectation, &narrow, Some(4), 1.0).contains("do not cover"));
    assert!(message(Objective::Expectation, &atoms, None, 1.0).contains("finite horizon"));
    assert!(StockGrid::new(1.0, -1.0, 1.0)
        .unwrap_err()
        .to_string()
        .contains("empty stock grid"));
    let pi = StockAugmented::new(
        1.0,
        Some(4),
        atoms.clone(),
        stock.clone(),
        Objective::Expectation,
    )
    .method(DistributionalMethod::PolicyIteration)
    .solve(&mdp)
    .unwrap_err();
    assert!(pi.to_string().contains("infinite horizon"));
    let off_grid = StockAugmented::new(
        1.0,
        Some(4),
        atoms.clone(),
        StockGrid::new(0.5, 3.5, 1.0).unwrap(),
        Objective::Threshold { threshold: 1.0 },
    )
    .solve(&mdp)
    .unwrap();
    assert!(off_grid
        .evaluate(0)
        .unwrap_err()
        .to_string()
        .contains("not on the grid"));
    assert!(summarise_returns(&[], 0.5).is_err());
    for policy in [vec![5; 5], vec![]] {
        let error = monte_carlo_returns(
            &mdp,
            &MarkovPolicy(policy),
            &Rollout {
                start: 0,
                initial_stock: 0.0,
                gamma: 1.0,
                horizon: 4,
            },
            10,
            0,
        );
        assert!(error.unwrap_err().to_string().contains("not feasible"));
    }
}
