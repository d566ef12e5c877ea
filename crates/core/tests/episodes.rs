//! Episodes in Minari's layout: checks, flattening, the D4RL importer, JSON and scores.

use choicelab_core::episodes::{
    normalized_score, Actions, DatasetMetadata, EpisodeData, Episodes, TransitionActions,
    Transitions,
};
use choicelab_core::{D4rlArrays, Error};

fn episode(id: u64, t: usize, terminated: bool) -> EpisodeData {
    EpisodeData {
        id,
        seed: Some(100 + id),
        observations: (0..=t).map(|k| vec![id as f32, k as f32]).collect(),
        actions: Actions::Continuous((0..t).map(|k| vec![k as f32 * 0.1]).collect()),
        rewards: (0..t).map(|k| k as f64).collect(),
        terminations: (0..t).map(|k| terminated && k + 1 == t).collect(),
        truncations: (0..t).map(|k| !terminated && k + 1 == t).collect(),
    }
}

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn flattening_pairs_next_observation_and_terminates_only_on_termination() {
    let data = Episodes::new(
        DatasetMetadata::named("toy/mixed-v0"),
        vec![episode(0, 3, true), episode(1, 2, false)],
    )
    .unwrap();
    assert_eq!(data.metadata.total_episodes, 2);
    assert_eq!(data.metadata.total_steps, 5);
    let t = data.transitions().unwrap();
    assert_eq!(t.len(), 5);
    for i in 0..3 {
        assert_eq!(t.observation(i), &[0.0, i as f32]);
        assert_eq!(t.next_observation(i), &[0.0, i as f32 + 1.0]);
    }
    // The truncated episode's last transition leads to its final observation and bootstraps.
    assert_eq!(t.next_observation(4), &[1.0, 2.0]);
    assert_eq!(t.terminals, vec![false, false, true, false, false]);
    assert_eq!(t.timeouts, vec![false, false, false, false, true]);
    let (dim, values) = t.continuous_actions().unwrap();
    assert_eq!(dim, 1);
    assert_eq!(values.len(), 5);
}

#[test]
fn validation_names_episode_and_step() {
    let meta = || DatasetMetadata::named("toy");
    let mut bad = episode(4, 3, true);
    bad.rewards[1] = f64::NAN;
    let e = message(Episodes::new(meta(), vec![episode(0, 2, true), bad]).unwrap_err());
    assert!(
        e.contains("episode 4.rewards[1]") && e.contains("non-finite"),
        "{e}"
    );

    let mut bad = episode(2, 3, true);
    bad.observations[2] = vec![1.0];
    let e = message(Episodes::new(meta(), vec![episode(0, 2, true), bad]).unwrap_err());
    assert!(
        e.contains("episode 2.observations[2]") && e.contains("width 1, expected 2"),
        "{e}"
    );

    let mut bad = episode(1, 3, true);
    bad.observations.pop();
    let e = message(Episodes::new(meta(), vec![bad]).unwrap_err());
    assert!(
        e.contains("episode 1.observations") && e.contains("expected 4"),
        "{e}"
    );

    let mut bad = episode(1, 3, true);
    bad.rewards[0] = f64::INFINITY;
    assert!(message(Episodes::new(meta(), vec![bad]).unwrap_err()).contains("rewards[0]"));

    let mut bad = episode(3, 3, true);
    bad.terminations[0] = true;
    let e = message(Episodes::new(meta(), vec![bad]).unwrap_err());
    assert!(e.contains("episode 3.terminations[0]"), "{e}");

    let mut bad = episode(3, 3, true);
    bad.actions = Actions::Discrete(vec![0, 1, 0]);
    let e = message(Episodes::new(meta(), vec![episode(0, 2, true), bad]).unwrap_err());
    assert!(e.contains("discrete") && e.contains("continuous"), "{e}");

    let e =
        message(Episodes::new(meta(), vec![episode(0, 2, true), episode(0, 2, true)]).unwrap_err());
    assert!(e.contains("duplicate"), "{e}");
}

#[test]
fn transitions_reject_bad_columns() {
    let e = Transitions::new(
        2,
        vec![0.0; 4],
        TransitionActions::Continuous {
            dim: 1,
            values: vec![0.0; 2],
        },
        vec![0.0, f32::NAN],
        vec![0.0; 4],
        vec![false; 2],
        vec![false; 2],
    )
    .unwrap_err();
    assert!(message(e).contains("rewards[1]"));
    let e = Transitions::new(
        2,
        vec![0.0; 3],
        TransitionActions::Discrete(vec![0, 1]),
        vec![0.0; 2],
        vec![0.0; 4],
        vec![false; 2],
        vec![false; 2],
    )
    .unwrap_err();
    assert!(message(e).contains("observations"));
}

#[test]
fn json_round_trip_and_parse_errors() {
    let data = Episodes::new(
        DatasetMetadata {
            ref_min_score: Some(-10.0),
            ref_max_score: Some(10.0),
            seed: Some(3),
            ..DatasetMetadata::named("toy/json-v0")
        },
        vec![episode(0, 2, true), episode(1, 1, false)],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("toy.json");
    data.write_json(&path).unwrap();
    assert_eq!(Episodes::read_json(&path).unwrap(), data);
    let e = Episodes::from_json_str("{\"metadata\": 3}", "x.json").unwrap_err();
    assert!(matches!(e, Error::Parse { .. }));
    let mut text = data.to_json_string();
    text = text.replace("\"total_steps\": 3", "\"total_steps\": 4");
    let e = message(Episodes::from_json_str(&text, "y.json").unwrap_err());
    assert!(e.starts_with("y.json") && e.contains("total_steps"), "{e}");
}

#[test]
fn d4rl_import_recovers_episode_ends() {
    // Rows: episode A (terminal at row 2), episode B (timeout at row 5), then 2 unfinished rows.
    let observations: Vec<f32> = (0..8).map(|i| i as f32).collect();
    let actions: Vec<f32> = (0..8).map(|i| i as f32 / 10.0).collect();
    let rewards: Vec<f32> = (0..8).map(|i| i as f32).collect();
    let mut terminals = vec![false; 8];
    terminals[2] = true;
    let mut timeouts = vec![false; 8];
    timeouts[5] = true;
    let arrays = D4rlArrays {
        obs_dim: 1,
        observations: &observations,
        action_dim: 1,
        actions: &actions,
        rewards: &rewards,
        terminals: &terminals,
        timeouts: &timeouts,
        next_observations: None,
    };
    let data = Episodes::from_d4rl(DatasetMetadata::named("d4rl"), &arrays).unwrap();
    assert_eq!(data.episodes.len(), 3);
    let a = &data.episodes[0];
    assert_eq!(a.rewards, vec![0.0, 1.0, 2.0]);
    assert_eq!(a.terminations, vec![false, false, true]);
    assert_eq!(a.observations.last().unwrap(), &vec![2.0]); // placeholder, never bootstrapped
    let b = &data.episodes[1];
    assert_eq!(b.rewards, vec![3.0, 4.0]); // the time-out step is dropped
    assert_eq!(b.truncations, vec![false, true]);
    assert_eq!(b.observations, vec![vec![3.0], vec![4.0], vec![5.0]]);
    let c = &data.episodes[2];
    assert_eq!(c.rewards, vec![6.0]);
    assert_eq!(c.truncations, vec![true]);

    let next: Vec<f32> = (1..9).map(|i| i as f32 + 0.5).collect();
    let with_next = D4rlArrays {
        next_observations: Some(&next),
        ..arrays
    };
    let data = Episodes::from_d4rl(DatasetMetadata::named("d4rl"), &with_next).unwrap();
    assert_eq!(data.metadata.total_steps, 8);
    assert_eq!(data.episodes[1].observations.last().unwrap(), &vec![6.5]);

    let mut bad_rewards = rewards.clone();
    bad_rewards[4] = f32::NAN;
    let bad = D4rlArrays {
        rewards: &bad_rewards,
        ..arrays
    };
    let e = message(Episodes::from_d4rl(DatasetMetadata::named("d4rl"), &bad).unwrap_err());
    assert!(e.contains("rewards[4]"), "{e}");
    let short = D4rlArrays {
        actions: &actions[..7],
        ..arrays
    };
    let e = message(Episodes::from_d4rl(DatasetMetadata::named("d4rl"), &short).unwrap_err());
    assert!(e.contains("actions") && e.contains("expected 8"), "{e}");
}

#[test]
fn normalised_score_follows_d4rl() {
    // D4RL hopper references (v0-v2): -20.272305 / 3234.3.
    let s = normalized_score(3234.3, -20.272305, 3234.3).unwrap();
    assert!((s - 100.0).abs() < 1e-9);
    let s = normalized_score(-20.272305, -20.272305, 3234.3).unwrap();
    assert!(s.abs() < 1e-9);
    let s = normalized_score(1607.0138475, -20.272305, 3234.3).unwrap();
    assert!((s - 50.0).abs() < 1e-6);
    assert!(normalized_score(1.0, 2.0, 2.0).is_err());
    let data = Episodes::new(DatasetMetadata::named("no-refs"), vec![episode(0, 1, true)]).unwrap();
    assert!(data.normalized_score(1.0).is_err());
}
