//! choicelab-nn: building blocks and the offline learners on tiny problems.

mod common;

use candle_core::{Device, Tensor};
use choicelab_core::episodes::TransitionActions;
use choicelab_core::rng;
use choicelab_nn::{
    tanh_gaussian_log_prob, ActorModel, BcParams, DeterministicPolicy, Error, GaussianPolicy,
    IqlParams, Mlp, Normalizer, Output, Td3BcLearner, Td3BcParams,
};
use common::synthetic;

fn tiny_td3bc(seed: u64) -> Td3BcParams {
    Td3BcParams {
        hidden: vec![32, 32],
        batch_size: 32,
        steps: 40,
        eval_every: 20,
        seed,
        ..Td3BcParams::default()
    }
}

#[test]
fn seeded_initialisation_is_deterministic() {
    let a = Mlp::new(&[4, 8, 2], Output::Identity, &mut rng(5)).unwrap();
    let b = Mlp::new(&[4, 8, 2], Output::Identity, &mut rng(5)).unwrap();
    let c = Mlp::new(&[4, 8, 2], Output::Identity, &mut rng(6)).unwrap();
    assert_eq!(a.flat_parameters().unwrap(), b.flat_parameters().unwrap());
    assert_ne!(a.flat_parameters().unwrap(), c.flat_parameters().unwrap());
    // torch's nn.Linear bound 1/sqrt(fan_in): first layer within ±0.5.
    assert!(a.flat_parameters().unwrap()[..40]
        .iter()
        .all(|w| w.abs() <= 0.5));
    assert_eq!(a.sizes(), vec![4, 8, 2]);
}

#[test]
fn polyak_update_is_a_convex_combination() {
    let source = Mlp::new(&[3, 5, 1], Output::Identity, &mut rng(1)).unwrap();
    let target = Mlp::new(&[3, 5, 1], Output::Identity, &mut rng(2)).unwrap();
    let (s0, t0) = (
        source.flat_parameters().unwrap(),
        target.flat_parameters().unwrap(),
    );
    target.soft_update(&source, 0.25).unwrap();
    let t1 = target.flat_parameters().unwrap();
    for ((s, t), u) in s0.iter().zip(&t0).zip(&t1) {
        assert!((u - (0.75 * t + 0.25 * s)).abs() < 1e-6);
    }
    // The source is untouched, a copy is independent, and τ = 1 copies.
    assert_eq!(source.flat_parameters().unwrap(), s0);
    let copy = source.detached_copy().unwrap();
    copy.soft_update(&target, 1.0).unwrap();
    assert_eq!(copy.flat_parameters().unwrap(), t1);
    assert_eq!(source.flat_parameters().unwrap(), s0);
    let other = Mlp::new(&[3, 4, 1], Output::Identity, &mut rng(2)).unwrap();
    assert!(target.soft_update(&other, 0.5).is_err());
}

#[test]
fn normaliser_fits_population_std_plus_eps() {
    let rows = [1.0, 10.0, 3.0, 10.0];
    let n = Normalizer::fit(&rows, 2, 1e-3).unwrap();
    assert_eq!(n.mean, vec![2.0, 10.0]);
    assert!((n.std[0] - 1.001).abs() < 1e-6 && (n.std[1] - 1e-3).abs() < 1e-9);
    let z = n.apply(&rows);
    assert!((z[0] + 1.0 / 1.001).abs() < 1e-6 && z[1] == 0.0);
    assert!(Normalizer::fit(&rows, 2, 0.0).is_err()); // constant feature without eps
    assert!(Normalizer::fit(&rows[..3], 2, 1e-3).is_err());
    assert_eq!(Normalizer::identity(2).apply(&rows), rows.to_vec());
}

#[test]
fn tanh_gaussian_log_prob_matches_hand_computation() {
    // u = 0.5, mean 0.2, std 0.5, max_action 2:
    // log N = -0.5·0.6² − ln 0.5 − ½ ln 2π = −0.405791352644727;
    // minus ln(1 − tanh² 0.5) and ln 2 gives −0.858709519288118.
    let t = |v: f32| Tensor::new(&[[v]], &Device::Cpu).unwrap();
    let lp = tanh_gaussian_log_prob(&t(0.5), &t(0.2), &t(0.5f32.ln()), 2.0).unwrap();
    let lp = lp.flatten_all().unwrap().to_vec1::<f32>().unwrap()[0];
    assert!((f64::from(lp) + 0.858_709_519_288_118).abs() < 1e-5, "{lp}");
}

#[test]
fn gaussian_policies_sample_and_score_consistently() {
    let mut r = rng(3);
    let obs = Tensor::new(&[[0.1f32, -0.2], [0.3, 0.4]], &Device::Cpu).unwrap();
    for squashed in [false, true] {
        let p = GaussianPolicy::new(2, &[8], 3, squashed, 2.0, &mut r).unwrap();
        let (a, logp) = p.sample(&obs, &mut r).unwrap();
        assert_eq!(a.dims(), &[2, 3]);
        let again = p.log_prob(&obs, &a).unwrap();
        let (x, y) = (
            logp.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            again.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        );
        for (x, y) in x.iter().zip(&y) {
            assert!((x - y).abs() < 1e-3, "squashed {squashed}: {x} vs {y}");
        }
        let mode = p
            .mode(&obs)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert!(!squashed || mode.iter().all(|m| m.abs() <= 2.0));
    }
}

#[test]
fn td3bc_with_same_seed_is_bit_identical() {
    let data = synthetic(200, 9);
    let a = tiny_td3bc(11).fit(&data).unwrap();
    let b = tiny_td3bc(11).fit(&data).unwrap();
    let c = tiny_td3bc(12).fit(&data).unwrap();
    let (pa, pb, pc) = (
        a.learner.flat_parameters().unwrap(),
        b.learner.flat_parameters().unwrap(),
        c.learner.flat_parameters().unwrap(),
    );
    assert_eq!(
        pa.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        pb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_ne!(pa, pc);
    assert_eq!(a.curve, b.curve);
    assert_eq!(
        a.curve.iter().map(|p| p.step).collect::<Vec<_>>(),
        vec![20, 40]
    );
}

#[test]
fn td3bc_reduces_critic_loss_and_calls_the_hook() {
    let data = synthetic(300, 4);
    let params = Td3BcParams {
        steps: 300,
        eval_every: 100,
        ..tiny_td3bc(1)
    };
    let mut learner = Td3BcLearner::new(params.clone(), &data).unwrap();
    let batch = learner.sample().unwrap();
    let before = learner.critic_loss_on(&batch).unwrap();
    for _ in 0..300 {
        learner.train_step().unwrap();
    }
    let after = learner.critic_loss_on(&batch).unwrap();
    assert!(after < 0.3 * before, "critic loss {before} -> {after}");
    let mut calls = Vec::new();
    let fit = params
        .fit_with(&data, |p, model| {
            calls.push((p.step, model.act(&[0.0, 0.0, 0.0])?.len()));
            Ok(())
        })
        .unwrap();
    assert_eq!(calls, vec![(100, 2), (200, 2), (300, 2)]);
    assert!(fit.curve[2].critic_loss < fit.curve[0].critic_loss);
    assert!(fit.curve.iter().all(|p| p.actor_loss.is_finite()));
}

#[test]
fn bc_recovers_a_linear_expert() {
    let data = synthetic(512, 2);
    let params = BcParams {
        hidden: vec![64, 64],
        batch_size: 64,
        steps: 1500,
        eval_every: 500,
        seed: 3,
        ..BcParams::default()
    };
    let (model, curve) = params.fit(&data).unwrap();
    assert!(curve[2].actor_loss < curve[0].actor_loss);
    let test = synthetic(200, 99);
    let pred = model.act(&test.observations).unwrap();
    let (_, truth) = test.continuous_actions().unwrap();
    let mse: f32 = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f32>()
        / pred.len() as f32;
    assert!(mse < 2e-3, "BC test MSE {mse}");
}

#[test]
fn actor_checkpoint_round_trips_with_normaliser() {
    let policy = DeterministicPolicy::new(3, &[8], 2, 2.0, &mut rng(8)).unwrap();
    let model = ActorModel {
        policy,
        normalizer: Normalizer {
            mean: vec![1.0, -1.0, 0.5],
            std: vec![2.0, 0.5, 1.0],
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("actor.safetensors");
    model.save(&path).unwrap();
    let loaded = ActorModel::load(&path).unwrap();
    assert_eq!(loaded.normalizer, model.normalizer);
    assert_eq!(loaded.policy.max_action, 2.0);
    let obs = [0.3, 0.1, -0.7, 1.0, 2.0, 3.0];
    assert_eq!(loaded.act(&obs).unwrap(), model.act(&obs).unwrap());
    std::fs::write(&path, b"not a checkpoint").unwrap();
    assert!(matches!(
        ActorModel::load(&path),
        Err(Error::Checkpoint { .. })
    ));
    assert!(model.act(&[0.0, 1.0]).is_err());
    assert!(model.act(&[0.0, 1.0, f32::NAN]).is_err());
}

#[test]
fn bad_inputs_are_errors() {
    let good = synthetic(50, 1);
    let mut nan = good.clone();
    nan.rewards[7] = f32::NAN;
    let e = tiny_td3bc(0).fit(&nan).err().unwrap().to_string();
    assert!(e.contains("rewards[7]"), "{e}");
    let mut wide = good.clone();
    wide.obs_dim = 4;
    let e = tiny_td3bc(0).fit(&wide).err().unwrap().to_string();
    assert!(e.contains("observations"), "{e}");
    let mut outside = good.clone();
    if let TransitionActions::Continuous { values, .. } = &mut outside.actions {
        values[5] = 1.5;
    }
    let e = tiny_td3bc(0).fit(&outside).err().unwrap().to_string();
    assert!(e.contains("outside") && e.contains("transition 2"), "{e}");
    let mut discrete = good.clone();
    discrete.actions = TransitionActions::Discrete(vec![0; 50]);
    assert!(matches!(
        tiny_td3bc(0).fit(&discrete),
        Err(Error::InvalidData(_))
    ));
    for bad in [
        Td3BcParams {
            alpha: -1.0,
            ..tiny_td3bc(0)
        },
        Td3BcParams {
            tau: 2.0,
            ..tiny_td3bc(0)
        },
        Td3BcParams {
            policy_freq: 0,
            ..tiny_td3bc(0)
        },
        Td3BcParams {
            hidden: vec![],
            ..tiny_td3bc(0)
        },
        Td3BcParams {
            max_action: 0.0,
            ..tiny_td3bc(0)
        },
    ] {
        assert!(matches!(bad.check(), Err(Error::Parameter { .. })));
    }
    assert!(BcParams {
        lr: f64::NAN,
        ..BcParams::default()
    }
    .check()
    .is_err());
}

#[test]
fn iql_learns_the_behaviour_policy_deterministically() {
    let data = synthetic(400, 5);
    let params = IqlParams {
        hidden: vec![32, 32],
        batch_size: 64,
        steps: 600,
        eval_every: 200,
        seed: 2,
        ..IqlParams::default()
    };
    let (model, curve) = params.fit(&data).unwrap();
    let (again, _) = params.fit(&data).unwrap();
    let obs = &data.observations[..30];
    assert_eq!(model.act(obs).unwrap(), again.act(obs).unwrap());
    assert!(curve[2].critic_loss < curve[0].critic_loss, "{curve:?}");
    let pred = model.act(&data.observations).unwrap();
    let (_, truth) = data.continuous_actions().unwrap();
    let mse: f32 = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f32>()
        / pred.len() as f32;
    assert!(mse < 0.02, "IQL action MSE {mse}");
    assert!(IqlParams {
        expectile: 1.5,
        ..IqlParams::default()
    }
    .check()
    .is_err());
    assert!(IqlParams {
        beta: -1.0,
        ..IqlParams::default()
    }
    .check()
    .is_err());
}
