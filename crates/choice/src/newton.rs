//! Newton's method for the concave log-likelihoods of Luce-family models, with an optional
//! ridge penalty α·Σθ² and identification by centring θ.

use choicelab_core::{Error, Items, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve};
use faer::{Mat, Side};

use crate::fitted::FittedUtilities;

/// Stopping and penalty settings of a Newton fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewtonSettings {
    /// Penalty α in LL(θ) − α·Σθ²; 0 for plain maximum likelihood.
    pub alpha: f64,
    /// Stop when the largest step component is below this.
    pub tolerance: f64,
    /// Most Newton steps.
    pub max_iterations: usize,
}

/// The maximiser and what is known about it.
#[derive(Debug, Clone)]
pub(crate) struct NewtonFit {
    pub theta: Vec<f64>,
    /// Log-likelihood at θ (without the penalty).
    pub loglik: f64,
    pub iterations: usize,
    /// Covariance of θ under the centring constraint (inverse observed information).
    pub covariance: Mat<f64>,
}

impl NewtonFit {
    /// The fit as utilities of `items`, with standard errors from the covariance's diagonal.
    pub fn into_utilities(
        self,
        model: &'static str,
        items: &Items,
        n_obs: usize,
    ) -> FittedUtilities {
        let n = self.theta.len();
        FittedUtilities {
            model,
            items: items.clone(),
            std_errors: Some(
                (0..n)
                    .map(|i| self.covariance[(i, i)].max(0.0).sqrt())
                    .collect(),
            ),
            theta: self.theta,
            loglik: self.loglik,
            iterations: self.iterations,
            n_obs,
            tie_parameter: None,
        }
    }
}

/// Evaluates LL(θ) and, when asked, adds its gradient into `grad` and its negated Hessian
/// into `information`.
pub(crate) type Evaluate<'a> = dyn Fn(&[f64], Option<(&mut [f64], &mut Mat<f64>)>) -> f64 + 'a;

/// Maximises LL(θ) − α·Σθ² from θ = 0. With α = 0 the likelihood is flat along the all-ones
/// direction, so that direction is given unit curvature in the Newton system and θ is centred.
pub(crate) fn maximise(
    n: usize,
    settings: NewtonSettings,
    evaluate: &Evaluate,
) -> Result<NewtonFit> {
    let alpha = settings.alpha;
    let objective =
        |theta: &[f64]| evaluate(theta, None) - alpha * theta.iter().map(|t| t * t).sum::<f64>();
    let mut theta = vec![0.0; n];
    let mut value = objective(&theta);
    for iteration in 1..=settings.max_iterations {
        let mut grad = vec![0.0; n];
        let mut information = Mat::<f64>::zeros(n, n);
        evaluate(&theta, Some((&mut grad, &mut information)));
        let system = regularised(&information, alpha);
        let rhs = Mat::from_fn(n, 1, |i, _| grad[i] - 2.0 * alpha * theta[i]);
        let llt = system.llt(Side::Lower).map_err(|_| Error::Numerical {
            context: "Newton step".into(),
            message: "the observed information is not positive definite".into(),
        })?;
        let step = llt.solve(&rhs);
        // Backtracking keeps every step an ascent step.
        let mut scale = 1.0;
        let mut candidate: Vec<f64>;
        loop {
            candidate = (0..n).map(|i| theta[i] + scale * step[(i, 0)]).collect();
            let new_value = objective(&candidate);
            if new_value >= value - 1e-12 * value.abs().max(1.0) || scale < 1e-8 {
                value = new_value;
                break;
            }
            scale /= 2.0;
        }
        let largest = (0..n)
            .map(|i| (scale * step[(i, 0)]).abs())
            .fold(0.0, f64::max);
        theta = candidate;
        if !value.is_finite() {
            return Err(Error::Numerical {
                context: "Newton fit".into(),
                message: format!("the objective became {value} at iteration {iteration}"),
            });
        }
        if largest < settings.tolerance {
            if alpha == 0.0 {
                let mean = theta.iter().sum::<f64>() / n as f64;
                theta.iter_mut().for_each(|t| *t -= mean);
            }
            let mut information = Mat::<f64>::zeros(n, n);
            let mut grad = vec![0.0; n];
            let loglik = evaluate(&theta, Some((&mut grad, &mut information)));
            let covariance = covariance(&information, alpha)?;
            return Ok(NewtonFit {
                theta,
                loglik,
                iterations: iteration,
                covariance,
            });
        }
    }
    Err(Error::NotConverged {
        method: "Newton".into(),
        iterations: settings.max_iterations,
        residual: f64::NAN,
        tolerance: settings.tolerance,
        reason: "iteration limit".into(),
    })
}

/// Information plus 2α·I, or plus the projector on the all-ones direction when α = 0.
fn regularised(information: &Mat<f64>, alpha: f64) -> Mat<f64> {
    let n = information.nrows();
    Mat::from_fn(n, n, |i, j| {
        let extra = if alpha > 0.0 {
            if i == j {
                2.0 * alpha
            } else {
                0.0
            }
        } else {
            1.0 / n as f64
        };
        information[(i, j)] + extra
    })
}

/// Covariance of the centred utilities: the inverse of the (penalised) information restricted
/// to sum-zero directions. The likelihood is flat along the all-ones direction, so without this
/// projection a small α would put a variance of 1/(2αn) on every utility.
fn covariance(information: &Mat<f64>, alpha: f64) -> Result<Mat<f64>> {
    let n = information.nrows();
    let with_projector = Mat::from_fn(n, n, |i, j| {
        information[(i, j)] + if i == j { 2.0 * alpha } else { 0.0 } + 1.0 / n as f64
    });
    let llt = with_projector
        .llt(Side::Lower)
        .map_err(|_| Error::Numerical {
            context: "standard errors".into(),
            message: "the observed information is not positive definite".into(),
        })?;
    let inverse = llt.inverse();
    // The all-ones direction has eigenvalue 1 + 2α in the system above; remove it again.
    let along_ones = 1.0 / (n as f64 * (1.0 + 2.0 * alpha));
    Ok(Mat::from_fn(n, n, |i, j| inverse[(i, j)] - along_ones))
}
