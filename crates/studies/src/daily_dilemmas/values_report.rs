//! The value-score part of the `daily-dilemmas` report: every chooser's scores side by side,
//! with S and N, and the claim's labels.

use std::collections::{BTreeSet, HashMap, HashSet};

use choicelab_core::Result;

use super::data::{ActionRow, ActionType, Dilemma, Theory, ValueMap};
use super::elicit::DilemmaAnswer;
use super::scoring::{choice_from_p_do, score_values, LabelScore, ValueScores};
use super::{choices_of, CLAIM_LABELS};
use crate::plot::bar_chart;
use crate::report::{Figure, Report, Table};

/// One chooser's choices, ready to be scored.
pub(super) struct Scored {
    /// The column heading.
    label: String,
    /// The metric prefix.
    key: &'static str,
    choices: HashMap<u64, ActionType>,
    /// Dilemmas answered without a choice (a tie, or NA in the file).
    undecided: HashSet<u64>,
}

impl Scored {
    /// The answers a per-action file stores for a model (`model_resp_*_clean`).
    pub(super) fn from_file(
        label: &str,
        key: &'static str,
        rows: &[ActionRow],
        answer: impl Fn(&ActionRow) -> Option<ActionType>,
    ) -> Self {
        let mut choices = HashMap::new();
        let mut undecided = HashSet::new();
        for row in rows {
            match answer(row) {
                Some(choice) => {
                    choices.insert(row.idx, choice);
                }
                None => {
                    undecided.insert(row.idx);
                }
            }
        }
        Self {
            label: label.into(),
            key,
            choices,
            undecided,
        }
    }

    /// A chooser's answers to the first `answers.len()` dilemmas: do when P(do) > ½.
    pub(super) fn from_answers(
        label: &str,
        key: &'static str,
        dilemmas: &[Dilemma],
        answers: &[DilemmaAnswer],
    ) -> Self {
        let undecided = dilemmas
            .iter()
            .zip(answers)
            .filter(|(_, a)| choice_from_p_do(a.p_do()).is_none())
            .map(|(d, _)| d.idx)
            .collect();
        Self {
            label: label.into(),
            key,
            choices: choices_of(dilemmas, answers),
            undecided,
        }
    }

    /// The value scores of these choices.
    pub(super) fn scores(&self, rows: &[ActionRow], values: &ValueMap) -> ValueScores {
        score_values(rows, &self.choices, values)
    }
}

/// The value scores of every chooser side by side, with S and N, and the claim's labels.
pub(super) fn record_values(
    report: &mut Report,
    scored: &[Scored],
    rows: &[ActionRow],
    values: &ValueMap,
) -> Result<()> {
    let all: Vec<ValueScores> = scored.iter().map(|s| s.scores(rows, values)).collect();
    let row_dilemmas: BTreeSet<u64> = rows.iter().map(|r| r.idx).collect();
    let mut columns = vec!["theory", "label"];
    let headings: Vec<String> = scored
        .iter()
        .map(|s| format!("{}: score (S/N)", s.label))
        .collect();
    columns.extend(headings.iter().map(String::as_str));
    let mut table = Table::new(
        "Value scores 100·(S − N)/(S + N) per theory label, with S (chosen) and N (neglected)",
        &columns,
    );
    for (t, theory) in Theory::ALL.iter().enumerate() {
        for (l, entry) in all[0].theories[t].1.iter().enumerate() {
            let mut row = vec![theory.name().to_owned(), entry.label.clone()];
            for scores in &all {
                let e = &scores.theories[t].1[l];
                row.push(format!(
                    "{} ({}/{})",
                    e.score().map_or("—".into(), |s| format!("{s:+.1}")),
                    e.selected,
                    e.neglected
                ));
            }
            table.push(row);
        }
    }
    report.tables.push(table);
    let mut counts = Table::new(
        "Dilemmas behind the value scores",
        &["chooser", "scored", "tie or NA (left out)", "not asked"],
    );
    for (s, scores) in scored.iter().zip(&all) {
        let undecided = row_dilemmas
            .iter()
            .filter(|d| s.undecided.contains(d))
            .count();
        counts.push(vec![
            s.label.clone(),
            scores.dilemmas_scored.to_string(),
            undecided.to_string(),
            (scores.dilemmas_without_choice - undecided).to_string(),
        ]);
        report.number(
            format!("values.{}.dilemmas", s.key),
            scores.dilemmas_scored as f64,
        );
        for (theory, label) in CLAIM_LABELS {
            if let Some(score) = scores.label(theory, label).and_then(LabelScore::score) {
                report.number(
                    format!("values.{}.{}.{label}", s.key, theory.column()),
                    score,
                );
            }
        }
    }
    report.tables.push(counts);
    let gpt4 = &all[0];
    let lean = |theory: Theory, first: &str, second: &str| {
        let get = |l: &str| gpt4.label(theory, l);
        match (get(first), get(second)) {
            (Some(a), Some(b)) => format!(
                "{first} {} ({}/{}) against {second} {} ({}/{}): {}",
                a.score().map_or("—".into(), |s| format!("{s:+.1}")),
                a.selected,
                a.neglected,
                b.score().map_or("—".into(), |s| format!("{s:+.1}")),
                b.selected,
                b.neglected,
                match (a.score(), b.score()) {
                    (Some(x), Some(y)) if x > y => "the claimed lean holds",
                    (Some(_), Some(_)) => "the claimed lean does NOT hold",
                    _ => "cannot be compared",
                }
            ),
            _ => format!("{first} or {second} is not a label of values.csv"),
        }
    };
    report.notes.push(format!(
        "Offline check of the claim from gpt-4's answers stored in the per-action file ({} \
         dilemmas): WVS {}; MFT {}. The paper's figures use all 1,360 dilemmas (and six \
         models' answers in its all-models file, not shipped here), so agreement with them is \
         unverified; on a few dilemmas one choice moves a score by tens of points. The paper's \
         truthfulness numbers (Mixtral −9.7, GPT-4-turbo +9.4) need answers this data folder \
         does not have.",
        gpt4.dilemmas_scored,
        lean(Theory::Wvs, "Self-expression", "Survival"),
        lean(Theory::Mft, "Care", "Loyalty"),
    ));
    let mut labels = Vec::new();
    // gpt-3.5's answers are left out of the figure (they are in the table).
    let shown: Vec<usize> = (0..scored.len()).filter(|&k| k != 1).collect();
    let mut series: Vec<(String, Vec<f64>)> = shown
        .iter()
        .map(|&k| (scored[k].label.clone(), Vec::new()))
        .collect();
    for theory in [Theory::Wvs, Theory::Mft] {
        let t = theory as usize;
        for (l, entry) in all[0].theories[t].1.iter().enumerate() {
            let shares: Vec<Option<f64>> = shown
                .iter()
                .map(|&k| {
                    let e = &all[k].theories[t].1[l];
                    let total = e.selected + e.neglected;
                    (total > 0).then(|| e.selected as f64 / total as f64)
                })
                .collect();
            if shares.iter().all(Option::is_some) {
                labels.push(format!("{}: {}", theory.name(), entry.label));
                for (s, share) in series.iter_mut().zip(shares) {
                    s.1.push(share.unwrap_or_default());
                }
            }
        }
    }
    if !labels.is_empty() {
        report.figures.push(Figure {
            file: "value-shares.svg".into(),
            title: "Share of each WVS and MFT label's occurrences on the chosen side, S/(S+N) \
                    (score = 100·(2·share − 1); ½ is neutral; labels some chooser never met are \
                    left out)"
                .into(),
            svg: bar_chart("Chosen share of value labels", &labels, &series)?,
        });
    }
    Ok(())
}
