//! Eliciting preferences from a [`Chooser`] round by round, as Utility Engineering does: hold
//! out pairs, ask a random 2-regular graph, then rounds of actively (or randomly) chosen pairs,
//! refitting Thurstonian utilities after each round.

use std::time::Instant;

use choicelab_core::{stream_rng, Comparisons, Error, Items, Outcome, Result, Seed};

use crate::active::{select_random, ActiveSelection, PairPool};
use crate::agreement::{accuracy, triad_cycle_rate};
use crate::chooser::{ChoiceOption, Chooser};
use crate::thurstonian::{FittedThurstonian, Thurstonian};

/// How the pairs after the starting graph are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Utility Engineering's active rule ([`ActiveSelection`]).
    Active,
    /// Uniformly random remaining pairs, the same number per round.
    Random,
}

/// An elicitation's settings.
#[derive(Debug, Clone)]
pub struct Elicitation {
    /// Active or random rounds.
    pub strategy: Strategy,
    /// The active rule, whose `round_size` also sets the random rounds' size.
    pub selection: ActiveSelection,
    /// Target number of training pairs; None means 2·N·log₂N. Rounds are added, each full,
    /// until the target is reached, so the last may overshoot it.
    pub budget: Option<usize>,
    /// Share of all pairs held out (0.05).
    pub holdout_share: f64,
    /// Most pairs held out (1,000).
    pub holdout_max: usize,
    /// Seed of the held-out pairs (42), kept apart so every strategy is judged on the same ones.
    pub holdout_seed: Seed,
    /// Samples per presentation order (K = 10): each pair is asked K times in each order.
    pub samples_per_order: usize,
    /// After the last round, label unasked pairs the fit is sure of (≥ 0.95 or ≤ 0.05) and
    /// refit.
    pub pseudo_labels: bool,
    /// The Thurstonian fit of every round.
    pub model: Thurstonian,
    /// Seed of the starting graph and the rounds' draws.
    pub seed: Seed,
}

impl Default for Elicitation {
    fn default() -> Self {
        Self {
            strategy: Strategy::Active,
            selection: ActiveSelection::default(),
            budget: None,
            holdout_share: 0.05,
            holdout_max: 1000,
            holdout_seed: 42,
            samples_per_order: 10,
            pseudo_labels: false,
            model: Thurstonian::default(),
            seed: 0,
        }
    }
}

/// What one round left: the training pairs so far, the fit and its held-out scores.
#[derive(Debug, Clone)]
pub struct Round {
    /// 0 for the starting graph.
    pub round: usize,
    /// Training pairs asked so far.
    pub edges: usize,
    /// The fit on them.
    pub fit: FittedThurstonian,
    /// Cross-entropy on the held-out pairs.
    pub holdout_log_loss: f64,
    /// Accuracy on the held-out pairs.
    pub holdout_accuracy: f64,
    /// Triad cycle rate of the training labels so far.
    pub cycle_rate: f64,
    /// Seconds the fit took.
    pub fit_seconds: f64,
}

/// The outcome of an elicitation.
#[derive(Debug, Clone)]
pub struct Elicited {
    /// Every round, the starting graph first.
    pub rounds: Vec<Round>,
    /// The training labels, as asked.
    pub train: Comparisons,
    /// The held-out labels.
    pub holdout: Comparisons,
    /// The final fit, after pseudo-labelling when asked for.
    pub fit: FittedThurstonian,
    /// Pseudo-labels added before the final fit.
    pub pseudo_labelled: usize,
    /// Queries put to the chooser (pairs × orders × samples), held-out pairs included.
    pub queries: usize,
}

impl Elicitation {
    /// 2·N·log₂N, rounded up.
    pub fn default_budget(n: usize) -> usize {
        (2.0 * n as f64 * (n as f64).log2()).ceil() as usize
    }

    /// Elicits preferences among `options` (ids 0..N in order) from `chooser`; `on_round` sees
    /// each round as it finishes.
    pub fn run(
        &self,
        options: &[ChoiceOption],
        chooser: &mut dyn Chooser,
        on_round: &mut dyn FnMut(&Round),
    ) -> Result<Elicited> {
        let n = options.len();
        if let Some((k, o)) = options
            .iter()
            .enumerate()
            .find(|(k, o)| o.id as usize != *k)
        {
            return Err(Error::parameter(
                "options",
                format!("option {k} has id {}, expected ids 0..N in order", o.id),
            ));
        }
        if self.samples_per_order == 0 {
            return Err(Error::parameter(
                "samples_per_order",
                "ask each order at least once",
            ));
        }
        let mut pool = PairPool::new(n)?;
        let items = Items::numbered(n);
        let mut asker = Asker {
            options,
            chooser,
            samples: self.samples_per_order,
            queries: 0,
        };
        let held = pool.hold_out(
            self.holdout_share,
            self.holdout_max,
            &mut stream_rng(self.holdout_seed, 0),
        );
        let mut holdout = Comparisons::new(items.clone());
        for &(a, b) in &held {
            asker.ask(&mut holdout, a, b)?;
        }
        let mut rng = stream_rng(self.seed, 0);
        let mut train = Comparisons::new(items);
        let budget = self.budget.unwrap_or_else(|| Self::default_budget(n));
        let mut rounds = Vec::new();
        let mut batch = pool.two_regular(&mut rng)?;
        loop {
            for &(a, b) in &batch {
                asker.ask(&mut train, a, b)?;
                pool.mark_asked(a, b);
            }
            let round = self.score(rounds.len(), &train, &holdout)?;
            on_round(&round);
            let mu = round.fit.mu.clone();
            rounds.push(round);
            if train.records().len() >= budget || pool.remaining().is_empty() {
                break;
            }
            batch = match self.strategy {
                Strategy::Active => self.selection.select(&pool, &mu, &mut rng),
                Strategy::Random => select_random(&pool, self.selection.round_size, &mut rng),
            };
        }
        let last = &rounds.last().expect("at least the starting round").fit;
        let (fit, pseudo_labelled) = if self.pseudo_labels {
            let mut labelled = train.clone();
            let mut added = 0;
            for (a, b) in pool.remaining() {
                let p = last.prob_prefers(a, b);
                let label = if p >= 0.95 {
                    1.0
                } else if p <= 0.05 {
                    0.0
                } else {
                    continue;
                };
                labelled.push(a, b, Outcome::Probability(label), 1.0)?;
                added += 1;
            }
            (self.model.fit(&labelled)?, added)
        } else {
            (last.clone(), 0)
        };
        Ok(Elicited {
            rounds,
            train,
            holdout,
            fit,
            pseudo_labelled,
            queries: asker.queries,
        })
    }

    fn score(&self, round: usize, train: &Comparisons, holdout: &Comparisons) -> Result<Round> {
        let start = Instant::now();
        let fit = self.model.fit(train)?;
        let fit_seconds = start.elapsed().as_secs_f64();
        Ok(Round {
            round,
            edges: train.records().len(),
            holdout_log_loss: fit.cross_entropy(holdout),
            holdout_accuracy: accuracy(|a, b| fit.prob_prefers(a, b), holdout),
            cycle_rate: triad_cycle_rate(train),
            fit,
            fit_seconds,
        })
    }
}

/// Puts pairs to the chooser in both orders and records the share of wins.
struct Asker<'a> {
    options: &'a [ChoiceOption],
    chooser: &'a mut dyn Chooser,
    samples: usize,
    queries: usize,
}

impl Asker<'_> {
    /// Asks {a, b} K times as (a, b) and K times as (b, a); records P(a ≻ b) as the share of
    /// a's wins, so a position bias cancels on average.
    fn ask(&mut self, into: &mut Comparisons, a: u32, b: u32) -> Result<()> {
        let (first, second) = (&self.options[a as usize], &self.options[b as usize]);
        let share = self.chooser.preference_share(first, second, self.samples)?;
        self.queries += 2 * self.samples;
        into.push(a, b, Outcome::Probability(share), 1.0)
    }
}
