//! Study configuration: the paper's defaults, then a TOML file, then `--set key=value`.

use std::collections::BTreeSet;

use choicelab_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use toml::{Table, Value};

/// A study's configuration: serde, with the paper's defaults and a quick variant.
pub trait StudyConfig: Serialize + DeserializeOwned {
    /// The paper's configuration.
    fn paper() -> Self;
    /// A small configuration that finishes in under a minute on 2 cores.
    fn quick() -> Self;
}

/// Where a run's configuration comes from, in the order applied.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// Start from [`StudyConfig::quick`] instead of [`StudyConfig::paper`].
    pub quick: bool,
    /// A TOML file's name (for errors) and text.
    pub file: Option<(String, String)>,
    /// `key=value` overrides; dotted keys reach nested tables, values are TOML.
    pub overrides: Vec<String>,
}

impl ConfigSources {
    /// Builds the configuration: defaults, then the file, then the overrides. Unknown keys are
    /// errors that list the valid ones; a value of the wrong type names its key.
    pub fn resolve<C: StudyConfig>(&self) -> Result<C> {
        let defaults = if self.quick { C::quick() } else { C::paper() };
        let mut table = to_table(&defaults)?;
        let mut valid = BTreeSet::new();
        collect_keys(&table, "", &mut valid);
        let list = || valid.iter().cloned().collect::<Vec<_>>().join(", ");
        if let Some((name, text)) = &self.file {
            let file: Table = toml::from_str(text).map_err(|e| {
                Error::parse(
                    choicelab_core::Location::new(name.clone()),
                    e.to_string().trim_end().to_string(),
                )
            })?;
            let mut given = BTreeSet::new();
            collect_keys(&file, "", &mut given);
            for key in given {
                let value = lookup(&file, &key).clone();
                let key = shorthand(&key, &valid);
                set_path(&mut table, &key, value).map_err(|_| unknown_key(&key, &list()))?;
            }
        }
        for assignment in &self.overrides {
            let (key, raw) = assignment.split_once('=').ok_or_else(|| {
                Error::parameter(assignment.clone(), "expected --set key=value".to_string())
            })?;
            let key = shorthand(key.trim(), &valid);
            let key = key.as_str();
            if !valid.contains(key) {
                return Err(unknown_key(key, &list()));
            }
            set_path(&mut table, key, parse_value(raw.trim()))
                .map_err(|_| unknown_key(key, &list()))?;
        }
        Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                Error::parameter("config", e.to_string().trim_end().to_string())
            })
    }
}

/// The configuration as TOML text, for reports.
pub fn to_toml<C: Serialize>(config: &C) -> Result<String> {
    toml::to_string_pretty(config).map_err(|e| Error::parameter("config", e.to_string()))
}

fn to_table<C: Serialize>(config: &C) -> Result<Table> {
    Table::try_from(config).map_err(|e| Error::parameter("config", e.to_string()))
}

fn unknown_key(key: &str, valid: &str) -> Error {
    Error::parameter(
        key,
        format!("unknown configuration key; valid keys: {valid}"),
    )
}

/// `key.kind` when `key` names a table with a `kind` leaf (`chooser=sim` sets
/// `chooser.kind`), else `key`.
fn shorthand(key: &str, valid: &BTreeSet<String>) -> String {
    let kind = format!("{key}.kind");
    if !valid.contains(key) && valid.contains(&kind) {
        kind
    } else {
        key.to_owned()
    }
}

fn parse_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// Dotted paths of all leaves (non-table values) of `table`.
fn collect_keys(table: &Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Table(inner) => collect_keys(inner, &path, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

fn lookup<'a>(table: &'a Table, path: &str) -> &'a Value {
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or_default();
    let mut value = &table[first];
    for part in parts {
        value = &value[part];
    }
    value
}

fn set_path(table: &mut Table, path: &str, new: Value) -> std::result::Result<(), ()> {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    match (table.get_mut(head), rest) {
        (Some(Value::Table(inner)), Some(rest)) => set_path(inner, rest, new),
        (Some(slot), None) if !slot.is_table() => {
            *slot = new;
            Ok(())
        }
        _ => Err(()),
    }
}

/// Checks that the counts in configuration key `name` (data sizes, budgets) are at least 1
/// and strictly increasing.
pub(crate) fn check_increasing(name: &str, counts: &[usize]) -> Result<()> {
    if counts.is_empty() || counts[0] == 0 || counts.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::parameter(
            name,
            format!("need counts ≥ 1 in strictly increasing order, got {counts:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Inner {
        rate: f64,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Example {
        epsilon: f64,
        name: String,
        inner: Inner,
    }

    impl StudyConfig for Example {
        fn paper() -> Self {
            Example {
                epsilon: 1e-6,
                name: "paper".into(),
                inner: Inner { rate: 0.5 },
            }
        }
        fn quick() -> Self {
            Example {
                epsilon: 1e-3,
                ..Self::paper()
            }
        }
    }

    fn sources(quick: bool, file: Option<&str>, sets: &[&str]) -> ConfigSources {
        ConfigSources {
            quick,
            file: file.map(|t| ("test.toml".to_string(), t.to_string())),
            overrides: sets.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn layers_apply_in_order() {
        let c: Example = sources(
            true,
            Some("name = \"file\"\n[inner]\nrate = 0.1\n"),
            &["inner.rate=0.2"],
        )
        .resolve()
        .unwrap();
        assert_eq!(
            c,
            Example {
                epsilon: 1e-3,
                name: "file".into(),
                inner: Inner { rate: 0.2 }
            }
        );
        let c: Example = sources(false, None, &["name=bare words"])
            .resolve()
            .unwrap();
        assert_eq!(c.name, "bare words");
    }

    #[test]
    fn unknown_keys_list_the_valid_ones() {
        let err = sources(false, None, &["inner.speed=1"])
            .resolve::<Example>()
            .unwrap_err();
        assert!(
            err.to_string().contains("epsilon, inner.rate, name"),
            "{err}"
        );
        let err = sources(false, Some("typo = 1"), &[])
            .resolve::<Example>()
            .unwrap_err();
        assert!(err.to_string().contains("typo"), "{err}");
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Chosen {
        kind: String,
        model: String,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct WithChooser {
        chooser: Chosen,
    }

    impl StudyConfig for WithChooser {
        fn paper() -> Self {
            WithChooser {
                chooser: Chosen {
                    kind: "local".into(),
                    model: "m".into(),
                },
            }
        }
        fn quick() -> Self {
            Self::paper()
        }
    }

    #[test]
    fn a_table_with_a_kind_takes_its_kind_as_a_shorthand() {
        let c: WithChooser = sources(false, None, &["chooser=sim", "chooser.model=x"])
            .resolve()
            .unwrap();
        assert_eq!(
            (c.chooser.kind.as_str(), c.chooser.model.as_str()),
            ("sim", "x")
        );
        let c: WithChooser = sources(false, Some("chooser = \"openai\""), &[])
            .resolve()
            .unwrap();
        assert_eq!(c.chooser.kind, "openai");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let err = sources(false, None, &["epsilon=\"big\""])
            .resolve::<Example>()
            .unwrap_err();
        assert!(err.to_string().contains("epsilon"), "{err}");
    }
}
