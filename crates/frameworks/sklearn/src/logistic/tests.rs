//! The logistic regression against scikit-learn's fits.

use super::model::*;
use super::objective::*;

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
        let model = LogisticModel::fit_traced(
            x,
            f,
            y,
            k,
            &params(c, 300, 1e-8),
            Some(&mut trace),
            &crate::cancel::Cancel::NEVER,
        )
        .unwrap();
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
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
];

#[test]
fn a_cancelled_fit_stops_between_iterations() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (x, y) = lcg_data(42, 200, 5, 4);
    let checks = AtomicUsize::new(0);
    let after_three = || checks.fetch_add(1, Ordering::Relaxed) >= 3;
    let cancel = crate::cancel::Cancel::new(&after_three);
    let e = LogisticModel::fit_cancellable(&x, 5, &y, 4, &params(1.0, 10_000, 1e-10), &cancel)
        .unwrap_err();
    assert_eq!(e, crate::cancel::STOPPED);
    // Checked once per iteration: three iterations ran, the fourth check stopped it.
    assert_eq!(checks.load(Ordering::Relaxed), 4);
}
