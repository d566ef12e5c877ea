//! Segments on a delivery board: their discounted feature sums, synthetic comparisons labelled
//! by either preference model, and the optimal values and successor features they need.

use choicelab_core::numeric::dot;
use choicelab_core::{rng, Error, Result, Seed};
use choicelab_envs::delivery::{DeliveryBoard, MOVES};
use choicelab_mdp::{evaluate_policy, Evaluation, PolicyIteration};
use rand::RngExt;

use crate::preferences::{PreferenceModel, SegmentDifference};

/// A segment summarised on a board: where it starts and ends and Σ_t γᵗ φ(s_t, a_t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentSummary {
    /// The start state.
    pub start: usize,
    /// The state after the last move.
    pub end: usize,
    /// The discounted feature sum.
    pub features: [f64; 6],
    /// γ to the number of moves, the discount on V*(end).
    pub end_discount: f64,
}

/// Walks `actions` (indices into [`MOVES`]) from `start`.
pub fn summarise(
    board: &DeliveryBoard,
    start: usize,
    actions: &[usize],
    gamma: f64,
) -> Result<SegmentSummary> {
    if start >= board.states() {
        return Err(Error::parameter(
            "segment",
            format!(
                "start state {start} is off the {}-cell board",
                board.states()
            ),
        ));
    }
    if let Some(a) = actions.iter().find(|a| **a >= MOVES.len()) {
        return Err(Error::parameter(
            "segment",
            format!("action {a} is not one of the {} moves", MOVES.len()),
        ));
    }
    let (mut state, mut discount, mut features) = (start, 1.0, [0.0; 6]);
    for &action in actions {
        let step = board.step(state, action);
        for (f, x) in features.iter_mut().zip(step.features) {
            *f += discount * x;
        }
        discount *= gamma;
        state = step.next;
    }
    Ok(SegmentSummary {
        start,
        end: state,
        features,
        end_discount: discount,
    })
}

/// `n` pairs of segments of `length` moves, each from a start state drawn uniformly among the
/// board's start states with uniformly random moves.
pub fn random_pairs(
    board: &DeliveryBoard,
    n: usize,
    length: usize,
    gamma: f64,
    seed: Seed,
) -> Result<Vec<[SegmentSummary; 2]>> {
    let starts = board.start_states();
    if starts.is_empty() {
        return Err(Error::parameter("board", "no start state"));
    }
    let mut rng = rng(seed);
    let mut draw = || -> Result<SegmentSummary> {
        let start = starts[rng.random_range(0..starts.len())];
        let actions: Vec<usize> = (0..length)
            .map(|_| rng.random_range(0..MOVES.len()))
            .collect();
        summarise(board, start, &actions, gamma)
    };
    (0..n).map(|_| Ok([draw()?, draw()?])).collect()
}

/// Optimal values and an optimal policy of `board` under reward weights `weights`.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimal {
    /// V*(s).
    pub values: Vec<f64>,
    /// π*(s).
    pub policy: Vec<usize>,
}

/// V* and π* of the board under `weights` at discount γ < 1, by policy iteration (exact; value
/// iteration crawls at γ = 0.999).
pub fn optimal(board: &DeliveryBoard, weights: &[f64; 6], gamma: f64) -> Result<Optimal> {
    let mdp = board.to_mdp(weights)?;
    let solution = PolicyIteration::new(gamma).solve(&mdp)?;
    Ok(Optimal {
        values: solution.values,
        policy: solution.policy,
    })
}

/// Successor features ψ^π(s) = E_π[Σ_t γᵗ φ(s_t, a_t) | s_0 = s], one array per feature, so
/// that V^π_w = Σ_k w_k ψ_k.
pub fn successor_features(
    board: &DeliveryBoard,
    policy: &[usize],
    gamma: f64,
) -> Result<Vec<Vec<f64>>> {
    (0..6)
        .map(|k| {
            let mut unit = [0.0; 6];
            unit[k] = 1.0;
            evaluate_policy(&board.to_mdp(&unit)?, gamma, policy, Evaluation::DenseLu)
        })
        .collect()
}

/// The difference (segment 1 − segment 2) each model needs, under weights w and values V.
pub fn difference(
    pair: &[SegmentSummary; 2],
    weights: &[f64; 6],
    values: &[f64],
) -> SegmentDifference {
    let reward = |s: &SegmentSummary| dot(&s.features, weights);
    let [a, b] = pair;
    SegmentDifference {
        partial_return: reward(a) - reward(b),
        start_value: values[a.start] - values[b.start],
        end_value: a.end_discount * values[a.end] - b.end_discount * values[b.end],
    }
}

/// The regret of a segment in the general form, Σ_t γᵗ [V*(s_t) − Q*(s_t, a_t)] with
/// Q*(s,a) = r(s,a) + γ E[V*(s′)]: the sum of the optimal advantages given up along the way
/// (Knox et al.'s form for stochastic transitions). With deterministic moves it telescopes to
/// V*(s₀) − (Σ_t γᵗ r_t + γᵀ V*(s_T)), the form the segment differences use.
pub fn regret_by_advantages(
    board: &DeliveryBoard,
    start: usize,
    actions: &[usize],
    weights: &[f64; 6],
    values: &[f64],
    gamma: f64,
) -> Result<f64> {
    summarise(board, start, actions, gamma)?;
    let (mut state, mut discount, mut regret) = (start, 1.0, 0.0);
    for &action in actions {
        let step = board.step(state, action);
        let reward = dot(&step.features, weights);
        regret += discount * (values[state] - (reward + gamma * values[step.next]));
        discount *= gamma;
        state = step.next;
    }
    Ok(regret)
}

/// How synthetic labels are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Labelling {
    /// 1 with the model's probability, else 0, from this seed.
    Stochastic(Seed),
    /// 1 or 0 by the sign of the model's argument; 0.5 at a tie.
    Deterministic,
}

/// Labels for `pairs` under `model` with true weights and values, at temperature τ.
pub fn label(
    model: PreferenceModel,
    pairs: &[[SegmentSummary; 2]],
    weights: &[f64; 6],
    values: &[f64],
    temperature: f64,
    labelling: Labelling,
) -> Result<Vec<f64>> {
    let mut rng = match labelling {
        Labelling::Stochastic(seed) => Some(rng(seed)),
        Labelling::Deterministic => None,
    };
    pairs
        .iter()
        .map(|pair| {
            let d = difference(pair, weights, values);
            let p = model.probability(&d, temperature)?;
            Ok(match rng.as_mut() {
                Some(rng) => f64::from(rng.random::<f64>() < p),
                None => model.deterministic_label(&d),
            })
        })
        .collect()
}
