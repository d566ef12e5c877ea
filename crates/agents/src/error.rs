//! The agents crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong when loading, running or asking a chooser.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file that cannot be used: missing, not GGUF, an unsupported architecture or
    /// tokenizer, metadata out of range.
    #[error("model {path}: {message}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A downloaded or given file whose sha256 is not the expected one.
    #[error("{path}: sha256 mismatch: expected {expected}, got {actual}")]
    Checksum {
        /// The file checked.
        path: PathBuf,
        /// The sha256 it should have.
        expected: String,
        /// The sha256 it has.
        actual: String,
    },
    /// A line of a file that does not parse (a response cache record).
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A tensor operation of the local model failed inside candle.
    #[error("local model: {0}")]
    Candle(#[from] candle_core::Error),
    /// The prompt could not be tokenized or the answer decoded.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The chat template stored with the model could not be rendered.
    #[error("chat template: {0}")]
    Template(String),
    /// An endpoint that could not be reached, or that kept failing after every retry.
    #[error("{url}: {message}")]
    Endpoint {
        /// The URL asked.
        url: String,
        /// What went wrong, with the last status and body when there was one.
        message: String,
    },
    /// A parameter out of its domain.
    #[error("invalid parameter `{name}`: {message}")]
    Parameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    /// A `Model` error for `path`.
    pub(crate) fn model(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Model {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An `Io` error for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    /// A `Parameter` error.
    pub(crate) fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        Self::Parameter {
            name,
            message: message.into(),
        }
    }
}

impl From<Error> for choicelab_core::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Parameter { name, message } => choicelab_core::Error::parameter(name, message),
            Error::Io { path, error } => choicelab_core::Error::io(path, error),
            Error::Model { path, message } => choicelab_core::Error::Chooser {
                chooser: path.display().to_string(),
                message,
            },
            Error::Endpoint { url, message } => choicelab_core::Error::Chooser {
                chooser: url,
                message,
            },
            other => choicelab_core::Error::Chooser {
                chooser: "local model".to_owned(),
                message: other.to_string(),
            },
        }
    }
}

/// The agents crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
