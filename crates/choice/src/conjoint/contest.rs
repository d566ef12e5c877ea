//! Policy values: Q(π_A, π_B) = E_{a∼π_A, b∼π_B} P(a ≻ b) for factorised policies, with its
//! gradient in the factor marginals, exactly by enumerating both sides' profiles or, when the
//! pairs are too many, on a fixed seeded importance sample; and AMCEs with delta-method
//! standard errors.

use choicelab_core::logistic::sigmoid;
use choicelab_core::{stream_rng, Error, Location, Result, Seed};
use rayon::prelude::*;

use super::design::{Design, Side};
use super::model::Electorate;

/// A factorised stochastic intervention: a distribution over each factor's levels.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// π_k(l) for each factor k and level l.
    pub marginals: Vec<Vec<f64>>,
}

impl Policy {
    /// The side's design distribution (fixed factors at their level).
    pub fn design(design: &Design, side: &Side) -> Self {
        Self {
            marginals: (0..design.factors().len())
                .map(|k| side.design_marginal(design, k))
                .collect(),
        }
    }

    /// All mass on one profile.
    pub fn pure(design: &Design, levels: &[usize]) -> Self {
        Self {
            marginals: design
                .level_counts()
                .iter()
                .zip(levels)
                .map(|(&n, &l)| (0..n).map(|i| f64::from(u8::from(i == l))).collect())
                .collect(),
        }
    }

    /// π(profile) = Π_k π_k(level_k).
    pub fn probability(&self, levels: &[usize]) -> f64 {
        self.marginals
            .iter()
            .zip(levels)
            .map(|(m, &l)| m[l])
            .product()
    }

    /// The most probable level of each factor.
    pub fn mode(&self) -> Vec<usize> {
        self.marginals
            .iter()
            .map(|m| (0..m.len()).fold(0, |best, l| if m[l] > m[best] { l } else { best }))
            .collect()
    }

    /// An error unless the policy has one distribution per factor of `design`, each summing to
    /// 1, with all mass on the fixed level of the side's fixed factors.
    pub fn check(&self, design: &Design, side: &Side) -> Result<()> {
        let at = |k: usize| Location::new("<policy>").field(format!("marginals[{k}]"));
        if self.marginals.len() != design.factors().len() {
            return Err(Error::invalid(
                Location::new("<policy>"),
                format!(
                    "{} marginals for {} factors",
                    self.marginals.len(),
                    design.factors().len()
                ),
            ));
        }
        for (k, (m, f)) in self.marginals.iter().zip(design.factors()).enumerate() {
            let total: f64 = m.iter().sum();
            if m.len() != f.levels.len()
                || m.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                || (total - 1.0).abs() > 1e-9
            {
                return Err(Error::invalid(
                    at(k),
                    format!(
                        "`{}` needs {} probabilities ≥ 0 summing to 1, got {m:?}",
                        f.name,
                        f.levels.len()
                    ),
                ));
            }
            if let Some(level) = side.fixed[k] {
                if m[level] != 1.0 {
                    return Err(Error::invalid(
                        at(k),
                        format!(
                            "`{}` is fixed at `{}` on this side",
                            f.name, f.levels[level]
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The player of a two-sided contest: A maximises Q, B minimises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Player {
    /// The row player, whose win probability Q is.
    A,
    /// The column player.
    B,
}

/// How Q is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContestSettings {
    /// Enumerate every pair of profiles when there are at most this many.
    pub max_exact_pairs: usize,
    /// Otherwise, profiles drawn per side from its design distribution.
    pub samples: usize,
    /// Seed of those draws (side A stream 0, side B stream 1).
    pub seed: Seed,
}

impl Default for ContestSettings {
    fn default() -> Self {
        Self {
            max_exact_pairs: 4_000_000,
            samples: 2000,
            seed: 0,
        }
    }
}

/// One side's profiles: all it can field (weight π(a)), or a sample from its design
/// distribution q (weight π(a)/(M·q(a)), an unbiased importance estimate that stays
/// multilinear in the marginals, so value and gradient agree).
#[derive(Debug, Clone)]
pub(crate) struct Profiles {
    pub factors: usize,
    /// n × factors levels.
    pub levels: Vec<usize>,
    /// 1 when enumerated, 1/(M·q(a)) when sampled.
    pub base: Vec<f64>,
}

impl Profiles {
    /// Every profile of the side, the last free factor varying fastest.
    fn enumerate(design: &Design, side: &Side) -> Self {
        let counts = design.level_counts();
        let k = counts.len();
        let mut levels = Vec::new();
        let mut current: Vec<usize> = side.fixed.iter().map(|f| f.unwrap_or(0)).collect();
        loop {
            levels.extend_from_slice(&current);
            // Odometer over the free factors.
            let mut j = k;
            loop {
                if j == 0 {
                    let n = levels.len() / k;
                    return Self {
                        factors: k,
                        levels,
                        base: vec![1.0; n],
                    };
                }
                j -= 1;
                if side.fixed[j].is_some() {
                    continue;
                }
                current[j] += 1;
                if current[j] < counts[j] {
                    break;
                }
                current[j] = 0;
            }
        }
    }

    /// `samples` profiles from the side's design distribution.
    fn sample(design: &Design, side: &Side, samples: usize, seed: Seed, stream: u64) -> Self {
        let k = design.factors().len();
        let marginals = Policy::design(design, side);
        let mut rng = stream_rng(seed, stream);
        let mut levels = vec![0; samples * k];
        let mut base = Vec::with_capacity(samples);
        for profile in levels.chunks_exact_mut(k) {
            for (j, level) in profile.iter_mut().enumerate() {
                *level = choicelab_core::draw_index(&mut rng, &marginals.marginals[j]);
            }
            base.push(1.0 / (samples as f64 * marginals.probability(profile)));
        }
        Self {
            factors: k,
            levels,
            base,
        }
    }

    /// Number of profiles.
    pub fn len(&self) -> usize {
        self.base.len()
    }

    /// The levels of profile `i`.
    pub fn profile(&self, i: usize) -> &[usize] {
        &self.levels[i * self.factors..(i + 1) * self.factors]
    }

    /// Each profile's weight under π.
    pub fn weights(&self, policy: &Policy) -> Vec<f64> {
        (0..self.len())
            .map(|i| self.base[i] * policy.probability(self.profile(i)))
            .collect()
    }

    /// Σ_a w_π(a)·v(a) and its gradient in π's marginals.
    pub fn value_and_gradient(&self, policy: &Policy, v: &[f64]) -> (f64, Vec<Vec<f64>>) {
        let k = self.factors;
        let mut gradient: Vec<Vec<f64>> = policy
            .marginals
            .iter()
            .map(|m| vec![0.0; m.len()])
            .collect();
        let mut value = 0.0;
        let mut prefix = vec![1.0; k + 1];
        for ((a, base), v) in self.levels.chunks_exact(k).zip(&self.base).zip(v) {
            for j in 0..k {
                prefix[j + 1] = prefix[j] * policy.marginals[j][a[j]];
            }
            let weight = base * v;
            value += weight * prefix[k];
            let mut suffix = 1.0;
            for j in (0..k).rev() {
                gradient[j][a[j]] += weight * prefix[j] * suffix;
                suffix *= policy.marginals[j][a[j]];
            }
        }
        (value, gradient)
    }
}

/// Value and gradients of Q at a pair of policies.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueGradient {
    /// Q(π_A, π_B).
    pub value: f64,
    /// ∂Q/∂π_A per factor and level.
    pub a: Vec<Vec<f64>>,
    /// ∂Q/∂π_B per factor and level.
    pub b: Vec<Vec<f64>>,
}

/// Two sides facing one electorate: the table of P(a ≻ b) over their profiles, from which Q
/// and its gradients follow as bilinear forms.
#[derive(Debug, Clone)]
pub struct Contest {
    design: Design,
    electorate: Electorate,
    sides: [Side; 2],
    rows: Profiles,
    cols: Profiles,
    /// rows × cols, row-major.
    matrix: Vec<f64>,
    exact: bool,
}

impl Contest {
    /// Tabulates P(a ≻ b) for side `a`'s profiles against side `b`'s.
    pub fn new(
        design: &Design,
        electorate: &Electorate,
        a: Side,
        b: Side,
        settings: ContestSettings,
    ) -> Result<Self> {
        electorate.check_against(design)?;
        for side in [&a, &b] {
            if side.fixed.len() != design.factors().len() {
                return Err(Error::parameter("side", "a side must cover every factor"));
            }
        }
        let exact = a.n_profiles(design) * b.n_profiles(design) <= settings.max_exact_pairs as f64;
        let (rows, cols) = if exact {
            (
                Profiles::enumerate(design, &a),
                Profiles::enumerate(design, &b),
            )
        } else {
            if settings.samples == 0 {
                return Err(Error::parameter("samples", "must be ≥ 1"));
            }
            (
                Profiles::sample(design, &a, settings.samples, settings.seed, 0),
                Profiles::sample(design, &b, settings.samples, settings.seed, 1),
            )
        };
        let matrix = probability_table(electorate, &rows, &cols);
        Ok(Self {
            design: design.clone(),
            electorate: electorate.clone(),
            sides: [a, b],
            rows,
            cols,
            matrix,
            exact,
        })
    }

    /// Whether Q is exact (every pair enumerated) rather than a fixed importance sample.
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// The design.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// A player's side.
    pub fn side(&self, player: Player) -> &Side {
        &self.sides[player as usize]
    }

    /// The player's design distribution.
    pub fn design_policy(&self, player: Player) -> Policy {
        Policy::design(&self.design, self.side(player))
    }

    /// v_A(a) = Σ_b w_B(b)·P(a ≻ b) for each row profile.
    pub(crate) fn row_values(&self, b: &Policy) -> Vec<f64> {
        let w = self.cols.weights(b);
        self.matrix
            .par_chunks(self.cols.len())
            .map(|row| dot(row, &w))
            .collect()
    }

    /// v_B(b) = Σ_a w_A(a)·P(a ≻ b) for each column profile.
    pub(crate) fn col_values(&self, a: &Policy) -> Vec<f64> {
        let w = self.rows.weights(a);
        let n = self.cols.len();
        let mut out = vec![0.0; n];
        out.par_chunks_mut(256).enumerate().for_each(|(c, block)| {
            let start = c * 256;
            for (row, &weight) in self.matrix.chunks_exact(n).zip(&w) {
                if weight != 0.0 {
                    for (o, p) in block.iter_mut().zip(&row[start..]) {
                        *o += weight * p;
                    }
                }
            }
        });
        out
    }

    /// The player's profiles.
    pub(crate) fn profiles(&self, player: Player) -> &Profiles {
        match player {
            Player::A => &self.rows,
            Player::B => &self.cols,
        }
    }

    /// Q(π_A, π_B).
    pub fn value(&self, a: &Policy, b: &Policy) -> f64 {
        let v = self.row_values(b);
        self.rows.value_and_gradient(a, &v).0
    }

    /// Q and its gradients in both policies' marginals.
    pub fn value_and_gradient(&self, a: &Policy, b: &Policy) -> ValueGradient {
        let (value, ga) = self.rows.value_and_gradient(a, &self.row_values(b));
        let (_, gb) = self.cols.value_and_gradient(b, &self.col_values(a));
        ValueGradient {
            value,
            a: ga,
            b: gb,
        }
    }

    /// The player's best pure profile against `opponent` (A maximises Q, B minimises it) and
    /// the resulting Q. Since Q is multilinear in the marginals, this is also the best response
    /// over all factorised policies. Exact by enumeration when the contest is exact; otherwise
    /// coordinate ascent over pure profiles from the best sampled one (a local optimum).
    pub fn best_pure_response(&self, player: Player, opponent: &Policy) -> (Vec<usize>, f64) {
        let sign = if player == Player::A { 1.0 } else { -1.0 };
        let values = match player {
            Player::A => self.row_values(opponent),
            Player::B => self.col_values(opponent),
        };
        let own = self.profiles(player);
        let best = (0..own.len()).fold(0, |best, i| {
            if sign * values[i] > sign * values[best] {
                i
            } else {
                best
            }
        });
        let mut levels = own.profile(best).to_vec();
        let mut value = values[best];
        if self.exact {
            return (levels, value);
        }
        let other = self.profiles(match player {
            Player::A => Player::B,
            Player::B => Player::A,
        });
        let weights = other.weights(opponent);
        let value_of = |levels: &[usize]| -> f64 {
            (0..other.len())
                .filter(|&j| weights[j] != 0.0)
                .map(|j| {
                    let (a, b) = match player {
                        Player::A => (levels, other.profile(j)),
                        Player::B => (other.profile(j), levels),
                    };
                    weights[j] * self.electorate.probability(a, b)
                })
                .sum()
        };
        let counts = self.design.level_counts();
        loop {
            let mut improved = false;
            for k in (0..counts.len()).filter(|&k| self.side(player).fixed[k].is_none()) {
                for l in 0..counts[k] {
                    let mut trial = levels.clone();
                    trial[k] = l;
                    let v = value_of(&trial);
                    if sign * v > sign * value + 1e-15 {
                        (levels, value, improved) = (trial, v, true);
                    }
                }
            }
            if !improved {
                return (levels, value);
            }
        }
    }
}

/// Σ x_i·y_i with four running sums (a fixed order, so the same bits on every run).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut sums = [0.0; 4];
    let (xs, ys) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xs
        .remainder()
        .iter()
        .zip(ys.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in xs.zip(ys) {
        for i in 0..4 {
            sums[i] += a[i] * b[i];
        }
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
}

/// P(a ≻ b) for every row and column profile, rows in parallel.
fn probability_table(electorate: &Electorate, rows: &Profiles, cols: &Profiles) -> Vec<f64> {
    let utilities = |profiles: &Profiles| -> Vec<Vec<f64>> {
        electorate
            .segments
            .iter()
            .map(|s| {
                (0..profiles.len())
                    .map(|i| s.model.utility(profiles.profile(i)))
                    .collect()
            })
            .collect()
    };
    let (gr, gc) = (utilities(rows), utilities(cols));
    let mut matrix = vec![0.0; rows.len() * cols.len()];
    matrix
        .par_chunks_mut(cols.len())
        .enumerate()
        .for_each(|(i, row)| {
            for (s, segment) in electorate.segments.iter().enumerate() {
                for (cell, g) in row.iter_mut().zip(&gc[s]) {
                    *cell += segment.share * sigmoid(gr[s][i] - g);
                }
            }
        });
    matrix
}

/// An average marginal component effect: the change in the probability that a profile wins
/// against a design-random opponent when factor `factor` moves from its reference level to
/// `level`, the profile's other factors drawn from the design.
#[derive(Debug, Clone, PartialEq)]
pub struct Amce {
    /// Factor index.
    pub factor: usize,
    /// Level index (≥ 1).
    pub level: usize,
    /// The AMCE.
    pub estimate: f64,
    /// Delta-method standard error, when every segment's model has a covariance.
    pub std_error: Option<f64>,
}

/// AMCEs of every non-reference level under `electorate`: exact by enumeration, or on a fixed
/// sample of profiles from the design (a difference of means) when there are too many pairs.
pub fn amces(
    design: &Design,
    electorate: &Electorate,
    settings: ContestSettings,
) -> Result<Vec<Amce>> {
    let free = Side::free(design);
    let contest = Contest::new(design, electorate, free.clone(), free.clone(), settings)?;
    let uniform = Policy::design(design, &free);
    // c(a): the design weight of each profile, on both sides.
    let (rows, cols) = (&contest.rows, &contest.cols);
    let c_rows = rows.weights(&uniform);
    let c_cols = cols.weights(&uniform);
    let v = contest.row_values(&uniform);
    let terms = &electorate.segments[0].model.terms;
    let (n, m) = (rows.len(), cols.len());
    // Per segment: M_s(a, b) = c(b)·σ'(g_s(a) − g_s(b)), and its row sums.
    let slopes: Vec<(Vec<f64>, Vec<f64>)> = electorate
        .segments
        .iter()
        .map(|s| {
            let gc: Vec<f64> = (0..m).map(|j| s.model.utility(cols.profile(j))).collect();
            let mut table = vec![0.0; n * m];
            table.par_chunks_mut(m).enumerate().for_each(|(i, row)| {
                let gi = s.model.utility(rows.profile(i));
                for (j, cell) in row.iter_mut().enumerate() {
                    let p = sigmoid(gi - gc[j]);
                    *cell = c_cols[j] * p * (1.0 - p);
                }
            });
            let sums = table.chunks_exact(m).map(|r| r.iter().sum()).collect();
            (table, sums)
        })
        .collect();
    let with_covariance = electorate
        .segments
        .iter()
        .all(|s| s.model.covariance.is_some());
    let mut out = Vec::new();
    for (k, factor) in design.factors().iter().enumerate() {
        let group = |l: usize| -> f64 {
            (0..n)
                .filter(|&i| rows.profile(i)[k] == l)
                .map(|i| c_rows[i])
                .sum()
        };
        let reference = group(0);
        for level in 1..factor.levels.len() {
            let total = group(level);
            if total == 0.0 || reference == 0.0 {
                continue;
            }
            // ĉ(a): the contrast's weight on each row profile.
            let contrast: Vec<f64> = (0..n)
                .map(|i| match rows.profile(i)[k] {
                    l if l == level => c_rows[i] / total,
                    0 => -c_rows[i] / reference,
                    _ => 0.0,
                })
                .collect();
            let estimate = contrast.iter().zip(&v).map(|(c, v)| c * v).sum();
            let std_error = with_covariance.then(|| {
                let mut variance = 0.0;
                for (s, (table, sums)) in electorate.segments.iter().zip(&slopes) {
                    let mut gradient = vec![0.0; terms.len()];
                    let mut u = vec![0.0; m];
                    for (i, &ci) in contrast.iter().enumerate().filter(|(_, c)| **c != 0.0) {
                        for (uj, t) in u.iter_mut().zip(&table[i * m..(i + 1) * m]) {
                            *uj += ci * t;
                        }
                        terms.for_each_active(rows.profile(i), |t| gradient[t] += ci * sums[i]);
                    }
                    for (j, &uj) in u.iter().enumerate() {
                        terms.for_each_active(cols.profile(j), |t| gradient[t] -= uj);
                    }
                    let covariance = s.model.covariance.as_deref().unwrap_or_default();
                    let d = terms.len();
                    for a in 0..d {
                        for b in 0..d {
                            variance += s.share
                                * s.share
                                * gradient[a]
                                * covariance[a * d + b]
                                * gradient[b];
                        }
                    }
                }
                variance.max(0.0).sqrt()
            });
            out.push(Amce {
                factor: k,
                level,
                estimate,
                std_error,
            });
        }
    }
    Ok(out)
}
