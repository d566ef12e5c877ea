//! The response cache: one JSON line per answered request, keyed by the sha256 of the URL and
//! the full request body. A study re-run reads its answers back and makes no calls, and every
//! answer that fed a result stays on record.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One line of the cache file.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    key: String,
    url: String,
    request: Value,
    response: Value,
}

/// Answers already received, and the file they are appended to.
#[derive(Debug)]
pub(crate) struct ResponseCache {
    path: PathBuf,
    answers: Mutex<(HashMap<String, Value>, File)>,
}

/// The cache key of a request: sha256 of the URL, a newline, and the request's JSON.
pub(crate) fn cache_key(url: &str, request: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(url.as_bytes());
    hasher.update(b"\n");
    hasher.update(request.to_string().as_bytes());
    format!("{:x}", hasher.finalize())
}

impl ResponseCache {
    /// Opens (or creates) the cache file and reads the answers already in it.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
        }
        let mut answers = HashMap::new();
        if path.exists() {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            for (number, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|e| Error::io(path, e))?;
                if line.trim().is_empty() {
                    continue;
                }
                let record: Record = serde_json::from_str(&line).map_err(|e| Error::Parse {
                    path: path.to_path_buf(),
                    line: number + 1,
                    message: format!("not a cache record: {e}"),
                })?;
                answers.insert(record.key, record.response);
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            answers: Mutex::new((answers, file)),
        })
    }

    /// The answer recorded under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Value> {
        self.lock().0.get(key).cloned()
    }

    /// Records an answer, appending it to the file at once.
    pub(crate) fn insert(
        &self,
        key: &str,
        url: &str,
        request: &Value,
        response: &Value,
    ) -> Result<()> {
        let record = Record {
            key: key.to_owned(),
            url: url.to_owned(),
            request: request.clone(),
            response: response.clone(),
        };
        let mut line = serde_json::to_string(&record).expect("JSON values serialise");
        line.push('\n');
        let mut guard = self.lock();
        guard
            .1
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        guard.0.insert(record.key, record.response);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, Value>, File)> {
        // A writer that panicked left whole lines behind: the map stays usable.
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_survive_reopening_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.jsonl");
        let request = json!({"model": "m", "messages": []});
        let key = cache_key("http://x/v1/chat/completions", &request);
        {
            let cache = ResponseCache::open(&path).unwrap();
            assert!(cache.get(&key).is_none());
            cache
                .insert(&key, "http://x", &request, &json!({"choices": []}))
                .unwrap();
        }
        let cache = ResponseCache::open(&path).unwrap();
        assert_eq!(cache.get(&key), Some(json!({"choices": []})));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert_ne!(key, cache_key("http://y/v1/chat/completions", &request));

        std::fs::write(&path, "{\"key\": 3}\n").unwrap();
        let error = ResponseCache::open(&path).unwrap_err().to_string();
        assert!(
            error.contains("answers.jsonl:1: not a cache record"),
            "{error}"
        );
    }
}
