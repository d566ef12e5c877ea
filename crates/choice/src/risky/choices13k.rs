//! The choices13k data set (Peterson et al. 2021): `c13k_selections.csv` (one row per problem
//! and feedback condition with the share bRate of choices of B among n subjects) and
//! `c13k_problems.json` (each CSV row's 0-based position → its lotteries
//! {"A": [[p, x], …], "B": [[p, x], …]}, B expanded to all its outcomes).

use std::path::Path;

use choicelab_core::{Error, Location, Result};
use serde_json::Value;

use super::lottery::{Lottery, Problem, RiskyChoice};
use super::model::RiskyData;

/// The CSV file's name in the `choices13k/` folder.
pub const SELECTIONS: &str = "c13k_selections.csv";
/// The JSON file's name in the `choices13k/` folder.
pub const PROBLEMS: &str = "c13k_problems.json";

/// The columns read from the CSV.
const COLUMNS: [&str; 16] = [
    "Problem",
    "Feedback",
    "n",
    "Block",
    "Ha",
    "pHa",
    "La",
    "Hb",
    "pHb",
    "Lb",
    "LotShapeB",
    "LotNumB",
    "Amb",
    "Corr",
    "bRate",
    "bRate_std",
];

/// One row of `c13k_selections.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The CSV line it came from.
    pub line: u64,
    /// Problem id (shared by the feedback and no-feedback rows of a problem).
    pub problem: u64,
    /// Whether subjects saw outcomes after choosing.
    pub feedback: bool,
    /// Subjects.
    pub n: u32,
    /// Block of the experiment.
    pub block: u32,
    /// A's high outcome, its probability and A's low outcome.
    pub ha: f64,
    /// P(Ha).
    pub pha: f64,
    /// A's low outcome.
    pub la: f64,
    /// B's high outcome (the mean of its distribution when B is multi-outcome).
    pub hb: f64,
    /// P(Hb).
    pub phb: f64,
    /// B's low outcome.
    pub lb: f64,
    /// Shape of B's high-outcome distribution (0 none, 1 symmetric, 2 right-, 3 left-skewed).
    pub lot_shape_b: u32,
    /// Outcomes in B's high-outcome distribution.
    pub lot_num_b: u32,
    /// B's probabilities were hidden from subjects.
    pub amb: bool,
    /// Correlation of A's and B's outcomes (−1, 0, 1).
    pub corr: i32,
    /// Share of choices of B.
    pub b_rate: f64,
    /// Its standard deviation across subjects.
    pub b_rate_std: f64,
}

/// choices13k: the rows and, in the same order, their lotteries and choice shares.
#[derive(Debug, Clone)]
pub struct Choices13k {
    /// The CSV rows.
    pub rows: Vec<Selection>,
    /// Each row's problem, n and bRate.
    pub data: RiskyData,
}

/// Names of [`Choices13k::task_features`], in order.
pub const TASK_FEATURES: [&str; 14] = [
    "Ha",
    "pHa",
    "La",
    "Hb",
    "pHb",
    "Lb",
    "LotNumB",
    "LotShapeB=1",
    "LotShapeB=2",
    "LotShapeB=3",
    "Amb",
    "Corr",
    "Feedback",
    "Block",
];

impl Choices13k {
    /// Reads both files from `folder` (the data folder's `choices13k/`).
    pub fn read(folder: &Path) -> Result<Self> {
        let read = |name: &str| {
            let path = folder.join(name);
            std::fs::read_to_string(&path)
                .map(|text| (text, path.display().to_string()))
                .map_err(|e| Error::io(path, e))
        };
        let (csv, csv_name) = read(SELECTIONS)?;
        let (json, json_name) = read(PROBLEMS)?;
        Self::from_texts(&csv, &csv_name, &json, &json_name)
    }

    /// Parses the two files' texts, named in errors by `csv_name` and `json_name`. Every
    /// field is checked, every CSV row needs its JSON entry, and each entry's expected values
    /// must equal the CSV's pHa·Ha + (1 − pHa)·La and pHb·Hb + (1 − pHb)·Lb.
    pub fn from_texts(csv: &str, csv_name: &str, json: &str, json_name: &str) -> Result<Self> {
        let rows = parse_csv(csv, csv_name)?;
        let problems: Value = serde_json::from_str(json).map_err(|e| {
            Error::parse(
                Location::new(json_name).line(e.line() as u64),
                format!("not JSON: {e}"),
            )
        })?;
        let entries = problems.as_object().ok_or_else(|| {
            Error::parse(
                Location::new(json_name),
                "expected an object of row positions",
            )
        })?;
        if entries.len() != rows.len() {
            return Err(Error::invalid(
                Location::new(json_name),
                format!(
                    "{} entries for the {} rows of {csv_name}",
                    entries.len(),
                    rows.len()
                ),
            ));
        }
        let mut choices = Vec::with_capacity(rows.len());
        for (position, row) in rows.iter().enumerate() {
            let key = position.to_string();
            let entry = entries.get(&key).ok_or_else(|| {
                Error::invalid(
                    Location::new(json_name).field(&key),
                    format!("no entry for line {} of {csv_name}", row.line),
                )
            })?;
            let a = lottery(entry, &key, "A", json_name)?;
            let b = lottery(entry, &key, "B", json_name)?;
            for (lottery, side, ev) in [
                (&a, "A", row.pha * row.ha + (1.0 - row.pha) * row.la),
                (&b, "B", row.phb * row.hb + (1.0 - row.phb) * row.lb),
            ] {
                let expected = lottery.expected_value();
                if (expected - ev).abs() > 1e-6 * ev.abs().max(1.0) {
                    return Err(Error::invalid(
                        Location::new(json_name).field(format!("{key}.{side}")),
                        format!(
                            "expected value {expected} differs from {ev} of line {} of {csv_name}",
                            row.line
                        ),
                    ));
                }
            }
            choices.push(RiskyChoice::new(
                Problem { a, b },
                f64::from(row.n),
                row.b_rate,
            )?);
        }
        Ok(Self {
            rows,
            data: RiskyData::new(choices)?,
        })
    }

    /// Each row's problem id (the grouping for cross-validation).
    pub fn groups(&self) -> Vec<u64> {
        self.rows.iter().map(|r| r.problem).collect()
    }

    /// The task's description as numbers, row-major with the columns of [`TASK_FEATURES`]
    /// (booleans as 0/1, LotShapeB one-hot).
    pub fn task_features(&self) -> Vec<f64> {
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        self.rows
            .iter()
            .flat_map(|r| {
                [
                    r.ha,
                    r.pha,
                    r.la,
                    r.hb,
                    r.phb,
                    r.lb,
                    f64::from(r.lot_num_b),
                    flag(r.lot_shape_b == 1),
                    flag(r.lot_shape_b == 2),
                    flag(r.lot_shape_b == 3),
                    flag(r.amb),
                    f64::from(r.corr),
                    flag(r.feedback),
                    f64::from(r.block),
                ]
            })
            .collect()
    }
}

/// One side's [[p, x], …] of a JSON entry as a checked lottery.
fn lottery(entry: &Value, key: &str, side: &str, name: &str) -> Result<Lottery> {
    let at = |field: String| Location::new(name).field(field);
    let list = entry.get(side).and_then(Value::as_array).ok_or_else(|| {
        Error::parse(
            at(format!("{key}.{side}")),
            "expected a list of [p, x] pairs",
        )
    })?;
    let mut outcomes = Vec::with_capacity(list.len());
    for (i, pair) in list.iter().enumerate() {
        let numbers = pair
            .as_array()
            .filter(|v| v.len() == 2)
            .and_then(|v| Some((v[0].as_f64()?, v[1].as_f64()?)));
        outcomes.push(numbers.ok_or_else(|| {
            Error::parse(
                at(format!("{key}.{side}[{i}]")),
                format!("expected [p, x] as two numbers, got {pair}"),
            )
        })?);
    }
    Lottery::located(outcomes, &at(format!("{key}.{side}")))
}

/// The CSV rows, with every field checked.
fn parse_csv(text: &str, name: &str) -> Result<Vec<Selection>> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, line)) => line.split(',').map(str::trim).collect(),
        None => return Err(Error::parse(Location::new(name).line(1), "empty file")),
    };
    let mut index = [0; COLUMNS.len()];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = header.iter().position(|h| *h == column).ok_or_else(|| {
            Error::parse(
                Location::new(name).line(1).field(column),
                format!("the header lacks column `{column}`"),
            )
        })?;
    }
    let mut rows = Vec::new();
    for (number, line) in lines {
        let line_number = number as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            return Err(Error::parse(
                Location::new(name).line(line_number),
                format!("row has {} fields, expected {}", fields.len(), header.len()),
            ));
        }
        let field = |k: usize| {
            (
                fields[index[k]],
                Location::new(name).line(line_number).field(COLUMNS[k]),
            )
        };
        let number = |k: usize| -> Result<f64> {
            let (text, at) = field(k);
            text.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::parse(at, format!("`{text}` is not a finite number")))
        };
        let integer = |k: usize| -> Result<i64> {
            let (text, at) = field(k);
            text.parse::<i64>()
                .map_err(|_| Error::parse(at, format!("`{text}` is not an integer")))
        };
        let count = |k: usize, least: i64| -> Result<u32> {
            let value = integer(k)?;
            u32::try_from(value)
                .ok()
                .filter(|v| i64::from(*v) >= least)
                .ok_or_else(|| {
                    Error::invalid(field(k).1, format!("{value} is not an integer ≥ {least}"))
                })
        };
        let boolean = |k: usize| -> Result<bool> {
            let (text, at) = field(k);
            match text {
                "True" | "true" | "1" => Ok(true),
                "False" | "false" | "0" => Ok(false),
                _ => Err(Error::parse(at, format!("`{text}` is not True or False"))),
            }
        };
        let share = |k: usize| -> Result<f64> {
            let value = number(k)?;
            if (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                Err(Error::invalid(
                    field(k).1,
                    format!("{value} is not in [0, 1]"),
                ))
            }
        };
        let corr = integer(13)?;
        if !(-1..=1).contains(&corr) {
            return Err(Error::invalid(
                field(13).1,
                format!("{corr} is not −1, 0 or 1"),
            ));
        }
        rows.push(Selection {
            line: line_number,
            problem: u64::from(count(0, 0)?),
            feedback: boolean(1)?,
            n: count(2, 1)?,
            block: count(3, 0)?,
            ha: number(4)?,
            pha: share(5)?,
            la: number(6)?,
            hb: number(7)?,
            phb: share(8)?,
            lb: number(9)?,
            lot_shape_b: count(10, 0)?,
            lot_num_b: count(11, 1)?,
            amb: boolean(12)?,
            corr: corr as i32,
            b_rate: share(14)?,
            b_rate_std: number(15)?,
        });
    }
    Ok(rows)
}
