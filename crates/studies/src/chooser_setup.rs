//! The `chooser` section shared by the studies that put questions to a language model:
//! `--set chooser=local|sim|openai` (shorthand for `chooser.kind`), `chooser.model`,
//! `chooser.base_url`, and the settings of the endpoint or the local model.

use std::path::{Path, PathBuf};

use choicelab_agents::{local_model_path, model_threads, models_dir, ChatModel, Endpoint};
use choicelab_agents::{LocalModel, OpenAiClient};
use choicelab_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Who answers a study's questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChooserKind {
    /// The embedded local model (SmolLM2 unless `chooser.model` names another GGUF file),
    /// beside the study's simulated chooser.
    Local,
    /// The study's simulated chooser only.
    Sim,
    /// An OpenAI-compatible endpoint (`chooser.base_url`, `chooser.model`), beside the
    /// simulated chooser.
    Openai,
}

/// How a language model's pick among labelled options is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reading {
    /// The labels' probabilities as the answer's first token, one pass per order (an
    /// endpoint without logprobs falls back to sampling).
    Readout,
    /// K sampled answers per order, parsed; unparseable answers count half to each option.
    Sample,
}

impl Reading {
    /// The name used in configurations and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Readout => "readout",
            Self::Sample => "sample",
        }
    }
}

/// The `chooser` section of a study's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChooserConfig {
    /// `local`, `sim` or `openai`.
    pub kind: ChooserKind,
    /// local: a known model name (`smollm2`) or a GGUF path; openai: the endpoint's model
    /// name (required).
    pub model: String,
    /// openai: the API's base URL, up to and including `/v1`.
    pub base_url: String,
    /// openai: the environment variable holding the API key (never written anywhere).
    pub api_key_env: String,
    /// openai: requests in flight at once.
    pub concurrency: usize,
    /// openai: seconds one request may take.
    pub timeout_secs: f64,
    /// openai: the response cache (JSON lines): `auto` (the user cache folder), `none`, or a
    /// path. A re-run with the cache asks nothing twice, and every answer is on record.
    pub cache: String,
    /// local: threads of the model, 0 for one per core (never more than the cores).
    pub threads: usize,
}

impl Default for ChooserConfig {
    fn default() -> Self {
        let endpoint = Endpoint::default();
        Self {
            kind: ChooserKind::Local,
            model: "smollm2".into(),
            base_url: endpoint.base_url,
            api_key_env: endpoint.api_key_env,
            concurrency: endpoint.concurrency,
            timeout_secs: endpoint.timeout_secs,
            cache: "auto".into(),
            threads: 0,
        }
    }
}

/// A language model opened for a study, with a line describing it for the report.
pub struct OpenedModel {
    /// The model, ready to be asked.
    pub model: Box<dyn ChatModel + Send>,
    /// What it is, in a line (file or endpoint, threads or cache).
    pub description: String,
}

impl ChooserConfig {
    /// Opens the language model this section names; None for `sim`. A local model that is not
    /// in the models folder is [`Error::MissingData`], naming the command that fetches it.
    pub fn open(&self, models: Option<&Path>) -> Result<Option<OpenedModel>> {
        match self.kind {
            ChooserKind::Sim => Ok(None),
            ChooserKind::Local => self.open_local(models).map(Some),
            ChooserKind::Openai => self.open_remote().map(Some),
        }
    }

    /// The local model's file, if it is there (`chooser.model` a path or a known name).
    pub fn local_path(&self, models: Option<&Path>) -> Result<Option<PathBuf>> {
        let path = local_model_path(&self.model, models).map_err(|e| {
            Error::parameter(
                "chooser.model",
                e.to_string().replace("invalid parameter `model`: ", ""),
            )
        })?;
        Ok(path.filter(|p| p.is_file()))
    }

    fn open_local(&self, models: Option<&Path>) -> Result<OpenedModel> {
        let Some(path) = self.local_path(models)? else {
            let folder =
                models_dir(models).map_or_else(|| "none".to_owned(), |d| d.display().to_string());
            return Err(Error::MissingData(format!(
                "the local model `{}` is not in the models folder ({folder}): run `choicelab \
                 model fetch smollm2`, pass --models DIR, or use --set chooser=sim",
                self.model
            )));
        };
        let threads = model_threads(self.threads);
        let model = LocalModel::load(&path, threads)?;
        Ok(OpenedModel {
            description: format!(
                "local model {} on {threads} thread{}",
                path.display(),
                if threads == 1 { "" } else { "s" }
            ),
            model: Box::new(model),
        })
    }

    fn open_remote(&self) -> Result<OpenedModel> {
        if self.model.trim().is_empty() || self.model == "smollm2" {
            return Err(Error::parameter(
                "chooser.model",
                "name the endpoint's model (--set chooser.model=NAME)",
            ));
        }
        let cache = match self.cache.as_str() {
            "none" | "" => None,
            "auto" => Some(
                responses_dir()
                    .ok_or_else(|| {
                        Error::parameter(
                            "chooser.cache",
                            "this platform has no user cache folder; give a path or `none`",
                        )
                    })?
                    .join("responses.jsonl"),
            ),
            path => Some(PathBuf::from(path)),
        };
        let endpoint = Endpoint {
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key_env: self.api_key_env.clone(),
            concurrency: self.concurrency,
            timeout_secs: self.timeout_secs,
            cache: cache.clone(),
            ..Endpoint::default()
        };
        let client = OpenAiClient::new(endpoint)?;
        Ok(OpenedModel {
            description: format!(
                "endpoint {} model `{}`, {} requests in flight, cache {}",
                self.base_url,
                self.model,
                self.concurrency,
                cache.map_or_else(|| "off".to_owned(), |c| c.display().to_string())
            ),
            model: Box::new(client),
        })
    }
}

/// The folder of choicelab's response caches: beside the models, in the user cache folder.
fn responses_dir() -> Option<PathBuf> {
    choicelab_agents::models::cache_models_dir()
        .and_then(|models| models.parent().map(|p| p.join("responses")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_local_model_is_missing_data_naming_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let error = ChooserConfig::default()
            .open(Some(dir.path()))
            .err()
            .expect("no model in an empty folder");
        assert!(matches!(error, Error::MissingData(_)), "{error}");
        assert!(
            error.to_string().contains("choicelab model fetch smollm2"),
            "{error}"
        );
    }

    #[test]
    fn an_endpoint_needs_a_model_name_and_sim_opens_nothing() {
        let remote = ChooserConfig {
            kind: ChooserKind::Openai,
            ..ChooserConfig::default()
        };
        let error = remote.open(None).err().expect("no model named");
        assert!(error.to_string().contains("chooser.model"), "{error}");
        let sim = ChooserConfig {
            kind: ChooserKind::Sim,
            ..ChooserConfig::default()
        };
        assert!(sim.open(None).unwrap().is_none());
        let unknown = ChooserConfig {
            model: "gpt-9".into(),
            ..ChooserConfig::default()
        };
        let error = unknown.open(None).err().expect("unknown name");
        assert!(error.to_string().contains("known: smollm2"), "{error}");
    }
}
