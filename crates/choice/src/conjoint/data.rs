//! Forced-choice conjoint data: tasks of two profiles, who answered and which they chose; a
//! long-format CSV reader; a respondent simulator; resampling and folds by respondent.

use std::collections::BTreeMap;
use std::path::Path;

use choicelab_core::logistic::sigmoid;
use choicelab_core::{draw_index, rng, stream_rng, Error, Location, Result, Seed};
use rand::seq::SliceRandom;
use rand::RngExt;

use super::design::Design;
use super::model::Electorate;

/// One forced choice: who answered, their segment, and whether the left profile won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// Respondent id.
    pub respondent: u32,
    /// Index into [`ConjointData::segments`].
    pub segment: usize,
    /// Whether the left (first) profile was chosen.
    pub chose_left: bool,
}

/// Tasks with their two profiles' levels.
#[derive(Debug, Clone, PartialEq)]
pub struct ConjointData {
    factors: usize,
    segments: Vec<String>,
    tasks: Vec<Task>,
    /// 2·factors levels per task: the left profile's, then the right's.
    levels: Vec<usize>,
}

impl ConjointData {
    /// No tasks yet, for profiles of `design`.
    pub fn new(design: &Design) -> Self {
        Self {
            factors: design.factors().len(),
            segments: Vec::new(),
            tasks: Vec::new(),
            levels: Vec::new(),
        }
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there are no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Segment names, in order of first appearance.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The left profile's levels in task `i`.
    pub fn left(&self, i: usize) -> &[usize] {
        &self.levels[2 * i * self.factors..(2 * i + 1) * self.factors]
    }

    /// The right profile's levels in task `i`.
    pub fn right(&self, i: usize) -> &[usize] {
        &self.levels[(2 * i + 1) * self.factors..(2 * i + 2) * self.factors]
    }

    /// The index of segment `name`, added if new.
    fn segment_index(&mut self, name: &str) -> usize {
        match self.segments.iter().position(|s| s == name) {
            Some(s) => s,
            None => {
                self.segments.push(name.into());
                self.segments.len() - 1
            }
        }
    }

    /// Appends a task; levels must be in range for `design` (an error at `at` otherwise).
    pub fn push(
        &mut self,
        design: &Design,
        task: (u32, &str, bool),
        left: &[usize],
        right: &[usize],
        at: Location,
    ) -> Result<()> {
        for (side, levels) in [("left", left), ("right", right)] {
            if levels.len() != self.factors {
                return Err(Error::invalid(
                    at,
                    format!(
                        "the {side} profile has {} levels for {} factors",
                        levels.len(),
                        self.factors
                    ),
                ));
            }
            for (factor, &level) in design.factors().iter().zip(levels) {
                if level >= factor.levels.len() {
                    return Err(Error::invalid(
                        at.field(factor.name.clone()),
                        format!(
                            "level {level} of `{}` is out of range ({} levels)",
                            factor.name,
                            factor.levels.len()
                        ),
                    ));
                }
            }
        }
        let (respondent, segment, chose_left) = task;
        let segment = self.segment_index(segment);
        self.tasks.push(Task {
            respondent,
            segment,
            chose_left,
        });
        self.levels.extend_from_slice(left);
        self.levels.extend_from_slice(right);
        Ok(())
    }

    /// Reads long-format conjoint data (as cjoint and cregg take it): a header
    /// `respondent,segment,task,chosen,<factor>…` naming every factor of `design` (other
    /// columns are ignored), then two consecutive rows per task, one per profile, with
    /// `chosen` 1 on exactly one of them. Errors name the file, line and field.
    pub fn from_csv_str(design: &Design, name: &str, text: &str) -> Result<Self> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l))
            .filter(|(_, l)| !l.trim().is_empty());
        let split = |line: &str| -> Vec<String> {
            line.split(',')
                .map(|f| f.trim().trim_matches('"').trim().to_string())
                .collect()
        };
        let (header_line, header) = match lines.next() {
            Some((n, l)) => (n, split(l)),
            None => {
                return Err(Error::parse(
                    Location::new(name).line(1),
                    "empty file: expected the header respondent,segment,task,chosen,<factors>",
                ))
            }
        };
        let column = |wanted: &str| {
            header.iter().position(|h| h == wanted).ok_or_else(|| {
                Error::parse(
                    Location::new(name).line(header_line).field(wanted),
                    format!("the header lacks column `{wanted}`"),
                )
            })
        };
        let [respondent_col, segment_col, task_col, chosen_col] = [
            column("respondent")?,
            column("segment")?,
            column("task")?,
            column("chosen")?,
        ];
        let factor_cols: Vec<usize> = design
            .factors()
            .iter()
            .map(|f| column(&f.name))
            .collect::<Result<_>>()?;
        let mut data = Self::new(design);
        // Each row as (line, respondent, segment, task, chosen, levels).
        let mut pending: Option<(u64, u32, String, String, bool, Vec<usize>)> = None;
        for (line, text) in lines {
            let fields = split(text);
            let at = |field: &str| Location::new(name).line(line).field(field);
            if fields.len() != header.len() {
                return Err(Error::parse(
                    Location::new(name).line(line),
                    format!("row has {} fields, expected {}", fields.len(), header.len()),
                ));
            }
            let respondent: u32 = fields[respondent_col].parse().map_err(|_| {
                Error::parse(
                    at("respondent"),
                    format!(
                        "`{}` is not a respondent id (an integer ≥ 0)",
                        fields[respondent_col]
                    ),
                )
            })?;
            let chosen = match fields[chosen_col].as_str() {
                "1" => true,
                "0" => false,
                other => {
                    return Err(Error::parse(
                        at("chosen"),
                        format!("`{other}` is not 0 or 1"),
                    ))
                }
            };
            let levels = design
                .factors()
                .iter()
                .zip(&factor_cols)
                .map(|(f, &c)| f.level(&fields[c], Location::new(name).line(line)))
                .collect::<Result<Vec<usize>>>()?;
            let row = (
                line,
                respondent,
                fields[segment_col].clone(),
                fields[task_col].clone(),
                chosen,
                levels,
            );
            match pending.take() {
                None => pending = Some(row),
                Some(first) => {
                    if (first.1, &first.2, &first.3) != (row.1, &row.2, &row.3) {
                        return Err(Error::invalid(
                            at("task"),
                            format!(
                                "a task has two rows with the same respondent, segment and \
                                 task; line {} starts task `{}` of respondent {} but this row \
                                 differs",
                                first.0, first.3, first.1
                            ),
                        ));
                    }
                    if first.4 == row.4 {
                        return Err(Error::invalid(
                            at("chosen"),
                            format!(
                                "exactly one profile of a task is chosen (lines {} and {line})",
                                first.0
                            ),
                        ));
                    }
                    data.push(
                        design,
                        (row.1, &row.2, first.4),
                        &first.5,
                        &row.5,
                        Location::new(name).line(line),
                    )?;
                }
            }
        }
        if let Some(first) = pending {
            return Err(Error::invalid(
                Location::new(name).line(first.0),
                "the last task has only one profile row",
            ));
        }
        Ok(data)
    }

    /// Reads a long-format CSV file (see [`ConjointData::from_csv_str`]).
    pub fn from_csv_path(design: &Design, path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_csv_str(design, &path.display().to_string(), &text)
    }

    /// The distinct respondents, ascending.
    pub fn respondents(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.tasks.iter().map(|t| t.respondent).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The tasks for which `keep(task index)` holds, segments kept as they are.
    pub fn filter(&self, keep: impl Fn(usize) -> bool) -> Self {
        let mut out = Self {
            factors: self.factors,
            segments: self.segments.clone(),
            tasks: Vec::new(),
            levels: Vec::new(),
        };
        for i in (0..self.len()).filter(|&i| keep(i)) {
            out.tasks.push(self.tasks[i]);
            out.levels.extend_from_slice(self.left(i));
            out.levels.extend_from_slice(self.right(i));
        }
        out
    }

    /// A bootstrap replicate: respondents drawn with replacement (stream `replicate` of
    /// `seed`), each bringing all their tasks, renumbered so that repeats count as distinct
    /// respondents.
    pub fn resample_respondents(&self, seed: Seed, replicate: u64) -> Self {
        let ids = self.respondents();
        let mut by_respondent: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, t) in self.tasks.iter().enumerate() {
            by_respondent.entry(t.respondent).or_default().push(i);
        }
        let mut rng = stream_rng(seed, replicate);
        let mut out = self.filter(|_| false);
        for new_id in 0..ids.len() {
            let id = ids[rng.random_range(0..ids.len())];
            for &i in &by_respondent[&id] {
                out.tasks.push(Task {
                    respondent: new_id as u32,
                    ..self.tasks[i]
                });
                out.levels.extend_from_slice(self.left(i));
                out.levels.extend_from_slice(self.right(i));
            }
        }
        out
    }

    /// The fold (0..folds) of each task: respondents shuffled by `seed` and dealt round-robin,
    /// so a respondent's tasks share a fold.
    pub fn folds_by_respondent(&self, folds: usize, seed: Seed) -> Result<Vec<usize>> {
        let mut ids = self.respondents();
        if folds < 2 || ids.len() < folds {
            return Err(Error::parameter(
                "folds",
                format!("need 2 ≤ folds ≤ respondents ({}), got {folds}", ids.len()),
            ));
        }
        ids.shuffle(&mut rng(seed));
        let fold: BTreeMap<u32, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, &r)| (r, i % folds))
            .collect();
        Ok(self.tasks.iter().map(|t| fold[&t.respondent]).collect())
    }
}

/// Simulated respondents answering forced-choice tasks about profiles drawn from the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simulation {
    /// Tasks in all.
    pub tasks: usize,
    /// Tasks each respondent answers (the last respondent may answer fewer).
    pub tasks_per_respondent: usize,
    /// Seed; respondent r draws from stream r, so a smaller sample is a prefix of a larger one.
    pub seed: Seed,
}

impl Simulation {
    /// Draws respondents: each one's segment from the electorate's shares, then for each task
    /// two profiles independently from the design and the choice from the segment's model,
    /// P(left ≻ right) = σ(g_s(left) − g_s(right)).
    pub fn run(&self, design: &Design, electorate: &Electorate) -> Result<ConjointData> {
        if self.tasks_per_respondent == 0 {
            return Err(Error::parameter("tasks_per_respondent", "must be ≥ 1"));
        }
        electorate.check_against(design)?;
        let shares: Vec<f64> = electorate.segments.iter().map(|s| s.share).collect();
        let k = design.factors().len();
        let mut data = ConjointData::new(design);
        data.segments = electorate.segments.iter().map(|s| s.name.clone()).collect();
        let (mut left, mut right) = (vec![0; k], vec![0; k]);
        for respondent in 0..self.tasks.div_ceil(self.tasks_per_respondent) {
            let mut rng = stream_rng(self.seed, respondent as u64);
            let segment = draw_index(&mut rng, &shares);
            let model = &electorate.segments[segment].model;
            let answered = self.tasks_per_respondent.min(self.tasks - data.len());
            for _ in 0..answered {
                design.draw(&mut rng, &mut left);
                design.draw(&mut rng, &mut right);
                let p = sigmoid(model.utility(&left) - model.utility(&right));
                data.tasks.push(Task {
                    respondent: respondent as u32,
                    segment,
                    chose_left: rng.random::<f64>() < p,
                });
                data.levels.extend_from_slice(&left);
                data.levels.extend_from_slice(&right);
            }
        }
        Ok(data)
    }
}
