//! L-BFGS with the Moré–Thuente line search, as scipy's L-BFGS-B runs it for scikit-learn.

use super::objective::{Objective, Workspace, axpy, dot, max_abs};
use crate::cancel::Cancel;

/// Correction pairs kept by L-BFGS (scipy's default `maxcor`).
pub(super) const LBFGS_MEMORY: usize = 10;
/// Objective evaluations allowed in one line search (scikit-learn passes `maxls=50`).
pub(super) const LS_MAX_EVALS: usize = 50;
/// Sufficient-decrease (Armijo) constant of the line search.
pub(super) const LS_FTOL: f64 = 1e-3;
/// Curvature constant of the strong-Wolfe condition.
pub(super) const LS_GTOL: f64 = 0.9;
/// Relative width of the bracket below which the line search settles.
pub(super) const LS_XTOL: f64 = 0.1;
/// Largest step length tried (L-BFGS-B's bound when no variable is bounded).
pub(super) const LS_STEP_MAX: f64 = 1e10;
/// How far past the last step an unbracketed line search extrapolates, at least…
pub(super) const LS_EXTRAP_LOWER: f64 = 1.1;
/// …and at most, in units of the last step.
pub(super) const LS_EXTRAP_UPPER: f64 = 4.0;
/// Relative decrease of the objective, in units of ε, at or below which the fit stops
/// (scikit-learn passes `ftol = 64·ε`).
pub(super) const FTOL_IN_EPS: f64 = 64.0;

/// What [`minimize`] found.
pub(super) struct Solution {
    /// The last accepted point (never NaN).
    pub(super) w: Vec<f64>,
    pub(super) n_iter: usize,
    pub(super) converged: bool,
}

/// Minimises `objective` from zeros with L-BFGS (see the module documentation), pushing the
/// objective at the start and after every iteration onto `trace` when given. `cancel` is
/// checked before every iteration: a stopped job's fit ends within one iteration.
pub(super) fn minimize(
    objective: &Objective<'_>,
    max_iter: usize,
    gtol: f64,
    mut trace: Option<&mut Vec<f64>>,
    cancel: &Cancel<'_>,
) -> Result<Solution, String> {
    let mut state = Lbfgs::new(objective);
    if let Some(trace) = trace.as_deref_mut() {
        trace.push(state.f);
    }
    let mut n_iter = 0;
    let mut converged = max_abs(&state.g) <= gtol;
    while !converged && n_iter < max_iter {
        cancel.check()?;
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
    Ok(Solution {
        w: state.w,
        n_iter,
        converged,
    })
}

/// A step accepted by the line search.
pub(super) struct Accepted {
    pub(super) step: f64,
    /// Objective at the new point.
    pub(super) f: f64,
    /// Directional derivative `∇f(new)ᵀd`.
    pub(super) gd: f64,
}

/// Iterate and buffers of an L-BFGS run.
pub(super) struct Lbfgs<'o, 'a> {
    pub(super) objective: &'o Objective<'a>,
    pub(super) work: Workspace,
    pub(super) history: History,
    /// Current point, its objective and gradient.
    pub(super) w: Vec<f64>,
    pub(super) f: f64,
    pub(super) g: Vec<f64>,
    /// Search direction; the step `s` once a step is accepted.
    pub(super) d: Vec<f64>,
    /// Trial point of the line search.
    pub(super) w_trial: Vec<f64>,
    /// Gradient at the trial point; `y` once a step is accepted.
    pub(super) g_trial: Vec<f64>,
}

impl<'o, 'a> Lbfgs<'o, 'a> {
    /// Starts at zeros, evaluating the objective there.
    pub(super) fn new(objective: &'o Objective<'a>) -> Self {
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
    pub(super) fn line_search(&mut self, gd0: f64, mut step: f64) -> Option<Accepted> {
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
    pub(super) fn accept(&mut self, accepted: &Accepted) {
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
pub(super) struct History {
    pub(super) n: usize,
    pub(super) m: usize,
    /// `m` rows of `n`: steps `s`.
    pub(super) s: Vec<f64>,
    /// `m` rows of `n`: gradient changes `y`.
    pub(super) y: Vec<f64>,
    /// `1 / sᵀy` of each slot.
    pub(super) rho: Vec<f64>,
    /// Scratch for the two-loop recursion.
    pub(super) alpha: Vec<f64>,
    /// Slot of the newest pair.
    pub(super) newest: usize,
    pub(super) len: usize,
    /// `sᵀy / yᵀy` of the newest pair: the initial inverse Hessian is `gamma·I`.
    pub(super) gamma: f64,
}

impl History {
    pub(super) fn new(n: usize, m: usize) -> Self {
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

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.gamma = 1.0;
    }

    /// Stores a pair with `sᵀy = sy > 0`, dropping the oldest when full.
    pub(super) fn push(&mut self, s: &[f64], y: &[f64], sy: f64) {
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
    pub(super) fn slot(&self, age: usize) -> usize {
        (self.newest + self.m - age) % self.m
    }

    /// `d = -H·g` by the two-loop recursion (`d = -g` with an empty history).
    pub(super) fn direction(&mut self, g: &[f64], d: &mut [f64]) {
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
pub(super) struct MoreThuente {
    /// Objective and directional derivative at step 0.
    pub(super) f_init: f64,
    pub(super) g_init: f64,
    /// `LS_FTOL · g_init`: slope of the sufficient-decrease line.
    pub(super) g_test: f64,
    /// Until a step with sufficient decrease and a non-negative slope is seen, the steps
    /// are chosen on the objective shifted by the sufficient-decrease line.
    pub(super) stage_one: bool,
    pub(super) interval: Interval,
    /// Bounds for the next trial step.
    pub(super) step_min: f64,
    pub(super) step_max: f64,
    /// Interval widths of the last two bracketed iterations, to force bisection.
    pub(super) width: f64,
    pub(super) width_before: f64,
    /// Largest step allowed: [`LS_STEP_MAX`], lowered below any step whose objective was
    /// not finite.
    pub(super) step_cap: f64,
}

/// The interval of uncertainty of [`MoreThuente`]: the best step so far `stx` and the other
/// end `sty`, each with its objective and directional derivative.
#[derive(Clone, Copy)]
pub(super) struct Interval {
    pub(super) stx: f64,
    pub(super) fx: f64,
    pub(super) gx: f64,
    pub(super) sty: f64,
    pub(super) fy: f64,
    pub(super) gy: f64,
    /// Whether a minimiser is known to lie between `stx` and `sty`.
    pub(super) bracketed: bool,
}

impl MoreThuente {
    /// A search from an objective `f0` with slope `g0 < 0`, whose first trial is `step`.
    pub(super) fn new(f0: f64, g0: f64, step: f64) -> Self {
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
    pub(super) fn retreat(&mut self, step: f64) -> f64 {
        let stx = self.interval.stx;
        let next = stx + 0.5 * (step - stx);
        self.step_cap = next;
        self.step_max = self.step_max.min(next);
        next
    }

    /// Takes the objective `f` and slope `g` at the trial `*step`. Returns `true` when the
    /// search is over (the trial is the answer: it meets the strong Wolfe conditions, or no
    /// progress is possible), else writes the next trial into `step` and returns `false`.
    pub(super) fn next(&mut self, f: f64, g: f64, step: &mut f64) -> bool {
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
    pub(super) fn safeguarded_step(&mut self, stp: f64, fp: f64, gp: f64, lo: f64, hi: f64) -> f64 {
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
