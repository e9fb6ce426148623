//! The fitted logistic regression: fitting through the solver, prediction, probabilities.

use serde::{Deserialize, Serialize};

use super::objective::{Objective, dot, sigmoid, softmax_in_place};
use super::solver::minimize;
use crate::cancel::Cancel;

/// Hyper-parameters of [`LogisticModel::fit`], named and defaulted as in scikit-learn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogisticParams {
    /// Inverse regularisation strength `C` (> 0); `f64::INFINITY` drops the L2 term.
    pub(crate) c: f64,
    /// Largest number of L-BFGS iterations (accepted steps).
    pub(crate) max_iter: usize,
    /// Stop once every gradient component is at most this in absolute value.
    pub(crate) tol: f64,
    /// Whether to fit intercepts (never penalised); without them they are all zero.
    pub(crate) fit_intercept: bool,
    /// `false` is scikit-learn's `penalty=None`: no L2 term, whatever `c` is.
    pub(crate) penalty: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            max_iter: 100,
            tol: 1e-4,
            fit_intercept: true,
            penalty: true,
        }
    }
}

/// A fitted logistic regression.
///
/// `coef` is row-major with one row of `n_features` per class when there are more than
/// two classes, and a single row (for class 1) when there are two; `intercept` has one
/// value per row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LogisticModel {
    pub(super) n_features: usize,
    pub(super) n_classes: usize,
    pub(super) coef: Vec<f64>,
    pub(super) intercept: Vec<f64>,
    pub(super) n_iter: usize,
    pub(super) converged: bool,
}

impl LogisticModel {
    /// Fits the model on `x` (row-major, `y.len()` rows of `n_features` contiguous values)
    /// with labels `y` in `0..n_classes`.
    ///
    /// A class without rows is fitted like the others (its intercept drifts down for as
    /// long as the fit runs), where scikit-learn would not know it. Non-finite values in
    /// `x` leave the zero start unconverged.
    ///
    /// # Panics
    ///
    /// When `n_classes < 2`, `n_features == 0`, `y` is empty, `x.len() != y.len() *
    /// n_features`, a label is `>= n_classes`, or `params.c` is not positive.
    #[cfg(test)]
    pub(crate) fn fit(
        x: &[f64],
        n_features: usize,
        y: &[usize],
        n_classes: usize,
        params: &LogisticParams,
    ) -> LogisticModel {
        Self::fit_traced(x, n_features, y, n_classes, params, None, &Cancel::NEVER)
            .expect("a fit that cannot be cancelled ends")
    }

    /// [`LogisticModel::fit`] that checks `cancel` before every L-BFGS iteration and
    /// returns [`crate::cancel::STOPPED`] once it is set.
    pub(crate) fn fit_cancellable(
        x: &[f64],
        n_features: usize,
        y: &[usize],
        n_classes: usize,
        params: &LogisticParams,
        cancel: &Cancel<'_>,
    ) -> Result<LogisticModel, String> {
        Self::fit_traced(x, n_features, y, n_classes, params, None, cancel)
    }

    /// [`LogisticModel::fit_cancellable`], pushing the objective at the start and after
    /// every iteration onto `trace` when one is given.
    pub(super) fn fit_traced(
        x: &[f64],
        n_features: usize,
        y: &[usize],
        n_classes: usize,
        params: &LogisticParams,
        trace: Option<&mut Vec<f64>>,
        cancel: &Cancel<'_>,
    ) -> Result<LogisticModel, String> {
        assert!(
            n_classes >= 2,
            "logistic regression needs at least 2 classes"
        );
        assert!(
            n_features > 0,
            "logistic regression needs at least 1 feature"
        );
        assert!(!y.is_empty(), "logistic regression needs at least 1 row");
        assert_eq!(
            x.len(),
            y.len() * n_features,
            "x must hold y.len() rows of n_features values"
        );
        assert!(
            y.iter().all(|&label| label < n_classes),
            "every label must be below n_classes"
        );
        assert!(params.c > 0.0, "C must be positive");

        let n_rows_coef = if n_classes == 2 { 1 } else { n_classes };
        let l2 = if params.penalty {
            // 1 / (C·n), which is 0 for C = ∞.
            1.0 / (params.c * y.len() as f64)
        } else {
            0.0
        };
        let objective = Objective {
            x,
            y,
            n_features,
            n_classes,
            n_rows_coef,
            fit_intercept: params.fit_intercept,
            l2,
        };
        let solution = minimize(&objective, params.max_iter, params.tol, trace, cancel)?;

        let n_coef = n_rows_coef * n_features;
        let mut coef = solution.w;
        let intercept = if params.fit_intercept {
            coef.split_off(n_coef)
        } else {
            vec![0.0; n_rows_coef]
        };
        Ok(LogisticModel {
            n_features,
            n_classes,
            coef,
            intercept,
            n_iter: solution.n_iter,
            converged: solution.converged,
        })
    }

    /// The most probable class of each row of `x` (row-major, `n_features` per row); ties
    /// go to the lowest class index.
    pub(crate) fn predict(&self, x: &[f64]) -> Vec<usize> {
        let mut out = Vec::new();
        self.predict_into(x, &mut out);
        out
    }

    /// [`LogisticModel::predict`] into `out`, which is cleared first and keeps its
    /// allocation.
    pub(crate) fn predict_into(&self, x: &[f64], out: &mut Vec<usize>) {
        let n_features = self.checked_n_features(x);
        out.clear();
        out.reserve(x.len() / n_features);
        if self.n_classes == 2 {
            let b = self.intercept[0];
            out.extend(
                x.chunks_exact(n_features)
                    .map(|row| usize::from(dot(&self.coef, row) + b > 0.0)),
            );
        } else {
            out.extend(x.chunks_exact(n_features).map(|row| {
                let mut best = 0;
                let mut best_z = f64::NEG_INFINITY;
                for (k, (w, &b)) in self
                    .coef
                    .chunks_exact(n_features)
                    .zip(&self.intercept)
                    .enumerate()
                {
                    let z = dot(w, row) + b;
                    if z > best_z {
                        best = k;
                        best_z = z;
                    }
                }
                best
            }));
        }
    }

    /// Class probabilities of each row of `x`, row-major: `n_rows × n_classes`.
    pub(crate) fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let n_features = self.checked_n_features(x);
        let n_rows = x.len() / n_features;
        let mut out = Vec::with_capacity(n_rows * self.n_classes);
        if self.n_classes == 2 {
            let b = self.intercept[0];
            for row in x.chunks_exact(n_features) {
                let p = sigmoid(dot(&self.coef, row) + b);
                out.push(1.0 - p);
                out.push(p);
            }
        } else {
            let mut z = vec![0.0; self.n_classes];
            for row in x.chunks_exact(n_features) {
                for ((zk, w), &b) in z
                    .iter_mut()
                    .zip(self.coef.chunks_exact(n_features))
                    .zip(&self.intercept)
                {
                    *zk = dot(w, row) + b;
                }
                softmax_in_place(&mut z);
                out.extend_from_slice(&z);
            }
        }
        out
    }

    /// L-BFGS iterations (accepted steps) the fit took.
    pub(crate) fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Whether the fit met the gradient or relative-decrease test before `max_iter`.
    pub(crate) fn converged(&self) -> bool {
        self.converged
    }

    /// Number of features per row.
    pub(crate) fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of classes.
    pub(crate) fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// `n_features`, after checking that `x` holds whole rows of it.
    pub(super) fn checked_n_features(&self, x: &[f64]) -> usize {
        let n_features = self.n_features;
        assert!(
            n_features > 0 && x.len().is_multiple_of(n_features),
            "x must hold whole rows of n_features values"
        );
        n_features
    }
}
