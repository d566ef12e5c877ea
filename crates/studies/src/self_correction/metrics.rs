//! Metrics of self-correction trajectories: accuracy per round, correction and corruption
//! rates, change rates, cumulative accuracy, pooled flip rates and bootstrap intervals.

use choicelab_core::stream_rng;
use rand::RngExt;

use super::dialogue::Judged;

/// A share: `hits` out of `at_risk`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    /// Events counted.
    pub hits: usize,
    /// Cases that could have had the event.
    pub at_risk: usize,
}

impl Rate {
    /// hits / at_risk, NaN when nothing was at risk.
    pub fn value(self) -> f64 {
        if self.at_risk == 0 {
            f64::NAN
        } else {
            self.hits as f64 / self.at_risk as f64
        }
    }

    fn add(&mut self, hit: bool) {
        self.at_risk += 1;
        self.hits += usize::from(hit);
    }
}

/// The curves of one format. Unparseable answers count as wrong states.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// Items.
    pub items: usize,
    /// Acc_k for k = 0..=R.
    pub accuracy: Vec<f64>,
    /// Share of items right in some round ≤ k.
    pub cumulative: Vec<f64>,
    /// P(correct_k | wrong_{k−1}) for k = 1..=R (index k − 1).
    pub correction: Vec<Rate>,
    /// P(wrong_k | correct_{k−1}) for k = 1..=R (index k − 1).
    pub corruption: Vec<Rate>,
    /// Share of items whose answer differs from round k − 1, for k = 1..=R (index k − 1).
    pub change: Vec<Rate>,
    /// Right→wrong transitions over right states at k − 1, pooled over rounds.
    pub flip_to_wrong: Rate,
    /// Wrong→right transitions over wrong states at k − 1, pooled over rounds.
    pub flip_to_right: Rate,
    /// Answers from which nothing could be read, over all answers.
    pub unparseable: Rate,
    /// Answers without the "The final answer is:" line, over all answers.
    pub unmarked: Rate,
}

impl Curves {
    /// Δ_k = Acc_k − Acc_0.
    pub fn delta(&self) -> Vec<f64> {
        self.accuracy.iter().map(|a| a - self.accuracy[0]).collect()
    }
}

/// The curves of `trajectories`: one judged answer per round for each item, all of the same
/// length (at least one round).
pub fn curves(trajectories: &[Vec<Judged>]) -> Curves {
    let rounds = trajectories.first().map_or(0, Vec::len);
    let n = trajectories.len().max(1) as f64;
    let mut right = vec![0usize; rounds];
    let mut ever = vec![0usize; rounds];
    let mut correction = vec![Rate::default(); rounds.saturating_sub(1)];
    let mut corruption = correction.clone();
    let mut change = correction.clone();
    let mut unparseable = Rate::default();
    let mut unmarked = Rate::default();
    for trajectory in trajectories {
        let mut ever_right = false;
        for (k, answer) in trajectory.iter().enumerate() {
            ever_right |= answer.correct;
            right[k] += usize::from(answer.correct);
            ever[k] += usize::from(ever_right);
            unparseable.add(!answer.parsed);
            unmarked.add(!answer.marked);
            if k == 0 {
                continue;
            }
            let before = &trajectory[k - 1];
            if before.correct {
                corruption[k - 1].add(!answer.correct);
            } else {
                correction[k - 1].add(answer.correct);
            }
            change[k - 1].add(before.answer != answer.answer);
        }
    }
    let pool = |rates: &[Rate]| Rate {
        hits: rates.iter().map(|r| r.hits).sum(),
        at_risk: rates.iter().map(|r| r.at_risk).sum(),
    };
    let share = |counts: Vec<usize>| counts.into_iter().map(|c| c as f64 / n).collect();
    Curves {
        items: trajectories.len(),
        accuracy: share(right),
        cumulative: share(ever),
        flip_to_wrong: pool(&corruption),
        flip_to_right: pool(&correction),
        correction,
        corruption,
        change,
        unparseable,
        unmarked,
    }
}

/// The 95% percentile bootstrap interval of round `round`'s accuracy, resampling items
/// `draws` times with `seed`.
pub fn bootstrap_accuracy(
    trajectories: &[Vec<Judged>],
    round: usize,
    draws: usize,
    seed: u64,
) -> (f64, f64) {
    let n = trajectories.len();
    if n == 0 || draws == 0 {
        return (f64::NAN, f64::NAN);
    }
    let right: Vec<bool> = trajectories.iter().map(|t| t[round].correct).collect();
    let mut rng = stream_rng(seed, 0xb007);
    let mut means: Vec<f64> = (0..draws)
        .map(|_| {
            let hits = (0..n).filter(|_| right[rng.random_range(0..n)]).count();
            hits as f64 / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (draws - 1) as f64).round() as usize).min(draws - 1)];
    (at(0.025), at(0.975))
}

/// Expected accuracy per round of the two-state chain: Acc_0 = `initial`, then
/// Acc_k = Acc_{k−1}(1 − corruption_k) + (1 − Acc_{k−1}) correction_k.
pub fn chain_accuracy(initial: f64, correction: &[f64], corruption: &[f64]) -> Vec<f64> {
    let mut accuracy = vec![initial];
    for (up, down) in correction.iter().zip(corruption) {
        let last = accuracy[accuracy.len() - 1];
        accuracy.push(last * (1.0 - down) + (1.0 - last) * up);
    }
    accuracy
}

/// The rounds k ≥ 1 at which the lead between curves `a` and `b` changes hands (a tie keeps
/// the previous lead).
pub fn crossings(a: &[f64], b: &[f64]) -> Vec<usize> {
    let mut lead: Option<bool> = None;
    let mut rounds = Vec::new();
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let now = if x > y {
            Some(true)
        } else if x < y {
            Some(false)
        } else {
            lead
        };
        if k > 0 && lead.is_some() && now != lead {
            rounds.push(k);
        }
        lead = now;
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(correct: bool, text: Option<&str>) -> Judged {
        Judged {
            correct,
            parsed: text.is_some(),
            answer: text.map(str::to_owned),
            marked: text.is_some(),
        }
    }

    #[test]
    fn a_hand_made_trajectory_gives_the_counted_rates() {
        let (r, w) = (Some("7"), Some("8"));
        let trajectories = vec![
            // wrong → right → right
            vec![answer(false, w), answer(true, r), answer(true, r)],
            // right → wrong → wrong (the wrong answer changes, then nothing is read)
            vec![answer(true, r), answer(false, w), answer(false, None)],
            // right → right → wrong
            vec![answer(true, r), answer(true, r), answer(false, w)],
            // wrong throughout, same answer
            vec![answer(false, w), answer(false, w), answer(false, w)],
        ];
        let c = curves(&trajectories);
        assert_eq!(c.accuracy, vec![0.5, 0.5, 0.25]);
        assert_eq!(c.delta(), vec![0.0, 0.0, -0.25]);
        assert_eq!(c.cumulative, vec![0.5, 0.75, 0.75]);
        assert_eq!(
            c.correction,
            vec![
                Rate {
                    hits: 1,
                    at_risk: 2
                },
                Rate {
                    hits: 0,
                    at_risk: 2
                }
            ]
        );
        assert_eq!(
            c.corruption,
            vec![
                Rate {
                    hits: 1,
                    at_risk: 2
                },
                Rate {
                    hits: 1,
                    at_risk: 2
                }
            ]
        );
        assert_eq!(c.flip_to_wrong.value(), 0.5);
        assert_eq!(c.flip_to_right.value(), 0.25);
        assert_eq!(c.change[0].value(), 0.5);
        assert_eq!(c.change[1].value(), 0.5);
        assert_eq!(
            c.unparseable,
            Rate {
                hits: 1,
                at_risk: 12
            }
        );
        let (low, high) = bootstrap_accuracy(&trajectories, 0, 500, 1);
        assert!(low < 0.5 && 0.5 < high, "({low}, {high})");
        assert_eq!(bootstrap_accuracy(&trajectories, 0, 500, 1), (low, high));
    }

    #[test]
    fn the_chain_and_its_crossings() {
        let acc = chain_accuracy(0.4, &[0.5, 0.0], &[0.0, 0.5]);
        for (got, expected) in acc.iter().zip([0.4, 0.7, 0.35]) {
            assert!((got - expected).abs() < 1e-12, "{acc:?}");
        }
        assert_eq!(crossings(&acc, &[0.5, 0.5, 0.5]), vec![1, 2]);
        assert_eq!(crossings(&[0.1, 0.5, 0.6], &[0.2, 0.5, 0.5]), vec![2]);
        assert!(crossings(&[0.3, 0.4], &[0.2, 0.3]).is_empty());
        assert!(Rate::default().value().is_nan());
    }
}
