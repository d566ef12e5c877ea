//! NFXP on Rust's group 4 against his Table IX.

use std::path::PathBuf;

use choicelab_inverse::ddc::{read_bus_group, replacement_demand, BusGroup, Nfxp, Outer};

#[test]
fn group_four_at_beta_9999_reproduces_rust_table_ix() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: NFXP golden test skipped");
        return;
    };
    let panel = read_bus_group(&PathBuf::from(dir).join("bus"), BusGroup::G4, 5000.0, 90).unwrap();
    let fit = Nfxp::default().fit(&panel).unwrap();
    eprintln!(
        "{:?} {:?} {:?} LL {} = {} + {} iters {}",
        fit.estimates,
        fit.std_errors,
        fit.increments,
        fit.loglik,
        fit.loglik_transition,
        fit.loglik_choice,
        fit.iterations
    );
    assert!(
        (fit.estimates[0] - 10.0750).abs() < 1e-3,
        "RC {}",
        fit.estimates[0]
    );
    assert!(
        (fit.estimates[1] - 2.2930).abs() < 1e-3,
        "θ11 {}",
        fit.estimates[1]
    );
    assert!((fit.loglik + 3304.155).abs() < 1e-2, "LL {}", fit.loglik);
}

#[test]
fn implied_demand_at_rc_4_matches_the_replication() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        return;
    };
    let panel = read_bus_group(&PathBuf::from(dir).join("bus"), BusGroup::G4, 5000.0, 90).unwrap();
    let fit = Nfxp::default().fit(&panel).unwrap();
    let per_month = replacement_demand(&fit.model, 4.0, &fit.estimates[1..]).unwrap();
    let per_year = 12.0 * 37.0 * per_month;
    assert!((per_year - 15.976).abs() < 1e-3, "{per_year}");
}

#[test]
fn bad_settings_are_clear_errors() {
    use choicelab_inverse::ddc::{CostShape, Panel};
    let panel = Panel::from_csv_str(
        "bus,period,state,replace\na,0,0,0\na,1,1,0\na,2,2,1\na,3,0,0\nb,0,0,0\nb,1,1,0\n",
        "p.csv",
        10,
    )
    .unwrap();
    let beta_one = Nfxp {
        beta: 1.0,
        ..Nfxp::default()
    }
    .fit(&panel)
    .unwrap_err()
    .to_string();
    assert!(beta_one.contains("β must lie in [0, 1)"), "{beta_one}");
    let shape = CostShape::parse("cubic2").unwrap_err().to_string();
    assert!(shape.contains("unknown cost shape `cubic2`"), "{shape}");
    let empty =
        Panel::from_csv_str("bus,period,state,replace\na,0,0,0\nb,0,3,0\n", "p.csv", 10).unwrap();
    let message = Nfxp::default().fit(&empty).unwrap_err().to_string();
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn no_overflow_or_nan_at_beta_9999_far_from_the_optimum() {
    use choicelab_inverse::ddc::{replacement_demand, CostShape, ZurcherModel};
    let model = ZurcherModel {
        n_states: 175,
        beta: 0.9999,
        increments: vec![0.1, 0.5, 0.3, 0.1],
        cost: CostShape::Linear,
        scale: 1e-3,
    };
    for (rc, theta) in [(0.01, 0.01), (50.0, 0.01), (0.01, 200.0), (50.0, 200.0)] {
        let demand = replacement_demand(&model, rc, &[theta]).unwrap();
        assert!(
            demand.is_finite() && (0.0..=1.0).contains(&demand),
            "{rc} {theta}: {demand}"
        );
    }
}

#[test]
fn bfgs_and_the_full_likelihood_on_group_four() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        return;
    };
    let panel = read_bus_group(&PathBuf::from(dir).join("bus"), BusGroup::G4, 5000.0, 90).unwrap();
    let bhhh = Nfxp::default().fit(&panel).unwrap();
    let bfgs = Nfxp {
        outer: Outer::Bfgs,
        ..Nfxp::default()
    }
    .fit(&panel)
    .unwrap();
    eprintln!(
        "bfgs {:?} LL {} iters {}",
        bfgs.estimates, bfgs.loglik, bfgs.iterations
    );
    for (a, b) in bhhh.estimates.iter().zip(&bfgs.estimates) {
        assert!((a - b).abs() < 1e-4, "BHHH {a} vs BFGS {b}");
    }
    assert!((bhhh.loglik - bfgs.loglik).abs() < 1e-7);
    let full = Nfxp {
        full_likelihood: true,
        ..Nfxp::default()
    }
    .fit(&panel)
    .unwrap();
    eprintln!(
        "full {:?} {:?} θ3 {:?} {:?} LL {} = {} + {} iters {}",
        full.estimates,
        full.std_errors,
        full.increments,
        full.increments_se,
        full.loglik,
        full.loglik_transition,
        full.loglik_choice,
        full.iterations
    );
    assert!(full.full_likelihood && !bhhh.full_likelihood);
    assert!(full.loglik >= bhhh.loglik - 1e-9);
    // Rust's Table IX (group 4, β = 0.9999): RC 10.0750 (1.582), θ₁₁ 2.2930 (0.639),
    // θ₃ = (0.3919, 0.5953).
    let published = [(10.0750, 1.582), (2.2930, 0.639)];
    for (k, (estimate, se)) in published.iter().enumerate() {
        assert!((full.estimates[k] - estimate).abs() < 1e-3);
        assert!(
            (full.std_errors[k] - se).abs() < 1e-3,
            "{:?}",
            full.std_errors
        );
    }
    assert!(
        (full.increments[0] - 0.3919).abs() < 1e-3,
        "{:?}",
        full.increments
    );
    assert!(
        (full.increments[1] - 0.5953).abs() < 1e-3,
        "{:?}",
        full.increments
    );
    // The increments' information comes almost all from their own counts.
    for (joint, first) in full.increments_se.iter().zip(&bhhh.increments_se) {
        assert!((joint / first - 1.0).abs() < 0.05, "{joint} vs {first}");
    }
}
