//! k-nearest neighbours by brute force (`KNeighborsClassifier`, `KNeighborsRegressor`).
//!
//! The search compares every query row with every training row, a block of queries against a
//! block of training rows at a time so that both stay in cache:
//!
//! * euclidean (and minkowski with `p = 2`): `‖q‖² + ‖t‖² − 2 q·t`, the products of a block
//!   as one matrix product (`ndarray`'s pure-Rust `matrixmultiply` kernel), as scikit-learn's
//!   brute force does with BLAS; the distances of the `k` neighbours found are then
//!   recomputed exactly, so `weights="distance"` does not inherit the cancellation of the
//!   product form;
//! * manhattan (minkowski `p = 1`) and minkowski with any other `p`: the sums directly.
//!
//! **Ties.** Neighbours are ordered by distance, and at equal distance by training-row order
//! (the earlier row first); the `k`-th place goes to the earliest of equally distant rows.
//! scikit-learn's heap keeps an unspecified one of them, so on data with tied distances the
//! two may pick different neighbours. A tied vote goes to the class listed first in
//! `classes_` (numpy's `argmax`), as in scikit-learn. With `weights="distance"`, a query that
//! coincides with training rows gets the votes (or mean) of those rows only, as in
//! scikit-learn.

use std::sync::OnceLock;

use ndarray::{ArrayView2, ArrayViewMut2, linalg::general_mat_mul};
use serde::{Deserialize, Serialize};

/// Queries per block.
const QUERY_BLOCK: usize = 64;
/// Training rows per block: 64 × 2048 products of 8 bytes is 1 MiB, one core's L2.
const TRAIN_BLOCK: usize = 2048;

/// The distance of `metric` (with `p` for minkowski).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "lowercase")]
pub(crate) enum Metric {
    /// `√Σ(a−b)²`.
    Euclidean,
    /// `Σ|a−b|`.
    Manhattan,
    /// `(Σ|a−b|ᵖ)^(1/p)` for `p` other than 1 and 2.
    Minkowski {
        /// The power.
        p: f64,
    },
}

impl Metric {
    /// scikit-learn's `metric` and `p` as one distance.
    pub(crate) fn from_params(metric: &str, p: f64) -> Metric {
        match metric {
            "euclidean" => Metric::Euclidean,
            "manhattan" => Metric::Manhattan,
            _ if p == 2.0 => Metric::Euclidean,
            _ if p == 1.0 => Metric::Manhattan,
            _ => Metric::Minkowski { p },
        }
    }

    /// The "reduced" distance compared during the search (no root).
    fn reduced(self, a: &[f64], b: &[f64]) -> f64 {
        match self {
            Metric::Euclidean => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
            Metric::Manhattan => a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum(),
            Metric::Minkowski { p } => a.iter().zip(b).map(|(x, y)| (x - y).abs().powf(p)).sum(),
        }
    }

    fn unreduce(self, r: f64) -> f64 {
        match self {
            Metric::Euclidean => r.sqrt(),
            Metric::Manhattan => r,
            Metric::Minkowski { p } => r.powf(1.0 / p),
        }
    }
}

/// How neighbours vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Weights {
    /// Every neighbour counts once.
    Uniform,
    /// A neighbour counts `1 / distance`.
    Distance,
}

/// What the neighbours carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KnnTarget {
    /// Class indices (`0..n_classes`).
    Classes {
        /// One per training row.
        y: Vec<u32>,
        /// How many classes.
        n_classes: usize,
    },
    /// Regression targets.
    Values(Vec<f64>),
}

/// A fitted k-NN model: the training data and the search parameters (`_fit_X`, `_y`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct KnnModel {
    /// Training rows, row-major.
    pub(crate) x: Vec<f64>,
    pub(crate) n_features: usize,
    pub(crate) target: KnnTarget,
    pub(crate) n_neighbors: usize,
    pub(crate) weights: Weights,
    pub(crate) metric: Metric,
    /// `‖t‖²` of every training row, computed on first use.
    #[serde(skip)]
    norms: OnceLock<Vec<f64>>,
}

/// The neighbours of a batch: row-major `rows × k` training indices and distances.
pub(crate) struct Neighbours {
    pub(crate) indices: Vec<u32>,
    pub(crate) distances: Vec<f64>,
}

/// The `k` best (smallest) `(reduced distance, index)` pairs seen so far, sorted.
struct TopK {
    dist: Vec<f64>,
    idx: Vec<u32>,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK {
            dist: vec![f64::INFINITY; k],
            idx: vec![u32::MAX; k],
        }
    }

    #[inline]
    fn worst(&self) -> f64 {
        self.dist[self.dist.len() - 1]
    }

    /// Inserts a candidate strictly better than the worst; candidates arrive in index order,
    /// so an equal distance goes after the ones already kept (earlier rows win ties).
    #[inline]
    fn push(&mut self, d: f64, i: u32) {
        let k = self.dist.len();
        let mut pos = k - 1;
        while pos > 0 && self.dist[pos - 1] > d {
            self.dist[pos] = self.dist[pos - 1];
            self.idx[pos] = self.idx[pos - 1];
            pos -= 1;
        }
        self.dist[pos] = d;
        self.idx[pos] = i;
    }
}

impl KnnModel {
    /// Keeps the training data; `n_neighbors` must not exceed the rows.
    pub(crate) fn fit(
        x: &[f64],
        n_features: usize,
        target: KnnTarget,
        n_neighbors: usize,
        weights: Weights,
        metric: Metric,
    ) -> Result<KnnModel, String> {
        let rows = x.len() / n_features.max(1);
        if n_neighbors == 0 || n_neighbors > rows {
            return Err(format!(
                "Expected n_neighbors <= n_samples_fit, but n_neighbors = {n_neighbors}, n_samples_fit = {rows}"
            ));
        }
        Ok(KnnModel {
            x: x.to_vec(),
            n_features,
            target,
            n_neighbors,
            weights,
            metric,
            norms: OnceLock::new(),
        })
    }

    fn norms(&self) -> &[f64] {
        self.norms.get_or_init(|| {
            self.x
                .chunks_exact(self.n_features)
                .map(|r| r.iter().map(|v| v * v).sum())
                .collect()
        })
    }

    /// The `n_neighbors` nearest training rows of every query row.
    pub(crate) fn kneighbors(&self, q: &[f64]) -> Neighbours {
        let d = self.n_features;
        let k = self.n_neighbors;
        let n_q = q.len() / d.max(1);
        let mut indices = Vec::with_capacity(n_q * k);
        let mut distances = Vec::with_capacity(n_q * k);
        let mut products = vec![0.0; QUERY_BLOCK * TRAIN_BLOCK];
        for q_block in q.chunks(QUERY_BLOCK * d) {
            let bq = q_block.len() / d;
            let mut tops: Vec<TopK> = (0..bq).map(|_| TopK::new(k)).collect();
            match self.metric {
                Metric::Euclidean => self.scan_euclidean(q_block, &mut tops, &mut products),
                metric => self.scan_direct(q_block, &mut tops, metric),
            }
            for (row, top) in q_block.chunks_exact(d).zip(tops) {
                // Exact distances of the chosen ones, then the final order by them.
                let mut found: Vec<(f64, u32)> = top
                    .idx
                    .iter()
                    .map(|&i| {
                        let t = &self.x[i as usize * d..][..d];
                        (self.metric.unreduce(self.metric.reduced(row, t)), i)
                    })
                    .collect();
                found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for (dist, i) in found {
                    distances.push(dist);
                    indices.push(i);
                }
            }
        }
        Neighbours { indices, distances }
    }

    fn scan_euclidean(&self, q_block: &[f64], tops: &mut [TopK], products: &mut [f64]) {
        let d = self.n_features;
        let bq = tops.len();
        let norms = self.norms();
        let qv = ArrayView2::from_shape((bq, d), q_block).expect("whole query rows");
        for (b, t_block) in self.x.chunks(TRAIN_BLOCK * d).enumerate() {
            let bt = t_block.len() / d;
            let tv = ArrayView2::from_shape((bt, d), t_block).expect("whole training rows");
            let mut out = ArrayViewMut2::from_shape((bq, bt), &mut products[..bq * bt])
                .expect("the buffer holds a block");
            general_mat_mul(1.0, &qv, &tv.t(), 0.0, &mut out);
            let base = b * TRAIN_BLOCK;
            let t_norms = &norms[base..base + bt];
            // ‖q‖² is the same for every candidate of a query: compare ‖t‖² − 2q·t and add it
            // back after (it only shifts the order's origin).
            for (i, top) in tops.iter_mut().enumerate() {
                let q_norm: f64 = q_block[i * d..(i + 1) * d].iter().map(|v| v * v).sum();
                let row = &products[i * bt..(i + 1) * bt];
                let mut worst = top.worst() - q_norm;
                for (j, (&p, &tn)) in row.iter().zip(t_norms).enumerate() {
                    let r = tn - 2.0 * p;
                    if r < worst {
                        top.push((r + q_norm).max(0.0), (base + j) as u32);
                        worst = top.worst() - q_norm;
                    }
                }
            }
        }
    }

    fn scan_direct(&self, q_block: &[f64], tops: &mut [TopK], metric: Metric) {
        let d = self.n_features;
        for (b, t_block) in self.x.chunks(TRAIN_BLOCK * d).enumerate() {
            let base = b * TRAIN_BLOCK;
            for (top, row) in tops.iter_mut().zip(q_block.chunks_exact(d)) {
                for (j, t) in t_block.chunks_exact(d).enumerate() {
                    let r = metric.reduced(row, t);
                    if r < top.worst() {
                        top.push(r, (base + j) as u32);
                    }
                }
            }
        }
    }

    /// Per-neighbour weights of one query (`weights="distance"`: `1/d`, or only the
    /// zero-distance neighbours when there are any).
    fn vote_weights(&self, dist: &[f64], out: &mut Vec<f64>) {
        out.clear();
        match self.weights {
            Weights::Uniform => out.extend(dist.iter().map(|_| 1.0)),
            Weights::Distance if dist.contains(&0.0) => {
                out.extend(dist.iter().map(|&v| if v == 0.0 { 1.0 } else { 0.0 }));
            }
            Weights::Distance => out.extend(dist.iter().map(|v| 1.0 / v)),
        }
    }

    /// Class scores (summed weights) of every query, row-major `rows × classes`;
    /// `None` for a regressor.
    fn class_scores(&self, q: &[f64]) -> Option<(Vec<f64>, usize)> {
        let KnnTarget::Classes { y, n_classes } = &self.target else {
            return None;
        };
        let nb = self.kneighbors(q);
        let k = self.n_neighbors;
        let mut scores = vec![0.0; nb.indices.len() / k * n_classes];
        let mut w = Vec::with_capacity(k);
        for ((idx, dist), s) in nb
            .indices
            .chunks_exact(k)
            .zip(nb.distances.chunks_exact(k))
            .zip(scores.chunks_exact_mut(*n_classes))
        {
            self.vote_weights(dist, &mut w);
            for (&i, wi) in idx.iter().zip(&w) {
                s[y[i as usize] as usize] += wi;
            }
        }
        Some((scores, *n_classes))
    }

    /// The predicted class index of every query (classifier).
    pub(crate) fn predict_classes(&self, q: &[f64]) -> Option<Vec<u32>> {
        let (scores, c) = self.class_scores(q)?;
        Some(
            scores
                .chunks_exact(c)
                .map(|s| {
                    let mut best = 0;
                    for j in 1..c {
                        if s[j] > s[best] {
                            best = j;
                        }
                    }
                    best as u32
                })
                .collect(),
        )
    }

    /// Class probabilities (classifier), row-major `rows × classes`.
    pub(crate) fn predict_proba(&self, q: &[f64]) -> Option<(Vec<f64>, usize)> {
        let (mut scores, c) = self.class_scores(q)?;
        for s in scores.chunks_exact_mut(c) {
            let total: f64 = s.iter().sum();
            s.iter_mut().for_each(|v| *v /= total);
        }
        Some((scores, c))
    }

    /// The predicted value of every query (regressor).
    pub(crate) fn predict_values(&self, q: &[f64]) -> Option<Vec<f64>> {
        let KnnTarget::Values(y) = &self.target else {
            return None;
        };
        let nb = self.kneighbors(q);
        let k = self.n_neighbors;
        let mut w = Vec::with_capacity(k);
        Some(
            nb.indices
                .chunks_exact(k)
                .zip(nb.distances.chunks_exact(k))
                .map(|(idx, dist)| {
                    self.vote_weights(dist, &mut w);
                    let total: f64 = w.iter().sum();
                    idx.iter()
                        .zip(&w)
                        .map(|(&i, wi)| wi * y[i as usize])
                        .sum::<f64>()
                        / total
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Vec<f64> {
        // 3000 points on a skewed, tie-free grid (more than one training block).
        (0..3000)
            .flat_map(|i| {
                let i = i as f64;
                [i.sqrt() * 1.37 % 7.1, (i * 0.618_034) % 5.3, i / 3000.0]
            })
            .collect()
    }

    fn brute(x: &[f64], q: &[f64], k: usize, metric: Metric) -> Vec<u32> {
        let mut all: Vec<(f64, u32)> = x
            .chunks_exact(3)
            .enumerate()
            .map(|(i, t)| (metric.reduced(q, t), i as u32))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.iter().take(k).map(|p| p.1).collect()
    }

    #[test]
    fn blocked_search_finds_the_exhaustive_neighbours() {
        let x = grid();
        let y: Vec<f64> = (0..3000).map(|i| i as f64).collect();
        for metric in [
            Metric::Euclidean,
            Metric::Manhattan,
            Metric::Minkowski { p: 3.0 },
        ] {
            let m = KnnModel::fit(
                &x,
                3,
                KnnTarget::Values(y.clone()),
                7,
                Weights::Uniform,
                metric,
            )
            .unwrap();
            let queries = [0.5, 2.0, 0.3, 6.9, 0.1, 0.99, 3.3, 3.3, 0.5];
            let nb = m.kneighbors(&queries);
            for (qi, q) in queries.chunks(3).enumerate() {
                assert_eq!(
                    &nb.indices[qi * 7..(qi + 1) * 7],
                    brute(&x, q, 7, metric).as_slice(),
                    "{metric:?}"
                );
            }
            assert!(nb.distances.windows(2).take(6).all(|w| w[0] <= w[1]));
        }
    }

    #[test]
    fn votes_and_weights() {
        // 1-D: rows at 0, 1, 2, 10 with classes 0, 0, 1, 1.
        let x = [0.0, 1.0, 2.0, 10.0];
        let classes = KnnTarget::Classes {
            y: vec![0, 0, 1, 1],
            n_classes: 2,
        };
        let m = KnnModel::fit(
            &x,
            1,
            classes.clone(),
            3,
            Weights::Uniform,
            Metric::Euclidean,
        )
        .unwrap();
        assert_eq!(m.predict_classes(&[1.9]).unwrap(), vec![0]);
        let m = KnnModel::fit(&x, 1, classes, 3, Weights::Distance, Metric::Euclidean).unwrap();
        // weights 1/1.9, 1/0.9, 1/0.1: class 1 wins.
        assert_eq!(m.predict_classes(&[1.9]).unwrap(), vec![1]);
        let (p, _) = m.predict_proba(&[2.0]).unwrap();
        assert_eq!(p, vec![0.0, 1.0], "an exact match takes every vote");
        let values = KnnTarget::Values(vec![0.0, 10.0, 20.0, 100.0]);
        let m = KnnModel::fit(&x, 1, values, 2, Weights::Distance, Metric::Manhattan).unwrap();
        let v = m.predict_values(&[0.25]).unwrap()[0];
        assert!((v - (0.0 / 0.25 + 10.0 / 0.75) / (1.0 / 0.25 + 1.0 / 0.75)).abs() < 1e-12);
        let err = KnnModel::fit(
            &x,
            1,
            KnnTarget::Values(vec![0.0; 4]),
            5,
            Weights::Uniform,
            Metric::Euclidean,
        )
        .unwrap_err();
        assert!(err.contains("n_neighbors = 5, n_samples_fit = 4"), "{err}");
    }
}
