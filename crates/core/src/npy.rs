//! A reader for NumPy's `.npy` files of plain little-endian numbers in C order, the format
//! several public preference data sets ship in.

use std::path::Path;

use crate::{Error, Location, Result};

/// A numeric array read from a `.npy` file, its values widened to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape, outermost first.
    pub shape: Vec<usize>,
    /// The values in C (row-major) order.
    pub values: Vec<f64>,
}

impl NpyArray {
    /// Reads the `.npy` file at `path`.
    pub fn from_path(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Parses `.npy` bytes (format versions 1–3); `source` names them in errors. Element
    /// types: little-endian or byte-order-free f8, f4, i8, i4, i2, i1, u1 and b1; Fortran
    /// order and structured types are errors.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self> {
        let at = || Location::new(source);
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err(Error::parse(at(), "not a .npy file (no \\x93NUMPY magic)"));
        }
        let (header_len, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            version => {
                return Err(Error::parse(
                    at(),
                    format!("unsupported .npy format version {version}"),
                ))
            }
        };
        let header = bytes
            .get(start..start + header_len)
            .and_then(|h| std::str::from_utf8(h).ok())
            .ok_or_else(|| Error::parse(at().field("header"), "truncated or not text"))?;
        let descr = header_value(header, "descr")
            .map(|d| d.trim_matches(|c| c == '\'' || c == '"'))
            .ok_or_else(|| Error::parse(at().field("header"), "no 'descr'"))?;
        if header_value(header, "fortran_order") != Some("False") {
            return Err(Error::invalid(
                at().field("fortran_order"),
                "only C-order arrays are supported",
            ));
        }
        let shape = parse_shape(header).ok_or_else(|| {
            Error::parse(
                at().field("shape"),
                format!("cannot read the shape in {header}"),
            )
        })?;
        let (width, decode): (usize, fn(&[u8]) -> f64) = match descr {
            "<f8" => (8, |b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
            "<f4" => (4, |b| {
                f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64
            }),
            "<i8" => (8, |b| {
                i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64
            }),
            "<i4" => (4, |b| {
                i32::from_le_bytes(b.try_into().expect("4 bytes")) as f64
            }),
            "<i2" => (2, |b| {
                i16::from_le_bytes(b.try_into().expect("2 bytes")) as f64
            }),
            "|i1" => (1, |b| b[0] as i8 as f64),
            "|u1" | "|b1" => (1, |b| b[0] as f64),
            other => {
                return Err(Error::invalid(
                    at().field("descr"),
                    format!("element type `{other}` is not supported"),
                ))
            }
        };
        let count: usize = shape.iter().product();
        let data = &bytes[start + header_len..];
        if data.len() != count * width {
            return Err(Error::invalid(
                at(),
                format!(
                    "shape {shape:?} of {descr} needs {} bytes of data, the file has {}",
                    count * width,
                    data.len()
                ),
            ));
        }
        Ok(Self {
            shape,
            values: data.chunks_exact(width).map(decode).collect(),
        })
    }
}

impl NpyArray {
    /// The array as `.npy` bytes (format 1.0, little-endian f8, C order).
    pub fn to_bytes(&self) -> Vec<u8> {
        let dims: Vec<String> = self.shape.iter().map(usize::to_string).collect();
        let shape = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let data: Vec<u8> = self.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        with_header("<f8", "False", &shape, &data)
    }
}

/// `.npy` bytes with a version-1.0 header padded to a multiple of 64 bytes.
fn with_header(descr: &str, fortran: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// The text after `'key':` in a header dictionary, up to the next top-level comma.
fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}':"))? + key.len() + 3;
    let rest = header[start..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The tuple after `'shape':`.
fn parse_shape(header: &str) -> Option<Vec<usize>> {
    let start = header.find("'shape':")? + "'shape':".len();
    let rest = header[start..].trim_start().strip_prefix('(')?;
    let inner = &rest[..rest.find(')')?];
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        with_header(descr, "False", shape, data)
    }

    #[test]
    fn writes_what_it_reads() {
        let array = NpyArray {
            shape: vec![2, 1, 3],
            values: vec![1.0, 2.0, 3.0, -4.0, 5.5, 6.0],
        };
        assert_eq!(
            NpyArray::from_bytes(&array.to_bytes(), "x.npy").unwrap(),
            array
        );
        let flat = NpyArray {
            shape: vec![2],
            values: vec![0.5, 1.0],
        };
        assert_eq!(
            NpyArray::from_bytes(&flat.to_bytes(), "x.npy").unwrap(),
            flat
        );
    }

    #[test]
    fn reads_floats_and_integers() {
        let data: Vec<u8> = [1.5f64, -2.0, 0.25]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let array = NpyArray::from_bytes(&npy("<f8", "(3,)", &data), "x.npy").unwrap();
        assert_eq!(array.shape, [3]);
        assert_eq!(array.values, [1.5, -2.0, 0.25]);
        let data: Vec<u8> = [4i64, -1, 0, 7]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let array = NpyArray::from_bytes(&npy("<i8", "(2, 2)", &data), "x.npy").unwrap();
        assert_eq!(array.shape, [2, 2]);
        assert_eq!(array.values, [4.0, -1.0, 0.0, 7.0]);
        let array = NpyArray::from_bytes(&npy("|i1", "(2,)", &[255, 3]), "x.npy").unwrap();
        assert_eq!(array.values, [-1.0, 3.0]);
    }

    #[test]
    fn bad_files_are_errors() {
        let error = |bytes: &[u8]| {
            NpyArray::from_bytes(bytes, "x.npy")
                .unwrap_err()
                .to_string()
        };
        assert!(error(b"not numpy at all").contains("magic"));
        assert!(error(&npy("<f8", "(3,)", &[0; 16])).contains("needs 24 bytes"));
        assert!(error(&npy("<c16", "(1,)", &[0; 16])).contains("`<c16`"));
        assert!(error(&with_header("<f8", "True", "(1,)", &[0; 8])).contains("C-order"));
        assert!(error(&npy("<f8", "(x,)", &[0; 8])).contains("shape"));
    }
}
