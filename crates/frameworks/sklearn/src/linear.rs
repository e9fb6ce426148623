//! Linear regression models with scikit-learn's objectives: `LinearRegression`, `Ridge`,
//! `Lasso` and `ElasticNet`.
//!
//! All four centre the data when `fit_intercept` is set (the column means of `X` and the mean
//! of `y`), solve for the coefficients on the centred data and recover the intercept as
//! `ȳ − x̄·w`, so the intercept is never penalised — scikit-learn's `_preprocess_data`.
//!
//! * `LinearRegression`: the minimum-norm least-squares solution (scipy's `lstsq`), here
//!   from the normal equations of the column-scaled data solved by a symmetric eigen
//!   decomposition, with eigenvalues below `d·ε·λ_max` dropped, so a constant column gets a
//!   zero coefficient as with `lstsq`.
//! * `Ridge`: `(XᵀX + αI) w = Xᵀy` on the centred data by Cholesky (scikit-learn's `auto`
//!   solver for dense data without sample weights is `cholesky`); `alpha = 0` on singular
//!   data falls back to the minimum-norm solution as scikit-learn's does.
//! * `Lasso` / `ElasticNet`: scikit-learn's coordinate descent (`enet_coordinate_descent`)
//!   on `1/(2n)‖y−Xw‖² + α·l1_ratio·‖w‖₁ + α(1−l1_ratio)/2·‖w‖²`: a start from zeros, the
//!   same update order, the same stopping rule (the largest coefficient change relative to the
//!   largest coefficient below `tol`, then a duality gap below `tol·‖y‖²`), `max_iter`
//!   sweeps, `positive`, and `selection="random"` drawing coordinates from a generator seeded
//!   by `random_state` (not numpy's stream: random sweeps reach the same optimum within `tol`
//!   but not bit for bit).

use serde::{Deserialize, Serialize};

/// A fitted linear model: `y = x·coef + intercept`, scikit-learn's `coef_` and `intercept_`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LinearModel {
    /// One coefficient per feature (`coef_`).
    pub(crate) coef: Vec<f64>,
    /// The intercept (`intercept_`); 0 without `fit_intercept`.
    pub(crate) intercept: f64,
    /// Coordinate-descent sweeps run (`n_iter_`); 0 for the closed-form solvers.
    #[serde(default)]
    pub(crate) n_iter: usize,
    /// Whether coordinate descent met its duality-gap test (true for closed forms).
    #[serde(default = "yes")]
    pub(crate) converged: bool,
}

fn yes() -> bool {
    true
}

/// The coordinate-descent settings of `Lasso` and `ElasticNet`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnetParams {
    pub(crate) alpha: f64,
    pub(crate) l1_ratio: f64,
    pub(crate) fit_intercept: bool,
    pub(crate) max_iter: usize,
    pub(crate) tol: f64,
    pub(crate) positive: bool,
    /// `Some(seed)` for `selection="random"`.
    pub(crate) random: Option<u64>,
}

/// Centred copies: column-major `X − x̄` (feature after feature), `y − ȳ`, and the offsets.
struct Centred {
    cols: Vec<f64>,
    y: Vec<f64>,
    x_offset: Vec<f64>,
    y_offset: f64,
    n: usize,
    d: usize,
}

impl Centred {
    fn new(x: &[f64], d: usize, y: &[f64], fit_intercept: bool) -> Centred {
        let n = y.len();
        let mut cols = vec![0.0; n * d];
        for (i, row) in x.chunks_exact(d).enumerate() {
            for (j, v) in row.iter().enumerate() {
                cols[j * n + i] = *v;
            }
        }
        let mut x_offset = vec![0.0; d];
        let mut y = y.to_vec();
        let mut y_offset = 0.0;
        if fit_intercept && n > 0 {
            for (j, col) in cols.chunks_exact_mut(n).enumerate() {
                let mean = col.iter().sum::<f64>() / n as f64;
                col.iter_mut().for_each(|v| *v -= mean);
                x_offset[j] = mean;
            }
            y_offset = y.iter().sum::<f64>() / n as f64;
            y.iter_mut().for_each(|v| *v -= y_offset);
        }
        Centred {
            cols,
            y,
            x_offset,
            y_offset,
            n,
            d,
        }
    }

    fn col(&self, j: usize) -> &[f64] {
        &self.cols[j * self.n..(j + 1) * self.n]
    }

    /// `XᵀX` (d × d, row-major) and `Xᵀy` of the centred data.
    fn gram(&self) -> (Vec<f64>, Vec<f64>) {
        let d = self.d;
        let mut g = vec![0.0; d * d];
        for a in 0..d {
            for b in a..d {
                let v = dot(self.col(a), self.col(b));
                g[a * d + b] = v;
                g[b * d + a] = v;
            }
        }
        let xty = (0..d).map(|j| dot(self.col(j), &self.y)).collect();
        (g, xty)
    }

    fn finish(&self, coef: Vec<f64>, n_iter: usize, converged: bool) -> LinearModel {
        let intercept = self.y_offset - dot(&self.x_offset, &coef);
        LinearModel {
            coef,
            intercept,
            n_iter,
            converged,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators: vectorisable, and the sums of long columns lose less to rounding.
    let mut acc = [0.0; 4];
    let (ca, ra) = a.split_at(a.len() / 4 * 4);
    let (cb, rb) = b.split_at(ca.len());
    for (x, y) in ca.chunks_exact(4).zip(cb.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += alpha * x);
}

impl LinearModel {
    /// Ordinary least squares (`LinearRegression`).
    pub(crate) fn fit_ols(x: &[f64], d: usize, y: &[f64], fit_intercept: bool) -> LinearModel {
        let c = Centred::new(x, d, y, fit_intercept);
        let (g, xty) = c.gram();
        c.finish(min_norm_solve(&g, &xty, d), 0, true)
    }

    /// `Ridge(alpha, fit_intercept)`.
    pub(crate) fn fit_ridge(
        x: &[f64],
        d: usize,
        y: &[f64],
        alpha: f64,
        fit_intercept: bool,
    ) -> LinearModel {
        let c = Centred::new(x, d, y, fit_intercept);
        let (mut g, xty) = c.gram();
        for j in 0..d {
            g[j * d + j] += alpha;
        }
        let coef = cholesky_solve(&g, &xty, d).unwrap_or_else(|| min_norm_solve(&g, &xty, d));
        c.finish(coef, 0, true)
    }

    /// `Lasso` (`l1_ratio = 1`) and `ElasticNet` by coordinate descent.
    pub(crate) fn fit_enet(x: &[f64], d: usize, y: &[f64], p: &EnetParams) -> LinearModel {
        let c = Centred::new(x, d, y, p.fit_intercept);
        let n = c.n as f64;
        let l1 = p.alpha * p.l1_ratio * n;
        let l2 = p.alpha * (1.0 - p.l1_ratio) * n;
        let norms: Vec<f64> = (0..d).map(|j| dot(c.col(j), c.col(j))).collect();
        let mut w = vec![0.0; d];
        let mut r = c.y.clone();
        let d_w_tol = p.tol;
        let tol = p.tol * dot(&c.y, &c.y);
        let mut rng = p.random.map(SplitMix::new);
        let mut converged = false;
        let mut sweeps = 0;
        for it in 0..p.max_iter {
            sweeps = it + 1;
            let (mut w_max, mut d_w_max) = (0.0f64, 0.0f64);
            for f in 0..d {
                let j = match rng.as_mut() {
                    Some(g) => g.below(d),
                    None => f,
                };
                if norms[j] == 0.0 {
                    continue;
                }
                let col = c.col(j);
                let w_old = w[j];
                if w_old != 0.0 {
                    axpy(w_old, col, &mut r);
                }
                let tmp = dot(col, &r);
                w[j] = if p.positive && tmp < 0.0 {
                    0.0
                } else {
                    tmp.signum() * (tmp.abs() - l1).max(0.0) / (norms[j] + l2)
                };
                if w[j] != 0.0 {
                    axpy(-w[j], col, &mut r);
                }
                d_w_max = d_w_max.max((w[j] - w_old).abs());
                w_max = w_max.max(w[j].abs());
            }
            // The gap is only computed once the coefficients settle (or at the last sweep).
            let settled = w_max == 0.0 || d_w_max / w_max < d_w_tol || it + 1 == p.max_iter;
            if settled && duality_gap(&c, &w, &r, l1, l2, p.positive) < tol {
                converged = true;
                break;
            }
        }
        c.finish(w, sweeps, converged)
    }

    /// Predictions of row-major rows.
    pub(crate) fn predict(&self, x: &[f64]) -> Vec<f64> {
        x.chunks_exact(self.coef.len().max(1))
            .map(|row| dot(row, &self.coef) + self.intercept)
            .collect()
    }
}

/// The elastic-net duality gap of scikit-learn's coordinate descent.
fn duality_gap(c: &Centred, w: &[f64], r: &[f64], l1: f64, l2: f64, positive: bool) -> f64 {
    let xta = (0..c.d).map(|j| dot(c.col(j), r) - l2 * w[j]);
    let dual_norm = if positive {
        xta.fold(f64::NEG_INFINITY, f64::max)
    } else {
        xta.map(f64::abs).fold(0.0, f64::max)
    };
    let r_norm2 = dot(r, r);
    let w_norm2 = dot(w, w);
    let (konst, mut gap) = if dual_norm > l1 {
        let k = l1 / dual_norm;
        (k, 0.5 * (r_norm2 + r_norm2 * k * k))
    } else {
        (1.0, r_norm2)
    };
    let l1_norm: f64 = w.iter().map(|v| v.abs()).sum();
    gap += l1 * l1_norm - konst * dot(r, &c.y) + 0.5 * l2 * (1.0 + konst * konst) * w_norm2;
    gap
}

/// Solves the symmetric positive-definite `a x = b` (row-major `d × d`); `None` when `a` is
/// not positive definite.
fn cholesky_solve(a: &[f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s = a[i * d + j] - dot(&l[i * d..i * d + j], &l[j * d..j * d + j]);
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    let mut z = vec![0.0; d];
    for i in 0..d {
        z[i] = (b[i] - dot(&l[i * d..i * d + i], &z[..i])) / l[i * d + i];
    }
    let mut x = vec![0.0; d];
    for i in (0..d).rev() {
        let s: f64 = (i + 1..d).map(|k| l[k * d + i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i * d + i];
    }
    Some(x)
}

/// The minimum-norm solution of the normal equations `g x = b`: the columns are scaled to
/// unit norm first (so feature scales do not square into the condition number), then
/// `x = V Λ⁺ Vᵀ b` from a Jacobi eigen decomposition, dropping eigenvalues below
/// `d·ε·λ_max` as `lstsq` drops small singular values.
fn min_norm_solve(g: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let scale: Vec<f64> = (0..d)
        .map(|j| {
            let s = g[j * d + j].sqrt();
            if s > 0.0 { s } else { 1.0 }
        })
        .collect();
    let mut a: Vec<f64> = (0..d * d)
        .map(|k| g[k] / (scale[k / d] * scale[k % d]))
        .collect();
    let bs: Vec<f64> = b.iter().zip(&scale).map(|(v, s)| v / s).collect();
    let v = jacobi_eigen(&mut a, d);
    let lambda_max = (0..d).map(|i| a[i * d + i].abs()).fold(0.0, f64::max);
    let cutoff = lambda_max * d as f64 * f64::EPSILON;
    let mut x = vec![0.0; d];
    for k in 0..d {
        let lambda = a[k * d + k];
        if lambda <= cutoff {
            continue;
        }
        let proj: f64 = (0..d).map(|i| v[i * d + k] * bs[i]).sum::<f64>() / lambda;
        for i in 0..d {
            x[i] += proj * v[i * d + k];
        }
    }
    x.iter().zip(&scale).map(|(v, s)| v / s).collect()
}

/// Cyclic Jacobi eigen decomposition of the symmetric row-major `a` in place: on return its
/// diagonal holds the eigenvalues, and the returned row-major `v` the eigenvectors as columns.
fn jacobi_eigen(a: &mut [f64], d: usize) -> Vec<f64> {
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j] * a[i * d + j])
            .sum();
        let diag: f64 = (0..d).map(|i| a[i * d + i] * a[i * d + i]).sum();
        if off <= f64::EPSILON * f64::EPSILON * diag || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let cs = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * cs;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = cs * akp - sn * akq;
                    a[k * d + q] = sn * akp + cs * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = cs * apk - sn * aqk;
                    a[q * d + k] = sn * apk + cs * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = cs * vkp - sn * vkq;
                    v[k * d + q] = sn * vkp + cs * vkq;
                }
            }
        }
    }
    v
}

/// A small seeded generator (SplitMix64) for `selection="random"`.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = 3 + 2·x0 − x1 exactly, with x1 on a 1000× larger scale.
    fn exact() -> (Vec<f64>, Vec<f64>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..20 {
            let (a, b) = (i as f64 * 0.37 % 5.0, ((i * 7) % 11) as f64 * 1000.0);
            x.extend([a, b]);
            y.push(3.0 + 2.0 * a - b);
        }
        (x, y)
    }

    #[test]
    fn ols_recovers_exact_coefficients_and_ignores_constant_columns() {
        let (x, y) = exact();
        let m = LinearModel::fit_ols(&x, 2, &y, true);
        assert!((m.coef[0] - 2.0).abs() < 1e-9, "{:?}", m.coef);
        assert!((m.coef[1] + 1.0).abs() < 1e-12, "{:?}", m.coef);
        assert!((m.intercept - 3.0).abs() < 1e-8, "{}", m.intercept);
        // A constant third column: lstsq gives it a zero coefficient.
        let x3: Vec<f64> = x.chunks(2).flat_map(|r| [r[0], r[1], 7.0]).collect();
        let m = LinearModel::fit_ols(&x3, 3, &y, true);
        assert_eq!(m.coef[2], 0.0);
        assert!((m.coef[0] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn ridge_does_not_penalise_the_intercept() {
        // One feature: w = Sxy / (Sxx + α) on centred data, intercept = ȳ − x̄·w.
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [102.0, 104.0, 106.0, 108.0];
        let m = LinearModel::fit_ridge(&x, 1, &y, 1.0, true);
        let w = 10.0 / (5.0 + 1.0);
        assert!((m.coef[0] - w).abs() < 1e-12);
        assert!((m.intercept - (105.0 - 2.5 * w)).abs() < 1e-12);
        let m0 = LinearModel::fit_ridge(&x, 1, &y, 1.0, false);
        assert_eq!(m0.intercept, 0.0);
        assert!(m0.coef[0] > m.coef[0] * 5.0, "{:?}", m0.coef);
    }

    #[test]
    fn lasso_soft_thresholds_a_single_feature() {
        // One feature: w = S(Σxy, nα) / Σx² on centred data.
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [1.0, 3.0, 2.0, 6.0];
        let p = EnetParams {
            alpha: 0.5,
            l1_ratio: 1.0,
            fit_intercept: true,
            max_iter: 1000,
            tol: 1e-10,
            positive: false,
            random: None,
        };
        let m = LinearModel::fit_enet(&x, 1, &y, &p);
        let (sxy, sxx) = (7.0, 5.0);
        assert!(
            (m.coef[0] - (sxy - 2.0) / sxx).abs() < 1e-12,
            "{:?}",
            m.coef
        );
        assert!(m.converged);
        let strong = LinearModel::fit_enet(&x, 1, &y, &EnetParams { alpha: 5.0, ..p });
        assert_eq!(strong.coef[0], 0.0);
        assert!((strong.intercept - 3.0).abs() < 1e-12);
    }

    #[test]
    fn cholesky_and_eigen_agree() {
        let g = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let b = [1.0, 2.0, 3.0];
        let a = cholesky_solve(&g, &b, 3).unwrap();
        let e = min_norm_solve(&g, &b, 3);
        for (u, v) in a.iter().zip(&e) {
            assert!((u - v).abs() < 1e-12, "{a:?} {e:?}");
        }
        assert!(cholesky_solve(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0], 2).is_none());
    }
}
