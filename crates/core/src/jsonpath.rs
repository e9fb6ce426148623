//! The JSONPath subset SageMaker batch transform accepts in `DataProcessing`
//! (`InputFilter`, `OutputFilter`), and the `JoinSource=Input` join for JSON records.
//!
//! Supported forms (SageMaker's semantics, not those of generic JSONPath libraries):
//!
//! | Form | Meaning | Result |
//! | --- | --- | --- |
//! | `$` | the whole record (mandatory prefix) | the record |
//! | `.name`, `['name']`, `["name"]` | one member of an object | the member's value |
//! | `['a','b',...]` | several members | an object of those members, in the requested order |
//! | `[n]` | one element (`-1` is the last) | the element |
//! | `[n,m,...]` | several elements | an array |
//! | `[start:end]` | a slice, **end inclusive**, either bound optional | an array |
//! | `[0,2:4,-1]` | indexes and slices mixed | an array |
//! | `.*`, `[*]` | every element (or every member value of an object) | an array |
//!
//! Steps apply left to right; a step after one that selects several values applies to each
//! of them and keeps the shape (`$[*].a` on `[{"a":1},{"a":2}]` is `[1,2]`). A dot before a
//! bracket is accepted (`$.f.['a','b']`). Spaces are allowed inside brackets only.
//!
//! Not supported (parse errors): recursive descent `..`, filters `[?(...)]`, scripts, and
//! nested names inside a multi-name bracket (`$.f['a','b.c']`: a `.` in one of several
//! bracketed names). A single bracketed name may contain a dot and is then a literal member
//! name (`$['b.c']` selects the member called `b.c`). Paths are at most 63 characters long,
//! SageMaker's limit.
//!
//! Objects built here (several names, [`join_json`]) keep the requested key order only when
//! `serde_json`'s `preserve_order` feature is enabled; otherwise `serde_json` sorts keys.
//!
//! Explicit indexes outside the array are an error; slice bounds are clamped to the array
//! (so `$[1:]` works on any row, and gives nothing on a one-field row).
//!
//! CSV rows are seen as arrays of fields: [`JsonPath::select_indexes`] applies an index-only
//! path to a row of `n` fields and returns the chosen field indexes.
//!
//! ```
//! use sagemaker_core::jsonpath::{join_json, JsonPath};
//! use serde_json::json;
//!
//! // CSV: drop the ID column on the way in, keep ID and prediction on the way out.
//! let input_filter = JsonPath::parse("$[1:]")?;
//! assert_eq!(input_filter.select_indexes(4).unwrap(), vec![1, 2, 3]);
//! let output_filter = JsonPath::parse("$[0,-1]")?;
//! // The joined row is the 4 input fields followed by 1 prediction field.
//! assert_eq!(output_filter.select_indexes(5).unwrap(), vec![0, 4]);
//!
//! // JSON: send the features, join the prediction, keep the id and the prediction.
//! let record = json!({"id": 7, "features": [0.5, 1.5]});
//! let sent = JsonPath::parse("$.features")?.select_json(&record).unwrap();
//! assert_eq!(sent, json!([0.5, 1.5]));
//! let joined = join_json(record, json!(0.9));
//! let kept = JsonPath::parse("$['id','SageMakerOutput']")?.select_json(&joined).unwrap();
//! assert_eq!(kept, json!({"id": 7, "SageMakerOutput": 0.9}));
//! # Ok::<(), sagemaker_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// SageMaker's limit on the length of `InputFilter` and `OutputFilter`, in characters.
pub const MAX_PATH_LEN: usize = 63;

/// The key under which `JoinSource=Input` puts the model's output in a JSON record.
pub const SAGEMAKER_OUTPUT: &str = "SageMakerOutput";

/// The key under which `JoinSource=Input` puts a JSON input record that is not an object.
pub const SAGEMAKER_INPUT: &str = "SageMakerInput";

/// A parsed SageMaker JSONPath (the subset batch transform supports).
///
/// ```
/// use sagemaker_core::jsonpath::JsonPath;
/// use serde_json::json;
///
/// let path = JsonPath::parse("$.features[1:2]")?;
/// assert_eq!(path.as_str(), "$.features[1:2]");
/// assert!(!path.is_root());
/// assert!(!path.is_index_only());
/// let record = json!({"features": [10, 11, 12, 13]});
/// // The end index of a slice is inclusive.
/// assert_eq!(path.select_json(&record).unwrap(), json!([11, 12]));
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

/// One step of a path, with its source text (for messages).
#[derive(Debug, Clone, PartialEq)]
struct Step {
    kind: StepKind,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum StepKind {
    /// `.name` or `['name']`: the member's value itself.
    Name(String),
    /// `['a','b',...]` (two or more): an object of those members.
    Names(Vec<String>),
    /// `[n]`, `[n,m]`, `[a:b]`, mixed: the element itself for a lone index, else an array.
    Indexes(Vec<IndexItem>),
    /// `.*` or `[*]`: an array of every element or member value.
    Wildcard,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum IndexItem {
    Index(i64),
    /// Inclusive bounds.
    Slice(Option<i64>, Option<i64>),
}

impl StepKind {
    fn is_index_form(&self) -> bool {
        matches!(self, StepKind::Indexes(_) | StepKind::Wildcard)
    }
}

impl JsonPath {
    /// Parses a path.
    ///
    /// Errors are [`ErrorKind::InvalidConfig`]; the message quotes the path and points at
    /// the offending character (positions count characters from 1), e.g.
    /// `invalid JSONPath '$[1:x]': unexpected 'x' at position 5 (expected an end index, ',' or ']')`.
    /// Paths longer than 63 characters (SageMaker's limit) are rejected too.
    ///
    /// ```
    /// use sagemaker_core::jsonpath::JsonPath;
    /// use sagemaker_core::ErrorKind;
    ///
    /// assert!(JsonPath::parse("$['id', \"SageMakerOutput\"]").is_ok());
    /// let err = JsonPath::parse("$..a").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    /// assert!(err.message().contains("unexpected '.' at position 3"), "{err}");
    /// ```
    pub fn parse(path: &str) -> Result<JsonPath> {
        let len = path.chars().count();
        if len > MAX_PATH_LEN {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "invalid JSONPath '{path}': it is {len} characters long, more than \
                     SageMaker's limit of {MAX_PATH_LEN}"
                ),
            ));
        }
        let steps = Parser::new(path).parse()?;
        Ok(JsonPath {
            text: path.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `$` alone: selects the whole record.
    ///
    /// ```
    /// use sagemaker_core::jsonpath::JsonPath;
    ///
    /// assert!(JsonPath::parse("$")?.is_root());
    /// assert!(!JsonPath::parse("$[*]")?.is_root());
    /// # Ok::<(), sagemaker_core::Error>(())
    /// ```
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether it uses only index forms (`[n]`, `[n,m]`, `[a:b]`, `[*]` or `.*`), so it can
    /// apply to CSV rows. `$` alone counts as index-only.
    ///
    /// A CSV row has no nested fields, so only paths of at most one step actually select
    /// from a row; [`select_indexes`](Self::select_indexes) rejects a second step
    /// (`$[1:][0]`) even though both steps are index forms.
    ///
    /// ```
    /// use sagemaker_core::jsonpath::JsonPath;
    ///
    /// assert!(JsonPath::parse("$[0,5:]")?.is_index_only());
    /// assert!(!JsonPath::parse("$.features")?.is_index_only());
    /// # Ok::<(), sagemaker_core::Error>(())
    /// ```
    pub fn is_index_only(&self) -> bool {
        self.steps.iter().all(|s| s.kind.is_index_form())
    }

    /// Applies the path to a JSON record.
    ///
    /// A last step that selects one name or one index yields that value itself; a step
    /// with several names yields an object of those members in the requested order (the
    /// order is kept when `serde_json`'s `preserve_order` feature is on); several indexes,
    /// a slice or a wildcard yield an array.
    ///
    /// ```
    /// use sagemaker_core::jsonpath::JsonPath;
    /// use serde_json::json;
    ///
    /// let row = json!(["id-1", 1, 2, 3]);
    /// assert_eq!(JsonPath::parse("$[-1]")?.select_json(&row).unwrap(), json!(3));
    /// assert_eq!(JsonPath::parse("$[1:]")?.select_json(&row).unwrap(), json!([1, 2, 3]));
    /// let err = JsonPath::parse("$[7]")?.select_json(&row).unwrap_err();
    /// assert!(err.to_string().contains("index 7 is outside the record of 4 elements"));
    /// # Ok::<(), sagemaker_core::Error>(())
    /// ```
    pub fn select_json(&self, record: &Value) -> std::result::Result<Value, SelectError> {
        self.eval(&self.steps, record, &mut String::from("$"))
    }

    /// Applies the path to a CSV row seen as an array of `n_fields` fields; returns the
    /// selected field indexes in order (so callers can slice the original text without
    /// copying). `$` and a wildcard select every field.
    ///
    /// Name steps are an error (a row has no members), and so is a second step (a field
    /// has no elements). Explicit indexes outside the row are an error; slices are clamped.
    ///
    /// ```
    /// use sagemaker_core::jsonpath::JsonPath;
    ///
    /// assert_eq!(JsonPath::parse("$[0,5:]")?.select_indexes(7).unwrap(), vec![0, 5, 6]);
    /// assert_eq!(JsonPath::parse("$[:2]")?.select_indexes(7).unwrap(), vec![0, 1, 2]);
    /// let err = JsonPath::parse("$[0,7]")?.select_indexes(4).unwrap_err();
    /// assert!(err.to_string().contains("index 7 is outside the record of 4 fields"));
    /// # Ok::<(), sagemaker_core::Error>(())
    /// ```
    pub fn select_indexes(&self, n_fields: usize) -> std::result::Result<Vec<usize>, SelectError> {
        if let Some(step) = self.steps.iter().find(|s| !s.kind.is_index_form()) {
            return Err(self.select_error(format!(
                "'{}' selects a member by name, but a CSV row is a list of fields \
                 (only index forms such as [0], [1:] or [*] apply to CSV)",
                step.text
            )));
        }
        let Some(first) = self.steps.first() else {
            return Ok((0..n_fields).collect());
        };
        if let Some(second) = self.steps.get(1) {
            return Err(self.select_error(format!(
                "'{}' after '{}' would select inside a field, but the fields of a CSV row \
                 are single values",
                second.text, first.text
            )));
        }
        match &first.kind {
            StepKind::Indexes(items) => resolve_indexes(items, n_fields).map_err(|bad| {
                self.select_error(format!(
                    "index {bad} is outside the record of {n_fields} field{}",
                    plural(n_fields)
                ))
            }),
            // Only index forms are left after the check above.
            _ => Ok((0..n_fields).collect()),
        }
    }

    fn select_error(&self, what: String) -> SelectError {
        SelectError {
            message: format!("JSONPath '{}': {what}", self.text),
        }
    }

    /// Applies `steps` to `value`, found at `loc` (a concrete path such as `$.a[3]`).
    fn eval(
        &self,
        steps: &[Step],
        value: &Value,
        loc: &mut String,
    ) -> std::result::Result<Value, SelectError> {
        let Some((step, rest)) = steps.split_first() else {
            return Ok(value.clone());
        };
        match &step.kind {
            StepKind::Name(name) => {
                let object = self.expect_object(step, value, loc)?;
                let child = self.member(object, name, loc)?;
                self.eval_child(rest, child, loc, |l| push_member(l, name))
            }
            StepKind::Names(names) => {
                let object = self.expect_object(step, value, loc)?;
                let mut out = Map::new();
                for name in names {
                    let child = self.member(object, name, loc)?;
                    let selected = self.eval_child(rest, child, loc, |l| push_member(l, name))?;
                    out.insert(name.clone(), selected);
                }
                Ok(Value::Object(out))
            }
            StepKind::Indexes(items) => {
                let Value::Array(elements) = value else {
                    return Err(self.wrong_type(step, value, loc, "indexes apply to arrays"));
                };
                let indexes = resolve_indexes(items, elements.len()).map_err(|bad| {
                    let n = elements.len();
                    let of = format!("{n} element{}", plural(n));
                    self.select_error(if loc == "$" {
                        format!("index {bad} is outside the record of {of}")
                    } else {
                        format!("index {bad} is outside the array of {of} at {loc}")
                    })
                })?;
                if let [IndexItem::Index(_)] = items.as_slice() {
                    let i = indexes[0];
                    return self.eval_child(rest, &elements[i], loc, |l| push_index(l, i));
                }
                indexes
                    .into_iter()
                    .map(|i| self.eval_child(rest, &elements[i], loc, |l| push_index(l, i)))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            StepKind::Wildcard => match value {
                Value::Array(elements) => elements
                    .iter()
                    .enumerate()
                    .map(|(i, e)| self.eval_child(rest, e, loc, |l| push_index(l, i)))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map(Value::Array),
                Value::Object(members) => members
                    .iter()
                    .map(|(k, v)| self.eval_child(rest, v, loc, |l| push_member(l, k)))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map(Value::Array),
                _ => Err(self.wrong_type(
                    step,
                    value,
                    loc,
                    "a wildcard applies to arrays and objects",
                )),
            },
        }
    }

    /// Evaluates `rest` on `child`, with `loc` extended by `extend` for the duration.
    fn eval_child(
        &self,
        rest: &[Step],
        child: &Value,
        loc: &mut String,
        extend: impl FnOnce(&mut String),
    ) -> std::result::Result<Value, SelectError> {
        if rest.is_empty() {
            return Ok(child.clone());
        }
        let mark = loc.len();
        extend(loc);
        let result = self.eval(rest, child, loc);
        loc.truncate(mark);
        result
    }

    fn expect_object<'v>(
        &self,
        step: &Step,
        value: &'v Value,
        loc: &str,
    ) -> std::result::Result<&'v Map<String, Value>, SelectError> {
        match value {
            Value::Object(members) => Ok(members),
            _ => Err(self.wrong_type(step, value, loc, "member names apply to objects")),
        }
    }

    fn member<'v>(
        &self,
        object: &'v Map<String, Value>,
        name: &str,
        loc: &str,
    ) -> std::result::Result<&'v Value, SelectError> {
        object.get(name).ok_or_else(|| {
            self.select_error(if loc == "$" {
                format!("the record has no member '{name}'")
            } else {
                format!("the object at {loc} has no member '{name}'")
            })
        })
    }

    fn wrong_type(&self, step: &Step, value: &Value, loc: &str, rule: &str) -> SelectError {
        let kind = kind_name(value);
        self.select_error(if loc == "$" {
            format!(
                "cannot apply '{}' to the record, which is {} {kind} ({rule})",
                step.text,
                article(kind)
            )
        } else {
            format!(
                "cannot apply '{}' to the {kind} at {loc} ({rule})",
                step.text
            )
        })
    }
}

impl fmt::Display for JsonPath {
    /// Writes the path as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for JsonPath {
    type Err = Error;

    /// Same as [`JsonPath::parse`].
    fn from_str(s: &str) -> Result<JsonPath> {
        JsonPath::parse(s)
    }
}

/// Why a path could not be applied to a record (index outside the record, missing member,
/// name applied to an array, ...); [`Display`](fmt::Display) says what and where.
///
/// ```
/// use sagemaker_core::jsonpath::JsonPath;
/// use serde_json::json;
///
/// let err = JsonPath::parse("$.id")?.select_json(&json!([1, 2])).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "JSONPath '$.id': cannot apply '.id' to the record, which is an array \
///      (member names apply to objects)"
/// );
/// # Ok::<(), sagemaker_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError {
    /// What went wrong and where, starting with the path.
    pub message: String,
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectError {}

/// `JoinSource=Input` for JSON records: an object `input` gets the `output` under the key
/// `"SageMakerOutput"` (overwriting a member of that name); any other input becomes
/// `{"SageMakerInput": input, "SageMakerOutput": output}`.
///
/// ```
/// use sagemaker_core::jsonpath::join_json;
/// use serde_json::json;
///
/// assert_eq!(
///     join_json(json!({"id": 1}), json!([0.2])),
///     json!({"id": 1, "SageMakerOutput": [0.2]})
/// );
/// assert_eq!(
///     join_json(json!([1, 2]), json!(0.2)),
///     json!({"SageMakerInput": [1, 2], "SageMakerOutput": 0.2})
/// );
/// ```
pub fn join_json(input: Value, output: Value) -> Value {
    match input {
        Value::Object(mut members) => {
            members.insert(SAGEMAKER_OUTPUT.to_owned(), output);
            Value::Object(members)
        }
        other => {
            let mut members = Map::new();
            members.insert(SAGEMAKER_INPUT.to_owned(), other);
            members.insert(SAGEMAKER_OUTPUT.to_owned(), output);
            Value::Object(members)
        }
    }
}

/// Resolves index items against an array of `len` elements, in order. Explicit indexes must
/// fall inside the array (the offending index, as written, is the error); slices are
/// inclusive of their end and clamped to the array.
fn resolve_indexes(items: &[IndexItem], len: usize) -> std::result::Result<Vec<usize>, i64> {
    // Lengths beyond i64 do not occur in memory; saturate to keep the arithmetic total.
    let n = i64::try_from(len).unwrap_or(i64::MAX);
    let from_end = |i: i64| if i < 0 { n.saturating_add(i) } else { i };
    let mut out = Vec::new();
    for item in items {
        match *item {
            IndexItem::Index(i) => {
                let resolved = from_end(i);
                if !(0..n).contains(&resolved) {
                    return Err(i);
                }
                out.push(resolved as usize);
            }
            IndexItem::Slice(start, end) => {
                let start = start.map_or(0, from_end).max(0);
                let end = end.map_or(n - 1, from_end).min(n - 1);
                if start <= end {
                    out.extend(start as usize..=end as usize);
                }
            }
        }
    }
    Ok(out)
}

fn push_member(loc: &mut String, name: &str) {
    let plain = !name.is_empty() && name.chars().all(is_name_char);
    if plain {
        loc.push('.');
        loc.push_str(name);
    } else {
        loc.push_str("['");
        for c in name.chars() {
            if c == '\'' || c == '\\' {
                loc.push('\\');
            }
            loc.push(c);
        }
        loc.push_str("']");
    }
}

fn push_index(loc: &mut String, i: usize) {
    loc.push('[');
    loc.push_str(&i.to_string());
    loc.push(']');
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Characters allowed in a dot-notation member name.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// A recursive-descent parser over the path's characters.
struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
}

const EXPECT_BRACKET: &str = "an index, a slice, a quoted name or '*'";

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn source(&self, start: usize) -> String {
        self.chars[start..self.pos].iter().collect()
    }

    fn fail(&self, what: String) -> Error {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("invalid JSONPath '{}': {what}", self.text),
        )
    }

    /// "unexpected 'c' at position p (expected ...)" at the current position.
    fn unexpected(&self, expected: &str) -> Error {
        let position = self.pos + 1;
        let what = match self.peek() {
            Some(c) => {
                let hint = match c {
                    '.' if self.pos > 0 && self.chars[self.pos - 1] == '.' => {
                        "; recursive descent '..' is not supported"
                    }
                    '?' => "; filter expressions are not supported",
                    '(' => "; script expressions are not supported",
                    '@' => "; '@' (current node) is not supported",
                    _ => "",
                };
                format!("unexpected '{c}' at position {position} (expected {expected}{hint})")
            }
            None => format!("unexpected end at position {position} (expected {expected})"),
        };
        self.fail(what)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(' ') {
            self.pos += 1;
        }
    }

    fn parse(mut self) -> Result<Vec<Step>> {
        if self.peek() != Some('$') {
            return Err(self.unexpected("'$'"));
        }
        self.pos += 1;
        let mut steps = Vec::new();
        while let Some(c) = self.peek() {
            let start = self.pos;
            let kind = match c {
                '.' => {
                    self.pos += 1;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            StepKind::Wildcard
                        }
                        Some('[') => self.bracket()?,
                        Some(c) if is_name_char(c) => {
                            let name_start = self.pos;
                            while self.peek().is_some_and(is_name_char) {
                                self.pos += 1;
                            }
                            StepKind::Name(self.source(name_start))
                        }
                        _ => return Err(self.unexpected("a member name, '*' or '['")),
                    }
                }
                '[' => self.bracket()?,
                _ => return Err(self.unexpected("'.' or '['")),
            };
            steps.push(Step {
                kind,
                text: self.source(start),
            });
        }
        Ok(steps)
    }

    /// `[ ... ]`, starting at the `[`.
    fn bracket(&mut self) -> Result<StepKind> {
        self.pos += 1;
        self.skip_spaces();
        let kind = match self.peek() {
            Some('*') => {
                self.pos += 1;
                self.skip_spaces();
                if self.peek() != Some(']') {
                    return Err(self.unexpected("']'"));
                }
                StepKind::Wildcard
            }
            Some('\'' | '"') => self.names()?,
            Some(c) if c.is_ascii_digit() || c == '-' || c == ':' => self.indexes()?,
            _ => return Err(self.unexpected(EXPECT_BRACKET)),
        };
        // Each branch stops on the closing bracket.
        self.pos += 1;
        Ok(kind)
    }

    /// `'a', "b", ...` up to (not past) the `]`.
    fn names(&mut self) -> Result<StepKind> {
        let mut names = Vec::new();
        // Position of the first '.' inside each name, to reject nested names.
        let mut first_dot = None;
        loop {
            let (name, dot) = self.quoted()?;
            if first_dot.is_none() {
                first_dot = dot;
            }
            names.push(name);
            self.skip_spaces();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    self.skip_spaces();
                    if !matches!(self.peek(), Some('\'' | '"')) {
                        return Err(self.unexpected("a quoted name"));
                    }
                }
                Some(']') => break,
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
        if names.len() == 1 {
            return Ok(StepKind::Name(names.remove(0)));
        }
        if let Some(dot) = first_dot {
            return Err(self.fail(format!(
                "unexpected '.' at position {} (nested names inside a multi-name \
                 bracket are not supported)",
                dot + 1
            )));
        }
        Ok(StepKind::Names(names))
    }

    /// A quoted name starting at its quote; `\` escapes the next character. Returns the name
    /// and the position of its first unescaped '.', if any.
    fn quoted(&mut self) -> Result<(String, Option<usize>)> {
        let quote = self.chars[self.pos];
        self.pos += 1;
        let mut name = String::new();
        let mut dot = None;
        loop {
            match self.peek() {
                None => {
                    return Err(self.unexpected(&format!("a closing {quote}")));
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok((name, dot));
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => name.push(c),
                        None => return Err(self.unexpected("an escaped character")),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    if c == '.' && dot.is_none() {
                        dot = Some(self.pos);
                    }
                    name.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `n`, `a:b`, ... up to (not past) the `]`.
    fn indexes(&mut self) -> Result<StepKind> {
        let mut items = Vec::new();
        loop {
            let start = self.integer()?;
            let (item, expected) = if self.peek() == Some(':') {
                self.pos += 1;
                self.skip_spaces();
                let end = self.integer()?;
                let expected = if end.is_none() {
                    "an end index, ',' or ']'"
                } else {
                    "',' or ']'"
                };
                (IndexItem::Slice(start, end), expected)
            } else if let Some(i) = start {
                (IndexItem::Index(i), "':', ',' or ']'")
            } else {
                return Err(self.unexpected("an index or a slice"));
            };
            items.push(item);
            self.skip_spaces();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    self.skip_spaces();
                }
                Some(']') => break,
                _ => return Err(self.unexpected(expected)),
            }
        }
        Ok(StepKind::Indexes(items))
    }

    /// An optional integer (`-`? digits); `None` when there is no digit or `-` here.
    fn integer(&mut self) -> Result<Option<i64>> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.unexpected("a digit"));
            }
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        let digits = self.source(start);
        let value = digits.parse::<i64>().map_err(|_| {
            self.fail(format!(
                "index {digits} at position {} is too large",
                start + 1
            ))
        })?;
        self.skip_spaces();
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(path: &str) -> JsonPath {
        JsonPath::parse(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn idx(path: &str, n: usize) -> Vec<usize> {
        p(path)
            .select_indexes(n)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn sel(path: &str, record: &Value) -> Value {
        p(path)
            .select_json(record)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parse_err(path: &str) -> String {
        let err = JsonPath::parse(path).expect_err(path);
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{path}");
        let message = err.message().to_owned();
        assert!(
            message.starts_with(&format!("invalid JSONPath '{path}': ")),
            "{message}"
        );
        message
    }

    fn sel_err(path: &str, record: &Value) -> String {
        let err = p(path).select_json(record).expect_err(path);
        assert_eq!(err.to_string(), err.message);
        assert!(
            err.message.starts_with(&format!("JSONPath '{path}': ")),
            "{err}"
        );
        err.message
    }

    /// Whether `serde_json::Map` keeps insertion order in this build (the
    /// `preserve_order` feature); without it, keys are sorted.
    fn maps_keep_order() -> bool {
        let mut map = Map::new();
        map.insert("b".into(), Value::Null);
        map.insert("a".into(), Value::Null);
        map.keys().next().map(String::as_str) == Some("b")
    }

    fn keys(value: &Value) -> Vec<&str> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect()
    }

    fn row() -> Value {
        json!(["a", "b", "c", "d", "e", "f", "g"])
    }

    // ---- every form on CSV-like rows and JSON arrays ----

    #[test]
    fn root() {
        let path = p("$");
        assert!(path.is_root());
        assert!(path.is_index_only());
        assert_eq!(path.as_str(), "$");
        assert_eq!(idx("$", 3), vec![0, 1, 2]);
        assert_eq!(idx("$", 0), Vec::<usize>::new());
        let record = json!({"a": [1, {"b": null}]});
        assert_eq!(sel("$", &record), record);
    }

    #[test]
    fn single_index() {
        assert_eq!(idx("$[0]", 7), vec![0]);
        assert_eq!(sel("$[0]", &row()), json!("a"));
        assert_eq!(idx("$[6]", 7), vec![6]);
    }

    #[test]
    fn negative_index() {
        assert_eq!(idx("$[-1]", 7), vec![6]);
        assert_eq!(sel("$[-1]", &row()), json!("g"));
        assert_eq!(idx("$[-7]", 7), vec![0]);
    }

    #[test]
    fn slice_open_end_drops_first() {
        assert_eq!(idx("$[1:]", 7), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(sel("$[1:]", &row()), json!(["b", "c", "d", "e", "f", "g"]));
        // Works on any row, even one with a single field.
        assert_eq!(idx("$[1:]", 1), Vec::<usize>::new());
        assert_eq!(sel("$[1:]", &json!([1])), json!([]));
    }

    #[test]
    fn slice_open_start_is_end_inclusive() {
        assert_eq!(idx("$[:2]", 7), vec![0, 1, 2]);
        assert_eq!(sel("$[:2]", &row()), json!(["a", "b", "c"]));
        // `$[:5]` = indexes 0..=5, six elements.
        assert_eq!(idx("$[:5]", 7).len(), 6);
    }

    #[test]
    fn slice_both_bounds_is_end_inclusive() {
        assert_eq!(idx("$[1:2]", 7), vec![1, 2]);
        assert_eq!(sel("$[1:2]", &row()), json!(["b", "c"]));
        // `$[1:4]` = 2nd..5th elements.
        assert_eq!(sel("$[1:4]", &row()), json!(["b", "c", "d", "e"]));
        // A one-element slice is still an array.
        assert_eq!(sel("$[2:2]", &row()), json!(["c"]));
    }

    #[test]
    fn slices_clamp_and_resolve_negative_bounds() {
        assert_eq!(idx("$[5:100]", 7), vec![5, 6]);
        assert_eq!(idx("$[-3:]", 7), vec![4, 5, 6]);
        assert_eq!(idx("$[-100:1]", 7), vec![0, 1]);
        assert_eq!(idx("$[:-2]", 7), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(idx("$[4:2]", 7), Vec::<usize>::new());
        assert_eq!(idx("$[:]", 3), vec![0, 1, 2]);
        assert_eq!(idx("$[0:]", 0), Vec::<usize>::new());
        assert_eq!(sel("$[:]", &json!([])), json!([]));
    }

    #[test]
    fn index_list() {
        assert_eq!(idx("$[0,2]", 7), vec![0, 2]);
        assert_eq!(sel("$[0,2]", &row()), json!(["a", "c"]));
        // Order is as requested, duplicates kept.
        assert_eq!(idx("$[3,1,3]", 7), vec![3, 1, 3]);
    }

    #[test]
    fn first_and_last() {
        assert_eq!(idx("$[0,-1]", 7), vec![0, 6]);
        assert_eq!(sel("$[0,-1]", &row()), json!(["a", "g"]));
    }

    #[test]
    fn index_and_open_slice() {
        assert_eq!(idx("$[0,5:]", 7), vec![0, 5, 6]);
        assert_eq!(sel("$[0,5:]", &row()), json!(["a", "f", "g"]));
        assert_eq!(idx("$[0,2:4,-1]", 7), vec![0, 2, 3, 4, 6]);
        assert_eq!(idx("$[ 0 , 5: ]", 7), vec![0, 5, 6]);
    }

    #[test]
    fn bracket_wildcard() {
        assert!(p("$[*]").is_index_only());
        assert_eq!(idx("$[*]", 3), vec![0, 1, 2]);
        assert_eq!(sel("$[*]", &json!([1, 2])), json!([1, 2]));
        assert_eq!(sel("$[*]", &json!({"a": 1})), json!([1]));
    }

    #[test]
    fn dot_wildcard() {
        assert!(p("$.*").is_index_only());
        assert_eq!(idx("$.*", 2), vec![0, 1]);
        assert_eq!(sel("$.*", &json!({"a": 1, "b": [2]})), json!([1, [2]]));
        assert_eq!(sel("$.*", &json!(["x", "y"])), json!(["x", "y"]));
    }

    #[test]
    fn member() {
        let record = json!({"id": 1, "features": [0.1, 0.2, 0.3]});
        assert!(!p("$.features").is_index_only());
        assert_eq!(sel("$.features", &record), json!([0.1, 0.2, 0.3]));
        assert_eq!(sel("$['features']", &record), json!([0.1, 0.2, 0.3]));
        assert_eq!(sel("$.id", &record), json!(1));
    }

    #[test]
    fn member_then_slice() {
        let record = json!({"features": [10, 11, 12, 13]});
        assert_eq!(sel("$.features[1:2]", &record), json!([11, 12]));
        assert_eq!(sel("$.features[-1]", &record), json!(13));
        assert_eq!(sel("$['features'][0,2]", &record), json!([10, 12]));
    }

    #[test]
    fn nested_members() {
        let record = json!({"a": {"b": {"c": "deep"}}, "x-y_z": 2, "é": 3});
        assert_eq!(sel("$.a.b", &record), json!({"c": "deep"}));
        assert_eq!(sel("$.a.b.c", &record), json!("deep"));
        assert_eq!(sel("$.x-y_z", &record), json!(2));
        assert_eq!(sel("$.é", &record), json!(3));
    }

    #[test]
    fn several_names_make_an_object_in_order() {
        let record = json!({"SageMakerOutput": 0.9, "features": [1], "id": "r1"});
        let out = sel("$['id','SageMakerOutput']", &record);
        assert_eq!(out, json!({"id": "r1", "SageMakerOutput": 0.9}));
        if maps_keep_order() {
            assert_eq!(keys(&out), vec!["id", "SageMakerOutput"]);
        }
    }

    #[test]
    fn double_quoted_and_mixed_quotes() {
        let record = json!({"a": 1, "b": 2, "it's": 3, "c\"d": 4});
        assert_eq!(sel("$[\"a\"]", &record), json!(1));
        assert_eq!(sel("$[\"a\", 'b']", &record), json!({"a": 1, "b": 2}));
        assert_eq!(sel("$[\"it's\"]", &record), json!(3));
        assert_eq!(sel("$['it\\'s']", &record), json!(3));
        assert_eq!(sel("$['c\"d']", &record), json!(4));
    }

    #[test]
    fn dot_before_bracket_is_accepted() {
        let record = json!({"f": {"a": 1, "b": 2, "c": 3}, "g": [5, 6]});
        assert_eq!(sel("$.f.['a','b']", &record), json!({"a": 1, "b": 2}));
        assert_eq!(sel("$.f['a','b']", &record), json!({"a": 1, "b": 2}));
        assert_eq!(sel("$.g.[1]", &record), json!(6));
    }

    #[test]
    fn single_bracketed_name_may_contain_a_dot() {
        let record = json!({"b.c": 1, "b": {"c": 2}});
        assert_eq!(sel("$['b.c']", &record), json!(1));
        assert_eq!(sel("$.b.c", &record), json!(2));
    }

    #[test]
    fn steps_after_a_multi_selection_apply_to_each_value() {
        let record = json!([{"a": 1, "b": 2}, {"a": 3, "b": 4}]);
        assert_eq!(sel("$[*].a", &record), json!([1, 3]));
        assert_eq!(sel("$[0,1]['b']", &record), json!([2, 4]));
        let nested = json!({"x": [1, 2, 3], "y": [4, 5, 6]});
        assert_eq!(
            sel("$['x','y'][0,-1]", &nested),
            json!({"x": [1, 3], "y": [4, 6]})
        );
        assert_eq!(sel("$.*[1:]", &nested), json!([[2, 3], [5, 6]]));
    }

    #[test]
    fn display_and_from_str() {
        let path: JsonPath = "$[0,5:]".parse().unwrap();
        assert_eq!(path.to_string(), "$[0,5:]");
        assert_eq!(path, p("$[0,5:]"));
        assert!("$[".parse::<JsonPath>().is_err());
    }

    // ---- the AWS documentation's examples ----

    #[test]
    fn aws_csv_drop_id_then_keep_id_and_prediction() {
        // Input rows "id,f1,f2,f3"; InputFilter "$[1:]" sends the features only.
        let input = "r1,0.5,1.5,2.5";
        let fields: Vec<&str> = input.split(',').collect();
        let sent: Vec<&str> = idx("$[1:]", fields.len())
            .into_iter()
            .map(|i| fields[i])
            .collect();
        assert_eq!(sent.join(","), "0.5,1.5,2.5");
        // JoinSource=Input appends the prediction after the original columns.
        let joined: Vec<&str> = fields.iter().copied().chain(["0.93"]).collect();
        assert_eq!(joined.join(","), "r1,0.5,1.5,2.5,0.93");
        // OutputFilter "$[0,-1]" keeps the ID and the prediction.
        let kept: Vec<&str> = idx("$[0,-1]", joined.len())
            .into_iter()
            .map(|i| joined[i])
            .collect();
        assert_eq!(kept.join(","), "r1,0.93");
    }

    #[test]
    fn aws_csv_output_filter_index_and_tail() {
        // "$[0,5:]": the first column and everything from the sixth on.
        assert_eq!(idx("$[0,5:]", 8), vec![0, 5, 6, 7]);
    }

    #[test]
    fn aws_json_features_join_and_output_filter() {
        let record = json!({"id": 1, "features": [0.3, 0.7, 1.1]});
        let sent = sel("$.features", &record);
        assert_eq!(sent, json!([0.3, 0.7, 1.1]));
        let joined = join_json(record, json!({"label": 1, "score": 0.8}));
        assert_eq!(
            joined,
            json!({"id": 1, "features": [0.3, 0.7, 1.1],
                   "SageMakerOutput": {"label": 1, "score": 0.8}})
        );
        let kept = sel("$['id','SageMakerOutput']", &joined);
        assert_eq!(
            kept,
            json!({"id": 1, "SageMakerOutput": {"label": 1, "score": 0.8}})
        );
        if maps_keep_order() {
            assert_eq!(keys(&kept), vec!["id", "SageMakerOutput"]);
        }
    }

    // ---- join_json ----

    #[test]
    fn join_object_adds_and_overwrites_output() {
        assert_eq!(
            join_json(json!({"a": 1}), json!([2])),
            json!({"a": 1, "SageMakerOutput": [2]})
        );
        assert_eq!(
            join_json(json!({"SageMakerOutput": "old", "a": 1}), json!("new")),
            json!({"SageMakerOutput": "new", "a": 1})
        );
    }

    #[test]
    fn join_array_wraps_input() {
        assert_eq!(
            join_json(json!([1, 2, 3]), json!(1)),
            json!({"SageMakerInput": [1, 2, 3], "SageMakerOutput": 1})
        );
    }

    #[test]
    fn join_scalar_wraps_input() {
        assert_eq!(
            join_json(json!(3.5), json!("yes")),
            json!({"SageMakerInput": 3.5, "SageMakerOutput": "yes"})
        );
        assert_eq!(
            join_json(Value::Null, json!(0)),
            json!({"SageMakerInput": null, "SageMakerOutput": 0})
        );
    }

    // ---- parse errors ----

    #[test]
    fn parse_error_missing_root() {
        let m = parse_err("1:2");
        assert!(
            m.ends_with("unexpected '1' at position 1 (expected '$')"),
            "{m}"
        );
        let m = parse_err("");
        assert!(
            m.contains("unexpected end at position 1 (expected '$')"),
            "{m}"
        );
    }

    #[test]
    fn parse_error_unclosed_bracket() {
        let m = parse_err("$[");
        assert!(
            m.ends_with(&format!(
                "unexpected end at position 3 (expected {EXPECT_BRACKET})"
            )),
            "{m}"
        );
    }

    #[test]
    fn parse_error_bad_slice_end() {
        let m = parse_err("$[1:x]");
        assert_eq!(
            m,
            "invalid JSONPath '$[1:x]': unexpected 'x' at position 5 \
             (expected an end index, ',' or ']')"
        );
    }

    #[test]
    fn parse_error_recursive_descent() {
        let m = parse_err("$..a");
        assert!(m.contains("unexpected '.' at position 3"), "{m}");
        assert!(m.contains("recursive descent '..' is not supported"), "{m}");
    }

    #[test]
    fn parse_error_filter() {
        let m = parse_err("$[?(@.x)]");
        assert!(m.contains("unexpected '?' at position 3"), "{m}");
        assert!(m.contains("filter expressions are not supported"), "{m}");
    }

    #[test]
    fn parse_error_unclosed_name_list() {
        let m = parse_err("$['a'");
        assert!(
            m.ends_with("unexpected end at position 6 (expected ',' or ']')"),
            "{m}"
        );
        let m = parse_err("$['a");
        assert!(
            m.contains("unexpected end at position 5 (expected a closing ')"),
            "{m}"
        );
    }

    #[test]
    fn parse_error_too_long() {
        let ok = format!("$.{}", "a".repeat(61));
        assert_eq!(ok.len(), 63);
        assert!(JsonPath::parse(&ok).is_ok());
        let long = format!("$.{}", "a".repeat(62));
        assert_eq!(long.len(), 64);
        let m = parse_err(&long);
        assert!(m.contains("64 characters long"), "{m}");
        assert!(m.contains("limit of 63"), "{m}");
    }

    #[test]
    fn parse_error_nested_name_in_multi_name_bracket() {
        let m = parse_err("$.f['a','b.c']");
        assert!(m.contains("unexpected '.' at position 11"), "{m}");
        assert!(m.contains("nested names"), "{m}");
    }

    #[test]
    fn parse_errors_misc() {
        let cases = [
            ("$a", "unexpected 'a' at position 2 (expected '.' or '[')"),
            ("$.", "unexpected end at position 3 (expected a member name"),
            ("$[]", "unexpected ']' at position 3"),
            (
                "$[1",
                "unexpected end at position 4 (expected ':', ',' or ']')",
            ),
            (
                "$[1,]",
                "unexpected ']' at position 5 (expected an index or a slice)",
            ),
            ("$[-]", "unexpected ']' at position 4 (expected a digit)"),
            ("$[*,1]", "unexpected ',' at position 4 (expected ']')"),
            (
                "$['a',1]",
                "unexpected '1' at position 7 (expected a quoted name)",
            ),
            (
                "$[0,'a']",
                "unexpected ''' at position 5 (expected an index or a slice)",
            ),
            ("$.a b", "unexpected ' ' at position 4"),
            (
                "$[1:2:3]",
                "unexpected ':' at position 6 (expected ',' or ']')",
            ),
            ("$.a(", "script expressions are not supported"),
            (
                "$[99999999999999999999]",
                "index 99999999999999999999 at position 3 is too large",
            ),
        ];
        for (path, expected) in cases {
            let m = parse_err(path);
            assert!(m.contains(expected), "{path}: {m}");
        }
    }

    // ---- select errors ----

    #[test]
    fn select_error_index_out_of_range() {
        let err = p("$[0,7]").select_indexes(4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JSONPath '$[0,7]': index 7 is outside the record of 4 fields"
        );
        let err = p("$[-5]").select_indexes(4).unwrap_err();
        assert!(
            err.message
                .contains("index -5 is outside the record of 4 fields")
        );
        let err = p("$[0]").select_indexes(0).unwrap_err();
        assert!(
            err.message
                .contains("index 0 is outside the record of 0 fields")
        );
        let m = sel_err("$[7]", &json!([1, 2, 3, 4]));
        assert!(
            m.ends_with("index 7 is outside the record of 4 elements"),
            "{m}"
        );
        let m = sel_err("$.features[0,3]", &json!({"features": [1]}));
        assert!(
            m.ends_with("index 3 is outside the array of 1 element at $.features"),
            "{m}"
        );
    }

    #[test]
    fn select_error_missing_member() {
        let m = sel_err("$.id", &json!({"features": []}));
        assert!(m.ends_with("the record has no member 'id'"), "{m}");
        let m = sel_err("$['id','SageMakerOutput']", &json!({"id": 1}));
        assert!(
            m.ends_with("the record has no member 'SageMakerOutput'"),
            "{m}"
        );
        let m = sel_err("$.a.b", &json!({"a": {"c": 1}}));
        assert!(m.ends_with("the object at $.a has no member 'b'"), "{m}");
        let m = sel_err("$[*].a", &json!([{"a": 1}, {"b": 2}]));
        assert!(m.ends_with("the object at $[1] has no member 'a'"), "{m}");
    }

    #[test]
    fn select_error_name_on_array() {
        let m = sel_err("$.features", &json!([1, 2]));
        assert!(
            m.ends_with(
                "cannot apply '.features' to the record, which is an array \
                 (member names apply to objects)"
            ),
            "{m}"
        );
        let m = sel_err("$.a['x','y']", &json!({"a": [1]}));
        assert!(
            m.ends_with(
                "cannot apply '['x','y']' to the array at $.a (member names apply to objects)"
            ),
            "{m}"
        );
    }

    #[test]
    fn select_error_index_or_wildcard_on_wrong_type() {
        let m = sel_err("$[0]", &json!({"a": 1}));
        assert!(
            m.ends_with(
                "cannot apply '[0]' to the record, which is an object (indexes apply to arrays)"
            ),
            "{m}"
        );
        let m = sel_err("$.a[*]", &json!({"a": "text"}));
        assert!(
            m.ends_with(
                "cannot apply '[*]' to the string at $.a (a wildcard applies to arrays and objects)"
            ),
            "{m}"
        );
        let m = sel_err("$[0][0]", &json!([5]));
        assert!(
            m.contains("cannot apply '[0]' to the number at $[0]"),
            "{m}"
        );
    }

    #[test]
    fn select_indexes_rejects_names_and_nesting() {
        let err = p("$.features").select_indexes(3).unwrap_err();
        assert!(
            err.message
                .starts_with("JSONPath '$.features': '.features' selects a member by name"),
            "{err}"
        );
        let err = p("$['a','b']").select_indexes(3).unwrap_err();
        assert!(
            err.message.contains("a CSV row is a list of fields"),
            "{err}"
        );
        let path = p("$[1:][0]");
        assert!(path.is_index_only());
        let err = path.select_indexes(3).unwrap_err();
        assert!(
            err.message
                .contains("'[0]' after '[1:]' would select inside a field"),
            "{err}"
        );
    }
}
