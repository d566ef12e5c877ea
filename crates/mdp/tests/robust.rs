//! Robust planning: the L1 and KL worst cases against independent solvers (a linear program,
//! a primal exponential-tilt search), robust value iteration against nominal value iteration,
//! and IWOCS against brute force on small hand-made parametric families.

use choicelab_core::{random_sparse_mdp, rng, Error, Result, TabularMdp};
use choicelab_mdp::examples::quantecon_infeasible;
use choicelab_mdp::robust::robust_sweep;
use choicelab_mdp::{
    evaluate_policy, evaluate_robust_policy, exhaustive_static, improve_static_policy,
    static_worst_case, worst_case_kl, worst_case_l1, Evaluation, Iwocs, IwocsStop, Nature,
    ParametricFamily, RobustValueIteration, ValueIteration, WorstCaseSearch,
};
use minilp::{ComparisonOp, OptimizationDirection, Problem};
use rand::RngExt;

fn sup_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// A random row: `n` successors (some with zero probability), values and probabilities.
fn random_row(seed: u64, n: usize) -> (Vec<u32>, Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let mut p: Vec<f64> = (0..n)
        .map(|_| {
            if r.random::<f64>() < 0.2 {
                0.0
            } else {
                r.random::<f64>()
            }
        })
        .collect();
    p[0] += 0.1;
    let total: f64 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= total);
    // Some repeated values, to exercise ties.
    let v: Vec<f64> = (0..n)
        .map(|_| (r.random::<f64>() * 8.0).floor() - 3.0 + r.random::<f64>() * 0.5)
        .collect();
    ((0..n as u32).collect(), p, v)
}

/// min pᵀv over {p ≥ 0 on the support of p̂, Σp = 1, Σ|p − p̂| ≤ radius} as a linear program.
fn l1_by_lp(p_hat: &[f64], v: &[f64], radius: f64) -> f64 {
    let mut lp = Problem::new(OptimizationDirection::Minimize);
    let mut sum = Vec::new();
    let mut deviation = Vec::new();
    for (&ph, &vi) in p_hat.iter().zip(v) {
        if ph == 0.0 {
            continue;
        }
        let p = lp.add_var(vi, (0.0, f64::INFINITY));
        let t = lp.add_var(0.0, (0.0, f64::INFINITY));
        lp.add_constraint([(t, 1.0), (p, -1.0)], ComparisonOp::Ge, -ph);
        lp.add_constraint([(t, 1.0), (p, 1.0)], ComparisonOp::Ge, ph);
        sum.push((p, 1.0));
        deviation.push((t, 1.0));
    }
    lp.add_constraint(sum, ComparisonOp::Eq, 1.0);
    lp.add_constraint(deviation, ComparisonOp::Le, radius);
    lp.solve().expect("the nominal law is feasible").objective()
}

#[test]
fn l1_worst_case_equals_a_linear_program() {
    for seed in 0..300 {
        let n = 2 + (seed as usize % 7);
        let (next, p, v) = random_row(seed, n);
        let radius = [0.0, 0.05, 0.3, 0.9, 1.5, 2.0, 3.0][seed as usize % 7];
        let exact = worst_case_l1(&next, &p, &v, radius).unwrap();
        let lp = l1_by_lp(&p, &v, radius);
        assert!(
            (exact - lp).abs() < 1e-9,
            "seed {seed}: sort {exact} vs LP {lp} (radius {radius}, p {p:?}, v {v:?})"
        );
    }
}

/// KL(p‖p̂) over the support of p̂.
fn kl(p: &[f64], p_hat: &[f64]) -> f64 {
    p.iter()
        .zip(p_hat)
        .filter(|(&x, _)| x > 0.0)
        .map(|(&x, &y)| x * (x / y).ln())
        .sum()
}

/// The tilted law p ∝ p̂ e^{−(v − min v)/β}.
fn tilt(p_hat: &[f64], v: &[f64], beta: f64) -> Vec<f64> {
    let low = v
        .iter()
        .zip(p_hat)
        .filter(|(_, &p)| p > 0.0)
        .map(|(&x, _)| x)
        .fold(f64::INFINITY, f64::min);
    let w: Vec<f64> = p_hat
        .iter()
        .zip(v)
        .map(|(&p, &x)| {
            if p > 0.0 {
                p * (-(x - low) / beta).exp()
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// The primal minimiser: the tilt whose KL equals the radius, by bisection on log β (KL of the
/// tilt falls as β grows), or the support minimum when no tilt reaches the radius.
fn kl_by_primal(p_hat: &[f64], v: &[f64], radius: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    if kl(&tilt(p_hat, v, lo.exp()), p_hat) <= radius {
        let p = tilt(p_hat, v, lo.exp());
        return p.iter().zip(v).map(|(a, b)| a * b).sum();
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if kl(&tilt(p_hat, v, mid.exp()), p_hat) > radius {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let p = tilt(p_hat, v, hi.exp());
    p.iter().zip(v).map(|(a, b)| a * b).sum()
}

#[test]
fn kl_worst_case_equals_the_primal_tilt_and_is_never_beaten() {
    for seed in 0..200 {
        let n = 2 + (seed as usize % 6);
        let (next, p, v) = random_row(1000 + seed, n);
        // Values on several scales, radii from tiny to past the support-minimum threshold.
        let scale = [1e-3, 1.0, 1e4][seed as usize % 3];
        let v: Vec<f64> = v.iter().map(|x| x * scale).collect();
        let radius = [1e-6, 0.001, 0.01, 0.1, 0.5, 1.0, 5.0][seed as usize % 7];
        let dual = worst_case_kl(&next, &p, &v, radius).unwrap();
        let primal = kl_by_primal(&p, &v, radius);
        assert!(
            (dual - primal).abs() < 1e-9 * scale * (1.0 + primal.abs() / scale),
            "seed {seed}: dual {dual} vs primal {primal} (radius {radius})"
        );
        // No law of the ball does better, among random mixtures of p̂ with random laws.
        let mut r = rng(seed);
        for _ in 0..200 {
            let q: Vec<f64> = p
                .iter()
                .map(|&x| {
                    if x > 0.0 {
                        -r.random::<f64>().ln()
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = q.iter().sum();
            let t = r.random::<f64>();
            let mix: Vec<f64> = p
                .iter()
                .zip(&q)
                .map(|(a, b)| (1.0 - t) * a + t * b / total)
                .collect();
            if kl(&mix, &p) <= radius {
                let value: f64 = mix.iter().zip(&v).map(|(a, b)| a * b).sum();
                assert!(
                    value >= dual - 1e-12 * scale,
                    "seed {seed}: {value} beats {dual}"
                );
            }
        }
    }
}

#[test]
fn kl_edge_cases_are_exact() {
    let next = [0, 1, 2];
    let p = [0.25, 0.5, 0.25];
    let v = [3.0, 1.0, 2.0];
    let nominal: f64 = p.iter().zip(&v).map(|(a, b)| a * b).sum();
    assert_eq!(worst_case_kl(&next, &p, &v, 0.0).unwrap(), nominal);
    assert_eq!(worst_case_l1(&next, &p, &v, 0.0).unwrap(), nominal);
    // −log p̂(arg min) = −log 0.5: at and beyond it, the support minimum exactly.
    assert_eq!(
        worst_case_kl(&next, &p, &v, 0.5f64.ln().abs()).unwrap(),
        1.0
    );
    assert_eq!(worst_case_kl(&next, &p, &v, 10.0).unwrap(), 1.0);
    assert_eq!(worst_case_l1(&next, &p, &v, 2.0).unwrap(), 1.0);
    // Equal values: nothing to gain.
    let flat = worst_case_kl(&next, &p, &[4.0; 3], 0.3).unwrap();
    assert!((flat - 4.0).abs() < 1e-15);
    // Mass never leaves the support: a zero-probability successor with a low value is ignored.
    let p0 = [0.0, 0.5, 0.5];
    assert_eq!(worst_case_l1(&next, &p0, &v, 2.0).unwrap(), 1.0);
    assert_eq!(worst_case_kl(&next, &p0, &v, 100.0).unwrap(), 1.0);
}

#[test]
fn ball_worst_cases_reject_bad_input() {
    let next = [0, 1];
    let p = [0.5, 0.5];
    let v = [1.0, 2.0];
    for radius in [-0.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            worst_case_l1(&next, &p, &v, radius),
            Err(Error::Parameter { .. })
        ));
        assert!(matches!(
            worst_case_kl(&next, &p, &v, radius),
            Err(Error::Parameter { .. })
        ));
    }
    assert!(worst_case_l1(&[0, 5], &p, &v, 0.1).is_err());
    assert!(worst_case_kl(&next, &[0.5], &v, 0.1).is_err());
    assert!(worst_case_kl(&next, &[0.0, 0.0], &v, 0.1).is_err());
    assert!(worst_case_l1(&next, &[0.5, f64::NAN], &v, 0.1).is_err());
}

fn nominal_values(mdp: &TabularMdp, gamma: f64) -> Vec<f64> {
    ValueIteration::new(gamma)
        .epsilon(1e-11)
        .solve(mdp)
        .unwrap()
        .values
}

fn robust_values(mdp: &TabularMdp, gamma: f64, nature: Nature) -> Vec<f64> {
    RobustValueIteration::new(gamma, nature)
        .epsilon(1e-11)
        .solve(mdp)
        .unwrap()
        .values
}

#[test]
fn zero_radius_and_a_single_model_give_nominal_value_iteration() {
    // Rewards per transition: nature's law then moves the expected reward too.
    let per_transition = TabularMdp::from_entries(
        3,
        2,
        &[
            (0, 0, 1, 0.6, 2.0),
            (0, 0, 2, 0.4, -1.0),
            (0, 1, 0, 1.0, 0.5),
            (1, 0, 0, 0.3, 0.0),
            (1, 0, 2, 0.7, 1.5),
            (1, 1, 1, 1.0, 0.2),
            (2, 0, 0, 0.5, 3.0),
            (2, 0, 1, 0.5, -2.0),
        ],
    )
    .unwrap();
    let mdps = [
        random_sparse_mdp(60, 3, 5, 7).unwrap(),
        quantecon_infeasible(),
        per_transition,
    ];
    for mdp in &mdps {
        for gamma in [0.0, 0.5, 0.95] {
            let nominal = nominal_values(mdp, gamma);
            for nature in [
                Nature::L1 { radius: 0.0 },
                Nature::Kl { radius: 0.0 },
                Nature::Models(vec![mdp.clone()]),
            ] {
                let robust = robust_values(mdp, gamma, nature.clone());
                assert!(
                    sup_distance(&robust, &nominal) < 1e-9,
                    "{nature:?} at γ = {gamma}"
                );
            }
        }
    }
}

#[test]
fn robust_values_fall_below_nominal_as_the_radius_grows() {
    let mdp = random_sparse_mdp(80, 3, 6, 11).unwrap();
    let gamma = 0.9;
    let nominal = nominal_values(&mdp, gamma);
    for ball in [(|r| Nature::L1 { radius: r }) as fn(f64) -> Nature, |r| {
        Nature::Kl { radius: r }
    }] {
        let mut previous = nominal.clone();
        for radius in [0.01, 0.1, 0.5, 1.0, 2.0] {
            let values = robust_values(&mdp, gamma, ball(radius));
            for (s, (v, p)) in values.iter().zip(&previous).enumerate() {
                assert!(v <= &(p + 1e-9), "{:?} state {s}: {v} > {p}", ball(radius));
            }
            assert!(values.iter().zip(&nominal).any(|(v, n)| v < &(n - 1e-6)));
            previous = values;
        }
    }
    // A set of models is worse than each of its members.
    let other = random_sparse_mdp(80, 3, 6, 12).unwrap();
    let both = robust_values(
        &mdp,
        gamma,
        Nature::Models(vec![mdp.clone(), other.clone()]),
    );
    for single in [nominal, nominal_values(&other, gamma)] {
        assert!(both.iter().zip(&single).all(|(b, s)| b <= &(s + 1e-9)));
    }
}

#[test]
fn robust_policy_evaluation_agrees_with_robust_value_iteration() {
    let mdp = random_sparse_mdp(50, 3, 5, 3).unwrap();
    let gamma = 0.9;
    let nature = Nature::Kl { radius: 0.2 };
    let solution = RobustValueIteration::new(gamma, nature.clone())
        .epsilon(1e-11)
        .solve(&mdp)
        .unwrap();
    let values = evaluate_robust_policy(&mdp, gamma, &solution.policy, &nature, 1e-11).unwrap();
    assert!(sup_distance(&values, &solution.values) < 1e-9);
    // With radius 0 it is plain policy evaluation.
    let exact = evaluate_policy(&mdp, gamma, &solution.policy, Evaluation::DenseLu).unwrap();
    let zero = Nature::L1 { radius: 0.0 };
    let values = evaluate_robust_policy(&mdp, gamma, &solution.policy, &zero, 1e-11).unwrap();
    assert!(sup_distance(&values, &exact) < 1e-9);
}

#[test]
fn robust_sweeps_are_the_same_at_any_thread_count() {
    // More than two of the sweep's 2048-state chunks, a few sweeps of each nature.
    let mdp = random_sparse_mdp(5000, 3, 8, 5).unwrap();
    let other = random_sparse_mdp(5000, 3, 8, 6).unwrap();
    let run = |threads: usize, nature: &Nature| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut v = vec![0.0; 5000];
                let mut next = vec![0.0; 5000];
                let mut policy = vec![0; 5000];
                for _ in 0..4 {
                    robust_sweep(&mdp, 0.9, nature, &v, &mut next, &mut policy).unwrap();
                    std::mem::swap(&mut v, &mut next);
                }
                (v, policy)
            })
    };
    for nature in [
        Nature::L1 { radius: 0.3 },
        Nature::Kl { radius: 0.3 },
        Nature::Models(vec![mdp.clone(), other]),
    ] {
        assert_eq!(run(1, &nature), run(4, &nature), "{nature:?}");
    }
}

#[test]
fn robust_planning_rejects_bad_input() {
    let mdp = random_sparse_mdp(10, 2, 3, 0).unwrap();
    let bad = [
        Nature::L1 { radius: -0.5 },
        Nature::Kl { radius: f64::NAN },
        Nature::Models(vec![]),
        Nature::Models(vec![random_sparse_mdp(11, 2, 3, 0).unwrap()]),
        Nature::Models(vec![mdp.clone(), random_sparse_mdp(10, 3, 3, 0).unwrap()]),
        // Same shape, another feasible set.
        Nature::Models(vec![{
            let mut p = vec![0.0; 10 * 2 * 10];
            let mut r = vec![0.0; 20];
            for s in 0..10 {
                p[(s * 2) * 10 + s] = 1.0;
                p[(s * 2 + 1) * 10 + s] = 1.0;
            }
            r[1] = f64::NEG_INFINITY;
            TabularMdp::from_dense(10, 2, &p, &r).unwrap()
        }]),
    ];
    for nature in bad {
        let err = RobustValueIteration::new(0.9, nature.clone()).solve(&mdp);
        assert!(matches!(err, Err(Error::Parameter { .. })), "{nature:?}");
        let err = evaluate_robust_policy(&mdp, 0.9, &[0; 10], &nature, 1e-6);
        assert!(matches!(err, Err(Error::Parameter { .. })), "{nature:?}");
    }
    let fine = Nature::L1 { radius: 0.1 };
    for gamma in [1.0, -0.1, f64::NAN] {
        assert!(RobustValueIteration::new(gamma, fine.clone())
            .solve(&mdp)
            .is_err());
    }
    assert!(evaluate_robust_policy(&mdp, 0.9, &[0; 3], &fine, 1e-6).is_err());
}

/// A 4-state chain: action 0 advances (slipping back to the start with probability ξ), action 1
/// stays and earns 0, 0.3, 0.6 in states 0–2; the last state pays 1 per step whatever is done.
fn slippery_chain(xi: &[f64]) -> Result<TabularMdp> {
    let (n, slip) = (4, xi[0]);
    let mut p = vec![0.0; n * 2 * n];
    let mut r = vec![0.0; n * 2];
    for s in 0..n {
        let (advance, stay) = ((s * 2) * n, (s * 2 + 1) * n);
        if s + 1 < n {
            p[advance + s + 1] += 1.0 - slip;
            p[advance] += slip;
            r[s * 2 + 1] = 0.3 * s as f64;
        } else {
            p[advance + s] = 1.0;
            r[s * 2] = 1.0;
            r[s * 2 + 1] = 1.0;
        }
        p[stay + s] = 1.0;
    }
    TabularMdp::from_dense(n, 2, &p, &r)
}

fn chain_family() -> ParametricFamily<'static> {
    ParametricFamily::new("slippery chain", vec![(0.0, 0.6)], slippery_chain)
        .with_labels(vec!["slip".into()])
}

#[test]
fn iwocs_matches_brute_force_on_a_slippery_chain_and_is_certified() {
    let family = chain_family();
    let (gamma, initial) = (0.9, vec![0.25; 4]);
    let search = WorstCaseSearch::Grid {
        points_per_dimension: 13,
    };
    let solution = Iwocs::new(gamma, initial.clone(), vec![0.1], search)
        .solve(&family)
        .unwrap();
    let brute = exhaustive_static(&family, 13, gamma, &initial).unwrap();
    let max_min = brute.max_min.expect("16 policies");
    assert_eq!(solution.stop, IwocsStop::Certified);
    assert!(solution.certified());
    assert!(
        (solution.worst_case - max_min.worst_case).abs() < 1e-6,
        "IWOCS {} vs brute force {}",
        solution.worst_case,
        max_min.worst_case
    );
    assert!(solution.worst_case <= brute.min_max + 1e-9);
    assert_eq!(solution.worst_parameters, vec![0.6]);
    // The nominal policy advances everywhere and is beaten at the largest slip; the second
    // iteration stays put in state 2.
    assert_eq!(solution.steps.len(), 2, "{:?}", solution.steps);
    assert!(solution.steps[0].worst_case < solution.steps[1].worst_case);
    assert_eq!(solution.models, vec![vec![0.1], vec![0.6]]);
    for step in &solution.steps {
        assert!(step.worst_case <= step.bound + 1e-9);
    }
}

#[test]
fn coordinate_ascent_reaches_the_brute_force_max_min_on_the_chain() {
    let family = chain_family();
    let (gamma, initial) = (0.9, vec![0.25; 4]);
    let brute = exhaustive_static(&family, 13, gamma, &initial)
        .unwrap()
        .max_min
        .expect("16 policies");
    // From the nominal policy (advance everywhere) and from staying everywhere.
    for start in [vec![0; 4], vec![1; 4]] {
        let local = improve_static_policy(&family, 13, gamma, &initial, &start).unwrap();
        assert!(local.worst_case <= brute.worst_case + 1e-12);
        assert!(
            (local.worst_case - brute.worst_case).abs() < 1e-9,
            "{local:?} vs {brute:?}"
        );
        assert!(local.policies > 1);
    }
    let error = improve_static_policy(&family, 13, gamma, &initial, &[0; 3]).unwrap_err();
    assert!(matches!(error, Error::Parameter { .. }), "{error}");
}

#[test]
fn random_search_finds_the_grid_worst_case_at_any_thread_count() {
    let family = chain_family();
    let (gamma, initial) = (0.9, vec![0.25; 4]);
    let policy = vec![0, 0, 0, 0];
    let grid = static_worst_case(
        &family,
        &policy,
        gamma,
        &initial,
        WorstCaseSearch::Grid {
            points_per_dimension: 13,
        },
    )
    .unwrap();
    let search = WorstCaseSearch::Random {
        samples: 16,
        refinements: 40,
        seed: 3,
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| static_worst_case(&family, &policy, gamma, &initial, search).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one.0, vec![0.6]);
    assert!((one.1 - grid.1).abs() < 1e-12);
}

/// One start state, two actions reaching a paying absorbing state with probability ξ and 1 − ξ:
/// each deterministic policy's worst case is 0, while every single model has a good action.
fn coin(xi: &[f64]) -> Result<TabularMdp> {
    let q = xi[0];
    let p = [
        0.0,
        q,
        1.0 - q, // start, action 0
        0.0,
        1.0 - q,
        q, // start, action 1
        0.0,
        1.0,
        0.0,
        0.0,
        1.0,
        0.0, // good
        0.0,
        0.0,
        1.0,
        0.0,
        0.0,
        1.0, // bad
    ];
    let r = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    TabularMdp::from_dense(3, 2, &p, &r)
}

#[test]
fn iwocs_reports_a_duality_gap_instead_of_certifying() {
    let family = ParametricFamily::new("coin", vec![(0.0, 1.0)], coin);
    let (gamma, initial) = (0.9, vec![1.0, 0.0, 0.0]);
    let search = WorstCaseSearch::Grid {
        points_per_dimension: 11,
    };
    let solution = Iwocs::new(gamma, initial.clone(), vec![0.5], search)
        .solve(&family)
        .unwrap();
    assert_eq!(solution.stop, IwocsStop::Stalled);
    assert!(!solution.certified());
    let brute = exhaustive_static(&family, 11, gamma, &initial).unwrap();
    assert!((brute.min_max - 4.5).abs() < 1e-8);
    let max_min = brute.max_min.unwrap();
    assert!(max_min.worst_case.abs() < 1e-12);
    assert!((solution.worst_case - max_min.worst_case).abs() < 1e-12);
    assert!((solution.bound - 4.5).abs() < 1e-6);
    // A tight iteration limit is reported as such.
    let mut short = Iwocs::new(gamma, initial, vec![0.5], search);
    short.max_iterations = 1;
    assert_eq!(short.solve(&family).unwrap().stop, IwocsStop::MaxIterations);
}

#[test]
fn iwocs_rejects_bad_input() {
    let search = WorstCaseSearch::Grid {
        points_per_dimension: 5,
    };
    let uniform = vec![0.25; 4];
    let empty = ParametricFamily::new("empty", vec![], slippery_chain);
    let err = Iwocs::new(0.9, uniform.clone(), vec![], search).solve(&empty);
    assert!(matches!(err, Err(Error::Parameter { .. })));
    assert!(static_worst_case(&empty, &[0; 4], 0.9, &uniform, search).is_err());
    assert!(exhaustive_static(&empty, 5, 0.9, &uniform).is_err());
    let family = chain_family();
    for initial in [vec![0.3; 4], vec![0.5, 0.5], vec![1.5, -0.5, 0.0, 0.0]] {
        let err = Iwocs::new(0.9, initial.clone(), vec![0.1], search).solve(&family);
        assert!(matches!(err, Err(Error::Parameter { .. })), "{initial:?}");
        assert!(static_worst_case(&family, &[0; 4], 0.9, &initial, search).is_err());
        assert!(exhaustive_static(&family, 5, 0.9, &initial).is_err());
    }
    // Nominal outside the box, inverted bounds, an empty grid, no samples, γ = 1.
    assert!(Iwocs::new(0.9, uniform.clone(), vec![0.9], search)
        .solve(&family)
        .is_err());
    let inverted = ParametricFamily::new("inverted", vec![(0.6, 0.0)], slippery_chain);
    assert!(exhaustive_static(&inverted, 5, 0.9, &uniform).is_err());
    for bad in [
        WorstCaseSearch::Grid {
            points_per_dimension: 0,
        },
        WorstCaseSearch::Random {
            samples: 0,
            refinements: 3,
            seed: 0,
        },
    ] {
        assert!(static_worst_case(&family, &[0; 4], 0.9, &uniform, bad).is_err());
    }
    assert!(Iwocs::new(1.0, uniform, vec![0.1], search)
        .solve(&family)
        .is_err());
}
