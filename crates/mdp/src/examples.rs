//! Small textbook MDPs with published solutions, for tests, studies and users' sanity checks.

use choicelab_core::{Error, Result, TabularMdp};

/// pymdptoolbox's forest-management MDP (`mdptoolbox.example.forest`).
///
/// States are forest ages 0..S−1; action 0 waits (the forest ages one step, or burns back to
/// age 0 with probability `fire`), action 1 cuts (back to age 0). Waiting in the oldest state
/// earns `r_wait`; cutting earns 1 in every state but the youngest and `r_cut` in the oldest.
/// pymdptoolbox's defaults are S = 3, r_wait = 4, r_cut = 2, fire = 0.1.
pub fn forest(n_states: usize, r_wait: f64, r_cut: f64, fire: f64) -> Result<TabularMdp> {
    if n_states < 2 {
        return Err(Error::parameter(
            "states",
            "the forest needs at least 2 states",
        ));
    }
    if !(0.0..=1.0).contains(&fire) {
        return Err(Error::parameter(
            "fire",
            format!("{fire} is not a probability"),
        ));
    }
    let s_count = n_states;
    let mut p = vec![0.0; s_count * 2 * s_count];
    let mut r = vec![0.0; s_count * 2];
    for s in 0..s_count {
        let wait = (s * 2) * s_count;
        p[wait] += fire;
        p[wait + (s + 1).min(s_count - 1)] += 1.0 - fire;
        let cut = (s * 2 + 1) * s_count;
        p[cut] = 1.0;
        r[s * 2 + 1] = if s == 0 { 0.0 } else { 1.0 };
    }
    r[(s_count - 1) * 2] = r_wait;
    r[(s_count - 1) * 2 + 1] = r_cut;
    TabularMdp::from_dense(s_count, 2, &p, &r)
}

/// pymdptoolbox's "small" example (`mdptoolbox.example.small`): 2 states, 2 actions.
pub fn small() -> TabularMdp {
    let p = [0.5, 0.5, 0.0, 1.0, 0.8, 0.2, 0.1, 0.9];
    let r = [5.0, 10.0, -1.0, 2.0];
    TabularMdp::from_dense(2, 2, &p, &r).expect("the small example is a valid MDP")
}

/// QuantEcon's `DiscreteDP` example with an infeasible action (state 1 cannot take action 1):
/// R = [[5, 10], [−1, −∞]], Q = [[(0.5, 0.5), (0, 1)], [(0, 1), (0.5, 0.5)]], usually solved at
/// β = 0.95.
pub fn quantecon_infeasible() -> TabularMdp {
    let p = [0.5, 0.5, 0.0, 1.0, 0.0, 1.0, 0.5, 0.5];
    let r = [5.0, 10.0, -1.0, f64::NEG_INFINITY];
    TabularMdp::from_dense(2, 2, &p, &r).expect("the QuantEcon example is a valid MDP")
}
