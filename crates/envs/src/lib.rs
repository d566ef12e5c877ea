//! choicelab-envs: simulated worlds, seeded, that produce data in the formats the estimators
//! read.
//!
//! [`bus_fleet`] runs buses under a keep-or-replace policy into a [`Panel`](choicelab_core::panel::Panel);
//! [`delivery`] is Knox et al.'s delivery gridworld, read from the shipped board or drawn at
//! random; [`linear_ddc`] draws finite-horizon linear MDPs with a human who chooses by the dynamic
//! discrete choice model, and logs their episodes.

pub mod bus_fleet;
pub mod delivery;
pub mod linear_ddc;

pub use bus_fleet::simulate_bus_fleet;
pub use delivery::{BoardDesign, Cell, DeliveryBoard, MudCell};
pub use linear_ddc::{Episodes, Features, LinearDdcWorld, StepTables, Transition, WorldDesign};
