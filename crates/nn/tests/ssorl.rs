//! SS-ORL: the inverse dynamics model, the labelled split and the proxy-labelled union on a
//! synthetic linear system.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use choicelab_core::episodes::{Actions, DatasetMetadata, EpisodeData, Episodes};
use choicelab_core::rng;
use choicelab_nn::{
    proxy_labelled_union, split_labelled, Error, IdmParams, InverseDynamics, LabelSource, Mlp,
    Output, Td3BcParams,
};
use rand::RngExt;

const STEPS: usize = 30;

/// Episodes of `s' = A s + B a + 0.01 ε` in three dimensions with two actions,
/// `a = clip(K s + σ ε, ±1)`, `σ` drawn per episode from `[0.1, 0.6]` (so returns differ),
/// reward `−|s|² − 0.1 |a|²`, `s₀ ~ U(−1, 1)³`, cut by a time limit after 30 steps. Ids start at
/// `first_id`.
fn linear_episodes(n: usize, first_id: u64, seed: u64) -> Episodes {
    const A: [[f32; 3]; 3] = [[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.05, 0.0, 0.85]];
    const B: [[f32; 2]; 3] = [[0.5, 0.0], [0.0, 0.5], [0.3, -0.3]];
    const K: [[f32; 3]; 2] = [[-0.5, 0.2, 0.0], [0.1, -0.4, 0.3]];
    let mut r = rng(seed);
    let episodes = (0..n)
        .map(|i| {
            let sigma = 0.1 + 0.5 * r.random::<f32>();
            let mut s: Vec<f32> = (0..3).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
            let mut observations = vec![s.clone()];
            let (mut actions, mut rewards) = (Vec::new(), Vec::new());
            for _ in 0..STEPS {
                let a: Vec<f32> = K
                    .iter()
                    .map(|k| {
                        let mean: f32 = k.iter().zip(&s).map(|(k, s)| k * s).sum();
                        (mean + sigma * gauss(&mut r)).clamp(-1.0, 1.0)
                    })
                    .collect();
                let next: Vec<f32> = (0..3)
                    .map(|j| {
                        let drift: f32 = A[j].iter().zip(&s).map(|(a, s)| a * s).sum();
                        let push: f32 = B[j].iter().zip(&a).map(|(b, a)| b * a).sum();
                        drift + push + 0.01 * gauss(&mut r)
                    })
                    .collect();
                let cost = s.iter().map(|x| x * x).sum::<f32>()
                    + 0.1 * a.iter().map(|x| x * x).sum::<f32>();
                rewards.push(-f64::from(cost));
                actions.push(a);
                observations.push(next.clone());
                s = next;
            }
            let mut truncations = vec![false; STEPS];
            truncations[STEPS - 1] = true;
            EpisodeData {
                id: first_id + i as u64,
                seed: Some(i as u64),
                observations,
                actions: Actions::Continuous(actions),
                rewards,
                terminations: vec![false; STEPS],
                truncations,
            }
        })
        .collect();
    let mut metadata = DatasetMetadata::named("linear/mixed-v0");
    metadata.algorithm_name = "noisy-linear".into();
    metadata.ref_min_score = Some(-300.0);
    metadata.ref_max_score = Some(-10.0);
    Episodes::new(metadata, episodes).unwrap()
}

/// A small IDM that trains in well under a second in a debug build.
fn small_idm(seed: u64, steps: usize) -> IdmParams {
    IdmParams {
        hidden: vec![64, 64],
        lr: 1e-3,
        batch_size: 256,
        steps,
        eval_every: 50,
        seed,
        ..IdmParams::default()
    }
}

/// A standard normal draw (Box–Muller).
fn gauss(r: &mut choicelab_core::Rng) -> f32 {
    let (u, v): (f32, f32) = (r.random::<f32>().max(1e-7), r.random());
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

fn continuous(e: &EpisodeData) -> &[Vec<f32>] {
    match &e.actions {
        Actions::Continuous(rows) => rows,
        Actions::Discrete(_) => panic!("discrete actions"),
    }
}

#[test]
fn defaults_are_the_papers_and_bad_parameters_are_rejected() {
    let p = IdmParams::default();
    assert_eq!(p.hidden, vec![1024, 1024]);
    assert_eq!((p.context, p.batch_size, p.steps), (1, 1024, 100));
    assert_eq!(
        (p.dropout, p.lr, p.weight_decay, p.validation_share),
        (0.1, 1e-4, 0.0, 0.1)
    );
    p.check().unwrap();
    let partial: IdmParams = serde_json::from_str(r#"{"hidden": [256, 256]}"#).unwrap();
    assert_eq!(
        partial,
        IdmParams {
            hidden: vec![256, 256],
            ..p.clone()
        }
    );
    let low: LabelSource = serde_json::from_str(r#""low_return_half""#).unwrap();
    assert_eq!(low, LabelSource::LowReturnHalf);
    let bad = [
        IdmParams {
            dropout: 1.0,
            ..p.clone()
        },
        IdmParams {
            lr: 0.0,
            ..p.clone()
        },
        IdmParams {
            validation_share: 1.0,
            ..p.clone()
        },
        IdmParams {
            weight_decay: -1.0,
            ..p.clone()
        },
        IdmParams {
            hidden: vec![],
            ..p.clone()
        },
        IdmParams {
            max_action: f64::NAN,
            ..p.clone()
        },
    ];
    for b in bad {
        assert!(matches!(b.check(), Err(Error::Parameter { .. })), "{b:?}");
    }
}

#[test]
fn dropout_forward_is_seeded_and_scaled() {
    let net = Mlp::new(&[4, 32, 32, 2], Output::Identity, &mut rng(1)).unwrap();
    let x = Tensor::ones((8, 4), DType::F32, &Device::Cpu).unwrap();
    let flat = |t: Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let plain = flat(net.forward(&x).unwrap());
    assert_eq!(
        flat(net.forward_with_dropout(&x, 0.0, &mut rng(9)).unwrap()),
        plain
    );
    let a = flat(net.forward_with_dropout(&x, 0.5, &mut rng(9)).unwrap());
    let b = flat(net.forward_with_dropout(&x, 0.5, &mut rng(9)).unwrap());
    let c = flat(net.forward_with_dropout(&x, 0.5, &mut rng(10)).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, plain);
    // Hidden layer of 512 ones, output their mean: with dropout p the output is the kept
    // count over 512 (1 − p), near 1.
    let named: HashMap<String, Tensor> = [
        (
            "n.0.weight",
            Tensor::ones((512, 1), DType::F32, &Device::Cpu).unwrap(),
        ),
        (
            "n.0.bias",
            Tensor::zeros(512, DType::F32, &Device::Cpu).unwrap(),
        ),
        (
            "n.1.weight",
            (Tensor::ones((1, 512), DType::F32, &Device::Cpu).unwrap() / 512.0).unwrap(),
        ),
        (
            "n.1.bias",
            Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mean = Mlp::from_named_tensors(&named, "n", Output::Identity)
        .unwrap()
        .unwrap();
    let one = Tensor::ones((1, 1), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(flat(mean.forward(&one).unwrap()), vec![1.0]);
    let mut r = rng(3);
    let out = flat(mean.forward_with_dropout(&one, 0.3, &mut r).unwrap())[0];
    let kept = f64::from(out) * 512.0 * 0.7;
    assert!((kept - kept.round()).abs() < 1e-3, "{kept}");
    assert!((kept - 512.0 * 0.7).abs() < 60.0, "{kept}");
    assert!(net.forward_with_dropout(&x, 1.0, &mut r).is_err());
}

#[test]
fn same_seed_same_idm_different_seed_different() {
    let data = linear_episodes(12, 0, 1);
    let (m1, c1) = small_idm(7, 20).fit(&data).unwrap();
    let (m2, c2) = small_idm(7, 20).fit(&data).unwrap();
    let (m3, _) = small_idm(8, 20).fit(&data).unwrap();
    assert_eq!(m1.flat_parameters().unwrap(), m2.flat_parameters().unwrap());
    assert_eq!(c1, c2);
    assert_ne!(m1.flat_parameters().unwrap(), m3.flat_parameters().unwrap());
    let windows: Vec<f32> = (0..18).map(|i| i as f32 / 10.0 - 0.9).collect();
    assert_eq!(m1.predict(&windows).unwrap(), m2.predict(&windows).unwrap());
    assert_ne!(m1.predict(&windows).unwrap(), m3.predict(&windows).unwrap());
    assert_eq!(m1.predict(&windows).unwrap().len(), 4);
    assert_eq!((m1.obs_dim(), m1.action_dim(), m1.window_dim()), (3, 2, 9));
}

#[test]
fn trained_idm_recovers_held_out_actions() {
    let train = linear_episodes(20, 0, 2);
    let held_out = linear_episodes(10, 100, 3);
    let (idm, curve) = small_idm(0, 400).fit(&train).unwrap();
    // 2 of 20 episodes held out for validation; points every 50 steps.
    assert_eq!(curve.len(), 8);
    assert!(curve.iter().all(|p| p.validation_nll.is_finite()));
    assert!(curve[7].train_nll < curve[0].train_nll - 1.0, "{curve:?}");
    let actions: Vec<f64> = held_out
        .episodes
        .iter()
        .flat_map(|e| continuous(e).iter().flatten().map(|a| f64::from(*a)))
        .collect();
    let mean = actions.iter().sum::<f64>() / actions.len() as f64;
    let variance = actions.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / actions.len() as f64;
    let mse = idm.action_mse(&held_out).unwrap();
    assert!(
        mse < 0.05 * variance,
        "held-out MSE {mse}, action variance {variance}"
    );
    // An untrained network is far off: the bound is not met by chance.
    let (untrained, _) = small_idm(0, 1).fit(&train).unwrap();
    assert!(untrained.action_mse(&held_out).unwrap() > 0.5 * variance);
}

#[test]
fn windows_pad_the_first_step_with_the_zero_state() {
    let data = linear_episodes(4, 0, 4);
    let (idm, _) = small_idm(1, 10).fit(&data).unwrap();
    let labelled = idm.label(&data).unwrap();
    let e = &data.episodes[2];
    let o = &e.observations;
    let mut windows = vec![0.0; 3];
    windows.extend(o[0].iter().chain(&o[1]));
    windows.extend(o[4].iter().chain(&o[5]).chain(&o[6]));
    let predicted = idm.predict(&windows).unwrap();
    let proxy = continuous(&labelled.episodes[2]);
    for (t, row) in [(0, &predicted[..2]), (5, &predicted[2..])] {
        for (p, l) in row.iter().zip(&proxy[t]) {
            assert!(
                (p.clamp(-1.0, 1.0) - l).abs() < 1e-6,
                "step {t}: {p} vs {l}"
            );
        }
    }
    assert!(idm.predict(&windows[..10]).is_err());
    assert!(idm.predict(&[f32::NAN; 9]).is_err());
}

#[test]
fn labels_replace_only_the_actions_within_the_bound() {
    let data = linear_episodes(8, 0, 5);
    let (idm, _) = small_idm(2, 100).fit(&data).unwrap();
    let labelled = idm.label(&data).unwrap();
    assert_eq!(labelled.episodes.len(), data.episodes.len());
    assert_eq!(
        labelled.metadata.algorithm_name,
        "noisy-linear+idm-proxy-labels"
    );
    assert_eq!(labelled.metadata.dataset_id, data.metadata.dataset_id);
    assert_eq!(labelled.metadata.total_steps, data.metadata.total_steps);
    for (l, e) in labelled.episodes.iter().zip(&data.episodes) {
        assert_eq!((l.id, l.seed), (e.id, e.seed));
        assert_eq!(l.observations, e.observations);
        assert_eq!(l.rewards, e.rewards);
        assert_eq!(l.terminations, e.terminations);
        assert_eq!(l.truncations, e.truncations);
        assert_ne!(l.actions, e.actions);
        let rows = continuous(l);
        assert_eq!(rows.len(), e.len());
        assert!(rows.iter().flatten().all(|a| a.abs() <= 1.0));
    }
    // A tighter bound clips harder; action-free input (placeholder discrete actions) works.
    let tight = IdmParams {
        max_action: 1.5,
        ..small_idm(2, 20)
    };
    let (idm, _) = tight.fit(&data).unwrap();
    let mut blind = data.clone();
    for e in &mut blind.episodes {
        e.actions = Actions::Discrete(vec![0; e.len()]);
    }
    let proxy = idm.label(&blind).unwrap();
    assert!(proxy
        .episodes
        .iter()
        .all(|e| continuous(e).iter().flatten().all(|a| a.abs() <= 1.5)));
}

#[test]
fn low_half_split_is_seeded_and_checked() {
    let data = linear_episodes(40, 0, 6);
    let mut returns: Vec<f64> = data.episodes.iter().map(|e| e.total_reward()).collect();
    returns.sort_by(f64::total_cmp);
    let median = (returns[19] + returns[20]) / 2.0;
    let (l, u) = split_labelled(&data, 0.1, LabelSource::LowReturnHalf, 3).unwrap();
    assert_eq!((l.episodes.len(), u.episodes.len()), (4, 36));
    assert_eq!(l.metadata.total_episodes, 4);
    assert_eq!(l.metadata.ref_max_score, Some(-10.0));
    assert!(l.episodes.iter().all(|e| e.total_reward() <= median));
    let mut ids: Vec<u64> = l.episodes.iter().chain(&u.episodes).map(|e| e.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..40).collect::<Vec<_>>());
    assert!(u.episodes.windows(2).all(|w| w[0].id < w[1].id));
    let again = split_labelled(&data, 0.1, LabelSource::LowReturnHalf, 3).unwrap();
    assert_eq!(again.0, l);
    let other = split_labelled(&data, 0.1, LabelSource::LowReturnHalf, 4).unwrap();
    assert_ne!(other.0, l);
    let (h, _) = split_labelled(&data, 0.25, LabelSource::HighReturnHalf, 3).unwrap();
    assert_eq!(h.episodes.len(), 10);
    assert!(h.episodes.iter().all(|e| e.total_reward() >= median));
    let (all, none) = split_labelled(&data, 1.0, LabelSource::LowReturnHalf, 3).unwrap();
    assert_eq!((all, none.episodes.len()), (data.clone(), 0));
    // ⌈share · N⌉ without floating-point noise (0.1 · 30 = 3.0000000000000004), at least one.
    let thirty = Episodes::new(data.metadata.clone(), data.episodes[..30].to_vec()).unwrap();
    let (l, _) = split_labelled(&thirty, 0.1, LabelSource::Uniform, 0).unwrap();
    assert_eq!(l.episodes.len(), 3);
    let (l, _) = split_labelled(&data, 0.001, LabelSource::Uniform, 0).unwrap();
    assert_eq!(l.episodes.len(), 1);
    let (l, _) = split_labelled(&data, 0.6, LabelSource::Uniform, 0).unwrap();
    assert_eq!(l.episodes.len(), 24);
    for share in [0.0, -0.1, 1.5, f64::NAN] {
        let err = split_labelled(&data, share, LabelSource::Uniform, 0).unwrap_err();
        assert!(
            matches!(err, Error::Parameter { name: "share", .. }),
            "{share}: {err}"
        );
    }
    let err = split_labelled(&data, 0.6, LabelSource::LowReturnHalf, 0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("24 labelled") && err.contains("only 20"),
        "{err}"
    );
}

#[test]
fn union_holds_true_and_proxy_actions_and_trains_a_learner() {
    let data = linear_episodes(20, 0, 7);
    let (l, u) = split_labelled(&data, 0.25, LabelSource::LowReturnHalf, 1).unwrap();
    let (idm, _) = small_idm(3, 50).fit(&l).unwrap();
    let union = proxy_labelled_union(&l, &u, &idm).unwrap();
    assert_eq!(union.episodes.len(), 20);
    assert_eq!(union.metadata.total_steps, 20 * STEPS);
    assert_eq!(
        union.metadata.algorithm_name,
        "noisy-linear+idm-proxy-labels"
    );
    assert_eq!(union.metadata.ref_min_score, Some(-300.0));
    assert_eq!(&union.episodes[..5], &l.episodes[..]);
    assert_eq!(&union.episodes[5..], &idm.label(&u).unwrap().episodes[..]);
    let transitions = union.transitions().unwrap();
    assert_eq!(transitions.len(), 20 * STEPS);
    let td3 = Td3BcParams {
        hidden: vec![16],
        batch_size: 32,
        steps: 4,
        eval_every: 4,
        ..Td3BcParams::default()
    };
    assert_eq!(td3.fit(&transitions).unwrap().curve.len(), 1);
    // Colliding ids: the unlabelled part is renumbered after the largest labelled id.
    let other = linear_episodes(3, l.episodes[0].id, 8);
    let union = proxy_labelled_union(&l, &other, &idm).unwrap();
    let ids: Vec<u64> = union.episodes[5..].iter().map(|e| e.id).collect();
    let next = l.episodes.iter().map(|e| e.id).max().unwrap() + 1;
    assert_eq!(ids, vec![next, next + 1, next + 2]);
    // Everything labelled: the union is the labelled part.
    let empty = Episodes::new(data.metadata.clone(), vec![]).unwrap();
    assert_eq!(proxy_labelled_union(&data, &empty, &idm).unwrap(), data);
    assert!(proxy_labelled_union(&empty, &empty, &idm).is_err());
}

#[test]
fn bad_inputs_give_clear_errors() {
    let data = linear_episodes(6, 0, 9);
    let params = small_idm(0, 5);
    let message = |r: Result<(InverseDynamics, Vec<_>), Error>| r.unwrap_err().to_string();
    // Discrete actions.
    let mut discrete = data.clone();
    for e in &mut discrete.episodes {
        e.actions = Actions::Discrete(vec![1; e.len()]);
    }
    let err = message(params.fit(&discrete));
    assert!(err.contains("continuous actions"), "{err}");
    // Episodes of different observation widths (built around Episodes::new's checks).
    let mut mixed = data.clone();
    for o in &mut mixed.episodes[3].observations {
        o.push(0.0);
    }
    let err = message(params.fit(&mixed));
    assert!(err.contains("observation width 4, expected 3"), "{err}");
    // A non-finite state.
    let mut nan = data.clone();
    nan.episodes[1].observations[4][2] = f32::NAN;
    let err = message(params.fit(&nan));
    assert!(err.contains("non-finite observation"), "{err}");
    // Actions outside the bound.
    let err = message(
        IdmParams {
            max_action: 0.5,
            ..params.clone()
        }
        .fit(&data),
    );
    assert!(err.contains("outside [-0.5, 0.5]"), "{err}");
    // No episodes.
    let empty = Episodes::new(data.metadata.clone(), vec![]).unwrap();
    assert!(message(params.fit(&empty)).contains("no episodes"));
    // A model meets data of another width.
    let (idm, _) = params.fit(&data).unwrap();
    let wide = Episodes::new(
        data.metadata.clone(),
        mixed
            .episodes
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.observations.iter_mut().for_each(|o| o.resize(4, 0.0));
                e
            })
            .collect(),
    )
    .unwrap();
    let err = idm.label(&wide).unwrap_err().to_string();
    assert!(err.contains("width 4") && err.contains("width 3"), "{err}");
    assert!(idm.action_mse(&wide).is_err());
    assert!(idm
        .action_mse(&discrete)
        .unwrap_err()
        .to_string()
        .contains("discrete"));
    let err = proxy_labelled_union(&wide, &data, &idm)
        .unwrap_err()
        .to_string();
    assert!(err.contains("width 4"), "{err}");
    let err = proxy_labelled_union(&discrete, &data, &idm)
        .unwrap_err()
        .to_string();
    assert!(err.contains("discrete"), "{err}");
}
