//! The inverse dynamics model (IDM) of SS-ORL (Zheng, Henaff, Amos and Grover, ICML 2023): a
//! diagonal Gaussian over the action `a_t` given the states `s_{t−k}, …, s_t, s_{t+1}`, trained
//! by negative log-likelihood on labelled episodes and used to write proxy actions into
//! action-free ones (see [`crate::ssorl`]).
//!
//! The paper's choices, read from the authors' code (facebookresearch/ssorl:
//! `config/config.yaml`, `model/mlp.py`, `data.py`, `inverse_model_seq.py`), which
//! [`IdmParams::default`] keeps:
//! context `k = 1`, so the input is `[s_{t−1}, s_t, s_{t+1}]` of width `3 · obs_dim`; window
//! positions before the first state of an episode hold the zero state (in raw units, then
//! normalised, as the reference pads); ReLU MLP 2 × 1024 with dropout 0.1; log-std clamped to
//! `[-5, 2]`; Adam at learning rate 1e-4 without weight decay; batches of 1,024; 100 gradient
//! steps; 10% of the labelled trajectories held out for validation; ensemble of one; proxy
//! labels are the predicted mean clipped to the action box.
//!
//! Where this module deviates (all small, recorded here):
//! - one network with `2 · action_dim` outputs (mean, then log-std) and a hard clamp of the
//!   log-std; the reference uses two networks, squashes actions with `tanh`, maps the log-std
//!   into `[-5, 2]` through `tanh`, and labels with `tanh(mean)`;
//! - dropout after every hidden layer (the reference has one dropout before the output layer),
//!   with masks from the seeded stream;
//! - torch's default `nn.Linear` initialisation (the reference: orthogonal weights, zero bias);
//! - batches drawn with replacement from the seeded stream (the reference: shuffled epochs);
//! - the normaliser is fitted on the training episodes' observations with eps 1e-3 (the
//!   reference: every observation of the data set, labelled or not, with eps 1e-6);
//! - the weights with the lowest validation NLL are returned; the reference tracks them too
//!   but, through a Python rebinding, goes on with the last weights;
//! - actions outside `±max_action` are rejected (the reference clamps them into the box).
//!
//! The 2 × 1024 network is the paper's; on a CPU a 2 × 256 one is the usual substitute.

use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use choicelab_core::episodes::{Actions, EpisodeData, Episodes};
use choicelab_core::{rng, Seed};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mlp::{Mlp, Output};
use crate::normalizer::Normalizer;
use crate::policy::gaussian_log_prob;
use crate::ssorl::draw_subset;
use crate::train::check_common;

/// Rows per forward pass when predicting or scoring many windows (bounds memory).
const CHUNK: usize = 4096;

/// IDM hyper-parameters; defaults are the paper's (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdmParams {
    /// Past states `k` in the window `s_{t−k}, …, s_t, s_{t+1}` (1).
    pub context: usize,
    /// Hidden widths (1024, 1024).
    pub hidden: Vec<usize>,
    /// Dropout probability after every hidden layer, training only (0.1).
    pub dropout: f64,
    /// Adam learning rate (1e-4).
    pub lr: f64,
    /// Decoupled (AdamW) weight decay (0: plain Adam, as in the paper).
    pub weight_decay: f64,
    /// Minibatch size (1,024).
    pub batch_size: usize,
    /// Gradient steps (100).
    pub steps: usize,
    /// Share of the labelled episodes held out for validation, rounded down (0.1).
    pub validation_share: f64,
    /// Learning-curve point and validation every this many steps (10).
    pub eval_every: usize,
    /// Normalise states with the training episodes' mean and std (on).
    pub normalize: bool,
    /// Action bound: actions lie in `[-max_action, max_action]`, labels are clipped to it (1).
    pub max_action: f64,
    /// Seed of the validation split, initialisation, batches and dropout masks.
    pub seed: Seed,
}

impl Default for IdmParams {
    fn default() -> Self {
        Self {
            context: 1,
            hidden: vec![1024, 1024],
            dropout: 0.1,
            lr: 1e-4,
            weight_decay: 0.0,
            batch_size: 1024,
            steps: 100,
            validation_share: 0.1,
            eval_every: 10,
            normalize: true,
            max_action: 1.0,
            seed: 0,
        }
    }
}

/// One point of the IDM's learning curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdmProgress {
    /// Gradient steps done so far.
    pub step: usize,
    /// Mean training NLL per step since the previous point (with dropout).
    pub train_nll: f64,
    /// NLL per held-out step without dropout (`NaN` when nothing is held out).
    pub validation_nll: f64,
}

/// Windows of states and their actions, normalised, as flat `f32` rows.
struct Windows {
    x: Vec<f32>,
    actions: Vec<f32>,
}

impl Windows {
    fn len(&self, action_dim: usize) -> usize {
        self.actions.len() / action_dim
    }
}

impl IdmParams {
    /// Rejects parameters outside their domains.
    pub fn check(&self) -> Result<()> {
        check_common(
            &self.hidden,
            self.batch_size,
            self.steps,
            self.eval_every,
            self.max_action,
            &[("lr", self.lr)],
        )?;
        let ranges = [
            ("dropout", self.dropout, 1.0),
            ("validation_share", self.validation_share, 1.0),
        ];
        for (name, v, hi) in ranges {
            if !(v.is_finite() && (0.0..hi).contains(&v)) {
                return Err(Error::parameter(name, format!("{v} is outside [0, {hi})")));
            }
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::parameter(
                "weight_decay",
                format!("{} is not ≥ 0", self.weight_decay),
            ));
        }
        Ok(())
    }

    /// Trains an IDM on labelled `episodes` (continuous actions within `±max_action`): holds
    /// out `⌊validation_share · N⌋` episodes, fits the normaliser on the rest, and returns the
    /// model with the lowest validation NLL (the last one when nothing is held out) with its
    /// learning curve.
    pub fn fit(&self, episodes: &Episodes) -> Result<(InverseDynamics, Vec<IdmProgress>)> {
        self.check()?;
        episodes.validate("<idm input>")?;
        let action_dim = continuous_action_dim(episodes)?;
        check_bounds(episodes, self.max_action)?;
        let obs_dim = episodes.observation_dim();
        let mut rng = rng(self.seed);
        let n = episodes.episodes.len();
        let n_val = (self.validation_share * n as f64).floor() as usize;
        let held_out = draw_subset(&mut rng, n, n_val);
        let (mut train, mut val) = (Vec::new(), Vec::new());
        for (i, e) in episodes.episodes.iter().enumerate() {
            if held_out.binary_search(&i).is_ok() {
                val.push(e);
            } else {
                train.push(e);
            }
        }
        let normalizer = if self.normalize {
            let rows: Vec<f32> = train
                .iter()
                .flat_map(|e| e.observations.iter().flatten().copied())
                .collect();
            Normalizer::fit(&rows, obs_dim, Normalizer::EPS)?
        } else {
            Normalizer::identity(obs_dim)
        };
        let window_dim = (self.context + 2) * obs_dim;
        let mut sizes = vec![window_dim];
        sizes.extend_from_slice(&self.hidden);
        sizes.push(2 * action_dim);
        let net = Mlp::new(&sizes, Output::Identity, &mut rng)?;
        let mut model = InverseDynamics {
            net,
            normalizer,
            context: self.context,
            max_action: self.max_action,
        };
        let train = model.windows(&train);
        let val = model.windows(&val);
        let mut opt = AdamW::new(
            model.net.vars(),
            ParamsAdamW {
                lr: self.lr,
                weight_decay: self.weight_decay,
                ..ParamsAdamW::default()
            },
        )?;
        let n_train = train.len(action_dim);
        let mut best: Option<(f64, Mlp)> = None;
        let mut curve = Vec::new();
        let (mut sum, mut count) = (0.0, 0usize);
        for step in 1..=self.steps {
            let idx: Vec<usize> = (0..self.batch_size)
                .map(|_| rng.random_range(0..n_train))
                .collect();
            let x = gather(&train.x, window_dim, &idx)?;
            let a = gather(&train.actions, action_dim, &idx)?;
            let out = model.net.forward_with_dropout(&x, self.dropout, &mut rng)?;
            let (mean, log_std) = split_head(&out, action_dim)?;
            let loss = gaussian_log_prob(&a, &mean, &log_std)?.mean_all()?.neg()?;
            opt.backward_step(&loss)?;
            let loss = f64::from(loss.to_scalar::<f32>()?);
            if !loss.is_finite() {
                return Err(Error::Diverged {
                    what: "IDM negative log-likelihood",
                    step,
                });
            }
            (sum, count) = (sum + loss, count + 1);
            if step % self.eval_every == 0 || step == self.steps {
                let validation_nll = if val.actions.is_empty() {
                    f64::NAN
                } else {
                    model.nll(&val)?
                };
                if validation_nll < best.as_ref().map_or(f64::INFINITY, |(b, _)| *b) {
                    best = Some((validation_nll, model.net.detached_copy()?));
                }
                curve.push(IdmProgress {
                    step,
                    train_nll: sum / count as f64,
                    validation_nll,
                });
                (sum, count) = (0.0, 0);
            }
        }
        if let Some((_, net)) = best {
            model.net = net;
        }
        Ok((model, curve))
    }
}

/// A trained IDM: the network, the state normaliser, the context and the action bound.
#[derive(Debug, Clone)]
pub struct InverseDynamics {
    net: Mlp,
    normalizer: Normalizer,
    context: usize,
    max_action: f64,
}

impl InverseDynamics {
    /// Lower clamp of the predicted log-std.
    pub const LOG_STD_MIN: f64 = -5.0;
    /// Upper clamp of the predicted log-std.
    pub const LOG_STD_MAX: f64 = 2.0;

    /// State width.
    pub fn obs_dim(&self) -> usize {
        self.normalizer.dim()
    }

    /// Action width.
    pub fn action_dim(&self) -> usize {
        self.net.output_dim() / 2
    }

    /// Past states `k` in each window.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Input width `(k + 2) · obs_dim`.
    pub fn window_dim(&self) -> usize {
        (self.context + 2) * self.obs_dim()
    }

    /// The action bound that labels are clipped to.
    pub fn max_action(&self) -> f64 {
        self.max_action
    }

    /// The state normaliser (identity when normalisation was off).
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// All weights flattened (for comparisons and tests).
    pub fn flat_parameters(&self) -> Result<Vec<f32>> {
        self.net.flat_parameters()
    }

    /// Predicted means, row-major and unclipped, for row-major raw windows
    /// `[s_{t−k}, …, s_t, s_{t+1}]` of width [`InverseDynamics::window_dim`].
    pub fn predict(&self, windows: &[f32]) -> Result<Vec<f32>> {
        let w = self.window_dim();
        if windows.is_empty() || !windows.len().is_multiple_of(w) {
            return Err(Error::InvalidData(format!(
                "{} values are not whole windows of width {w} ({} states of width {})",
                windows.len(),
                self.context + 2,
                self.obs_dim()
            )));
        }
        if let Some(v) = windows.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!("non-finite state value {v}")));
        }
        self.means(&self.normalizer.apply(windows))
    }

    /// `episodes` with every action replaced by the predicted mean clipped to `±max_action`
    /// (their recorded actions, of any kind, are ignored); observations, rewards, flags, ids
    /// and seeds are kept, and the metadata's `algorithm_name` gains `+idm-proxy-labels`.
    pub fn label(&self, episodes: &Episodes) -> Result<Episodes> {
        self.check_states(episodes)?;
        let refs: Vec<&EpisodeData> = episodes.episodes.iter().collect();
        let means = self.clipped_means(&self.windows(&refs))?;
        let a = self.action_dim();
        let mut rows = means.chunks_exact(a);
        let labelled = episodes
            .episodes
            .iter()
            .map(|e| EpisodeData {
                actions: Actions::Continuous(
                    rows.by_ref().take(e.len()).map(<[f32]>::to_vec).collect(),
                ),
                ..e.clone()
            })
            .collect();
        let mut metadata = episodes.metadata.clone();
        metadata.algorithm_name = proxy_name(&metadata.algorithm_name);
        Ok(Episodes::new(metadata, labelled)?)
    }

    /// Mean squared error, over steps and action dimensions, of the labels that
    /// [`InverseDynamics::label`] would write against the recorded actions of `episodes`
    /// (the held-out metric; continuous actions of the model's width).
    pub fn action_mse(&self, episodes: &Episodes) -> Result<f64> {
        self.check_states(episodes)?;
        let dim = continuous_action_dim(episodes)?;
        if dim != self.action_dim() {
            return Err(Error::InvalidData(format!(
                "actions have width {dim}, the model predicts width {}",
                self.action_dim()
            )));
        }
        let refs: Vec<&EpisodeData> = episodes.episodes.iter().collect();
        let windows = self.windows(&refs);
        let means = self.clipped_means(&windows)?;
        let sq: f64 = means
            .iter()
            .zip(&windows.actions)
            .map(|(p, t)| (f64::from(*p) - f64::from(*t)).powi(2))
            .sum();
        Ok(sq / means.len() as f64)
    }

    /// Checks that `episodes` are valid, non-empty and have the model's state width.
    fn check_states(&self, episodes: &Episodes) -> Result<()> {
        episodes.validate("<idm input>")?;
        if episodes.episodes.is_empty() {
            return Err(Error::InvalidData("no episodes".into()));
        }
        let d = episodes.observation_dim();
        if d != self.obs_dim() {
            return Err(Error::InvalidData(format!(
                "observations have width {d}, the model was trained on width {}",
                self.obs_dim()
            )));
        }
        Ok(())
    }

    /// Normalised windows of every step of `episodes` with their actions (continuous ones;
    /// empty for discrete).
    fn windows(&self, episodes: &[&EpisodeData]) -> Windows {
        let d = self.obs_dim();
        let k = self.context;
        let mut x = Vec::new();
        let mut actions = Vec::new();
        for e in episodes {
            for t in 0..e.len() {
                for j in t as isize - k as isize..=t as isize + 1 {
                    match usize::try_from(j) {
                        Ok(j) => x.extend_from_slice(&e.observations[j]),
                        Err(_) => x.extend(std::iter::repeat_n(0.0, d)),
                    }
                }
            }
            if let Actions::Continuous(rows) = &e.actions {
                rows.iter().for_each(|r| actions.extend_from_slice(r));
            }
        }
        self.normalizer.apply_in_place(&mut x);
        Windows { x, actions }
    }

    /// Predicted means for `windows`, clipped to `±max_action`.
    fn clipped_means(&self, windows: &Windows) -> Result<Vec<f32>> {
        let m = self.max_action as f32;
        let mut means = self.means(&windows.x)?;
        means.iter_mut().for_each(|v| *v = v.clamp(-m, m));
        Ok(means)
    }

    /// Means for normalised windows, in chunks, without dropout.
    fn means(&self, x: &[f32]) -> Result<Vec<f32>> {
        let w = self.window_dim();
        let mut out = Vec::with_capacity(x.len() / w * self.action_dim());
        for chunk in x.chunks(CHUNK * w) {
            let t = Tensor::from_vec(chunk.to_vec(), (chunk.len() / w, w), &Device::Cpu)?;
            let (mean, _) = split_head(&self.net.forward(&t)?, self.action_dim())?;
            out.extend(mean.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Mean NLL per step of `data` without dropout, in chunks.
    fn nll(&self, data: &Windows) -> Result<f64> {
        let (w, a) = (self.window_dim(), self.action_dim());
        let mut total = 0.0;
        for (xs, acts) in data.x.chunks(CHUNK * w).zip(data.actions.chunks(CHUNK * a)) {
            let rows = xs.len() / w;
            let x = Tensor::from_vec(xs.to_vec(), (rows, w), &Device::Cpu)?;
            let target = Tensor::from_vec(acts.to_vec(), (rows, a), &Device::Cpu)?;
            let (mean, log_std) = split_head(&self.net.forward(&x)?, a)?;
            let lp = gaussian_log_prob(&target, &mean, &log_std)?.sum_all()?;
            total -= f64::from(lp.to_scalar::<f32>()?);
        }
        Ok(total / data.len(a) as f64)
    }
}

/// Mean and clamped log-std from the network's `2 · action_dim` outputs.
fn split_head(out: &Tensor, action_dim: usize) -> Result<(Tensor, Tensor)> {
    let mean = out.narrow(1, 0, action_dim)?;
    let log_std = out
        .narrow(1, action_dim, action_dim)?
        .clamp(InverseDynamics::LOG_STD_MIN, InverseDynamics::LOG_STD_MAX)?;
    Ok((mean, log_std))
}

/// Rows `idx` of row-major `src` of width `width` as a `(len, width)` tensor.
fn gather(src: &[f32], width: usize, idx: &[usize]) -> Result<Tensor> {
    let mut out = Vec::with_capacity(idx.len() * width);
    for &i in idx {
        out.extend_from_slice(&src[i * width..(i + 1) * width]);
    }
    Ok(Tensor::from_vec(out, (idx.len(), width), &Device::Cpu)?)
}

/// The continuous action width of validated `episodes`; errors for none or for discrete
/// actions.
fn continuous_action_dim(episodes: &Episodes) -> Result<usize> {
    match episodes.episodes.first().map(|e| &e.actions) {
        None => Err(Error::InvalidData("no episodes".into())),
        Some(Actions::Continuous(rows)) => Ok(rows[0].len()),
        Some(Actions::Discrete(_)) => Err(Error::InvalidData(
            "the inverse dynamics model needs continuous actions, the episodes have discrete ones"
                .into(),
        )),
    }
}

/// Rejects continuous actions outside `±max_action`, naming the episode and step.
fn check_bounds(episodes: &Episodes, max_action: f64) -> Result<()> {
    for e in &episodes.episodes {
        if let Actions::Continuous(rows) = &e.actions {
            for (t, row) in rows.iter().enumerate() {
                if let Some(v) = row.iter().find(|v| f64::from(v.abs()) > max_action) {
                    return Err(Error::InvalidData(format!(
                        "action {v} at episode {} step {t} lies outside [-{max_action}, {max_action}]",
                        e.id
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The algorithm name of proxy-labelled data.
pub(crate) fn proxy_name(algorithm: &str) -> String {
    if algorithm.is_empty() {
        "idm-proxy-labels".into()
    } else if algorithm.ends_with("+idm-proxy-labels") {
        algorithm.into()
    } else {
        format!("{algorithm}+idm-proxy-labels")
    }
}
