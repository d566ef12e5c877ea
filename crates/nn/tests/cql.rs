//! choicelab-nn: conservative Q-learning on a tiny synthetic task.

mod common;

use candle_core::{Device, Tensor, D};
use choicelab_core::episodes::TransitionActions;
use choicelab_core::rng;
use choicelab_nn::mlp::{orthogonal, uniform};
use choicelab_nn::{CqlLearner, CqlParams, Error};
use common::synthetic;

fn tiny(seed: u64) -> CqlParams {
    CqlParams {
        hidden: vec![32, 32],
        batch_size: 64,
        steps: 30,
        eval_every: 10,
        seed,
        ..CqlParams::default()
    }
}

/// Mean squared distance between the actions `act` gives and the expert's on held-out states.
fn expert_mse(act: impl Fn(&[f32]) -> Vec<f32>) -> f32 {
    let test = synthetic(200, 99);
    let pred = act(&test.observations);
    let (_, truth) = test.continuous_actions().unwrap();
    pred.iter()
        .zip(truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f32>()
        / pred.len() as f32
}

#[test]
fn orthogonal_init_has_orthonormal_rows_or_columns() {
    for (rows, cols) in [(5, 3), (3, 5), (4, 4)] {
        let w = orthogonal(&mut rng(1), rows, cols, 2.0).unwrap();
        let gram = if rows >= cols {
            w.t().unwrap().matmul(&w).unwrap()
        } else {
            w.matmul(&w.t().unwrap()).unwrap()
        };
        let k = rows.min(cols);
        let gram = gram.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for (i, g) in gram.iter().enumerate() {
            let expected = if i / k == i % k { 4.0 } else { 0.0 };
            assert!((g - expected).abs() < 1e-4, "{rows}x{cols}: {gram:?}");
        }
    }
}

#[test]
fn cql_with_same_seed_is_bit_identical() {
    let data = synthetic(200, 9);
    let run = |seed| {
        let mut learner = CqlLearner::new(tiny(seed), &data).unwrap();
        for _ in 0..20 {
            learner.train_step().unwrap();
        }
        let bits: Vec<u32> = learner
            .flat_parameters()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        bits
    };
    let (a, b, c) = (run(11), run(11), run(12));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let (model_a, curve_a) = tiny(11).fit(&data).unwrap();
    let (model_b, curve_b) = tiny(11).fit(&data).unwrap();
    assert_eq!(curve_a, curve_b);
    assert_eq!(
        curve_a.iter().map(|p| p.step).collect::<Vec<_>>(),
        vec![10, 20, 30]
    );
    assert!(curve_a
        .iter()
        .all(|p| p.critic_loss.is_finite() && p.actor_loss.is_finite()));
    let obs = &data.observations[..30];
    assert_eq!(model_a.act(obs).unwrap(), model_b.act(obs).unwrap());
}

#[test]
fn the_exported_policy_is_the_squashed_mean() {
    let data = synthetic(100, 3);
    let params = CqlParams {
        max_action: 2.0,
        ..tiny(4)
    };
    let mut learner = CqlLearner::new(params, &data).unwrap();
    for _ in 0..5 {
        learner.train_step().unwrap();
    }
    let model = learner.policy().unwrap();
    assert_eq!(model.action_dim(), 2);
    let obs = &data.observations[..12];
    let x = Tensor::from_vec(model.normalizer.apply(obs), (4, 3), &Device::Cpu).unwrap();
    let mode = learner.actor().mode(&x).unwrap();
    let mode = mode.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for (m, a) in mode.iter().zip(model.act(obs).unwrap()) {
        assert!((m - a).abs() < 1e-6, "{m} vs {a}");
    }
}

#[test]
fn the_temperature_moves_only_when_tuned() {
    let data = synthetic(100, 6);
    for tuned in [true, false] {
        let params = CqlParams {
            automatic_entropy_tuning: tuned,
            alpha_multiplier: 0.5,
            policy_lr: 1e-2,
            ..tiny(1)
        };
        let mut learner = CqlLearner::new(params, &data).unwrap();
        assert_eq!(learner.alpha().unwrap(), 0.5);
        for _ in 0..5 {
            learner.train_step().unwrap();
        }
        let alpha = learner.alpha().unwrap();
        assert_eq!(alpha == 0.5, !tuned, "tuned {tuned}: α {alpha}");
    }
}

#[test]
fn bad_parameters_are_named() {
    let cases: [(&str, CqlParams); 9] = [
        (
            "cql_alpha",
            CqlParams {
                cql_alpha: -1.0,
                ..tiny(0)
            },
        ),
        (
            "cql_n_actions",
            CqlParams {
                cql_n_actions: 0,
                ..tiny(0)
            },
        ),
        (
            "cql_temp",
            CqlParams {
                cql_temp: 0.0,
                ..tiny(0)
            },
        ),
        (
            "discount",
            CqlParams {
                discount: 1.5,
                ..tiny(0)
            },
        ),
        (
            "tau",
            CqlParams {
                tau: 0.0,
                ..tiny(0)
            },
        ),
        (
            "target_update_period",
            CqlParams {
                target_update_period: 0,
                ..tiny(0)
            },
        ),
        (
            "alpha_multiplier",
            CqlParams {
                alpha_multiplier: f64::NAN,
                ..tiny(0)
            },
        ),
        (
            "policy_lr",
            CqlParams {
                policy_lr: 0.0,
                ..tiny(0)
            },
        ),
        (
            "hidden",
            CqlParams {
                hidden: vec![],
                ..tiny(0)
            },
        ),
    ];
    for (field, params) in cases {
        match params.check() {
            Err(Error::Parameter { name, .. }) => assert_eq!(name, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(CqlParams::default().check().is_ok());
    let json = serde_json::to_string(&CqlParams::default()).unwrap();
    let back: CqlParams = serde_json::from_str(&json).unwrap();
    assert_eq!(back, CqlParams::default());
    let partial: CqlParams = serde_json::from_str(r#"{"cql_alpha": 5.0}"#).unwrap();
    assert_eq!(partial.cql_n_actions, 10);
}

#[test]
fn unusable_data_is_invalid() {
    let good = synthetic(50, 1);
    let mut discrete = good.clone();
    discrete.actions = TransitionActions::Discrete(vec![0; 50]);
    assert!(matches!(tiny(0).fit(&discrete), Err(Error::InvalidData(_))));
    let mut outside = good.clone();
    if let TransitionActions::Continuous { values, .. } = &mut outside.actions {
        values[5] = 1.5;
    }
    assert!(matches!(
        CqlLearner::new(tiny(0), &outside),
        Err(Error::InvalidData(_))
    ));
}

#[test]
fn cql_learns_the_expert_and_stays_conservative() {
    // Without the penalty (cql_alpha 0) both checks fail on this task: the action MSE grows
    // and Q on uniform actions matches Q on the data's.
    let data = synthetic(512, 2);
    let params = CqlParams {
        hidden: vec![32, 32],
        batch_size: 64,
        bc_steps: 50,
        policy_lr: 1e-3,
        qf_lr: 1e-3,
        seed: 5,
        ..CqlParams::default()
    };
    let mut learner = CqlLearner::new(params, &data).unwrap();
    let untrained = learner.policy().unwrap();
    for _ in 0..400 {
        learner.train_step().unwrap();
    }
    let trained = learner.policy().unwrap();
    let before = expert_mse(|s| untrained.act(s).unwrap());
    let after = expert_mse(|s| trained.act(s).unwrap());
    assert!(after < 0.1 * before, "action MSE {before} -> {after}");
    // The penalty pushes Q down away from the data: Q(s, a) above Q(s, uniform action).
    let batch = learner.sample().unwrap();
    let random = uniform(&mut rng(7), batch.actions.dims(), 1.0).unwrap();
    let q_mean = |actions: &Tensor| {
        let x = Tensor::cat(&[&batch.observations, actions], D::Minus1).unwrap();
        let q = learner.critics().min(&x).unwrap();
        q.mean_all().unwrap().to_scalar::<f32>().unwrap()
    };
    let (on_data, off_data) = (q_mean(&batch.actions), q_mean(&random));
    assert!(
        on_data > off_data + 1.0,
        "Q on data {on_data}, on uniform actions {off_data}"
    );
}
