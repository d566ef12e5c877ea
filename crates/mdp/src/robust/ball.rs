//! Nature's best reply inside a ball around a nominal distribution: min pᵀv over an L1 or a KL
//! ball, exactly (L1, by sorting) or by a one-dimensional concave dual (KL).
//!
//! Convention (craam2's): nature may only reweigh the successors that have positive nominal
//! probability; it can never move mass to a successor outside the nominal support. Under KL
//! that is forced (KL(p‖p̂) is infinite otherwise); under L1 it is a modelling choice.

use choicelab_core::{Error, Result};

/// Rows of at most this many successors are sorted in a stack buffer.
const STACK: usize = 32;
/// (3 − √5)/2, the golden-section fraction.
const GOLDEN: f64 = 0.381_966_011_250_105_1;
/// Relative and absolute tolerances of the search over log β.
const LOG_BETA_TOLERANCE: f64 = 1e-11;
/// Most steps of Brent's method (it needs about 40 on the widest bracket).
const BRENT_STEPS: usize = 200;

/// min pᵀV over distributions p on the nominal support with Σp = 1, p ≥ 0 and
/// ‖p − p̂‖₁ ≤ `radius`: exact.
///
/// Up to radius/2 of mass moves onto the lowest-value successor (ties: the first in the row),
/// taken from the highest-value ones first (ties: the first in the row). `values` is indexed by
/// state; `successors` and `probabilities` are one row of a transition kernel.
pub fn worst_case_l1(
    successors: &[u32],
    probabilities: &[f64],
    values: &[f64],
    radius: f64,
) -> Result<f64> {
    check_row(successors, probabilities, values, radius)?;
    Ok(l1_row(
        probabilities,
        |k| values[successors[k] as usize],
        radius,
    ))
}

/// min pᵀV over distributions p with KL(p‖p̂) ≤ `radius`, by the dual
/// max_{β>0} [−β log Σ p̂ᵢ e^{−Vᵢ/β} − β·radius].
///
/// Radius 0 gives p̂ᵀV exactly; a radius of at least −log p̂(arg min V) gives the minimum of V
/// over the support exactly (the dual's β → 0 limit).
pub fn worst_case_kl(
    successors: &[u32],
    probabilities: &[f64],
    values: &[f64],
    radius: f64,
) -> Result<f64> {
    check_row(successors, probabilities, values, radius)?;
    Ok(kl_row(
        probabilities,
        |k| values[successors[k] as usize],
        radius,
    ))
}

/// Checks a row and a radius given by a caller.
fn check_row(successors: &[u32], probabilities: &[f64], values: &[f64], radius: f64) -> Result<()> {
    check_radius(radius)?;
    if successors.len() != probabilities.len() {
        return Err(Error::parameter(
            "probabilities",
            format!(
                "{} probabilities for {} successors",
                probabilities.len(),
                successors.len()
            ),
        ));
    }
    if let Some(&s) = successors.iter().find(|&&s| s as usize >= values.len()) {
        return Err(Error::parameter(
            "successors",
            format!("successor {s} has no value ({} values)", values.len()),
        ));
    }
    if let Some(p) = probabilities
        .iter()
        .find(|p| !(p.is_finite() && **p >= 0.0))
    {
        return Err(Error::parameter(
            "probabilities",
            format!("{p} is not a probability"),
        ));
    }
    if !probabilities.iter().any(|&p| p > 0.0) {
        return Err(Error::parameter(
            "probabilities",
            "the nominal distribution has no successor with positive probability",
        ));
    }
    if let Some(v) = successors
        .iter()
        .map(|&s| values[s as usize])
        .find(|v| !v.is_finite())
    {
        return Err(Error::parameter(
            "values",
            format!("successor value {v} is not finite"),
        ));
    }
    Ok(())
}

/// Checks an uncertainty radius: finite and non-negative.
pub(crate) fn check_radius(radius: f64) -> Result<()> {
    if !(radius.is_finite() && radius >= 0.0) {
        return Err(Error::parameter(
            "radius",
            format!("{radius} must be finite and non-negative"),
        ));
    }
    Ok(())
}

/// Σ p̂ₖ·value(k): the nominal expectation.
fn nominal<F: Fn(usize) -> f64>(probabilities: &[f64], value: &F) -> f64 {
    probabilities
        .iter()
        .enumerate()
        .map(|(k, &p)| p * value(k))
        .sum()
}

/// The L1 worst case of one row; `value(k)` is the value of the row's k-th successor.
pub(crate) fn l1_row<F: Fn(usize) -> f64>(probabilities: &[f64], value: F, radius: f64) -> f64 {
    let expected = nominal(probabilities, &value);
    let n = probabilities.len();
    if radius == 0.0 || n < 2 {
        return expected;
    }
    let mut stack_values = [0.0; STACK];
    let mut stack_order = [0u32; STACK];
    let (mut heap_values, mut heap_order);
    let (values, order): (&mut [f64], &mut [u32]) = if n <= STACK {
        (&mut stack_values[..n], &mut stack_order[..n])
    } else {
        heap_values = vec![0.0; n];
        heap_order = vec![0u32; n];
        (&mut heap_values, &mut heap_order)
    };
    let mut receiver: Option<usize> = None;
    for k in 0..n {
        values[k] = value(k);
        order[k] = k as u32;
        if probabilities[k] > 0.0 && receiver.is_none_or(|r| values[k] < values[r]) {
            receiver = Some(k);
        }
    }
    let Some(receiver) = receiver else {
        return expected;
    };
    let low = values[receiver];
    let movable: f64 = probabilities
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != receiver)
        .map(|(_, &p)| p)
        .sum();
    let mut budget = (radius / 2.0).min(movable);
    // Highest value first; equal values in row order.
    order.sort_unstable_by(|&a, &b| {
        values[b as usize]
            .total_cmp(&values[a as usize])
            .then(a.cmp(&b))
    });
    let mut loss = 0.0;
    for &k in order.iter() {
        let k = k as usize;
        if budget <= 0.0 || values[k] <= low {
            break;
        }
        if k == receiver {
            continue;
        }
        let taken = probabilities[k].min(budget);
        loss += taken * (values[k] - low);
        budget -= taken;
    }
    expected - loss
}

/// The KL worst case of one row; `value(k)` is the value of the row's k-th successor.
pub(crate) fn kl_row<F: Fn(usize) -> f64>(probabilities: &[f64], value: F, radius: f64) -> f64 {
    let expected = nominal(probabilities, &value);
    if radius == 0.0 {
        return expected;
    }
    // Support minimum m, its nominal mass, the spread D = max (v − m) and the smallest positive
    // gap over the support.
    let mut low = f64::INFINITY;
    let mut total = 0.0;
    for (k, &p) in probabilities.iter().enumerate() {
        if p > 0.0 {
            low = low.min(value(k));
            total += p;
        }
    }
    if total <= 0.0 {
        return expected;
    }
    let (mut low_mass, mut spread, mut gap) = (0.0, 0.0_f64, f64::INFINITY);
    for (k, &p) in probabilities.iter().enumerate() {
        if p > 0.0 {
            let w = value(k) - low;
            if w == 0.0 {
                low_mass += p;
            } else {
                spread = spread.max(w);
                gap = gap.min(w);
            }
        }
    }
    if spread == 0.0 || radius >= -(low_mass / total).ln() {
        return low.min(expected);
    }
    // The dual objective less m, as a function of t = log β, with p̂ normalised:
    // h = −β log(1 + Σ qᵢ (e^{−wᵢ/β} − 1)) − β·radius.
    let dual = |t: f64| {
        let beta = t.exp();
        let tilt: f64 = probabilities
            .iter()
            .enumerate()
            .filter(|&(_, &p)| p > 0.0)
            .map(|(k, &p)| p / total * (-(value(k) - low) / beta).exp_m1())
            .sum();
        -beta * tilt.ln_1p() - beta * radius
    };
    // The maximiser lies between a tiny fraction of the smallest gap (below it h is linear in β,
    // so an optimum there is worth less than 1e-12 of the gap) and a multiple of D/√radius
    // (KL of the tilted law falls like Var/(2β²) ≤ D²/(8β²)).
    let lower = (gap * 1e-12).ln();
    let upper = (16.0 * spread * (1.0 + 1.0 / radius.sqrt())).ln();
    let (_, best) = brent_minimise(|t| -dual(t), lower, upper);
    (low + (-best).max(0.0)).min(expected)
}

/// Brent's method: a minimiser of a unimodal `f` on [a, b] and its value, to within a relative
/// tolerance of [`LOG_BETA_TOLERANCE`] in the argument (Numerical Recipes' `brent`).
fn brent_minimise<F: Fn(f64) -> f64>(f: F, mut a: f64, mut b: f64) -> (f64, f64) {
    let mut x = a + GOLDEN * (b - a);
    let (mut w, mut v) = (x, x);
    let mut fx = f(x);
    let (mut fw, mut fv) = (fx, fx);
    let (mut d, mut e) = (0.0_f64, 0.0_f64);
    for _ in 0..BRENT_STEPS {
        let middle = 0.5 * (a + b);
        let tol1 = LOG_BETA_TOLERANCE * (x.abs() + 1.0);
        let tol2 = 2.0 * tol1;
        if (x - middle).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 {
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            } else {
                q = -q;
            }
            let previous = e;
            e = d;
            if p.abs() < (0.5 * q * previous).abs() && p > q * (a - x) && p < q * (b - x) {
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = if x < middle { tol1 } else { -tol1 };
                }
                golden = false;
            }
        }
        if golden {
            e = if x < middle { b - x } else { a - x };
            d = GOLDEN * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else {
            x + tol1.copysign(d)
        };
        let fu = f(u);
        if fu <= fx {
            if u < x {
                b = x;
            } else {
                a = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    (x, fx)
}
