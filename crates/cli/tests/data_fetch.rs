//! `choicelab data fetch` and `data list` against a mirror served from 127.0.0.1 inside the test:
//! a copy of a few data sets from `$CHOICELAB_DATA`, one of them with a corrupted file.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tempfile::TempDir;

/// The data sets copied into the mirror.
const MIRRORED: &[&str] = &["riverswim", "choix", "dlb"];
/// The file whose mirror copy has one byte altered.
const CORRUPTED: &str = "dlb/testcase_realdata.json";

/// A minimal HTTP/1.1 server for GET requests on files under a folder; it stops when dropped.
struct Mirror {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Mirror {
    fn serve(root: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let (requests, stop) = (requests.clone(), stop.clone());
            move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        // A broken connection only fails the request it carried.
                        let _ = answer(stream, &root, &requests);
                    }
                }
            }
        });
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request: the file under `root` named by the path, or 404; then closes.
fn answer(mut stream: TcpStream, root: &Path, requests: &AtomicUsize) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next(), parts.next().unwrap_or("/"));
    let relative = target.trim_start_matches('/');
    let safe = relative
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != "..");
    let body = match method {
        Some("GET") if safe => fs::read(root.join(relative)).ok(),
        _ => None,
    };
    match body {
        Some(body) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        None => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    stream.flush()
}

/// The shared data folder, or None (and a note) when `$CHOICELAB_DATA` is not set.
fn shared_data() -> Option<PathBuf> {
    let data = std::env::var_os("CHOICELAB_DATA").filter(|value| !value.is_empty());
    if data.is_none() {
        eprintln!("skipped: set CHOICELAB_DATA to the shared data folder to run this test");
    }
    data.map(PathBuf::from)
}

/// A mirror folder holding copies of `MIRRORED` from `data`, with `CORRUPTED` altered.
fn mirror_folder(data: &Path) -> TempDir {
    let folder = TempDir::new().unwrap();
    for set in MIRRORED {
        fs::create_dir(folder.path().join(set)).unwrap();
        for entry in fs::read_dir(data.join(set)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(
                entry.path(),
                folder.path().join(set).join(entry.file_name()),
            )
            .unwrap();
        }
    }
    let corrupted = folder.path().join(CORRUPTED);
    let mut bytes = fs::read(&corrupted).unwrap();
    bytes[0] ^= 0x20;
    fs::write(&corrupted, bytes).unwrap();
    folder
}

/// Runs the built `choicelab` with no proxy settings, so requests go straight to 127.0.0.1.
fn choicelab(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_choicelab"));
    for proxy in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        command.env_remove(proxy);
    }
    command.args(args).output().expect("run choicelab")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn fetch_verifies_files_and_skips_those_present() {
    let Some(data) = shared_data() else { return };
    let folder = mirror_folder(&data);
    let mirror = Mirror::serve(folder.path().to_path_buf());
    let dest = TempDir::new().unwrap();
    let dest_arg = dest.path().to_str().unwrap();

    let run = choicelab(&[
        "data",
        "fetch",
        "riverswim",
        "choix",
        "--mirror",
        &mirror.url(),
        "--dest",
        dest_arg,
        "--quiet",
    ]);
    assert!(run.status.success(), "stderr: {}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("fetched 7, already present 0, failed 0"),
        "{}",
        text(&run.stdout)
    );
    for set in ["riverswim", "choix"] {
        for entry in fs::read_dir(data.join(set)).unwrap() {
            let name = entry.unwrap().file_name();
            let fetched = fs::read(dest.path().join(set).join(&name)).unwrap();
            assert_eq!(
                fetched,
                fs::read(data.join(set).join(&name)).unwrap(),
                "{set}/{name:?}"
            );
        }
    }
    assert_eq!(mirror.requests(), 7);

    let again = choicelab(&[
        "data",
        "fetch",
        "riverswim",
        "--mirror",
        &mirror.url(),
        "--dest",
        dest_arg,
        "--quiet",
    ]);
    assert!(again.status.success(), "stderr: {}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("fetched 0, already present 1, failed 0"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(
        mirror.requests(),
        7,
        "a present file must not be downloaded again"
    );

    let list = choicelab(&["data", "list", "--data", dest_arg]);
    assert!(list.status.success(), "stderr: {}", text(&list.stderr));
    let table = text(&list.stdout);
    let status = |name: &str| {
        let row = table
            .lines()
            .find(|line| line.split_whitespace().next() == Some(name));
        row.and_then(|row| row.split_whitespace().nth(1))
            .unwrap_or("no row")
            .to_owned()
    };
    assert_eq!(status("riverswim"), "present", "{table}");
    assert_eq!(status("choix"), "present", "{table}");
    assert_eq!(status("bus"), "missing", "{table}");
    assert!(table.contains(dest_arg), "{table}");
}

#[test]
fn checksum_mismatch_fails_and_leaves_no_file() {
    let Some(data) = shared_data() else { return };
    let folder = mirror_folder(&data);
    let mirror = Mirror::serve(folder.path().to_path_buf());
    let dest = TempDir::new().unwrap();

    let run = choicelab(&[
        "data",
        "fetch",
        "dlb",
        "--mirror",
        &mirror.url(),
        "--dest",
        dest.path().to_str().unwrap(),
        "--quiet",
    ]);
    let stderr = text(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains(CORRUPTED) && stderr.contains("sha256"),
        "{stderr}"
    );
    assert!(
        text(&run.stdout).contains("fetched 3, already present 0, failed 1"),
        "{}",
        text(&run.stdout)
    );
    let mut left: Vec<String> = fs::read_dir(dest.path().join("dlb"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "testcase_synt_sigma0dot001.json",
            "testcase_synt_sigma0dot01.json",
            "testcase_synt_sigma0dot1.json"
        ],
        "neither the corrupted file nor a temporary file may stay"
    );
}

#[test]
fn missing_file_error_names_the_url() {
    let Some(data) = shared_data() else { return };
    let folder = mirror_folder(&data);
    let mirror = Mirror::serve(folder.path().to_path_buf());
    let dest = TempDir::new().unwrap();

    let run = choicelab(&[
        "data",
        "fetch",
        "bus",
        "--mirror",
        &mirror.url(),
        "--dest",
        dest.path().to_str().unwrap(),
        "--quiet",
    ]);
    let stderr = text(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains(&format!("{}/bus/README", mirror.url())) && stderr.contains("404"),
        "{stderr}"
    );
}

#[test]
fn unknown_name_lists_the_valid_names() {
    let dest = TempDir::new().unwrap();
    let run = choicelab(&[
        "data",
        "fetch",
        "riverswim",
        "nosuchset",
        "--dest",
        dest.path().to_str().unwrap(),
    ]);
    let stderr = text(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("nosuchset") && stderr.contains("valid names"),
        "{stderr}"
    );
    for name in [
        "bus",
        "choix",
        "swissmetro",
        "riverswim",
        "delivery",
        "digits",
    ] {
        assert!(stderr.contains(name), "{stderr}");
    }
    assert_eq!(
        fs::read_dir(dest.path()).unwrap().count(),
        0,
        "nothing is fetched"
    );
}
