//! The long CSV reader of choice sets, with errors naming file, line and field.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::choice_sets::{Alternative, ChoiceSets};
use crate::csv_lines::{parse_field, text_field, LineReader};
use crate::error::{Error, Location, Result};

/// The columns every long CSV has; `available` may be left out (all available).
const REQUIRED: [&str; 3] = ["obs", "alt", "chosen"];

/// One row as read, before its observation is complete.
struct Row {
    line: u64,
    alternative: String,
    available: bool,
    chosen: bool,
    values: Vec<f64>,
}

impl ChoiceSets {
    /// Reads choice sets from a long CSV file; see [`ChoiceSets::from_long_csv_reader`].
    pub fn from_long_csv_path(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_long_csv_reader(file, &path.display().to_string())
    }

    /// Reads choice sets from CSV with one row per (observation, alternative) and the header
    /// `obs,alt,chosen[,available],attribute…`: `chosen` and `available` are 0 or 1, and every
    /// other column is a numeric attribute. An unavailable alternative may leave attributes
    /// empty or `NA` (they are never used). Rows of one observation need not be adjacent;
    /// observations keep the order of their first row.
    pub fn from_long_csv_reader(reader: impl Read, name: &str) -> Result<Self> {
        let mut lines = LineReader::new(reader, name);
        let header = lines.header("`obs,alt,chosen[,available],attribute…`")?;
        let header_line = lines.line();
        let column = |c: &str| header.iter().position(|h| h == c);
        let mut required = [0; 3];
        for (slot, wanted) in required.iter_mut().zip(REQUIRED) {
            *slot = column(wanted).ok_or_else(|| {
                Error::parse(
                    Location::new(name).line(header_line).field(wanted),
                    format!(
                        "the header lacks column `{wanted}`; expected \
                         `obs,alt,chosen[,available],attribute…`"
                    ),
                )
            })?;
        }
        let [obs_column, alt_column, chosen_column] = required;
        let available_column = column("available");
        let attribute_columns: Vec<usize> = (0..header.len())
            .filter(|&k| !matches!(header[k].as_str(), "obs" | "alt" | "chosen" | "available"))
            .collect();
        let attribute_names: Vec<&str> = attribute_columns
            .iter()
            .map(|&k| header[k].as_str())
            .collect();
        let columns = &header;
        let mut order: Vec<(String, Vec<Row>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some((line, fields)) = lines.next_record()? {
            if fields.len() != header.len() {
                return Err(Error::parse(
                    Location::new(name).line(line),
                    format!("row has {} fields, expected {}", fields.len(), header.len()),
                ));
            }
            let at = |k: usize| move || Location::new(name).line(line).field(columns[k].as_str());
            let obs = text_field(fields[obs_column], at(obs_column))?;
            let alternative = text_field(fields[alt_column], at(alt_column))?;
            for (k, text) in [(obs_column, obs), (alt_column, alternative)] {
                if text.is_empty() {
                    return Err(Error::invalid(at(k)(), "empty id"));
                }
            }
            let chosen = flag(fields[chosen_column], at(chosen_column))?;
            let available = match available_column {
                Some(k) => flag(fields[k], at(k))?,
                None => true,
            };
            let mut values = Vec::with_capacity(attribute_columns.len());
            for &k in &attribute_columns {
                let text = fields[k];
                let value = if !available && (text.is_empty() || text == b"NA") {
                    0.0
                } else {
                    let value: f64 = parse_field(text, at(k), "a number")?;
                    if !value.is_finite() {
                        return Err(Error::invalid(at(k)(), format!("{value} is not finite")));
                    }
                    value
                };
                values.push(value);
            }
            let slot = *index.entry(obs.to_string()).or_insert_with(|| {
                order.push((obs.to_string(), Vec::new()));
                order.len() - 1
            });
            order[slot].1.push(Row {
                line,
                alternative: alternative.to_string(),
                available,
                chosen,
                values,
            });
        }
        if order.is_empty() {
            return Err(Error::invalid(
                Location::new(name).line(header_line),
                "no observations after the header",
            ));
        }
        let mut sets = ChoiceSets::new(&attribute_names);
        for (id, rows) in &order {
            let alternatives: Vec<Alternative<'_>> = rows
                .iter()
                .map(|row| Alternative {
                    name: &row.alternative,
                    available: row.available,
                    chosen: row.chosen,
                    values: &row.values,
                })
                .collect();
            sets.push_located(id, &alternatives, |k| {
                Location::new(name).line(rows[k].line).field("obs")
            })?;
        }
        Ok(sets)
    }
}

/// A 0/1 field.
fn flag(bytes: &[u8], at: impl FnOnce() -> Location) -> Result<bool> {
    match bytes {
        b"1" => Ok(true),
        b"0" => Ok(false),
        _ => Err(Error::parse(
            at(),
            format!("`{}` is not 0 or 1", String::from_utf8_lossy(bytes)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ChoiceSets> {
        ChoiceSets::from_long_csv_reader(text.as_bytes(), "sets.csv")
    }

    #[test]
    fn reads_interleaved_rows_and_unavailable_gaps() {
        let sets = read(
            "obs,alt,chosen,available,time\n\
             1,bus,0,1,10\n\
             2,bus,1,1,12\n\
             1,car,1,1,5\n\
             \n\
             2,car,0,0,NA\n",
        )
        .unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets.attributes(), &["time".to_string()]);
        let first = sets.observation(0);
        assert_eq!(first.values, &[10.0, 5.0]);
        assert_eq!(first.chosen, 1);
        let second = sets.observation(1);
        assert_eq!(second.available, &[true, false]);
        assert_eq!(second.values, &[12.0, 0.0]);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let missing = read("obs,alt,time\n1,a,2\n").unwrap_err().to_string();
        assert!(
            missing.contains("sets.csv") && missing.contains("`chosen`"),
            "{missing}"
        );
        let flag = read("obs,alt,chosen,t\n1,a,yes,2\n")
            .unwrap_err()
            .to_string();
        assert!(
            flag.contains("sets.csv:2:") && flag.contains("`chosen`") && flag.contains("0 or 1"),
            "{flag}"
        );
        let number = read("obs,alt,chosen,t\n1,a,1,2\n1,b,0,x\n")
            .unwrap_err()
            .to_string();
        assert!(
            number.contains("sets.csv:3:") && number.contains("field `t`"),
            "{number}"
        );
        let twice = read("obs,alt,chosen\n1,a,1\n1,b,0\n\n1,a,0\n")
            .unwrap_err()
            .to_string();
        assert!(
            twice.contains("sets.csv:5:") && twice.contains("twice"),
            "{twice}"
        );
        let none = read("obs,alt,chosen\n1,a,0\n1,b,0\n")
            .unwrap_err()
            .to_string();
        assert!(none.contains("no chosen"), "{none}");
        let empty = read("obs,alt,chosen\n").unwrap_err().to_string();
        assert!(empty.contains("no observations"), "{empty}");
        let nothing = read("").unwrap_err().to_string();
        assert!(nothing.contains("empty file"), "{nothing}");
    }
}
