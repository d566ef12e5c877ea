//! A seeded bus fleet run by Rust's model: each month a bus is replaced with the model's
//! logit probability, then its mileage rises by j states with probability θ₃ⱼ.

use choicelab_core::{stream_rng, Error, Result, Seed};
use rand::RngExt;

use crate::ddc::fixed_point::{Bellman, FixedPointSettings};
use crate::ddc::model::ZurcherModel;
use crate::ddc::panel::{Observation, Panel};

/// Simulates `buses` buses for `months` months from mileage 0, with replacement cost `rc` and
/// cost coefficients `cost`. Bus b draws from its own stream of `seed`, so the panel does not
/// depend on how buses are scheduled.
pub fn simulate_fleet(
    model: &ZurcherModel,
    rc: f64,
    cost: &[f64],
    buses: usize,
    months: usize,
    seed: Seed,
) -> Result<Panel> {
    model.check()?;
    if cost.len() != model.cost.n_coefficients() {
        return Err(Error::parameter(
            "cost",
            format!(
                "{} cost coefficients needed, got {}",
                model.cost.n_coefficients(),
                cost.len()
            ),
        ));
    }
    let n = model.n_states;
    let bellman = Bellman {
        model,
        rc,
        costs: (0..n).map(|x| model.cost(x, cost)).collect(),
    };
    let solved = bellman.solve(&vec![0.0; n], FixedPointSettings::default())?;
    let replace_probability = &solved.replace_probability;
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
            let mut u = rng.random::<f64>();
            let mut step = model.increments.len() - 1;
            for (j, &p) in model.increments.iter().enumerate() {
                if u < p {
                    step = j;
                    break;
                }
                u -= p;
            }
            state = (base + step).min(n - 1);
        }
    }
    Ok(panel)
}
