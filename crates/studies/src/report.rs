//! What a study returns, and how it is written: `report.md`, `metrics.json` and SVG figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use choicelab_core::{Error, Result};

/// A metric value: a number or a short text.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// A measured number.
    Number(f64),
    /// A label or verdict.
    Text(String),
}

/// A table of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Caption.
    pub title: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows of cells, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with a caption and column headers.
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Self {
        Self {
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

/// An SVG figure of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name inside the report folder (`residuals.svg`).
    pub file: String,
    /// Caption.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// The result of running a study: the claim, the configuration and what was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The study's name.
    pub study: String,
    /// Title of the report.
    pub title: String,
    /// The claim being reproduced, with its source.
    pub claim: String,
    /// The configuration as TOML.
    pub config: String,
    /// Findings and caveats, one paragraph each.
    pub notes: Vec<String>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Figures.
    pub figures: Vec<Figure>,
    /// Flat metrics: dotted names to values.
    pub metrics: BTreeMap<String, Metric>,
}

impl Report {
    /// An empty report for `study`.
    pub fn new(study: &str, title: &str, claim: &str, config: String) -> Self {
        Self {
            study: study.into(),
            title: title.into(),
            claim: claim.into(),
            config,
            notes: Vec::new(),
            tables: Vec::new(),
            figures: Vec::new(),
            metrics: BTreeMap::new(),
        }
    }

    /// Records a numeric metric.
    pub fn number(&mut self, name: impl Into<String>, value: f64) {
        self.metrics.insert(name.into(), Metric::Number(value));
    }

    /// The numeric metric `name`, if there is one.
    pub fn number_of(&self, name: &str) -> Option<f64> {
        match self.metrics.get(name) {
            Some(Metric::Number(x)) => Some(*x),
            _ => None,
        }
    }

    /// Records a text metric.
    pub fn text(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.metrics.insert(name.into(), Metric::Text(value.into()));
    }

    /// Adds another study's report as a part of this one: its metrics under `prefix.`, its
    /// figures with `prefix-` file names, its tables and notes under its title.
    pub fn absorb(&mut self, prefix: &str, part: Report) {
        self.notes
            .push(format!("**{}** — {}", part.title, part.claim));
        self.notes
            .extend(part.notes.into_iter().map(|n| format!("{prefix}: {n}")));
        for mut table in part.tables {
            table.title = format!("{prefix}: {}", table.title);
            self.tables.push(table);
        }
        for mut figure in part.figures {
            figure.file = format!("{prefix}-{}", figure.file);
            figure.title = format!("{prefix}: {}", figure.title);
            self.figures.push(figure);
        }
        for (name, value) in part.metrics {
            self.metrics.insert(format!("{prefix}.{name}"), value);
        }
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n", self.title);
        let _ = writeln!(
            md,
            "Study `{}`.\n\n## Claim\n\n{}\n",
            self.study, self.claim
        );
        let _ = writeln!(md, "## Configuration\n\n```toml\n{}```\n", self.config);
        if !self.notes.is_empty() {
            let _ = writeln!(md, "## Findings\n");
            for note in &self.notes {
                let _ = writeln!(md, "- {note}");
            }
            md.push('\n');
        }
        if !self.tables.is_empty() {
            let _ = writeln!(md, "## Results\n");
        }
        for table in &self.tables {
            let _ = writeln!(md, "### {}\n", table.title);
            let _ = writeln!(md, "| {} |", table.columns.join(" | "));
            let _ = writeln!(md, "|{}", "---|".repeat(table.columns.len()));
            for row in &table.rows {
                let _ = writeln!(md, "| {} |", row.join(" | "));
            }
            md.push('\n');
        }
        if !self.figures.is_empty() {
            let _ = writeln!(md, "## Figures\n");
        }
        for figure in &self.figures {
            let _ = writeln!(
                md,
                "### {}\n\n![{}]({})\n",
                figure.title, figure.title, figure.file
            );
        }
        md
    }

    /// `metrics.json`: one flat object of dotted names to numbers or strings (non-finite
    /// numbers are written as strings, since JSON has no NaN).
    pub fn metrics_json(&self) -> String {
        let object: serde_json::Map<String, serde_json::Value> = self
            .metrics
            .iter()
            .map(|(name, metric)| {
                let value = match metric {
                    Metric::Number(x) => serde_json::Number::from_f64(*x)
                        .map(serde_json::Value::Number)
                        .unwrap_or_else(|| serde_json::Value::String(x.to_string())),
                    Metric::Text(t) => serde_json::Value::String(t.clone()),
                };
                (name.clone(), value)
            })
            .collect();
        serde_json::to_string_pretty(&object).unwrap_or_default()
    }

    /// Writes `report.md`, `metrics.json` and every figure into `dir`, creating it.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(path, e))
        };
        write("report.md", &self.markdown())?;
        write("metrics.json", &self.metrics_json())?;
        for figure in &self.figures {
            write(&figure.file, &figure.svg)?;
        }
        Ok(())
    }
}

/// Mean and sample standard deviation (NaN for no values; the sd is 0 for one value).
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// A number with `digits` significant decimals, for tables.
pub fn fmt_number(x: f64, digits: usize) -> String {
    if x == 0.0 || (1e-3..1e7).contains(&x.abs()) {
        format!("{x:.digits$}")
    } else {
        format!("{x:.digits$e}")
    }
}

/// A vector of numbers as `(a, b, c)`.
pub fn fmt_vector(xs: &[f64], digits: usize) -> String {
    let parts: Vec<String> = xs.iter().map(|&x| fmt_number(x, digits)).collect();
    format!("({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_markdown_metrics_and_figures() {
        let mut report = Report::new("demo", "Demo", "A claim.", "x = 1\n".into());
        report.number("a.b", 1.5);
        report.number("nan", f64::NAN);
        report.text("verdict", "reproduced");
        let mut table = Table::new("T", &["k", "v"]);
        table.push(vec!["1".into(), "2".into()]);
        report.tables.push(table);
        report.figures.push(Figure {
            file: "f.svg".into(),
            title: "F".into(),
            svg: "<svg/>".into(),
        });
        let dir = tempfile::tempdir().unwrap();
        report.write(dir.path()).unwrap();
        let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        assert!(md.contains("| 1 | 2 |") && md.contains("![F](f.svg)") && md.contains("x = 1"));
        let metrics: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("metrics.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(metrics["a.b"], 1.5);
        assert_eq!(metrics["nan"], "NaN");
        assert_eq!(metrics["verdict"], "reproduced");
        assert!(dir.path().join("f.svg").is_file());
    }
}
