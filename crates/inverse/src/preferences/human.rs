//! The human segment comparisons of `delivery/human_data` (Hatgis-Kessell et al. 2025, on Knox
//! et al.'s delivery domain): per condition, `X` (n × 3: Δ partial return, Δ V*(start),
//! Δ V*(end)), `Y` (n: 1, 0.5 or 0) and `segment_pairs` (n × 2 × 4 × 2: each segment's start
//! cell then its three moves).

use std::path::Path;

use choicelab_core::npy::NpyArray;
use choicelab_core::{Error, Location, Result};

use crate::preferences::SegmentDifference;

/// The nine conditions of the shipped human data.
pub const CONDITIONS: [&str; 9] = [
    "Privileged-Control",
    "Question-Control",
    "Trained-Control",
    "Pr-Privileged",
    "Pr-Question",
    "Pr-Trained",
    "Regret-Privileged",
    "Regret-Question",
    "Regret-Trained",
];

/// A segment: its start cell (row, col) and three moves (Δrow, Δcol); (0, 0) is a move the
/// data leaves empty (after a terminal, it seems).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Start cell (row, col).
    pub start: (i64, i64),
    /// The moves (Δrow, Δcol).
    pub moves: [(i64, i64); 3],
}

/// One condition's comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct HumanPreferences {
    /// The condition's name.
    pub condition: String,
    /// Segment 1 minus segment 2, as the data computed it under the true reward.
    pub differences: Vec<SegmentDifference>,
    /// 1: segment 1 preferred, 0: segment 2, 0.5: indifferent.
    pub labels: Vec<f64>,
    /// The two segments of each comparison.
    pub segments: Vec<[Segment; 2]>,
}

impl HumanPreferences {
    /// Reads `<condition>_full_filtered_{X,Y,segment_pairs}.npy` from `folder`, checking their
    /// shapes against one another, the labels, and that every move is one step or empty.
    pub fn read(folder: &Path, condition: &str) -> Result<Self> {
        let path = |part: &str| folder.join(format!("{condition}_full_filtered_{part}.npy"));
        let (x_path, y_path, s_path) = (path("X"), path("Y"), path("segment_pairs"));
        let x = NpyArray::from_path(&x_path)?;
        let y = NpyArray::from_path(&y_path)?;
        let pairs = NpyArray::from_path(&s_path)?;
        let n = y.shape.first().copied().unwrap_or(0);
        let shape_error = |file: &Path, expected: String, found: &[usize]| {
            Error::invalid(
                Location::new(file.display().to_string()).field("shape"),
                format!("expected {expected}, found {found:?}"),
            )
        };
        if y.shape.len() != 1 {
            return Err(shape_error(&y_path, "(n,)".into(), &y.shape));
        }
        if x.shape != [n, 3] {
            return Err(shape_error(&x_path, format!("({n}, 3)"), &x.shape));
        }
        if pairs.shape != [n, 2, 4, 2] {
            return Err(shape_error(
                &s_path,
                format!("({n}, 2, 4, 2)"),
                &pairs.shape,
            ));
        }
        if let Some(i) = y.values.iter().position(|v| ![0.0, 0.5, 1.0].contains(v)) {
            return Err(Error::invalid(
                Location::new(y_path.display().to_string()).field(format!("row {i}")),
                format!("label {} is not 0, 0.5 or 1", y.values[i]),
            ));
        }
        if let Some(i) = x.values.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(
                Location::new(x_path.display().to_string()).field(format!("row {}", i / 3)),
                format!("{} is not finite", x.values[i]),
            ));
        }
        let mut segments = Vec::with_capacity(n);
        for (i, pair) in pairs.values.chunks_exact(16).enumerate() {
            let segment = |k: usize| -> Result<Segment> {
                let v = &pair[k * 8..(k + 1) * 8];
                let step = |t: usize| (v[2 * t] as i64, v[2 * t + 1] as i64);
                let moves = [step(1), step(2), step(3)];
                if let Some(m) = moves.iter().find(|(dr, dc)| dr.abs() + dc.abs() > 1) {
                    return Err(Error::invalid(
                        Location::new(s_path.display().to_string())
                            .field(format!("row {i}, segment {}", k + 1)),
                        format!("move {m:?} is not a single step"),
                    ));
                }
                Ok(Segment {
                    start: step(0),
                    moves,
                })
            };
            segments.push([segment(0)?, segment(1)?]);
        }
        Ok(Self {
            condition: condition.to_string(),
            differences: x
                .values
                .chunks_exact(3)
                .map(|r| SegmentDifference {
                    partial_return: r[0],
                    start_value: r[1],
                    end_value: r[2],
                })
                .collect(),
            labels: y.values,
            segments,
        })
    }

    /// Reads one of the condition's synthetic label files,
    /// `<condition>_gt_<kind>_prefs_Y.npy` with `kind` such as `det_regret` or `stoch_pr`.
    pub fn synthetic_labels(folder: &Path, condition: &str, kind: &str) -> Result<Vec<f64>> {
        let path = folder.join(format!("{condition}_gt_{kind}_prefs_Y.npy"));
        let labels = NpyArray::from_path(&path)?;
        if labels.shape.len() != 1 {
            return Err(Error::invalid(
                Location::new(path.display().to_string()).field("shape"),
                format!("expected (n,), found {:?}", labels.shape),
            ));
        }
        Ok(labels.values)
    }
}
