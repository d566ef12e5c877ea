//! A diagonal dynamical linear system for the tests and the bench: the shipped synthetic
//! configuration (A = diag(0.2, 0, 0.1), B = diag(0.45, 0, 0.1), C = diag(1, 0, 0.1),
//! D = diag(0, 0.5, 0.1)), written out here because the bandit crate does not depend on envs.

#![allow(dead_code)]

use choicelab_bandit::{Environment, SystemBounds};
use choicelab_core::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The synthetic system with noise σ.
pub struct Diagonal {
    pub a: [f64; 3],
    pub b: [f64; 3],
    pub c: [f64; 3],
    pub d: [f64; 3],
    pub sigma: f64,
    pub x: [f64; 3],
}

impl Diagonal {
    pub fn synthetic(sigma: f64) -> Self {
        Self {
            a: [0.2, 0.0, 0.1],
            b: [0.45, 0.0, 0.1],
            c: [1.0, 0.0, 0.1],
            d: [0.0, 0.5, 0.1],
            sigma,
            x: [0.0; 3],
        }
    }

    /// h_i = d_i + c_i b_i / (1 − a_i).
    pub fn gain(&self) -> [f64; 3] {
        std::array::from_fn(|i| self.d[i] + self.c[i] * self.b[i] / (1.0 - self.a[i]))
    }

    pub fn bounds(&self) -> SystemBounds {
        SystemBounds {
            rho_bar: 0.2,
            theta: self.d.iter().map(|x| x * x).sum::<f64>().sqrt(),
            omega: self.c.iter().map(|x| x * x).sum::<f64>().sqrt(),
            input_norm: 0.45,
            phi: 1.0,
            sigma: self.sigma,
        }
    }
}

impl Environment for Diagonal {
    fn reset(&mut self) {
        self.x = [0.0; 3];
    }
    fn step(&mut self, u: &[f64], rng: &mut Rng) -> f64 {
        let mut y = 0.0;
        for (i, ui) in u.iter().enumerate().take(3) {
            let v: f64 = StandardNormal.sample(rng);
            y += self.c[i] * self.x[i] + self.d[i] * ui + self.sigma * v;
        }
        for (i, ui) in u.iter().enumerate().take(3) {
            let w: f64 = StandardNormal.sample(rng);
            self.x[i] = self.a[i] * self.x[i] + self.b[i] * ui + self.sigma * w;
        }
        y
    }
}

/// The 6 permutations of (1, 0.5, 0), sorted.
pub fn arms() -> Vec<Vec<f64>> {
    vec![
        vec![0.0, 0.5, 1.0],
        vec![0.0, 1.0, 0.5],
        vec![0.5, 0.0, 1.0],
        vec![0.5, 1.0, 0.0],
        vec![1.0, 0.0, 0.5],
        vec![1.0, 0.5, 0.0],
    ]
}
