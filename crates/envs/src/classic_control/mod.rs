//! Gymnasium's classic-control worlds, step for step: [`CartPole`] (CartPole-v1), [`Pendulum`]
//! (Pendulum-v1), [`MountainCarContinuous`] (MountainCarContinuous-v0) and [`Acrobot`]
//! (Acrobot-v1), as in gymnasium 1.4.0 with numpy 2.
//!
//! Each world implements [`Env`]; [`make`] wraps one in the [`TimeLimit`] gymnasium's `make`
//! adds (500, 200, 999 and 500 steps). Given the same internal state and actions, the worlds
//! reproduce gymnasium's states and rewards bit for bit on Linux with glibc's libm (the replay
//! tests check 1e-10, 1e-6 for MountainCarContinuous), including numpy's float32 rounding where
//! gymnasium mixes float32 actions or states into float64 arithmetic.
//!
//! Resets do **not** reproduce gymnasium's: gymnasium draws reset states from numpy's PCG64
//! generator, which choicelab does not reimplement; ours draw the same distributions from
//! choicelab's seeded ChaCha8 stream ([`choicelab_core::rng`]). To follow a gymnasium trajectory,
//! copy its reset state (`env.unwrapped.state`) into [`Env::set_state`]. A new world starts
//! reset with seed 0.
//!
//! ```
//! use choicelab_core::env::{Action, Env};
//! use choicelab_envs::classic_control::make;
//!
//! let mut env = make("CartPole-v1")?;
//! env.set_state(&[0.0, 0.0, 0.01, 0.0])?;
//! let step = env.step(&Action::Discrete(1))?;
//! assert_eq!(step.reward, 1.0);
//! assert!(env.step(&Action::Discrete(2)).is_err());
//! # Ok::<(), choicelab_core::Error>(())
//! ```

mod acrobot;
mod cartpole;
mod mountain_car;
mod pendulum;

pub use acrobot::Acrobot;
pub use cartpole::{CartPole, Integrator};
pub use mountain_car::MountainCarContinuous;
pub use pendulum::Pendulum;

use choicelab_core::env::{Action, Env, Space, TimeLimit};
use choicelab_core::{Error, Location, Result, Rng};
use rand::RngExt;

/// The registered worlds: name and the step limit `make` applies.
pub const WORLDS: [(&str, usize); 4] = [
    ("CartPole-v1", 500),
    ("Pendulum-v1", 200),
    ("MountainCarContinuous-v0", 999),
    ("Acrobot-v1", 500),
];

/// A boxed world, as [`make`] returns it.
pub type BoxedEnv = Box<dyn Env + Send>;

/// The world called `name` with gymnasium's default settings, wrapped in its [`TimeLimit`]
/// (see [`WORLDS`]); errors on an unknown name.
pub fn make(name: &str) -> Result<BoxedEnv> {
    let limit = WORLDS
        .iter()
        .find(|(id, _)| *id == name)
        .map(|(_, limit)| *limit)
        .ok_or_else(|| {
            let known: Vec<&str> = WORLDS.iter().map(|(id, _)| *id).collect();
            Error::parameter(
                "env",
                format!("unknown world `{name}` (known: {})", known.join(", ")),
            )
        })?;
    Ok(match name {
        "CartPole-v1" => Box::new(TimeLimit::new(CartPole::new(), limit)),
        "Pendulum-v1" => Box::new(TimeLimit::new(Pendulum::new(), limit)),
        "MountainCarContinuous-v0" => Box::new(TimeLimit::new(MountainCarContinuous::new(), limit)),
        _ => Box::new(TimeLimit::new(Acrobot::new(), limit)),
    })
}

/// libm's `pow(x, 2)`, which numpy's float64 scalar `x ** 2` calls; it differs from `x * x` by
/// one ulp for about 0.1% of arguments. The exponent goes through `black_box` so the compiler
/// cannot fold the call into `x * x`.
#[inline]
pub(crate) fn pow2(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// libm's `powf(x, 2)`, numpy's float32 scalar `x ** 2` (see [`pow2`]).
#[inline]
pub(crate) fn powf2(x: f32) -> f32 {
    x.powf(std::hint::black_box(2.0))
}

/// numpy's float64 `a % b` (`np.remainder`): C's `fmod`, moved by `b` when its sign differs
/// from `b`'s, and a zero carrying `b`'s sign.
#[inline]
pub(crate) fn np_remainder(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m == 0.0 {
        0.0_f64.copysign(b)
    } else if (b < 0.0) != (m < 0.0) {
        m + b
    } else {
        m
    }
}

/// A draw from Uniform[low, high) as numpy computes it from a unit draw: `low + (high − low) u`.
#[inline]
pub(crate) fn uniform(rng: &mut Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// Checks that `state` has `N` finite values and returns them.
pub(crate) fn check_state<const N: usize>(id: &str, state: &[f64]) -> Result<[f64; N]> {
    let at = || Location::new(id).field("state");
    let values: [f64; N] = state.try_into().map_err(|_| {
        Error::invalid(
            at(),
            format!("{id} has {N} state values, {} were given", state.len()),
        )
    })?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            at(),
            format!("state value {i} is {}, not a finite number", values[i]),
        ));
    }
    Ok(values)
}

/// The index of a discrete action, checked against the world's `Discrete` space.
pub(crate) fn discrete(id: &str, action: &Action, space: &Space) -> Result<usize> {
    space.check(action, id)?;
    match action {
        Action::Discrete(i) => Ok(*i),
        Action::Continuous(_) => Err(wrong_kind(id, action, space)),
    }
}

/// The single value of a one-dimensional continuous action, checked against the world's box.
pub(crate) fn scalar(id: &str, action: &Action, space: &Space) -> Result<f32> {
    space.check(action, id)?;
    match action {
        Action::Continuous(values) if values.len() == 1 => Ok(values[0]),
        _ => Err(wrong_kind(id, action, space)),
    }
}

/// The error for an action of the wrong kind (only reached if a space is misdeclared).
fn wrong_kind(id: &str, action: &Action, space: &Space) -> Error {
    Error::invalid(
        Location::new(id).field("action"),
        format!("action {action} does not fit {space}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainder_follows_numpy() {
        let two_pi = 2.0 * std::f64::consts::PI;
        assert_eq!(np_remainder(-1.0, two_pi), -1.0 + two_pi);
        assert_eq!(np_remainder(1.0, two_pi), 1.0);
        assert!(np_remainder(-0.0, two_pi).is_sign_positive());
        assert_eq!(np_remainder(7.0, -2.0), -1.0);
    }

    #[test]
    fn make_knows_the_four_worlds() {
        for (id, _) in WORLDS {
            assert_eq!(make(id).unwrap().id(), id);
        }
        let e = make("LunarLander-v3").err().expect("unknown").to_string();
        assert!(e.contains("unknown world `LunarLander-v3`"), "{e}");
    }
}
