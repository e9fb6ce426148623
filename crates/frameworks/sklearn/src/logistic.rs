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

use serde::{Deserialize, Serialize};

/// Correction pairs kept by L-BFGS (scipy's default `maxcor`).
const LBFGS_MEMORY: usize = 10;
/// Objective evaluations allowed in one line search (scikit-learn passes `maxls=50`).
const LS_MAX_EVALS: usize = 50;
/// Sufficient-decrease (Armijo) constant of the line search.
const LS_FTOL: f64 = 1e-3;
/// Curvature constant of the strong-Wolfe condition.
const LS_GTOL: f64 = 0.9;
/// Relative width of the bracket below which the line search settles.
const LS_XTOL: f64 = 0.1;
/// Largest step length tried (L-BFGS-B's bound when no variable is bounded).
const LS_STEP_MAX: f64 = 1e10;
/// How far past the last step an unbracketed line search extrapolates, at least…
const LS_EXTRAP_LOWER: f64 = 1.1;
/// …and at most, in units of the last step.
const LS_EXTRAP_UPPER: f64 = 4.0;
/// Relative decrease of the objective, in units of ε, at or below which the fit stops
/// (scikit-learn passes `ftol = 64·ε`).
const FTOL_IN_EPS: f64 = 64.0;

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
    n_features: usize,
    n_classes: usize,
    coef: Vec<f64>,
    intercept: Vec<f64>,
    n_iter: usize,
    converged: bool,
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
    pub(crate) fn fit(
        x: &[f64],
        n_features: usize,
        y: &[usize],
        n_classes: usize,
        params: &LogisticParams,
    ) -> LogisticModel {
        Self::fit_traced(x, n_features, y, n_classes, params, None)
    }

    /// [`LogisticModel::fit`], pushing the objective at the start and after every
    /// iteration onto `trace` when one is given.
    fn fit_traced(
        x: &[f64],
        n_features: usize,
        y: &[usize],
        n_classes: usize,
        params: &LogisticParams,
        trace: Option<&mut Vec<f64>>,
    ) -> LogisticModel {
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
        let solution = minimize(&objective, params.max_iter, params.tol, trace);

        let n_coef = n_rows_coef * n_features;
        let mut coef = solution.w;
        let intercept = if params.fit_intercept {
            coef.split_off(n_coef)
        } else {
            vec![0.0; n_rows_coef]
        };
        LogisticModel {
            n_features,
            n_classes,
            coef,
            intercept,
            n_iter: solution.n_iter,
            converged: solution.converged,
        }
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
    fn checked_n_features(&self, x: &[f64]) -> usize {
        let n_features = self.n_features;
        assert!(
            n_features > 0 && x.len().is_multiple_of(n_features),
            "x must hold whole rows of n_features values"
        );
        n_features
    }
}

/// Dot product with four independent accumulators, so that it vectorises.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let a_chunks = a.chunks_exact(4);
    let b_chunks = b.chunks_exact(4);
    let tail: f64 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0; 4];
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((acc, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *acc += x * y;
        }
    }
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
}

/// `y += a·x`.
#[inline]
fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Largest absolute value (the ∞-norm); NaN if any value is NaN.
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0_f64, |m, &x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x.abs())
        }
    })
}

/// The logistic function `1 / (1 + e^{-z})`, without overflow.
#[inline]
fn sigmoid(z: f64) -> f64 {
    let e = (-z.abs()).exp();
    if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// Replaces logits by their softmax, shifting by the maximum first.
fn softmax_in_place(z: &mut [f64]) {
    let z_max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for zk in z.iter_mut() {
        *zk = (*zk - z_max).exp();
        sum += *zk;
    }
    let inv = 1.0 / sum;
    for zk in z.iter_mut() {
        *zk *= inv;
    }
}

/// The penalised mean log-loss of one training set, as a function of the packed parameters
/// `[coef (n_rows_coef × n_features, row-major), intercept (n_rows_coef, when fitted)]`.
struct Objective<'a> {
    x: &'a [f64],
    y: &'a [usize],
    n_features: usize,
    n_classes: usize,
    /// Coefficient rows: 1 for two classes, `n_classes` otherwise.
    n_rows_coef: usize,
    fit_intercept: bool,
    /// Strength of `½·l2·‖W‖²`: `1 / (C·n)`, or 0 without penalty.
    l2: f64,
}

/// Buffers reused by every evaluation of an [`Objective`].
struct Workspace {
    /// Intercepts of the point evaluated (zeros when not fitted).
    intercept: Vec<f64>,
    /// Sum over rows of the intercept gradient.
    grad_intercept: Vec<f64>,
    /// Logits, then residuals, of a block of rows: [`BLOCK_ROWS`] × coefficient rows.
    block: Vec<f64>,
    /// `e^{-|z|}` of a block of rows (binomial only).
    exps: Vec<f64>,
}

impl Objective<'_> {
    /// Length of the packed parameter vector.
    fn n_params(&self) -> usize {
        self.n_rows_coef * (self.n_features + usize::from(self.fit_intercept))
    }

    fn workspace(&self) -> Workspace {
        Workspace {
            intercept: vec![0.0; self.n_rows_coef],
            grad_intercept: vec![0.0; self.n_rows_coef],
            block: vec![0.0; BLOCK_ROWS * self.n_rows_coef],
            exps: vec![0.0; if self.n_classes == 2 { BLOCK_ROWS } else { 0 }],
        }
    }

    /// The objective at `w`, with its gradient written into `grad`.
    fn value_and_gradient(&self, w: &[f64], grad: &mut [f64], work: &mut Workspace) -> f64 {
        let n_coef = self.n_rows_coef * self.n_features;
        let (coef, intercept) = w.split_at(n_coef);
        let (grad_coef, grad_intercept) = grad.split_at_mut(n_coef);
        grad_coef.fill(0.0);
        work.grad_intercept.fill(0.0);
        if self.fit_intercept {
            work.intercept.copy_from_slice(intercept);
        } else {
            work.intercept.fill(0.0);
        }

        let loss_sum = if self.n_classes == 2 {
            self.binomial_pass(coef, grad_coef, work)
        } else {
            self.multinomial_pass(coef, grad_coef, work)
        };

        let inv_n = 1.0 / self.y.len() as f64;
        let mut squared_norm = 0.0;
        for (gc, &c) in grad_coef.iter_mut().zip(coef) {
            *gc = *gc * inv_n + self.l2 * c;
            squared_norm += c * c;
        }
        for (gi, &sum) in grad_intercept.iter_mut().zip(&work.grad_intercept) {
            *gi = sum * inv_n;
        }
        loss_sum * inv_n + 0.5 * self.l2 * squared_norm
    }

    /// Sum over rows of the binomial log-loss; adds the unscaled gradient into
    /// `grad_coef` and `work.grad_intercept`.
    fn binomial_pass(&self, coef: &[f64], grad_coef: &mut [f64], work: &mut Workspace) -> f64 {
        let n_features = self.n_features;
        let mut loss = 0.0;
        for (x_block, y_block) in self
            .x
            .chunks(BLOCK_ROWS * n_features)
            .zip(self.y.chunks(BLOCK_ROWS))
        {
            let residuals = &mut work.block[..y_block.len()];
            let exps = &mut work.exps[..y_block.len()];
            logits_block(coef, &work.intercept, x_block, residuals);
            // e^{-|z|}, apart from the logarithms so that it vectorises.
            for (e, z) in exps.iter_mut().zip(residuals.iter()) {
                *e = exp_nonpositive(-z.abs());
            }
            for ((z, &e), &label) in residuals.iter_mut().zip(exps.iter()).zip(y_block) {
                let target = if label == 1 { 1.0 } else { 0.0 };
                // log(1 + e^z) = max(z, 0) + log(1 + e^{-|z|}), and the probability from
                // the same exponential.
                loss += z.max(0.0) + ln_1p_unit(e) - target * *z;
                let p = if *z >= 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                *z = p - target;
            }
            accumulate_gradient(
                grad_coef,
                &mut work.grad_intercept,
                residuals,
                x_block,
                n_features,
            );
        }
        loss
    }

    /// Sum over rows of the multinomial log-loss; adds the unscaled gradient into
    /// `grad_coef` and `work.grad_intercept`.
    fn multinomial_pass(&self, coef: &[f64], grad_coef: &mut [f64], work: &mut Workspace) -> f64 {
        let n_features = self.n_features;
        let n_classes = self.n_classes;
        let Workspace {
            intercept,
            grad_intercept,
            block,
            ..
        } = work;
        let mut loss = 0.0;
        for (x_block, y_block) in self
            .x
            .chunks(BLOCK_ROWS * n_features)
            .zip(self.y.chunks(BLOCK_ROWS))
        {
            let residuals = &mut block[..y_block.len() * n_classes];
            // Logits of the block, then softmax and residuals row by row, then the
            // gradient: keeping the exponentials apart lets the arithmetic vectorise.
            logits_block(coef, intercept, x_block, residuals);
            // Shift each row by its maximum; the loss is log Σ e^{z - max} - (z_label - max).
            for (z_row, &label) in residuals.chunks_exact_mut(n_classes).zip(y_block) {
                let z_max = z_row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                for z in z_row.iter_mut() {
                    *z -= z_max;
                }
                loss -= z_row[label];
            }
            for z in residuals.iter_mut() {
                *z = exp_nonpositive(*z);
            }
            // Residuals: softmax minus the one-hot target. The logarithms of the row sums
            // (each in [1, n_classes]) are taken on their product.
            let mut product = 1.0;
            for (z_row, &label) in residuals.chunks_exact_mut(n_classes).zip(y_block) {
                let sum: f64 = z_row.iter().sum();
                product *= sum;
                if product > 1e300 {
                    loss += product.ln();
                    product = 1.0;
                }
                let inv = 1.0 / sum;
                for z in z_row.iter_mut() {
                    *z *= inv;
                }
                z_row[label] -= 1.0;
            }
            loss += product.ln();
            accumulate_gradient(grad_coef, grad_intercept, residuals, x_block, n_features);
        }
        loss
    }
}

/// Rows processed together by [`Objective::value_and_gradient`].
const BLOCK_ROWS: usize = 64;

/// Logits of a block of rows: `z[row, k] = coef[k]·x[row] + intercept[k]`, with `coef`
/// `intercept.len()` rows of `n_features` and `x` and `z` row-major.
fn logits_block(coef: &[f64], intercept: &[f64], x: &[f64], z: &mut [f64]) {
    let k = intercept.len();
    let n_features = coef.len() / k;
    for (z_row, row) in z.chunks_exact_mut(k).zip(x.chunks_exact(n_features)) {
        for ((z, w), &b) in z_row
            .iter_mut()
            .zip(coef.chunks_exact(n_features))
            .zip(intercept)
        {
            *z = dot(w, row) + b;
        }
    }
}

/// `e^t` for `t ≤ 0` within 2 ulp, flushed to 0 below -708 where it would be subnormal;
/// NaN stays NaN. Unlike a libm call it vectorises, and the objective takes one per class
/// and row.
#[inline]
fn exp_nonpositive(t: f64) -> f64 {
    /// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    /// ln 2 split so that `k·LN2_HI` is exact for |k| < 2²¹.
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    /// 1/n! for n = 0..=13: Taylor series of e^r, |r| ≤ ln2/2 (truncation below 1e-17).
    const C: [f64; 14] = [
        1.0,
        1.0,
        0.5,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let clamped = if t < -708.0 { -708.0 } else { t };
    // t = k·ln2 + r with k = round(t / ln2) in [-1021, 0].
    let shifted = clamped * std::f64::consts::LOG2_E + ROUND;
    let k = shifted - ROUND;
    let r = (clamped - k * LN2_HI) - k * LN2_LO;
    // Estrin's scheme: a shallow dependency chain instead of Horner's 13 steps.
    let r2 = r * r;
    let r4 = r2 * r2;
    let p01 = C[0] + C[1] * r;
    let p23 = C[2] + C[3] * r;
    let p45 = C[4] + C[5] * r;
    let p67 = C[6] + C[7] * r;
    let p89 = C[8] + C[9] * r;
    let p1011 = C[10] + C[11] * r;
    let p1213 = C[12] + C[13] * r;
    let low = p01 + r2 * p23;
    let mid = p45 + r2 * p67;
    let high = (p89 + r2 * p1011) + r4 * p1213;
    let p = low + r4 * (mid + r4 * high);
    // 2^k from the integer in the low bits of `shifted`: exponent field k + 1023.
    let two_k = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    if t < -708.0 { 0.0 } else { p * two_k }
}

/// `ln(1 + e)` for `e` in `[0, 1]` within a few ulp, from one `ln` (cheaper than libm's
/// `ln_1p`): `ln(u)·e/(u − 1)` with `u = 1 + e` cancels the rounding of `u`.
#[inline]
fn ln_1p_unit(e: f64) -> f64 {
    let u = 1.0 + e;
    if u == 1.0 { e } else { u.ln() * e / (u - 1.0) }
}

/// Adds `Σ_rows residual[row, k] · x[row]` to row `k` of `grad_coef` and
/// `Σ_rows residual[row, k]` to `grad_intercept[k]`, for a block of rows (`residuals` is
/// rows × `grad_intercept.len()`, `x` rows × `n_features`, both row-major).
fn accumulate_gradient(
    grad_coef: &mut [f64],
    grad_intercept: &mut [f64],
    residuals: &[f64],
    x: &[f64],
    n_features: usize,
) {
    let k = grad_intercept.len();
    // Four rows at a time: one load and store of the gradient per four rows.
    let r_quads = residuals.chunks_exact(4 * k);
    let x_quads = x.chunks_exact(4 * n_features);
    let (r_rest, x_rest) = (r_quads.remainder(), x_quads.remainder());
    for (r, x) in r_quads.zip(x_quads) {
        let (x0, x) = x.split_at(n_features);
        let (x1, x) = x.split_at(n_features);
        let (x2, x3) = x.split_at(n_features);
        for (class, (g, gb)) in grad_coef
            .chunks_exact_mut(n_features)
            .zip(grad_intercept.iter_mut())
            .enumerate()
        {
            let (a0, a1, a2, a3) = (r[class], r[k + class], r[2 * k + class], r[3 * k + class]);
            *gb += (a0 + a1) + (a2 + a3);
            for ((((gj, &u0), &u1), &u2), &u3) in g.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
                *gj += (a0 * u0 + a1 * u1) + (a2 * u2 + a3 * u3);
            }
        }
    }
    for (r, row) in r_rest.chunks_exact(k).zip(x_rest.chunks_exact(n_features)) {
        for ((g, gb), &a) in grad_coef
            .chunks_exact_mut(n_features)
            .zip(grad_intercept.iter_mut())
            .zip(r)
        {
            *gb += a;
            axpy(g, a, row);
        }
    }
}

/// What [`minimize`] found.
struct Solution {
    /// The last accepted point (never NaN).
    w: Vec<f64>,
    n_iter: usize,
    converged: bool,
}

/// Minimises `objective` from zeros with L-BFGS (see the module documentation), pushing the
/// objective at the start and after every iteration onto `trace` when given.
fn minimize(
    objective: &Objective<'_>,
    max_iter: usize,
    gtol: f64,
    mut trace: Option<&mut Vec<f64>>,
) -> Solution {
    let mut state = Lbfgs::new(objective);
    if let Some(trace) = trace.as_deref_mut() {
        trace.push(state.f);
    }
    let mut n_iter = 0;
    let mut converged = max_abs(&state.g) <= gtol;
    while !converged && n_iter < max_iter {
        state.history.direction(&state.g, &mut state.d);
        let gd0 = dot(&state.g, &state.d);
        if gd0.is_nan() || gd0 >= 0.0 {
            // Not a descent direction (or NaN): retry from steepest descent once.
            if state.history.is_empty() {
                break;
            }
            state.history.clear();
            continue;
        }
        let step0 = if n_iter == 0 {
            (1.0 / dot(&state.d, &state.d).sqrt()).min(LS_STEP_MAX)
        } else {
            1.0
        };
        let Some(accepted) = state.line_search(gd0, step0) else {
            // Keep the last good point; as L-BFGS-B, retry once from steepest descent.
            if state.history.is_empty() {
                break;
            }
            state.history.clear();
            continue;
        };
        n_iter += 1;
        let f_old = state.f;
        state.accept(&accepted);
        if let Some(trace) = trace.as_deref_mut() {
            trace.push(state.f);
        }
        if n_iter >= max_iter {
            break;
        }
        let f_new = state.f;
        let scale = f_old.abs().max(f_new.abs()).max(1.0);
        if max_abs(&state.g) <= gtol || f_old - f_new <= FTOL_IN_EPS * f64::EPSILON * scale {
            converged = true;
            break;
        }
        // sᵀy, computed as L-BFGS-B does from the directional derivatives.
        let sy = (accepted.gd - gd0) * accepted.step;
        if sy > f64::EPSILON * (-gd0 * accepted.step) {
            state.history.push(&state.d, &state.g_trial, sy);
        }
    }
    Solution {
        w: state.w,
        n_iter,
        converged,
    }
}

/// A step accepted by the line search.
struct Accepted {
    step: f64,
    /// Objective at the new point.
    f: f64,
    /// Directional derivative `∇f(new)ᵀd`.
    gd: f64,
}

/// Iterate and buffers of an L-BFGS run.
struct Lbfgs<'o, 'a> {
    objective: &'o Objective<'a>,
    work: Workspace,
    history: History,
    /// Current point, its objective and gradient.
    w: Vec<f64>,
    f: f64,
    g: Vec<f64>,
    /// Search direction; the step `s` once a step is accepted.
    d: Vec<f64>,
    /// Trial point of the line search.
    w_trial: Vec<f64>,
    /// Gradient at the trial point; `y` once a step is accepted.
    g_trial: Vec<f64>,
}

impl<'o, 'a> Lbfgs<'o, 'a> {
    /// Starts at zeros, evaluating the objective there.
    fn new(objective: &'o Objective<'a>) -> Self {
        let n = objective.n_params();
        let mut work = objective.workspace();
        let w = vec![0.0; n];
        let mut g = vec![0.0; n];
        let f = objective.value_and_gradient(&w, &mut g, &mut work);
        Lbfgs {
            objective,
            work,
            history: History::new(n, LBFGS_MEMORY),
            w,
            f,
            g,
            d: vec![0.0; n],
            w_trial: vec![0.0; n],
            g_trial: vec![0.0; n],
        }
    }

    /// Searches along `d` from `w` for a step meeting the strong Wolfe conditions,
    /// starting at `step`. On success `w_trial` and `g_trial` hold the new point and its
    /// gradient; `None` when no acceptable step with an objective no larger than `f` was
    /// found in [`LS_MAX_EVALS`] evaluations.
    fn line_search(&mut self, gd0: f64, mut step: f64) -> Option<Accepted> {
        let mut search = MoreThuente::new(self.f, gd0, step);
        for _ in 0..LS_MAX_EVALS {
            for ((t, &w), &d) in self.w_trial.iter_mut().zip(&self.w).zip(&self.d) {
                *t = w + step * d;
            }
            let f =
                self.objective
                    .value_and_gradient(&self.w_trial, &mut self.g_trial, &mut self.work);
            let gd = dot(&self.g_trial, &self.d);
            if !(f.is_finite() && gd.is_finite()) {
                step = search.retreat(step);
                continue;
            }
            let tried = step;
            if search.next(f, gd, &mut step) {
                return (f <= self.f).then_some(Accepted { step: tried, f, gd });
            }
        }
        None
    }

    /// Moves to the point found by the line search, leaving the step `s` in `d` and the
    /// gradient change `y` in `g_trial`.
    fn accept(&mut self, accepted: &Accepted) {
        for d in &mut self.d {
            *d *= accepted.step;
        }
        for (g_old, &g_new) in self.g.iter_mut().zip(&self.g_trial) {
            *g_old = g_new - *g_old;
        }
        std::mem::swap(&mut self.g, &mut self.g_trial);
        std::mem::swap(&mut self.w, &mut self.w_trial);
        self.f = accepted.f;
    }
}

/// The last `m` curvature pairs `(s, y)` of L-BFGS, in a ring buffer.
struct History {
    n: usize,
    m: usize,
    /// `m` rows of `n`: steps `s`.
    s: Vec<f64>,
    /// `m` rows of `n`: gradient changes `y`.
    y: Vec<f64>,
    /// `1 / sᵀy` of each slot.
    rho: Vec<f64>,
    /// Scratch for the two-loop recursion.
    alpha: Vec<f64>,
    /// Slot of the newest pair.
    newest: usize,
    len: usize,
    /// `sᵀy / yᵀy` of the newest pair: the initial inverse Hessian is `gamma·I`.
    gamma: f64,
}

impl History {
    fn new(n: usize, m: usize) -> Self {
        History {
            n,
            m,
            s: vec![0.0; n * m],
            y: vec![0.0; n * m],
            rho: vec![0.0; m],
            alpha: vec![0.0; m],
            newest: 0,
            len: 0,
            gamma: 1.0,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
        self.gamma = 1.0;
    }

    /// Stores a pair with `sᵀy = sy > 0`, dropping the oldest when full.
    fn push(&mut self, s: &[f64], y: &[f64], sy: f64) {
        let slot = if self.len == 0 {
            0
        } else {
            (self.newest + 1) % self.m
        };
        let range = slot * self.n..(slot + 1) * self.n;
        self.s[range.clone()].copy_from_slice(s);
        self.y[range].copy_from_slice(y);
        self.rho[slot] = 1.0 / sy;
        self.gamma = sy / dot(y, y);
        self.newest = slot;
        self.len = (self.len + 1).min(self.m);
    }

    /// Slot of the `age`-th newest pair (0 = newest).
    fn slot(&self, age: usize) -> usize {
        (self.newest + self.m - age) % self.m
    }

    /// `d = -H·g` by the two-loop recursion (`d = -g` with an empty history).
    fn direction(&mut self, g: &[f64], d: &mut [f64]) {
        for (di, &gi) in d.iter_mut().zip(g) {
            *di = -gi;
        }
        let n = self.n;
        for age in 0..self.len {
            let slot = self.slot(age);
            let s = &self.s[slot * n..(slot + 1) * n];
            let y = &self.y[slot * n..(slot + 1) * n];
            let alpha = self.rho[slot] * dot(s, d);
            self.alpha[slot] = alpha;
            axpy(d, -alpha, y);
        }
        if self.len > 0 {
            for di in d.iter_mut() {
                *di *= self.gamma;
            }
        }
        for age in (0..self.len).rev() {
            let slot = self.slot(age);
            let s = &self.s[slot * n..(slot + 1) * n];
            let y = &self.y[slot * n..(slot + 1) * n];
            let beta = self.rho[slot] * dot(y, d);
            axpy(d, self.alpha[slot] - beta, s);
        }
    }
}

/// The Moré–Thuente line search (MINPACK-2's `dcsrch`, as used by L-BFGS-B), driven one
/// evaluation at a time.
struct MoreThuente {
    /// Objective and directional derivative at step 0.
    f_init: f64,
    g_init: f64,
    /// `LS_FTOL · g_init`: slope of the sufficient-decrease line.
    g_test: f64,
    /// Until a step with sufficient decrease and a non-negative slope is seen, the steps
    /// are chosen on the objective shifted by the sufficient-decrease line.
    stage_one: bool,
    interval: Interval,
    /// Bounds for the next trial step.
    step_min: f64,
    step_max: f64,
    /// Interval widths of the last two bracketed iterations, to force bisection.
    width: f64,
    width_before: f64,
    /// Largest step allowed: [`LS_STEP_MAX`], lowered below any step whose objective was
    /// not finite.
    step_cap: f64,
}

/// The interval of uncertainty of [`MoreThuente`]: the best step so far `stx` and the other
/// end `sty`, each with its objective and directional derivative.
#[derive(Clone, Copy)]
struct Interval {
    stx: f64,
    fx: f64,
    gx: f64,
    sty: f64,
    fy: f64,
    gy: f64,
    /// Whether a minimiser is known to lie between `stx` and `sty`.
    bracketed: bool,
}

impl MoreThuente {
    /// A search from an objective `f0` with slope `g0 < 0`, whose first trial is `step`.
    fn new(f0: f64, g0: f64, step: f64) -> Self {
        MoreThuente {
            f_init: f0,
            g_init: g0,
            g_test: LS_FTOL * g0,
            stage_one: true,
            interval: Interval {
                stx: 0.0,
                fx: f0,
                gx: g0,
                sty: 0.0,
                fy: f0,
                gy: g0,
                bracketed: false,
            },
            step_min: 0.0,
            step_max: step + LS_EXTRAP_UPPER * step,
            width: LS_STEP_MAX,
            width_before: 2.0 * LS_STEP_MAX,
            step_cap: LS_STEP_MAX,
        }
    }

    /// The trial `step` gave a non-finite objective: caps later steps below it and returns
    /// the next trial, halfway back to the best step.
    fn retreat(&mut self, step: f64) -> f64 {
        let stx = self.interval.stx;
        let next = stx + 0.5 * (step - stx);
        self.step_cap = next;
        self.step_max = self.step_max.min(next);
        next
    }

    /// Takes the objective `f` and slope `g` at the trial `*step`. Returns `true` when the
    /// search is over (the trial is the answer: it meets the strong Wolfe conditions, or no
    /// progress is possible), else writes the next trial into `step` and returns `false`.
    fn next(&mut self, f: f64, g: f64, step: &mut f64) -> bool {
        let stp = *step;
        let f_test = self.f_init + stp * self.g_test;
        if self.stage_one && f <= f_test && g >= 0.0 {
            self.stage_one = false;
        }
        let bracketed = self.interval.bracketed;
        let stuck = (bracketed
            && (stp <= self.step_min
                || stp >= self.step_max
                || self.step_max - self.step_min <= LS_XTOL * self.step_max))
            || (stp == self.step_cap && f <= f_test && g <= self.g_test)
            || (stp == 0.0 && (f > f_test || g >= self.g_test));
        let wolfe = f <= f_test && g.abs() <= LS_GTOL * (-self.g_init);
        if stuck || wolfe {
            return true;
        }

        let mut next = if self.stage_one && f <= self.interval.fx && f > f_test {
            // Choose the step on ψ(t) = f(t) − f(0) − LS_FTOL·t·f'(0), whose minimiser
            // has sufficient decrease, while f itself improves but not enough.
            let gt = self.g_test;
            let i = self.interval;
            let mut shifted = Interval {
                fx: i.fx - i.stx * gt,
                gx: i.gx - gt,
                fy: i.fy - i.sty * gt,
                gy: i.gy - gt,
                ..i
            };
            let next =
                shifted.safeguarded_step(stp, f - stp * gt, g - gt, self.step_min, self.step_max);
            self.interval = Interval {
                fx: shifted.fx + shifted.stx * gt,
                gx: shifted.gx + gt,
                fy: shifted.fy + shifted.sty * gt,
                gy: shifted.gy + gt,
                ..shifted
            };
            next
        } else {
            self.interval
                .safeguarded_step(stp, f, g, self.step_min, self.step_max)
        };

        let Interval {
            stx,
            sty,
            bracketed,
            ..
        } = self.interval;
        if !next.is_finite() {
            // Only reachable through rounding in the interpolation: bisect or extrapolate.
            next = if bracketed {
                stx + 0.5 * (sty - stx)
            } else {
                self.step_max
            };
        }
        if bracketed {
            // Bisect when the interval did not shrink enough over two iterations.
            if (sty - stx).abs() >= 0.66 * self.width_before {
                next = stx + 0.5 * (sty - stx);
            }
            self.width_before = self.width;
            self.width = (sty - stx).abs();
            self.step_min = stx.min(sty);
            self.step_max = stx.max(sty);
        } else {
            self.step_min = next + LS_EXTRAP_LOWER * (next - stx);
            self.step_max = next + LS_EXTRAP_UPPER * (next - stx);
        }
        next = next.max(0.0).min(self.step_cap);
        if bracketed
            && (next <= self.step_min
                || next >= self.step_max
                || self.step_max - self.step_min <= LS_XTOL * self.step_max)
        {
            // No further progress is possible: fall back on the best step.
            next = stx;
        }
        *step = next;
        false
    }
}

impl Interval {
    /// MINPACK-2's `dcstep`: from the trial `stp` with objective `fp` and slope `gp`,
    /// returns the next trial (cubic, quadratic or secant interpolation, safeguarded into
    /// `[lo, hi]` when not bracketed) and updates the interval.
    fn safeguarded_step(&mut self, stp: f64, fp: f64, gp: f64, lo: f64, hi: f64) -> f64 {
        let Interval {
            stx,
            fx,
            gx,
            sty,
            fy,
            gy,
            ..
        } = *self;
        let sign_gp = gp * (gx / gx.abs());
        let next = if fp > fx {
            // Higher objective: the minimum is bracketed. Take the cubic step if it is
            // closer to stx than the quadratic one, else their average.
            let theta = 3.0 * (fx - fp) / (stp - stx) + gx + gp;
            let s = theta.abs().max(gx.abs()).max(gp.abs());
            let mut gamma = s * ((theta / s) * (theta / s) - (gx / s) * (gp / s)).sqrt();
            if stp < stx {
                gamma = -gamma;
            }
            let p = (gamma - gx) + theta;
            let q = ((gamma - gx) + gamma) + gp;
            let r = p / q;
            let cubic = stx + r * (stp - stx);
            let quadratic = stx + ((gx / ((fx - fp) / (stp - stx) + gx)) / 2.0) * (stp - stx);
            self.bracketed = true;
            if (cubic - stx).abs() < (quadratic - stx).abs() {
                cubic
            } else {
                cubic + (quadratic - cubic) / 2.0
            }
        } else if sign_gp < 0.0 {
            // Lower objective, slopes of opposite signs: bracketed. Take the cubic step if
            // it is farther from stp than the secant step, else the secant step.
            let theta = 3.0 * (fx - fp) / (stp - stx) + gx + gp;
            let s = theta.abs().max(gx.abs()).max(gp.abs());
            let mut gamma = s * ((theta / s) * (theta / s) - (gx / s) * (gp / s)).sqrt();
            if stp > stx {
                gamma = -gamma;
            }
            let p = (gamma - gp) + theta;
            let q = ((gamma - gp) + gamma) + gx;
            let r = p / q;
            let cubic = stp + r * (stx - stp);
            let secant = stp + (gp / (gp - gx)) * (stx - stp);
            self.bracketed = true;
            if (cubic - stp).abs() > (secant - stp).abs() {
                cubic
            } else {
                secant
            }
        } else if gp.abs() < gx.abs() {
            // Lower objective, same slope signs, the slope shrinks in magnitude.
            let theta = 3.0 * (fx - fp) / (stp - stx) + gx + gp;
            let s = theta.abs().max(gx.abs()).max(gp.abs());
            let mut gamma = s
                * ((theta / s) * (theta / s) - (gx / s) * (gp / s))
                    .max(0.0)
                    .sqrt();
            if stp > stx {
                gamma = -gamma;
            }
            let p = (gamma - gp) + theta;
            let q = (gamma + (gx - gp)) + gamma;
            let r = p / q;
            let cubic = if r < 0.0 && gamma != 0.0 {
                stp + r * (stx - stp)
            } else if stp > stx {
                hi
            } else {
                lo
            };
            let secant = stp + (gp / (gp - gx)) * (stx - stp);
            if self.bracketed {
                // Take the step closer to stp, but not too close to sty.
                let closer = if (cubic - stp).abs() < (secant - stp).abs() {
                    cubic
                } else {
                    secant
                };
                let limit = stp + 0.66 * (sty - stp);
                if stp > stx {
                    closer.min(limit)
                } else {
                    closer.max(limit)
                }
            } else {
                let farther = if (cubic - stp).abs() > (secant - stp).abs() {
                    cubic
                } else {
                    secant
                };
                farther.min(hi).max(lo)
            }
        } else if self.bracketed {
            // Lower objective, same slope signs, the slope does not shrink: cubic step
            // towards sty.
            let theta = 3.0 * (fp - fy) / (sty - stp) + gy + gp;
            let s = theta.abs().max(gy.abs()).max(gp.abs());
            let mut gamma = s * ((theta / s) * (theta / s) - (gy / s) * (gp / s)).sqrt();
            if stp > sty {
                gamma = -gamma;
            }
            let p = (gamma - gp) + theta;
            let q = ((gamma - gp) + gamma) + gy;
            let r = p / q;
            stp + r * (sty - stp)
        } else if stp > stx {
            hi
        } else {
            lo
        };

        if fp > fx {
            self.sty = stp;
            self.fy = fp;
            self.gy = gp;
        } else {
            if sign_gp < 0.0 {
                self.sty = stx;
                self.fy = fx;
                self.gy = gx;
            }
            self.stx = stp;
            self.fx = fp;
            self.gx = gp;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: scikit-learn 1.9.1 (numpy 2.4.6, scipy 1.17.1, Python 3.11.7),
    // printed by this script (then rustfmt-ed); the data are `load_iris()` (embedded below
    // as IRIS_X/IRIS_Y, each value written with `repr(float(v))`) and
    // `lcg_data(42, 200, 5, 4)`, which `lcg_data` in this module reproduces exactly.
    //
    // ```python
    // import warnings
    // import numpy as np
    // from sklearn.datasets import load_iris
    // from sklearn.linear_model import LogisticRegression
    //
    // def lcg_data(seed, n, f, k):
    //     s = seed
    //     def u():
    //         nonlocal s
    //         s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
    //         return (s >> 11) / 2.0**53
    //     X, y = np.zeros((n, f)), np.zeros(n, dtype=int)
    //     for i in range(n):
    //         X[i] = [u() * 4.0 - 2.0 for _ in range(f)]
    //         scores = [(X[i, c % f] + 0.5 * X[i, (c + 1) % f]) + 1.5 * u() for c in range(k)]
    //         y[i] = int(np.argmax(scores))
    //     return X, y
    //
    // X, y = load_iris(return_X_y=True)
    // Xs, ys = lcg_data(42, 200, 5, 4)
    // cases = {
    //     "IRIS_MULTI": (X, y, dict(max_iter=1000)),
    //     "IRIS_MULTI_TIGHT": (X, y, dict(max_iter=10000, tol=1e-10)),
    //     "IRIS_MULTI_ITER1": (X, y, dict(max_iter=1)),
    //     "IRIS_MULTI_ITER5": (X, y, dict(max_iter=5)),
    //     "IRIS_MULTI_C_SMALL": (X, y, dict(C=1e-4, max_iter=1000)),
    //     "IRIS_BIN": (X[50:], y[50:] - 1, dict(max_iter=1000)),
    //     "IRIS_BIN_TIGHT": (X[50:], y[50:] - 1, dict(max_iter=10000, tol=1e-10)),
    //     "IRIS_BIN_ITER1": (X[50:], y[50:] - 1, dict(max_iter=1)),
    //     "LCG_MULTI": (Xs, ys, dict(max_iter=1000)),
    //     "LCG_MULTI_TIGHT": (Xs, ys, dict(max_iter=10000, tol=1e-10)),
    //     "LCG_NO_INTERCEPT_TIGHT": (Xs, ys, dict(C=0.1, fit_intercept=False, max_iter=10000, tol=1e-10)),
    //     "LCG_UNPENALIZED_TIGHT": (Xs, ys, dict(C=np.inf, max_iter=10000, tol=1e-10)),
    // }
    // for name, (A, b, kw) in cases.items():
    //     with warnings.catch_warnings():
    //         warnings.simplefilter("ignore")  # ConvergenceWarning for the max_iter=1 and 5 cases
    //         m = LogisticRegression(**kw).fit(A, b)
    //     rs = lambda a: "[" + ", ".join(repr(float(v)) for v in np.ravel(a)) + "]"
    //     print(f"/// `LogisticRegression({', '.join(f'{k}={v!r}' for k, v in kw.items())})`: "
    //           f"n_iter_ = {int(m.n_iter_[0])}, {int((m.predict(A) == b).sum())}/{len(b)} correct.")
    //     print(f"const {name}: Reference<{m.coef_.size}, {m.intercept_.size}, {m.classes_.size}> = Reference {{")
    //     print(f"    coef: {rs(m.coef_)},")
    //     print(f"    intercept: {rs(m.intercept_)},")
    //     print(f"    n_iter: {int(m.n_iter_[0])},")
    //     print(f"    correct: {int((m.predict(A) == b).sum())},")
    //     print(f"    proba_row0: {rs(m.predict_proba(A[:1]))},")
    //     print("};")
    // ```

    /// A model fitted by scikit-learn: `coef_`, `intercept_`, `n_iter_[0]`, the number of
    /// training rows predicted right, and `predict_proba` of the first training row.
    struct Reference<const C: usize, const I: usize, const P: usize> {
        coef: [f64; C],
        intercept: [f64; I],
        n_iter: usize,
        correct: usize,
        proba_row0: [f64; P],
    }

    /// `LogisticRegression(max_iter=1000)`: n_iter_ = 103, 146/150 correct.
    const IRIS_MULTI: Reference<12, 3, 3> = Reference {
        coef: [
            -0.4202393623085341,
            0.9669305754541493,
            -2.5189441518421303,
            -1.0845946635272785,
            0.5318694562929808,
            -0.3152688109384452,
            -0.20410551989878054,
            -0.942761805224685,
            -0.11163009398441948,
            -0.6516617645156972,
            2.7230496717408657,
            2.027356468751971,
        ],
        intercept: [9.841688983194262, 2.2245059615684, -12.066194944762128],
        n_iter: 103,
        correct: 146,
        proba_row0: [
            0.981656829444016,
            0.01834315616093855,
            1.4395045350105303e-08,
        ],
    };
    /// `LogisticRegression(max_iter=10000, tol=1e-10)`: n_iter_ = 151, 146/150 correct.
    const IRIS_MULTI_TIGHT: Reference<12, 3, 3> = Reference {
        coef: [
            -0.42350553807794267,
            0.9673498593452036,
            -2.5171537411657474,
            -1.0793360613631535,
            0.5344595534288595,
            -0.32158870656154626,
            -0.20639182962950564,
            -0.9442973969773316,
            -0.11095401535091098,
            -0.6457611527836576,
            2.7235455707952596,
            2.023633458340492,
        ],
        intercept: [9.849549877713894, 2.237216694273421, -12.086766571986708],
        n_iter: 151,
        correct: 146,
        proba_row0: [
            0.9815835166145922,
            0.01841646888671666,
            1.449869105521239e-08,
        ],
    };
    /// `LogisticRegression(max_iter=1)`: n_iter_ = 1, 50/150 correct.
    const IRIS_MULTI_ITER1: Reference<12, 3, 3> = Reference {
        coef: [
            -0.03838886410088364,
            0.01699379652873511,
            -0.10526373245497089,
            -0.04370706661167493,
            0.0042484491321838035,
            -0.013173248747994314,
            0.02301497983118276,
            0.005807232626726029,
            0.03414041496869994,
            -0.003820547780740877,
            0.08224875262378832,
            0.037899833984948894,
        ],
        intercept: [
            8.219541987449574e-17,
            2.0280437414607076e-18,
            8.398487023460813e-17,
        ],
        n_iter: 1,
        correct: 50,
        proba_row0: [
            0.24210710374904904,
            0.32725474417827577,
            0.43063815207267525,
        ],
    };
    /// `LogisticRegression(max_iter=5)`: n_iter_ = 5, 101/150 correct.
    const IRIS_MULTI_ITER5: Reference<12, 3, 3> = Reference {
        coef: [
            0.2821975657687122,
            0.7643494995712299,
            -1.1480300676259665,
            -0.5310028731094347,
            0.06865755339445902,
            -0.23068266986025826,
            0.33992003607778287,
            0.05727380702891475,
            -0.35085511916317025,
            -0.5336668297109712,
            0.8081100315481848,
            0.4737290660805196,
        ],
        intercept: [
            0.15583263961040902,
            0.007561841740399626,
            -0.16339448135080759,
        ],
        n_iter: 5,
        correct: 101,
        proba_row0: [
            0.9205393409123783,
            0.07412907018946124,
            0.005331588898160473,
        ],
    };
    /// `LogisticRegression(C=0.0001, max_iter=1000)`: n_iter_ = 16, 104/150 correct.
    const IRIS_MULTI_C_SMALL: Reference<12, 3, 3> = Reference {
        coef: [
            -0.004088594207460167,
            0.0018295320063830879,
            -0.011245723041620451,
            -0.004668654888974479,
            0.0004451168196006328,
            -0.001430686800957181,
            0.0024624069980818874,
            0.000613039942076372,
            0.0036434773878596567,
            -0.00039884520542585514,
            0.00878331604353861,
            0.00405561494689809,
        ],
        intercept: [
            0.06599906155801924,
            -0.0080437130715481,
            -0.057955348486471145,
        ],
        n_iter: 16,
        correct: 104,
        proba_row0: [0.34504533980669655, 0.3308257940707822, 0.3241288661225212],
    };
    /// `LogisticRegression(max_iter=1000)`: n_iter_ = 32, 96/100 correct.
    const IRIS_BIN: Reference<4, 1, 2> = Reference {
        coef: [
            -0.39629302522000776,
            -0.5122078975343022,
            2.9301968318943366,
            2.4138008804409186,
        ],
        intercept: [-14.414022864036284],
        n_iter: 32,
        correct: 96,
        proba_row0: [0.8423599264585206, 0.15764007354147933],
    };
    /// `LogisticRegression(max_iter=10000, tol=1e-10)`: n_iter_ = 43, 96/100 correct.
    const IRIS_BIN_TIGHT: Reference<4, 1, 2> = Reference {
        coef: [
            -0.3944334901596488,
            -0.5132773950793831,
            2.9307513879949503,
            2.4170322070086856,
        ],
        intercept: [-14.430758189858766],
        n_iter: 43,
        correct: 96,
        proba_row0: [0.8423613475255163, 0.15763865247448372],
    };
    /// `LogisticRegression(max_iter=1)`: n_iter_ = 1, 50/100 correct.
    const IRIS_BIN_ITER1: Reference<4, 1, 2> = Reference {
        coef: [
            0.015334683791731857,
            0.004797968548333284,
            0.03038713413944414,
            0.016463617567810285,
        ],
        intercept: [1.4687909431397842e-18],
        n_iter: 1,
        correct: 50,
        proba_row0: [0.4283552442187112, 0.5716447557812888],
    };
    /// `LogisticRegression(max_iter=1000)`: n_iter_ = 11, 172/200 correct.
    const LCG_MULTI: Reference<20, 4, 4> = Reference {
        coef: [
            1.8382430496906568,
            0.1873804041863089,
            -0.955348471009918,
            -0.8298176910585409,
            -0.24060674730791187,
            -0.5447572604271053,
            1.5996856970455988,
            0.22882794657537056,
            -1.1030212522750906,
            -0.12518802689688593,
            -0.5740825470743349,
            -1.0651801828430179,
            2.068820990841387,
            0.26968509762541903,
            -0.5235698449613827,
            -0.7194032421892155,
            -0.7218859183888899,
            -1.3423004664068403,
            1.6631538457082127,
            0.8893646191661809,
        ],
        intercept: [
            0.28316602388522244,
            0.1484890541046822,
            -0.3142512507989227,
            -0.11740382719098173,
        ],
        n_iter: 11,
        correct: 172,
        proba_row0: [
            0.09796131295410615,
            0.005908641493319442,
            0.055673241892983234,
            0.8404568036595912,
        ],
    };
    /// `LogisticRegression(max_iter=10000, tol=1e-10)`: n_iter_ = 24, 172/200 correct.
    const LCG_MULTI_TIGHT: Reference<20, 4, 4> = Reference {
        coef: [
            1.8388194351388785,
            0.18759426709421265,
            -0.955330686461632,
            -0.8299249103640826,
            -0.24028008244195903,
            -0.5450594904202466,
            1.6001814796809675,
            0.2286044835006669,
            -1.103579067055861,
            -0.125423839991651,
            -0.573882897146468,
            -1.0652948157632114,
            2.0685916212900013,
            0.2700599070226613,
            -0.5234800376697692,
            -0.7198770475721626,
            -0.7224809310119685,
            -1.3418654183290362,
            1.6634440703972802,
            0.8891839601033795,
        ],
        intercept: [
            0.28344834079484577,
            0.14754330468781823,
            -0.3139670406698721,
            -0.11702460481279227,
        ],
        n_iter: 24,
        correct: 172,
        proba_row0: [
            0.09792783441643473,
            0.005892854093718668,
            0.0556779695244402,
            0.8405013419654064,
        ],
    };
    /// `LogisticRegression(C=0.1, fit_intercept=False, max_iter=10000, tol=1e-10)`: n_iter_ = 12, 170/200 correct.
    const LCG_NO_INTERCEPT_TIGHT: Reference<20, 4, 4> = Reference {
        coef: [
            1.1001397620413196,
            0.04554784654593157,
            -0.48955118303163986,
            -0.4409964970652322,
            -0.1267431386862871,
            -0.406090110530244,
            0.9153101379939346,
            0.14264977380099342,
            -0.5268508009826737,
            -0.047606742666466244,
            -0.2810547298297894,
            -0.5970750952369982,
            1.0276571030845252,
            0.09829103073188317,
            -0.26858918179090296,
            -0.41299492168128615,
            -0.3637828893028681,
            -0.6807556938538785,
            0.8695562673160229,
            0.4429390631436563,
        ],
        intercept: [0.0, 0.0, 0.0, 0.0],
        n_iter: 12,
        correct: 170,
        proba_row0: [
            0.18190716217796224,
            0.03767954108661326,
            0.17809880897697367,
            0.6023144877584509,
        ],
    };
    /// `LogisticRegression(C=inf, max_iter=10000, tol=1e-10)`: n_iter_ = 34, 172/200 correct.
    const LCG_UNPENALIZED_TIGHT: Reference<20, 4, 4> = Reference {
        coef: [
            2.374921471162299,
            0.3014333521235217,
            -1.247379950364286,
            -1.1591080749223444,
            -0.3498325324888727,
            -0.6035880174095593,
            2.044863424447513,
            0.3125976212851817,
            -1.5225324634229553,
            -0.1907480810078014,
            -0.7678352390668078,
            -1.3473135715125744,
            2.8059823756426163,
            0.37682508068859677,
            -0.7255917753545542,
            -1.003498214685925,
            -0.9989832050584623,
            -1.8712000465635117,
            2.3048154576566984,
            1.26617238885123,
        ],
        intercept: [
            0.4495316703540084,
            0.3353337852909277,
            -0.4336887934379267,
            -0.3511766622070088,
        ],
        n_iter: 34,
        correct: 172,
        proba_row0: [
            0.05117522297135105,
            0.0016077120959398286,
            0.02269275031620047,
            0.9245243146165086,
        ],
    };

    /// Row-major copy of the iris features, with the labels.
    fn iris() -> (Vec<f64>, Vec<usize>) {
        (IRIS_X.concat(), IRIS_Y.to_vec())
    }

    /// Iris versicolor (0) against virginica (1): rows 50..150, as `X[50:], y[50:] - 1`.
    fn iris_binary() -> (Vec<f64>, Vec<usize>) {
        (
            IRIS_X[50..].concat(),
            IRIS_Y[50..].iter().map(|&c| c - 1).collect(),
        )
    }

    /// The Python `lcg_data` above: `n` rows of `f` uniform features in [-2, 2) and a noisy
    /// argmax label among `k` classes, from a 64-bit LCG.
    fn lcg_data(seed: u64, n: usize, f: usize, k: usize) -> (Vec<f64>, Vec<usize>) {
        let mut state = seed;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / 9_007_199_254_740_992.0
        };
        let mut x = Vec::with_capacity(n * f);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f64> = (0..f).map(|_| uniform() * 4.0 - 2.0).collect();
            let mut best = (f64::NEG_INFINITY, 0);
            for c in 0..k {
                let score = (row[c % f] + 0.5 * row[(c + 1) % f]) + 1.5 * uniform();
                if score > best.0 {
                    best = (score, c);
                }
            }
            x.extend_from_slice(&row);
            y.push(best.1);
        }
        (x, y)
    }

    fn params(c: f64, max_iter: usize, tol: f64) -> LogisticParams {
        LogisticParams {
            c,
            max_iter,
            tol,
            ..LogisticParams::default()
        }
    }

    /// Largest deviation from `expected`, each in units of `max(1, |expected|)`: absolute
    /// for small values, relative for large ones.
    fn max_scaled_diff(actual: &[f64], expected: &[f64]) -> f64 {
        assert_eq!(actual.len(), expected.len());
        actual
            .iter()
            .zip(expected)
            .map(|(a, e)| (a - e).abs() / e.abs().max(1.0))
            .fold(0.0, f64::max)
    }

    /// Checks `model` against `reference` (coefficients and intercepts within `tol`),
    /// then the accuracy and the probabilities of the first row on the training data.
    fn assert_matches<const C: usize, const I: usize, const P: usize>(
        name: &str,
        model: &LogisticModel,
        x: &[f64],
        y: &[usize],
        reference: &Reference<C, I, P>,
        tol: f64,
    ) {
        let coef_diff = max_scaled_diff(&model.coef, &reference.coef);
        let intercept_diff = max_scaled_diff(&model.intercept, &reference.intercept);
        eprintln!(
            "{name}: n_iter {} (sklearn {}), max coef diff {coef_diff:.3e}, max intercept diff \
             {intercept_diff:.3e}",
            model.n_iter(),
            reference.n_iter
        );
        assert!(coef_diff <= tol, "{name}: coef {:?}", model.coef);
        assert!(
            intercept_diff <= tol,
            "{name}: intercept {:?}",
            model.intercept
        );
        let correct = model
            .predict(x)
            .iter()
            .zip(y)
            .filter(|(p, t)| p == t)
            .count();
        assert_eq!(correct, reference.correct, "{name}: training accuracy");
        let proba = model.predict_proba(&x[..model.n_features()]);
        assert!(
            max_scaled_diff(&proba, &reference.proba_row0) <= tol,
            "{name}: {proba:?}"
        );
    }

    /// The objective of `params` on `(x, y)` at `coef` and `intercept`.
    fn objective_at(
        x: &[f64],
        n_features: usize,
        y: &[usize],
        n_classes: usize,
        c: f64,
        coef: &[f64],
        intercept: &[f64],
    ) -> f64 {
        let n_rows_coef = intercept.len();
        let objective = Objective {
            x,
            y,
            n_features,
            n_classes,
            n_rows_coef,
            fit_intercept: true,
            l2: 1.0 / (c * y.len() as f64),
        };
        let w: Vec<f64> = coef.iter().chain(intercept).copied().collect();
        let mut grad = vec![0.0; w.len()];
        objective.value_and_gradient(&w, &mut grad, &mut objective.workspace())
    }

    #[test]
    fn iris_multinomial_matches_sklearn() {
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &params(1.0, 10_000, 1e-10));
        assert!(model.converged());
        assert_eq!((model.n_features(), model.n_classes()), (4, 3));
        assert_eq!((model.coef.len(), model.intercept.len()), (12, 3));
        assert_matches("iris tight", &model, &x, &y, &IRIS_MULTI_TIGHT, 1e-4);

        // Even at tol = 1e-10 the fit ends on the relative-decrease test, a few 1e-6 from
        // the optimum along its flattest direction (scikit-learn: 151 iterations, here 183).
        //
        // With the default tol = 1e-4 scikit-learn stops about 8e-3 away from the optimum
        // above, after 103 iterations on these unscaled features. The paths agree to 1e-13
        // for 10 iterations, but rounding differences (OpenBLAS products, L-BFGS-B's compact
        // matrices) grow by about 10× every 10 iterations, so the stopping points differ
        // by up to 6e-3 and the coefficients are only compared at 1e-2 here; the
        // objectives (0.1925755 and 0.1925764) agree to 1e-6.
        let model = LogisticModel::fit(&x, 4, &y, 3, &params(1.0, 1000, 1e-4));
        assert!(model.converged());
        assert_matches("iris", &model, &x, &y, &IRIS_MULTI, 1e-2);
        let ours = objective_at(&x, 4, &y, 3, 1.0, &model.coef, &model.intercept);
        let theirs = objective_at(&x, 4, &y, 3, 1.0, &IRIS_MULTI.coef, &IRIS_MULTI.intercept);
        eprintln!("iris objective: ours {ours}, sklearn's {theirs}");
        assert!((ours - theirs).abs() < 2e-6);
    }

    #[test]
    fn iris_binary_matches_sklearn() {
        let (x, y) = iris_binary();
        let model = LogisticModel::fit(&x, 4, &y, 2, &params(1.0, 1000, 1e-4));
        assert!(model.converged());
        assert_eq!((model.n_features(), model.n_classes()), (4, 2));
        assert_eq!((model.coef.len(), model.intercept.len()), (4, 1));
        assert_matches("iris binary", &model, &x, &y, &IRIS_BIN, 1e-3);

        let model = LogisticModel::fit(&x, 4, &y, 2, &params(1.0, 10_000, 1e-10));
        assert!(model.converged());
        assert_matches("iris binary tight", &model, &x, &y, &IRIS_BIN_TIGHT, 1e-6);
    }

    #[test]
    fn synthetic_multinomial_matches_sklearn() {
        let (x, y) = lcg_data(42, 200, 5, 4);
        let model = LogisticModel::fit(&x, 5, &y, 4, &params(1.0, 1000, 1e-4));
        assert!(model.converged());
        assert_matches("lcg", &model, &x, &y, &LCG_MULTI, 1e-3);

        let model = LogisticModel::fit(&x, 5, &y, 4, &params(1.0, 10_000, 1e-10));
        assert!(model.converged());
        assert_matches("lcg tight", &model, &x, &y, &LCG_MULTI_TIGHT, 1e-6);
    }

    #[test]
    fn no_intercept_matches_sklearn() {
        let (x, y) = lcg_data(42, 200, 5, 4);
        let p = LogisticParams {
            fit_intercept: false,
            ..params(0.1, 10_000, 1e-10)
        };
        let model = LogisticModel::fit(&x, 5, &y, 4, &p);
        assert!(model.converged());
        assert_eq!(model.intercept, vec![0.0; 4]);
        assert_matches(
            "lcg no intercept",
            &model,
            &x,
            &y,
            &LCG_NO_INTERCEPT_TIGHT,
            1e-6,
        );
    }

    #[test]
    fn unpenalized_matches_sklearn_c_infinity() {
        let (x, y) = lcg_data(42, 200, 5, 4);
        let no_penalty = LogisticParams {
            penalty: false,
            ..params(1.0, 10_000, 1e-10)
        };
        let model = LogisticModel::fit(&x, 5, &y, 4, &no_penalty);
        assert!(model.converged());
        assert_matches(
            "lcg unpenalized",
            &model,
            &x,
            &y,
            &LCG_UNPENALIZED_TIGHT,
            1e-5,
        );
        // C = ∞ with the penalty on is the same objective.
        let c_inf = LogisticModel::fit(&x, 5, &y, 4, &params(f64::INFINITY, 10_000, 1e-10));
        assert_eq!(c_inf, model);
    }

    #[test]
    fn early_iterations_follow_sklearns_path() {
        // The first step (line search from 1/‖g‖) and the first few L-BFGS updates land
        // where scipy's L-BFGS-B does.
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &params(1.0, 1, 1e-4));
        assert_eq!(model.n_iter(), 1);
        assert!(!model.converged());
        assert_matches("iris 1 iteration", &model, &x, &y, &IRIS_MULTI_ITER1, 1e-9);

        let model = LogisticModel::fit(&x, 4, &y, 3, &params(1.0, 5, 1e-4));
        assert_eq!(model.n_iter(), 5);
        assert!(!model.converged());
        assert_matches("iris 5 iterations", &model, &x, &y, &IRIS_MULTI_ITER5, 1e-6);

        let (x, y) = iris_binary();
        let model = LogisticModel::fit(&x, 4, &y, 2, &params(1.0, 1, 1e-4));
        assert_eq!(model.n_iter(), 1);
        assert!(!model.converged());
        assert_matches(
            "iris binary 1 iteration",
            &model,
            &x,
            &y,
            &IRIS_BIN_ITER1,
            1e-9,
        );
    }

    #[test]
    fn max_iter_zero_keeps_the_zero_start() {
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &params(1.0, 0, 1e-4));
        assert_eq!((model.n_iter(), model.converged()), (0, false));
        assert!(model.coef.iter().chain(&model.intercept).all(|&v| v == 0.0));
        // All logits tie: every row goes to the lowest class, probabilities are uniform.
        assert!(model.predict(&x).iter().all(|&c| c == 0));
        assert!(model.predict_proba(&x).iter().all(|&p| p == 1.0 / 3.0));

        let (x, y) = iris_binary();
        let model = LogisticModel::fit(&x, 4, &y, 2, &params(1.0, 0, 1e-4));
        assert!(model.predict(&x).iter().all(|&c| c == 0));
        assert!(model.predict_proba(&x).iter().all(|&p| p == 0.5));
    }

    #[test]
    fn tiny_c_gives_near_zero_coefficients() {
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &params(1e-4, 1000, 1e-4));
        assert!(model.converged());
        assert!(
            model.coef.iter().all(|c| c.abs() < 0.02),
            "{:?}",
            model.coef
        );
        assert_matches("iris C=1e-4", &model, &x, &y, &IRIS_MULTI_C_SMALL, 1e-3);
    }

    #[test]
    fn probabilities_sum_to_one_and_agree_with_predict() {
        let (x, y) = iris();
        let (xs, ys) = lcg_data(42, 200, 5, 4);
        let (xb, yb) = iris_binary();
        for (x, f, y, k) in [(&x, 4, &y, 3), (&xs, 5, &ys, 4), (&xb, 4, &yb, 2)] {
            let model = LogisticModel::fit(x, f, y, k, &LogisticParams::default());
            let proba = model.predict_proba(x);
            let predicted = model.predict(x);
            assert_eq!(proba.len(), y.len() * k);
            for (row, &class) in proba.chunks_exact(k).zip(&predicted) {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
                assert!(row.iter().all(|p| (0.0..=1.0).contains(p)));
                let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                assert_eq!(row[class], best);
            }
        }
    }

    #[test]
    fn predict_into_reuses_the_buffer() {
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &LogisticParams::default());
        let mut out = vec![7; 500];
        model.predict_into(&x[..40], &mut out);
        assert_eq!(out, model.predict(&x[..40]));
        assert_eq!(out.len(), 10);
        model.predict_into(&[], &mut out);
        assert!(out.is_empty());
        assert!(model.predict_proba(&[]).is_empty());
    }

    #[test]
    fn unpenalized_separable_data_stays_finite() {
        // Setosa against versicolor is linearly separable: without a penalty the optimum
        // is at infinity, and the fit must stop with finite coefficients.
        let x = IRIS_X[..100].concat();
        let y: Vec<usize> = IRIS_Y[..100].to_vec();
        let (xs, ys) = lcg_data(7, 300, 3, 3);
        let separable: Vec<usize> = xs
            .chunks_exact(3)
            .map(|r| {
                if r[0] > 0.5 {
                    2
                } else {
                    usize::from(r[1] > 0.0)
                }
            })
            .collect();
        for (x, f, y, k) in [(&x, 4, &y, 2), (&xs, 3, &separable, 3), (&xs, 3, &ys, 3)] {
            let p = LogisticParams {
                penalty: false,
                ..params(1.0, 200, 1e-4)
            };
            let model = LogisticModel::fit(x, f, y, k, &p);
            assert!(model.n_iter() <= 200);
            assert!(
                model
                    .coef
                    .iter()
                    .chain(&model.intercept)
                    .all(|v| v.is_finite())
            );
            assert!(model.predict_proba(x).iter().all(|v| v.is_finite()));
        }
        let p = LogisticParams {
            penalty: false,
            ..params(1.0, 200, 1e-4)
        };
        let model = LogisticModel::fit(&x, 4, &y, 2, &p);
        assert_eq!(model.predict(&x), y);
        let model = LogisticModel::fit(&xs, 3, &separable, 3, &p);
        assert_eq!(model.predict(&xs), separable);
    }

    #[test]
    fn non_finite_input_keeps_the_start() {
        let (mut x, y) = iris();
        x[17] = f64::NAN;
        let model = LogisticModel::fit(&x, 4, &y, 3, &LogisticParams::default());
        assert_eq!((model.n_iter(), model.converged()), (0, false));
        assert!(model.coef.iter().chain(&model.intercept).all(|&v| v == 0.0));
        x[17] = f64::INFINITY;
        let model = LogisticModel::fit(&x, 4, &y, 3, &LogisticParams::default());
        assert!(
            model
                .coef
                .iter()
                .chain(&model.intercept)
                .all(|v| v.is_finite())
        );
    }

    #[test]
    fn class_without_rows_stays_finite() {
        let (x, y) = iris_binary();
        let model = LogisticModel::fit(&x, 4, &y, 3, &LogisticParams::default());
        assert_eq!(model.coef.len(), 12);
        assert!(
            model
                .coef
                .iter()
                .chain(&model.intercept)
                .all(|v| v.is_finite())
        );
        assert!(model.predict(&x).iter().all(|&c| c < 2));
    }

    #[test]
    fn fits_are_deterministic() {
        let (x, y) = lcg_data(3, 500, 6, 5);
        let p = LogisticParams::default();
        let first = LogisticModel::fit(&x, 6, &y, 5, &p);
        let second = LogisticModel::fit(&x, 6, &y, 5, &p);
        assert_eq!(first, second);
    }

    #[test]
    fn objective_never_increases() {
        let (x, y) = iris();
        let (xs, ys) = lcg_data(42, 200, 5, 4);
        let (xb, yb) = iris_binary();
        for (x, f, y, k, c) in [
            (&x, 4, &y, 3, 1.0),
            (&x, 4, &y, 3, f64::INFINITY),
            (&xs, 5, &ys, 4, 1.0),
            (&xb, 4, &yb, 2, 1.0),
        ] {
            let mut trace = Vec::new();
            let model =
                LogisticModel::fit_traced(x, f, y, k, &params(c, 300, 1e-8), Some(&mut trace));
            assert_eq!(trace.len(), model.n_iter() + 1);
            assert!(trace.iter().all(|v| v.is_finite()));
            assert!(trace.windows(2).all(|w| w[1] <= w[0]), "{trace:?}");
            assert!(trace[trace.len() - 1] < trace[0]);
        }
    }

    #[test]
    fn serde_round_trip() {
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &LogisticParams::default());
        let json = serde_json::to_string(&model).unwrap();
        let back: LogisticModel = serde_json::from_str(&json).unwrap();
        // serde_json parses floats exactly only with its `float_roundtrip` feature;
        // without it a value may come back one ulp off.
        assert_eq!((back.n_features, back.n_classes), (4, 3));
        assert_eq!(
            (back.n_iter, back.converged),
            (model.n_iter, model.converged)
        );
        assert!(max_scaled_diff(&back.coef, &model.coef) <= 4.0 * f64::EPSILON);
        assert!(max_scaled_diff(&back.intercept, &model.intercept) <= 4.0 * f64::EPSILON);
        assert_eq!(back.predict(&x), model.predict(&x));
    }

    #[test]
    fn fast_exp_is_accurate() {
        let mut worst = 0.0_f64;
        for i in 0..=200_000 {
            let t = -708.0 * f64::from(i) / 200_000.0;
            let (fast, libm) = (exp_nonpositive(t), t.exp());
            worst = worst.max((fast - libm).abs() / libm);
        }
        assert!(
            worst <= 4.0 * f64::EPSILON,
            "worst relative error {worst:e}"
        );
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-709.0), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }

    #[test]
    fn ln_1p_unit_is_accurate() {
        let mut worst = 0.0_f64;
        for i in 0..=100_000 {
            for e in [f64::from(i) / 100_000.0, (-f64::from(i) / 100.0).exp()] {
                let (ours, libm) = (ln_1p_unit(e), e.ln_1p());
                worst = worst.max((ours - libm).abs() / libm.max(f64::MIN_POSITIVE));
            }
        }
        assert!(
            worst <= 4.0 * f64::EPSILON,
            "worst relative error {worst:e}"
        );
        assert_eq!(ln_1p_unit(0.0), 0.0);
    }

    #[test]
    fn default_params_are_sklearns() {
        let p = LogisticParams::default();
        assert_eq!((p.c, p.max_iter, p.tol), (1.0, 100, 1e-4));
        assert!(p.fit_intercept && p.penalty);
    }

    #[test]
    #[should_panic(expected = "below n_classes")]
    fn rejects_out_of_range_labels() {
        let _ = LogisticModel::fit(&[0.0, 1.0], 1, &[0, 2], 2, &LogisticParams::default());
    }

    #[test]
    #[should_panic(expected = "whole rows")]
    fn rejects_ragged_prediction_input() {
        let (x, y) = iris();
        let model = LogisticModel::fit(&x, 4, &y, 3, &LogisticParams::default());
        let _ = model.predict(&x[..5]);
    }

    /// The iris data set (Fisher 1936, public domain) as shipped by `sklearn.datasets.load_iris()`:
    /// 150 rows of (sepal length, sepal width, petal length, petal width) in cm.
    const IRIS_X: [[f64; 4]; 150] = [
        [5.1, 3.5, 1.4, 0.2],
        [4.9, 3.0, 1.4, 0.2],
        [4.7, 3.2, 1.3, 0.2],
        [4.6, 3.1, 1.5, 0.2],
        [5.0, 3.6, 1.4, 0.2],
        [5.4, 3.9, 1.7, 0.4],
        [4.6, 3.4, 1.4, 0.3],
        [5.0, 3.4, 1.5, 0.2],
        [4.4, 2.9, 1.4, 0.2],
        [4.9, 3.1, 1.5, 0.1],
        [5.4, 3.7, 1.5, 0.2],
        [4.8, 3.4, 1.6, 0.2],
        [4.8, 3.0, 1.4, 0.1],
        [4.3, 3.0, 1.1, 0.1],
        [5.8, 4.0, 1.2, 0.2],
        [5.7, 4.4, 1.5, 0.4],
        [5.4, 3.9, 1.3, 0.4],
        [5.1, 3.5, 1.4, 0.3],
        [5.7, 3.8, 1.7, 0.3],
        [5.1, 3.8, 1.5, 0.3],
        [5.4, 3.4, 1.7, 0.2],
        [5.1, 3.7, 1.5, 0.4],
        [4.6, 3.6, 1.0, 0.2],
        [5.1, 3.3, 1.7, 0.5],
        [4.8, 3.4, 1.9, 0.2],
        [5.0, 3.0, 1.6, 0.2],
        [5.0, 3.4, 1.6, 0.4],
        [5.2, 3.5, 1.5, 0.2],
        [5.2, 3.4, 1.4, 0.2],
        [4.7, 3.2, 1.6, 0.2],
        [4.8, 3.1, 1.6, 0.2],
        [5.4, 3.4, 1.5, 0.4],
        [5.2, 4.1, 1.5, 0.1],
        [5.5, 4.2, 1.4, 0.2],
        [4.9, 3.1, 1.5, 0.2],
        [5.0, 3.2, 1.2, 0.2],
        [5.5, 3.5, 1.3, 0.2],
        [4.9, 3.6, 1.4, 0.1],
        [4.4, 3.0, 1.3, 0.2],
        [5.1, 3.4, 1.5, 0.2],
        [5.0, 3.5, 1.3, 0.3],
        [4.5, 2.3, 1.3, 0.3],
        [4.4, 3.2, 1.3, 0.2],
        [5.0, 3.5, 1.6, 0.6],
        [5.1, 3.8, 1.9, 0.4],
        [4.8, 3.0, 1.4, 0.3],
        [5.1, 3.8, 1.6, 0.2],
        [4.6, 3.2, 1.4, 0.2],
        [5.3, 3.7, 1.5, 0.2],
        [5.0, 3.3, 1.4, 0.2],
        [7.0, 3.2, 4.7, 1.4],
        [6.4, 3.2, 4.5, 1.5],
        [6.9, 3.1, 4.9, 1.5],
        [5.5, 2.3, 4.0, 1.3],
        [6.5, 2.8, 4.6, 1.5],
        [5.7, 2.8, 4.5, 1.3],
        [6.3, 3.3, 4.7, 1.6],
        [4.9, 2.4, 3.3, 1.0],
        [6.6, 2.9, 4.6, 1.3],
        [5.2, 2.7, 3.9, 1.4],
        [5.0, 2.0, 3.5, 1.0],
        [5.9, 3.0, 4.2, 1.5],
        [6.0, 2.2, 4.0, 1.0],
        [6.1, 2.9, 4.7, 1.4],
        [5.6, 2.9, 3.6, 1.3],
        [6.7, 3.1, 4.4, 1.4],
        [5.6, 3.0, 4.5, 1.5],
        [5.8, 2.7, 4.1, 1.0],
        [6.2, 2.2, 4.5, 1.5],
        [5.6, 2.5, 3.9, 1.1],
        [5.9, 3.2, 4.8, 1.8],
        [6.1, 2.8, 4.0, 1.3],
        [6.3, 2.5, 4.9, 1.5],
        [6.1, 2.8, 4.7, 1.2],
        [6.4, 2.9, 4.3, 1.3],
        [6.6, 3.0, 4.4, 1.4],
        [6.8, 2.8, 4.8, 1.4],
        [6.7, 3.0, 5.0, 1.7],
        [6.0, 2.9, 4.5, 1.5],
        [5.7, 2.6, 3.5, 1.0],
        [5.5, 2.4, 3.8, 1.1],
        [5.5, 2.4, 3.7, 1.0],
        [5.8, 2.7, 3.9, 1.2],
        [6.0, 2.7, 5.1, 1.6],
        [5.4, 3.0, 4.5, 1.5],
        [6.0, 3.4, 4.5, 1.6],
        [6.7, 3.1, 4.7, 1.5],
        [6.3, 2.3, 4.4, 1.3],
        [5.6, 3.0, 4.1, 1.3],
        [5.5, 2.5, 4.0, 1.3],
        [5.5, 2.6, 4.4, 1.2],
        [6.1, 3.0, 4.6, 1.4],
        [5.8, 2.6, 4.0, 1.2],
        [5.0, 2.3, 3.3, 1.0],
        [5.6, 2.7, 4.2, 1.3],
        [5.7, 3.0, 4.2, 1.2],
        [5.7, 2.9, 4.2, 1.3],
        [6.2, 2.9, 4.3, 1.3],
        [5.1, 2.5, 3.0, 1.1],
        [5.7, 2.8, 4.1, 1.3],
        [6.3, 3.3, 6.0, 2.5],
        [5.8, 2.7, 5.1, 1.9],
        [7.1, 3.0, 5.9, 2.1],
        [6.3, 2.9, 5.6, 1.8],
        [6.5, 3.0, 5.8, 2.2],
        [7.6, 3.0, 6.6, 2.1],
        [4.9, 2.5, 4.5, 1.7],
        [7.3, 2.9, 6.3, 1.8],
        [6.7, 2.5, 5.8, 1.8],
        [7.2, 3.6, 6.1, 2.5],
        [6.5, 3.2, 5.1, 2.0],
        [6.4, 2.7, 5.3, 1.9],
        [6.8, 3.0, 5.5, 2.1],
        [5.7, 2.5, 5.0, 2.0],
        [5.8, 2.8, 5.1, 2.4],
        [6.4, 3.2, 5.3, 2.3],
        [6.5, 3.0, 5.5, 1.8],
        [7.7, 3.8, 6.7, 2.2],
        [7.7, 2.6, 6.9, 2.3],
        [6.0, 2.2, 5.0, 1.5],
        [6.9, 3.2, 5.7, 2.3],
        [5.6, 2.8, 4.9, 2.0],
        [7.7, 2.8, 6.7, 2.0],
        [6.3, 2.7, 4.9, 1.8],
        [6.7, 3.3, 5.7, 2.1],
        [7.2, 3.2, 6.0, 1.8],
        [6.2, 2.8, 4.8, 1.8],
        [6.1, 3.0, 4.9, 1.8],
        [6.4, 2.8, 5.6, 2.1],
        [7.2, 3.0, 5.8, 1.6],
        [7.4, 2.8, 6.1, 1.9],
        [7.9, 3.8, 6.4, 2.0],
        [6.4, 2.8, 5.6, 2.2],
        [6.3, 2.8, 5.1, 1.5],
        [6.1, 2.6, 5.6, 1.4],
        [7.7, 3.0, 6.1, 2.3],
        [6.3, 3.4, 5.6, 2.4],
        [6.4, 3.1, 5.5, 1.8],
        [6.0, 3.0, 4.8, 1.8],
        [6.9, 3.1, 5.4, 2.1],
        [6.7, 3.1, 5.6, 2.4],
        [6.9, 3.1, 5.1, 2.3],
        [5.8, 2.7, 5.1, 1.9],
        [6.8, 3.2, 5.9, 2.3],
        [6.7, 3.3, 5.7, 2.5],
        [6.7, 3.0, 5.2, 2.3],
        [6.3, 2.5, 5.0, 1.9],
        [6.5, 3.0, 5.2, 2.0],
        [6.2, 3.4, 5.4, 2.3],
        [5.9, 3.0, 5.1, 1.8],
    ];
    /// Iris class of each row: 0 setosa, 1 versicolor, 2 virginica.
    const IRIS_Y: [usize; 150] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    ];
}
