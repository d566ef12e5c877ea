//! Writing to stdout: a closed pipe (`choicelab studies | head`) ends output quietly.

use std::io::{self, Write};

use anyhow::Context;

/// Writes `text` to stdout; a closed pipe (`choicelab data list | head`) is not an error.
pub fn print(text: &str) -> anyhow::Result<()> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(error).context("writing to stdout")
        }
        _ => Ok(()),
    }
}

/// `println!` through [`print`], returning its error from the enclosing function.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print(&format!("{}\n", format_args!($($arg)*)))?
    };
}
pub(crate) use out;
