//! Small dense symmetric algebra for the linear policies, allocation-free (row-major d × d).

/// Inverts the symmetric positive definite `a` into `out` by Cholesky; `work` holds d × d.
/// Returns false (leaving `out` unspecified) when `a` is not positive definite.
pub(crate) fn invert_spd(a: &[f64], d: usize, out: &mut [f64], work: &mut [f64]) -> bool {
    let l = work;
    l.fill(0.0);
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if s <= 0.0 || s.is_nan() {
                    return false;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    // Column c of the inverse solves L Lᵀ x = e_c.
    for c in 0..d {
        let x = &mut out[c * d..(c + 1) * d];
        for i in 0..d {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for k in 0..i {
                s -= l[i * d + k] * x[k];
            }
            x[i] = s / l[i * d + i];
        }
        for i in (0..d).rev() {
            let mut s = x[i];
            for k in i + 1..d {
                s -= l[k * d + i] * x[k];
            }
            x[i] = s / l[i * d + i];
        }
    }
    true
}

/// y = M x for a d × d row-major M.
pub(crate) fn mat_vec(m: &[f64], x: &[f64], y: &mut [f64]) {
    let d = x.len();
    for (i, yi) in y.iter_mut().enumerate() {
        *yi = m[i * d..(i + 1) * d]
            .iter()
            .zip(x)
            .map(|(a, b)| a * b)
            .sum();
    }
}

/// xᵀ M x for a d × d row-major M.
pub(crate) fn quad(m: &[f64], x: &[f64]) -> f64 {
    let d = x.len();
    (0..d)
        .map(|i| {
            x[i] * m[i * d..(i + 1) * d]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum::<f64>()
        })
        .sum()
}

/// The dot product.
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// A ridge regression of rewards on d-dimensional actions: V = λI + Σ uuᵀ, b = Σ u r,
/// ĥ = V⁻¹b, with V⁻¹ kept for widths.
#[derive(Debug, Clone)]
pub(crate) struct Ridge {
    pub d: usize,
    pub v: Vec<f64>,
    pub b: Vec<f64>,
    pub v_inv: Vec<f64>,
    pub h: Vec<f64>,
    work: Vec<f64>,
}

impl Ridge {
    /// An empty regression with ridge `lambda`.
    pub fn new(d: usize, lambda: f64) -> Self {
        let mut ridge = Self {
            d,
            v: vec![0.0; d * d],
            b: vec![0.0; d],
            v_inv: vec![0.0; d * d],
            h: vec![0.0; d],
            work: vec![0.0; d * d],
        };
        ridge.reset(lambda);
        ridge
    }

    /// Back to V = λI, b = 0.
    pub fn reset(&mut self, lambda: f64) {
        let d = self.d;
        self.v.fill(0.0);
        self.v_inv.fill(0.0);
        for i in 0..d {
            self.v[i * d + i] = lambda;
            self.v_inv[i * d + i] = 1.0 / lambda;
        }
        self.b.fill(0.0);
        self.h.fill(0.0);
    }

    /// V ← decay·V + uuᵀ + diag·I, b ← decay·b + u r; then refreshes V⁻¹ and ĥ.
    pub fn add(&mut self, u: &[f64], reward: f64, decay: f64, diag: f64) {
        let d = self.d;
        for i in 0..d {
            for j in 0..d {
                self.v[i * d + j] = decay * self.v[i * d + j] + u[i] * u[j];
            }
            self.v[i * d + i] += diag;
            self.b[i] = decay * self.b[i] + u[i] * reward;
        }
        if invert_spd(&self.v, d, &mut self.v_inv, &mut self.work) {
            mat_vec(&self.v_inv, &self.b, &mut self.h);
        }
    }

    /// ‖u‖_{V⁻¹} = √(uᵀV⁻¹u).
    pub fn width(&self, u: &[f64]) -> f64 {
        quad(&self.v_inv, u).max(0.0).sqrt()
    }
}
