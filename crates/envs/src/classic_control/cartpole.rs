//! CartPole-v1: a pole hinged on a cart that is pushed left or right (Barto, Sutton and
//! Anderson 1983; gymnasium's `CartPoleEnv`).

use choicelab_core::env::{Action, BoxSpace, Env, Info, Space, StepOutcome};
use choicelab_core::{rng, Result, Rng};

use super::{check_state, discrete, uniform};

const ID: &str = "CartPole-v1";
const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
/// Half the pole's length.
const LENGTH: f64 = 0.5;
const POLEMASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
const TAU: f64 = 0.02;
/// 12 degrees, computed as gymnasium does.
const THETA_THRESHOLD: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;

/// How CartPole integrates its equations of motion over one step of 0.02 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Integrator {
    /// Explicit Euler, gymnasium's default: positions move with the old velocities.
    #[default]
    Euler,
    /// Semi-implicit Euler: velocities first, then positions with the new velocities.
    SemiImplicitEuler,
}

/// CartPole-v1. State `[x, x_dot, theta, theta_dot]` (float64); action 0 pushes the cart left
/// and 1 right with force 10; the episode terminates when |x| > 2.4 or |theta| > 12°. Reward 1
/// on every step including the terminating one, 0 on steps taken after termination (or, with
/// [`with_sutton_barto_reward`](CartPole::with_sutton_barto_reward), 0 per step and −1 from
/// termination on). Reset draws every state value from Uniform(−0.05, 0.05).
#[derive(Debug, Clone)]
pub struct CartPole {
    state: [f64; 4],
    steps_beyond_terminated: Option<u64>,
    sutton_barto_reward: bool,
    integrator: Integrator,
    rng: Rng,
    observation_space: Space,
    action_space: Space,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// CartPole with gymnasium's defaults, reset with seed 0.
    pub fn new() -> Self {
        let high = vec![
            (X_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
            (THETA_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
        ];
        let mut env = Self {
            state: [0.0; 4],
            steps_beyond_terminated: None,
            sutton_barto_reward: false,
            integrator: Integrator::Euler,
            rng: rng(0),
            observation_space: Space::Box(
                BoxSpace::symmetric(high).expect("CartPole's observation bounds are valid"),
            ),
            action_space: Space::Discrete(2),
        };
        env.reset(Some(0));
        env
    }

    /// The same world with gymnasium's `sutton_barto_reward` option.
    pub fn with_sutton_barto_reward(mut self, on: bool) -> Self {
        self.sutton_barto_reward = on;
        self
    }

    /// The same world with another integrator.
    pub fn with_integrator(mut self, integrator: Integrator) -> Self {
        self.integrator = integrator;
        self
    }

    fn observation(&self) -> Vec<f32> {
        self.state.iter().map(|v| *v as f32).collect()
    }
}

impl Env for CartPole {
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
            *v = uniform(&mut self.rng, -0.05, 0.05);
        }
        self.steps_beyond_terminated = None;
        (self.observation(), Info::new())
    }

    fn step(&mut self, action: &Action) -> Result<StepOutcome> {
        let push_right = discrete(ID, action, &self.action_space)? == 1;
        let [mut x, mut x_dot, mut theta, mut theta_dot] = self.state;
        let force = if push_right { FORCE_MAG } else { -FORCE_MAG };
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
        let thetaacc = (GRAVITY * sintheta - costheta * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS));
        let xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
        match self.integrator {
            Integrator::Euler => {
                x += TAU * x_dot;
                x_dot += TAU * xacc;
                theta += TAU * theta_dot;
                theta_dot += TAU * thetaacc;
            }
            Integrator::SemiImplicitEuler => {
                x_dot += TAU * xacc;
                x += TAU * x_dot;
                theta_dot += TAU * thetaacc;
                theta += TAU * theta_dot;
            }
        }
        self.state = [x, x_dot, theta, theta_dot];
        // gymnasium's four comparisons: a NaN state does not terminate (`contains` would).
        #[allow(clippy::manual_range_contains)]
        let terminated = x < -X_THRESHOLD
            || x > X_THRESHOLD
            || theta < -THETA_THRESHOLD
            || theta > THETA_THRESHOLD;
        let reward = if !terminated {
            if self.sutton_barto_reward {
                0.0
            } else {
                1.0
            }
        } else {
            let first = self.steps_beyond_terminated.is_none();
            *self.steps_beyond_terminated.get_or_insert(0) += u64::from(!first);
            match (self.sutton_barto_reward, first) {
                (true, _) => -1.0,
                (false, true) => 1.0,
                (false, false) => 0.0,
            }
        };
        Ok(StepOutcome::new(self.observation(), reward, terminated))
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        self.state = check_state::<4>(ID, state)?;
        self.steps_beyond_terminated = None;
        Ok(())
    }
}
