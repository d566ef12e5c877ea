//! The tabular worlds for planning under risk and uncertainty: cliff walk, windy walk, RiverSwim
//! with a current, foraging. The RiverSwim numbers are those of the data folder's
//! `riverswim/riverswim_mdp.csv` (as SYSTEMS.md lists them).

use choicelab_core::{Error, TabularMdp};
use choicelab_envs::{
    perturbed_river_swim, CliffWorld, Foraging, WindyWalk, CURRENT_RANGE, NOMINAL_WIND, WIND_RANGE,
};

/// (next, probability, reward) of every successor of (s, a), in the MDP's order.
fn outcomes(mdp: &TabularMdp, s: usize, a: usize) -> Vec<(usize, f64, f64)> {
    let (next, p) = mdp.transitions(s, a);
    let r = mdp
        .transition_rewards(s, a)
        .expect("rewards per transition");
    next.iter()
        .zip(p)
        .zip(r)
        .map(|((&n, &p), &r)| (n as usize, p, r))
        .collect()
}

/// Probability of moving from (s, a) to `to`, summed over entries.
fn probability(mdp: &TabularMdp, s: usize, a: usize, to: usize) -> f64 {
    outcomes(mdp, s, a)
        .iter()
        .filter(|o| o.0 == to)
        .map(|o| o.1)
        .sum()
}

/// Every pair is feasible and its probabilities sum to 1.
fn assert_rows_sum_to_one(mdp: &TabularMdp) {
    for s in 0..mdp.n_states() {
        for a in 0..mdp.n_actions() {
            assert!(mdp.is_feasible(s, a), "state {s}, action {a} infeasible");
            let sum: f64 = mdp.transitions(s, a).1.iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "state {s}, action {a}: {sum}");
        }
    }
}

/// Terminal states loop to themselves with probability 1 and reward 0 under every action.
fn assert_absorbing(mdp: &TabularMdp, terminal: &[bool]) {
    for (s, _) in terminal.iter().enumerate().filter(|t| *t.1) {
        for a in 0..mdp.n_actions() {
            assert_eq!(outcomes(mdp, s, a), vec![(s, 1.0, 0.0)], "state {s}");
        }
    }
}

fn is_parameter_error<T: std::fmt::Debug>(result: choicelab_core::Result<T>) -> bool {
    matches!(result, Err(Error::Parameter { .. }))
}

/// Q(s, a) = Σ p (r + γ V(s')).
fn q_value(mdp: &TabularMdp, v: &[f64], s: usize, a: usize, gamma: f64) -> f64 {
    outcomes(mdp, s, a)
        .iter()
        .map(|&(n, p, r)| p * (r + gamma * v[n]))
        .sum()
}

/// Optimal values and a greedy policy, by value iteration to 1e-10.
fn solve(mdp: &TabularMdp, gamma: f64) -> (Vec<f64>, Vec<usize>) {
    let mut v = vec![0.0; mdp.n_states()];
    loop {
        let next: Vec<f64> = (0..mdp.n_states())
            .map(|s| {
                (0..mdp.n_actions())
                    .map(|a| q_value(mdp, &v, s, a, gamma))
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let change = next
            .iter()
            .zip(&v)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        v = next;
        if change < 1e-10 {
            break;
        }
    }
    let policy = (0..mdp.n_states())
        .map(|s| {
            (0..mdp.n_actions())
                .max_by(|&a, &b| {
                    q_value(mdp, &v, s, a, gamma).total_cmp(&q_value(mdp, &v, s, b, gamma))
                })
                .unwrap()
        })
        .collect();
    (v, policy)
}

/// Value of a deterministic policy, by iteration to 1e-10.
fn evaluate(mdp: &TabularMdp, policy: &[usize], gamma: f64) -> Vec<f64> {
    let mut v = vec![0.0; mdp.n_states()];
    loop {
        let next: Vec<f64> = (0..mdp.n_states())
            .map(|s| q_value(mdp, &v, s, policy[s], gamma))
            .collect();
        let change = next
            .iter()
            .zip(&v)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        v = next;
        if change < 1e-10 {
            return v;
        }
    }
}

const UP: usize = 0;
const RIGHT: usize = 1;
const DOWN: usize = 2;
const LEFT: usize = 3;

#[test]
fn cliff_geometry() {
    let world = CliffWorld::default();
    let mdp = world.mdp().unwrap();
    assert_eq!((mdp.n_states(), mdp.n_actions()), (48, 4));
    assert_eq!(world.n_states(), 48);
    assert_eq!((world.start(), world.goal()), (36, 47));
    let terminal = world.terminal_states();
    let expected: Vec<bool> = (0..48).map(|s| s > 36).collect();
    assert_eq!(terminal, expected);
    assert!(!world.is_terminal(world.start()) && world.is_terminal(world.goal()));
    assert!(!world.is_terminal(48));
    assert_rows_sum_to_one(&mdp);
    assert_absorbing(&mdp, &terminal);
}

#[test]
fn cliff_without_slip_is_deterministic() {
    let world = CliffWorld {
        slip: 0.0,
        ..CliffWorld::default()
    };
    let mdp = world.mdp().unwrap();
    for s in (0..48).filter(|&s| !world.is_terminal(s)) {
        for a in 0..4 {
            assert_eq!(mdp.transitions(s, a).1, [1.0], "state {s}, action {a}");
        }
    }
    let start = world.start();
    assert_eq!(outcomes(&mdp, start, UP), vec![(24, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, start, LEFT), vec![(start, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, start, DOWN), vec![(start, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, start, RIGHT), vec![(37, 1.0, -101.0)]);
    assert_eq!(outcomes(&mdp, 35, DOWN), vec![(47, 1.0, -1.0)]);
}

#[test]
fn cliff_slip_gives_the_intended_move_its_share() {
    let world = CliffWorld::default();
    let mdp = world.mdp().unwrap();
    // Row 1, column 5: all four neighbours are open.
    let s = 12 + 5;
    let intended = 1.0 - 0.1 + 0.1 / 4.0;
    assert!((probability(&mdp, s, RIGHT, s + 1) - intended).abs() < 1e-12);
    for other in [s - 12, s + 12, s - 1] {
        assert!((probability(&mdp, s, RIGHT, other) - 0.025).abs() < 1e-12);
    }
    // Top-left corner, moving up: the wall and the slip to the left both stay put.
    assert!((probability(&mdp, 0, UP, 0) - (intended + 0.025)).abs() < 1e-12);
    assert!((probability(&mdp, 0, UP, 1) - 0.025).abs() < 1e-12);
    assert!((probability(&mdp, 0, UP, 12) - 0.025).abs() < 1e-12);
}

#[test]
fn cliff_fall_pays_step_and_cliff_reward() {
    let world = CliffWorld::default();
    let mdp = world.mdp().unwrap();
    let start = world.start();
    let fall = outcomes(&mdp, start, RIGHT);
    assert!(fall.contains(&(37, 1.0 - 0.1 + 0.025, -101.0)));
    // A slip from row 2 down into the cliff falls too.
    let above = 24 + 4;
    assert!(outcomes(&mdp, above, UP).contains(&(40, 0.025, -101.0)));
    let expected = -1.0 - 100.0 * (0.925);
    assert!((mdp.reward(start, RIGHT) - expected).abs() < 1e-12);
}

#[test]
fn cliff_rejects_bad_parameters() {
    let base = CliffWorld::default();
    for world in [
        CliffWorld { width: 2, ..base },
        CliffWorld { height: 1, ..base },
        CliffWorld {
            width: 0,
            height: 0,
            ..base
        },
        CliffWorld { slip: -0.1, ..base },
        CliffWorld { slip: 1.5, ..base },
        CliffWorld {
            slip: f64::NAN,
            ..base
        },
        CliffWorld {
            step_reward: f64::INFINITY,
            ..base
        },
        CliffWorld {
            cliff_reward: f64::NAN,
            ..base
        },
    ] {
        assert!(is_parameter_error(world.mdp()), "{world:?}");
    }
    let empty = CliffWorld {
        width: 0,
        height: 0,
        ..base
    };
    assert_eq!((empty.start(), empty.goal(), empty.n_states()), (0, 0, 0));
    assert!(empty.terminal_states().is_empty());
    assert!(CliffWorld {
        width: 3,
        height: 2,
        slip: 1.0,
        ..base
    }
    .mdp()
    .is_ok());
}

#[test]
fn windy_walk_geometry_and_rows() {
    let world = WindyWalk::default();
    let mdp = world.mdp().unwrap();
    assert_eq!((mdp.n_states(), mdp.n_actions()), (32, 4));
    assert_eq!((world.start(), world.goal()), (24, 31));
    let terminal = world.terminal_states();
    assert_eq!(terminal, (0..32).map(|s| s > 24).collect::<Vec<_>>());
    assert_rows_sum_to_one(&mdp);
    assert_absorbing(&mdp, &terminal);
    assert!((WIND_RANGE.0..=WIND_RANGE.1).contains(&NOMINAL_WIND));
    assert_eq!(world.wind, NOMINAL_WIND);
    let windy = world.with_wind(0.3);
    assert_eq!(windy, WindyWalk { wind: 0.3, ..world });
    for wind in [WIND_RANGE.0, WIND_RANGE.1] {
        assert_rows_sum_to_one(&world.with_wind(wind).mdp().unwrap());
    }
}

#[test]
fn windy_walk_without_wind_is_deterministic() {
    let world = WindyWalk::default().with_wind(0.0);
    let mdp = world.mdp().unwrap();
    for s in 0..32 {
        for a in 0..4 {
            assert_eq!(mdp.transitions(s, a).1, [1.0], "state {s}, action {a}");
        }
    }
    assert_eq!(outcomes(&mdp, 24, UP), vec![(16, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, 16, DOWN), vec![(24, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, 17, DOWN), vec![(25, 1.0, -11.0)]);
    assert_eq!(outcomes(&mdp, 22, RIGHT), vec![(23, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, 23, DOWN), vec![(31, 1.0, 19.0)]);
}

#[test]
fn windy_walk_full_wind_always_pushes_down() {
    let world = WindyWalk::default().with_wind(1.0);
    let (width, height) = (world.width, world.height);
    let mdp = world.mdp().unwrap();
    let moves = [(-1i64, 0i64), (0, 1), (1, 0), (0, -1)];
    let cell = |r: i64, c: i64| (r * width as i64 + c) as usize;
    for s in (0..32).filter(|&s| !world.is_terminal(s)) {
        let (row, col) = ((s / width) as i64, (s % width) as i64);
        for (a, (dr, dc)) in moves.iter().enumerate() {
            let (r, c) = (row + dr, col + dc);
            let inside = (0..height as i64).contains(&r) && (0..width as i64).contains(&c);
            let (r, c) = if inside { (r, c) } else { (row, col) };
            let expected = if world.is_terminal(cell(r, c)) || r == height as i64 - 1 {
                cell(r, c)
            } else {
                cell(r + 1, c)
            };
            let got = outcomes(&mdp, s, a);
            assert_eq!(got.len(), 1, "state {s}, action {a}: {got:?}");
            assert_eq!(
                (got[0].0, got[0].1),
                (expected, 1.0),
                "state {s}, action {a}"
            );
        }
    }
    // From the row above the cliff, any move that stays there is blown into the cliff.
    assert_eq!(outcomes(&mdp, 17, RIGHT), vec![(26, 1.0, -11.0)]);
    // From above the goal the wind carries the agent into it.
    assert_eq!(outcomes(&mdp, 22, RIGHT), vec![(31, 1.0, 19.0)]);
    // In the top row the wind pushes to row 1; at the start the floor holds.
    assert_eq!(outcomes(&mdp, 1, UP), vec![(9, 1.0, -1.0)]);
    assert_eq!(outcomes(&mdp, 24, LEFT), vec![(24, 1.0, -1.0)]);
}

#[test]
fn windy_walk_partial_wind_splits_each_move() {
    let mdp = WindyWalk::default().with_wind(0.3).mdp().unwrap();
    let mut along = outcomes(&mdp, 17, RIGHT);
    along.sort_by_key(|o| o.0);
    assert_eq!(along, vec![(18, 0.7, -1.0), (26, 0.3, -11.0)]);
    let mut last = outcomes(&mdp, 22, RIGHT);
    last.sort_by_key(|o| o.0);
    assert_eq!(last, vec![(23, 0.7, -1.0), (31, 0.3, 19.0)]);
}

/// The defaults make a robust study: along the cliff at the nominal wind, away from it at the
/// strongest wind, where the nominal policy loses much.
#[test]
fn windy_walk_defaults_reward_robustness() {
    let gamma = 0.95;
    let world = WindyWalk::default();
    let (w, h, start) = (world.width, world.height, world.start());
    let nominal = world.mdp().unwrap();
    let (v_nominal, nominal_policy) = solve(&nominal, gamma);
    let edge = (h - 2) * w;
    assert_eq!(nominal_policy[start], UP);
    assert!((0..w - 1).all(|c| nominal_policy[edge + c] == RIGHT));
    let stormy = world.with_wind(WIND_RANGE.1).mdp().unwrap();
    let (v_stormy, stormy_policy) = solve(&stormy, gamma);
    assert!((0..w - 2).all(|c| stormy_policy[edge + c] == UP));
    let nominal_in_storm = evaluate(&stormy, &nominal_policy, gamma)[start];
    assert!(v_stormy[start] - nominal_in_storm > 5.0);
    let robust_at_nominal = evaluate(&nominal, &stormy_policy, gamma)[start];
    assert!(v_nominal[start] - robust_at_nominal < 2.0);
}

#[test]
fn windy_walk_rejects_bad_parameters() {
    let base = WindyWalk::default();
    for world in [
        base.with_wind(-0.1),
        base.with_wind(1.1),
        base.with_wind(f64::NAN),
        WindyWalk { width: 2, ..base },
        WindyWalk { height: 1, ..base },
        WindyWalk {
            goal_reward: f64::NAN,
            ..base
        },
        WindyWalk {
            cliff_reward: f64::NEG_INFINITY,
            ..base
        },
    ] {
        assert!(is_parameter_error(world.mdp()), "{world:?}");
    }
}

/// RiverSwim as the data file has it, for the tests that need no data folder.
fn river_swim_entries() -> Vec<(usize, usize, usize, f64, f64)> {
    let mut entries = vec![
        (0, 0, 0, 1.0, 5.0),
        (0, 1, 0, 0.7, 0.0),
        (0, 1, 1, 0.3, 0.0),
    ];
    for s in 1..5 {
        entries.extend([
            (s, 0, s - 1, 1.0, 0.0),
            (s, 1, s, 0.6, 0.0),
            (s, 1, s + 1, 0.3, 0.0),
            (s, 1, s - 1, 0.1, 0.0),
        ]);
    }
    entries.extend([
        (5, 0, 4, 1.0, 0.0),
        (5, 1, 5, 0.3, 10_000.0),
        (5, 1, 4, 0.7, 0.0),
    ]);
    entries
}

fn assert_same_mdp(a: &TabularMdp, b: &TabularMdp) {
    assert_eq!((a.n_states(), a.n_actions()), (b.n_states(), b.n_actions()));
    for s in 0..a.n_states() {
        for act in 0..a.n_actions() {
            assert_eq!(
                outcomes(a, s, act),
                outcomes(b, s, act),
                "state {s}, action {act}"
            );
            assert_eq!(a.reward(s, act), b.reward(s, act));
        }
    }
}

#[test]
fn river_swim_current_moves_forward_mass_back() {
    let nominal = TabularMdp::from_entries(6, 2, &river_swim_entries()).unwrap();
    assert_same_mdp(&perturbed_river_swim(&nominal, 0.0).unwrap(), &nominal);
    let mdp = perturbed_river_swim(&nominal, 0.1).unwrap();
    assert_rows_sum_to_one(&mdp);
    let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
    assert!(close(probability(&mdp, 0, 1, 0), 0.8) && close(probability(&mdp, 0, 1, 1), 0.2));
    for s in 1..5 {
        assert!(close(probability(&mdp, s, 1, s - 1), 0.2));
        assert!(close(probability(&mdp, s, 1, s), 0.6));
        assert!(close(probability(&mdp, s, 1, s + 1), 0.2));
    }
    assert!(close(probability(&mdp, 5, 1, 5), 0.2) && close(probability(&mdp, 5, 1, 4), 0.8));
    assert!(close(mdp.reward(5, 1), 2000.0));
    assert!(close(mdp.reward(0, 0), 5.0));
    for s in 0..6 {
        assert_eq!(outcomes(&mdp, s, 0), outcomes(&nominal, s, 0));
    }
    // The whole range stays a valid model with the nominal support.
    for current in [CURRENT_RANGE.0, CURRENT_RANGE.1, 0.3] {
        let m = perturbed_river_swim(&nominal, current).unwrap();
        assert_eq!(m.nnz(), nominal.nnz());
        assert_rows_sum_to_one(&m);
    }
}

#[test]
fn river_swim_rejects_bad_currents_and_other_mdps() {
    let nominal = TabularMdp::from_entries(6, 2, &river_swim_entries()).unwrap();
    for current in [-0.01, 0.31, f64::NAN, f64::INFINITY] {
        assert!(
            is_parameter_error(perturbed_river_swim(&nominal, current)),
            "{current}"
        );
    }
    let not_river = |entries: Vec<(usize, usize, usize, f64, f64)>, states: usize| {
        let mdp = TabularMdp::from_entries(states, 2, &entries).unwrap();
        matches!(perturbed_river_swim(&mdp, 0.1), Err(Error::Invalid { .. }))
    };
    // A cliff world: 48 states, 4 actions.
    let cliff = CliffWorld::default().mdp().unwrap();
    assert!(matches!(
        perturbed_river_swim(&cliff, 0.1),
        Err(Error::Invalid { .. })
    ));
    // Swimming right from state 2 jumps to state 4.
    let mut jump = river_swim_entries();
    jump.iter_mut()
        .filter(|e| (e.0, e.1, e.2) == (2, 1, 3))
        .for_each(|e| e.2 = 4);
    assert!(not_river(jump, 6));
    // Swimming right from state 3 never moves forward.
    let mut stuck = river_swim_entries();
    stuck.retain(|e| (e.0, e.1, e.2) != (3, 1, 4));
    stuck
        .iter_mut()
        .filter(|e| (e.0, e.1, e.2) == (3, 1, 3))
        .for_each(|e| e.3 = 0.9);
    assert!(not_river(stuck, 6));
    // Swimming left from state 4 is random.
    let mut slippery = river_swim_entries();
    slippery.retain(|e| (e.0, e.1) != (4, 0));
    slippery.extend([(4, 0, 3, 0.5, 0.0), (4, 0, 4, 0.5, 0.0)]);
    assert!(not_river(slippery, 6));
    // One entry split in two.
    let mut split = river_swim_entries();
    split.retain(|e| (e.0, e.1, e.2) != (1, 1, 2));
    split.extend([(1, 1, 2, 0.2, 0.0), (1, 1, 2, 0.1, 0.0)]);
    assert!(not_river(split, 6));
    // A shorter river.
    let short: Vec<_> = river_swim_entries()
        .into_iter()
        .filter(|e| e.0 < 4 && e.2 < 4)
        .chain([(3, 1, 3, 0.3, 0.0)])
        .collect();
    assert!(not_river(short, 4));
}

/// The shared RiverSwim file, or None (and a note) when `$CHOICELAB_DATA` is not set.
fn river_swim_file() -> Option<TabularMdp> {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: the RiverSwim file test is skipped");
        return None;
    };
    let path = std::path::Path::new(&dir).join("riverswim/riverswim_mdp.csv");
    Some(TabularMdp::from_csv_path(&path).unwrap())
}

#[test]
fn river_swim_file_is_reproduced_at_zero_current() {
    let Some(nominal) = river_swim_file() else {
        return;
    };
    assert_same_mdp(&perturbed_river_swim(&nominal, 0.0).unwrap(), &nominal);
    assert_same_mdp(
        &nominal,
        &TabularMdp::from_entries(6, 2, &river_swim_entries()).unwrap(),
    );
    let mdp = perturbed_river_swim(&nominal, 0.1).unwrap();
    for s in 0..6usize {
        let back = s.saturating_sub(1);
        let forward = (s + 1).min(5);
        let moved = probability(&mdp, s, 1, back) - probability(&nominal, s, 1, back);
        assert!((moved - 0.1).abs() < 1e-12, "state {s}");
        let lost = probability(&nominal, s, 1, forward) - probability(&mdp, s, 1, forward);
        assert!((lost - 0.1).abs() < 1e-12, "state {s}");
    }
    // The goal swim keeps its reward: 10,000 on the stay in the last state.
    assert!(outcomes(&mdp, 5, 1)
        .iter()
        .any(|&(n, p, r)| n == 5 && (p - 0.2).abs() < 1e-12 && r == 10_000.0));
}

#[test]
fn foraging_rewards_and_ending() {
    let world = Foraging::default();
    let mdp = world.mdp().unwrap();
    assert_eq!((mdp.n_states(), mdp.n_actions()), (2, 2));
    assert_eq!(world.start(), 0);
    assert_eq!(world.terminal_states(), vec![false, true]);
    assert_rows_sum_to_one(&mdp);
    assert_absorbing(&mdp, &world.terminal_states());
    let (forage, rest) = (0, 1);
    assert!((mdp.reward(0, forage) - 0.8).abs() < 1e-12);
    assert_eq!(mdp.reward(0, rest), 0.0);
    for a in [forage, rest] {
        assert!((probability(&mdp, 0, a, 1) - 0.05).abs() < 1e-12);
    }
    // Food on the last step still counts.
    assert!(outcomes(&mdp, 0, forage).contains(&(1, 0.05 * 0.8, 1.0)));
    // Always foraging collects food_probability / end_probability on average.
    let total = evaluate(&mdp, &[forage, forage], 1.0)[0];
    assert!((total - 16.0).abs() < 1e-6, "{total}");
    let certain_end = Foraging {
        end_probability: 1.0,
        food_probability: 1.0,
    };
    assert_eq!(
        outcomes(&certain_end.mdp().unwrap(), 0, forage),
        vec![(1, 1.0, 1.0)]
    );
}

#[test]
fn foraging_rejects_bad_parameters() {
    for world in [
        Foraging {
            food_probability: 1.5,
            ..Foraging::default()
        },
        Foraging {
            food_probability: f64::NAN,
            ..Foraging::default()
        },
        Foraging {
            end_probability: 0.0,
            ..Foraging::default()
        },
        Foraging {
            end_probability: 1.2,
            ..Foraging::default()
        },
        Foraging {
            end_probability: f64::NAN,
            ..Foraging::default()
        },
    ] {
        assert!(is_parameter_error(world.mdp()), "{world:?}");
    }
}

#[test]
fn gusts_split_one_strength_between_wind_and_headwind() {
    let world = WindyWalk::default().with_gusts(0.4, 0.25);
    assert!((world.wind - 0.1).abs() < 1e-15 && (world.headwind - 0.3).abs() < 1e-15);
    let mdp = world.mdp().unwrap();
    assert_rows_sum_to_one(&mdp);
    // From (1, 2) moving right to (1, 3): pushed down to (2, 3) or back left to (1, 2).
    let mut moves = outcomes(&mdp, 10, RIGHT);
    moves.sort_by_key(|m| m.0);
    assert_eq!(moves.len(), 3);
    assert_eq!(moves[0].0, 10);
    assert!((moves[0].1 - 0.3).abs() < 1e-12);
    assert_eq!(moves[1].0, 11);
    assert!((moves[1].1 - 0.6).abs() < 1e-12);
    assert_eq!(moves[2].0, 19);
    assert!((moves[2].1 - 0.1).abs() < 1e-12);
    // The left wall holds a headwind.
    let held = outcomes(&mdp, 8, UP);
    assert!(held.iter().all(|m| m.0 == 0 || m.0 == 8), "{held:?}");
    // Without headwind the world is the windy walk itself.
    assert_eq!(
        WindyWalk::default().with_gusts(0.2, 1.0).mdp().unwrap(),
        WindyWalk::default().with_wind(0.2).mdp().unwrap()
    );
    let too_windy = WindyWalk {
        wind: 0.7,
        headwind: 0.5,
        ..WindyWalk::default()
    };
    assert!(is_parameter_error(too_windy.mdp()));
}

#[test]
fn auction_logs_are_read_replayed_and_checked() {
    use choicelab_envs::{replay, AuctionLog};
    let log = AuctionLog::parse("0 5 0.01\n1 3 0.5\n\n1 10 0.2\n0 1 0.0\n", "log.txt").unwrap();
    assert_eq!(log.auctions.len(), 4);
    // Bid 6 everywhere with budget 8 over episodes of 3: win at 5, then the capped bid 3 wins
    // at 3 (a click), nothing is left for 10; the fresh episode wins at 1.
    let result = replay(&log, 3, 8, |_, _, _| 6).unwrap();
    assert_eq!(
        (
            result.auctions,
            result.impressions,
            result.clicks,
            result.cost
        ),
        (4, 3, 1, 9)
    );
    // The budget resets after each episode, and n counts down from N.
    let mut seen = Vec::new();
    replay(&log, 3, 8, |n, b, _| {
        seen.push((n, b));
        0
    })
    .unwrap();
    assert_eq!(seen, vec![(3, 8), (2, 8), (1, 8), (3, 8)]);
    for (text, needle) in [
        ("0 -5 0.01\n", "log.txt:1: field `market_price`"),
        ("0 5 0.01\n1 3 1.5\n", "log.txt:2: field `pCTR`"),
        ("2 5 0.01\n", "log.txt:1: field `click`"),
        ("0 5\n", "log.txt:1"),
        ("0 5.5 0.1\n", "field `market_price`"),
        ("", "no auctions"),
    ] {
        let error = AuctionLog::parse(text, "log.txt").unwrap_err().to_string();
        assert!(error.contains(needle), "{text:?}: {error}");
    }
}

#[test]
fn simulated_logs_follow_the_training_statistics_and_their_seed() {
    use choicelab_envs::{AuctionLog, CampaignInfo};
    let info = CampaignInfo {
        imp_train: 100_000,
        clk_train: 500,
        cost_train: 6_000_000,
        imp_test: 0,
        clk_test: 0,
        cost_test: 0,
        price_counter_train: (0..=300u64)
            .map(|p| if p == 50 || p == 100 { 10 } else { 0 })
            .collect(),
    };
    assert_eq!(info.budget(1.0 / 32.0, 1000), 1875);
    let log = AuctionLog::simulate(&info, 20_000, 20.0, 3).unwrap();
    assert_eq!(log, AuctionLog::simulate(&info, 20_000, 20.0, 3).unwrap());
    assert!(log.auctions.iter().all(|a| a.price == 50 || a.price == 100));
    let mean_ctr = log.auctions.iter().map(|a| a.ctr).sum::<f64>() / 20_000.0;
    assert!((mean_ctr - 0.005).abs() < 0.0005, "{mean_ctr}");
    let clicks = log.auctions.iter().filter(|a| a.click).count() as f64 / 20_000.0;
    assert!((clicks - 0.005).abs() < 0.0015, "{clicks}");
    assert!(AuctionLog::simulate(&info, 10, 0.0, 3).is_err());
}
