//! Where the public data sets live: `--data DIR`, then `$CHOICELAB_DATA`, then the user cache.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable naming the data folder.
pub const DATA_ENV: &str = "CHOICELAB_DATA";

/// How a data folder was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOrigin {
    /// Given on the command line or by the caller.
    Explicit,
    /// Named by `$CHOICELAB_DATA`.
    Environment,
    /// The user cache directory that `choicelab data fetch` fills.
    Cache,
}

/// A data folder holding the data sets by subfolder (`riverswim/`, `bus/`, ...).
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    origin: DataOrigin,
}

/// The user cache folder `choicelab data fetch` writes to by default, if the platform has one.
pub fn cache_data_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("choicelab").join("data"))
}

impl DataDir {
    /// Finds the data folder: `explicit`, then `$CHOICELAB_DATA`, then the user cache folder
    /// when it exists. Returns None when there is none.
    pub fn locate(explicit: Option<&Path>) -> Option<Self> {
        if let Some(root) = explicit {
            return Some(Self::new(root.to_path_buf(), DataOrigin::Explicit));
        }
        if let Some(root) = std::env::var_os(DATA_ENV).filter(|v| !v.is_empty()) {
            return Some(Self::new(PathBuf::from(root), DataOrigin::Environment));
        }
        cache_data_dir()
            .filter(|d| d.is_dir())
            .map(|root| Self::new(root, DataOrigin::Cache))
    }

    /// A data folder at `root`.
    pub fn new(root: PathBuf, origin: DataOrigin) -> Self {
        Self { root, origin }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How the folder was found.
    pub fn origin(&self) -> DataOrigin {
        self.origin
    }

    /// The path of the file `relative` inside the folder, or an error saying how to get it.
    pub fn file(&self, relative: &str) -> Result<PathBuf> {
        self.existing(relative, Path::is_file)
    }

    /// The path of the subfolder `relative`, or an error saying how to get it.
    pub fn folder(&self, relative: &str) -> Result<PathBuf> {
        self.existing(relative, Path::is_dir)
    }

    fn existing(&self, relative: &str, exists: impl Fn(&Path) -> bool) -> Result<PathBuf> {
        let path = self.root.join(relative);
        if exists(&path) {
            Ok(path)
        } else {
            Err(Error::MissingData(format!(
                "{} not found in the data folder {}; run `choicelab data fetch` or pass --data DIR",
                relative,
                self.root.display()
            )))
        }
    }
}
