//! choicelab-reservoir: reservoir computing with excitatory/inhibitory populations.
//!
//! It owns echo-state networks ([`EsnParams`] → [`Esn`]: leaky tanh or sigmoid units, sparse
//! random recurrent weights scaled to a spectral radius computed from all eigenvalues, input
//! scaling, optional bias and output feedback), reservoirs that obey Dale's law
//! ([`DaleParams`] → [`DaleReservoir`]: signed excitatory and inhibitory blocks, a global
//! balance knob, per-neuron homeostatic adaptation of inhibition toward [`TargetRates`],
//! iterative or one-shot), the ridge readout with a bias ([`Ridge`], a dense faer solve), and
//! the benchmark tasks ([`Task`]: memory capacity, NARMA10 in its classic and reservoirpy's
//! recursion, Mackey–Glass forecasting) with their scores. Everything random takes a seed.
//!
//! ```
//! use choicelab_core::rng;
//! use choicelab_reservoir::{EsnParams, Narma, Ridge, Task};
//!
//! let mut esn = EsnParams { units: 50, spectral_radius: 0.9, ..EsnParams::default() }.build()?;
//! let task = Task::narma(Narma::Classic, 600, 200, 100, &mut rng(1))?;
//! let nrmse = task.evaluate(&mut esn, Ridge::new(1e-6)?)?;
//! assert!(nrmse < 1.0);
//! # Ok::<(), choicelab_core::Error>(())
//! ```

mod dale;
mod esn;
mod readout;
mod reservoir;
mod series;
mod sparse;
mod task;
mod tasks;

pub use dale::{AdaptationLog, DaleParams, DaleReservoir, TargetRates};
pub use esn::{Esn, EsnParams};
pub use readout::{Readout, Ridge};
pub use reservoir::{collect_states, Activation, Reservoir};
pub use series::Series;
pub use sparse::{spectral_radius, SparseMatrix};
pub use task::{Score, Task};
pub use tasks::{nrmse, squared_correlation, MackeyGlass, Narma};
