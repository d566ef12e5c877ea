//! Thurstonian utilities: recovery of planted (μ, σ) from exact soft labels.

use choicelab_choice::{fit_thurstonian_adam, Thurstonian};
use choicelab_core::{Comparisons, Items, Outcome};

/// A small deterministic generator, so the test needs no RNG crate.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// Φ(z), independent of the crate's own implementation.
fn phi(z: f64) -> f64 {
    0.5 * erfc_approx(-z / std::f64::consts::SQRT_2)
}

/// erfc by Numerical Recipes' Chebyshev fit (|error| < 1.2e-7), enough to make test labels.
fn erfc_approx(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[test]
fn planted_utilities_are_recovered_from_exact_soft_labels() {
    let n = 40;
    let mut rng = Lcg(7);
    let mu: Vec<f64> = (0..n).map(|_| 4.0 * rng.uniform() - 2.0).collect();
    let sigma: Vec<f64> = (0..n).map(|_| 0.5 + rng.uniform()).collect();
    let mut data = Comparisons::new(Items::numbered(n));
    for a in 0..n {
        for b in a + 1..n {
            let z = (mu[a] - mu[b]) / (sigma[a].powi(2) + sigma[b].powi(2)).sqrt();
            data.push(a as u32, b as u32, Outcome::Probability(phi(z)), 1.0)
                .unwrap();
        }
    }
    // Exact labels have a finite optimum, but the loss is very flat along σ: the default
    // stopping rule (loss within ~1e-7) leaves parameters ~3e-3 off, so run to convergence.
    let tight = Thurstonian {
        value_tolerance: 1e-12,
        ..Thurstonian::default()
    };
    let fit = tight.fit(&data).unwrap();
    // The reference standardises with the sample standard deviation.
    let mean = mu.iter().sum::<f64>() / n as f64;
    let sd = (mu.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
    for i in 0..n {
        assert!(
            (fit.mu[i] - (mu[i] - mean) / sd).abs() < 1e-3,
            "μ_{i}: {} vs {}",
            fit.mu[i],
            (mu[i] - mean) / sd
        );
        assert!((fit.sigma[i] - sigma[i] / sd).abs() < 1e-3, "σ_{i}");
    }
    // At the truth the cross-entropy equals the labels' mean binary entropy.
    let entropy: f64 = data
        .records()
        .iter()
        .map(|r| {
            let y = r.first_share();
            -(y * y.ln() + (1.0 - y) * (1.0 - y).ln())
        })
        .sum::<f64>()
        / data.records().len() as f64;
    assert!(
        (fit.loss - entropy).abs() < 1e-6,
        "{} vs {entropy}",
        fit.loss
    );
    assert!((fit.cross_entropy(&data) - fit.loss).abs() < 1e-9);
    assert!((fit.prob_prefers(0, 1) + fit.prob_prefers(1, 0) - 1.0).abs() < 1e-12);
}

#[test]
fn empty_data_is_an_error() {
    let data = Comparisons::new(Items::numbered(3));
    assert!(Thurstonian::default()
        .fit(&data)
        .unwrap_err()
        .to_string()
        .contains("no comparisons"));
}

#[test]
fn lbfgs_reaches_a_loss_no_worse_than_the_reference_adam() {
    // Sparse, rounded soft labels, as an LLM sampled a few times would give.
    let n = 80;
    let mut rng = Lcg(11);
    let mu: Vec<f64> = (0..n).map(|_| 4.0 * rng.uniform() - 2.0).collect();
    let mut data = Comparisons::new(Items::numbered(n));
    for _ in 0..1200 {
        let a = (rng.uniform() * n as f64) as usize % n;
        let b = (a + 1 + (rng.uniform() * (n - 1) as f64) as usize % (n - 1)) % n;
        let p = phi(mu[a] - mu[b]);
        data.push(
            a as u32,
            b as u32,
            Outcome::Probability((p * 10.0).round() / 10.0),
            1.0,
        )
        .unwrap();
    }
    let lbfgs = Thurstonian::default().fit(&data).unwrap();
    let adam = fit_thurstonian_adam(&data, 0.01, 1000, 0).unwrap();
    assert!(
        lbfgs.loss <= adam.loss,
        "L-BFGS {} vs Adam {}",
        lbfgs.loss,
        adam.loss
    );
    assert!((adam.cross_entropy(&data) - adam.loss).abs() < 1e-9);
}

#[test]
fn the_fit_is_the_same_bits_at_any_thread_count() {
    // More records than one parallel chunk holds, so the loss is summed over several.
    let n = 200;
    let mut rng = Lcg(5);
    let mut data = Comparisons::new(Items::numbered(n));
    for _ in 0..10_000 {
        let a = (rng.uniform() * n as f64) as usize % n;
        let b = (a + 1 + (rng.uniform() * (n - 1) as f64) as usize % (n - 1)) % n;
        let label = (rng.uniform() * 10.0).round() / 10.0;
        data.push(a as u32, b as u32, Outcome::Probability(label), 1.0)
            .unwrap();
    }
    let fit_with = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| Thurstonian::default().fit(&data).unwrap())
    };
    assert_eq!(fit_with(1), fit_with(3));
}
