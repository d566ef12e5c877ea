//! Acrobot-v1: swing the tip of a two-link pendulum, actuated at the middle joint, above a
//! line (Sutton 1996; gymnasium's `AcrobotEnv` with the "book" dynamics).

use std::f64::consts::PI;

use choicelab_core::env::{Action, BoxSpace, Env, Info, Space, StepOutcome};
use choicelab_core::{rng, Result, Rng};

use super::{check_state, discrete, pow2, uniform};

const ID: &str = "Acrobot-v1";
const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const GRAVITY: f64 = 9.8;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const TORQUES: [f64; 3] = [-1.0, 0.0, 1.0];

/// Acrobot-v1. State `[theta1, theta2, dtheta1, dtheta2]` (float64); actions 0, 1, 2 apply
/// torque −1, 0, +1 at the joint; observation `[cos θ1, sin θ1, cos θ2, sin θ2, dθ1, dθ2]`. One
/// classic Runge–Kutta step of 0.2 s, then both angles wrapped into [−π, π] and the speeds
/// clipped to ±4π and ±9π. Terminates when `−cos θ1 − cos(θ1 + θ2) > 1`; reward −1 per step and
/// 0 on the terminating one. Reset draws every state value from U(−0.1, 0.1) and rounds it to
/// float32, as gymnasium does.
#[derive(Debug, Clone)]
pub struct Acrobot {
    state: [f64; 4],
    rng: Rng,
    observation_space: Space,
    action_space: Space,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

impl Acrobot {
    /// Acrobot with gymnasium's defaults, reset with seed 0.
    pub fn new() -> Self {
        let high = vec![1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        let mut env = Self {
            state: [0.0; 4],
            rng: rng(0),
            observation_space: Space::Box(
                BoxSpace::symmetric(high).expect("Acrobot's observation bounds are valid"),
            ),
            action_space: Space::Discrete(3),
        };
        env.reset(Some(0));
        env
    }

    fn observation(&self) -> Vec<f32> {
        let [t1, t2, d1, d2] = self.state;
        [t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2]
            .iter()
            .map(|v| *v as f32)
            .collect()
    }

    fn terminal(&self) -> bool {
        let [t1, t2, _, _] = self.state;
        -t1.cos() - (t2 + t1).cos() > 1.0
    }
}

/// The time derivative of `[θ1, θ2, dθ1, dθ2]` under torque `a` (book dynamics), with
/// gymnasium's order of operations.
fn dsdt(s: [f64; 4], a: f64) -> [f64; 4] {
    let (m1, m2, l1) = (LINK_MASS_1, LINK_MASS_2, LINK_LENGTH_1);
    let (lc1, lc2, i1, i2, g) = (LINK_COM_POS_1, LINK_COM_POS_2, LINK_MOI, LINK_MOI, GRAVITY);
    let [theta1, theta2, dtheta1, dtheta2] = s;
    // Squares of Python floats (constants) are exact; squares of numpy floats are libm pow.
    let d1 =
        m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * pow2(dtheta2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * pow2(dtheta1) * theta2.sin() - phi2)
        / (m2 * (lc2 * lc2) + i2 - pow2(d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// `y + h k`, elementwise.
fn shifted(y: [f64; 4], h: f64, k: [f64; 4]) -> [f64; 4] {
    std::array::from_fn(|i| y[i] + h * k[i])
}

/// One classic fourth-order Runge–Kutta step of length `DT` from `y0`.
fn rk4(y0: [f64; 4], a: f64) -> [f64; 4] {
    let dt = DT - 0.0;
    let dt2 = dt / 2.0;
    let k1 = dsdt(y0, a);
    let k2 = dsdt(shifted(y0, dt2, k1), a);
    let k3 = dsdt(shifted(y0, dt2, k2), a);
    let k4 = dsdt(shifted(y0, dt, k3), a);
    std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Wraps `x` into [m, big_m] by whole turns, as gymnasium's `wrap`.
fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

/// Python's `min(max(x, m), big_m)`: NaN passes through.
fn bound(x: f64, m: f64, big_m: f64) -> f64 {
    let x = if m > x { m } else { x };
    if big_m < x {
        big_m
    } else {
        x
    }
}

impl Env for Acrobot {
    fn id(&self) -> &str {
        ID
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> (Vec<f32>, Info) {
        if let Some(seed) = seed {
            self.rng = rng(seed);
        }
        for v in &mut self.state {
            *v = f64::from(uniform(&mut self.rng, -0.1, 0.1) as f32);
        }
        (self.observation(), Info::new())
    }

    fn step(&mut self, action: &Action) -> Result<StepOutcome> {
        let torque = TORQUES[discrete(ID, action, &self.action_space)?];
        let mut ns = rk4(self.state, torque);
        ns[0] = wrap(ns[0], -PI, PI);
        ns[1] = wrap(ns[1], -PI, PI);
        ns[2] = bound(ns[2], -MAX_VEL_1, MAX_VEL_1);
        ns[3] = bound(ns[3], -MAX_VEL_2, MAX_VEL_2);
        self.state = ns;
        let terminated = self.terminal();
        let reward = if terminated { 0.0 } else { -1.0 };
        Ok(StepOutcome::new(self.observation(), reward, terminated))
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state = check_state::<4>(ID, state)?;
        Ok(())
    }
}
