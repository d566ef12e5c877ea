//! Seeds and portable seeded random streams.

use rand::SeedableRng;
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
