//! The one error type of choicelab's engine crates.

use std::fmt;
use std::path::PathBuf;

/// Where in an input a problem was found: the file (or a name for in-memory data), the line and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File path, or a bracketed name such as `<dense arrays>` for data built in memory.
    pub source: String,
    /// 1-based line number, when the input has lines.
    pub line: Option<u64>,
    /// Column or field name (`probability`, `transitions[3].next`).
    pub field: Option<String>,
}

impl Location {
    /// A location naming only the source.
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            line: None,
            field: None,
        }
    }

    /// The same location at a given line.
    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// The same location at a given field.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in choicelab's engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// Input that cannot be parsed (bad syntax, missing column, text in a number field).
    #[error("{at}: {message}")]
    Parse {
        /// Where the problem is.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// Input that parses but breaks a rule of the model (probabilities, ranges, feasibility).
    #[error("{at}: {message}")]
    Invalid {
        /// Where the problem is.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// A parameter given to an estimator, solver or study is out of its domain.
    #[error("invalid parameter `{name}`: {message}")]
    Parameter {
        /// The parameter's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// An iterative method stopped before meeting its tolerance.
    #[error("{method} did not converge: {iterations} iterations, residual {residual:e} > tolerance {tolerance:e} ({reason})")]
    NotConverged {
        /// The method that stopped.
        method: String,
        /// Iterations done.
        iterations: usize,
        /// Last residual.
        residual: f64,
        /// The tolerance it had to meet.
        tolerance: f64,
        /// Why it stopped (iteration limit, time limit).
        reason: String,
    },
    /// A numerical failure: singular matrix, overflow, non-identifiable model.
    #[error("numerical failure in {context}: {message}")]
    Numerical {
        /// The computation that failed.
        context: String,
        /// What went wrong.
        message: String,
    },
    /// A data set the caller asked for is not available.
    #[error("{0}")]
    MissingData(String),
    /// A chooser outside the engine failed: a language model that cannot load or run, an
    /// endpoint that refuses connections or keeps failing.
    #[error("{chooser}: {message}")]
    Chooser {
        /// The chooser (a model file, an endpoint).
        chooser: String,
        /// What went wrong.
        message: String,
    },
}

/// choicelab's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Invalid`] at a location.
    pub fn invalid(at: Location, message: impl Into<String>) -> Self {
        Error::Invalid {
            at,
            message: message.into(),
        }
    }

    /// An [`Error::Parse`] at a location.
    pub fn parse(at: Location, message: impl Into<String>) -> Self {
        Error::Parse {
            at,
            message: message.into(),
        }
    }

    /// An [`Error::Parameter`] for a named parameter.
    pub fn parameter(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Parameter {
            name: name.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Io`] for a path.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}
