//! Elicitation rounds: budgets, the held-out split, determinism, and the active rule's effect.

use std::collections::HashSet;

use choicelab_choice::agreement::spearman;
use choicelab_choice::{ActiveSelection, ChoiceOption, Elicitation, SimulatedChooser, Strategy};

const N: usize = 30;

fn options(n: usize) -> Vec<ChoiceOption> {
    (0..n)
        .map(|i| ChoiceOption {
            id: i as u32,
            text: format!("outcome {i}"),
        })
        .collect()
}

fn chooser() -> SimulatedChooser {
    let mu: Vec<f64> = (0..N).map(|i| (i as f64 - 15.0) / 8.0).collect();
    SimulatedChooser::new(mu, vec![0.5; N], 9)
        .unwrap()
        .with_position_bias(0.3)
}

fn settings(strategy: Strategy) -> Elicitation {
    Elicitation {
        strategy,
        selection: ActiveSelection {
            round_size: 30,
            ..ActiveSelection::default()
        },
        samples_per_order: 4,
        ..Elicitation::default()
    }
}

fn pairs(data: &choicelab_core::Comparisons) -> Vec<(u32, u32)> {
    data.records()
        .iter()
        .map(|r| (r.first.min(r.second), r.first.max(r.second)))
        .collect()
}

#[test]
fn rounds_fill_the_budget_and_never_touch_held_out_pairs() {
    let mut seen = Vec::new();
    let elicited = settings(Strategy::Active)
        .run(&options(N), &mut chooser(), &mut |round| {
            seen.push(round.edges)
        })
        .unwrap();
    // 2·30·log₂30 = 294.4 → 295: the 30-edge start plus ⌈265/30⌉ = 9 full rounds.
    assert_eq!(Elicitation::default_budget(N), 295);
    assert_eq!(seen, (0..10).map(|r| 30 + 30 * r).collect::<Vec<_>>());
    assert_eq!(elicited.rounds.len(), 10);
    // 5% of 435 pairs, rounded down.
    assert_eq!(elicited.holdout.records().len(), 21);
    let train: HashSet<_> = pairs(&elicited.train).into_iter().collect();
    assert_eq!(train.len(), 300, "a pair was asked twice");
    assert!(pairs(&elicited.holdout).iter().all(|p| !train.contains(p)));
    assert_eq!(elicited.queries, (300 + 21) * 2 * 4);
    let last = elicited.rounds.last().unwrap();
    assert!(last.holdout_accuracy > 0.8, "{}", last.holdout_accuracy);
    let truth: Vec<f64> = (0..N).map(|i| i as f64).collect();
    assert!(spearman(&elicited.fit.mu, &truth) > 0.95);
}

#[test]
fn a_seed_fixes_the_run_and_strategies_ask_different_pairs() {
    let first = settings(Strategy::Active)
        .run(&options(N), &mut chooser(), &mut |_| {})
        .unwrap();
    let again = settings(Strategy::Active)
        .run(&options(N), &mut chooser(), &mut |_| {})
        .unwrap();
    assert_eq!(first.train, again.train);
    assert_eq!(first.fit.mu, again.fit.mu);
    let random = settings(Strategy::Random)
        .run(&options(N), &mut chooser(), &mut |_| {})
        .unwrap();
    // Same held-out pairs and starting graph, different rounds.
    assert_eq!(pairs(&first.holdout), pairs(&random.holdout));
    assert_eq!(pairs(&first.train)[..N], pairs(&random.train)[..N]);
    assert_ne!(pairs(&first.train), pairs(&random.train));
    // The first active round asks closer pairs than the first random one.
    let gap = |data: &choicelab_core::Comparisons| {
        pairs(data)[N..2 * N]
            .iter()
            .map(|&(a, b)| b.abs_diff(a) as f64)
            .sum::<f64>()
    };
    // (The fit on a 30-edge cycle ranks roughly, so the margin is modest: 162 against 300.)
    assert!(gap(&first.train) < 0.75 * gap(&random.train));
}

#[test]
fn pseudo_labels_add_confident_pairs_only() {
    let elicited = Elicitation {
        pseudo_labels: true,
        budget: Some(120),
        ..settings(Strategy::Active)
    }
    .run(&options(N), &mut chooser(), &mut |_| {})
    .unwrap();
    assert!(elicited.pseudo_labelled > 0);
    assert!(elicited.pseudo_labelled <= 435 - 21 - 120);
}

#[test]
fn bad_settings_are_errors() {
    let mut shuffled = options(5);
    shuffled.swap(0, 1);
    let message = settings(Strategy::Active)
        .run(&shuffled, &mut chooser(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(message.contains("ids 0..N"), "{message}");
    let message = settings(Strategy::Active)
        .run(&options(2), &mut chooser(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(message.contains("at least 3 items"), "{message}");
    let message = Elicitation {
        samples_per_order: 0,
        ..settings(Strategy::Random)
    }
    .run(&options(N), &mut chooser(), &mut |_| {})
    .unwrap_err()
    .to_string();
    assert!(message.contains("at least once"), "{message}");
}
