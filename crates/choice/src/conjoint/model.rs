//! The outcome model: P(a ≻ b) = σ(g(a) − g(b)) with g linear in treatment-coded main effects
//! and pairwise interactions, fitted by ridge-penalised Newton; an electorate mixes one such
//! model per respondent segment in known shares.

use choicelab_core::logistic::{log_sigmoid, sigmoid};
use choicelab_core::{Error, Location, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side as MatSide};
use rayon::prelude::*;

use super::data::ConjointData;
use super::design::Design;

/// Tasks per parallel chunk; fixed so that sums, and so results, never depend on the thread
/// count.
const CHUNK: usize = 2048;

/// The columns of g: an indicator per non-reference level of each factor and, with
/// interactions, per pair of non-reference levels of each pair of factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    levels: Vec<usize>,
    /// Offset of each factor's main effects.
    main: Vec<usize>,
    /// (j, k, offset) for each pair j < k of factors, when interactions are on.
    pairs: Vec<(usize, usize, usize)>,
    len: usize,
}

impl Terms {
    /// The terms of `design`: main effects, plus all pairwise interactions if `interactions`.
    pub fn new(design: &Design, interactions: bool) -> Self {
        let levels = design.level_counts();
        let mut len = 0;
        let main = levels
            .iter()
            .map(|l| {
                len += l - 1;
                len - (l - 1)
            })
            .collect();
        let mut pairs = Vec::new();
        if interactions {
            for j in 0..levels.len() {
                for k in j + 1..levels.len() {
                    pairs.push((j, k, len));
                    len += (levels[j] - 1) * (levels[k] - 1);
                }
            }
        }
        Self {
            levels,
            main,
            pairs,
            len,
        }
    }

    /// Number of coefficients.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no coefficients.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Level counts of the factors the terms were built for.
    pub fn level_counts(&self) -> &[usize] {
        &self.levels
    }

    /// Calls `f` with the index of every term that is 1 for a profile with these levels.
    pub fn for_each_active(&self, levels: &[usize], mut f: impl FnMut(usize)) {
        for (k, &l) in levels.iter().enumerate() {
            if l > 0 {
                f(self.main[k] + l - 1);
            }
        }
        for &(j, k, offset) in &self.pairs {
            if levels[j] > 0 && levels[k] > 0 {
                f(offset + (levels[j] - 1) * (self.levels[k] - 1) + levels[k] - 1);
            }
        }
    }

    /// The name of term `index`: `factor=level` or `factor=level & factor=level`.
    pub fn name(&self, design: &Design, index: usize) -> String {
        let level = |k: usize, l: usize| {
            let f = &design.factors()[k];
            format!("{}={}", f.name, f.levels[l])
        };
        for (k, &offset) in self.main.iter().enumerate() {
            if (offset..offset + self.levels[k] - 1).contains(&index) {
                return level(k, index - offset + 1);
            }
        }
        for &(j, k, offset) in &self.pairs {
            let width = self.levels[k] - 1;
            if (offset..offset + (self.levels[j] - 1) * width).contains(&index) {
                let r = index - offset;
                return format!("{} & {}", level(j, r / width + 1), level(k, r % width + 1));
            }
        }
        format!("term {index}")
    }

    /// The index of the term written `factor=level` or `factor=level & factor=level`; the
    /// levels must not be reference levels (level 0, whose coefficient is 0 by construction).
    pub fn index(&self, design: &Design, term: &str) -> Result<usize> {
        let at = || Location::new("<outcome model terms>").field(term.to_string());
        let mut parts = Vec::new();
        for part in term.split('&') {
            let (factor, level) = part.trim().split_once('=').ok_or_else(|| {
                Error::invalid(at(), format!("`{part}` is not of the form factor=level"))
            })?;
            let k = design
                .factor(factor.trim())
                .map_err(|e| Error::invalid(at(), e.to_string()))?;
            let l = design.factors()[k].level(level.trim(), at())?;
            if l == 0 {
                return Err(Error::invalid(
                    at(),
                    format!(
                        "`{}` is the reference level of `{}` (its coefficient is 0)",
                        level.trim(),
                        factor.trim()
                    ),
                ));
            }
            parts.push((k, l));
        }
        match parts[..] {
            [(k, l)] => Ok(self.main[k] + l - 1),
            [(j, a), (k, b)] if j != k => {
                let ((j, a), (k, b)) = if j < k {
                    ((j, a), (k, b))
                } else {
                    ((k, b), (j, a))
                };
                self.pairs
                    .iter()
                    .find(|p| p.0 == j && p.1 == k)
                    .map(|&(_, _, offset)| offset + (a - 1) * (self.levels[k] - 1) + b - 1)
                    .ok_or_else(|| {
                        Error::invalid(at(), "the model has no interaction terms".to_string())
                    })
            }
            _ => Err(Error::invalid(
                at(),
                "a term names one level or two levels of different factors",
            )),
        }
    }
}

/// g(profile) = Σ β_j·x_j(profile) over [`Terms`], with the coefficients' covariance when fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeModel {
    /// The columns.
    pub terms: Terms,
    /// β, one per term.
    pub coefficients: Vec<f64>,
    /// Row-major covariance of β (inverse penalised information), when fitted.
    pub covariance: Option<Vec<f64>>,
}

impl OutcomeModel {
    /// A planted model: the named terms at their values, every other coefficient 0.
    pub fn from_terms(design: &Design, interactions: bool, terms: &[(&str, f64)]) -> Result<Self> {
        let t = Terms::new(design, interactions);
        let mut coefficients = vec![0.0; t.len()];
        for &(term, value) in terms {
            coefficients[t.index(design, term)?] += value;
        }
        Ok(Self {
            terms: t,
            coefficients,
            covariance: None,
        })
    }

    /// g(profile).
    pub fn utility(&self, levels: &[usize]) -> f64 {
        let mut g = 0.0;
        self.terms
            .for_each_active(levels, |j| g += self.coefficients[j]);
        g
    }

    /// P(a ≻ b) = σ(g(a) − g(b)), so P(a ≻ b) = 1 − P(b ≻ a).
    pub fn probability(&self, a: &[usize], b: &[usize]) -> f64 {
        sigmoid(self.utility(a) - self.utility(b))
    }
}

/// Settings of the ridge-penalised logistic fit of an [`OutcomeModel`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticFit {
    /// Ridge λ: maximise LL(β) − (λ/2)‖β‖² (0: plain maximum likelihood).
    pub ridge: f64,
    /// Include all pairwise interactions.
    pub interactions: bool,
    /// Stop when no Newton step moves a coefficient by more than this (relative to max(1, |β|)).
    pub tolerance: f64,
    /// Newton iterations before giving up.
    pub max_iterations: usize,
}

impl Default for LogisticFit {
    fn default() -> Self {
        Self {
            ridge: 1.0,
            interactions: true,
            tolerance: 1e-9,
            max_iterations: 100,
        }
    }
}

/// A fitted outcome model and its fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedOutcome {
    /// The model, with the covariance of its coefficients.
    pub model: OutcomeModel,
    /// Log-likelihood at β̂ (without the penalty).
    pub loglik: f64,
    /// Tasks fitted.
    pub n_tasks: usize,
    /// Newton iterations taken.
    pub iterations: usize,
}

impl LogisticFit {
    /// Fits g to the tasks of `data` for which `keep(task index)` holds.
    pub fn fit(
        &self,
        design: &Design,
        data: &ConjointData,
        keep: impl Fn(usize) -> bool + Sync,
    ) -> Result<FittedOutcome> {
        if !(self.ridge.is_finite() && self.ridge >= 0.0) {
            return Err(Error::parameter(
                "ridge",
                format!("must be finite and ≥ 0, got {}", self.ridge),
            ));
        }
        let tasks: Vec<usize> = (0..data.len()).filter(|&i| keep(i)).collect();
        if tasks.is_empty() {
            return Err(Error::invalid(
                Location::new("<conjoint data>"),
                "no tasks to fit the outcome model to",
            ));
        }
        let terms = Terms::new(design, self.interactions);
        let k = terms.len();
        let objective = |beta: &[f64], derivatives: bool| {
            let mut at = evaluate(&terms, data, &tasks, beta, derivatives);
            for (i, b) in beta.iter().enumerate() {
                at.0 -= 0.5 * self.ridge * b * b;
                if derivatives {
                    at.1[i] -= self.ridge * b;
                    at.2[i * k + i] += self.ridge;
                }
            }
            at
        };
        let mut beta = vec![0.0; k];
        let (mut value, mut gradient, mut information) = objective(&beta, true);
        for iteration in 1..=self.max_iterations {
            let llt = lower_to_mat(&information, k)
                .llt(MatSide::Lower)
                .map_err(|_| not_identified())?;
            let step = llt.solve(Mat::from_fn(k, 1, |i, _| gradient[i]));
            let decrement: f64 = (0..k).map(|i| step[(i, 0)] * gradient[i]).sum();
            let mut scale = 1.0;
            let candidate = loop {
                let candidate: Vec<f64> = (0..k).map(|i| beta[i] + scale * step[(i, 0)]).collect();
                let next = objective(&candidate, false).0;
                if next >= value - 1e-12 * value.abs() || scale < 1e-10 {
                    break candidate;
                }
                scale /= 2.0;
            };
            let largest = (0..k)
                .map(|i| (scale * step[(i, 0)]).abs() / beta[i].abs().max(1.0))
                .fold(0.0, f64::max);
            beta = candidate;
            (value, gradient, information) = objective(&beta, true);
            if !value.is_finite() {
                return Err(Error::Numerical {
                    context: "conjoint outcome model".into(),
                    message: format!("the log-likelihood became {value} at iteration {iteration}"),
                });
            }
            if largest < self.tolerance || decrement < 1e-20 * value.abs().max(1.0) {
                let covariance = lower_to_mat(&information, k)
                    .llt(MatSide::Lower)
                    .map_err(|_| not_identified())?
                    .inverse();
                let penalty = 0.5 * self.ridge * beta.iter().map(|b| b * b).sum::<f64>();
                return Ok(FittedOutcome {
                    model: OutcomeModel {
                        terms,
                        coefficients: beta,
                        covariance: Some((0..k * k).map(|i| covariance[(i / k, i % k)]).collect()),
                    },
                    loglik: value + penalty,
                    n_tasks: tasks.len(),
                    iterations: iteration,
                });
            }
        }
        Err(Error::NotConverged {
            method: "Newton (conjoint outcome model)".into(),
            iterations: self.max_iterations,
            residual: gradient.iter().fold(0.0, |m, g| f64::max(m, g.abs())),
            tolerance: self.tolerance,
            reason: "iteration limit".into(),
        })
    }
}

fn not_identified() -> Error {
    Error::Numerical {
        context: "conjoint outcome model".into(),
        message: "the information matrix is singular: some level (or pair of levels) never \
                  differs between the two profiles of a task, or the choices separate \
                  perfectly; use a ridge penalty > 0"
            .into(),
    }
}

/// LL, and with `derivatives` its gradient and information (row-major lower triangle), summed
/// over fixed chunks of `tasks`.
fn evaluate(
    terms: &Terms,
    data: &ConjointData,
    tasks: &[usize],
    beta: &[f64],
    derivatives: bool,
) -> (f64, Vec<f64>, Vec<f64>) {
    let k = beta.len();
    let size = if derivatives { k } else { 0 };
    let chunks: Vec<(f64, Vec<f64>, Vec<f64>)> = tasks
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut sum = (0.0, vec![0.0; size], vec![0.0; size * size]);
            let mut x: Vec<(usize, f64)> = Vec::new();
            for &i in chunk {
                x.clear();
                terms.for_each_active(data.left(i), |j| x.push((j, 1.0)));
                terms.for_each_active(data.right(i), |j| x.push((j, -1.0)));
                x.sort_unstable_by_key(|e| e.0);
                x.dedup_by(|later, earlier| {
                    let same = later.0 == earlier.0;
                    if same {
                        earlier.1 += later.1;
                    }
                    same
                });
                let eta: f64 = x.iter().map(|&(j, v)| beta[j] * v).sum();
                let y = data.tasks()[i].chose_left;
                sum.0 += if y {
                    log_sigmoid(eta)
                } else {
                    log_sigmoid(-eta)
                };
                if derivatives {
                    let p = sigmoid(eta);
                    let residual = f64::from(u8::from(y)) - p;
                    let weight = p * (1.0 - p);
                    for (a, &(ja, va)) in x.iter().enumerate() {
                        sum.1[ja] += residual * va;
                        let row = &mut sum.2[ja * k..];
                        for &(jb, vb) in &x[..=a] {
                            row[jb] += weight * va * vb;
                        }
                    }
                }
            }
            sum
        })
        .collect();
    let mut total = (0.0, vec![0.0; size], vec![0.0; size * size]);
    for chunk in chunks {
        total.0 += chunk.0;
        total.1.iter_mut().zip(&chunk.1).for_each(|(a, b)| *a += b);
        total.2.iter_mut().zip(&chunk.2).for_each(|(a, b)| *a += b);
    }
    total
}

/// A symmetric matrix from its row-major lower triangle.
fn lower_to_mat(lower: &[f64], k: usize) -> Mat<f64> {
    Mat::from_fn(k, k, |i, j| {
        if j <= i {
            lower[i * k + j]
        } else {
            lower[j * k + i]
        }
    })
}

/// A respondent segment: its name, its share of the electorate and its outcome model.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Name (`independents`).
    pub name: String,
    /// Share of the electorate.
    pub share: f64,
    /// The segment's g.
    pub model: OutcomeModel,
}

/// Segments mixed in known shares: P(a ≻ b) = Σ_s w_s·σ(g_s(a) − g_s(b)).
#[derive(Debug, Clone, PartialEq)]
pub struct Electorate {
    /// The segments.
    pub segments: Vec<Segment>,
}

impl Electorate {
    /// Checks the shares (positive, summing to 1 within 1e-9) and that every segment's model
    /// has the same terms.
    pub fn new(segments: Vec<Segment>) -> Result<Self> {
        let at = || Location::new("<electorate>").field("share");
        if segments.is_empty() {
            return Err(Error::invalid(at(), "an electorate needs a segment"));
        }
        let total: f64 = segments.iter().map(|s| s.share).sum();
        if segments
            .iter()
            .any(|s| !(s.share > 0.0 && s.share.is_finite()))
            || (total - 1.0).abs() > 1e-9
        {
            let shares: Vec<f64> = segments.iter().map(|s| s.share).collect();
            return Err(Error::invalid(
                at(),
                format!("segment shares must be > 0 and sum to 1, got {shares:?}"),
            ));
        }
        if segments
            .iter()
            .any(|s| s.model.terms != segments[0].model.terms)
        {
            return Err(Error::invalid(
                Location::new("<electorate>").field("model"),
                "every segment's outcome model must have the same terms",
            ));
        }
        Ok(Self { segments })
    }

    /// An error unless the models were built for `design`'s factors and levels.
    pub fn check_against(&self, design: &Design) -> Result<()> {
        if self.segments[0].model.terms.level_counts() != design.level_counts() {
            return Err(Error::invalid(
                Location::new("<electorate>").field("model"),
                "the outcome models were built for another design",
            ));
        }
        Ok(())
    }

    /// Fits one outcome model per segment to that segment's tasks, weighting the segments by
    /// the known population `shares` (name, share); every segment of the data needs a share.
    pub fn fit(
        design: &Design,
        data: &ConjointData,
        shares: &[(String, f64)],
        settings: &LogisticFit,
    ) -> Result<(Self, Vec<FittedOutcome>)> {
        if let Some(unknown) = data
            .segments()
            .iter()
            .find(|s| shares.iter().all(|(n, _)| n != *s))
        {
            return Err(Error::invalid(
                Location::new("<conjoint data>").field("segment"),
                format!("segment `{unknown}` has no population share"),
            ));
        }
        let mut segments = Vec::with_capacity(shares.len());
        let mut fits = Vec::with_capacity(shares.len());
        for (name, share) in shares {
            let s = data.segments().iter().position(|x| x == name);
            if !data.tasks().iter().any(|t| Some(t.segment) == s) {
                return Err(Error::invalid(
                    Location::new("<conjoint data>").field("segment"),
                    format!("segment `{name}` has no tasks"),
                ));
            }
            let fitted = settings.fit(design, data, |i| Some(data.tasks()[i].segment) == s)?;
            segments.push(Segment {
                name: name.clone(),
                share: *share,
                model: fitted.model.clone(),
            });
            fits.push(fitted);
        }
        Ok((Self::new(segments)?, fits))
    }

    /// P(a ≻ b) under the mixture.
    pub fn probability(&self, a: &[usize], b: &[usize]) -> f64 {
        self.segments
            .iter()
            .map(|s| s.share * s.model.probability(a, b))
            .sum()
    }
}
