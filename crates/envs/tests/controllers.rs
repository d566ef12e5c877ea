//! Simple controllers on the classic-control worlds against SYSTEMS.md's references ("Offline
//! data sets the D4RL way": gymnasium 1.4.0, 100 episodes from reset seeds 0 to 99, mean with
//! population sd). They bound a usable expert from below, and they exercise the dynamics far
//! from the random policy's states. Our resets come from another generator, so we run 1,000
//! episodes and the means agree within sampling noise (four standard errors of the difference,
//! the reference's 100 episodes included), not exactly.

use choicelab_core::env::{Action, Env};
use choicelab_envs::classic_control::make;

/// Episodes we run per world.
const EPISODES: u64 = 1000;

/// The returns of `policy` over episodes from reset seeds 0 to `EPISODES` − 1.
fn returns(world: &str, policy: impl Fn(&[f32]) -> Action) -> Vec<f64> {
    let mut env = make(world).unwrap();
    (0..EPISODES)
        .map(|seed| {
            let (mut observation, _) = env.reset(Some(seed));
            let mut total = 0.0;
            loop {
                let step = env.step(&policy(&observation)).unwrap();
                total += step.reward;
                if step.done() {
                    return total;
                }
                observation = step.observation;
            }
        })
        .collect()
}

/// Our mean return is within four standard errors of the difference from the reference's
/// mean (population sd `sd` over 100 episodes).
fn assert_near(world: &str, returns: &[f64], mean: f64, sd: f64) {
    let n = returns.len() as f64;
    let ours = returns.iter().sum::<f64>() / n;
    let our_var = returns.iter().map(|r| (r - ours).powi(2)).sum::<f64>() / n;
    let slack = 4.0 * (sd * sd / 100.0 + our_var / n).sqrt();
    eprintln!("{world}: mean return {ours:.3} (reference {mean} ± {slack:.3})");
    assert!(
        (ours - mean).abs() <= slack,
        "{world}: mean return {ours}, reference {mean} ± {slack}"
    );
}

#[test]
fn cartpole_linear_rule_balances_every_episode() {
    // Push right if θ + 0.5 θ̇ + 0.1 ẋ + 0.01 x > 0: 500 every time.
    let returns = returns("CartPole-v1", |o| {
        let (x, x_dot, theta, theta_dot) = (o[0], o[1], o[2], o[3]);
        Action::Discrete(usize::from(
            theta + 0.5 * theta_dot + 0.1 * x_dot + 0.01 * x > 0.0,
        ))
    });
    assert!(returns.iter().all(|r| *r == 500.0));
}

#[test]
fn pendulum_energy_pumping_swings_up() {
    // u = 2 sign(θ̇) sign(15 − E), E = θ̇²/2 + 15 cos θ, then u = clip(−(10 θ + 2 θ̇), −2, 2)
    // once cos θ > 0.9: −144.8 (89.2).
    let returns = returns("Pendulum-v1", |o| {
        let (cos, sin, speed) = (f64::from(o[0]), f64::from(o[1]), f64::from(o[2]));
        let theta = sin.atan2(cos);
        let u = if cos > 0.9 {
            (-(10.0 * theta + 2.0 * speed)).clamp(-2.0, 2.0)
        } else {
            let energy = speed * speed / 2.0 + 15.0 * cos;
            2.0 * sign(speed) * sign(15.0 - energy)
        };
        Action::Continuous(vec![u as f32])
    });
    assert_near("Pendulum-v1", &returns, -144.8, 89.2);
}

#[test]
fn mountain_car_bang_bang_reaches_the_flag() {
    // a = +1 if v ≥ 0 else −1: 89.37 (0.13) in about 106 steps.
    let returns = returns("MountainCarContinuous-v0", |o| {
        Action::Continuous(vec![if o[1] >= 0.0 { 1.0 } else { -1.0 }])
    });
    assert_near("MountainCarContinuous-v0", &returns, 89.37, 0.13);
}

#[test]
fn acrobot_follows_the_second_joint() {
    // Torque +1 (action 2) if θ̇₂ > 0 else −1 (action 0): −84.35 (24.3).
    let returns = returns("Acrobot-v1", |o| {
        Action::Discrete(if o[5] > 0.0 { 2 } else { 0 })
    });
    assert_near("Acrobot-v1", &returns, -84.35, 24.3);
}

/// numpy's sign: −1, 0 or +1.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}
