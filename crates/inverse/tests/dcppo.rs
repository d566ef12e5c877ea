//! DCPPO: the world's invariants, each stage's recovery as data grow, pessimism's ordering,
//! determinism and clear errors.

use choicelab_inverse::dcppo::{
    estimate_q, pessimistic_plan, recover_reward, theory_beta, Dcppo, Episodes, Features,
    LinearDdcWorld, Pessimism, QEstimate, Transition, WorldDesign,
};

fn design() -> WorldDesign {
    WorldDesign {
        states: 12,
        actions: 3,
        dim: 6,
        horizon: 3,
        feature_concentration: 0.3,
        transition_concentration: 0.3,
        reward_scale: 3.0,
        start_states: 2,
    }
}

fn world() -> LinearDdcWorld {
    LinearDdcWorld::generate(&design(), 5).expect("a valid design")
}

/// The human's θ_h = w + Σ_s' μ(s') V_{h+1}(s'), so that Q_h = φᵀθ_h exactly.
fn true_theta(world: &LinearDdcWorld) -> Vec<Vec<f64>> {
    let (q, _) = world.human();
    let (s, a, d) = (world.states(), world.actions(), world.features.dim());
    (0..world.horizon)
        .map(|h| {
            (0..d)
                .map(|k| {
                    let continuation: f64 = match q.get(h + 1) {
                        None => 0.0,
                        Some(next) => (0..s)
                            .map(|x| {
                                let row = &next[x * a..(x + 1) * a];
                                let top = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                                let v = top + row.iter().map(|q| (q - top).exp()).sum::<f64>().ln();
                                world.next_state_mix[k * s + x] * v
                            })
                            .sum(),
                    };
                    world.reward_weights[k] + continuation
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_world_is_a_linear_mdp_with_a_logit_human() {
    let world = world();
    let (s, a) = (world.states(), world.actions());
    for row in world.transitions().chunks_exact(s) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let (q, policy) = world.human();
    for h in 0..world.horizon {
        for state in 0..s {
            let p = &policy[h][state * a..(state + 1) * a];
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(
                p.iter().all(|x| *x > 0.0),
                "every action has positive probability"
            );
            // The logit: log-odds between actions equal Q differences.
            let gap = q[h][state * a + 1] - q[h][state * a];
            assert!(((p[1] / p[0]).ln() - gap).abs() < 1e-9);
        }
    }
    // Q is linear in φ with θ_h = w + Σ μ V_{h+1}.
    let theta = true_theta(&world);
    for h in 0..world.horizon {
        let linear = world.features.linear(&theta[h]);
        for (x, y) in linear.iter().zip(&q[h]) {
            assert!((x - y).abs() < 1e-9);
        }
    }
    for occupancy in world.human_occupancy() {
        assert!((occupancy.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    // The optimal policy is at least as good as any other, e.g. always action 0.
    let rewards = world.rewards();
    let best = world
        .value_of(&world.optimal_policy(&rewards), &rewards)
        .expect("a valid policy");
    let zero = vec![vec![0; s]; world.horizon];
    assert!(best >= world.value_of(&zero, &rewards).expect("valid") - 1e-12);
    assert_eq!(
        world
            .suboptimality(&world.optimal_policy(&rewards))
            .unwrap(),
        0.0
    );
    let out_of_range = vec![vec![a; s]; world.horizon];
    assert!(world.suboptimality(&out_of_range).is_err());
    assert!(world.suboptimality(&zero[1..]).is_err());
}

#[test]
fn simulation_is_seeded_and_prefix_stable() {
    let world = world();
    let a = world.simulate(200, 9);
    let b = world.simulate(200, 9);
    let c = world.simulate(50, 9);
    assert_eq!(a, b);
    assert_eq!(a.transitions[..50 * world.horizon], c.transitions[..]);
    assert_ne!(a, world.simulate(200, 10));
    assert_eq!(a.len(), 200);
    for h in 0..world.horizon - 1 {
        for (t, next) in a.at_step(h).zip(a.at_step(h + 1)) {
            assert_eq!(t.next_state, next.state);
        }
    }
}

#[test]
fn each_stage_error_falls_with_the_data() {
    let world = world();
    let all = world.simulate(40_000, 1);
    let errors: Vec<(f64, f64)> = [1_000, 40_000]
        .iter()
        .map(|&n| {
            let episodes = Episodes {
                horizon: all.horizon,
                transitions: all.transitions[..n * all.horizon].to_vec(),
            };
            let q = estimate_q(&world.features, &episodes, 1e-3).expect("stage 1");
            let w = recover_reward(&world.features, &episodes, &q, 1e-3).expect("stage 2");
            (
                world.q_error(&q.tables(&world.features)),
                world.reward_error(&w),
            )
        })
        .collect();
    // 40× the data: roughly √40 ≈ 6.3× smaller errors; ask for 3×.
    assert!(errors[1].0 < errors[0].0 / 3.0, "{errors:?}");
    assert!(errors[1].1 < errors[0].1 / 3.0, "{errors:?}");
    assert!(errors[1].0 < 0.05 && errors[1].1 < 0.1, "{errors:?}");
}

#[test]
fn stage_two_recovers_the_reward_from_the_true_q() {
    let world = world();
    let episodes = world.simulate(20_000, 2);
    let truth = QEstimate {
        theta: true_theta(&world),
        fits: Vec::new(),
    };
    assert!(world.q_error(&truth.tables(&world.features)) < 1e-9);
    let w = recover_reward(&world.features, &episodes, &truth, 1e-6).expect("stage 2");
    assert!(world.reward_error(&w) < 0.05, "{}", world.reward_error(&w));
}

#[test]
fn planning_with_the_true_reward_and_much_data_is_near_optimal() {
    let world = world();
    let episodes = world.simulate(20_000, 3);
    let weights = vec![world.reward_weights.clone(); world.horizon];
    for beta in [0.0, 1.0] {
        let plan = pessimistic_plan(
            &world.features,
            &episodes,
            &weights,
            Pessimism { beta, ridge: 1e-3 },
        )
        .expect("stage 3");
        assert!(
            world.suboptimality(&plan.policy).unwrap() < 0.01,
            "β = {beta}"
        );
    }
}

#[test]
fn the_bonus_lowers_the_values_and_shrinks_with_data() {
    let world = world();
    let episodes = world.simulate(2_000, 4);
    let weights = vec![world.reward_weights.clone(); world.horizon];
    let plan = |beta: f64, episodes: &Episodes| {
        pessimistic_plan(
            &world.features,
            episodes,
            &weights,
            Pessimism { beta, ridge: 1e-3 },
        )
        .expect("stage 3")
    };
    let (plain, pessimistic) = (plan(0.0, &episodes), plan(2.0, &episodes));
    let last = world.horizon - 1;
    for (p, z) in pessimistic.q[last].iter().zip(&plain.q[last]) {
        assert!(p <= z);
    }
    assert!(plain.bonus.iter().flatten().all(|b| *b == 0.0));
    assert!(pessimistic.bonus.iter().flatten().all(|b| *b > 0.0));
    let fewer = Episodes {
        horizon: episodes.horizon,
        transitions: episodes.transitions[..200 * episodes.horizon].to_vec(),
    };
    let sparse = plan(2.0, &fewer);
    for (more, less) in pessimistic.bonus[0].iter().zip(&sparse.bonus[0]) {
        assert!(more < less);
    }
    // A huge bonus pins every value at the floor of its range; the ties then go to the least
    // penalised action, not to action 0.
    let floor = plan(1e9, &episodes);
    let first = floor.q[0][0];
    assert!(floor.q[0].iter().all(|q| *q == first));
    assert_eq!(floor.floor_share(), 1.0);
    assert!(plain.floor_share() < 0.5);
    let least_penalised = (0..world.states())
        .map(|x| {
            (0..world.actions())
                .min_by(|&i, &j| {
                    let b = &floor.bonus[0];
                    b[x * world.actions() + i].total_cmp(&b[x * world.actions() + j])
                })
                .unwrap()
        })
        .collect::<Vec<_>>();
    assert_eq!(floor.policy[0], least_penalised);
}

#[test]
fn relabelling_the_actions_relabels_the_estimates() {
    let world = world();
    let episodes = world.simulate(3_000, 6);
    let (s, a, d) = (world.states(), world.actions(), world.features.dim());
    let swap = |j: usize| [1, 0, 2][j];
    let mut values = vec![0.0; s * a * d];
    for x in 0..s {
        for j in 0..a {
            let at = (x * a + swap(j)) * d;
            values[at..at + d].copy_from_slice(world.features.at(x, j));
        }
    }
    let swapped = Features::new(s, a, d, values).expect("valid");
    let relabelled = Episodes {
        horizon: episodes.horizon,
        transitions: episodes
            .transitions
            .iter()
            .map(|t| Transition {
                action: swap(t.action),
                ..*t
            })
            .collect(),
    };
    let fit = Dcppo::default()
        .fit(&world.features, &episodes)
        .expect("fits");
    let other = Dcppo::default().fit(&swapped, &relabelled).expect("fits");
    for (x, y) in fit
        .q
        .theta
        .iter()
        .flatten()
        .zip(other.q.theta.iter().flatten())
    {
        assert!((x - y).abs() < 1e-6, "{x} {y}");
    }
    for (p, q) in fit
        .plan
        .policy
        .iter()
        .flatten()
        .zip(other.plan.policy.iter().flatten())
    {
        assert_eq!(swap(*p), *q);
    }
}

#[test]
fn bad_input_is_reported() {
    let world = world();
    let mut episodes = world.simulate(50, 7);
    let error = |e: choicelab_core::Error| e.to_string();
    let bad_ridge = error(estimate_q(&world.features, &episodes, -1.0).unwrap_err());
    assert!(bad_ridge.contains("ridge"), "{bad_ridge}");
    let q = estimate_q(&world.features, &episodes, 1e-3).expect("fits");
    let bad_reward_ridge = error(recover_reward(&world.features, &episodes, &q, 0.0).unwrap_err());
    assert!(bad_reward_ridge.contains("ridge"), "{bad_reward_ridge}");
    let weights = vec![world.reward_weights.clone(); world.horizon];
    let negative = Pessimism {
        beta: -1.0,
        ridge: 1e-3,
    };
    let bad_beta =
        error(pessimistic_plan(&world.features, &episodes, &weights, negative).unwrap_err());
    assert!(bad_beta.contains("beta"), "{bad_beta}");
    let short = error(
        pessimistic_plan(
            &world.features,
            &episodes,
            &weights[..1],
            Pessimism {
                beta: 1.0,
                ridge: 1e-3,
            },
        )
        .unwrap_err(),
    );
    assert!(short.contains("reward_weights"), "{short}");
    episodes.transitions[4].next_state = 99;
    let out_of_range = error(estimate_q(&world.features, &episodes, 1e-3).unwrap_err());
    assert!(out_of_range.contains("episode 1 step 1"), "{out_of_range}");
    episodes.transitions.pop();
    let ragged = error(estimate_q(&world.features, &episodes, 1e-3).unwrap_err());
    assert!(ragged.contains("whole episodes"), "{ragged}");
    let episodes = world.simulate(50, 7);
    let nan_weights = vec![vec![f64::NAN; world.features.dim()]; world.horizon];
    let nan = error(
        pessimistic_plan(
            &world.features,
            &episodes,
            &nan_weights,
            Pessimism {
                beta: 1.0,
                ridge: 1e-3,
            },
        )
        .unwrap_err(),
    );
    assert!(nan.contains("finite weights"), "{nan}");
    let zero_ridge = error(estimate_q(&world.features, &episodes, 0.0).unwrap_err());
    assert!(zero_ridge.contains("ridge"), "{zero_ridge}");
    let shape = error(Features::new(2, 2, 2, vec![0.0; 7]).unwrap_err());
    assert!(shape.contains("8 values"), "{shape}");
    let nan = error(Features::new(1, 2, 1, vec![0.0, f64::NAN]).unwrap_err());
    assert!(nan.contains("φ(0,1)[0]"), "{nan}");
    let narrow = WorldDesign {
        start_states: 0,
        ..design()
    };
    let no_start = error(LinearDdcWorld::generate(&narrow, 1).unwrap_err());
    assert!(no_start.contains("start_states"), "{no_start}");
    let flat = WorldDesign { dim: 0, ..design() };
    let no_features = error(LinearDdcWorld::generate(&flat, 1).unwrap_err());
    assert!(no_features.contains("dim 0"), "{no_features}");
    let mut off_simplex = world.clone();
    let (s, a, d) = (world.states(), world.actions(), world.features.dim());
    let mut values: Vec<f64> = (0..s * a).flat_map(|_| vec![1.0 / d as f64; d]).collect();
    values[0] = 2.0;
    off_simplex.features = Features::new(s, a, d, values).unwrap();
    let not_distribution = error(off_simplex.check().unwrap_err());
    assert!(not_distribution.contains("φ(0,0)"), "{not_distribution}");
    assert!(theory_beta(6, 3, 100, 0.0, 1.0).is_err());
    assert!(theory_beta(6, 3, 100, 0.05, 1.0).unwrap() > 0.0);
}
