//! A small CSV line reader that knows the true line number of every record.
//!
//! Fields are separated by commas, trimmed, and may be wrapped in double quotes (no embedded
//! commas or line breaks). Blank lines are skipped but counted. The `csv` crate is not used
//! because it reports the wrong line for a record that follows blank lines.

use std::io::{BufRead, BufReader, Read};

use crate::error::{Error, Location, Result};

/// A record: its line number and its fields.
pub(crate) type Record<'a> = (u64, Vec<&'a [u8]>);

/// Reads comma-separated records line by line.
pub(crate) struct LineReader<R> {
    inner: BufReader<R>,
    buffer: Vec<u8>,
    line: u64,
    name: String,
}

impl<R: Read> LineReader<R> {
    /// A reader of `reader`, named `name` in errors.
    pub fn new(reader: R, name: &str) -> Self {
        Self {
            inner: BufReader::new(reader),
            buffer: Vec::new(),
            line: 0,
            name: name.to_string(),
        }
    }

    /// The next non-blank line as (line number, fields), or None at the end.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        loop {
            self.buffer.clear();
            let read = self
                .inner
                .read_until(b'\n', &mut self.buffer)
                .map_err(|e| {
                    Error::parse(Location::new(&self.name).line(self.line + 1), e.to_string())
                })?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            if !self.buffer.trim_ascii().is_empty() {
                break;
            }
        }
        Ok(Some((self.line, fields(&self.buffer).collect())))
    }

    /// The header: the first non-blank line, as strings; an error if the input is empty.
    pub fn header(&mut self, expected: &str) -> Result<Vec<String>> {
        match self.next_record()? {
            Some((_, fields)) => Ok(fields
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect()),
            None => Err(Error::parse(
                Location::new(&self.name).line(1),
                format!("empty file: expected the header {expected}"),
            )),
        }
    }

    /// Lines read so far.
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// The comma-separated fields of a line, trimmed and stripped of surrounding double quotes.
fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.trim_ascii().split(|&b| b == b',').map(|field| {
        let field = field.trim_ascii();
        match field {
            [b'"', inner @ .., b'"'] => inner.trim_ascii(),
            _ => field,
        }
    })
}

/// Parses one field, or names its location and what was expected.
pub(crate) fn parse_field<T: std::str::FromStr>(
    bytes: &[u8],
    at: impl FnOnce() -> Location,
    kind: &str,
) -> Result<T> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse::<T>().ok())
        .ok_or_else(|| {
            Error::parse(
                at(),
                format!("`{}` is not {kind}", String::from_utf8_lossy(bytes)),
            )
        })
}

/// The text of one field, or an error naming its location.
pub(crate) fn text_field(bytes: &[u8], at: impl FnOnce() -> Location) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| Error::parse(at(), "field is not valid UTF-8"))
}
