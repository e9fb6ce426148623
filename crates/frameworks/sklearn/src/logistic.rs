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
//! Rows are contiguous and row-major; the objective and its gradient are computed in one
//! pass over them.

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
            n_features > 0 && x.len() % n_features == 0,
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
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
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
    /// Logits, then residuals, of the current row (multinomial only).
    logits: Vec<f64>,
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
            logits: vec![0.0; self.n_classes],
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
        let b = work.intercept[0];
        let mut grad_b = 0.0;
        let mut loss = 0.0;
        for (row, &label) in self.x.chunks_exact(self.n_features).zip(self.y) {
            let z = dot(coef, row) + b;
            let target = if label == 1 { 1.0 } else { 0.0 };
            // log(1 + e^z) = max(z, 0) + log(1 + e^{-|z|}), and the probability from the
            // same exponential.
            let e = (-z.abs()).exp();
            loss += z.max(0.0) + e.ln_1p() - target * z;
            let p = if z >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            let residual = p - target;
            grad_b += residual;
            axpy(grad_coef, residual, row);
        }
        work.grad_intercept[0] = grad_b;
        loss
    }

    /// Sum over rows of the multinomial log-loss; adds the unscaled gradient into
    /// `grad_coef` and `work.grad_intercept`.
    fn multinomial_pass(&self, coef: &[f64], grad_coef: &mut [f64], work: &mut Workspace) -> f64 {
        let n_features = self.n_features;
        let Workspace {
            intercept,
            grad_intercept,
            logits,
        } = work;
        let mut loss = 0.0;
        for (row, &label) in self.x.chunks_exact(n_features).zip(self.y) {
            let mut z_max = f64::NEG_INFINITY;
            for ((z, w), &b) in logits
                .iter_mut()
                .zip(coef.chunks_exact(n_features))
                .zip(intercept.iter())
            {
                *z = dot(w, row) + b;
                z_max = z_max.max(*z);
            }
            let z_label = logits[label];
            let mut sum = 0.0;
            for z in logits.iter_mut() {
                *z = (*z - z_max).exp();
                sum += *z;
            }
            loss += z_max + sum.ln() - z_label;
            // Residuals: softmax minus the one-hot target.
            let inv = 1.0 / sum;
            for z in logits.iter_mut() {
                *z *= inv;
            }
            logits[label] -= 1.0;
            for ((g, &residual), gb) in grad_coef
                .chunks_exact_mut(n_features)
                .zip(logits.iter())
                .zip(grad_intercept.iter_mut())
            {
                *gb += residual;
                axpy(g, residual, row);
            }
        }
        loss
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
        if !(gd0 < 0.0) {
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
        let stuck = (bracketed && (stp <= self.step_min || stp >= self.step_max))
            || (bracketed && self.step_max - self.step_min <= LS_XTOL * self.step_max)
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
