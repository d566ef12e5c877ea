//! Online TD3 and D4RL-style data generation on a small world where learning is quick.

use choicelab_core::env::{Action, BoxSpace, Env, Info, Space, StepOutcome, TimeLimit};
use choicelab_core::Result as CoreResult;
use choicelab_nn::{evaluate, DatagenParams, Error, Exploration, Td3Params, LEVELS};
use rand::RngExt;

/// A point on a line that the agent should drive to 0: `x' = clip(x + 0.5 a, ±2)`, reward
/// `−|x'|`, start `U(−1.5, 1.5)`, 20 steps per episode.
struct Line {
    x: f64,
    rng: choicelab_core::Rng,
    obs: Space,
    act: Space,
}

impl Line {
    fn new() -> TimeLimit<Line> {
        let line = Line {
            x: 0.0,
            rng: choicelab_core::rng(0),
            obs: Space::Box(BoxSpace::uniform(-2.0, 2.0, 1).unwrap()),
            act: Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap()),
        };
        TimeLimit::new(line, 20)
    }
}

impl Env for Line {
    fn id(&self) -> &str {
        "Line-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.obs
    }
    fn action_space(&self) -> &Space {
        &self.act
    }
    fn reset(&mut self, seed: Option<u64>) -> (Vec<f32>, Info) {
        if let Some(s) = seed {
            self.rng = choicelab_core::rng(s);
        }
        self.x = self.rng.random::<f64>() * 3.0 - 1.5;
        (vec![self.x as f32], Info::new())
    }
    fn step(&mut self, action: &Action) -> CoreResult<StepOutcome> {
        self.act.check(action, "Line-v0")?;
        let Action::Continuous(a) = action else {
            unreachable!("checked above")
        };
        self.x = (self.x + 0.5 * f64::from(a[0])).clamp(-2.0, 2.0);
        Ok(StepOutcome::new(vec![self.x as f32], -self.x.abs(), false))
    }
    fn state(&self) -> Vec<f64> {
        vec![self.x]
    }
    fn set_state(&mut self, state: &[f64]) -> CoreResult<()> {
        self.x = state[0];
        Ok(())
    }
}

fn small_agent(seed: u64) -> Td3Params {
    Td3Params {
        hidden: vec![32, 32],
        batch_size: 64,
        actor_lr: 1e-3,
        critic_lr: 1e-3,
        learning_starts: 200,
        total_steps: 2_000,
        eval_every: 400,
        eval_episodes: 5,
        seed,
        ..Td3Params::default()
    }
}

#[test]
fn td3_learns_to_drive_the_point_home_and_is_deterministic() {
    let params = small_agent(3);
    let (mut env, mut eval) = (Line::new(), Line::new());
    let run = params.train(&mut env, &mut eval, |_| Ok(())).unwrap();
    assert_eq!(run.curve.len(), 5);
    assert_eq!(run.episodes.len(), 100);
    assert!(run.episode_end_steps.windows(2).all(|w| w[0] < w[1]));
    // A policy that does nothing scores about −0.75 · 20 = −15 from U(−1.5, 1.5); driving
    // home in a few steps scores about −2.
    let last = run.curve.last().unwrap();
    assert!(last.eval_mean > -5.0, "{:?}", run.curve);
    let returns = evaluate(&run.snapshots[4].model, &mut eval, 20, 99).unwrap();
    assert!(returns.iter().sum::<f64>() / 20.0 > -5.0, "{returns:?}");

    let again = params
        .train(&mut Line::new(), &mut Line::new(), |_| Ok(()))
        .unwrap();
    assert_eq!(run.curve, again.curve);
    assert_eq!(run.episodes, again.episodes);
    let other = small_agent(4)
        .train(&mut Line::new(), &mut Line::new(), |_| Ok(()))
        .unwrap();
    assert_ne!(run.curve, other.curve);
}

#[test]
fn ornstein_uhlenbeck_exploration_runs_and_differs_from_gaussian() {
    let gaussian = Td3Params {
        total_steps: 400,
        ..small_agent(1)
    };
    let ou = Td3Params {
        exploration: Exploration::OrnsteinUhlenbeck {
            sigma: 0.5,
            theta: 0.15,
        },
        ..gaussian.clone()
    };
    let a = gaussian
        .train(&mut Line::new(), &mut Line::new(), |_| Ok(()))
        .unwrap();
    let b = ou
        .train(&mut Line::new(), &mut Line::new(), |_| Ok(()))
        .unwrap();
    // The warm-up is the same uniform stream; afterwards the actions differ.
    assert_eq!(a.episodes[..10], b.episodes[..10]);
    assert_ne!(a.episodes[15..], b.episodes[15..]);
}

#[test]
fn datagen_records_five_levels_with_reference_scores() {
    let params = DatagenParams {
        agent: small_agent(5),
        dataset_steps: 200,
        reference_episodes: 20,
        ..DatagenParams::default()
    };
    let mut hook_calls = 0;
    let suite = params
        .generate(&mut Line::new(), &mut Line::new(), |_| {
            hook_calls += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(hook_calls, 5);
    assert_eq!(suite.datasets.len(), LEVELS.len());
    assert!(suite.ref_max_score > suite.ref_min_score + 5.0, "{suite:?}");
    for (level, data) in LEVELS.iter().zip(&suite.datasets) {
        assert_eq!(data.metadata.dataset_id, format!("line/{level}-v0"));
        assert_eq!(data.metadata.ref_min_score, Some(suite.ref_min_score));
        assert_eq!(data.metadata.ref_max_score, Some(suite.ref_max_score));
        assert_eq!(data.metadata.env_spec, "Line-v0");
        data.transitions().unwrap();
    }
    let mean_score = |level: &str| {
        let d = suite.dataset(level).unwrap();
        let total: f64 = d.episodes.iter().map(|e| e.total_reward()).sum();
        d.normalized_score(total / d.episodes.len() as f64).unwrap()
    };
    for level in ["random", "medium", "expert"] {
        assert!(suite.dataset(level).unwrap().metadata.total_steps >= 200);
    }
    assert!(
        mean_score("random").abs() < 25.0,
        "{}",
        mean_score("random")
    );
    assert!(mean_score("expert") > 70.0, "{}", mean_score("expert"));
    assert!(mean_score("medium") < mean_score("expert"));
    let me = suite.dataset("medium-expert").unwrap();
    assert_eq!(
        me.metadata.total_steps,
        suite.dataset("medium").unwrap().metadata.total_steps
            + suite.dataset("expert").unwrap().metadata.total_steps
    );
    let replay = suite.dataset("medium-replay").unwrap();
    assert_eq!(replay.metadata.total_steps, replay.episodes.len() * 20);
    assert!(replay.episodes.len() * 20 <= suite.medium.0);
}

#[test]
fn datagen_trains_again_from_the_next_seed_until_the_task_is_solved() {
    let params = DatagenParams {
        agent: small_agent(5),
        dataset_steps: 200,
        reference_episodes: 5,
        ..DatagenParams::default()
    };
    let plain = params
        .generate(&mut Line::new(), &mut Line::new(), |_| Ok(()))
        .unwrap();
    assert_eq!(plain.attempts.len(), 1);
    let (seed, best) = plain.attempts[0];
    assert_eq!(seed, 5);
    // A threshold the first run meets: one run, the same data.
    let solved = DatagenParams {
        solved_return: Some(best),
        attempts: 3,
        ..params.clone()
    }
    .generate(&mut Line::new(), &mut Line::new(), |_| Ok(()))
    .unwrap();
    assert_eq!(solved.attempts, plain.attempts);
    assert_eq!(solved.datasets, plain.datasets);
    // A threshold no run meets: every seed is tried, then a refusal that names them.
    let mut evaluations = 0;
    let err = DatagenParams {
        solved_return: Some(1e9),
        attempts: 2,
        ..params
    }
    .generate(&mut Line::new(), &mut Line::new(), |_| {
        evaluations += 1;
        Ok(())
    })
    .unwrap_err()
    .to_string();
    assert_eq!(evaluations, 10);
    assert!(err.contains("no training run solved Line-v0"), "{err}");
    assert!(err.contains("5: ") && err.contains("6: "), "{err}");
}

#[test]
fn bad_agent_parameters_and_worlds_are_rejected() {
    let bad = Td3Params {
        learning_starts: 5_000,
        ..small_agent(0)
    };
    let err = bad
        .train(&mut Line::new(), &mut Line::new(), |_| Ok(()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Parameter {
                name: "learning_starts",
                ..
            }
        ),
        "{err}"
    );
    let bad = Td3Params {
        exploration: Exploration::Gaussian { sigma: -1.0 },
        ..small_agent(0)
    };
    assert!(matches!(bad.check().unwrap_err(), Error::Parameter { .. }));
    let rejected = |params: DatagenParams| match params.check() {
        Err(Error::Parameter { name, .. }) => Some(name),
        _ => None,
    };
    let no_attempts = DatagenParams {
        attempts: 0,
        ..DatagenParams::default()
    };
    assert_eq!(rejected(no_attempts), Some("attempts"));
    let medium_beyond_expert = DatagenParams {
        medium_fraction: 1.5,
        ..DatagenParams::default()
    };
    assert_eq!(rejected(medium_beyond_expert), Some("medium_fraction"));
}
