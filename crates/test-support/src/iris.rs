//! The iris data set (smartcore's copy, compiled in) as the CSV the tests and benches train on.

/// The header of [`iris_csv`].
pub const IRIS_HEADER: &str = "sepal_length,sepal_width,petal_length,petal_width,species";

/// The 150 iris rows with a header, the species by name in the last column.
///
/// ```
/// let csv = sagemaker_test_support::iris_csv();
/// assert_eq!(csv.lines().count(), 151);
/// assert!(csv.lines().nth(1).unwrap().ends_with(",setosa"));
/// ```
pub fn iris_csv() -> String {
    let iris = smartcore::dataset::iris::load_dataset();
    let mut out = format!("{IRIS_HEADER}\n");
    for (i, row) in iris.data.chunks(4).enumerate() {
        let species = &iris.target_names[iris.target[i] as usize];
        out.push_str(&format!(
            "{},{},{},{},{species}\n",
            row[0], row[1], row[2], row[3]
        ));
    }
    out
}

/// The first `n` iris rows, features only, no header (the benchmarks' `rows100.csv`).
///
/// ```
/// assert_eq!(sagemaker_test_support::iris_rows(1), "5.1,3.5,1.4,0.2\n");
/// ```
pub fn iris_rows(n: usize) -> String {
    let iris = smartcore::dataset::iris::load_dataset();
    let mut out = String::new();
    for row in iris.data.chunks(4).take(n) {
        out.push_str(&format!("{},{},{},{}\n", row[0], row[1], row[2], row[3]));
    }
    out
}

/// [`iris_csv`] split 70/30 into (train, test), both with the header, by the same rule as the
/// `iris` example: row `i` goes to test when `(7i + 3) mod 10 < 3`.
///
/// ```
/// let (train, test) = sagemaker_test_support::iris_split();
/// assert_eq!((train.lines().count(), test.lines().count()), (106, 46));
/// ```
pub fn iris_split() -> (String, String) {
    let all = iris_csv();
    let mut lines = all.lines();
    let header = lines.next().unwrap_or(IRIS_HEADER);
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (i, line) in lines.enumerate() {
        if (i * 7 + 3) % 10 < 3 {
            test.push_str(line);
            test.push('\n');
        } else {
            train.push_str(line);
            train.push('\n');
        }
    }
    (train, test)
}
