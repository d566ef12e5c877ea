//! `choicelab env rollout`: step a classic-control world from a given internal state through a
//! file of actions.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use choicelab_core::env::{Action, Env, Space};
use choicelab_envs::classic_control::{make, WORLDS};
use clap::{Args, Subcommand};

/// `choicelab env` subcommands.
#[derive(Subcommand)]
pub enum EnvCommand {
    /// Step a world from an internal state through a file of actions, one CSV row per step.
    Rollout(RolloutArgs),
    /// List the worlds with their step limits and spaces.
    List,
}

/// Arguments of `choicelab env rollout`.
#[derive(Args)]
pub struct RolloutArgs {
    /// The world: CartPole-v1, Pendulum-v1, MountainCarContinuous-v0 or Acrobot-v1 (with its
    /// gymnasium time limit).
    env: String,
    /// The internal state to start from, comma-separated (gymnasium's `env.unwrapped.state`,
    /// taken as a float64 state as after a reset).
    #[arg(long, value_name = "X1,X2,...", allow_hyphen_values = true)]
    init_state: String,
    /// Actions, one per line: a discrete index, or comma-separated values for a box (rounded
    /// to float32). Blank lines and lines starting with `#` are skipped.
    #[arg(long, value_name = "FILE")]
    actions: PathBuf,
    /// Write the CSV here instead of stdout.
    #[arg(long, value_name = "FILE.csv")]
    out: Option<PathBuf>,
}

/// Runs `choicelab env ...`.
pub fn env(command: EnvCommand) -> anyhow::Result<()> {
    match command {
        EnvCommand::Rollout(args) => rollout(&args),
        EnvCommand::List => {
            for (id, limit) in WORLDS {
                let env = make(id)?;
                crate::output::out!(
                    "{id:<26} limit {limit:>4}  actions {}  observations {}",
                    env.action_space(),
                    env.observation_space()
                );
            }
            Ok(())
        }
    }
}

/// Steps the world through the actions and writes `s0,...,reward,terminated,truncated` rows.
/// The rollout never resets: actions after the end of an episode step on as gymnasium would.
fn rollout(args: &RolloutArgs) -> anyhow::Result<()> {
    let mut env = make(&args.env)?;
    let state = parse_state(&args.init_state)?;
    env.set_state(&state).context("--init-state")?;
    let actions = read_actions(&args.actions, env.action_space())?;
    let width = state.len();
    let mut text = String::with_capacity(64 * (actions.len() + 1));
    let header: Vec<String> = (0..width).map(|i| format!("s{i}")).collect();
    text.push_str(&format!(
        "{},reward,terminated,truncated\n",
        header.join(",")
    ));
    for (line, action) in &actions {
        let step = env
            .step(action)
            .with_context(|| format!("{}:{line}", args.actions.display()))?;
        for value in env.state() {
            text.push_str(&format!("{value},"));
        }
        text.push_str(&format!(
            "{},{},{}\n",
            step.reward,
            u8::from(step.terminated),
            u8::from(step.truncated)
        ));
    }
    match &args.out {
        Some(path) => write_file(path, &text),
        None => crate::output::print(&text),
    }
}

/// The comma-separated float64 values of `--init-state`.
fn parse_state(text: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .enumerate()
        .map(|(i, field)| {
            let field = field.trim();
            field
                .parse::<f64>()
                .map_err(|_| anyhow!("--init-state: value {} `{field}` is not a number", i + 1))
        })
        .collect()
}

/// The actions of `path` with their 1-based line numbers, parsed for `space`; errors name the
/// file, the line and the field.
fn read_actions(path: &Path, space: &Space) -> anyhow::Result<Vec<(usize, Action)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading actions from {}", path.display()))?;
    let mut actions = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let at = |field: &str| format!("{}:{line}: field `{field}`", path.display());
        let action = match space {
            Space::Discrete(n) => {
                let index = content.parse::<usize>().map_err(|_| {
                    anyhow!(
                        "{}: `{content}` is not an action index (0..{n})",
                        at("action")
                    )
                })?;
                Action::Discrete(index)
            }
            Space::Box(_) => {
                let values = content
                    .split(',')
                    .enumerate()
                    .map(|(k, field)| {
                        let field = field.trim();
                        field.parse::<f32>().map_err(|_| {
                            anyhow!("{}: `{field}` is not a number", at(&format!("action[{k}]")))
                        })
                    })
                    .collect::<anyhow::Result<Vec<f32>>>()?;
                Action::Continuous(values)
            }
        };
        if let Some(why) = space.why_not(&action) {
            return Err(anyhow!("{}: action {action}: {why}", at("action")));
        }
        actions.push((line, action));
    }
    Ok(actions)
}

/// Writes `text` to `path`.
fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    writer
        .write_all(text.as_bytes())
        .and_then(|()| writer.flush())
        .with_context(|| format!("writing {}", path.display()))
}
