//! Invariants of the Bellman operator and the planners on random MDPs.

use choicelab_core::random_sparse_mdp;
use choicelab_mdp::bellman::{bellman_sweep, Change};
use choicelab_mdp::{
    evaluate_policy, Evaluation, Method, PolicyIteration, ResidualHistory, SoftValueIteration,
    Stopping, ValueIteration,
};
use proptest::prelude::*;

fn sup_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn apply_bellman(mdp: &choicelab_core::TabularMdp, gamma: f64, v: &[f64]) -> (Vec<f64>, Change) {
    let mut out = vec![0.0; v.len()];
    let mut policy = vec![0; v.len()];
    let change = bellman_sweep(mdp, gamma, v, &mut out, &mut policy);
    (out, change)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn bellman_operator_is_a_gamma_contraction(
        seed in any::<u64>(),
        states in 2usize..40,
        actions in 1usize..4,
        gamma in 0.0f64..0.999,
        u in prop::collection::vec(-100.0f64..100.0, 40),
        w in prop::collection::vec(-100.0f64..100.0, 40),
    ) {
        let mdp = random_sparse_mdp(states, actions, states.min(3), seed).unwrap();
        let (u, w) = (&u[..states], &w[..states]);
        let (tu, _) = apply_bellman(&mdp, gamma, u);
        let (tw, _) = apply_bellman(&mdp, gamma, w);
        prop_assert!(sup_distance(&tu, &tw) <= gamma * sup_distance(u, w) + 1e-9);
    }

    #[test]
    fn solution_is_invariant_to_relabelling_states(
        seed in any::<u64>(),
        states in 2usize..30,
        shift in 1usize..29,
    ) {
        let mdp = random_sparse_mdp(states, 3, states.min(4), seed).unwrap();
        let permutation: Vec<usize> = (0..states).map(|s| (s * 7 + shift) % states).collect();
        prop_assume!({
            let mut seen = permutation.clone();
            seen.sort_unstable();
            seen.dedup();
            seen.len() == states
        });
        let relabelled = mdp.relabel_states(&permutation).unwrap();
        let a = PolicyIteration::new(0.95).solve(&mdp).unwrap();
        let b = PolicyIteration::new(0.95).solve(&relabelled).unwrap();
        for (s, &new) in permutation.iter().enumerate() {
            prop_assert!((a.values[s] - b.values[new]).abs() < 1e-9);
            prop_assert_eq!(a.policy[s], b.policy[new]);
        }
    }

    #[test]
    fn all_discounted_methods_agree(seed in any::<u64>(), states in 2usize..50) {
        let mdp = random_sparse_mdp(states, 3, states.min(5), seed).unwrap();
        let gamma = 0.9;
        let epsilon = 1e-8;
        let exact = PolicyIteration::new(gamma).solve(&mdp).unwrap();
        for method in Method::ALL.into_iter().filter(|m| m.is_discounted()) {
            let s = method
                .solve(&mdp, gamma, epsilon, &Stopping::default(), &mut ResidualHistory::default())
                .unwrap();
            prop_assert!(sup_distance(&s.values, &exact.values) <= epsilon, "{}", method);
        }
        // The greedy policies of ε-optimal values are themselves (2γε/(1−γ))-optimal.
        let vi = ValueIteration::new(gamma).epsilon(epsilon).solve(&mdp).unwrap();
        let v_policy = evaluate_policy(&mdp, gamma, &vi.policy, Evaluation::DenseLu).unwrap();
        prop_assert!(sup_distance(&v_policy, &exact.values) <= 2.0 * gamma * epsilon / (1.0 - gamma) + 1e-9);
    }

    #[test]
    fn dense_and_iterative_evaluation_agree(seed in any::<u64>(), states in 2usize..60) {
        let mdp = random_sparse_mdp(states, 2, states.min(6), seed).unwrap();
        let policy: Vec<usize> = (0..states).map(|s| s % 2).collect();
        let dense = evaluate_policy(&mdp, 0.97, &policy, Evaluation::DenseLu).unwrap();
        let iterative =
            evaluate_policy(&mdp, 0.97, &policy, Evaluation::Iterative { tolerance: 1e-9 }).unwrap();
        prop_assert!(sup_distance(&dense, &iterative) <= 1e-9);
    }

    #[test]
    fn soft_choice_probabilities_lie_on_the_simplex(seed in any::<u64>(), temperature in 0.01f64..10.0) {
        let mdp = random_sparse_mdp(20, 4, 3, seed).unwrap();
        let soft = SoftValueIteration::new(0.95, temperature).epsilon(1e-8).solve(&mdp).unwrap();
        for row in soft.choice_probabilities.chunks(4) {
            prop_assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)));
            prop_assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn soft_values_approach_hard_values_as_temperature_falls() {
    let mdp = random_sparse_mdp(30, 3, 4, 11).unwrap();
    let hard = PolicyIteration::new(0.9).solve(&mdp).unwrap();
    let mut previous = f64::INFINITY;
    for temperature in [1.0, 0.1, 0.01, 0.001] {
        let soft = SoftValueIteration::new(0.9, temperature)
            .epsilon(1e-10)
            .solve(&mdp)
            .unwrap();
        // Soft values exceed hard ones by at most τ·ln A/(1−γ).
        let gap = sup_distance(&soft.values, &hard.values);
        assert!(gap <= temperature * 3f64.ln() / 0.1 + 1e-8);
        assert!(gap < previous);
        previous = gap;
    }
}

#[test]
fn soft_value_iteration_stays_finite_near_gamma_one() {
    let mdp = random_sparse_mdp(10, 3, 3, 5).unwrap();
    let soft = SoftValueIteration::new(0.9999, 0.05)
        .epsilon(1e-6)
        .solve(&mdp)
        .unwrap();
    assert!(soft.values.iter().all(|v| v.is_finite() && *v > 0.0));
    assert!(soft.choice_probabilities.iter().all(|p| p.is_finite()));
}

#[test]
fn sweeps_give_the_same_bits_on_any_thread_count() {
    let mdp = random_sparse_mdp(20_000, 4, 8, 3).unwrap();
    let solve = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let vi = ValueIteration::new(0.95).epsilon(1e-6).solve(&mdp).unwrap();
            let pi = PolicyIteration::new(0.95).solve(&mdp).unwrap();
            (vi, pi)
        })
    };
    let one = solve(1);
    let three = solve(3);
    assert_eq!(one.0.values, three.0.values);
    assert_eq!(one.0.policy, three.0.policy);
    assert_eq!(one.1.values, three.1.values);
    assert_eq!(
        random_sparse_mdp(1000, 2, 5, 9).unwrap(),
        rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| random_sparse_mdp(1000, 2, 5, 9).unwrap())
    );
}
