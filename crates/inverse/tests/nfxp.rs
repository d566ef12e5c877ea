//! NFXP on Rust's group 4 against his Table IX.

use std::path::PathBuf;

use choicelab_inverse::ddc::{read_bus_group, replacement_demand, BusGroup, Nfxp};

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
