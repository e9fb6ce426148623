//! Growing one tree with scikit-learn's best splitter (`sklearn/tree/_splitter.pyx`): every
//! candidate threshold of every visited feature, features compared as float32, thresholds at
//! midpoints, and the same stopping rules as its depth-first and best-first builders.
//!
//! Instead of sorting each visited feature at each node (scikit-learn's way), every feature's
//! values are sorted once and each split partitions those sorted lists stably, so a node's
//! samples stay sorted for every feature at linear cost.

use std::collections::BinaryHeap;

use super::{Criterion, Rng, Tree};
use crate::cancel::Cancel;

/// scikit-learn's `FEATURE_THRESHOLD`: values closer than this (in float32) are one value.
const FEATURE_THRESHOLD: f32 = 1e-7;
/// scikit-learn's `EPSILON` (`np.finfo('double').eps`) in its stopping rules.
const EPSILON: f64 = f64::EPSILON;

/// The targets a tree learns.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Targets<'a> {
    /// Class indices below `k`.
    Classes { y: &'a [u32], k: usize },
    /// Regression targets.
    Values(&'a [f64]),
}

impl Targets<'_> {
    fn width(&self) -> usize {
        match self {
            Targets::Classes { k, .. } => *k,
            Targets::Values(_) => 1,
        }
    }
}

/// The resolved growth settings of one tree.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) criterion: Criterion,
    /// `usize::MAX` when unlimited.
    pub(crate) max_depth: usize,
    pub(crate) min_samples_split: usize,
    pub(crate) min_samples_leaf: usize,
    /// The absolute minimum weight of a leaf (`min_weight_fraction_leaf` × total weight).
    pub(crate) min_weight_fraction_leaf: f64,
    pub(crate) max_features: usize,
    pub(crate) max_leaf_nodes: Option<usize>,
    pub(crate) min_impurity_decrease: f64,
}

/// Every feature's values sorted once, with their row ids: `n_features` runs of `n_rows`.
#[derive(Debug, Clone)]
pub(crate) struct Presorted {
    n_rows: usize,
    n_features: usize,
    vals: Vec<f32>,
    idx: Vec<u32>,
}

impl Presorted {
    /// Sorts column-major float32 `columns` (`n_features` columns of `n_rows`).
    pub(crate) fn new(columns: &[f32], n_rows: usize, n_features: usize) -> Self {
        let mut vals = Vec::with_capacity(n_rows * n_features);
        let mut idx = Vec::with_capacity(n_rows * n_features);
        let mut pairs: Vec<(f32, u32)> = Vec::with_capacity(n_rows);
        for column in columns.chunks_exact(n_rows.max(1)).take(n_features) {
            pairs.clear();
            pairs.extend(column.iter().enumerate().map(|(i, &v)| (v, i as u32)));
            pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            vals.extend(pairs.iter().map(|p| p.0));
            idx.extend(pairs.iter().map(|p| p.1));
        }
        Presorted {
            n_rows,
            n_features,
            vals,
            idx,
        }
    }

    /// The rows whose weight is positive, still sorted: scikit-learn leaves rows of weight 0
    /// (those a bootstrap did not draw) out of the tree.
    fn keep(&self, weights: Option<&[f64]>) -> (Vec<f32>, Vec<u32>, usize) {
        let Some(w) = weights else {
            return (self.vals.clone(), self.idx.clone(), self.n_rows);
        };
        let m = w.iter().filter(|&&w| w > 0.0).count();
        let mut vals = Vec::with_capacity(m * self.n_features);
        let mut idx = Vec::with_capacity(m * self.n_features);
        for f in 0..self.n_features {
            let run = f * self.n_rows..(f + 1) * self.n_rows;
            for (&v, &i) in self.vals[run.clone()].iter().zip(&self.idx[run]) {
                if w[i as usize] > 0.0 {
                    vals.push(v);
                    idx.push(i);
                }
            }
        }
        (vals, idx, m)
    }
}

/// A node's weighted class counts (or sum of targets), weight, and sum of squared targets.
#[derive(Debug, Clone)]
struct Stats {
    w: f64,
    sum: Vec<f64>,
    sq: f64,
}

impl Stats {
    fn impurity(&self, criterion: Criterion) -> f64 {
        let w = self.w;
        match criterion {
            Criterion::Gini => 1.0 - self.sum.iter().map(|c| c * c).sum::<f64>() / (w * w),
            Criterion::Entropy => -self
                .sum
                .iter()
                .filter(|&&c| c > 0.0)
                .map(|&c| {
                    let p = c / w;
                    p * p.log2()
                })
                .sum::<f64>(),
            Criterion::SquaredError | Criterion::FriedmanMse => {
                let mean = self.sum[0] / w;
                self.sq / w - mean * mean
            }
        }
    }

    /// The leaf value: class fractions (scikit-learn ≥ 1.4.1 stores fractions) or the mean.
    fn value(&self) -> impl Iterator<Item = f64> + '_ {
        self.sum.iter().map(move |s| s / self.w)
    }

    fn minus(&self, other: &Stats) -> Stats {
        Stats {
            w: self.w - other.w,
            sum: self
                .sum
                .iter()
                .zip(&other.sum)
                .map(|(a, b)| a - b)
                .collect(),
            sq: self.sq - other.sq,
        }
    }
}

/// The best split found at a node.
#[derive(Debug, Clone)]
struct Split {
    feature: usize,
    /// How many of the node's samples go left.
    pos: usize,
    threshold: f64,
    left: Stats,
    right: Stats,
    improvement: f64,
}

/// One node waiting to be split.
#[derive(Debug)]
struct Pending {
    start: usize,
    end: usize,
    depth: usize,
    parent: Option<(usize, bool)>,
    stats: Stats,
    n_constants: usize,
}

struct Grower<'a> {
    s: &'a Settings,
    targets: Targets<'a>,
    weights: Option<&'a [f64]>,
    n_features: usize,
    m: usize,
    vals: Vec<f32>,
    idx: Vec<u32>,
    /// The node's rows in the order scikit-learn's splitter leaves them (sorted by the last
    /// feature it visited, then partitioned in place): node totals are summed in this
    /// order so that their rounding, and so every tie between splits, is scikit-learn's.
    samples: Vec<u32>,
    goes_left: Vec<bool>,
    tmp_vals: Vec<f32>,
    tmp_idx: Vec<u32>,
    features: Vec<usize>,
    scratch: Vec<f64>,
    min_weight_leaf: f64,
    root_w: f64,
    rng: &'a mut Rng,
    tree: Tree,
}

/// Grows a tree on the rows of positive weight (`weights` `None`: every row weighs 1).
pub(crate) fn grow(
    pre: &Presorted,
    targets: Targets<'_>,
    weights: Option<&[f64]>,
    settings: &Settings,
    rng: &mut Rng,
    cancel: &Cancel<'_>,
) -> Result<Tree, String> {
    let (vals, idx, m) = pre.keep(weights);
    let n_features = pre.n_features;
    let samples: Vec<u32> = (0..pre.n_rows as u32)
        .filter(|&r| weights.is_none_or(|w| w[r as usize] > 0.0))
        .collect();
    let width = targets.width();
    let mut g = Grower {
        s: settings,
        targets,
        weights,
        n_features,
        m,
        vals,
        idx,
        samples,
        goes_left: vec![false; pre.n_rows],
        tmp_vals: vec![0.0; m],
        tmp_idx: vec![0; m],
        features: (0..n_features).collect(),
        scratch: vec![0.0; width],
        min_weight_leaf: 0.0,
        root_w: 0.0,
        rng,
        tree: Tree::empty(n_features, width),
    };
    let root = g.totals(0, m);
    g.root_w = root.w;
    g.min_weight_leaf = settings.min_weight_fraction_leaf * root.w;
    let first = Pending {
        start: 0,
        end: m,
        depth: 0,
        parent: None,
        stats: root,
        n_constants: 0,
    };
    match settings.max_leaf_nodes {
        None => g.depth_first(first, cancel)?,
        Some(max_leaves) => g.best_first(first, max_leaves, cancel)?,
    }
    Ok(g.tree)
}

impl Grower<'_> {
    fn weight(&self, row: u32) -> f64 {
        self.weights.map_or(1.0, |w| w[row as usize])
    }

    /// The stats of the rows in `[start, end)` of feature `f`'s run.
    fn stats_of(&self, f: usize, start: usize, end: usize) -> Stats {
        self.sum_rows(&self.idx[f * self.m + start..f * self.m + end])
    }

    /// A node's totals, summed in scikit-learn's order of its rows.
    fn totals(&self, start: usize, end: usize) -> Stats {
        self.sum_rows(&self.samples[start..end])
    }

    fn sum_rows(&self, rows: &[u32]) -> Stats {
        let mut st = Stats {
            w: 0.0,
            sum: vec![0.0; self.targets.width()],
            sq: 0.0,
        };
        for &row in rows {
            let w = self.weight(row);
            st.w += w;
            match self.targets {
                Targets::Classes { y, .. } => st.sum[y[row as usize] as usize] += w,
                Targets::Values(y) => {
                    let v = y[row as usize];
                    st.sum[0] += w * v;
                    st.sq += w * v * v;
                }
            }
        }
        st
    }

    /// scikit-learn's leaf rules before a split is searched.
    fn must_be_leaf(&self, p: &Pending, impurity: f64) -> bool {
        let n = p.end - p.start;
        p.depth >= self.s.max_depth
            || n < self.s.min_samples_split
            || n < 2 * self.s.min_samples_leaf
            || p.stats.w < 2.0 * self.min_weight_leaf
            || impurity <= EPSILON
    }

    /// The best split of a node (`None`: none is valid or worth it), updating the number of
    /// features known constant there.
    fn find_split(&mut self, p: &mut Pending, impurity: f64) -> Option<Split> {
        let (start, end) = (p.start, p.end);
        let n_known = p.n_constants;
        let mut n_total = n_known;
        let (mut n_found, mut n_drawn, mut visited) = (0usize, 0usize, 0usize);
        let mut f_i = self.n_features;
        let mut best: Option<(usize, usize, f64, f64)> = None;
        let mut last_sorted = None;
        // Draw features without replacement until `max_features` are visited (constants
        // count) and at least one was not constant, as scikit-learn does.
        while f_i > n_total && (visited < self.s.max_features || visited <= n_found + n_drawn) {
            visited += 1;
            let mut f_j = n_drawn + self.rng.below(f_i - n_found - n_drawn);
            if f_j < n_known {
                self.features.swap(n_drawn, f_j);
                n_drawn += 1;
                continue;
            }
            f_j += n_found;
            let f = self.features[f_j];
            let run = &self.vals[f * self.m + start..f * self.m + end];
            if run[run.len() - 1] <= run[0] + FEATURE_THRESHOLD {
                self.features.swap(f_j, n_total);
                n_found += 1;
                n_total += 1;
                continue;
            }
            f_i -= 1;
            self.features.swap(f_i, f_j);
            last_sorted = Some(f);
            if let Some((pos, proxy, threshold)) = self.scan(f, start, end, &p.stats)
                && best.is_none_or(|b| proxy > b.2)
            {
                best = Some((f, pos, proxy, threshold));
            }
        }
        p.n_constants = n_total;
        let (feature, pos, _, threshold) = best?;
        if let Some(f) = last_sorted {
            let m = self.m;
            self.samples[start..end].copy_from_slice(&self.idx[f * m + start..f * m + end]);
        }
        let left = self.stats_of(feature, start, start + pos);
        let right = p.stats.minus(&left);
        let improvement = self.improvement(&p.stats, impurity, &left, &right);
        Some(Split {
            feature,
            pos,
            threshold,
            left,
            right,
            improvement,
        })
    }

    /// The criterion's improvement of a split (scikit-learn's `impurity_improvement`).
    fn improvement(&self, node: &Stats, impurity: f64, left: &Stats, right: &Stats) -> f64 {
        let c = self.s.criterion;
        if c == Criterion::FriedmanMse {
            let diff = right.w * left.sum[0] - left.w * right.sum[0];
            return diff * diff / (left.w * right.w * node.w);
        }
        (node.w / self.root_w)
            * (impurity - right.w / node.w * right.impurity(c) - left.w / node.w * left.impurity(c))
    }

    /// Scans every threshold of feature `f` in `[start, end)`: the best `(left count, proxy,
    /// threshold)` that keeps `min_samples_leaf` and the minimum leaf weight.
    fn scan(
        &mut self,
        f: usize,
        start: usize,
        end: usize,
        node: &Stats,
    ) -> Option<(usize, f64, f64)> {
        let base = f * self.m;
        let vals = &self.vals[base + start..base + end];
        let idx = &self.idx[base + start..base + end];
        let n = vals.len();
        let min_leaf = self.s.min_samples_leaf;
        let min_w = self.min_weight_leaf;
        let criterion = self.s.criterion;
        let left = &mut self.scratch;
        left.iter_mut().for_each(|c| *c = 0.0);
        let (mut wl, mut best_proxy, mut best) = (0.0, f64::NEG_INFINITY, None);
        for p in 0..n - 1 {
            let row = idx[p] as usize;
            let w = self.weights.map_or(1.0, |ws| ws[row]);
            wl += w;
            match self.targets {
                Targets::Classes { y, .. } => left[y[row] as usize] += w,
                Targets::Values(y) => left[0] += w * y[row],
            }
            if vals[p + 1] <= vals[p] + FEATURE_THRESHOLD {
                continue;
            }
            let n_left = p + 1;
            if n_left < min_leaf {
                continue;
            }
            if n - n_left < min_leaf {
                break;
            }
            let wr = node.w - wl;
            if wl < min_w || wr < min_w {
                continue;
            }
            let proxy = proxy(criterion, left, &node.sum, wl, wr);
            if proxy > best_proxy {
                best_proxy = proxy;
                let (a, b) = (f64::from(vals[p]), f64::from(vals[p + 1]));
                let mut threshold = a / 2.0 + b / 2.0;
                if threshold == b || threshold.is_infinite() {
                    threshold = a;
                }
                best = Some((n_left, proxy, threshold));
            }
        }
        best
    }

    /// Moves the node's rows of every still-informative feature into left then right order,
    /// keeping each side sorted.
    fn partition(&mut self, p: &Pending, split: &Split) {
        let (start, end, m) = (p.start, p.end, self.m);
        let f = split.feature;
        for (i, &row) in self.idx[f * m + start..f * m + end].iter().enumerate() {
            self.goes_left[row as usize] = i < split.pos;
        }
        // scikit-learn's in-place partition: a row going right swaps with the last
        // unvisited one.
        let (mut i, mut last) = (start, end);
        while i < last {
            if self.goes_left[self.samples[i] as usize] {
                i += 1;
            } else {
                last -= 1;
                self.samples.swap(i, last);
            }
        }
        // Features known constant here stay constant below and are never read again.
        for k in p.n_constants..self.n_features {
            let g = self.features[k];
            if g == f {
                continue;
            }
            let vals = &mut self.vals[g * m + start..g * m + end];
            let idx = &mut self.idx[g * m + start..g * m + end];
            // Branch-free: every row is written to both places and only the right cursor
            // moves (the side is a coin flip to a branch predictor). `w <= r`, so the
            // in-place write never overtakes the read.
            let (tmp_vals, tmp_idx) = (&mut self.tmp_vals[..], &mut self.tmp_idx[..]);
            let (mut w, mut t) = (0, 0);
            for r in 0..vals.len() {
                let (v, row) = (vals[r], idx[r]);
                let left = usize::from(self.goes_left[row as usize]);
                vals[w] = v;
                idx[w] = row;
                tmp_vals[t] = v;
                tmp_idx[t] = row;
                w += left;
                t += 1 - left;
            }
            vals[w..].copy_from_slice(&tmp_vals[..t]);
            idx[w..].copy_from_slice(&tmp_idx[..t]);
        }
    }

    fn add_node(&mut self, p: &Pending, impurity: f64) -> usize {
        let id = self.tree.push_leaf(
            impurity,
            (p.end - p.start) as u32,
            p.stats.w,
            p.stats.value(),
        );
        if let Some((parent, is_left)) = p.parent {
            self.tree.link(parent, is_left, id);
        }
        id
    }

    /// The children of a partitioned node, their totals summed in scikit-learn's order.
    fn children(&self, p: &Pending, split: Split, id: usize) -> (Pending, Pending) {
        let mid = p.start + split.pos;
        let (left, right) = (self.totals(p.start, mid), self.totals(mid, p.end));
        debug_assert!((left.w - split.left.w).abs() <= 1e-9 * left.w.max(1.0));
        debug_assert!((right.w - split.right.w).abs() <= 1e-9 * right.w.max(1.0));
        let child = |start, end, stats, is_left| Pending {
            start,
            end,
            depth: p.depth + 1,
            parent: Some((id, is_left)),
            stats,
            n_constants: p.n_constants,
        };
        (
            child(p.start, mid, left, true),
            child(mid, p.end, right, false),
        )
    }

    /// Adds a node (as a leaf) and finds its split, unless scikit-learn's rules make it a
    /// leaf: too deep or small, pure, or a split improving less than
    /// `min_impurity_decrease`.
    fn visit(&mut self, p: &mut Pending) -> (usize, Option<Split>) {
        let impurity = p.stats.impurity(self.s.criterion);
        let mut split = None;
        if !self.must_be_leaf(p, impurity) {
            split = self
                .find_split(p, impurity)
                .filter(|s| s.improvement + EPSILON >= self.s.min_impurity_decrease);
        }
        (self.add_node(p, impurity), split)
    }

    fn depth_first(&mut self, root: Pending, cancel: &Cancel<'_>) -> Result<(), String> {
        let mut stack = vec![root];
        while let Some(mut p) = stack.pop() {
            cancel.check()?;
            let (id, split) = self.visit(&mut p);
            if let Some(split) = split {
                self.partition(&p, &split);
                self.tree.set_split(id, split.feature, split.threshold);
                let (left, right) = self.children(&p, split, id);
                stack.push(right);
                stack.push(left);
            }
        }
        Ok(())
    }

    fn best_first(
        &mut self,
        root: Pending,
        max_leaves: usize,
        cancel: &Cancel<'_>,
    ) -> Result<(), String> {
        let mut frontier = BinaryHeap::new();
        let mut pending: Vec<Option<(Pending, Split, usize)>> = Vec::new();
        let mut max_splits = max_leaves.saturating_sub(1);
        self.add_frontier(root, &mut frontier, &mut pending);
        while let Some(Frontier { slot, .. }) = frontier.pop() {
            cancel.check()?;
            let Some((p, split, id)) = pending[slot].take() else {
                continue;
            };
            if max_splits == 0 {
                // Every node still queued stays the leaf it was added as.
                break;
            }
            max_splits -= 1;
            self.partition(&p, &split);
            self.tree.set_split(id, split.feature, split.threshold);
            let (left, right) = self.children(&p, split, id);
            self.add_frontier(left, &mut frontier, &mut pending);
            self.add_frontier(right, &mut frontier, &mut pending);
        }
        Ok(())
    }

    /// Adds a node as a leaf and, when it can be split, queues it by its improvement.
    fn add_frontier(
        &mut self,
        mut p: Pending,
        frontier: &mut BinaryHeap<Frontier>,
        pending: &mut Vec<Option<(Pending, Split, usize)>>,
    ) {
        let (id, split) = self.visit(&mut p);
        if let Some(split) = split {
            let improvement = split.improvement;
            pending.push(Some((p, split, id)));
            frontier.push(Frontier {
                improvement,
                order: usize::MAX - id,
                slot: pending.len() - 1,
            });
        }
    }
}

/// A queued node: the largest improvement first, then the oldest node.
#[derive(Debug)]
struct Frontier {
    improvement: f64,
    order: usize,
    slot: usize,
}

impl PartialEq for Frontier {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Frontier {}
impl PartialOrd for Frontier {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Frontier {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.improvement
            .total_cmp(&other.improvement)
            .then(self.order.cmp(&other.order))
    }
}

/// scikit-learn's `proxy_impurity_improvement`: larger is better, same order as the true
/// improvement, cheaper to compute.
fn proxy(c: Criterion, left: &[f64], total: &[f64], wl: f64, wr: f64) -> f64 {
    match c {
        Criterion::Gini => {
            let (mut sl, mut sr) = (0.0, 0.0);
            for (l, t) in left.iter().zip(total) {
                let r = t - l;
                sl += l * l;
                sr += r * r;
            }
            let gl = 1.0 - sl / (wl * wl);
            let gr = 1.0 - sr / (wr * wr);
            -wr * gr - wl * gl
        }
        Criterion::Entropy => {
            let (mut el, mut er) = (0.0, 0.0);
            for (l, t) in left.iter().zip(total) {
                let r = t - l;
                if *l > 0.0 {
                    let p = l / wl;
                    el -= p * p.log2();
                }
                if r > 0.0 {
                    let p = r / wr;
                    er -= p * p.log2();
                }
            }
            -wr * er - wl * el
        }
        Criterion::SquaredError => {
            let (sl, sr) = (left[0], total[0] - left[0]);
            sl * sl / wl + sr * sr / wr
        }
        Criterion::FriedmanMse => {
            let (sl, sr) = (left[0], total[0] - left[0]);
            let diff = wr * sl - wl * sr;
            diff * diff / (wl * wr)
        }
    }
}
