//! Generates the D4RL-style data sets for one world with its preset and prints the summary:
//! `cargo run -p choicelab-nn --example datagen -- Pendulum-v1 [agent_steps] [seed]`.

use choicelab_envs::classic_control::make;
use choicelab_nn::{DatagenParams, LEVELS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let env_id = args.get(1).map_or("Pendulum-v1", String::as_str);
    let seed = args.get(3).map_or(Ok(0), |s| s.parse())?;
    let mut params = DatagenParams::preset(env_id, seed).ok_or("no preset for this world")?;
    if let Some(steps) = args.get(2) {
        params.agent.total_steps = steps.parse()?;
    }
    let (mut env, mut eval) = (make(env_id)?, make(env_id)?);
    let start = std::time::Instant::now();
    let suite = params.generate(env.as_mut(), eval.as_mut(), |p| {
        println!(
            "{:>7} steps {:>7.1} s  return {:>9.2} ± {:.2}",
            p.step,
            start.elapsed().as_secs_f64(),
            p.eval_mean,
            p.eval_std
        );
        Ok(())
    })?;
    println!(
        "random {:.2}  expert {:.2}  medium {:?}  expert {:?}  ({:.1} s)",
        suite.ref_min_score,
        suite.ref_max_score,
        suite.medium,
        suite.expert,
        start.elapsed().as_secs_f64()
    );
    for (level, d) in LEVELS.iter().zip(&suite.datasets) {
        let mean =
            d.episodes.iter().map(|e| e.total_reward()).sum::<f64>() / d.episodes.len() as f64;
        println!(
            "{level:<14} {:>5} episodes {:>7} steps  mean return {mean:>9.2}  score {:>6.1}",
            d.metadata.total_episodes,
            d.metadata.total_steps,
            d.normalized_score(mean)?
        );
    }
    Ok(())
}
