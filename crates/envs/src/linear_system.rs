//! A dynamical linear bandit (Mussi, Metelli & Restelli, ICML 2023): each action drives a hidden
//! linear state, so what is played now keeps paying later.
//!
//! x_{t+1} = A x_t + B u_t + w_t, y_t = 1ᵀ(C x_t + D u_t + v_t), with w and v Gaussian of
//! standard deviation `noise_sigma` and x₀ = 0. The state has n components, the action p, the
//! output m; A is n × n, B n × p, C m × n and D m × p (the reference's `config/*.json` keys).
//! A configuration whose A has spectral radius ≥ 1 is rejected: it has no steady state.
//!
//! The steady-state gain h = 1ᵀ(D + C(I − A)⁻¹B) values each action by what holding it forever
//! pays per step. The arms are the budget allocations [`LinearSystem::arms`] derives from the
//! budget fields; [`LinearSystem::expert_action`] scales the real-data `expert` spend to the budget.

use std::path::Path;

use choicelab_core::{Error, Location, Result, Rng};
use faer::Mat;
use rand_distr::{Distribution, StandardNormal};
use serde_json::Value;

/// Powers of A/ρ(A) scanned for the transient bound Φ (the reference's i = 1..999).
const PHI_POWERS: usize = 999;

/// Largest action dimension for which arms are enumerated (p! priority orders).
const MAX_CAMPAIGNS: usize = 8;

/// A dynamical linear bandit read from a `dlb/*.json` configuration, with its running state.
#[derive(Debug, Clone)]
pub struct LinearSystem {
    source: String,
    n: usize,
    p: usize,
    m: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    d: Vec<f64>,
    /// Steps of the reference experiment.
    pub horizon: u64,
    /// Independent trials of the reference experiment.
    pub n_trials: usize,
    /// Total budget per step, split over the campaigns.
    pub max_daily_budget: f64,
    /// Largest budget of one campaign.
    pub max_camp_budget: f64,
    /// Smallest budget of one campaign.
    pub min_camp_budget: f64,
    /// Standard deviation of the state and output noise.
    pub noise_sigma: f64,
    expert: Option<Vec<f64>>,
    rho: f64,
    gain: Vec<f64>,
    state: Vec<f64>,
    next: Vec<f64>,
}

/// A row-major matrix read from field `key`, checked to be `rows` × `cols`.
fn matrix(value: &Value, key: &str, rows: usize, cols: usize, at: &Location) -> Result<Vec<f64>> {
    let field = || at.clone().field(key);
    let list = value
        .get(key)
        .ok_or_else(|| Error::parse(field(), "missing"))?
        .as_array()
        .ok_or_else(|| Error::parse(field(), "expected an array of rows"))?;
    if list.len() != rows {
        return Err(Error::invalid(
            field(),
            format!("{} rows, expected {rows}", list.len()),
        ));
    }
    let mut out = Vec::with_capacity(rows * cols);
    for (r, row) in list.iter().enumerate() {
        let row = row
            .as_array()
            .ok_or_else(|| Error::parse(field(), format!("row {r} is not an array")))?;
        if row.len() != cols {
            return Err(Error::invalid(
                field(),
                format!("row {r} has {} entries, expected {cols}", row.len()),
            ));
        }
        for (c, x) in row.iter().enumerate() {
            match x.as_f64() {
                Some(x) if x.is_finite() => out.push(x),
                _ => {
                    return Err(Error::parse(
                        field(),
                        format!("entry ({r}, {c}) `{x}` is not a finite number"),
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// A finite number read from field `key`.
fn number(value: &Value, key: &str, at: &Location) -> Result<f64> {
    let field = || at.clone().field(key);
    let x = value
        .get(key)
        .ok_or_else(|| Error::parse(field(), "missing"))?;
    x.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| Error::parse(field(), format!("`{x}` is not a finite number")))
}

/// A positive integer read from field `key`.
fn count(value: &Value, key: &str, at: &Location) -> Result<u64> {
    let x = number(value, key, at)?;
    if x < 1.0 || x.fract() != 0.0 || x > u32::MAX as f64 * 1e3 {
        return Err(Error::invalid(
            at.clone().field(key),
            format!("{x} is not a positive integer"),
        ));
    }
    Ok(x as u64)
}

/// A dense `rows` × `cols` faer matrix from row-major entries.
fn dense(x: &[f64], rows: usize, cols: usize) -> Mat<f64> {
    Mat::from_fn(rows, cols, |i, j| x[i * cols + j])
}

/// The spectral norm (largest singular value) of a dense matrix.
fn spectral_norm(x: &Mat<f64>, context: &str) -> Result<f64> {
    let values = x.singular_values().map_err(|e| Error::Numerical {
        context: context.into(),
        message: format!("singular value decomposition failed: {e:?}"),
    })?;
    Ok(values.first().copied().unwrap_or(0.0))
}

/// The spectral radius of the square matrix `a` (n × n, row-major): the largest modulus of its
/// eigenvalues, computed by faer's dense eigenvalue solver (Hessenberg QR).
pub fn spectral_radius(a: &[f64], n: usize) -> Result<f64> {
    if a.len() != n * n {
        return Err(Error::parameter(
            "a",
            format!("{} entries, expected {n} × {n}", a.len()),
        ));
    }
    if n == 0 {
        return Ok(0.0);
    }
    let values = dense(a, n, n).eigenvalues().map_err(|e| Error::Numerical {
        context: "spectral radius".into(),
        message: format!("eigenvalue solver failed: {e:?}"),
    })?;
    Ok(values.iter().map(|z| z.re.hypot(z.im)).fold(0.0, f64::max))
}

impl LinearSystem {
    /// Reads a `dlb/*.json` configuration file.
    pub fn from_json_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Reads a configuration from JSON text; `source` names it in errors.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let at = Location::new(source);
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::parse(at.clone().line(e.line() as u64), e.to_string()))?;
        if !value.is_object() {
            return Err(Error::parse(at, "expected a JSON object"));
        }
        let dim = |key: &str| -> Result<usize> { Ok(count(&value, key, &at)? as usize) };
        let (n, p, m) = (dim("n")?, dim("p")?, dim("m")?);
        let a = matrix(&value, "A", n, n, &at)?;
        let b = matrix(&value, "B", n, p, &at)?;
        let c = matrix(&value, "C", m, n, &at)?;
        let d = matrix(&value, "D", m, p, &at)?;
        let expert = match value.get("expert") {
            None => None,
            Some(raw) => {
                let field = || at.clone().field("expert");
                let list = raw
                    .as_array()
                    .ok_or_else(|| Error::parse(field(), "expected an array of numbers"))?;
                let list = list
                    .iter()
                    .map(|x| x.as_f64().filter(|x| x.is_finite()))
                    .collect::<Option<Vec<f64>>>()
                    .ok_or_else(|| Error::parse(field(), "expected finite numbers"))?;
                // The reference writes [-1] where there is no expert: any other length than p.
                (list.len() == p).then_some(list)
            }
        };
        let system = Self {
            source: source.into(),
            n,
            p,
            m,
            a,
            b,
            c,
            d,
            horizon: count(&value, "horizon", &at)?,
            n_trials: count(&value, "n_trials", &at)? as usize,
            max_daily_budget: number(&value, "max_daily_budget", &at)?,
            max_camp_budget: number(&value, "max_camp_budget", &at)?,
            min_camp_budget: number(&value, "min_camp_budget", &at)?,
            noise_sigma: number(&value, "noise_sigma", &at)?,
            expert,
            rho: 0.0,
            gain: Vec::new(),
            state: vec![0.0; n],
            next: vec![0.0; n],
        };
        system.checked()
    }

    /// Checks the budgets, the noise and stability, then computes ρ(A) and the gain h.
    fn checked(mut self) -> Result<Self> {
        let at = |field: &str| Location::new(&self.source).field(field);
        if self.noise_sigma < 0.0 {
            return Err(Error::invalid(at("noise_sigma"), "must be ≥ 0"));
        }
        let (lo, hi, total) = (
            self.min_camp_budget,
            self.max_camp_budget,
            self.max_daily_budget,
        );
        let p = self.p as f64;
        if !(0.0 <= lo && lo <= hi) {
            return Err(Error::invalid(
                at("min_camp_budget"),
                format!("need 0 ≤ min_camp_budget ({lo}) ≤ max_camp_budget ({hi})"),
            ));
        }
        if !(p * lo <= total && total <= p * hi) {
            return Err(Error::invalid(
                at("max_daily_budget"),
                format!(
                    "{total} cannot be split over {} campaigns of {lo} to {hi} each",
                    self.p
                ),
            ));
        }
        self.rho = spectral_radius(&self.a, self.n)?;
        if self.rho >= 1.0 {
            return Err(Error::invalid(
                at("A"),
                format!(
                    "spectral radius ρ(A) = {:.6} ≥ 1: the state does not settle, so there is no \
                     steady-state gain",
                    self.rho
                ),
            ));
        }
        let mut i_minus_a = Mat::<f64>::from_fn(self.n, self.n, |i, j| {
            f64::from(u8::from(i == j)) - self.a[i * self.n + j]
        });
        let rhs = dense(&self.b, self.n, self.p);
        let lu = i_minus_a.as_mut().partial_piv_lu();
        let settled = faer::linalg::solvers::Solve::solve(&lu, &rhs);
        self.gain = (0..self.p)
            .map(|j| {
                (0..self.m)
                    .map(|i| {
                        self.d[i * self.p + j]
                            + (0..self.n)
                                .map(|k| self.c[i * self.n + k] * settled[(k, j)])
                                .sum::<f64>()
                    })
                    .sum()
            })
            .collect();
        if self.gain.iter().any(|g| !g.is_finite()) {
            return Err(Error::Numerical {
                context: format!("{}: steady-state gain", self.source),
                message: "I − A is singular".into(),
            });
        }
        Ok(self)
    }

    /// Where the configuration came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Dimensions (state n, action p, output m).
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.n, self.p, self.m)
    }

    /// The spectral radius ρ(A) (< 1).
    pub fn spectral_radius(&self) -> f64 {
        self.rho
    }

    /// The steady-state gain h = 1ᵀ(D + C(I − A)⁻¹B), one entry per campaign.
    pub fn steady_gain(&self) -> &[f64] {
        &self.gain
    }

    /// The steady-state value h·u of holding action `u` forever.
    pub fn steady_value(&self, u: &[f64]) -> f64 {
        self.gain.iter().zip(u).map(|(h, u)| h * u).sum()
    }

    /// The immediate gain 1ᵀD: what a myopic learner that ignores the state sees.
    pub fn immediate_gain(&self) -> Vec<f64> {
        (0..self.p)
            .map(|j| (0..self.m).map(|i| self.d[i * self.p + j]).sum())
            .collect()
    }

    /// θ = ‖1ᵀD‖₂.
    pub fn theta(&self) -> f64 {
        self.immediate_gain()
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
    }

    /// ω = ‖1ᵀC‖₂.
    pub fn omega(&self) -> f64 {
        (0..self.n)
            .map(|j| (0..self.m).map(|i| self.c[i * self.n + j]).sum::<f64>())
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
    }

    /// b = ‖B‖₂, the spectral norm of B.
    pub fn input_norm(&self) -> Result<f64> {
        spectral_norm(&dense(&self.b, self.n, self.p), "‖B‖₂")
    }

    /// Φ = max over i = 1..999 of ‖Aⁱ‖₂ / ρ(A)ⁱ, computed as ‖(A/ρ)ⁱ‖₂ so that nothing
    /// underflows. For ρ(A) = 0 (A nilpotent) the ratio is undefined; then Φ = max(1, ‖A‖₂), our
    /// convention.
    pub fn transient_bound(&self) -> Result<f64> {
        let n = self.n;
        let a = dense(&self.a, n, n);
        if self.rho <= f64::EPSILON {
            return Ok(spectral_norm(&a, "‖A‖₂")?.max(1.0));
        }
        let scaled = Mat::<f64>::from_fn(n, n, |i, j| a[(i, j)] / self.rho);
        let mut power = scaled.clone();
        let mut phi = 0.0f64;
        for _ in 0..PHI_POWERS {
            phi = phi.max(spectral_norm(&power, "Φ")?);
            power = &power * &scaled;
        }
        Ok(phi)
    }

    /// The arms: every allocation reached by filling campaigns greedily in some priority order.
    /// Each campaign starts at `min_camp_budget`; the rest of `max_daily_budget` goes to the
    /// campaigns one by one in the order of a permutation, each up to `max_camp_budget`.
    /// Duplicates are removed and the arms sorted lexicographically. For a budget of 1.5 over 3
    /// campaigns in [0, 1] these are the 6 permutations of (1, 0.5, 0).
    pub fn arms(&self) -> Result<Vec<Vec<f64>>> {
        let p = self.p;
        if p > MAX_CAMPAIGNS {
            return Err(Error::parameter(
                "p",
                format!("{p} campaigns: arms are enumerated for at most {MAX_CAMPAIGNS}"),
            ));
        }
        let mut order: Vec<usize> = (0..p).collect();
        let mut arms = Vec::new();
        loop {
            let mut u = vec![self.min_camp_budget; p];
            let mut left = self.max_daily_budget - p as f64 * self.min_camp_budget;
            for &i in &order {
                let delta = left.min(self.max_camp_budget - u[i]);
                u[i] += delta;
                left -= delta;
            }
            arms.push(u);
            if !next_permutation(&mut order) {
                break;
            }
        }
        arms.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
        arms.dedup();
        Ok(arms)
    }

    /// The configuration's `expert` spend scaled to the budget, or None (synthetic systems):
    /// shares of the total are clipped to [min, max] campaign budget over the daily budget, the
    /// unclipped shares rescaled to fill the rest (repeated until no share moves), times the
    /// daily budget — the reference's `ExpertAgent`.
    pub fn expert_action(&self) -> Option<Vec<f64>> {
        let raw = self.expert.as_ref()?;
        let total: f64 = raw.iter().sum();
        if total <= 0.0 || raw.iter().any(|x| *x < 0.0) {
            return None;
        }
        let budget = self.max_daily_budget;
        let (lo, hi) = (self.min_camp_budget / budget, self.max_camp_budget / budget);
        let mut share: Vec<f64> = raw.iter().map(|x| x / total).collect();
        let mut fixed = vec![false; share.len()];
        for _ in 0..share.len() {
            let mut moved = false;
            for (s, f) in share.iter_mut().zip(&mut fixed) {
                if !*f && (*s < lo || *s > hi) {
                    *s = s.clamp(lo, hi);
                    *f = true;
                    moved = true;
                }
            }
            let free: f64 = share.iter().zip(&fixed).filter(|p| !p.1).map(|p| p.0).sum();
            let room = 1.0
                - share
                    .iter()
                    .zip(&fixed)
                    .filter(|p| *p.1)
                    .map(|p| p.0)
                    .sum::<f64>();
            if free > 0.0 {
                for (s, _) in share.iter_mut().zip(&fixed).filter(|p| !p.1) {
                    *s *= room / free;
                }
            }
            if !moved {
                break;
            }
        }
        Some(share.into_iter().map(|s| s * budget).collect())
    }

    /// Puts the state back to x₀ = 0.
    pub fn reset(&mut self) {
        self.state.fill(0.0);
    }

    /// Plays action `u` (length p) for one step: returns y_t = 1ᵀ(C x_t + D u_t + v_t) and moves
    /// the state to x_{t+1} = A x_t + B u_t + w_t. Draws m output noises, then n state noises.
    pub fn step(&mut self, u: &[f64], rng: &mut Rng) -> f64 {
        let (n, p, m, sigma) = (self.n, self.p, self.m, self.noise_sigma);
        let mut y = 0.0;
        for i in 0..m {
            let c = &self.c[i * n..(i + 1) * n];
            let d = &self.d[i * p..(i + 1) * p];
            let noise: f64 = StandardNormal.sample(rng);
            y += dot(c, &self.state) + dot(d, u) + sigma * noise;
        }
        for (i, next) in self.next.iter_mut().enumerate() {
            let a = &self.a[i * n..(i + 1) * n];
            let b = &self.b[i * p..(i + 1) * p];
            let noise: f64 = StandardNormal.sample(rng);
            *next = dot(a, &self.state) + dot(b, u) + sigma * noise;
        }
        std::mem::swap(&mut self.state, &mut self.next);
        y
    }
}

/// The dot product of two slices (the shorter length).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// Advances `order` to the next permutation in lexicographic order; false after the last.
fn next_permutation(order: &mut [usize]) -> bool {
    let Some(i) = order.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let j = order.iter().rposition(|&x| x > order[i]).unwrap_or(i + 1);
    order.swap(i, j);
    order[i + 1..].reverse();
    true
}
