//! Gymnasium's action and observation spaces: `Discrete(n)` and `Box` with float32 bounds.

use std::fmt;

use rand::RngExt;

use crate::error::{Error, Location, Result};
use crate::rng::Rng;

/// An action given to an [`Env`](crate::env::Env): an index for a discrete space, a float32
/// vector (flattened in row-major order) for a box.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The index of a discrete action, 0-based.
    Discrete(usize),
    /// A point of a box, row-major.
    Continuous(Vec<f32>),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Discrete(i) => write!(f, "{i}"),
            Action::Continuous(values) => {
                write!(f, "[")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// A box of float32 points: per-coordinate bounds `low ≤ x ≤ high` (either may be infinite)
/// and a shape, as gymnasium's `Box(low, high, shape, dtype=float32)`.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSpace {
    low: Vec<f32>,
    high: Vec<f32>,
    shape: Vec<usize>,
}

impl BoxSpace {
    /// A box with per-coordinate bounds and a shape whose product is the number of bounds.
    /// Errors if the lengths disagree, a bound is NaN, a lower bound is above its upper
    /// bound, or a coordinate is unbounded in a direction that excludes every finite value.
    pub fn new(low: Vec<f32>, high: Vec<f32>, shape: Vec<usize>) -> Result<Self> {
        let size: usize = shape.iter().product();
        if low.len() != size || high.len() != size {
            return Err(Error::parameter(
                "shape",
                format!(
                    "shape {shape:?} holds {size} values but low has {} and high {}",
                    low.len(),
                    high.len()
                ),
            ));
        }
        for (i, (l, h)) in low.iter().zip(&high).enumerate() {
            if l.is_nan() || h.is_nan() || l > h || *l == f32::INFINITY || *h == f32::NEG_INFINITY {
                return Err(Error::parameter(
                    "low",
                    format!("coordinate {i}: bounds [{l}, {h}] are not an interval"),
                ));
            }
        }
        Ok(Self { low, high, shape })
    }

    /// A one-dimensional box with the same bounds on every coordinate.
    pub fn uniform(low: f32, high: f32, size: usize) -> Result<Self> {
        Self::new(vec![low; size], vec![high; size], vec![size])
    }

    /// A one-dimensional box with per-coordinate bounds `high` and `-high`, as gymnasium's
    /// `Box(-high, high)`.
    pub fn symmetric(high: Vec<f32>) -> Result<Self> {
        let low = high.iter().map(|h| -h).collect();
        let size = high.len();
        Self::new(low, high, vec![size])
    }

    /// Lower bounds, row-major.
    pub fn low(&self) -> &[f32] {
        &self.low
    }

    /// Upper bounds, row-major.
    pub fn high(&self) -> &[f32] {
        &self.high
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of coordinates (the product of the shape).
    pub fn size(&self) -> usize {
        self.low.len()
    }

    /// Whether `x` has the box's size and every coordinate lies within its bounds (NaN never
    /// does).
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.size()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (l, h))| *l <= *v && *v <= *h)
    }

    /// Why `x` is not in the box, or `None` if it is.
    pub fn why_not(&self, x: &[f32]) -> Option<String> {
        if x.len() != self.size() {
            return Some(format!(
                "has {} values, the box {} needs {}",
                x.len(),
                self,
                self.size()
            ));
        }
        for (i, (v, (l, h))) in x.iter().zip(self.low.iter().zip(&self.high)).enumerate() {
            if v.is_nan() {
                return Some(format!("coordinate {i} is NaN"));
            }
            if v < l || v > h {
                return Some(format!("coordinate {i} = {v} is outside [{l}, {h}]"));
            }
        }
        None
    }

    /// A random point, as gymnasium samples: uniform on bounded coordinates (drawn in float64,
    /// then rounded to float32 and kept inside the bounds), a shifted standard exponential on
    /// half-bounded ones and a standard normal on unbounded ones.
    pub fn sample(&self, rng: &mut Rng) -> Vec<f32> {
        self.low
            .iter()
            .zip(&self.high)
            .map(|(&l, &h)| match (l.is_finite(), h.is_finite()) {
                (true, true) => {
                    let u: f64 = rng.random();
                    let x = f64::from(l) + (f64::from(h) - f64::from(l)) * u;
                    (x as f32).clamp(l, h)
                }
                (true, false) => (f64::from(l) + exponential(rng)) as f32,
                (false, true) => (f64::from(h) - exponential(rng)) as f32,
                (false, false) => standard_normal(rng) as f32,
            })
            .collect()
    }
}

impl fmt::Display for BoxSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all_same = |v: &[f32]| v.windows(2).all(|w| w[0] == w[1]);
        if !self.low.is_empty() && all_same(&self.low) && all_same(&self.high) {
            write!(
                f,
                "Box({}, {}, {:?})",
                self.low[0], self.high[0], self.shape
            )
        } else {
            let list = |v: &[f32]| v.iter().map(f32::to_string).collect::<Vec<_>>().join(", ");
            let (low, high) = (list(&self.low), list(&self.high));
            write!(f, "Box([{low}], [{high}], {:?})", self.shape)
        }
    }
}

/// A standard exponential draw by inversion.
fn exponential(rng: &mut Rng) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln()
}

/// A standard normal draw (Box–Muller, one of the pair).
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An action or observation space.
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    /// `n` discrete actions `0..n`.
    Discrete(usize),
    /// A box of float32 points.
    Box(BoxSpace),
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Discrete(n) => write!(f, "Discrete({n})"),
            Space::Box(b) => b.fmt(f),
        }
    }
}

impl Space {
    /// Whether `action` belongs to the space (a discrete index below `n`, or a point of the box).
    pub fn contains(&self, action: &Action) -> bool {
        match (self, action) {
            (Space::Discrete(n), Action::Discrete(i)) => i < n,
            (Space::Box(b), Action::Continuous(x)) => b.contains(x),
            _ => false,
        }
    }

    /// A random member of the space drawn from `rng` (uniform for `Discrete`; see
    /// [`BoxSpace::sample`]). An empty `Discrete(0)` gives index 0, which it does not contain.
    pub fn sample(&self, rng: &mut Rng) -> Action {
        match self {
            Space::Discrete(n) => {
                Action::Discrete(if *n == 0 { 0 } else { rng.random_range(0..*n) })
            }
            Space::Box(b) => Action::Continuous(b.sample(rng)),
        }
    }

    /// Why `action` does not belong to the space, or `None` if it does.
    pub fn why_not(&self, action: &Action) -> Option<String> {
        match (self, action) {
            (Space::Discrete(n), Action::Discrete(i)) if i >= n => {
                Some(format!("{i} is not in {self} (valid: 0..{n})"))
            }
            (Space::Discrete(_), Action::Discrete(_)) => None,
            (Space::Box(b), Action::Continuous(x)) => b.why_not(x),
            (Space::Discrete(_), Action::Continuous(x)) => Some(format!(
                "a vector of {} values was given, the space is {self}",
                x.len()
            )),
            (Space::Box(_), Action::Discrete(i)) => Some(format!(
                "a discrete index {i} was given, the space is {self}"
            )),
        }
    }

    /// `Ok` if `action` belongs to the space, otherwise an [`Error::Invalid`] at field `action`
    /// of `source` (the environment's name) saying why.
    pub fn check(&self, action: &Action, source: &str) -> Result<()> {
        match self.why_not(action) {
            None => Ok(()),
            Some(why) => Err(Error::invalid(
                Location::new(source).field("action"),
                format!("action {action}: {why}"),
            )),
        }
    }

    /// The number of values an action has: 1 for `Discrete`, the box's size for `Box`.
    pub fn flat_size(&self) -> usize {
        match self {
            Space::Discrete(_) => 1,
            Space::Box(b) => b.size(),
        }
    }

    /// Whether an observation lies in the space (for `Discrete`, a single whole value below `n`).
    pub fn contains_observation(&self, observation: &[f32]) -> bool {
        match self {
            Space::Discrete(n) => {
                observation.len() == 1
                    && observation[0] >= 0.0
                    && observation[0].fract() == 0.0
                    && (observation[0] as f64) < *n as f64
            }
            Space::Box(b) => b.contains(observation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::rng;

    #[test]
    fn box_contains_and_rejects() {
        let b = BoxSpace::uniform(-2.0, 2.0, 1).unwrap();
        assert!(b.contains(&[2.0]));
        assert!(!b.contains(&[2.0001]));
        assert!(!b.contains(&[f32::NAN]));
        assert!(!b.contains(&[0.0, 0.0]));
        assert!(b.why_not(&[f32::NAN]).unwrap().contains("NaN"));
        assert!(BoxSpace::new(vec![1.0], vec![0.0], vec![1]).is_err());
        assert!(BoxSpace::new(vec![0.0], vec![1.0], vec![2]).is_err());
        assert!(BoxSpace::new(vec![f32::NAN], vec![1.0], vec![1]).is_err());
    }

    #[test]
    fn samples_stay_inside_and_repeat_with_the_seed() {
        let b = BoxSpace::new(
            vec![-1.0, 0.0, f32::NEG_INFINITY, f32::NEG_INFINITY],
            vec![1.0, f32::INFINITY, 3.0, f32::INFINITY],
            vec![2, 2],
        )
        .unwrap();
        let space = Space::Box(b);
        let mut a = rng(7);
        let mut c = rng(7);
        for _ in 0..1000 {
            let x = space.sample(&mut a);
            assert!(space.contains(&x));
            assert_eq!(x, space.sample(&mut c));
        }
        let d = Space::Discrete(3);
        let mut seen = [false; 3];
        for _ in 0..100 {
            match d.sample(&mut a) {
                Action::Discrete(i) => seen[i] = true,
                other => panic!("{other:?}"),
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn check_names_the_problem() {
        let d = Space::Discrete(2);
        let e = d.check(&Action::Discrete(2), "CartPole-v1").unwrap_err();
        assert!(e.to_string().contains("CartPole-v1: field `action`"), "{e}");
        assert!(d.check(&Action::Continuous(vec![0.0]), "x").is_err());
        let b = Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap());
        assert!(b.check(&Action::Continuous(vec![0.5]), "x").is_ok());
        let e = b.check(&Action::Continuous(vec![1.5]), "x").unwrap_err();
        assert!(e.to_string().contains("outside [-1, 1]"), "{e}");
        assert!(b.check(&Action::Discrete(0), "x").is_err());
    }
}
