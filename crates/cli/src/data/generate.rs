//! `choicelab data generate`: train an online TD3 agent in a world and write D4RL-style random,
//! medium, medium-replay, expert and medium-expert data sets as Parquet.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use choicelab_envs::classic_control::make;
use choicelab_nn::datagen::env_short_name;
use choicelab_nn::{DatagenParams, LEVELS};
use clap::Args;

/// Arguments of `choicelab data generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// The world: Pendulum-v1 or MountainCarContinuous-v0 (any world with a box of actions
    /// works with `--params`).
    env: String,
    /// Folder to write `<env>/<level>-v0.parquet` and `<env>/curve.csv` into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Seed of the agent, the recordings and the world's resets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Environment steps of the online agent (overrides the preset).
    #[arg(long, value_name = "N")]
    agent_steps: Option<usize>,
    /// Steps recorded for random, medium and expert (overrides the preset).
    #[arg(long, value_name = "N")]
    dataset_steps: Option<usize>,
    /// All generation settings as JSON (`DatagenParams`; missing keys take the defaults),
    /// instead of the world's preset.
    #[arg(long, value_name = "FILE.json")]
    params: Option<PathBuf>,
}

/// Runs `choicelab data generate`.
pub fn generate(args: &GenerateArgs, quiet: bool) -> anyhow::Result<()> {
    let mut params = match &args.params {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut reader = serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize::<_, DatagenParams>(&mut reader).map_err(|e| {
                anyhow!(
                    "{}: field `{}`: {}",
                    path.display(),
                    e.path(),
                    e.inner()
                )
            })?
        }
        None => DatagenParams::preset(&args.env, args.seed).ok_or_else(|| {
            anyhow!(
                "no preset for `{}` (presets: Pendulum-v1, MountainCarContinuous-v0); pass --params",
                args.env
            )
        })?,
    };
    params.agent.seed = args.seed;
    if let Some(n) = args.agent_steps {
        params.agent.total_steps = n;
    }
    if let Some(n) = args.dataset_steps {
        params.dataset_steps = n;
    }
    let (mut env, mut eval_env) = (make(&args.env)?, make(&args.env)?);
    let mut curve = String::from("step,episodes,eval_mean,eval_std,critic_loss,actor_loss\n");
    let suite = params.generate(env.as_mut(), eval_env.as_mut(), |p| {
        if !quiet {
            eprintln!(
                "step {:>8}  return {:>9.2} ± {:<8.2} critic {:.4}",
                p.step, p.eval_mean, p.eval_std, p.critic_loss
            );
        }
        curve.push_str(&format!(
            "{},{},{},{},{},{}\n",
            p.step, p.episodes, p.eval_mean, p.eval_std, p.critic_loss, p.actor_loss
        ));
        Ok(())
    })?;
    let dir = args.out.join(env_short_name(&suite.env_id));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (level, data) in LEVELS.iter().zip(&suite.datasets) {
        let path = dir.join(format!("{level}-v0.parquet"));
        data.write_parquet(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let curve_path = dir.join("curve.csv");
    std::fs::write(&curve_path, curve)
        .with_context(|| format!("writing {}", curve_path.display()))?;
    let summary = serde_json::json!({
        "env": suite.env_id,
        "ref_min_score": suite.ref_min_score,
        "ref_max_score": suite.ref_max_score,
        "medium": { "step": suite.medium.0, "eval_return": suite.medium.1 },
        "expert": { "step": suite.expert.0, "eval_return": suite.expert.1 },
        "attempts": suite.attempts.iter().map(|(seed, best)| serde_json::json!({
            "seed": seed, "best_eval_return": best,
        })).collect::<Vec<_>>(),
        "datasets": LEVELS.iter().zip(&suite.datasets).map(|(level, d)| serde_json::json!({
            "level": level,
            "episodes": d.metadata.total_episodes,
            "steps": d.metadata.total_steps,
        })).collect::<Vec<_>>(),
        "out": dir.display().to_string(),
    });
    crate::output::out!("{summary}");
    Ok(())
}
