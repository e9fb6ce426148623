//! The penalised log-loss and its gradient, with the vectorised kernels it is built from.

/// Dot product with four independent accumulators, so that it vectorises.
#[inline]
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
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
pub(super) fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Largest absolute value (the ∞-norm); NaN if any value is NaN.
pub(super) fn max_abs(v: &[f64]) -> f64 {
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
pub(super) fn sigmoid(z: f64) -> f64 {
    let e = (-z.abs()).exp();
    if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// Replaces logits by their softmax, shifting by the maximum first.
pub(super) fn softmax_in_place(z: &mut [f64]) {
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
pub(super) struct Objective<'a> {
    pub(super) x: &'a [f64],
    pub(super) y: &'a [usize],
    pub(super) n_features: usize,
    pub(super) n_classes: usize,
    /// Coefficient rows: 1 for two classes, `n_classes` otherwise.
    pub(super) n_rows_coef: usize,
    pub(super) fit_intercept: bool,
    /// Strength of `½·l2·‖W‖²`: `1 / (C·n)`, or 0 without penalty.
    pub(super) l2: f64,
}

/// Buffers reused by every evaluation of an [`Objective`].
pub(super) struct Workspace {
    /// Intercepts of the point evaluated (zeros when not fitted).
    pub(super) intercept: Vec<f64>,
    /// Sum over rows of the intercept gradient.
    pub(super) grad_intercept: Vec<f64>,
    /// Logits, then residuals, of a block of rows: [`BLOCK_ROWS`] × coefficient rows.
    pub(super) block: Vec<f64>,
    /// `e^{-|z|}` of a block of rows (binomial only).
    pub(super) exps: Vec<f64>,
}

impl Objective<'_> {
    /// Length of the packed parameter vector.
    pub(super) fn n_params(&self) -> usize {
        self.n_rows_coef * (self.n_features + usize::from(self.fit_intercept))
    }

    pub(super) fn workspace(&self) -> Workspace {
        Workspace {
            intercept: vec![0.0; self.n_rows_coef],
            grad_intercept: vec![0.0; self.n_rows_coef],
            block: vec![0.0; BLOCK_ROWS * self.n_rows_coef],
            exps: vec![0.0; if self.n_classes == 2 { BLOCK_ROWS } else { 0 }],
        }
    }

    /// The objective at `w`, with its gradient written into `grad`.
    pub(super) fn value_and_gradient(
        &self,
        w: &[f64],
        grad: &mut [f64],
        work: &mut Workspace,
    ) -> f64 {
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
    pub(super) fn binomial_pass(
        &self,
        coef: &[f64],
        grad_coef: &mut [f64],
        work: &mut Workspace,
    ) -> f64 {
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
    pub(super) fn multinomial_pass(
        &self,
        coef: &[f64],
        grad_coef: &mut [f64],
        work: &mut Workspace,
    ) -> f64 {
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
pub(super) const BLOCK_ROWS: usize = 64;

/// Logits of a block of rows: `z[row, k] = coef[k]·x[row] + intercept[k]`, with `coef`
/// `intercept.len()` rows of `n_features` and `x` and `z` row-major.
pub(super) fn logits_block(coef: &[f64], intercept: &[f64], x: &[f64], z: &mut [f64]) {
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
pub(super) fn exp_nonpositive(t: f64) -> f64 {
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
pub(super) fn ln_1p_unit(e: f64) -> f64 {
    let u = 1.0 + e;
    if u == 1.0 { e } else { u.ln() * e / (u - 1.0) }
}

/// Adds `Σ_rows residual[row, k] · x[row]` to row `k` of `grad_coef` and
/// `Σ_rows residual[row, k]` to `grad_intercept[k]`, for a block of rows (`residuals` is
/// rows × `grad_intercept.len()`, `x` rows × `n_features`, both row-major).
pub(super) fn accumulate_gradient(
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
