//! choicelab-inverse: from sequential choices to what the chooser values.
//!
//! [`ddc`] holds dynamic discrete choice: Rust's (1987) bus-engine data and model, the
//! expected-value fixed point solved by contraction and Newton–Kantorovich steps, and
//! estimation by nested fixed point (NFXP) and conditional choice probabilities (CCP).
//! [`dcppo`] learns a dynamic chooser's reward and plans pessimistically with it.
//! [`preferences`] models how people compare trajectory segments (partial return, regret).
//! [`spo`] is self-play preference optimisation towards the Minimax Winner.

pub mod dcppo;
pub mod ddc;
pub mod preferences;
pub mod spo;
