//! The expected-value fixed point EV = T(EV) of Rust's model, by his poly-algorithm:
//! contraction steps, then Newton–Kantorovich steps EV ← EV − (I − T′)⁻¹(EV − T(EV)).

use choicelab_core::{Error, Result};
use faer::linalg::solvers::{PartialPivLu, Solve};
use faer::Mat;

use crate::ddc::model::ZurcherModel;

/// Settings of the poly-algorithm.
#[derive(Debug, Clone, Copy)]
pub struct FixedPointSettings {
    /// Contraction steps at most before switching to Newton–Kantorovich.
    pub max_contractions: usize,
    /// Switch once a contraction step changes EV by less than this (sup norm).
    pub switch_tolerance: f64,
    /// Stop when ‖EV − T(EV)‖∞ is below this times max(1, ‖EV‖∞): at β near 1, EV is of
    /// order u/(1 − β) and rounding bounds the absolute residual.
    pub tolerance: f64,
    /// Newton–Kantorovich steps at most.
    pub max_newton: usize,
}

impl Default for FixedPointSettings {
    fn default() -> Self {
        Self {
            max_contractions: 50,
            switch_tolerance: 1e-2,
            tolerance: 1e-12,
            max_newton: 30,
        }
    }
}

/// The solved fixed point: EV, the choice probabilities and the factorised I − T′.
pub struct Solved {
    /// EV(x): expected value of next month's best choice after keeping in state x.
    pub ev: Vec<f64>,
    /// P(replace | x).
    pub replace_probability: Vec<f64>,
    /// LU factors of I − T′ at EV, for implicit derivatives.
    pub(crate) jacobian: PartialPivLu<f64>,
    /// Contraction and Newton–Kantorovich steps taken.
    pub steps: (usize, usize),
}

/// The model with its cost parameters: v_keep(x) = −c(x) + βEV(x), v_replace = −RC − c(0) +
/// βEV(0).
pub(crate) struct Bellman<'a> {
    pub model: &'a ZurcherModel,
    pub transitions: &'a [f64],
    pub rc: f64,
    pub costs: Vec<f64>,
}

impl Bellman<'_> {
    /// T(EV) and P(replace | x) at EV; log-sums are taken around their maximum.
    fn apply(&self, ev: &[f64], out: &mut [f64], replace: &mut [f64]) {
        let n = self.model.n_states;
        let beta = self.model.beta;
        let v_replace = -self.rc - self.costs[0] + beta * ev[0];
        let mut log_sum = vec![0.0; n];
        for x in 0..n {
            let v_keep = -self.costs[x] + beta * ev[x];
            let top = v_keep.max(v_replace);
            let (a, b) = ((v_keep - top).exp(), (v_replace - top).exp());
            log_sum[x] = top + (a + b).ln();
            replace[x] = b / (a + b);
        }
        for (value, row) in out.iter_mut().zip(self.transitions.chunks_exact(n)) {
            *value = row.iter().zip(&log_sum).map(|(p, v)| p * v).sum();
        }
    }

    /// I − T′ with T′ = β·(P·diag(p_keep) + (P·p_replace)·e₀ᵀ).
    fn jacobian(&self, replace: &[f64]) -> Mat<f64> {
        let n = self.model.n_states;
        let beta = self.model.beta;
        let p = self.transitions;
        Mat::from_fn(n, n, |x, y| {
            let mut d = beta * p[x * n + y] * (1.0 - replace[y]);
            if y == 0 {
                d += beta * (0..n).map(|z| p[x * n + z] * replace[z]).sum::<f64>();
            }
            f64::from(x == y) - d
        })
    }

    /// Solves EV = T(EV) from `start`.
    pub fn solve(&self, start: &[f64], settings: FixedPointSettings) -> Result<Solved> {
        let n = self.model.n_states;
        let mut ev = start.to_vec();
        let mut next = vec![0.0; n];
        let mut replace = vec![0.0; n];
        let sup = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max)
        };
        let mut contractions = 0;
        while contractions < settings.max_contractions {
            self.apply(&ev, &mut next, &mut replace);
            contractions += 1;
            let change = sup(&ev, &next);
            std::mem::swap(&mut ev, &mut next);
            if change < settings.switch_tolerance || change < settings.tolerance {
                break;
            }
        }
        for newton in 0..=settings.max_newton {
            self.apply(&ev, &mut next, &mut replace);
            let residual = sup(&ev, &next);
            if !residual.is_finite() {
                return Err(Error::Numerical {
                    context: "expected-value fixed point".into(),
                    message: format!("the residual became {residual}"),
                });
            }
            let jacobian = self.jacobian(&replace).partial_piv_lu();
            let size = ev.iter().fold(1.0, |m: f64, v| m.max(v.abs()));
            if residual < settings.tolerance * size {
                return Ok(Solved {
                    ev,
                    replace_probability: replace,
                    jacobian,
                    steps: (contractions, newton),
                });
            }
            if newton == settings.max_newton {
                return Err(Error::NotConverged {
                    method: "Newton–Kantorovich (expected-value fixed point)".into(),
                    iterations: newton,
                    residual,
                    tolerance: settings.tolerance,
                    reason: "iteration limit".into(),
                });
            }
            let rhs = Mat::from_fn(n, 1, |x, _| ev[x] - next[x]);
            let step = jacobian.solve(&rhs);
            for x in 0..n {
                ev[x] -= step[(x, 0)];
            }
        }
        unreachable!("the loop returns on its last step")
    }
}

impl Solved {
    /// Solves (I − T′)·y = rhs.
    pub(crate) fn implicit(&self, rhs: &[f64]) -> Vec<f64> {
        let b = Mat::from_fn(rhs.len(), 1, |x, _| rhs[x]);
        let y = self.jacobian.solve(&b);
        (0..rhs.len()).map(|x| y[(x, 0)]).collect()
    }
}
