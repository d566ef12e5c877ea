//! The stationary planners by name, for callers that choose one at run time.

use std::fmt;
use std::str::FromStr;

use choicelab_core::{Error, Result, TabularMdp};

use crate::average::RelativeValueIteration;
use crate::driver::{Observer, Stopping};
use crate::policy_iteration::{ModifiedPolicyIteration, PolicyIteration};
use crate::solution::Solution;
use crate::value_iteration::{Sweep, ValueIteration};

/// A stationary planning method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Jacobi value iteration (`vi`).
    ValueIteration,
    /// Gauss–Seidel value iteration (`gs`).
    GaussSeidel,
    /// Howard's policy iteration (`pi`).
    PolicyIteration,
    /// Modified policy iteration (`mpi`).
    ModifiedPolicyIteration,
    /// Relative value iteration, average reward (`rvi`).
    RelativeValueIteration,
}

impl Method {
    /// Every stationary method, in the order reports list them.
    pub const ALL: [Method; 5] = [
        Method::ValueIteration,
        Method::GaussSeidel,
        Method::PolicyIteration,
        Method::ModifiedPolicyIteration,
        Method::RelativeValueIteration,
    ];

    /// The short name used on the command line.
    pub fn short_name(self) -> &'static str {
        match self {
            Method::ValueIteration => "vi",
            Method::GaussSeidel => "gs",
            Method::PolicyIteration => "pi",
            Method::ModifiedPolicyIteration => "mpi",
            Method::RelativeValueIteration => "rvi",
        }
    }

    /// Whether the method optimises the discounted criterion (all but relative VI).
    pub fn is_discounted(self) -> bool {
        self != Method::RelativeValueIteration
    }

    /// Solves `mdp` with this method; `gamma` is ignored by relative value iteration and
    /// `epsilon` by policy iteration.
    pub fn solve(
        self,
        mdp: &TabularMdp,
        gamma: f64,
        epsilon: f64,
        stopping: &Stopping,
        observer: &mut dyn Observer,
    ) -> Result<Solution> {
        match self {
            Method::ValueIteration => ValueIteration::new(gamma)
                .epsilon(epsilon)
                .solve_with(mdp, stopping, observer),
            Method::GaussSeidel => ValueIteration::new(gamma)
                .epsilon(epsilon)
                .sweep(Sweep::GaussSeidel)
                .solve_with(mdp, stopping, observer),
            Method::PolicyIteration => {
                PolicyIteration::new(gamma).solve_with(mdp, stopping, observer)
            }
            Method::ModifiedPolicyIteration => ModifiedPolicyIteration::new(gamma)
                .epsilon(epsilon)
                .solve_with(mdp, stopping, observer),
            Method::RelativeValueIteration => RelativeValueIteration::new()
                .epsilon(epsilon)
                .solve_with(mdp, stopping, observer),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.short_name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Method::ALL.iter().map(|m| m.short_name()).collect();
                Error::parameter(
                    "method",
                    format!(
                        "unknown method `{name}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }
}
