//! The error type of choicelab-nn.

use std::path::PathBuf;

/// Everything that can go wrong while building, training, saving or loading networks.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed inside candle.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Bad data from choicelab-core (widths, lengths, non-finite values).
    #[error(transparent)]
    Data(#[from] choicelab_core::Error),
    /// A hyper-parameter is out of its domain.
    #[error("invalid parameter `{name}`: {message}")]
    Parameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Training data that the learner cannot use (discrete actions, actions out of bounds).
    #[error("invalid training data: {0}")]
    InvalidData(String),
    /// A checkpoint is missing a tensor or holds one of the wrong shape.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Training produced a non-finite loss.
    #[error("non-finite {what} at step {step}")]
    Diverged {
        /// Which loss.
        what: &'static str,
        /// The gradient step.
        step: usize,
    },
}

/// choicelab-nn's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Parameter`] for a named parameter.
    pub fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        Error::Parameter {
            name,
            message: message.into(),
        }
    }
}
