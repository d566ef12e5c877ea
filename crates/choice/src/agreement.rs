//! How well utilities agree with choices and with each other: held-out accuracy, transitivity
//! of observed preferences, and rank and linear correlation.

use std::collections::HashMap;

use choicelab_core::Comparisons;

/// Fraction of comparisons whose label and prediction fall on the same side of 0.5, each
/// thresholded as "> 0.5" (the reference's rule: an exact 0.5 counts as the second item).
/// NaN for no comparisons.
pub fn accuracy(predict: impl Fn(u32, u32) -> f64, data: &Comparisons) -> f64 {
    let (mut right, mut total) = (0.0, 0.0);
    for r in data.records() {
        let predicted = predict(r.first, r.second) > 0.5;
        let observed = r.first_share() > 0.5;
        if predicted == observed {
            right += r.weight;
        }
        total += r.weight;
    }
    right / total
}

/// Among triads whose three pairs were all compared (and none tied at exactly 0.5), the
/// fraction whose majority preferences form a cycle a ≻ b ≻ c ≻ a. Repeated comparisons of
/// a pair are pooled by weight. NaN when no triad is complete.
pub fn triad_cycle_rate(data: &Comparisons) -> f64 {
    // Pooled share of the lower-numbered item per unordered pair.
    let mut pooled: HashMap<(u32, u32), (f64, f64)> = HashMap::new();
    for r in data.records() {
        let (key, share) = if r.first < r.second {
            ((r.first, r.second), r.first_share())
        } else {
            ((r.second, r.first), 1.0 - r.first_share())
        };
        let entry = pooled.entry(key).or_default();
        entry.0 += r.weight * share;
        entry.1 += r.weight;
    }
    let n = data.items().len();
    // beats[a][b]: a preferred to b by majority, for a < b stored both ways via neighbours.
    let mut neighbours: Vec<Vec<(u32, bool)>> = vec![Vec::new(); n];
    for (&(a, b), &(wins, total)) in &pooled {
        let share = wins / total;
        if share == 0.5 {
            continue;
        }
        neighbours[a as usize].push((b, share > 0.5));
        neighbours[b as usize].push((a, share < 0.5));
    }
    for list in &mut neighbours {
        list.sort_unstable_by_key(|e| e.0);
    }
    let prefers = |a: u32, b: u32| -> Option<bool> {
        let list = &neighbours[a as usize];
        list.binary_search_by_key(&b, |e| e.0)
            .ok()
            .map(|k| list[k].1)
    };
    let (mut cycles, mut triads) = (0u64, 0u64);
    for a in 0..n as u32 {
        for &(b, a_over_b) in neighbours[a as usize].iter().filter(|e| e.0 > a) {
            for &(c, b_over_c) in neighbours[b as usize].iter().filter(|e| e.0 > b) {
                if let Some(a_over_c) = prefers(a, c) {
                    triads += 1;
                    // Cyclic iff a≻b, b≻c, c≻a or the reverse.
                    if a_over_b == b_over_c && a_over_c != a_over_b {
                        cycles += 1;
                    }
                }
            }
        }
    }
    cycles as f64 / triads as f64
}

/// Pearson's correlation of two equally long samples (NaN if either is constant).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "samples of different lengths");
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's rank correlation, with tied values given their average rank.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// Ranks 1..n, ties averaged.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        let average = (start + end + 1) as f64 / 2.0;
        for &k in &order[start..end] {
            ranks[k] = average;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use choicelab_core::{Items, Outcome};

    #[test]
    fn counts_cycles_among_complete_triads() {
        let mut data = Comparisons::new(Items::numbered(4));
        // 0 ≻ 1 ≻ 2 ≻ 0 is a cycle; triad (0, 1, 3) is transitive; (0, 2, 3) lacks 2–3.
        for (a, b, p) in [
            (0, 1, 0.9),
            (1, 2, 0.8),
            (2, 0, 0.7),
            (0, 3, 0.6),
            (3, 1, 0.6),
        ] {
            data.push(a, b, Outcome::Probability(p), 1.0).unwrap();
        }
        assert_eq!(triad_cycle_rate(&data), 0.5);
        let mut transitive = Comparisons::new(Items::numbered(3));
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            transitive.push(a, b, Outcome::First, 1.0).unwrap();
        }
        assert_eq!(triad_cycle_rate(&transitive), 0.0);
    }

    #[test]
    fn correlations_of_known_samples() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[1.0, 8.0, 27.0, 64.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }

    #[test]
    fn accuracy_thresholds_both_sides_at_one_half() {
        let mut data = Comparisons::new(Items::numbered(2));
        data.push(0, 1, Outcome::Probability(0.8), 1.0).unwrap();
        data.push(0, 1, Outcome::Probability(0.5), 1.0).unwrap();
        assert_eq!(accuracy(|_, _| 0.7, &data), 0.5);
        assert_eq!(accuracy(|_, _| 0.3, &data), 0.5);
    }
}
