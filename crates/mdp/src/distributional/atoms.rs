//! Return distributions on a fixed grid of atoms (categorical), the two-neighbour projection,
//! the statistics the objectives read from a law, and the exact range of returns an MDP allows.

use choicelab_core::{Error, Result, TabularMdp};

use super::outcomes::Outcomes;

/// Evenly spaced atoms z_j = lo + j·Δ, j = 0..M, carrying categorical return distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Atoms {
    lo: f64,
    step: f64,
    count: usize,
}

impl Atoms {
    /// `count` ≥ 2 atoms spanning [lo, hi].
    pub fn new(lo: f64, hi: f64, count: usize) -> Result<Self> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::parameter(
                "atoms",
                format!("need finite lo < hi, got [{lo}, {hi}]"),
            ));
        }
        if count < 2 {
            return Err(Error::parameter(
                "atoms",
                format!("need at least 2 atoms, got {count}"),
            ));
        }
        Ok(Self {
            lo,
            step: (hi - lo) / (count - 1) as f64,
            count,
        })
    }

    /// Atoms lo, lo + step, …, up to the first atom ≥ hi: with integer rewards, γ = 1 and an
    /// integer step, every return is an atom and the projection is exact.
    pub fn lattice(lo: f64, hi: f64, step: f64) -> Result<Self> {
        if !(step > 0.0 && step.is_finite()) {
            return Err(Error::parameter(
                "atoms",
                format!("lattice step {step} must be positive"),
            ));
        }
        let count = ((hi - lo) / step - 1e-9).ceil().max(1.0) as usize + 1;
        let atoms = Self::new(lo, lo + step * (count - 1) as f64, count)?;
        Ok(atoms)
    }

    /// `count` atoms covering the exact return range of `mdp` (see [`return_range`]) with
    /// spare atoms at each end: each projection can spread mass one atom past the true range,
    /// and the spread compounds over at most min(horizon, 1/(1 − γ)) backups, so the margins
    /// keep projections from ever clipping (and the mean exact).
    pub fn covering(
        mdp: &TabularMdp,
        gamma: f64,
        horizon: Option<usize>,
        count: usize,
    ) -> Result<Self> {
        check_horizon(gamma, horizon)?;
        let compounding = if gamma < 1.0 {
            (1.0 / (1.0 - gamma)).ceil() as usize
        } else {
            usize::MAX
        };
        let margin = horizon.unwrap_or(usize::MAX).min(compounding) + 1;
        if count < 2 * margin + 2 {
            return Err(Error::parameter(
                "atoms",
                format!(
                    "need at least {} atoms to cover the range with margins of {margin}, got {count}",
                    2 * margin + 2
                ),
            ));
        }
        let (low, high) = return_range(mdp, gamma, horizon)?;
        let span = (high - low).max(1e-12 * high.abs().max(1.0));
        let step = span / (count - 1 - 2 * margin) as f64;
        Self::new(
            low - margin as f64 * step,
            high + margin as f64 * step,
            count,
        )
    }

    /// Number of atoms M.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no atoms (never: at least 2).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The smallest atom.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// The largest atom.
    pub fn hi(&self) -> f64 {
        self.lo + self.step * (self.count - 1) as f64
    }

    /// The spacing Δ.
    pub fn step(&self) -> f64 {
        self.step
    }

    /// Atom z_j.
    #[inline]
    pub fn atom(&self, j: usize) -> f64 {
        self.lo + self.step * j as f64
    }

    /// All atoms.
    pub fn values(&self) -> Vec<f64> {
        (0..self.count).map(|j| self.atom(j)).collect()
    }

    /// Adds `weight` at x to `law`, split between the two neighbouring atoms so the mean is
    /// kept (values outside [lo, hi] go to the end atom).
    #[inline]
    pub fn project_into(&self, law: &mut [f64], x: f64, weight: f64) {
        let position = (x - self.lo) / self.step;
        if position <= 0.0 {
            law[0] += weight;
        } else if position >= (self.count - 1) as f64 {
            law[self.count - 1] += weight;
        } else {
            let j = position.floor();
            let upper = position - j;
            let j = j as usize;
            // Snap rounding-level fractions so lattice returns land on one atom.
            if upper < 1e-9 {
                law[j] += weight;
            } else if upper > 1.0 - 1e-9 {
                law[j + 1] += weight;
            } else {
                law[j] += weight * (1.0 - upper);
                law[j + 1] += weight * upper;
            }
        }
    }

    /// The categorical law of r + γG, with G ~ `law`, added to `out` with weight `weight`.
    #[inline]
    pub fn push_forward(&self, out: &mut [f64], law: &[f64], reward: f64, gamma: f64, weight: f64) {
        let shift = reward / self.step;
        let whole = shift.round();
        if gamma == 1.0 && (shift - whole).abs() < 1e-9 && whole.abs() < self.count as f64 {
            // On the lattice the law moves by a whole number of atoms; the ends collect what
            // falls outside, as the projection would.
            let k = whole as isize;
            let m = self.count as isize;
            let (from, to) = ((-k).max(0), (m - k).min(m));
            for j in 0..from {
                out[0] += weight * law[j as usize];
            }
            for (target, &q) in out[(from + k) as usize..(to + k) as usize]
                .iter_mut()
                .zip(&law[from as usize..to as usize])
            {
                *target += weight * q;
            }
            for j in to..m {
                out[self.count - 1] += weight * law[j as usize];
            }
            return;
        }
        for (j, &q) in law.iter().enumerate() {
            if q > 0.0 {
                self.project_into(out, reward + gamma * self.atom(j), weight * q);
            }
        }
    }

    /// Mean of a law on these atoms.
    pub fn mean(&self, law: &[f64]) -> f64 {
        law.iter().enumerate().map(|(j, &q)| q * self.atom(j)).sum()
    }

    /// CVaR_α of a law on these atoms (see [`cvar_of_sorted`]).
    pub fn cvar(&self, law: &[f64], alpha: f64) -> f64 {
        let pairs: Vec<(f64, f64)> = law
            .iter()
            .enumerate()
            .filter(|(_, &q)| q > 0.0)
            .map(|(j, &q)| (self.atom(j), q))
            .collect();
        cvar_of_sorted(&pairs, alpha)
    }
}

/// CVaR_α of a finite law given as (value, probability) pairs in increasing value: the mean of
/// the lower tail of mass α (the atom at the α-quantile counted in part). α = 1 is the mean.
pub fn cvar_of_sorted(pairs: &[(f64, f64)], alpha: f64) -> f64 {
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let tail = alpha * total;
    let mut taken = 0.0;
    let mut sum = 0.0;
    for &(value, probability) in pairs {
        let take = probability.min(tail - taken);
        if take <= 0.0 {
            break;
        }
        sum += take * value;
        taken += take;
    }
    sum / taken
}

/// The exact range [min, max] of returns Σ γ^t r_t over every policy and outcome: the
/// fixed points (or, with a horizon, the `horizon`-step values) of the min–min and max–max
/// Bellman operators on per-transition rewards. With γ = 1 a horizon is required.
pub fn return_range(mdp: &TabularMdp, gamma: f64, horizon: Option<usize>) -> Result<(f64, f64)> {
    check_horizon(gamma, horizon)?;
    let outcomes = Outcomes::new(mdp);
    let n = mdp.n_states();
    let (mut low, mut high) = (vec![0.0; n], vec![0.0; n]);
    let stages = horizon.unwrap_or(usize::MAX);
    for stage in 0..stages {
        let mut change: f64 = 0.0;
        let (next_low, next_high): (Vec<f64>, Vec<f64>) = (0..n)
            .map(|s| {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for a in outcomes.feasible(s) {
                    for o in outcomes.of(s, a) {
                        lo = lo.min(o.reward + gamma * low[o.next]);
                        hi = hi.max(o.reward + gamma * high[o.next]);
                    }
                }
                (lo, hi)
            })
            .unzip();
        for s in 0..n {
            change = change
                .max((next_low[s] - low[s]).abs())
                .max((next_high[s] - high[s]).abs());
        }
        low = next_low;
        high = next_high;
        if horizon.is_none() {
            let scale = low.iter().chain(&high).fold(1.0f64, |m, v| m.max(v.abs()));
            if change <= 1e-13 * scale || stage > 100_000 {
                break;
            }
        }
    }
    let min = low.iter().copied().fold(f64::INFINITY, f64::min);
    let max = high.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok((min.min(0.0), max.max(0.0)))
}

/// γ ∈ [0, 1], and γ = 1 only with a finite horizon.
pub(crate) fn check_horizon(gamma: f64, horizon: Option<usize>) -> Result<()> {
    if !(0.0..=1.0).contains(&gamma) {
        return Err(Error::parameter(
            "gamma",
            format!("discount {gamma} must be in [0, 1]"),
        ));
    }
    match horizon {
        Some(0) => Err(Error::parameter("horizon", "must be at least 1")),
        None if gamma >= 1.0 => Err(Error::parameter(
            "horizon",
            "γ = 1 needs a finite horizon (returns may be unbounded)",
        )),
        _ => Ok(()),
    }
}

/// Errors unless `atoms` cover the exact return range of `mdp`.
pub(crate) fn check_coverage(
    atoms: &Atoms,
    mdp: &TabularMdp,
    gamma: f64,
    horizon: Option<usize>,
) -> Result<()> {
    let (low, high) = return_range(mdp, gamma, horizon)?;
    let slack = 1e-9 * (high - low).abs().max(1.0);
    if atoms.lo() > low + slack || atoms.hi() < high - slack {
        return Err(Error::parameter(
            "atoms",
            format!(
                "atoms on [{}, {}] do not cover the return range [{low}, {high}]",
                atoms.lo(),
                atoms.hi()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_keeps_mass_and_mean() {
        let atoms = Atoms::new(-1.0, 1.0, 5).unwrap();
        let mut law = vec![0.0; 5];
        atoms.project_into(&mut law, 0.3, 0.5);
        atoms.project_into(&mut law, -0.5, 0.5);
        assert!((law.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((atoms.mean(&law) - (-0.1)).abs() < 1e-15);
        assert_eq!(law[1], 0.5);
    }

    #[test]
    fn cvar_takes_part_of_the_quantile_atom() {
        // Values 0 and 10 with probability ½: CVaR_0.75 = (0.5·0 + 0.25·10)/0.75.
        let pairs = [(0.0, 0.5), (10.0, 0.5)];
        assert!((cvar_of_sorted(&pairs, 0.75) - 2.5 / 0.75).abs() < 1e-12);
        assert!((cvar_of_sorted(&pairs, 1.0) - 5.0).abs() < 1e-12);
        assert_eq!(cvar_of_sorted(&pairs, 0.1), 0.0);
    }

    #[test]
    fn bad_atoms_are_rejected() {
        assert!(Atoms::new(1.0, 0.0, 5).is_err());
        assert!(Atoms::new(0.0, 1.0, 1).is_err());
        assert!(Atoms::lattice(0.0, 1.0, 0.0).is_err());
        assert_eq!(Atoms::lattice(-3.0, 2.0, 1.0).unwrap().len(), 6);
    }
}
