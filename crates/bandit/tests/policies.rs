//! DynLin-UCB's schedule, the simulator's guarantees (zero regret for the clairvoyant, the same
//! bits at any thread count) and the policies on the synthetic dynamical linear bandit.

mod common;

use choicelab_bandit::{
    batch_size, epoch_length, Ar2, BatchExp3, DLinUcb, DynLinUcb, Exp3, Fixed, LinUcb, Policy,
    Simulation, Ucb1,
};
use choicelab_core::rng;
use common::{arms, Diagonal};

fn values(system: &Diagonal) -> Vec<f64> {
    let h = system.gain();
    arms()
        .iter()
        .map(|u| u.iter().zip(&h).map(|(u, h)| u * h).sum())
        .collect()
}

#[test]
fn epochs_follow_the_schedule() {
    // 1 + ⌊log m / log 5⌋: one step for m < 5, two for 5 ≤ m < 25, three from 25.
    let lengths: Vec<u64> = (1..=30).map(|m| epoch_length(m, 0.2)).collect();
    assert_eq!(&lengths[..4], &[1, 1, 1, 1]);
    assert!(lengths[4..24].iter().all(|&l| l == 2));
    assert!(lengths[24..].iter().all(|&l| l == 3));
    assert_eq!(epoch_length(7, 0.0), 1);
    let system = Diagonal::synthetic(0.01);
    let mut policy = DynLinUcb::new(&arms(), &system.bounds(), 1.0, 10.0).unwrap();
    let mut random = rng(3);
    let (mut epoch, mut start, mut arm) = (0, 0, 0);
    for t in 0..500u64 {
        let chosen = policy.select(t, &mut random);
        if policy.epoch() != epoch {
            assert_eq!(policy.epoch(), epoch + 1, "epochs advance one at a time");
            if epoch > 0 {
                assert_eq!(t - start, epoch_length(epoch, 0.2), "epoch {epoch}");
            }
            (epoch, start, arm) = (policy.epoch(), t, chosen);
        }
        assert_eq!(chosen, arm, "the arm is held within an epoch");
        policy.observe(t, chosen, 0.1 * chosen as f64);
    }
    assert!(epoch > 100);
}

#[test]
fn the_clairvoyant_has_zero_regret() {
    let system = Diagonal::synthetic(0.1);
    let values = values(&system);
    let simulation = Simulation::new(5_000, 3, 1).unwrap();
    let curve = simulation
        .run(
            &arms(),
            &values,
            || Diagonal::synthetic(0.1),
            || Fixed::best(&values).unwrap(),
        )
        .unwrap();
    assert!(curve.trials.iter().flatten().all(|&r| r == 0.0));
    assert_eq!(*curve.steps.last().unwrap(), 5_000);
    // The trap (0, 1, 0.5) loses 0.8125 − 0.5556 per step.
    let trap = simulation
        .run(
            &arms(),
            &values,
            || Diagonal::synthetic(0.1),
            || Fixed::new(1),
        )
        .unwrap();
    assert!((trap.final_mean() - 5_000.0 * (0.8125 - 0.5 - 0.5 / 9.0)).abs() < 1e-6);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let system = Diagonal::synthetic(0.01);
    let (values, bounds) = (values(&system), system.bounds());
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let simulation = Simulation::new(3_000, 4, 7).unwrap();
            let dynlin = simulation
                .run(
                    &arms(),
                    &values,
                    || Diagonal::synthetic(0.01),
                    || DynLinUcb::new(&arms(), &bounds, 1.0, 8.0).unwrap(),
                )
                .unwrap();
            let exp3 = simulation
                .run(
                    &arms(),
                    &values,
                    || Diagonal::synthetic(0.01),
                    || Exp3::new(6, 3_000, 1.0).unwrap(),
                )
                .unwrap();
            (dynlin, exp3)
        })
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_ne!(
        one.1.trials[0], one.1.trials[1],
        "trials draw different noise"
    );
}

#[test]
fn dynlin_ucb_escapes_the_myopic_trap() {
    let system = Diagonal::synthetic(0.01);
    let (values, bounds) = (values(&system), system.bounds());
    let horizon = 20_000;
    let simulation = Simulation::new(horizon, 2, 1).unwrap();
    let run = |make: &(dyn Fn() -> Box<dyn Policy> + Sync)| {
        simulation
            .run(&arms(), &values, || Diagonal::synthetic(0.01), make)
            .unwrap()
            .final_mean()
    };
    let log_t = (horizon as f64).ln();
    let dynlin = run(&|| Box::new(DynLinUcb::new(&arms(), &bounds, 1.0, log_t).unwrap()));
    let exp3 =
        run(&|| Box::new(Exp3::new(6, horizon, bounds.reward_bound(1.5f64.sqrt())).unwrap()));
    let trap = horizon as f64 * (0.8125 - (0.5 + 0.5 / 9.0));
    // Its theoretical width explores for long; still it spends less than half the time in
    // the trap (whose regret per step is the largest but one) and does not do worse than Exp3.
    eprintln!("DynLin-UCB {dynlin}, Exp3 {exp3}, always the trap {trap}");
    assert!(
        dynlin < 0.5 * trap,
        "DynLin-UCB regret {dynlin} vs trap {trap}"
    );
    assert!(dynlin < exp3, "DynLin-UCB {dynlin} vs Exp3 {exp3}");
}

#[test]
fn every_baseline_runs_and_stays_in_range() {
    let system = Diagonal::synthetic(0.1);
    let values = values(&system);
    let horizon = 3_000;
    let simulation = Simulation::new(horizon, 2, 5).unwrap();
    let worst = horizon as f64 * (values.iter().cloned().fold(0.0, f64::max) - 0.0);
    let batch = batch_size(0.2, horizon);
    assert!(batch >= 1);
    assert_eq!(batch_size(0.2, 1_000_000), 8);
    let makers: Vec<Box<dyn Fn() -> Box<dyn Policy> + Sync>> = vec![
        Box::new(|| Box::new(LinUcb::reference(&arms(), 1.0, horizon, 0.51, 0.1, 1.5).unwrap())),
        Box::new(|| Box::new(DLinUcb::new(&arms(), 1.0, 0.999, horizon, 0.51, 0.1, 1.5).unwrap())),
        Box::new(|| Box::new(Ar2::new(6, 0.2, 0.1).unwrap())),
        Box::new(|| Box::new(BatchExp3::new(6, horizon, batch, 1.0).unwrap())),
        Box::new(|| Box::new(Ucb1::new(6, 0.1).unwrap())),
    ];
    for make in &makers {
        let curve = simulation
            .run(&arms(), &values, || Diagonal::synthetic(0.1), make)
            .unwrap();
        let r = curve.final_mean();
        assert!((0.0..=worst).contains(&r), "{r}");
    }
}

#[test]
fn bad_parameters_are_rejected() {
    let mut bounds = Diagonal::synthetic(0.1).bounds();
    bounds.rho_bar = 1.0;
    let err = DynLinUcb::new(&arms(), &bounds, 1.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("rho_bar"), "{err}");
    let ragged = vec![vec![1.0, 0.0], vec![1.0]];
    assert!(LinUcb::reference(&ragged, 1.0, 10, 1.0, 1.0, 1.0).is_err());
    assert!(Ar2::new(6, 1.0, 0.1).is_err());
    assert!(DLinUcb::new(&arms(), 1.0, 1.0, 10, 1.0, 1.0, 1.0).is_err());
    assert!(Simulation::new(0, 1, 1).is_err());
    let simulation = Simulation::new(10, 1, 1).unwrap();
    let err = simulation
        .run(
            &arms(),
            &[1.0],
            || Diagonal::synthetic(0.1),
            || Fixed::new(0),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("one finite value per arm"),
        "{err}"
    );
    let err = simulation
        .run(
            &arms(),
            &[0.0; 6],
            || Diagonal::synthetic(0.1),
            || Fixed::new(9),
        )
        .unwrap_err();
    assert!(err.to_string().contains("chose arm 9"), "{err}");
}
