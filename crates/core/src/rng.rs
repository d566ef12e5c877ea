//! Seeds and portable seeded random streams.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seed: every random thing in choicelab takes one, and the same seed gives the same bits.
pub type Seed = u64;

/// The portable generator used everywhere (ChaCha8: same stream on every platform).
pub type Rng = ChaCha8Rng;

/// A generator for `seed`.
pub fn rng(seed: Seed) -> Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A generator for sub-stream `stream` of `seed`: independent streams for parallel work items,
/// so results do not depend on how the work is split across threads.
pub fn stream_rng(seed: Seed, stream: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// An index drawn from the probability vector `probabilities` (the last index with positive
/// probability if rounding leaves the draw past the total).
pub fn draw_index(rng: &mut Rng, probabilities: &[f64]) -> usize {
    let mut u = rng.random::<f64>();
    for (i, p) in probabilities.iter().enumerate() {
        if u < *p {
            return i;
        }
        u -= p;
    }
    probabilities.iter().rposition(|p| *p > 0.0).unwrap_or(0)
}
