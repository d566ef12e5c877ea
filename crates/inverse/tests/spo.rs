//! Self-play preference optimisation against the Minimax Winner.

use choicelab_inverse::spo::{
    reward_model_policy, total_variation, PreferenceMatrix, Rater, SelfPlay,
};

#[test]
fn minimax_winners_of_known_games() {
    let rps = PreferenceMatrix::rock_paper_scissors(1.0).unwrap();
    let mw = rps.minimax_winner().unwrap();
    for p in &mw {
        assert!((p - 1.0 / 3.0).abs() < 1e-9, "{mw:?}");
    }
    assert!(rps.exploitability(&mw).abs() < 1e-9);
    assert!((rps.exploitability(&[1.0, 0.0, 0.0]) - 0.5).abs() < 1e-12);
    // A weighted cycle: the MW is non-uniform and unexploitable.
    let cycle = PreferenceMatrix::weighted_cycle(&[0.9, 0.6, 0.8]).unwrap();
    let mw = cycle.minimax_winner().unwrap();
    assert!(cycle.exploitability(&mw).abs() < 1e-9, "{mw:?}");
    assert!(total_variation(&mw, &[1.0 / 3.0; 3]) > 0.05, "{mw:?}");
    assert!((mw.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // A Condorcet winner is the MW.
    let bt = PreferenceMatrix::bradley_terry(&[0.0, 1.5, 0.7, -0.3]).unwrap();
    let mw = bt.minimax_winner().unwrap();
    assert!((mw[1] - 1.0).abs() < 1e-9, "{mw:?}");
}

#[test]
fn self_play_reaches_the_minimax_winner_where_the_reward_model_does_not() {
    let cycle = PreferenceMatrix::weighted_cycle(&[0.9, 0.6, 0.8]).unwrap();
    let mw = cycle.minimax_winner().unwrap();
    let spo = SelfPlay {
        batch: 8,
        step: 0.05,
        iterations: 4000,
        rater: Rater::Sampled,
        exploration: 0.1,
    };
    let run = spo.run(&cycle, &mw, 1).unwrap();
    assert!(run.distance.last().unwrap() < &0.05, "{:?}", run.average);
    for w in &run.batch_win_rate {
        assert!((w - 0.5).abs() < 1e-12, "batch win rates average ½");
    }
    let (_, rm) = reward_model_policy(&cycle, 2000, 1e-3, 2).unwrap();
    assert_eq!(rm.iter().filter(|p| **p == 1.0).count(), 1);
    assert!(total_variation(&rm, &mw) > 0.3, "{rm:?} against {mw:?}");
    assert!(cycle.exploitability(&rm) > cycle.exploitability(&run.average) + 0.05);
    // Under consistent preferences both find the Condorcet winner.
    let bt = PreferenceMatrix::bradley_terry(&[0.0, 1.5, 0.7]).unwrap();
    let mw = bt.minimax_winner().unwrap();
    let run = spo.run(&bt, &mw, 3).unwrap();
    assert!(run.last[1] > 0.9, "{:?}", run.last);
    let (_, rm) = reward_model_policy(&bt, 2000, 1e-3, 4).unwrap();
    assert_eq!(rm[1], 1.0);
}

#[test]
fn bad_input_is_reported() {
    assert!(PreferenceMatrix::new(2, vec![0.5, 0.7, 0.7, 0.5]).is_err());
    assert!(PreferenceMatrix::new(1, vec![0.5]).is_err());
    assert!(PreferenceMatrix::rock_paper_scissors(1.2).is_err());
    let rps = PreferenceMatrix::rock_paper_scissors(1.0).unwrap();
    let bad = SelfPlay {
        batch: 1,
        step: 0.1,
        iterations: 10,
        rater: Rater::Probability,
        exploration: 0.1,
    };
    assert!(bad.run(&rps, &[1.0 / 3.0; 3], 0).is_err());
}

#[test]
fn stepwise_self_play_handles_a_non_markovian_preference() {
    use choicelab_inverse::spo::sequences::{markov_reward_model, SequenceGame, StepwiseSelfPlay};
    let game = SequenceGame::exactly_once(3, 2, 1).unwrap();
    let spo = StepwiseSelfPlay {
        batch: 8,
        step: 0.05,
        iterations: 4000,
        exploration: 0.1,
    };
    let (last, average) = spo.run(&game, 5).unwrap();
    let last_distribution = game.sequence_distribution(&last);
    let spo_exploit = game.oracle.exploitability(&last_distribution);
    let average_exploit = game.oracle.exploitability(&average);
    let rm = markov_reward_model(&game, 3000, 1e-3, 6).unwrap();
    let rm_exploit = game.oracle.exploitability(&rm);
    assert!(spo_exploit < 0.05, "{last:?}");
    assert!(average_exploit < 0.15, "{average_exploit}");
    assert!(
        (rm_exploit - 0.5).abs() < 1e-9,
        "the additive reward prefers never taking it"
    );
    assert!(SequenceGame::exactly_once(3, 2, 2).is_err());
}
