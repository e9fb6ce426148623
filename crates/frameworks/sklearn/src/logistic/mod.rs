//! Binomial and multinomial logistic regression with a self-contained L-BFGS solver.
//!
//! [`LogisticModel::fit`] reproduces scikit-learn's `LogisticRegression(solver="lbfgs")`
//! (checked against scikit-learn 1.9.1 in the tests below):
//!
//! * more than two classes give a multinomial (softmax) model with one coefficient row and
//!   one intercept per class; two classes give a binomial model with a single row and
//!   intercept whose positive class is class 1, as scikit-learn ≥ 1.5 fits it;
//! * the objective is scikit-learn's: the mean log-loss over the rows plus
//!   `‖W‖² / (2·C·n)` (intercepts are not penalised), without the L2 term when the
//!   penalty is off;
//! * the solver follows scipy's L-BFGS-B as scikit-learn calls it: a start from zeros,
//!   10 correction pairs, the Moré–Thuente line search (sufficient decrease 1e-3,
//!   curvature 0.9, at most 50 evaluations, first step `1/‖g‖` and then 1), a skipped
//!   update when the curvature `sᵀy` is not positive enough, a restart from steepest
//!   descent when a line search fails with a non-empty memory, and the same stopping rules:
//!   `max |∇f| ≤ tol`, a relative decrease of the objective of at most 64·ε, or
//!   `max_iter` accepted steps. Reaching `max_iter` reports the fit as not converged even
//!   when that last step happens to meet a test, as scipy does.
//!
//! Where this departs from scipy: `max_iter = 0` returns the zero start (scipy still takes
//! one step, which scikit-learn then reports as `n_iter_ = 0`); a line search never accepts
//! a step that raises the objective; a non-finite objective along the search direction
//! shortens the step instead of failing. The fitted parameters are never NaN: the last
//! accepted point is kept whatever happens.
//!
//! The paths match scikit-learn's to rounding (1e-15 over the first iterations), but
//! rounding differences (OpenBLAS products against the sums here) grow along ill-conditioned
//! paths, so a fit stopped early by `tol` can land a few 1e-3 away from scikit-learn's on
//! unscaled data such as iris; both are then equally close to the optimum.
//!
//! Rows are contiguous and row-major. The objective and its gradient are computed in one
//! pass over them, a block of rows at a time: logits, then softmax (with an inlined,
//! vectorisable `exp` accurate to 2 ulp), then the gradient, four rows per update.

mod model;
mod objective;
mod solver;
#[cfg(test)]
mod tests;

pub(crate) use model::{LogisticModel, LogisticParams};
