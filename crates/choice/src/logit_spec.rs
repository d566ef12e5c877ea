//! The utility specification of a conditional logit, written by hand or read from TOML/JSON.
//!
//! ```toml
//! [utilities]
//! train = ["ASC_TRAIN", "B_TIME * time", "B_COST * cost"]
//! sm    = ["ASC_SM", "B_TIME * time", "B_COST * cost"]
//! car   = ["ASC_CAR", "B_TIME * time", "B_COST * cost"]
//!
//! [fixed]
//! ASC_SM = 0.0
//! ```
//!
//! A term is a coefficient alone (an alternative-specific constant) or `COEFFICIENT * attribute`.
//! A coefficient in several alternatives' utilities is generic; in one, alternative-specific.

use std::collections::BTreeMap;
use std::path::Path;

use choicelab_core::{Error, Location, Result};
use serde::Deserialize;

/// One term of a utility as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenTerm {
    /// The text, `COEF` or `COEF * attribute`.
    pub text: String,
    /// Where it came from.
    pub at: Location,
}

/// A parsed term: a coefficient times an attribute, or a coefficient alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The coefficient's name.
    pub coefficient: String,
    /// The attribute it multiplies; None for a constant.
    pub attribute: Option<String>,
}

/// A conditional logit's utilities: V_j = Σ_terms β_coef · x_attribute (or β_coef alone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogitSpec {
    /// Terms of each alternative's utility, by alternative name.
    pub utilities: BTreeMap<String, Vec<WrittenTerm>>,
    /// Coefficients held at a value instead of estimated, with where they were fixed.
    pub fixed: BTreeMap<String, (f64, Location)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlSpec {
    utilities: BTreeMap<String, Vec<toml::Spanned<String>>>,
    #[serde(default)]
    fixed: BTreeMap<String, toml::Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSpec {
    utilities: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    fixed: BTreeMap<String, f64>,
}

impl LogitSpec {
    /// An empty specification.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the utility of `alternative`, one term per string (`COEF` or `COEF * attribute`).
    pub fn utility(mut self, alternative: &str, terms: &[&str]) -> Self {
        let written = terms
            .iter()
            .enumerate()
            .map(|(k, text)| WrittenTerm {
                text: text.to_string(),
                at: Location::new("specification").field(format!("utilities.{alternative}[{k}]")),
            })
            .collect();
        self.utilities.insert(alternative.to_string(), written);
        self
    }

    /// Holds coefficient `name` at `value`.
    pub fn fix(mut self, name: &str, value: f64) -> Self {
        let at = Location::new("specification").field(format!("fixed.{name}"));
        self.fixed.insert(name.to_string(), (value, at));
        self
    }

    /// Reads a specification file: JSON if it ends in `.json`, TOML otherwise.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let name = path.display().to_string();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Self::from_json_str(&text, &name)
        } else {
            Self::from_toml_str(&text, &name)
        }
    }

    /// Parses TOML with tables `utilities` (alternative → list of terms) and `fixed`
    /// (coefficient → value); errors name `source`, the line and the key.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self> {
        let raw: TomlSpec = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| line_of(text, span.start));
            let mut at = Location::new(source);
            if let Some(line) = line {
                at = at.line(line);
            }
            Error::parse(at, e.message().to_string())
        })?;
        let mut spec = Self::new();
        for (alternative, terms) in raw.utilities {
            let written = terms
                .into_iter()
                .enumerate()
                .map(|(k, term)| WrittenTerm {
                    at: Location::new(source)
                        .line(line_of(text, term.span().start))
                        .field(format!("utilities.{alternative}[{k}]")),
                    text: term.into_inner(),
                })
                .collect();
            spec.utilities.insert(alternative, written);
        }
        for (name, value) in raw.fixed {
            let at = Location::new(source)
                .line(line_of(text, value.span().start))
                .field(format!("fixed.{name}"));
            spec.fixed.insert(name, (value.into_inner(), at));
        }
        spec.check_shape(source)?;
        Ok(spec)
    }

    /// Parses JSON `{"utilities": {alternative: [terms]}, "fixed": {coefficient: value}}`.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let raw: JsonSpec = serde_json::from_str(text).map_err(|e| {
            Error::parse(Location::new(source).line(e.line() as u64), e.to_string())
        })?;
        let mut spec = Self::new();
        for (alternative, terms) in raw.utilities {
            let written = terms
                .into_iter()
                .enumerate()
                .map(|(k, text)| WrittenTerm {
                    text,
                    at: Location::new(source).field(format!("utilities.{alternative}[{k}]")),
                })
                .collect();
            spec.utilities.insert(alternative, written);
        }
        for (name, value) in raw.fixed {
            let at = Location::new(source).field(format!("fixed.{name}"));
            spec.fixed.insert(name, (value, at));
        }
        spec.check_shape(source)?;
        Ok(spec)
    }

    fn check_shape(&self, source: &str) -> Result<()> {
        if self.utilities.is_empty() {
            return Err(Error::invalid(
                Location::new(source).field("utilities"),
                "no utilities: give at least one alternative's list of terms",
            ));
        }
        for (name, (value, at)) in &self.fixed {
            if !value.is_finite() {
                return Err(Error::invalid(
                    at.clone(),
                    format!("coefficient `{name}` is fixed at {value}, which is not finite"),
                ));
            }
        }
        Ok(())
    }
}

impl WrittenTerm {
    /// Parses `COEF` or `COEF * attribute`.
    pub fn parse(&self) -> Result<Term> {
        let mut parts = self.text.split('*').map(str::trim);
        let coefficient = parts.next().unwrap_or_default();
        let attribute = parts.next();
        let well_formed = parts.next().is_none()
            && is_name(coefficient)
            && attribute.is_none_or(|a| !a.is_empty());
        if !well_formed {
            return Err(Error::invalid(
                self.at.clone(),
                format!(
                    "`{}` is not a term: write `COEFFICIENT` (a constant) or \
                     `COEFFICIENT * attribute`",
                    self.text
                ),
            ));
        }
        Ok(Term {
            coefficient: coefficient.to_string(),
            attribute: attribute.map(str::to_string),
        })
    }
}

/// A coefficient name: letters, digits and underscores, not starting with a digit.
fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> u64 {
    1 + text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWISSMETRO: &str = "[utilities]\n\
        train = [\"ASC_TRAIN\", \"B_TIME * time\"]\n\
        car = [\"ASC_CAR\", \"B_TIME*time\"]\n\
        \n\
        [fixed]\n\
        ASC_SM = 0.0\n";

    #[test]
    fn reads_toml_with_lines() {
        let spec = LogitSpec::from_toml_str(SWISSMETRO, "spec.toml").unwrap();
        let car = &spec.utilities["car"];
        assert_eq!(car[1].parse().unwrap().attribute.as_deref(), Some("time"));
        assert_eq!(
            car[1].at.to_string(),
            "spec.toml:3: field `utilities.car[1]`"
        );
        assert_eq!(spec.fixed["ASC_SM"].0, 0.0);
    }

    #[test]
    fn toml_and_json_agree() {
        let json = r#"{"utilities": {"train": ["ASC_TRAIN", "B_TIME * time"],
                       "car": ["ASC_CAR", "B_TIME*time"]}, "fixed": {"ASC_SM": 0.0}}"#;
        let from_json = LogitSpec::from_json_str(json, "spec.json").unwrap();
        let from_toml = LogitSpec::from_toml_str(SWISSMETRO, "spec.toml").unwrap();
        for (alternative, terms) in &from_toml.utilities {
            let parsed: Vec<Term> = terms.iter().map(|t| t.parse().unwrap()).collect();
            let other: Vec<Term> = from_json.utilities[alternative]
                .iter()
                .map(|t| t.parse().unwrap())
                .collect();
            assert_eq!(parsed, other);
        }
    }

    #[test]
    fn bad_specs_are_named() {
        let unknown = LogitSpec::from_toml_str("[utilities]\na = [\"X\"]\n[fix]\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("s.toml:3") && unknown.contains("fix"),
            "{unknown}"
        );
        let spec = LogitSpec::new().utility("a", &["B * x * y", "2B"]);
        for term in &spec.utilities["a"] {
            let err = term.parse().unwrap_err().to_string();
            assert!(err.contains("is not a term"), "{err}");
        }
        let empty = LogitSpec::from_json_str(r#"{"utilities": {}}"#, "s.json")
            .unwrap_err()
            .to_string();
        assert!(empty.contains("no utilities"), "{empty}");
    }
}
