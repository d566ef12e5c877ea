//! What the learner tests share: a synthetic continuous task with a known expert.

use choicelab_core::episodes::{TransitionActions, Transitions};
use choicelab_core::rng;
use rand::RngExt;

/// A synthetic continuous task: `s ∈ U(-1, 1)^3`, expert `a = clip(W s)`, `s' = 0.9 s + 0.1 a`
/// padded, reward `−|s|²`, episode ends (termination) every 25 steps.
pub fn synthetic(n: usize, seed: u64) -> Transitions {
    let mut r = rng(seed);
    let mut obs = Vec::new();
    let mut next = Vec::new();
    let mut act = Vec::new();
    let mut rew = Vec::new();
    for _ in 0..n {
        let s: Vec<f32> = (0..3).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
        let a = [
            (0.5 * s[0] - 0.3 * s[1]).clamp(-1.0, 1.0),
            (0.2 * s[2] + 0.4 * s[0]).clamp(-1.0, 1.0),
        ];
        next.extend([0.9 * s[0] + 0.1 * a[0], 0.9 * s[1] + 0.1 * a[1], 0.9 * s[2]]);
        rew.push(-(s.iter().map(|x| x * x).sum::<f32>()));
        obs.extend(s);
        act.extend(a);
    }
    let terminals = (0..n).map(|i| i % 25 == 24).collect();
    Transitions::new(
        3,
        obs,
        TransitionActions::Continuous {
            dim: 2,
            values: act,
        },
        rew,
        next,
        terminals,
        vec![false; n],
    )
    .unwrap()
}
