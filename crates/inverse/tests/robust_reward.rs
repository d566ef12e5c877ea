//! Linear Bradley–Terry reward models with ensemble strength and its corrections.

use choicelab_core::rng;
use choicelab_inverse::preferences::robust::{
    accuracy, apply_correction, fit_linear_reward, preference_strength, Correction, PairLoss,
};
use rand::RngExt;

/// Pairs z = x_chosen − x_rejected oriented by w* = (2, −1, 0.5), the first `wrong` reversed.
fn pairs(n: usize, wrong: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = rng(seed);
    let truth = [2.0, -1.0, 0.5];
    (0..n)
        .map(|i| {
            let mut z: Vec<f64> = (0..3).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
            let gap: f64 = z.iter().zip(truth).map(|(a, b)| a * b).sum();
            if (gap < 0.0) != (i < wrong) {
                z.iter_mut().for_each(|x| *x = -*x);
            }
            z
        })
        .collect()
}

#[test]
fn a_clean_fit_points_along_the_planted_reward() {
    let train = pairs(400, 0, 1);
    let w = fit_linear_reward(&train, &PairLoss::plain(train.len()), 1e-3).unwrap();
    let cosine = (2.0 * w[0] - w[1] + 0.5 * w[2])
        / (w.iter().map(|x| x * x).sum::<f64>().sqrt() * 5.25f64.sqrt());
    assert!(cosine > 0.98, "{w:?}");
    assert!(accuracy(&pairs(200, 0, 2), &w) > 0.97);
}

#[test]
fn mislabelled_pairs_have_low_strength_and_get_flipped() {
    let train = pairs(500, 60, 3);
    let strength = preference_strength(&train, 5, 5, 1e-3, 7).unwrap();
    let mean = |range: std::ops::Range<usize>| {
        range.clone().map(|i| strength.mean[i]).sum::<f64>() / range.len() as f64
    };
    assert!(mean(0..60) < 0.0 && mean(60..500) > 0.0);
    assert!(
        strength.spread.iter().all(|s| *s > 0.0),
        "resampling varies the members"
    );
    let (corrected, _, flipped) =
        apply_correction(&train, &strength, Correction::Flip { threshold: 0.5 });
    let hits = flipped.iter().filter(|&&i| i < 60).count();
    assert!(
        hits as f64 > 0.8 * flipped.len() as f64,
        "precision {hits}/{}",
        flipped.len()
    );
    for &i in &flipped {
        assert_eq!(corrected[i][0], -train[i][0]);
    }
    let (_, margin, _) = apply_correction(&train, &strength, Correction::Margin { scale: 0.5 });
    assert!(margin.margin.iter().all(|m| *m >= 0.0));
    let (_, smooth, _) = apply_correction(
        &train,
        &strength,
        Correction::Smooth {
            epsilon: 0.2,
            threshold: 0.3,
        },
    );
    assert!(smooth.smoothing.iter().all(|e| *e == 0.0 || *e == 0.2));
}

#[test]
fn bad_settings_are_errors() {
    let train = pairs(10, 0, 4);
    let mut loss = PairLoss::plain(10);
    loss.smoothing[3] = 0.7;
    let message = fit_linear_reward(&train, &loss, 1e-3)
        .unwrap_err()
        .to_string();
    assert!(message.contains("0.7"), "{message}");
    assert!(fit_linear_reward(&train, &PairLoss::plain(9), 1e-3).is_err());
    assert!(fit_linear_reward(&train, &PairLoss::plain(10), 0.0).is_err());
    assert!(fit_linear_reward(&[], &PairLoss::plain(0), 1.0).is_err());
    assert!(preference_strength(&train, 1, 5, 1e-3, 1).is_err());
}
