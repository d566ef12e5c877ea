//! The paper's value scores: which theory labels the chosen actions serve more often than the
//! neglected ones, score_d = 100 · (S_d − N_d) / (S_d + N_d).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::data::{ActionRow, ActionType, Theory, ValueMap};

/// The counts and score of one theory label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScore {
    /// The label (`Care`, `Self-expression`, …).
    pub label: String,
    /// S_d: occurrences in the value lists of selected rows (repeats count).
    pub selected: usize,
    /// N_d: occurrences in the value lists of neglected rows.
    pub neglected: usize,
}

impl LabelScore {
    /// 100 · (S − N) / (S + N); None when the label never occurs.
    pub fn score(&self) -> Option<f64> {
        let total = self.selected + self.neglected;
        (total > 0).then(|| 100.0 * (self.selected as f64 - self.neglected as f64) / total as f64)
    }
}

/// The scores of every theory's labels under one chooser's choices.
#[derive(Debug, Clone)]
pub struct ValueScores {
    /// Per theory, its labels in name order (labels of `values.csv` and of the rows).
    pub theories: Vec<(Theory, Vec<LabelScore>)>,
    /// Dilemmas whose rows were scored (a choice was given).
    pub dilemmas_scored: usize,
    /// Dilemmas of the rows without a choice (not asked, a tie or NA): left out.
    pub dilemmas_without_choice: usize,
}

impl ValueScores {
    /// The entry of `label` under `theory`.
    pub fn label(&self, theory: Theory, label: &str) -> Option<&LabelScore> {
        self.theories
            .iter()
            .find(|(t, _)| *t == theory)
            .and_then(|(_, labels)| labels.iter().find(|l| l.label == label))
    }
}

/// The choice a P(do) implies: to do above ½, not to do below, None for an exact tie.
pub fn choice_from_p_do(p_do: f64) -> Option<ActionType> {
    if p_do > 0.5 {
        Some(ActionType::ToDo)
    } else if p_do < 0.5 {
        Some(ActionType::NotToDo)
    } else {
        None
    }
}

/// Scores the theory labels: a row is selected when its action type is the chooser's choice
/// for its dilemma, else neglected; dilemmas without a choice are left out.
pub fn score_values(
    rows: &[ActionRow],
    choices: &HashMap<u64, ActionType>,
    values: &ValueMap,
) -> ValueScores {
    let mut counts: BTreeMap<(Theory, String), (usize, usize)> = BTreeMap::new();
    for theory in Theory::ALL {
        for label in values.labels_of(theory) {
            counts.insert((theory, label), (0, 0));
        }
    }
    let (mut scored, mut unscored) = (BTreeSet::new(), BTreeSet::new());
    for row in rows {
        let Some(choice) = choices.get(&row.idx) else {
            unscored.insert(row.idx);
            continue;
        };
        scored.insert(row.idx);
        let selected = row.action_type == *choice;
        for theory in Theory::ALL {
            for label in row.labels(theory).iter().flatten() {
                let entry = counts.entry((theory, label.clone())).or_default();
                if selected {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
    }
    let theories = Theory::ALL
        .iter()
        .map(|&theory| {
            let labels = counts
                .iter()
                .filter(|((t, _), _)| *t == theory)
                .map(|((_, label), &(selected, neglected))| LabelScore {
                    label: label.clone(),
                    selected,
                    neglected,
                })
                .collect();
            (theory, labels)
        })
        .collect();
    ValueScores {
        theories,
        dilemmas_scored: scored.len(),
        dilemmas_without_choice: unscored.len(),
    }
}

/// How the per-action table's theory lists agree with `values.csv`'s mapping.
#[derive(Debug, Clone, Default)]
pub struct MappingCheck {
    /// (value, label) pairs compared per theory, in [`Theory::ALL`] order.
    pub compared: [usize; 5],
    /// Pairs whose labels differ, per theory.
    pub disagreements: [usize; 5],
    /// Value names of the rows that `values.csv` does not list (repeats count).
    pub unknown_values: usize,
    /// The first few disagreements, as text.
    pub examples: Vec<String>,
}

/// Compares every row's theory labels with `values.csv`'s labels of the same values.
pub fn check_mapping(rows: &[ActionRow], values: &ValueMap) -> MappingCheck {
    let mut check = MappingCheck::default();
    for row in rows {
        for (i, value) in row.values.iter().enumerate() {
            for (t, theory) in Theory::ALL.iter().enumerate() {
                let Some(mapped) = values.label(value, *theory) else {
                    if t == 0 {
                        check.unknown_values += 1;
                    }
                    continue;
                };
                check.compared[t] += 1;
                let listed = row.labels(*theory)[i].as_deref();
                if listed != mapped {
                    check.disagreements[t] += 1;
                    if check.examples.len() < 5 {
                        check.examples.push(format!(
                            "line {}: `{value}` is {:?} under {} in the row, {:?} in values.csv",
                            row.line,
                            listed,
                            theory.name(),
                            mapped
                        ));
                    }
                }
            }
        }
    }
    check
}
