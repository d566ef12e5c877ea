//! The simulated chooser: its choices follow its stated probabilities, and its options mean
//! what they say.

use choicelab_choice::{ChoiceOption, Chooser, SimulatedChooser};

fn option(id: u32) -> ChoiceOption {
    ChoiceOption {
        id,
        text: format!("outcome {id}"),
    }
}

#[test]
fn choices_follow_the_stated_probability() {
    let mut chooser = SimulatedChooser::new(vec![0.0, 1.0, -0.5], vec![1.0, 0.5, 2.0], 3)
        .unwrap()
        .with_position_bias(0.3)
        .with_intransitivity(0.4);
    let (a, b) = (option(1), option(0));
    let p = chooser.pair_probability(&a, &b).unwrap().unwrap();
    let trials = 20_000;
    let firsts = (0..trials)
        .filter(|_| chooser.choose(&[a.clone(), b.clone()]).unwrap() == 0)
        .count();
    let share = firsts as f64 / trials as f64;
    // Four binomial standard errors.
    assert!(
        (share - p).abs() < 4.0 * (p * (1.0 - p) / trials as f64).sqrt(),
        "{share} vs {p}"
    );
}

#[test]
fn intransitivity_is_antisymmetric_and_bias_favours_the_first_shown() {
    let mut plain = SimulatedChooser::new(vec![0.2, -0.1], vec![1.0, 1.0], 9)
        .unwrap()
        .with_intransitivity(0.8);
    let (a, b) = (option(0), option(1));
    let forward = plain.pair_probability(&a, &b).unwrap().unwrap();
    let backward = plain.pair_probability(&b, &a).unwrap().unwrap();
    assert!((forward + backward - 1.0).abs() < 1e-12);
    let mut biased = plain.clone().with_position_bias(0.5);
    assert!(biased.pair_probability(&a, &b).unwrap().unwrap() > forward);
    assert!(biased.pair_probability(&b, &a).unwrap().unwrap() > backward);
}

#[test]
fn the_seed_fixes_every_choice() {
    let make = || SimulatedChooser::new(vec![0.0, 0.1, 0.2, 0.3], vec![1.0; 4], 42).unwrap();
    let options: Vec<ChoiceOption> = (0..4).map(option).collect();
    let run = |mut c: SimulatedChooser| -> Vec<usize> {
        (0..200).map(|_| c.choose(&options).unwrap()).collect()
    };
    assert_eq!(run(make()), run(make()));
}

#[test]
fn bad_options_and_parameters_are_errors() {
    assert!(SimulatedChooser::new(vec![0.0], vec![1.0, 1.0], 0).is_err());
    assert!(SimulatedChooser::new(vec![0.0, 1.0], vec![1.0, 0.0], 0).is_err());
    let mut chooser = SimulatedChooser::new(vec![0.0, 1.0], vec![1.0, 1.0], 0).unwrap();
    assert!(chooser.choose(&[option(0)]).is_err());
    let err = chooser
        .choose(&[option(0), option(7)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("option id 7"), "{err}");
}
