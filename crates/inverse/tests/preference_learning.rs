//! Segment summaries, synthetic labels, successor features and the two reward learners on
//! random delivery boards.

use choicelab_envs::delivery::{BoardDesign, DeliveryBoard, TRUE_WEIGHTS};
use choicelab_inverse::preferences::segments::{regret_by_advantages, successor_features};
use choicelab_inverse::preferences::{
    label, optimal, random_pairs, scaled_return, summarise, Labelling, PreferenceModel,
    RewardLearner, SegmentSummary,
};

const GAMMA: f64 = 0.999;

fn board(seed: u64) -> DeliveryBoard {
    DeliveryBoard::random(&BoardDesign::default(), seed).unwrap()
}

/// `n` random pairs on `board` (from `pair_seed`) with stochastic labels from `model` under the
/// true reward (from `label_seed`).
fn labelled(
    board: &DeliveryBoard,
    model: PreferenceModel,
    n: usize,
    pair_seed: u64,
    label_seed: u64,
) -> (Vec<[SegmentSummary; 2]>, Vec<f64>) {
    let best = optimal(board, &TRUE_WEIGHTS, GAMMA).unwrap();
    let pairs = random_pairs(board, n, 3, GAMMA, pair_seed).unwrap();
    let labels = label(
        model,
        &pairs,
        &TRUE_WEIGHTS,
        &best.values,
        1.0,
        Labelling::Stochastic(label_seed),
    )
    .unwrap();
    (pairs, labels)
}

#[test]
fn successor_features_give_every_policy_value() {
    let board = board(1);
    let best = optimal(&board, &TRUE_WEIGHTS, GAMMA).unwrap();
    let psi = successor_features(&board, &best.policy, GAMMA).unwrap();
    for (s, value) in best.values.iter().enumerate() {
        let v: f64 = (0..6).map(|k| TRUE_WEIGHTS[k] * psi[k][s]).sum();
        assert!((v - value).abs() < 1e-6 * value.abs().max(1.0));
    }
    assert_eq!(
        scaled_return(&board, &TRUE_WEIGHTS, &TRUE_WEIGHTS, GAMMA).unwrap(),
        1.0
    );
}

#[test]
fn regret_by_advantages_matches_the_telescoped_form() {
    let board = board(6);
    let best = optimal(&board, &TRUE_WEIGHTS, GAMMA).unwrap();
    for (k, start) in board.start_states().into_iter().take(40).enumerate() {
        let actions = [k % 4, (k / 4) % 4, (k / 16) % 4];
        let summary = summarise(&board, start, &actions, GAMMA).unwrap();
        let reward: f64 = summary
            .features
            .iter()
            .zip(TRUE_WEIGHTS)
            .map(|(f, w)| f * w)
            .sum();
        let telescoped =
            best.values[start] - (reward + summary.end_discount * best.values[summary.end]);
        let general =
            regret_by_advantages(&board, start, &actions, &TRUE_WEIGHTS, &best.values, GAMMA)
                .unwrap();
        assert!(
            (general - telescoped).abs() < 1e-9,
            "{general} vs {telescoped}"
        );
        assert!(general >= -1e-9, "regret is never negative");
    }
}

#[test]
fn labels_follow_the_models() {
    let board = board(2);
    let best = optimal(&board, &TRUE_WEIGHTS, GAMMA).unwrap();
    let pairs = random_pairs(&board, 200, 3, GAMMA, 5).unwrap();
    assert_eq!(pairs, random_pairs(&board, 200, 3, GAMMA, 5).unwrap());
    let hard = label(
        PreferenceModel::Regret,
        &pairs,
        &TRUE_WEIGHTS,
        &best.values,
        1.0,
        Labelling::Deterministic,
    )
    .unwrap();
    assert!(hard.iter().all(|y| [0.0, 0.5, 1.0].contains(y)));
    let soft = label(
        PreferenceModel::Regret,
        &pairs,
        &TRUE_WEIGHTS,
        &best.values,
        1.0,
        Labelling::Stochastic(3),
    )
    .unwrap();
    assert!(soft.iter().all(|y| [0.0, 1.0].contains(y)));
    // With rewards this large, stochastic labels mostly agree with the deterministic ones.
    let agree = hard.iter().zip(&soft).filter(|(a, b)| a == b).count();
    assert!(agree > 150, "{agree} of 200");
    assert!(label(
        PreferenceModel::Regret,
        &pairs,
        &TRUE_WEIGHTS,
        &best.values,
        0.0,
        Labelling::Deterministic
    )
    .is_err());
}

#[test]
fn each_learner_recovers_the_reward_from_its_own_model() {
    for (model, seed) in [
        (PreferenceModel::PartialReturn, 3),
        (PreferenceModel::Regret, 4),
    ] {
        let board = board(seed);
        let (pairs, labels) = labelled(&board, model, 1000, 10 + seed, seed);
        let fit = RewardLearner::new(model)
            .fit(&board, &pairs, &labels)
            .unwrap();
        let score = scaled_return(&board, &TRUE_WEIGHTS, &fit.weights, GAMMA).unwrap();
        assert!(
            score > 0.99,
            "{model:?}: scaled return {score}, ŵ {:?}",
            fit.weights
        );
        // Signs of the planted weights are recovered.
        for (w, t) in fit.weights.iter().zip(TRUE_WEIGHTS) {
            assert_eq!(w.signum(), t.signum(), "{model:?}: ŵ {:?}", fit.weights);
        }
    }
}

#[test]
fn regret_labels_teach_the_regret_learner_more_than_partial_return() {
    // Summed over a few boards at a small budget, as in the paper's claim.
    let (mut regret, mut partial) = (0.0, 0.0);
    for seed in 0..4 {
        let board = board(20 + seed);
        let (pairs, labels) = labelled(&board, PreferenceModel::Regret, 100, seed, seed);
        for (model, total) in [
            (PreferenceModel::Regret, &mut regret),
            (PreferenceModel::PartialReturn, &mut partial),
        ] {
            let fit = RewardLearner::new(model)
                .fit(&board, &pairs, &labels)
                .unwrap();
            *total += scaled_return(&board, &TRUE_WEIGHTS, &fit.weights, GAMMA).unwrap();
        }
    }
    assert!(
        regret > partial,
        "regret {regret} vs partial return {partial}"
    );
}

#[test]
fn bad_segments_and_labels_are_errors() {
    let board = board(5);
    assert!(summarise(&board, 100, &[0, 1, 2], GAMMA)
        .unwrap_err()
        .to_string()
        .contains("off the"));
    assert!(summarise(&board, 0, &[4], GAMMA)
        .unwrap_err()
        .to_string()
        .contains("action 4"));
    let pairs = random_pairs(&board, 3, 3, GAMMA, 1).unwrap();
    let learner = RewardLearner::new(PreferenceModel::Regret);
    assert!(learner.fit(&board, &pairs, &[1.0]).is_err());
    let message = learner
        .fit(&board, &pairs, &[1.0, 2.0, 0.0])
        .unwrap_err()
        .to_string();
    assert!(message.contains("label 1"), "{message}");
}
