//! Pendulum-v1: swing a frictionless pendulum up and hold it there with a bounded torque
//! (gymnasium's `PendulumEnv`).

use std::f64::consts::PI;

use choicelab_core::env::{Action, BoxSpace, Env, Info, Space, StepOutcome};
use choicelab_core::{rng, Error, Result, Rng};

use super::{check_state, np_remainder, pow2, powf2, scalar, uniform};

const ID: &str = "Pendulum-v1";
const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const MASS: f64 = 1.0;
const LENGTH: f64 = 1.0;

/// Pendulum-v1. State `[theta, theta_dot]` (float64; theta is never wrapped); action a torque
/// in [−2, 2] (float32); observation `[cos theta, sin theta, theta_dot]`. Cost on the pre-step
/// state `normalize(theta)² + 0.1 theta_dot² + 0.001 u²`, reward −cost; semi-implicit Euler
/// with dt 0.05 and speed clipped to ±8; never terminates. Reset draws theta from U(−π, π) and
/// theta_dot from U(−1, 1).
///
/// Float rules (numpy 2 with a float32 action): `3u` and the control cost
/// `f32(f32(0.001) · powf(u, 2))` are float32 (libm `powf`, not `u · u`), the squares of float64
/// values are libm `pow(x, 2)`; everything else is float64.
#[derive(Debug, Clone)]
pub struct Pendulum {
    state: [f64; 2],
    g: f64,
    rng: Rng,
    observation_space: Space,
    action_space: Space,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// Pendulum with gravity 10 (gymnasium's default), reset with seed 0.
    pub fn new() -> Self {
        let observation = BoxSpace::symmetric(vec![1.0, 1.0, MAX_SPEED as f32])
            .expect("Pendulum's observation bounds are valid");
        let action = BoxSpace::uniform(-MAX_TORQUE, MAX_TORQUE, 1)
            .expect("Pendulum's action bounds are valid");
        let mut env = Self {
            state: [0.0; 2],
            g: 10.0,
            rng: rng(0),
            observation_space: Space::Box(observation),
            action_space: Space::Box(action),
        };
        env.reset(Some(0));
        env
    }

    /// The same world with gravity `g` (gymnasium's `g` argument); errors unless it is finite.
    pub fn with_gravity(mut self, g: f64) -> Result<Self> {
        if !g.is_finite() {
            return Err(Error::parameter("g", format!("{g} is not a finite number")));
        }
        self.g = g;
        Ok(self)
    }

    /// Gravity.
    pub fn gravity(&self) -> f64 {
        self.g
    }

    fn observation(&self) -> Vec<f32> {
        let [theta, theta_dot] = self.state;
        vec![theta.cos() as f32, theta.sin() as f32, theta_dot as f32]
    }
}

/// `((x + π) mod 2π) − π` with numpy's remainder.
fn angle_normalize(x: f64) -> f64 {
    np_remainder(x + PI, 2.0 * PI) - PI
}

impl Env for Pendulum {
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
        let theta = uniform(&mut self.rng, -PI, PI);
        let theta_dot = uniform(&mut self.rng, -1.0, 1.0);
        self.state = [theta, theta_dot];
        (self.observation(), Info::new())
    }

    fn step(&mut self, action: &Action) -> Result<StepOutcome> {
        let u = scalar(ID, action, &self.action_space)?.clamp(-MAX_TORQUE, MAX_TORQUE);
        let [theta, theta_dot] = self.state;
        let control_cost = (0.001_f64 as f32) * powf2(u);
        let cost = pow2(angle_normalize(theta)) + 0.1 * pow2(theta_dot) + f64::from(control_cost);
        let gravity_term = 3.0 * self.g / (2.0 * LENGTH) * theta.sin();
        let torque_term = (3.0 / (MASS * LENGTH * LENGTH)) as f32 * u;
        let new_theta_dot =
            (theta_dot + (gravity_term + f64::from(torque_term)) * DT).clamp(-MAX_SPEED, MAX_SPEED);
        let new_theta = theta + new_theta_dot * DT;
        self.state = [new_theta, new_theta_dot];
        Ok(StepOutcome::new(self.observation(), -cost, false))
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state = check_state::<2>(ID, state)?;
        Ok(())
    }
}
