//! The dynamical linear bandit: the synthetic configuration's steady-state checks (SYSTEMS.md,
//! derived from marcomussi/DLB `config/testcase_synt_*.json`), the real-data one when
//! $CHOICELAB_DATA is set, and clear errors for unstable or malformed configurations.

use std::path::PathBuf;

use choicelab_core::rng;
use choicelab_envs::LinearSystem;

const SYNTHETIC: &str = r#"{"m": 3, "n": 3, "p": 3,
 "A": [[0.2, 0, 0], [0, 0, 0], [0, 0, 0.1]],
 "B": [[0.45, 0, 0], [0, 0, 0], [0, 0, 0.1]],
 "C": [[1, 0, 0], [0, 0, 0], [0, 0, 0.1]],
 "D": [[0, 0, 0], [0, 0.5, 0], [0, 0, 0.1]],
 "expert": [-1], "horizon": 1000000, "n_trials": 10, "max_daily_budget": 1.5,
 "max_camp_budget": 1.0, "min_camp_budget": 0.0, "noise_sigma": 0.01}"#;

fn best(system: &LinearSystem) -> (Vec<f64>, f64) {
    let arms = system.arms().unwrap();
    let values: Vec<f64> = arms.iter().map(|u| system.steady_value(u)).collect();
    let i = (0..arms.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap();
    (arms[i].clone(), values[i])
}

#[test]
fn synthetic_best_arm_and_myopic_trap() {
    let system = LinearSystem::from_json_str(SYNTHETIC, "synthetic.json").unwrap();
    assert!((system.spectral_radius() - 0.2).abs() < 1e-12);
    let h = system.steady_gain();
    for (got, want) in h.iter().zip([0.5625, 0.5, 1.0 / 9.0]) {
        assert!((got - want).abs() < 1e-12, "{h:?}");
    }
    let arms = system.arms().unwrap();
    assert_eq!(arms.len(), 6);
    assert!(arms.iter().all(|u| {
        let mut s = u.clone();
        s.sort_by(f64::total_cmp);
        s == [0.0, 0.5, 1.0]
    }));
    let (arm, value) = best(&system);
    assert_eq!(arm, [1.0, 0.5, 0.0]);
    assert!((value - 0.8125).abs() < 1e-12);
    // A myopic learner sees 1ᵀD = (0, 0.5, 0.1) and prefers (0, 1, 0.5): steady value 0.5556.
    let myopic = system.immediate_gain();
    let trap = arms
        .iter()
        .max_by(|a, b| {
            let v = |u: &Vec<f64>| u.iter().zip(&myopic).map(|(u, d)| u * d).sum::<f64>();
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    assert_eq!(trap, &[0.0, 1.0, 0.5]);
    assert!((system.steady_value(trap) - 0.5556).abs() < 1e-4);
    assert!((system.theta() - 0.26f64.sqrt()).abs() < 1e-12);
    assert!((system.omega() - 1.01f64.sqrt()).abs() < 1e-12);
    assert!((system.input_norm().unwrap() - 0.45).abs() < 1e-12);
    assert!(
        (system.transient_bound().unwrap() - 1.0).abs() < 1e-9,
        "diagonal A: Φ = 1"
    );
    assert!(system.expert_action().is_none());
}

#[test]
fn holding_an_arm_settles_at_its_steady_value() {
    let mut system = LinearSystem::from_json_str(
        &SYNTHETIC.replace("\"noise_sigma\": 0.01", "\"noise_sigma\": 0.0"),
        "noiseless",
    )
    .unwrap();
    let mut random = rng(1);
    let u = [1.0, 0.5, 0.0];
    let first = system.step(&u, &mut random);
    assert!(
        (first - 0.25).abs() < 1e-12,
        "x₀ = 0: only D u pays at first"
    );
    let last = (0..50)
        .map(|_| system.step(&u, &mut random))
        .last()
        .unwrap();
    assert!((last - 0.8125).abs() < 1e-12);
    system.reset();
    assert!((system.step(&u, &mut random) - 0.25).abs() < 1e-12);
}

#[test]
fn unstable_or_malformed_configurations_are_rejected() {
    let unstable = SYNTHETIC.replace("[[0.2, 0, 0]", "[[1.2, 0, 0]");
    let err = LinearSystem::from_json_str(&unstable, "unstable.json").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("unstable.json") && text.contains("`A`") && text.contains("≥ 1"),
        "{text}"
    );
    // A rotation scaled by 1.01: no real eigenvalue, spectral radius 1.01.
    let rotating = SYNTHETIC.replace(
        "[[0.2, 0, 0], [0, 0, 0], [0, 0, 0.1]]",
        "[[0, -1.01, 0], [1.01, 0, 0], [0, 0, 0.1]]",
    );
    let err = LinearSystem::from_json_str(&rotating, "rotating.json").unwrap_err();
    assert!(err.to_string().contains("1.01"), "{err}");
    let bad = SYNTHETIC.replace("\"noise_sigma\": 0.01", "\"noise_sigma\": \"small\"");
    let err = LinearSystem::from_json_str(&bad, "bad.json").unwrap_err();
    assert!(
        err.to_string().contains("bad.json: field `noise_sigma`"),
        "{err}"
    );
    let short = SYNTHETIC.replace("[[0.45, 0, 0]", "[[0.45, 0]");
    let err = LinearSystem::from_json_str(&short, "short.json").unwrap_err();
    assert!(
        err.to_string().contains("field `B`") && err.to_string().contains("row 0"),
        "{err}"
    );
    let err = LinearSystem::from_json_str("{\"m\": 3", "cut.json").unwrap_err();
    assert!(err.to_string().contains("cut.json:"), "{err}");
    let missing = SYNTHETIC.replace("\"horizon\": 1000000,", "");
    let err = LinearSystem::from_json_str(&missing, "missing.json").unwrap_err();
    assert!(err.to_string().contains("`horizon`"), "{err}");
    let broke = SYNTHETIC.replace("\"max_daily_budget\": 1.5", "\"max_daily_budget\": 4");
    assert!(LinearSystem::from_json_str(&broke, "budget.json").is_err());
}

#[test]
fn real_data_configuration() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: the real-data DLB configuration test is skipped");
        return;
    };
    let path = PathBuf::from(dir).join("dlb/testcase_realdata.json");
    let system = LinearSystem::from_json_path(&path).unwrap();
    assert!((system.spectral_radius() - 0.667).abs() < 1e-3);
    let (arm, value) = best(&system);
    assert_eq!(arm, [1.0, 0.0, 0.5]);
    assert!((value - 0.3046).abs() < 1e-4, "{value}");
    let expert = system.expert_action().unwrap();
    assert!((expert.iter().sum::<f64>() - 1.5).abs() < 1e-9);
    assert!(
        expert.iter().all(|&u| (0.0..=1.0 + 1e-12).contains(&u)),
        "{expert:?}"
    );
    assert!(system.transient_bound().unwrap() >= 1.0);
}
