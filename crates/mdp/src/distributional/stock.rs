//! The grid of stocks c that augments the state.

use choicelab_core::{Error, Result};

/// Evenly spaced stocks c_i = lo + i·step, i = 0..count; a stock off the grid is read at the
/// nearest grid point (clipped at the ends).
#[derive(Debug, Clone, PartialEq)]
pub struct StockGrid {
    lo: f64,
    step: f64,
    count: usize,
}

impl StockGrid {
    /// Stocks lo, lo + step, … up to hi (hi is included when it is on the grid).
    pub fn new(lo: f64, hi: f64, step: f64) -> Result<Self> {
        if !(lo.is_finite() && hi.is_finite() && step.is_finite() && step > 0.0) {
            return Err(Error::parameter(
                "stock grid",
                format!("need finite lo, hi and a positive step, got [{lo}, {hi}] step {step}"),
            ));
        }
        if hi < lo {
            return Err(Error::parameter(
                "stock grid",
                format!("empty stock grid: hi {hi} < lo {lo}"),
            ));
        }
        let count = ((hi - lo) / step + 1e-9).floor() as usize + 1;
        Ok(Self { lo, step, count })
    }

    /// The one-point grid {c}: enough for the expectation, whose greedy step ignores the stock.
    pub fn single(c: f64) -> Result<Self> {
        Self::new(c, c, 1.0)
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the grid is empty (never: construction rejects it).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Grid point c_i.
    #[inline]
    pub fn stock(&self, i: usize) -> f64 {
        self.lo + self.step * i as f64
    }

    /// The spacing between grid points.
    pub fn step(&self) -> f64 {
        self.step
    }

    /// The smallest stock.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// The largest stock.
    pub fn hi(&self) -> f64 {
        self.stock(self.count - 1)
    }

    /// The index of the grid point nearest to `c`, and whether `c` lay outside the grid.
    #[inline]
    pub fn index(&self, c: f64) -> (usize, bool) {
        let position = ((c - self.lo) / self.step).round();
        if position < 0.0 {
            (0, c < self.lo - 1e-9 * self.step)
        } else if position > (self.count - 1) as f64 {
            (self.count - 1, c > self.hi() + 1e-9 * self.step)
        } else {
            (position as usize, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_rounds_and_clips() {
        let grid = StockGrid::new(-2.0, 2.0, 1.0).unwrap();
        assert_eq!(grid.len(), 5);
        assert_eq!(grid.index(0.4), (2, false));
        assert_eq!(grid.index(-7.0), (0, true));
        assert_eq!(grid.index(2.0), (4, false));
        assert!(StockGrid::new(1.0, 0.0, 1.0).is_err());
        assert!(StockGrid::new(0.0, 1.0, 0.0).is_err());
        assert_eq!(StockGrid::single(3.0).unwrap().len(), 1);
    }
}
