//! choicelab-envs: simulated worlds, seeded, that produce data in the formats the estimators
//! read, and small tabular worlds for the planners.
//!
//! [`bus_fleet`] runs buses under a keep-or-replace policy into a [`Panel`](choicelab_core::panel::Panel);
//! [`delivery`] is Knox et al.'s delivery gridworld, read from the shipped board or drawn at
//! random; [`linear_ddc`] draws finite-horizon linear MDPs with a human who chooses by the dynamic
//! discrete choice model, and logs their episodes. For planning under risk and uncertainty:
//! [`cliff`] is Sutton and Barto's cliff walk with slipping, [`windy_walk`] a cliff walk whose
//! uncertain wind pushes toward the cliff, [`river_swim`] a current that perturbs RiverSwim, and
//! [`foraging`] a homeostasis toy. These four build [`TabularMdp`](choicelab_core::TabularMdp)s
//! with rewards per transition. [`auction`] replays (or simulates) real-time-bidding auction
//! logs against a bidder under a budget; [`linear_system`] is a dynamical linear bandit: actions
//! drive a hidden linear state (Mussi et al. 2023). [`classic_control`] ports gymnasium's
//! CartPole, Pendulum, MountainCarContinuous and Acrobot step for step behind the
//! [`Env`](choicelab_core::env::Env) contract, with [`classic_control::make`] as the registry.
//!
//! ```
//! use choicelab_envs::{CliffWorld, WindyWalk};
//!
//! let cliff = CliffWorld::default().mdp()?;
//! assert_eq!(cliff.n_states(), 48);
//! let stormy = WindyWalk::default().with_wind(0.5).mdp()?;
//! assert_eq!(stormy.n_actions(), 4);
//! # Ok::<(), choicelab_core::Error>(())
//! ```

pub mod auction;
pub mod bus_fleet;
pub mod classic_control;
pub mod cliff;
pub mod delivery;
pub mod foraging;
mod grid;
pub mod linear_ddc;
pub mod linear_system;
pub mod river_swim;
pub mod windy_walk;

pub use auction::{replay, Auction, AuctionLog, CampaignInfo, ReplayResult};
pub use bus_fleet::simulate_bus_fleet;
pub use cliff::CliffWorld;
pub use delivery::{BoardDesign, Cell, DeliveryBoard, MudCell};
pub use foraging::Foraging;
pub use linear_ddc::{Episodes, Features, LinearDdcWorld, StepTables, Transition, WorldDesign};
pub use linear_system::LinearSystem;
pub use river_swim::{perturbed_river_swim, CURRENT_RANGE};
pub use windy_walk::{WindyWalk, NOMINAL_WIND, WIND_RANGE};
