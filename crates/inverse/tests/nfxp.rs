//! NFXP on Rust's group 4 against his Table IX.

use std::path::PathBuf;

use choicelab_inverse::ddc::{read_bus_group, BusGroup, Nfxp};

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
