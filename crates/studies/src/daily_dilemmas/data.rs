//! Readers of the DailyDilemmas files: quoted CSV (commas, doubled quotes and line breaks
//! inside quotes) and the Python list literals of the per-action table (bare `nan` = no label).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use choicelab_core::{DataDir, Error, Location, Result};
use serde::{Deserialize, Serialize};

/// The 1,360 dilemmas, relative to the data folder.
pub const DILEMMAS_FILE: &str = "dailydilemmas/dilemma.csv";
/// The 301 values and their five theory labels.
pub const VALUES_FILE: &str = "dailydilemmas/values.csv";
/// The full per-action table (not shipped; `choicelab data fetch`).
pub const ACTIONS_FILE: &str = "dailydilemmas/dilemmas_with_detail_by_action.csv";
/// The shipped 8-row excerpt of the per-action table (4 dilemmas × 2 actions).
pub const ACTIONS_EXCERPT_FILE: &str = "dailydilemmas/dilemmas_with_detail_by_action_test.csv";

/// One of the five value theories the 301 values map onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theory {
    /// World Values Survey (Self-expression, Survival, Secular-rational, Traditional).
    Wvs,
    /// Moral Foundations Theory (Care, Fairness, Loyalty, Authority, Purity).
    Mft,
    /// Aristotle's virtues (Truthfulness, Courage, …).
    Virtue,
    /// Plutchik's emotions.
    Emotion,
    /// Maslow's hierarchy of needs.
    Maslow,
}

impl Theory {
    /// The five theories, in report order.
    pub const ALL: [Theory; 5] = [
        Theory::Wvs,
        Theory::Mft,
        Theory::Virtue,
        Theory::Emotion,
        Theory::Maslow,
    ];

    /// The name in reports and in `values.csv`'s header.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wvs => "WVS",
            Self::Mft => "MFT",
            Self::Virtue => "Virtue",
            Self::Emotion => "Emotion",
            Self::Maslow => "Maslow",
        }
    }

    /// The per-action table's list column.
    pub fn column(self) -> &'static str {
        match self {
            Self::Wvs => "wvs",
            Self::Mft => "mft",
            Self::Virtue => "virtue",
            Self::Emotion => "emotion",
            Self::Maslow => "maslow",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which of a dilemma's two actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionType {
    /// Do what the dilemma's question asks.
    ToDo,
    /// Do not.
    NotToDo,
}

impl ActionType {
    /// The spelling of the per-action table (`to_do`, `not_to_do`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToDo => "to_do",
            Self::NotToDo => "not_to_do",
        }
    }

    /// The action type a cell names, if it names one.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "to_do" => Some(Self::ToDo),
            "not_to_do" => Some(Self::NotToDo),
            _ => None,
        }
    }
}

/// One dilemma of `dilemma.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dilemma {
    /// The unnamed row-number column.
    pub row: usize,
    /// The dataset's id (`idx`), shared with the per-action table.
    pub idx: u64,
    /// The everyday situation it grew from.
    pub basic_situation: String,
    /// The dilemma as shown to the model, ending in its question.
    pub situation: String,
}

/// `values.csv`: each value's label under each theory (None = no mapping).
#[derive(Debug, Clone)]
pub struct ValueMap {
    /// The values in file order.
    pub values: Vec<String>,
    labels: HashMap<String, [Option<String>; 5]>,
}

impl ValueMap {
    /// The label of `value` under `theory`: None when the value is not listed, Some(None)
    /// when it is listed without a label.
    pub fn label(&self, value: &str, theory: Theory) -> Option<Option<&str>> {
        self.labels
            .get(value)
            .map(|labels| labels[theory.index()].as_deref())
    }

    /// The distinct labels of `theory`, sorted.
    pub fn labels_of(&self, theory: Theory) -> BTreeSet<String> {
        self.labels
            .values()
            .filter_map(|labels| labels[theory.index()].clone())
            .collect()
    }
}

/// One row of the per-action table: one action of one dilemma and the values it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRow {
    /// The line the row starts on.
    pub line: u64,
    /// The dilemma's id.
    pub idx: u64,
    /// Whether this is the dilemma's "to do" or "not to do" action.
    pub action_type: ActionType,
    /// The action's text.
    pub action: String,
    /// `values_names`: the values the action serves.
    pub values: Vec<String>,
    /// The theory lists (`wvs`, `mft`, …), aligned element-wise with `values`.
    labels: [Vec<Option<String>>; 5],
    /// gpt-3.5's answer to the dilemma (`model_resp_gpt35_clean`), None when absent or NA.
    pub gpt35: Option<ActionType>,
    /// gpt-4's answer to the dilemma (`model_resp_gpt4_clean`), None when absent or NA.
    pub gpt4: Option<ActionType>,
}

impl ActionRow {
    /// The labels of `theory`, one per value (None = `nan`).
    pub fn labels(&self, theory: Theory) -> &[Option<String>] {
        &self.labels[theory.index()]
    }
}

/// Which per-action file was read.
#[derive(Debug, Clone)]
pub struct Actions {
    /// The file read.
    pub path: PathBuf,
    /// True for the full table, false for the shipped excerpt.
    pub full: bool,
    /// Its rows in file order.
    pub rows: Vec<ActionRow>,
}

/// A quoted-CSV file read whole: its header and records, each with the line it starts on.
struct CsvTable {
    name: String,
    header: Vec<String>,
    records: Vec<(u64, Vec<String>)>,
}

impl CsvTable {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&path.display().to_string(), &text)
    }

    fn parse(name: &str, text: &str) -> Result<Self> {
        let mut records = split_records(name, text)?.into_iter();
        let Some((_, header)) = records.next() else {
            return Err(Error::parse(
                Location::new(name).line(1),
                "empty file: expected a header",
            ));
        };
        let records: Vec<_> = records.collect();
        for (line, fields) in &records {
            if fields.len() != header.len() {
                return Err(Error::parse(
                    Location::new(name).line(*line),
                    format!(
                        "expected {} fields as in the header, found {}",
                        header.len(),
                        fields.len()
                    ),
                ));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            header,
            records,
        })
    }

    /// The index of column `column`, or an error naming the header line.
    fn column(&self, column: &str) -> Result<usize> {
        self.header.iter().position(|h| h == column).ok_or_else(|| {
            Error::parse(
                Location::new(&self.name).line(1).field(column),
                format!("missing column; the header has {:?}", self.header),
            )
        })
    }

    fn at(&self, line: u64, column: &str) -> Location {
        Location::new(&self.name).line(line).field(column)
    }
}

/// Splits CSV text into records (RFC 4180 quoting; blank lines skipped), each with the line
/// it starts on.
fn split_records(name: &str, text: &str) -> Result<Vec<(u64, Vec<String>)>> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let (mut line, mut start) = (1u64, 1u64);
    // `quoted`: inside quotes; `closed`: the field's closing quote has been read.
    let (mut quoted, mut closed) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    closed = true;
                }
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                fields.push(std::mem::take(&mut field));
                closed = false;
            }
            '\n' => {
                fields.push(std::mem::take(&mut field));
                let blank = fields.len() == 1 && fields[0].trim().is_empty() && !closed;
                if blank {
                    fields.clear();
                } else {
                    records.push((start, std::mem::take(&mut fields)));
                }
                closed = false;
                line += 1;
                start = line;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '"' if field.is_empty() && !closed => quoted = true,
            _ if closed => {
                if !c.is_whitespace() {
                    return Err(Error::parse(
                        Location::new(name)
                            .line(line)
                            .field(format!("column {}", fields.len() + 1)),
                        format!("`{c}` after a closing quote"),
                    ));
                }
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(Error::parse(
            Location::new(name)
                .line(start)
                .field(format!("column {}", fields.len() + 1)),
            "a quoted field is never closed",
        ));
    }
    if !field.is_empty() || !fields.is_empty() || closed {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// The items of a Python list literal of strings, with bare `nan` / `None` as no label:
/// `['Care', nan, "it's"]`. The message says what is wrong otherwise.
pub fn parse_python_list(text: &str) -> std::result::Result<Vec<Option<String>>, String> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| format!("`{text}` is not a list literal [..]"))?;
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Ok(items);
        };
        if first == '\'' || first == '"' {
            chars.next();
            let mut item = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated string in `{text}`")),
                    Some('\\') => match chars.next() {
                        Some('n') => item.push('\n'),
                        Some('t') => item.push('\t'),
                        Some(other) => item.push(other),
                        None => return Err(format!("unterminated string in `{text}`")),
                    },
                    Some(c) if c == first => break,
                    Some(c) => item.push(c),
                }
            }
            items.push(Some(item));
        } else {
            let mut token = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                token.push(c);
                chars.next();
            }
            match token.trim() {
                "nan" | "NaN" | "None" => items.push(None),
                other => return Err(format!("unexpected `{other}` in `{text}`")),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Ok(items),
            Some(',') => {}
            Some(c) => return Err(format!("expected `,` or `]`, found `{c}` in `{text}`")),
        }
    }
}

/// The path of `relative` in the data folder, or [`Error::MissingData`].
fn data_file(data: Option<&DataDir>, relative: &str) -> Result<PathBuf> {
    match data {
        Some(data) => data.file(relative),
        None => Err(Error::MissingData(format!(
            "daily-dilemmas needs {relative}, and no data folder was found (--data DIR, \
             $CHOICELAB_DATA, or `choicelab data fetch`)"
        ))),
    }
}

/// Reads `dilemma.csv` from the data folder.
pub fn load_dilemmas(data: Option<&DataDir>) -> Result<Vec<Dilemma>> {
    read_dilemmas(&data_file(data, DILEMMAS_FILE)?)
}

/// Reads `values.csv` from the data folder.
pub fn load_values(data: Option<&DataDir>) -> Result<ValueMap> {
    read_values(&data_file(data, VALUES_FILE)?)
}

/// Reads the full per-action table when the data folder has it, else the shipped excerpt.
pub fn load_actions(data: Option<&DataDir>) -> Result<Actions> {
    let (path, full) = match data_file(data, ACTIONS_FILE) {
        Ok(path) => (path, true),
        Err(_) => (data_file(data, ACTIONS_EXCERPT_FILE)?, false),
    };
    let rows = read_actions(&path)?;
    Ok(Actions { path, full, rows })
}

/// Reads a `dilemma.csv`: unnamed row number, idx, basic_situation, dilemma_situation.
pub fn read_dilemmas(path: &Path) -> Result<Vec<Dilemma>> {
    let table = CsvTable::read(path)?;
    let row = table.column("")?;
    let idx = table.column("idx")?;
    let basic = table.column("basic_situation")?;
    let situation = table.column("dilemma_situation")?;
    let mut seen = HashSet::new();
    let mut dilemmas = Vec::with_capacity(table.records.len());
    for (line, fields) in &table.records {
        let dilemma = Dilemma {
            row: parse_integer(&table, *line, "", &fields[row])? as usize,
            idx: parse_integer(&table, *line, "idx", &fields[idx])?,
            basic_situation: fields[basic].clone(),
            situation: fields[situation].trim().to_owned(),
        };
        if dilemma.situation.is_empty() {
            return Err(Error::invalid(
                table.at(*line, "dilemma_situation"),
                "empty dilemma",
            ));
        }
        if !seen.insert(dilemma.idx) {
            return Err(Error::invalid(
                table.at(*line, "idx"),
                format!("idx {} appears twice", dilemma.idx),
            ));
        }
        dilemmas.push(dilemma);
    }
    Ok(dilemmas)
}

/// Reads a `values.csv`: unnamed row number, value, WVS, MFT, Virtue, Emotion, Maslow.
pub fn read_values(path: &Path) -> Result<ValueMap> {
    let table = CsvTable::read(path)?;
    let value = table.column("value")?;
    let columns = Theory::ALL.map(|t| table.column(t.name()));
    let mut theory_columns = [0; 5];
    for (slot, column) in theory_columns.iter_mut().zip(columns) {
        *slot = column?;
    }
    let mut values = Vec::with_capacity(table.records.len());
    let mut labels = HashMap::new();
    for (line, fields) in &table.records {
        let name = fields[value].trim().to_owned();
        if name.is_empty() {
            return Err(Error::invalid(table.at(*line, "value"), "empty value name"));
        }
        let mapped = theory_columns.map(|c| {
            let label = fields[c].trim();
            (!label.is_empty()).then(|| label.to_owned())
        });
        if labels.insert(name.clone(), mapped).is_some() {
            return Err(Error::invalid(
                table.at(*line, "value"),
                format!("value `{name}` appears twice"),
            ));
        }
        values.push(name);
    }
    Ok(ValueMap { values, labels })
}

/// Reads a per-action table (`dilemmas_with_detail_by_action*.csv`). The gpt-3.5 and gpt-4
/// answer columns are optional.
pub fn read_actions(path: &Path) -> Result<Vec<ActionRow>> {
    let table = CsvTable::read(path)?;
    let idx = table.column("idx")?;
    let action_type = table.column("action_type")?;
    let action = table.column("action")?;
    let names = table.column("values_names")?;
    let mut theory_columns = [0; 5];
    for (slot, theory) in theory_columns.iter_mut().zip(Theory::ALL) {
        *slot = table.column(theory.column())?;
    }
    let answer_columns = ["model_resp_gpt35_clean", "model_resp_gpt4_clean"]
        .map(|c| table.header.iter().position(|h| h == c).map(|i| (c, i)));
    let mut rows = Vec::with_capacity(table.records.len());
    // The first row's answer of each dilemma, per model, to check the second row agrees.
    let mut answers: HashMap<(u64, usize), Option<ActionType>> = HashMap::new();
    for (line, fields) in &table.records {
        let line = *line;
        let list = |column: usize, name: &str| {
            parse_python_list(&fields[column]).map_err(|m| Error::parse(table.at(line, name), m))
        };
        let values = list(names, "values_names")?
            .into_iter()
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| Error::invalid(table.at(line, "values_names"), "a value is nan"))?;
        let mut labels: [Vec<Option<String>>; 5] = Default::default();
        for ((slot, &column), theory) in labels.iter_mut().zip(&theory_columns).zip(Theory::ALL) {
            *slot = list(column, theory.column())?;
            if slot.len() != values.len() {
                return Err(Error::invalid(
                    table.at(line, theory.column()),
                    format!(
                        "{} labels for {} values_names: the lists must align",
                        slot.len(),
                        values.len()
                    ),
                ));
            }
        }
        let dilemma = parse_integer(&table, line, "idx", &fields[idx])?;
        let mut model_answers = [None, None];
        for (k, column) in answer_columns.iter().enumerate() {
            let Some((name, column)) = column else {
                continue;
            };
            let answer = ActionType::parse(&fields[*column]);
            if let Some(first) = answers.insert((dilemma, k), answer) {
                if first != answer {
                    return Err(Error::invalid(
                        table.at(line, name),
                        format!(
                            "dilemma {dilemma}: this row's answer differs from its other row's"
                        ),
                    ));
                }
            }
            model_answers[k] = answer;
        }
        rows.push(ActionRow {
            line,
            idx: dilemma,
            action_type: ActionType::parse(&fields[action_type]).ok_or_else(|| {
                Error::parse(
                    table.at(line, "action_type"),
                    format!("`{}` is not to_do or not_to_do", fields[action_type]),
                )
            })?,
            action: fields[action].clone(),
            values,
            labels,
            gpt35: model_answers[0],
            gpt4: model_answers[1],
        });
    }
    Ok(rows)
}

fn parse_integer(table: &CsvTable, line: u64, column: &str, text: &str) -> Result<u64> {
    text.trim().parse().map_err(|_| {
        Error::parse(
            table.at(line, column),
            format!("`{text}` is not a non-negative integer"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_doubled_quotes_and_line_breaks() {
        let text = "a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n\n2,\"two\nlines\",z\n3,,\"\"";
        let table = CsvTable::parse("t.csv", text).unwrap();
        assert_eq!(table.header, ["a", "b", "c"]);
        assert_eq!(
            table.records,
            vec![
                (2, vec!["1".into(), "x, y".into(), "say \"hi\"".into()]),
                (4, vec!["2".into(), "two\nlines".into(), "z".into()]),
                (6, vec!["3".into(), String::new(), String::new()]),
            ]
        );
        let error = CsvTable::parse("t.csv", "a,b\n1,\"open\n2,3\n")
            .err()
            .unwrap();
        assert!(error.to_string().starts_with("t.csv:2"), "{error}");
        let error = CsvTable::parse("t.csv", "a,b\n1,2\n3\n").err().unwrap();
        assert!(error.to_string().starts_with("t.csv:3"), "{error}");
        let error = CsvTable::parse("t.csv", "a,b\n1,\"2\"x\n").err().unwrap();
        assert!(error.to_string().contains("column 2"), "{error}");
    }

    #[test]
    fn python_lists_read_nan_as_no_label() {
        assert_eq!(
            parse_python_list("[nan, 'Care', \"it's\", None, 'a\\'b']").unwrap(),
            vec![
                None,
                Some("Care".into()),
                Some("it's".into()),
                None,
                Some("a'b".into())
            ]
        );
        assert_eq!(
            parse_python_list("[]").unwrap(),
            Vec::<Option<String>>::new()
        );
        assert_eq!(parse_python_list("['x',]").unwrap(), vec![Some("x".into())]);
        assert!(parse_python_list("['x' 'y']").is_err());
        assert!(parse_python_list("[care]").is_err());
        assert!(parse_python_list("'x'").is_err());
        assert!(parse_python_list("['x]").is_err());
    }
}
