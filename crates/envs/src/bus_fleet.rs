//! A seeded bus fleet: each month a bus's engine is replaced with the policy's probability in
//! its mileage state, then its mileage rises by j states with probability θ₃ⱼ (the top state
//! absorbing), from 0 after a replacement.

use choicelab_core::panel::{Observation, Panel};
use choicelab_core::{draw_index, stream_rng, Error, Result, Seed};
use rand::RngExt;

/// Runs `buses` buses for `months` months from mileage 0 under `replace_probability` (one per
/// state) and mileage increments `increments`. Bus b draws from stream b of `seed`, so the
/// panel does not depend on how buses are scheduled.
pub fn simulate_bus_fleet(
    replace_probability: &[f64],
    increments: &[f64],
    buses: usize,
    months: usize,
    seed: Seed,
) -> Result<Panel> {
    let n = replace_probability.len();
    if n < 2 {
        return Err(Error::parameter(
            "replace_probability",
            "a fleet needs at least 2 mileage states",
        ));
    }
    if let Some(x) = replace_probability
        .iter()
        .position(|p| !(0.0..=1.0).contains(p))
    {
        return Err(Error::parameter(
            "replace_probability",
            format!("state {x}: {} is not a probability", replace_probability[x]),
        ));
    }
    let total: f64 = increments.iter().sum();
    if increments.is_empty()
        || increments.iter().any(|p| !(0.0..=1.0).contains(p))
        || (total - 1.0).abs() > 1e-9
    {
        return Err(Error::parameter(
            "increments",
            format!("must be probabilities summing to 1, got {increments:?}"),
        ));
    }
    let mut panel = Panel::new(n);
    for bus in 0..buses {
        let mut rng = stream_rng(seed, bus as u64);
        panel.buses.push(bus.to_string());
        let mut state = 0usize;
        let mut previous: Option<(usize, bool)> = None;
        for period in 0..months {
            let replace = rng.random::<f64>() < replace_probability[state];
            let usage =
                previous.map(|(last, replaced)| (state - if replaced { 0 } else { last }) as u32);
            panel.observations.push(Observation {
                bus: bus as u32,
                period: period as u32,
                state: state as u32,
                replace,
                usage,
            });
            previous = Some((state, replace));
            let base = if replace { 0 } else { state };
            state = (base + draw_index(&mut rng, increments)).min(n - 1);
        }
    }
    Ok(panel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_that_never_replaces_climbs_by_its_increments() {
        let panel = simulate_bus_fleet(&[0.0; 10], &[0.0, 1.0], 2, 5, 1).expect("valid");
        let states: Vec<u32> = panel.observations.iter().map(|o| o.state).collect();
        assert_eq!(states, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
        assert!(panel.observations.iter().all(|o| !o.replace));
        let always = simulate_bus_fleet(&[1.0; 10], &[0.0, 1.0], 1, 4, 1).expect("valid");
        assert!(always
            .observations
            .iter()
            .all(|o| o.replace && o.state == 1 || o.period == 0));
        assert!(simulate_bus_fleet(&[0.5; 10], &[0.5, 0.6], 1, 4, 1).is_err());
        assert!(simulate_bus_fleet(&[1.5; 10], &[1.0], 1, 4, 1).is_err());
    }
}
