//! TD3+BC gradient steps per second on synthetic data (CORL sizes: batch 256, 256×256).
//!
//! `cargo run --release -p choicelab-nn --example td3bc_throughput -- OBS ACT STEPS [--profile]`
//! prints `steps_per_s=…`; with `--profile` it also times the parts of one step.

use std::time::Instant;

use candle_core::{Tensor, D};
use candle_nn::Optimizer;
use choicelab_core::episodes::{TransitionActions, Transitions};
use choicelab_core::rng;
use choicelab_nn::mlp::{Ensemble, Output};
use choicelab_nn::td3bc::adam;
use choicelab_nn::{OfflineData, Td3BcLearner, Td3BcParams};
use rand::RngExt;

fn synthetic(n: usize, obs_dim: usize, action_dim: usize) -> Transitions {
    let mut r = rng(0);
    let mut u = |scale: f32| (r.random::<f32>() * 2.0 - 1.0) * scale;
    let observations = (0..n * obs_dim).map(|_| u(3.0)).collect();
    let next_observations = (0..n * obs_dim).map(|_| u(3.0)).collect();
    let values = (0..n * action_dim).map(|_| u(1.0)).collect();
    let rewards = (0..n).map(|_| u(1.0)).collect();
    let terminals = (0..n).map(|i| i % 200 == 199).collect();
    Transitions::new(
        obs_dim,
        observations,
        TransitionActions::Continuous {
            dim: action_dim,
            values,
        },
        rewards,
        next_observations,
        terminals,
        vec![false; n],
    )
    .expect("synthetic data are valid")
}

fn per_call(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64 * 1e3
}

fn profile(data: &Transitions, obs_dim: usize, action_dim: usize) -> choicelab_nn::Result<()> {
    let reps = 200;
    let offline = OfflineData::new(data, true, 1.0)?;
    let mut r = rng(1);
    let critics = Ensemble::new(
        2,
        &[obs_dim + action_dim, 256, 256, 1],
        Output::Identity,
        &mut r,
    )?;
    let targets = critics.detached_copy()?;
    let mut opt = adam(critics.vars(), 3e-4)?;
    let b = offline.sample(&mut r, 256)?;
    let x = Tensor::cat(&[&b.observations, &b.actions], D::Minus1)?;
    let y = b.rewards.clone();
    let loss = |c: &Ensemble| -> choicelab_nn::Result<Tensor> {
        let q = c.forward_all(&x)?;
        Ok((candle_nn::loss::mse(&q[0], &y)? + candle_nn::loss::mse(&q[1], &y)?)?)
    };
    let sample = per_call(reps, || {
        offline.sample(&mut r, 256).expect("sample");
    });
    let forward = per_call(reps, || {
        loss(&critics).expect("forward");
    });
    let backward = per_call(reps, || {
        loss(&critics)
            .expect("forward")
            .backward()
            .expect("backward");
    });
    let grads = loss(&critics)?.backward()?;
    let step = per_call(reps, || opt.step(&grads).expect("adam"));
    let polyak = per_call(reps, || {
        targets.soft_update(&critics, 0.005).expect("polyak")
    });
    let w = Tensor::ones(
        (256, 256),
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
    )?;
    let h = Tensor::ones(
        (256, 256),
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
    )?;
    let matmul = per_call(reps, || {
        h.matmul(&w.t().expect("t")).expect("matmul");
    });
    println!("profile_ms sample={sample:.3} critic_forward={forward:.3} critic_forward_backward={backward:.3} adam_step={step:.3} polyak={polyak:.3} matmul_256={matmul:.3}");
    Ok(())
}

fn main() -> choicelab_nn::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (obs_dim, action_dim, steps) = (arg(1, 17), arg(2, 6), arg(3, 1000));
    let data = synthetic(100_000, obs_dim, action_dim);
    let params = Td3BcParams {
        steps,
        ..Td3BcParams::default()
    };
    let mut learner = Td3BcLearner::new(params, &data)?;
    for _ in 0..20 {
        learner.train_step()?;
    }
    let t = Instant::now();
    for _ in 0..steps {
        learner.train_step()?;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "obs_dim={obs_dim} action_dim={action_dim} steps={steps} seconds={secs:.3} steps_per_s={:.1}",
        steps as f64 / secs
    );
    if args.iter().any(|a| a == "--profile") {
        profile(&data, obs_dim, action_dim)?;
    }
    Ok(())
}
