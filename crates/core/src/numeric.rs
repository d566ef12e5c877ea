//! Small numeric helpers shared across crates.

/// Σ aᵢbᵢ over the common length of `a` and `b`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
