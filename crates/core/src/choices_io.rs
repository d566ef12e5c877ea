//! Readers for comparisons: CSV in three layouts, with errors naming file, line and field.

use std::io::Read;
use std::path::Path;

use crate::choices::{relocate, Comparisons, Items, Outcome, SetChoices};
use crate::csv_lines::{parse_field, text_field, LineReader};
use crate::error::{Error, Location, Result};

/// The CSV layouts of comparisons, told apart by their header.
const LAYOUTS: &str = "`winner,loser[,count]`, `a,b,winner` (winner is a's name, b's name or \
                       `tie`) or `a,b,p_a` (P(a preferred to b) in [0, 1]), each with an \
                       optional `weight` column";

impl Comparisons {
    /// Reads comparisons from a CSV file; see [`Comparisons::from_csv_reader`].
    pub fn from_csv_path(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_csv_reader(file, &path.display().to_string())
    }

    /// Reads comparisons from CSV with a header naming one of three layouts:
    /// `winner,loser[,count]`, `a,b,winner` or `a,b,p_a`; any of them may add a `weight`
    /// column. Items are named by strings and numbered in order of first appearance.
    pub fn from_csv_reader(reader: impl Read, name: &str) -> Result<Self> {
        let mut lines = LineReader::new(reader, name);
        let header = lines.header(LAYOUTS)?;
        let column = |c: &str| header.iter().position(|h| h == c);
        let header_line = lines.line();
        let (first, second, layout) =
            match (column("winner"), column("loser"), column("a"), column("b")) {
                (Some(w), Some(l), _, _) => (w, l, Layout::WinnerLoser(column("count"))),
                (Some(w), None, Some(a), Some(b)) => (a, b, Layout::Named(w)),
                (None, _, Some(a), Some(b)) => match column("p_a") {
                    Some(p) => (a, b, Layout::Soft(p)),
                    None => return Err(unknown_layout(name, header_line)),
                },
                _ => return Err(unknown_layout(name, header_line)),
            };
        let weight_column = column("weight");
        let columns = &header;
        let mut items = Items::default();
        let mut raw = Vec::new();
        while let Some((line, row)) = lines.next_record()? {
            if row.len() != columns.len() {
                return Err(Error::parse(
                    Location::new(name).line(line),
                    format!("row has {} fields, expected {}", row.len(), columns.len()),
                ));
            }
            let at = |k: usize| move || Location::new(name).line(line).field(columns[k].as_str());
            let a_name = text_field(row[first], at(first))?;
            let b_name = text_field(row[second], at(second))?;
            for (k, text) in [(first, a_name), (second, b_name)] {
                if text.is_empty() {
                    return Err(Error::invalid(at(k)(), "empty item name"));
                }
            }
            if a_name == b_name {
                return Err(Error::invalid(
                    at(second)(),
                    format!("item `{a_name}` is compared with itself"),
                ));
            }
            let (outcome, mut weight) = match layout {
                Layout::WinnerLoser(count) => {
                    let weight = match count {
                        Some(c) => parse_field::<f64>(row[c], at(c), "a number")?,
                        None => 1.0,
                    };
                    (Outcome::First, weight)
                }
                Layout::Named(w) => {
                    let winner = text_field(row[w], at(w))?;
                    let outcome = if winner == a_name {
                        Outcome::First
                    } else if winner == b_name {
                        Outcome::Second
                    } else if winner.eq_ignore_ascii_case("tie") {
                        Outcome::Tie
                    } else {
                        return Err(Error::invalid(
                            at(w)(),
                            format!("`{winner}` is neither `{a_name}`, `{b_name}` nor `tie`"),
                        ));
                    };
                    (outcome, 1.0)
                }
                Layout::Soft(p) => {
                    let label: f64 = parse_field(row[p], at(p), "a number")?;
                    if !(0.0..=1.0).contains(&label) {
                        return Err(Error::invalid(
                            at(p)(),
                            format!("label {label} is outside [0, 1]"),
                        ));
                    }
                    (Outcome::Probability(label), 1.0)
                }
            };
            if let Some(w) = weight_column {
                weight *= parse_field::<f64>(row[w], at(w), "a number")?;
            }
            if !(weight > 0.0 && weight.is_finite()) {
                let k = weight_column.or(match layout {
                    Layout::WinnerLoser(count) => count,
                    _ => None,
                });
                let at = k.map_or_else(|| Location::new(name).line(line), |k| at(k)());
                return Err(Error::invalid(
                    at,
                    format!("weight {weight} must be positive"),
                ));
            }
            let (a, b) = (items.intern(a_name), items.intern(b_name));
            raw.push((a, b, outcome, weight));
        }
        if raw.is_empty() {
            return Err(Error::parse(
                Location::new(name).line(lines.line() + 1),
                "no comparisons after the header",
            ));
        }
        let mut data = Comparisons::new(items);
        for (a, b, outcome, weight) in raw {
            data.push(a, b, outcome, weight)?;
        }
        Ok(data)
    }
}

#[derive(Clone, Copy)]
enum Layout {
    WinnerLoser(Option<usize>),
    Named(usize),
    Soft(usize),
}

fn unknown_layout(name: &str, line: u64) -> Error {
    Error::parse(
        Location::new(name).line(line),
        format!("unknown header; expected {LAYOUTS}"),
    )
}

impl SetChoices {
    /// Reads rankings and top-1 choices from a JSON-lines file; see
    /// [`SetChoices::from_jsonl_str`].
    pub fn from_jsonl_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_jsonl_str(&text, &path.display().to_string())
    }

    /// Reads JSON lines, each either a ranking, best first (`["fig", "pear", "kiwi"]`), or a
    /// top-1 choice (`{"winner": "fig", "others": ["pear", "kiwi"]}`). Items are strings (or
    /// numbers, read as their text) numbered in order of first appearance; blank lines are
    /// skipped.
    pub fn from_jsonl_str(text: &str, name: &str) -> Result<Self> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Line {
            Ranking(Vec<serde_json::Value>),
            Top1 {
                winner: serde_json::Value,
                others: Vec<serde_json::Value>,
            },
        }
        let mut items = Items::default();
        let mut parsed: Vec<(u64, Vec<u32>, bool)> = Vec::new();
        for (k, line) in text.lines().enumerate() {
            let number = k as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let at = || Location::new(name).line(number);
            let record: Line = serde_json::from_str(line).map_err(|_| {
                Error::parse(
                    at(),
                    "expected a ranking `[\"a\", \"b\", …]` or a choice \
                     `{\"winner\": \"a\", \"others\": [\"b\", …]}`",
                )
            })?;
            let mut intern = |value: &serde_json::Value, field: &str| -> Result<u32> {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    other => {
                        return Err(Error::parse(
                            at().field(field),
                            format!("item {other} is not a string or number"),
                        ))
                    }
                };
                Ok(items.intern(&text))
            };
            match record {
                Line::Ranking(values) => {
                    let ids = values
                        .iter()
                        .map(|v| intern(v, "ranking"))
                        .collect::<Result<Vec<_>>>()?;
                    parsed.push((number, ids, true));
                }
                Line::Top1 { winner, others } => {
                    let mut ids = vec![intern(&winner, "winner")?];
                    for v in &others {
                        ids.push(intern(v, "others")?);
                    }
                    parsed.push((number, ids, false));
                }
            }
        }
        if parsed.is_empty() {
            return Err(Error::parse(
                Location::new(name).line(1),
                "no rankings or choices",
            ));
        }
        let mut data = SetChoices::new(items);
        for (number, ids, is_ranking) in parsed {
            let result = if is_ranking {
                data.push_ranking(&ids)
            } else {
                data.push(ids[0], &ids[1..])
            };
            result.map_err(|e| relocate(e, Location::new(name).line(number)))?;
        }
        Ok(data)
    }
}
