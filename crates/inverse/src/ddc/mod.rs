//! Dynamic discrete choice: an agent who, in each state, keeps or replaces, with logit shocks
//! and foresight β (Rust 1987).

pub mod bus_data;
pub mod ccp;
pub mod demand;
pub mod fixed_point;
mod likelihood;
pub mod model;
pub mod nfxp;
pub mod outer;
pub mod simulate;

pub use bus_data::{read_bus_group, BusGroup};
pub use ccp::{Ccp, FittedCcp};
pub use choicelab_core::panel::{Increments, Observation, Panel};
pub use demand::replacement_demand;
pub use fixed_point::FixedPointSettings;
pub use model::{CostShape, ZurcherModel};
pub use nfxp::{FittedDdc, Nfxp};
pub use outer::Outer;
pub use simulate::simulate_fleet;
