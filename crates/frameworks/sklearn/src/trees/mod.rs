//! Our own decision trees and random forests, with scikit-learn's semantics
//! (`DecisionTreeClassifier/Regressor`, `RandomForestClassifier/Regressor`).
//!
//! A fitted tree mirrors scikit-learn's `tree_` arrays (`children_left`, `children_right`,
//! `feature`, `threshold`, `value` as class fractions or means, `impurity`,
//! `n_node_samples`, `weighted_n_node_samples`); prediction walks a compact copy of them.

mod forest;
mod grow;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub(crate) use forest::fit;

/// The split quality measure (`criterion`); `log_loss` is scikit-learn's other name for
/// `entropy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Criterion {
    Gini,
    Entropy,
    SquaredError,
    FriedmanMse,
}

impl Criterion {
    fn from_name(name: &str) -> Option<Criterion> {
        Some(match name {
            "gini" => Criterion::Gini,
            "entropy" | "log_loss" => Criterion::Entropy,
            "squared_error" => Criterion::SquaredError,
            "friedman_mse" => Criterion::FriedmanMse,
            _ => return None,
        })
    }
}

/// scikit-learn's `RAND_R_MAX` (`sklearn/tree/_utils.pyx`).
const RAND_R_MAX: u32 = 0x7FFF_FFFF;

/// The tree splitter's generator, scikit-learn's `our_rand_r` (xorshift32): the same seed
/// draws the same features as scikit-learn's splitter does.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u32);

impl Rng {
    /// The splitter of a tree whose `random_state` is `seed`: scikit-learn seeds it with
    /// `RandomState(seed).randint(0, RAND_R_MAX)`.
    pub(crate) fn for_tree(seed: u32) -> Rng {
        Rng(Mt19937::new(seed).randint(RAND_R_MAX))
    }

    fn next(&mut self) -> u32 {
        if self.0 == 0 {
            self.0 = 1;
        }
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 % (RAND_R_MAX + 1)
    }

    /// Uniform in `[0, n)` for `n >= 1` (scikit-learn's `rand_int`, modulo bias included).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n
    }
}

/// numpy's legacy `RandomState` (MT19937 seeded with `init_genrand`), for the draws
/// scikit-learn makes with it: the trees' seeds and the bootstraps.
#[derive(Clone)]
pub(crate) struct Mt19937 {
    mt: Box<[u32; 624]>,
    i: usize,
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mt19937")
            .field("i", &self.i)
            .finish_non_exhaustive()
    }
}

impl Mt19937 {
    /// `numpy.random.RandomState(seed)`.
    pub(crate) fn new(seed: u32) -> Mt19937 {
        let mut mt = Box::new([0u32; 624]);
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { mt, i: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.i >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7FFF_FFFF);
                let mag = if y & 1 == 1 { 0x9908_B0DF } else { 0 };
                self.mt[k] = self.mt[(k + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.i = 0;
        }
        let mut y = self.mt[self.i];
        self.i += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C_5680;
        y ^= (y << 15) & 0xEFC6_0000;
        y ^ (y >> 18)
    }

    /// `randint(0, high)` for `1 <= high <= 2^32`: numpy's masked rejection sampling.
    pub(crate) fn randint(&mut self, high: u32) -> u32 {
        let max = high - 1;
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

/// scikit-learn's marker of a leaf's children.
const TREE_LEAF: i32 = -1;
/// scikit-learn's marker of a leaf's feature and threshold.
const TREE_UNDEFINED: i32 = -2;

/// One fitted tree in scikit-learn's `tree_` layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub(crate) n_features: usize,
    /// Values per node: the number of classes, or 1 for a regressor.
    pub(crate) n_values: usize,
    pub(crate) children_left: Vec<i32>,
    pub(crate) children_right: Vec<i32>,
    pub(crate) feature: Vec<i32>,
    pub(crate) threshold: Vec<f64>,
    pub(crate) impurity: Vec<f64>,
    pub(crate) n_node_samples: Vec<u32>,
    pub(crate) weighted_n_node_samples: Vec<f64>,
    /// `node_count × n_values`, row-major.
    pub(crate) value: Vec<f64>,
    #[serde(skip)]
    compact: OnceLock<Vec<Node>>,
}

/// A node as prediction reads it: 12 bytes, children by index (0 marks a leaf: the root is
/// no one's child), the threshold rounded down to float32 so that `x <= threshold` in float32
/// equals scikit-learn's float32 feature against float64 threshold.
#[derive(Debug, Clone, Copy)]
struct Node {
    left: u32,
    right: u32,
    feature: u32,
    threshold: f32,
}

/// Rows a tree walks down together when predicting.
const LANES: usize = 8;

/// The largest float32 not above `t`.
fn f32_at_most(t: f64) -> f32 {
    let r = t as f32;
    if f64::from(r) > t { r.next_down() } else { r }
}

impl Tree {
    fn empty(n_features: usize, n_values: usize) -> Tree {
        Tree {
            n_features,
            n_values,
            children_left: Vec::new(),
            children_right: Vec::new(),
            feature: Vec::new(),
            threshold: Vec::new(),
            impurity: Vec::new(),
            n_node_samples: Vec::new(),
            weighted_n_node_samples: Vec::new(),
            value: Vec::new(),
            compact: OnceLock::new(),
        }
    }

    /// The number of nodes.
    pub(crate) fn node_count(&self) -> usize {
        self.children_left.len()
    }

    fn push_leaf(
        &mut self,
        impurity: f64,
        n: u32,
        w: f64,
        value: impl Iterator<Item = f64>,
    ) -> usize {
        self.children_left.push(TREE_LEAF);
        self.children_right.push(TREE_LEAF);
        self.feature.push(TREE_UNDEFINED);
        self.threshold.push(f64::from(TREE_UNDEFINED));
        self.impurity.push(impurity);
        self.n_node_samples.push(n);
        self.weighted_n_node_samples.push(w);
        self.value.extend(value);
        self.children_left.len() - 1
    }

    fn link(&mut self, parent: usize, is_left: bool, child: usize) {
        let side = if is_left {
            &mut self.children_left
        } else {
            &mut self.children_right
        };
        side[parent] = child as i32;
    }

    fn set_split(&mut self, node: usize, feature: usize, threshold: f64) {
        self.feature[node] = feature as i32;
        self.threshold[node] = threshold;
    }

    /// Checks the arrays of a loaded tree, so prediction can index without fear.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let n = self.node_count();
        let lens = [
            self.children_right.len(),
            self.feature.len(),
            self.threshold.len(),
            self.impurity.len(),
            self.n_node_samples.len(),
            self.weighted_n_node_samples.len(),
        ];
        if n == 0 || lens.iter().any(|&l| l != n) || self.value.len() != n * self.n_values {
            return Err("a tree's node arrays have different lengths".into());
        }
        for i in 0..n {
            let (l, r) = (self.children_left[i], self.children_right[i]);
            if l == TREE_LEAF {
                continue;
            }
            let in_range = |c: i32| c > i as i32 && (c as usize) < n;
            let f = self.feature[i];
            if !in_range(l) || !in_range(r) || f < 0 || f as usize >= self.n_features {
                return Err(format!("tree node {i} has an invalid child or feature"));
            }
        }
        Ok(())
    }

    fn compact(&self) -> &[Node] {
        self.compact.get_or_init(|| {
            (0..self.node_count())
                .map(|i| Node {
                    left: self.children_left[i].max(0) as u32,
                    right: self.children_right[i].max(0) as u32,
                    feature: self.feature[i].max(0) as u32,
                    threshold: f32_at_most(self.threshold[i]),
                })
                .collect()
        })
    }

    /// The leaf a float32 row falls into.
    #[inline]
    fn leaf(nodes: &[Node], row: &[f32]) -> usize {
        let mut i = 0;
        loop {
            let node = nodes[i];
            if node.left == 0 {
                return i;
            }
            i = if row[node.feature as usize] <= node.threshold {
                node.left as usize
            } else {
                node.right as usize
            };
        }
    }

    /// Adds each row's leaf value (times `scale`) into `out` (`rows × n_values`).
    fn accumulate(&self, rows: &[f32], out: &mut [f64], scale: f64) {
        let nodes = self.compact();
        let (d, k) = (self.n_features, self.n_values);
        let add = |leaf: usize, acc: &mut [f64]| {
            for (a, v) in acc.iter_mut().zip(&self.value[leaf * k..leaf * k + k]) {
                *a += v * scale;
            }
        };
        // Rows walk down in groups, one level each per step: their loads overlap instead of
        // waiting for each other, which is what bounds a walk down a large tree.
        let mut row_groups = rows.chunks_exact(d * LANES);
        let mut out_groups = out.chunks_exact_mut(k * LANES);
        for (group, acc) in (&mut row_groups).zip(&mut out_groups) {
            let mut at = [0usize; LANES];
            loop {
                let mut moving = false;
                for (lane, i) in at.iter_mut().enumerate() {
                    let node = nodes[*i];
                    if node.left != 0 {
                        let v = group[lane * d + node.feature as usize];
                        *i = if v <= node.threshold {
                            node.left
                        } else {
                            node.right
                        } as usize;
                        moving = true;
                    }
                }
                if !moving {
                    break;
                }
            }
            for (lane, &leaf) in at.iter().enumerate() {
                add(leaf, &mut acc[lane * k..(lane + 1) * k]);
            }
        }
        let rest = row_groups.remainder().chunks_exact(d);
        for (row, acc) in rest.zip(out_groups.into_remainder().chunks_exact_mut(k)) {
            add(Self::leaf(nodes, row), acc);
        }
    }

    /// scikit-learn's `feature_importances_` of one tree: each feature's total weighted
    /// impurity decrease, normalised to sum to 1 (all zeros for a single leaf).
    pub(crate) fn feature_importances(&self) -> Vec<f64> {
        let mut imp = vec![0.0; self.n_features];
        for i in 0..self.node_count() {
            let (l, r) = (self.children_left[i], self.children_right[i]);
            if l == TREE_LEAF {
                continue;
            }
            let (l, r) = (l as usize, r as usize);
            let w = &self.weighted_n_node_samples;
            imp[self.feature[i] as usize] +=
                w[i] * self.impurity[i] - w[l] * self.impurity[l] - w[r] * self.impurity[r];
        }
        let root = self.weighted_n_node_samples[0];
        imp.iter_mut().for_each(|v| *v /= root);
        normalise(&mut imp);
        imp
    }
}

fn normalise(v: &mut [f64]) {
    let sum: f64 = v.iter().sum();
    if sum > 0.0 {
        v.iter_mut().for_each(|x| *x /= sum);
    }
}

/// A fitted tree learner: one tree for `DecisionTree*`, many for `RandomForest*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TreeModel {
    /// The number of classes; 0 for a regressor.
    pub(crate) n_classes: usize,
    pub(crate) n_features: usize,
    pub(crate) trees: Vec<Tree>,
    /// scikit-learn's `feature_importances_`.
    pub(crate) feature_importances: Vec<f64>,
    /// scikit-learn's `oob_score_` (accuracy or R²) when `oob_score` was set.
    pub(crate) oob_score: Option<f64>,
}

/// Converts row-major rows to float32 as scikit-learn does, refusing what it refuses.
pub(crate) fn to_f32_rows(x: &[f64]) -> Result<Vec<f32>, String> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_nan() {
                Err(format!("Input X contains NaN (value {})", i + 1))
            } else if !v.is_finite() || v.abs() > f64::from(f32::MAX) {
                Err(format!(
                    "Input X contains infinity or a value too large for dtype('float32') (value {}: {v})",
                    i + 1
                ))
            } else {
                Ok(v as f32)
            }
        })
        .collect()
}

impl TreeModel {
    /// The averaged leaf values of row-major rows of `n_features`: class probabilities
    /// (`rows × classes`) or regression values (`rows`).
    pub(crate) fn average(&self, x: &[f64], n_features: usize) -> Result<Vec<f64>, String> {
        if n_features != self.n_features || !x.len().is_multiple_of(n_features.max(1)) {
            return Err(format!(
                "the model expects rows of {} features, got {} values in rows of {n_features}",
                self.n_features,
                x.len()
            ));
        }
        let rows = to_f32_rows(x)?;
        let n = rows.len() / self.n_features.max(1);
        let k = self.n_classes.max(1);
        let mut out = vec![0.0; n * k];
        let scale = 1.0 / self.trees.len().max(1) as f64;
        for tree in &self.trees {
            tree.accumulate(&rows, &mut out, scale);
        }
        Ok(out)
    }

    /// The most probable class of each row (the first on ties, as `numpy.argmax`).
    pub(crate) fn predict_classes(&self, x: &[f64], n_features: usize) -> Result<Vec<u32>, String> {
        let proba = self.average(x, n_features)?;
        Ok(proba.chunks_exact(self.n_classes).map(argmax).collect())
    }

    /// Checks a loaded model against its manifest's feature count.
    pub(crate) fn validate(&self, n_features: usize) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("the model has no trees".into());
        }
        if self.n_features != n_features {
            return Err(format!(
                "the trees use {} features, the manifest says {n_features}",
                self.n_features
            ));
        }
        for tree in &self.trees {
            if tree.n_features != self.n_features || tree.n_values != self.n_classes.max(1) {
                return Err("a tree does not match the model's features or classes".into());
            }
            tree.validate()?;
        }
        Ok(())
    }
}

pub(crate) fn argmax(v: &[f64]) -> u32 {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best as u32
}
