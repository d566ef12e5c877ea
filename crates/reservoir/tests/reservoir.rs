//! Reservoir crate tests: determinism, spectral radius, ridge readout, task generators, the
//! memory-capacity bound, Dale's law and bad input.

use approx::assert_relative_eq;
use choicelab_core::rng;
use choicelab_reservoir::{
    collect_states, Activation, DaleParams, EsnParams, MackeyGlass, Narma, Reservoir, Ridge,
    Series, TargetRates, Task,
};
use faer::linalg::solvers::SolveLstsq;
use faer::Mat;
use rand::RngExt;

fn esn(units: usize, seed: u64) -> EsnParams {
    EsnParams {
        units,
        spectral_radius: 0.9,
        seed,
        ..EsnParams::default()
    }
}

#[test]
fn same_seed_same_bits() {
    let task = Task::narma(Narma::Classic, 500, 200, 50, &mut rng(3)).unwrap();
    let ridge = Ridge::new(1e-6).unwrap();
    let a = task
        .predict(&mut esn(40, 7).build().unwrap(), ridge)
        .unwrap();
    let b = task
        .predict(&mut esn(40, 7).build().unwrap(), ridge)
        .unwrap();
    let c = task
        .predict(&mut esn(40, 8).build().unwrap(), ridge)
        .unwrap();
    assert!(a
        .data()
        .iter()
        .zip(b.data())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_ne!(a, c);
    let dale = DaleParams {
        units: 120,
        k_excitatory: 10,
        k_inhibitory: 10,
        seed: 5,
        ..DaleParams::default()
    };
    let run = || {
        let mut r = dale.build().unwrap();
        let targets = TargetRates::Beta {
            mean: 0.3,
            concentration: 4.0,
        }
        .draw(120, Activation::Sigmoid, 9)
        .unwrap();
        let log = r.adapt(task.inputs(), &targets, &[(1e-2, 200)]).unwrap();
        (task.predict(&mut r, ridge).unwrap(), log)
    };
    let (p, log_p) = run();
    let (q, log_q) = run();
    assert_eq!(log_p, log_q);
    assert!(p
        .data()
        .iter()
        .zip(q.data())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn spectral_radius_is_scaled_exactly() {
    for (units, sr) in [(30, 0.9), (200, 1.25), (100, 0.5)] {
        let net = EsnParams {
            spectral_radius: sr,
            ..esn(units, 1)
        }
        .build()
        .unwrap();
        // An independent check: the eigenvalues of the dense matrix, recomputed here.
        let dense = net.recurrent().to_dense();
        let largest = dense
            .eigenvalues()
            .unwrap()
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max);
        assert_relative_eq!(largest, sr, max_relative = 1e-9);
        // A random non-symmetric matrix's dominant eigenvalues are often a complex pair.
        assert_relative_eq!(
            net.recurrent().spectral_radius().unwrap(),
            sr,
            max_relative = 1e-9
        );
    }
}

#[test]
fn ridge_matches_a_direct_least_squares_solve() {
    let mut r = rng(11);
    let (t, n, m, lambda) = (60, 5, 2, 0.3);
    let x: Vec<f64> = (0..t * n)
        .map(|_| r.random_range(-1.0..1.0) + 0.5)
        .collect();
    let y: Vec<f64> = (0..t * m).map(|_| r.random_range(-1.0..1.0)).collect();
    let states = Series::new(n, x.clone()).unwrap();
    let targets = Series::new(m, y.clone()).unwrap();
    let fit = Ridge::new(lambda).unwrap().fit(&states, &targets).unwrap();
    // min ‖[X 1] β − Y‖² + λ‖w‖² as one stacked least-squares problem [X 1; √λ I 0] β = [Y; 0],
    // solved by faer's QR (no normal equations, no centring).
    let a = Mat::from_fn(t + n, n + 1, |i, j| match (i < t, j < n) {
        (true, true) => x[i * n + j],
        (true, false) => 1.0,
        (false, true) if i - t == j => lambda.sqrt(),
        _ => 0.0,
    });
    let b = Mat::from_fn(t + n, m, |i, j| if i < t { y[i * m + j] } else { 0.0 });
    let beta = a.qr().solve_lstsq(&b);
    for j in 0..m {
        for i in 0..n {
            assert_relative_eq!(fit.weight(i, j), beta[(i, j)], epsilon = 1e-10);
        }
        assert_relative_eq!(fit.bias()[j], beta[(n, j)], epsilon = 1e-10);
    }
    let predicted = fit.predict(&states).unwrap();
    let direct: f64 = (0..n).map(|i| x[i] * beta[(i, 0)]).sum::<f64>() + beta[(n, 0)];
    assert_relative_eq!(predicted.row(0)[0], direct, epsilon = 1e-10);
}

#[test]
fn narma10_golden_values() {
    // Input u(t) = 0.05·(7t mod 10), t = 0..29. Golden values from Python 3.11 float64: the
    // classic recursion written out by hand, and reservoirpy 0.4.2's
    // `datasets.narma(20, order=10, a1=0.3, a2=0.05, b=1.5, c=0.1, u=u)`.
    let u: Vec<f64> = (0..30).map(|t| 0.05 * ((t * 7) % 10) as f64).collect();
    let (y, inputs) = Narma::Classic.targets(&u);
    assert_eq!(inputs.len(), 30);
    let classic = [
        0.0,
        0.1,
        0.1305,
        0.24565401250000002,
        0.19454466093693001,
        0.19488744058181082,
        0.31690082529275665,
    ];
    for (k, want) in classic.iter().enumerate() {
        assert_relative_eq!(y[9 + k], *want, max_relative = 1e-14);
    }
    assert_relative_eq!(y[29], 0.3613730600912526, max_relative = 1e-13);
    let (y, inputs) = Narma::Reservoirpy.targets(&u);
    assert_eq!((y.len(), inputs[0]), (20, u[10]));
    let shifted = [
        0.0,
        0.1,
        0.31375000000000003,
        0.25569375000000005,
        0.18574778945312503,
        0.4019417216722231,
    ];
    for (k, want) in shifted.iter().enumerate() {
        assert_relative_eq!(y[k], *want, max_relative = 1e-14);
    }
    assert_relative_eq!(y[19], 0.5012925190470205, max_relative = 1e-13);
}

#[test]
fn memory_capacity_stays_below_the_number_of_units() {
    // Theory bounds MC by N for a linear readout of N units; a finite test set biases each of
    // the k_max squared correlations upward by about 1/n_test, so the estimate may overshoot by
    // roughly k_max/n_test. With k_max = 2N = 40 and 4,000 test rows that slack is 0.01, far
    // below the 5% tolerance, so a failure would mean a real bug (a leak of test data into the
    // readout, or a mis-aligned delay).
    let units = 20;
    let mut net = EsnParams {
        spectral_radius: 0.95,
        input_scaling: 0.1,
        connectivity: 1.0,
        input_connectivity: 1.0,
        ..esn(units, 2)
    }
    .build()
    .unwrap();
    let task = Task::memory_capacity(2 * units, 20_000, 0.2, &mut rng(4)).unwrap();
    let mc = task.evaluate(&mut net, Ridge::new(1e-8).unwrap()).unwrap();
    assert!(mc <= units as f64 * 1.05, "MC {mc} > N = {units}");
    assert!(
        mc > 0.5 * units as f64,
        "a near-linear reservoir remembers: MC {mc}"
    );
}

#[test]
fn mackey_glass_follows_reservoirpys_step() {
    let mg = MackeyGlass::default();
    let xs = mg.generate(300, &mut rng(1)).unwrap();
    assert_eq!(xs[0], 1.2);
    // With h = 1, b = 0.1 reservoirpy's step is x + 0.9215·(a x_τ/(1 + x_τ¹⁰) − b x).
    for t in 17..299 {
        let d = xs[t - 17];
        let k1 = -0.1 * xs[t] + 0.2 * d / (1.0 + d.powi(10));
        assert_relative_eq!(xs[t + 1], xs[t] + 0.9215 * k1, max_relative = 1e-12);
    }
    assert!(xs.iter().all(|x| (0.2..1.5).contains(x)));
}

#[test]
fn dale_reservoirs_keep_their_signs_and_adapt_toward_targets() {
    let params = DaleParams {
        units: 300,
        balance: 1.5,
        input_scaling: 0.5,
        ..DaleParams::default()
    };
    let mut r = params.build().unwrap();
    assert_eq!(r.n_excitatory(), 240);
    assert_relative_eq!(r.balance(), 1.5, max_relative = 0.05);
    let (mut u, _) = Narma::Classic.generate(2_000, &mut rng(2));
    u.iter_mut().for_each(|x| *x -= 0.25);
    let inputs = Series::scalar(u);
    // With θ = 0 and no leak an over-inhibited network alternates between silence and
    // σ(0) = 0.5 (mean rate 0.25) however strong its inhibition, so targets below ~0.25 are out
    // of reach of this rule; 0.35 is reachable.
    let rho = 0.35;
    let before = collect_states(&mut r, &inputs, 500).unwrap();
    let mean_before = before.data().iter().sum::<f64>() / before.data().len() as f64;
    let log = r
        .adapt(&inputs, &[rho; 300], &[(1e-2, 2_000), (1e-3, 2_000)])
        .unwrap();
    r.reset();
    let after = collect_states(&mut r, &inputs, 500).unwrap();
    let mean_after = after.data().iter().sum::<f64>() / after.data().len() as f64;
    assert!(
        (mean_after - rho).abs() < (mean_before - rho).abs() && log.rate_error < 0.1,
        "rates {mean_before} → {mean_after}, target {rho}, {log:?}"
    );
    assert!(r.inhibitory().values().iter().all(|w| *w >= 0.0));
    assert_eq!(log.steps, 4_000);
    let signed = r.recurrent().unwrap();
    for row in 0..300 {
        let (cols, values) = signed.row(row);
        for (c, v) in cols.iter().zip(values) {
            assert!((*c < 240 && *v >= 0.0) || (*c >= 240 && *v <= 0.0));
        }
    }
    // One shot: at rates ρ and the mean input each neuron's drive sits at its target.
    let mut one = params.build().unwrap();
    let targets = vec![0.3; 300];
    let clipped = one.design_one_shot(&targets, &[0.0]).unwrap();
    let v: Vec<f64> = (0..300)
        .map(|i| one.excitatory().row_dot(i, &targets) - one.inhibitory().row_dot(i, &targets))
        .collect();
    assert_eq!(clipped, 0);
    for vi in v {
        assert_relative_eq!(
            Activation::Sigmoid.apply(10.0 * vi),
            0.3,
            max_relative = 1e-9
        );
    }
}

#[test]
fn feedback_enters_the_update_only_when_configured() {
    let mut plain = esn(30, 1).build().unwrap();
    assert!(plain.set_feedback(&[1.0]).is_err());
    let mut fed = EsnParams {
        feedback_dim: 1,
        feedback_scaling: 0.5,
        bias_scaling: 0.2,
        ..esn(30, 1)
    }
    .build()
    .unwrap();
    fed.step(&[0.3]);
    let without = fed.state().to_vec();
    fed.reset();
    fed.set_feedback(&[1.0]).unwrap();
    fed.step(&[0.3]);
    assert_ne!(without, fed.state());
}

#[test]
fn bad_input_is_rejected_with_clear_errors() {
    let msg = |e: choicelab_core::Error| e.to_string();
    for sr in [0.0, -0.5, f64::NAN] {
        let e = EsnParams {
            spectral_radius: sr,
            ..EsnParams::default()
        };
        assert!(msg(e.build().unwrap_err()).contains("spectral_radius"));
    }
    assert!(msg(EsnParams {
        leak: 1.5,
        ..EsnParams::default()
    }
    .build()
    .unwrap_err())
    .contains("leak"));
    for f in [0.0, 1.0, -0.2, 1.3] {
        let e = DaleParams {
            excitatory_fraction: f,
            ..DaleParams::default()
        }
        .build()
        .unwrap_err();
        assert!(msg(e).contains("excitatory_fraction"));
    }
    let e = DaleParams {
        units: 100,
        ..DaleParams::default()
    }
    .build()
    .unwrap_err();
    assert!(
        msg(e).contains("k_inhibitory"),
        "20 inhibitory neurons cannot give 50 inputs"
    );
    for rho in [0.0, 1.0, 1.2, -0.1] {
        let e = TargetRates::Homogeneous(rho)
            .draw(10, Activation::Sigmoid, 0)
            .unwrap_err();
        assert!(msg(e).contains("outside the activation's range (0, 1)"));
    }
    assert!(TargetRates::Homogeneous(-0.5)
        .draw(10, Activation::Tanh, 0)
        .is_ok());
    assert!(TargetRates::Beta {
        mean: 1.5,
        concentration: 4.0
    }
    .draw(10, Activation::Sigmoid, 0)
    .is_err());
    let mut r = DaleParams::default().build().unwrap();
    let inputs = Series::scalar(vec![0.0; 10]);
    assert!(msg(r.adapt(&inputs, &[1.5; 500], &[(1e-2, 5)]).unwrap_err()).contains("target rate"));
    assert!(msg(r.design_one_shot(&[0.0; 500], &[0.0]).unwrap_err()).contains("target rate"));
    assert!(r.adapt(&inputs, &[0.5; 500], &[(0.0, 5)]).is_err());
    assert!(Ridge::new(-1.0).is_err());
    assert!(Task::memory_capacity(0, 100, 0.2, &mut rng(0)).is_err());
}
