//! Gaussian naive Bayes with scikit-learn's `GaussianNB` semantics.
//!
//! Per class, the mean (`theta_`) and the population variance (`var_`) of every feature, plus
//! `epsilon_ = var_smoothing × the largest variance of any feature over all rows` added to
//! every variance, so a feature that is constant within a class (or everywhere) does not
//! divide by zero. `class_prior_` is the class frequency, or the given `priors`. Prediction
//! takes the class with the largest joint log-likelihood, the first one on a tie (numpy's
//! `argmax`).

use serde::{Deserialize, Serialize};

/// A fitted Gaussian naive Bayes model, with scikit-learn's fitted attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GaussianNbModel {
    /// Per-class feature means, row-major `classes × features` (`theta_`).
    pub(crate) theta: Vec<f64>,
    /// Per-class feature variances with `epsilon` added, row-major (`var_`).
    pub(crate) var: Vec<f64>,
    /// The class priors (`class_prior_`).
    pub(crate) class_prior: Vec<f64>,
    /// The smoothing added to every variance (`epsilon_`).
    pub(crate) epsilon: f64,
    /// Training rows per class (`class_count_`).
    pub(crate) class_count: Vec<f64>,
}

impl GaussianNbModel {
    /// Fits row-major `x` with class indices `y` (`0..n_classes`).
    pub(crate) fn fit(
        x: &[f64],
        d: usize,
        y: &[u32],
        n_classes: usize,
        var_smoothing: f64,
        priors: Option<&[f64]>,
    ) -> Result<GaussianNbModel, String> {
        let n = y.len();
        if n == 0 || d == 0 {
            return Err("GaussianNB needs at least one row and one feature".into());
        }
        if let Some(p) = priors.filter(|p| p.len() != n_classes) {
            return Err(format!(
                "priors has {} values but there are {n_classes} classes",
                p.len()
            ));
        }
        // Two passes (mean, then squared deviations) as numpy's `np.var` computes them.
        let mut mean_all = vec![0.0; d];
        let mut count = vec![0.0f64; n_classes];
        let mut theta = vec![0.0; n_classes * d];
        for (row, &c) in x.chunks_exact(d).zip(y) {
            count[c as usize] += 1.0;
            for j in 0..d {
                mean_all[j] += row[j];
                theta[c as usize * d + j] += row[j];
            }
        }
        mean_all.iter_mut().for_each(|m| *m /= n as f64);
        for c in 0..n_classes {
            let k = count[c].max(1.0);
            theta[c * d..(c + 1) * d].iter_mut().for_each(|m| *m /= k);
        }
        let mut var_all = vec![0.0; d];
        let mut var = vec![0.0; n_classes * d];
        for (row, &c) in x.chunks_exact(d).zip(y) {
            for j in 0..d {
                var_all[j] += (row[j] - mean_all[j]).powi(2);
                var[c as usize * d + j] += (row[j] - theta[c as usize * d + j]).powi(2);
            }
        }
        let epsilon = var_smoothing * var_all.iter().map(|v| v / n as f64).fold(0.0, f64::max);
        for c in 0..n_classes {
            let k = count[c].max(1.0);
            var[c * d..(c + 1) * d]
                .iter_mut()
                .for_each(|v| *v = *v / k + epsilon);
        }
        let class_prior = match priors {
            Some(p) => p.to_vec(),
            None => count.iter().map(|c| c / n as f64).collect(),
        };
        if var.iter().any(|v| *v <= 0.0) {
            return Err(
                "GaussianNB: a feature has zero variance within a class and var_smoothing is 0; \
                 set var_smoothing > 0"
                    .into(),
            );
        }
        Ok(GaussianNbModel {
            theta,
            var,
            class_prior,
            epsilon,
            class_count: count,
        })
    }

    fn n_classes(&self) -> usize {
        self.class_prior.len()
    }

    /// The joint log-likelihood of each class, row-major `rows × classes`.
    pub(crate) fn joint_log_likelihood(&self, x: &[f64]) -> Vec<f64> {
        let k = self.n_classes();
        let d = self.theta.len() / k.max(1);
        // Per class: log prior − ½ Σ log(2π var), computed once.
        let base: Vec<f64> = (0..k)
            .map(|c| {
                self.class_prior[c].ln()
                    - 0.5
                        * self.var[c * d..(c + 1) * d]
                            .iter()
                            .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                            .sum::<f64>()
            })
            .collect();
        let mut out = Vec::with_capacity(x.len() / d.max(1) * k);
        for row in x.chunks_exact(d.max(1)) {
            for (c, base) in base.iter().enumerate() {
                let theta = &self.theta[c * d..(c + 1) * d];
                let var = &self.var[c * d..(c + 1) * d];
                let q: f64 = row
                    .iter()
                    .zip(theta)
                    .zip(var)
                    .map(|((x, m), v)| (x - m) * (x - m) / v)
                    .sum();
                out.push(base - 0.5 * q);
            }
        }
        out
    }

    /// The class index of each row.
    pub(crate) fn predict(&self, x: &[f64]) -> Vec<u32> {
        let k = self.n_classes();
        self.joint_log_likelihood(x)
            .chunks_exact(k)
            .map(|jll| {
                let mut best = 0;
                for c in 1..k {
                    if jll[c] > jll[best] {
                        best = c;
                    }
                }
                best as u32
            })
            .collect()
    }

    /// Class probabilities, row-major `rows × classes` (a log-sum-exp normalisation).
    pub(crate) fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let k = self.n_classes();
        let mut jll = self.joint_log_likelihood(x);
        for row in jll.chunks_exact_mut(k) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
            let log_norm = max + sum.ln();
            row.iter_mut().for_each(|v| *v = (*v - log_norm).exp());
        }
        jll
    }

    /// Classes.
    pub(crate) fn classes(&self) -> usize {
        self.n_classes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_feature_is_smoothed_not_nan() {
        // Feature 1 is constant: without var_smoothing its variance is 0 in both classes.
        let x = [
            0.0, 5.0, 1.0, 5.0, 2.0, 5.0, 10.0, 5.0, 11.0, 5.0, 12.0, 5.0,
        ];
        let y = [0, 0, 0, 1, 1, 1];
        let m = GaussianNbModel::fit(&x, 2, &y, 2, 1e-9, None).unwrap();
        // np.var([0,1,2,10,11,12]) = 25.6666…; epsilon = 1e-9 × that.
        assert!((m.epsilon - 1e-9 * 25.666_666_666_666_668).abs() < 1e-20);
        assert_eq!(m.theta, vec![1.0, 5.0, 11.0, 5.0]);
        assert!((m.var[0] - (2.0 / 3.0 + m.epsilon)).abs() < 1e-15);
        assert_eq!(m.var[1], m.epsilon);
        assert_eq!(m.predict(&[1.5, 5.0, 9.0, 5.0]), vec![0, 1]);
        let p = m.predict_proba(&[1.5, 5.0]);
        assert!(p.iter().all(|v| v.is_finite()) && (p[0] + p[1] - 1.0).abs() < 1e-12);
        assert!(GaussianNbModel::fit(&x, 2, &y, 2, 0.0, None).is_err());
    }

    #[test]
    fn priors_move_the_boundary() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [0, 0, 1, 1];
        let m = GaussianNbModel::fit(&x, 1, &y, 2, 1e-9, None).unwrap();
        assert_eq!(m.class_prior, vec![0.5, 0.5]);
        assert_eq!(m.predict(&[1.4]), vec![0]);
        let m = GaussianNbModel::fit(&x, 1, &y, 2, 1e-9, Some(&[0.01, 0.99])).unwrap();
        assert_eq!(m.predict(&[1.4]), vec![1]);
        assert!(GaussianNbModel::fit(&x, 1, &y, 2, 1e-9, Some(&[1.0])).is_err());
    }
}
