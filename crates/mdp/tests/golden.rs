//! Golden values from pymdptoolbox 4.0b3 (`mdptoolbox.example.forest/small`, solved with its
//! PolicyIteration, FiniteHorizon and RelativeValueIteration), from QuantEcon's DiscreteDP
//! example (solved by hand: V = (−60/7, −20)) and from SYSTEMS.md's RiverSwim values.

use approx::assert_abs_diff_eq;
use choicelab_core::TabularMdp;
use choicelab_mdp::examples::{forest, quantecon_infeasible, small};
use choicelab_mdp::{
    FiniteHorizon, Method, PolicyIteration, RelativeValueIteration, ResidualHistory, Solution,
    Stopping, ValueIteration,
};

fn forest3() -> TabularMdp {
    forest(3, 4.0, 2.0, 0.1).unwrap()
}

fn sup_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn solve(method: Method, mdp: &TabularMdp, gamma: f64, epsilon: f64) -> Solution {
    method
        .solve(
            mdp,
            gamma,
            epsilon,
            &Stopping::default(),
            &mut ResidualHistory::default(),
        )
        .unwrap()
}

/// Every discounted method reaches V* to the ε it was asked for, with the published policy.
fn check_all_discounted(mdp: &TabularMdp, gamma: f64, v_star: &[f64], policy: &[usize]) {
    let exact = PolicyIteration::new(gamma).solve(mdp).unwrap();
    assert!(
        sup_distance(&exact.values, v_star) < 1e-9,
        "{:?}",
        exact.values
    );
    assert_eq!(exact.policy, policy);
    for epsilon in [1e-2, 1e-6, 1e-9] {
        for method in Method::ALL.into_iter().filter(|m| m.is_discounted()) {
            let s = solve(method, mdp, gamma, epsilon);
            let distance = sup_distance(&s.values, v_star);
            assert!(
                distance <= epsilon,
                "{method} at ε={epsilon}: ‖V−V*‖ = {distance}"
            );
            assert_eq!(s.policy, policy, "{method} at ε={epsilon}");
        }
    }
}

#[test]
fn forest_s3_matches_pymdptoolbox() {
    check_all_discounted(&forest3(), 0.96, &[74.6496, 78.1056, 82.1056], &[0, 0, 0]);
    check_all_discounted(&forest3(), 0.9, &[26.244, 29.484, 33.484], &[0, 0, 0]);
}

#[test]
fn forest_s10_matches_pymdptoolbox() {
    let v = [
        6.003785411879972,
        6.744993487420708,
        7.660065185619148,
        8.789783331543148,
        10.18449709194315,
        11.90636593194315,
        14.032129931943148,
        16.656529931943147,
        19.89652993194315,
        23.89652993194315,
    ];
    check_all_discounted(&forest(10, 4.0, 2.0, 0.1).unwrap(), 0.9, &v, &[0; 10]);
}

#[test]
fn small_matches_pymdptoolbox() {
    check_all_discounted(
        &small(),
        0.9,
        &[42.44186046511632, 36.04651162790702],
        &[1, 0],
    );
}

#[test]
fn quantecon_infeasible_action_is_never_chosen() {
    let v = [-60.0 / 7.0, -20.0];
    check_all_discounted(&quantecon_infeasible(), 0.95, &v, &[0, 0]);
}

#[test]
fn forest_finite_horizon_matches_pymdptoolbox() {
    let solution = FiniteHorizon::new(0.9, 3).solve(&forest3()).unwrap();
    // pymdptoolbox's fh.V is S × (N+1); columns are stages.
    let expected = [
        [2.6973, 5.9373, 9.9373],
        [0.81, 3.24, 7.24],
        [0.0, 1.0, 4.0],
        [0.0, 0.0, 0.0],
    ];
    for (stage, row) in expected.iter().enumerate() {
        for (s, &v) in row.iter().enumerate() {
            assert_abs_diff_eq!(solution.values[stage][s], v, epsilon = 1e-12);
        }
    }
    assert_eq!(
        solution.policy,
        vec![vec![0, 0, 0], vec![0, 0, 0], vec![0, 1, 0]]
    );
}

#[test]
fn forest_relative_value_iteration_gain() {
    let solution = RelativeValueIteration::new()
        .epsilon(1e-9)
        .solve(&forest3())
        .unwrap();
    assert_abs_diff_eq!(solution.gain.unwrap(), 3.24, epsilon = 1e-9);
    assert_eq!(solution.policy, vec![0, 0, 0]);
}

#[test]
fn riverswim_matches_systems_md() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: RiverSwim golden skipped");
        return;
    };
    let path = std::path::Path::new(&dir).join("riverswim/riverswim_mdp.csv");
    let mdp = TabularMdp::from_csv_path(&path).unwrap();
    let v_star = [
        56687.6489, 58596.3240, 61205.4892, 64136.0018, 67272.3007, 70582.7943,
    ];
    let exact = PolicyIteration::new(0.99).solve(&mdp).unwrap();
    assert!(sup_distance(&exact.values, &v_star) < 1e-4);
    assert_eq!(exact.policy, vec![1; 6]);
    let vi = ValueIteration::new(0.99).epsilon(1e-6).solve(&mdp).unwrap();
    assert!(sup_distance(&vi.values, &exact.values) <= 1e-6);
}

#[test]
fn iteration_limit_is_reported_not_hidden() {
    let stopping = Stopping {
        max_iterations: 3,
        time_limit: None,
    };
    let err = Method::ValueIteration
        .solve(
            &forest3(),
            0.99,
            1e-9,
            &stopping,
            &mut ResidualHistory::default(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("did not converge") && text.contains("3 iterations"),
        "{text}"
    );
}

#[test]
fn bad_parameters_are_rejected() {
    assert!(ValueIteration::new(1.0).solve(&small()).is_err());
    assert!(ValueIteration::new(0.9)
        .epsilon(0.0)
        .solve(&small())
        .is_err());
    assert!(FiniteHorizon::new(1.5, 3).solve(&small()).is_err());
    assert!(FiniteHorizon::new(0.9, 0).solve(&small()).is_err());
}

#[test]
fn ties_go_to_the_lowest_action_and_never_make_policy_iteration_cycle() {
    // Actions 1 and 2 are copies of each other and better than action 0; action 3 copies 0.
    let row = [0.5, 0.5];
    let p: Vec<f64> = (0..2 * 4).flat_map(|_| row).collect();
    let r = [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
    let mdp = TabularMdp::from_dense(2, 4, &p, &r).unwrap();
    for method in Method::ALL.into_iter().filter(|m| m.is_discounted()) {
        let s = solve(method, &mdp, 0.9, 1e-9);
        assert_eq!(s.policy, vec![1, 1], "{method}");
    }
    let pi = PolicyIteration::new(0.9).solve(&mdp).unwrap();
    assert_eq!(pi.iterations, 1);
}
