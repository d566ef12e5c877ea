//! MountainCarContinuous-v0: drive an underpowered car up a hill with a continuous throttle
//! (Moore 1990; gymnasium's `Continuous_MountainCarEnv`).

use choicelab_core::env::{Action, BoxSpace, Env, Info, Space, StepOutcome};
use choicelab_core::{rng, Result, Rng};

use super::{check_state, pow2, scalar, uniform};

const ID: &str = "MountainCarContinuous-v0";
const MIN_ACTION: f32 = -1.0;
const MAX_ACTION: f32 = 1.0;
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.45;
const POWER: f64 = 0.0015;

/// MountainCarContinuous-v0. State `[position, velocity]`; action a force in [−1, 1]; the
/// episode terminates at position ≥ 0.45 with velocity ≥ 0. Reward 100 at the goal minus
/// 0.1 a² (on the raw action). Reset draws the position from U(−0.6, −0.4), velocity 0.
///
/// Float rules: gymnasium stores the state as float32 after every step while the reset state
/// (and a state given to [`Env::set_state`]) is float64, and numpy 2 keeps float32 when a
/// float32 value meets a Python float. So a step from a float32 state runs in float32 except
/// `0.0025 cos(3x)`, which is float64 and rounded once; a step from a float64 state adds the
/// float32 increment to float64 values and rounds at the store. [`state`](Env::state) widens
/// the stored values exactly.
#[derive(Debug, Clone)]
pub struct MountainCarContinuous {
    position: f64,
    velocity: f64,
    /// Whether the state is stored as float32 (after a step) rather than float64.
    float32_state: bool,
    rng: Rng,
    observation_space: Space,
    action_space: Space,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCarContinuous {
    /// The world with gymnasium's defaults, reset with seed 0.
    pub fn new() -> Self {
        let observation = BoxSpace::new(
            vec![MIN_POSITION as f32, -MAX_SPEED as f32],
            vec![MAX_POSITION as f32, MAX_SPEED as f32],
            vec![2],
        )
        .expect("MountainCar's observation bounds are valid");
        let action = BoxSpace::uniform(MIN_ACTION, MAX_ACTION, 1)
            .expect("MountainCar's action bounds are valid");
        let mut env = Self {
            position: 0.0,
            velocity: 0.0,
            float32_state: false,
            rng: rng(0),
            observation_space: Space::Box(observation),
            action_space: Space::Box(action),
        };
        env.reset(Some(0));
        env
    }

    /// Sets a state stored as float32, as gymnasium holds it after a step (for replaying from
    /// the middle of an episode); errors on a wrong width or a non-finite value.
    pub fn set_state_f32(&mut self, state: &[f32]) -> Result<()> {
        let wide: Vec<f64> = state.iter().map(|v| f64::from(*v)).collect();
        let [position, velocity] = check_state::<2>(ID, &wide)?;
        self.position = position;
        self.velocity = velocity;
        self.float32_state = true;
        Ok(())
    }

    /// Whether the state is stored as float32 (after a step) rather than float64.
    pub fn is_float32_state(&self) -> bool {
        self.float32_state
    }

    fn observation(&self) -> Vec<f32> {
        vec![self.position as f32, self.velocity as f32]
    }

    /// `0.0025 cos(3x)` in float64, with `3x` in the state's precision.
    fn hill(&self) -> f64 {
        let three_x = if self.float32_state {
            f64::from(3.0 * self.position as f32)
        } else {
            3.0 * self.position
        };
        0.0025 * three_x.cos()
    }

    /// One step under force `a` (clipped to [−1, 1] for the dynamics, raw in the reward, as
    /// gymnasium does; `step` only lets actions of the box through): the reward and whether
    /// the goal is reached.
    fn advance(&mut self, a: f32) -> (f64, bool) {
        let (position, velocity, goal) = if self.float32_state {
            self.step_f32(a)
        } else {
            let (x, v, goal) = self.step_f64(a);
            (x as f32, v as f32, goal)
        };
        self.position = f64::from(position);
        self.velocity = f64::from(velocity);
        self.float32_state = true;
        let bonus = if goal { 100.0 } else { 0.0 };
        (bonus - pow2(f64::from(a)) * 0.1, goal)
    }

    /// One step from a float32 state: the new position and velocity (float32), and whether the
    /// goal is reached.
    fn step_f32(&self, a: f32) -> (f32, f32, bool) {
        let c = self.hill();
        // An action inside the box is a float32 force; a clipped one a float64 ±1.
        let increment = if (MIN_ACTION..=MAX_ACTION).contains(&a) {
            a * POWER as f32 - c as f32
        } else {
            (f64::from(a.clamp(MIN_ACTION, MAX_ACTION)) * POWER - c) as f32
        };
        let max_speed = MAX_SPEED as f32;
        let mut velocity = (self.velocity as f32 + increment).clamp(-max_speed, max_speed);
        let position =
            (self.position as f32 + velocity).clamp(MIN_POSITION as f32, MAX_POSITION as f32);
        if position == MIN_POSITION as f32 && velocity < 0.0 {
            velocity = 0.0;
        }
        let goal = position >= GOAL_POSITION as f32 && velocity >= 0.0;
        (position, velocity, goal)
    }

    /// One step from a float64 state (the first after a reset), in float64.
    fn step_f64(&self, a: f32) -> (f64, f64, bool) {
        let c = self.hill();
        let increment = if (MIN_ACTION..=MAX_ACTION).contains(&a) {
            f64::from(a * POWER as f32 - c as f32)
        } else {
            f64::from(a.clamp(MIN_ACTION, MAX_ACTION)) * POWER - c
        };
        let mut velocity = (self.velocity + increment).clamp(-MAX_SPEED, MAX_SPEED);
        let position = (self.position + velocity).clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let goal = position >= GOAL_POSITION && velocity >= 0.0;
        (position, velocity, goal)
    }
}

impl Env for MountainCarContinuous {
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
        self.position = uniform(&mut self.rng, -0.6, -0.4);
        self.velocity = 0.0;
        self.float32_state = false;
        (self.observation(), Info::new())
    }

    fn step(&mut self, action: &Action) -> Result<StepOutcome> {
        let a = scalar(ID, action, &self.action_space)?;
        let (reward, goal) = self.advance(a);
        Ok(StepOutcome::new(self.observation(), reward, goal))
    }

    fn state(&self) -> Vec<f64> {
        vec![self.position, self.velocity]
    }

    fn set_state(&mut self, state: &[f64]) -> Result<()> {
        let [position, velocity] = check_state::<2>(ID, state)?;
        self.position = position;
        self.velocity = velocity;
        self.float32_state = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forces outside [−1, 1] (which `step` rejects) follow gymnasium's clipped arithmetic: the
    /// force becomes a float64 ±1. Reference: gymnasium 1.4.0, numpy 2.4.6, the unwrapped
    /// world from `reset(seed=7)` stepped with float32 actions 1.5, −2, 0.3, 3, −1.
    #[test]
    fn clipped_forces_match_gymnasium() {
        let mut env = MountainCarContinuous::new();
        env.set_state(&[-0.4749809066790666, 0.0]).unwrap();
        let want = [
            (1.5, -0.4738442599773407, 0.0011366574326530099, -0.225),
            (-2.0, -0.4745793640613556, -0.0007351173553615808, -0.4),
            (
                0.3,
                -0.4752308130264282,
                -0.0006514391861855984,
                -0.009000000715255752,
            ),
            (3.0, -0.4747437536716461, 0.0004870727425441146, -0.9),
            (-1.0, -0.47612178325653076, -0.0013780294684693217, -0.1),
        ];
        for (a, x, v, r) in want {
            let (reward, goal) = env.advance(a);
            assert_eq!((env.position, env.velocity, reward, goal), (x, v, r, false));
        }
    }
}
