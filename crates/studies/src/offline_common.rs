//! What the offline RL studies share: generated data sets, the four learners behind one
//! switch, and training runs scored by D4RL's normalised score in the world itself.

use std::sync::{Arc, Mutex};

use choicelab_core::env::Env;
use choicelab_core::episodes::Episodes;
use choicelab_core::{Error, Result, Seed};
use choicelab_envs::classic_control::make;
use choicelab_nn::rollout::symmetric_action_box;
use choicelab_nn::{
    evaluate, ActorModel, BcParams, CqlParams, DatagenParams, IqlParams, Progress, Suite,
    Td3BcParams, LEVELS,
};
use serde::{Deserialize, Serialize};

use crate::plot::Series;

/// The offline learners the studies compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// Behaviour cloning.
    Bc,
    /// TD3+BC.
    Td3Bc,
    /// Implicit Q-learning.
    Iql,
    /// Conservative Q-learning.
    Cql,
}

impl Algorithm {
    /// The metric and configuration name.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Algorithm::Bc => "bc",
            Algorithm::Td3Bc => "td3bc",
            Algorithm::Iql => "iql",
            Algorithm::Cql => "cql",
        }
    }

    /// The algorithm called `name` (`bc`, `td3bc`, `iql`, `cql`).
    pub(crate) fn parse(name: &str) -> Result<Self> {
        [
            Algorithm::Bc,
            Algorithm::Td3Bc,
            Algorithm::Iql,
            Algorithm::Cql,
        ]
        .into_iter()
        .find(|a| a.key() == name)
        .ok_or_else(|| {
            Error::parameter(
                "algorithms",
                format!("unknown algorithm `{name}` (known: bc, td3bc, iql, cql)"),
            )
        })
    }
}

/// Checks what both offline studies configure the same way (known levels, at least one seed)
/// and returns the learners named in `algorithms`.
pub(crate) fn check_common(
    levels: &[String],
    algorithms: &[String],
    seeds: usize,
) -> Result<Vec<Algorithm>> {
    if let Some(level) = levels.iter().find(|l| !LEVELS.contains(&l.as_str())) {
        return Err(Error::parameter(
            "levels",
            format!("unknown level `{level}` (known: {})", LEVELS.join(", ")),
        ));
    }
    if seeds == 0 {
        return Err(Error::parameter("seeds", "must be positive"));
    }
    algorithms.iter().map(|a| Algorithm::parse(a)).collect()
}

/// How every offline learner is sized and evaluated (the rest are CORL's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerSettings {
    /// Hidden widths of every network (CORL: 256, 256; CQL: 256, 256, 256).
    pub hidden: Vec<usize>,
    /// Minibatch size.
    pub batch_size: usize,
    /// Gradient steps per run.
    pub steps: usize,
    /// Evaluation every this many steps (the learning curve).
    pub eval_every: usize,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
}

/// How the data sets are generated for each world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    /// Online TD3 steps (0 keeps the world's preset: Pendulum 20,000, MountainCar 50,000).
    pub agent_steps: usize,
    /// Steps recorded for random, medium and expert.
    pub dataset_steps: usize,
    /// Episodes behind each reference return.
    pub reference_episodes: usize,
}

/// Generated suites by world, settings and seed. Generation is a pure function of these, so
/// studies run in one process (the tour runs `offline-rl` and `ssorl`) share one generation.
static SUITES: Mutex<Vec<CachedSuite>> = Mutex::new(Vec::new());

/// A generated suite with the world, settings and seed it came from.
type CachedSuite = (String, DataSettings, Seed, Arc<Suite>);

/// The five data sets of `env_id` from its preset (see [`DatagenParams::preset`]), sized by
/// `settings`: generated, or the earlier generation with the same arguments in this process.
pub(crate) fn generate_suite(
    env_id: &str,
    settings: &DataSettings,
    seed: Seed,
) -> Result<Arc<Suite>> {
    let cached = |suites: &[CachedSuite]| {
        suites
            .iter()
            .find(|(e, d, s, _)| e == env_id && d == settings && *s == seed)
            .map(|(_, _, _, suite)| Arc::clone(suite))
    };
    if let Some(suite) = cached(&SUITES.lock().unwrap_or_else(|p| p.into_inner())) {
        return Ok(suite);
    }
    let suite = Arc::new(generate_uncached(env_id, settings, seed)?);
    let mut suites = SUITES.lock().unwrap_or_else(|p| p.into_inner());
    if cached(&suites).is_none() {
        suites.push((
            env_id.to_string(),
            settings.clone(),
            seed,
            Arc::clone(&suite),
        ));
    }
    Ok(suite)
}

fn generate_uncached(env_id: &str, settings: &DataSettings, seed: Seed) -> Result<Suite> {
    let mut params = DatagenParams::preset(env_id, seed).ok_or_else(|| {
        Error::parameter(
            "envs",
            format!(
                "no data-generation preset for `{env_id}` (Pendulum-v1, MountainCarContinuous-v0)"
            ),
        )
    })?;
    if settings.agent_steps > 0 {
        params.agent.total_steps = settings.agent_steps;
        params.agent.learning_starts = params.agent.learning_starts.min(settings.agent_steps / 2);
        params.agent.eval_every = params.agent.eval_every.min(settings.agent_steps / 4).max(1);
    }
    params.dataset_steps = settings.dataset_steps;
    params.reference_episodes = settings.reference_episodes;
    let (mut env, mut eval_env) = (make(env_id)?, make(env_id)?);
    params
        .generate(env.as_mut(), eval_env.as_mut(), |_| Ok(()))
        .map_err(|e| nn_error(env_id, e))
}

/// The bound `m` of the world's action box `[-m, m]`.
pub(crate) fn action_bound(env: &dyn Env) -> Result<f64> {
    symmetric_action_box(env)
        .map(|(_, bound)| bound)
        .map_err(|e| nn_error(env.id(), e))
}

/// One training run's normalised scores at every evaluation: `(step, score)`.
pub(crate) type ScoreCurve = Vec<(usize, f64)>;

/// Trains `algorithm` on `data` and scores the policy in `env_id` every `eval_every` steps
/// with D4RL's normalised score (the data set's reference returns).
pub(crate) fn train_scored(
    algorithm: Algorithm,
    data: &Episodes,
    env_id: &str,
    settings: &LearnerSettings,
    seed: Seed,
) -> Result<ScoreCurve> {
    let transitions = data.transitions()?;
    let mut env = make(env_id)?;
    let max_action = action_bound(env.as_ref())?;
    let eval_seed = seed.wrapping_add(7_000_000);
    let mut curve = Vec::new();
    let mut hook = |p: &Progress, model: &ActorModel| -> choicelab_nn::Result<()> {
        let returns = evaluate(model, env.as_mut(), settings.eval_episodes, eval_seed)?;
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        curve.push((p.step, data.normalized_score(mean)?));
        Ok(())
    };
    let (hidden, batch_size, steps, eval_every) = (
        settings.hidden.clone(),
        settings.batch_size,
        settings.steps,
        settings.eval_every,
    );
    let outcome = match algorithm {
        Algorithm::Bc => BcParams {
            hidden,
            batch_size,
            steps,
            eval_every,
            max_action,
            seed,
            ..BcParams::default()
        }
        .fit_with(&transitions, &mut hook)
        .map(|_| ()),
        Algorithm::Td3Bc => Td3BcParams {
            hidden,
            batch_size,
            steps,
            eval_every,
            max_action,
            seed,
            ..Td3BcParams::default()
        }
        .fit_with(&transitions, &mut hook)
        .map(|_| ()),
        Algorithm::Iql => IqlParams {
            hidden,
            batch_size,
            steps,
            eval_every,
            max_action,
            seed,
            ..IqlParams::default()
        }
        .fit_with(&transitions, &mut hook)
        .map(|_| ()),
        Algorithm::Cql => CqlParams {
            hidden,
            batch_size,
            steps,
            eval_every,
            max_action,
            seed,
            ..CqlParams::default()
        }
        .fit_with(&transitions, &mut hook)
        .map(|_| ()),
    };
    outcome.map_err(|e| nn_error(env_id, e))?;
    Ok(curve)
}

/// The score of a run: its last evaluation.
pub(crate) fn final_score(curve: &ScoreCurve) -> f64 {
    curve.last().map_or(f64::NAN, |(_, s)| *s)
}

/// The mean learning curve of several seeds' runs (same evaluation steps).
pub(crate) fn mean_curve(name: &str, runs: &[&ScoreCurve]) -> Series {
    let n = runs.len().max(1) as f64;
    let points = runs
        .first()
        .map(|first| {
            first
                .iter()
                .enumerate()
                .map(|(i, (step, _))| {
                    let sum: f64 = runs.iter().filter_map(|r| r.get(i)).map(|(_, s)| s).sum();
                    (*step as f64, sum / n)
                })
                .collect()
        })
        .unwrap_or_default();
    Series {
        name: name.to_string(),
        points,
    }
}

/// A choicelab-nn error as a study error that names the world.
pub(crate) fn nn_error(env_id: &str, e: choicelab_nn::Error) -> Error {
    match e {
        choicelab_nn::Error::Data(inner) => inner,
        other => Error::Numerical {
            context: format!("offline RL on {env_id}"),
            message: other.to_string(),
        },
    }
}
