//! Property-based fuzzing of the parsers that read outside input: the CSV, JSON, JSON Lines
//! and NPY response decoders, the JSONPath filters and the model-artifact (tar.gz) extractor.
//!
//! Each target feeds random and mutated inputs and asserts that the parser never panics and
//! that a rejection is a typed error (never `ErrorKind::Internal`); the extractor must also
//! leave nothing at its destination when it refuses. `cargo test` runs 2 000 cases per
//! target; `SAGEMAKER_FUZZ_CASES=100000 cargo test --release -p sagemaker-predictor --test fuzz`
//! runs the long campaign (figures in `docs/reliability.md`). A failure prints the seed that
//! reproduces it: `SAGEMAKER_FUZZ_SEED=<seed>` replays that case first.

use std::panic::{AssertUnwindSafe, catch_unwind};

use sagemaker_core::jsonpath::JsonPath;
use sagemaker_core::{ErrorKind, artifact};
use sagemaker_predictor::codecs::{write_npy_f64, write_npy_strings};
use sagemaker_predictor::{
    CsvDeserializer, Deserializer, JsonDeserializer, JsonLinesDeserializer, NumpyDeserializer,
};

/// SplitMix64: small, fast and reproducible from one seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `len` bytes drawn from `alphabet`.
    fn text(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }

    /// `seed` with a few random edits: flipped bits, inserted or deleted bytes, a cut.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(4) {
                0 if !out.is_empty() => {
                    let i = at.min(out.len() - 1);
                    out[i] ^= 1 << self.below(8);
                }
                1 => out.insert(at, self.next() as u8),
                2 if at < out.len() => {
                    out.remove(at);
                }
                _ => out.truncate(at),
            }
        }
        out
    }
}

fn cases() -> u64 {
    std::env::var("SAGEMAKER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// Runs `case` for every seed (a replayed one first), naming the seed of a panic.
fn fuzz(target: &str, case: impl Fn(&mut Rng)) {
    let replay = std::env::var("SAGEMAKER_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let salt = target
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    for seed in replay.into_iter().chain((0..cases()).map(|i| i ^ salt)) {
        let outcome = catch_unwind(AssertUnwindSafe(|| case(&mut Rng(seed))));
        assert!(
            outcome.is_ok(),
            "{target}: case with SAGEMAKER_FUZZ_SEED={seed} panicked"
        );
    }
}

fn typed<T>(target: &str, r: sagemaker_core::Result<T>) {
    if let Err(e) = r {
        assert_ne!(e.kind(), ErrorKind::Internal, "{target}: {e}");
        assert!(!e.message().is_empty(), "{target}");
    }
}

const CSV_BYTES: &[u8] = b"0123456789.,-+eE\"\n\r ab\t\xff";
const JSON_BYTES: &[u8] = b"{}[]:,\"0123456789.-eE truefalsnu\\\n";

#[test]
fn csv_decoder() {
    fuzz("csv", |rng| {
        let len = rng.below(200);
        let body = rng.text(CSV_BYTES, len);
        typed("csv", CsvDeserializer.deserialize(&body, Some("text/csv")));
        let seed = b"1,\"a, \"\"b\"\"\",3.5\n2,c,-1e3\n";
        typed("csv", CsvDeserializer.deserialize(&rng.mutate(seed), None));
    });
}

#[test]
fn json_and_json_lines_decoders() {
    let json = JsonDeserializer::<serde_json::Value>::default();
    let lines = JsonLinesDeserializer::<serde_json::Value>::default();
    fuzz("json", |rng| {
        let len = rng.below(200);
        let body = rng.text(JSON_BYTES, len);
        typed("json", json.deserialize(&body, Some("application/json")));
        typed(
            "jsonl",
            lines.deserialize(&body, Some("application/jsonlines")),
        );
        let seed = br#"{"predictions": [0, 2.5, "x", null, {"a": [true]}]}
{"b": -1e-3}"#;
        let mutated = rng.mutate(seed);
        typed("json", json.deserialize(&mutated, None));
        typed("jsonl", lines.deserialize(&mutated, None));
    });
}

#[test]
fn npy_decoder() {
    let seeds = [
        write_npy_f64(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        write_npy_strings(&["setosa".into(), "virginica".into()]),
        write_npy_f64(&[0], &[]),
    ];
    fuzz("npy", |rng| {
        let seed = &seeds[rng.below(seeds.len())];
        typed(
            "npy",
            NumpyDeserializer.deserialize(&rng.mutate(seed), None),
        );
        // A header claiming a huge shape must be refused, not allocated.
        let text = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}\n",
            rng.next(),
            rng.next() % 1000
        );
        let mut huge = seed[..10].to_vec();
        huge[8..10].copy_from_slice(&(text.len() as u16).to_le_bytes());
        huge.extend_from_slice(text.as_bytes());
        typed("npy", NumpyDeserializer.deserialize(&huge, None));
    });
}

#[test]
fn jsonpath_filters() {
    const PATH_BYTES: &[u8] = b"$.[]*:'\",-0123456789abfeatures ";
    let records = [
        serde_json::json!([1, 2, 3, "x"]),
        serde_json::json!({"features": [1.5, 2], "id": "a", "b": {"c": null}}),
        serde_json::json!("scalar"),
    ];
    fuzz("jsonpath", |rng| {
        let mut path = b"$".to_vec();
        let len = rng.below(24);
        path.extend(rng.text(PATH_BYTES, len));
        let path = String::from_utf8_lossy(&path).into_owned();
        match JsonPath::parse(&path) {
            Ok(p) => {
                for record in &records {
                    // A selection may fail (a name on an array); it must not panic.
                    let _ = p.select_json(record);
                }
                let _ = p.select_indexes(rng.below(10));
            }
            Err(e) => assert_ne!(e.kind(), ErrorKind::Internal, "{path}: {e}"),
        }
    });
}

#[test]
fn artifact_extractor() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("model");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("model.json"), b"{\"weights\": [1, 2, 3]}").unwrap();
    std::fs::write(src.join("sub/vocab.txt"), vec![b'v'; 3000]).unwrap();
    // A name over 100 bytes, so the archive holds a GNU long-name record too.
    std::fs::write(src.join(format!("{}.bin", "long".repeat(40))), b"x").unwrap();
    let archive = dir.path().join("model.tar.gz");
    artifact::pack_dir(&src, &archive).unwrap();
    let packed = std::fs::read(&archive).unwrap();
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&packed[..]), &mut tar).unwrap();
    let limits = artifact::ExtractLimits {
        max_total_bytes: 1 << 20,
        max_entries: 64,
    };
    let n = std::sync::atomic::AtomicU64::new(0);
    fuzz("tar", |rng| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Mutate the tar stream under a valid gzip layer (reaching the tar parser) or the
        // compressed bytes themselves (reaching the gzip decoder).
        let bytes = if rng.below(4) == 0 {
            rng.mutate(&packed)
        } else {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut enc, &rng.mutate(&tar)).unwrap();
            enc.finish().unwrap()
        };
        let dest = dir.path().join(format!("out-{i}"));
        match artifact::extract_tar_gz(&bytes[..], &dest, limits) {
            Ok(summary) => {
                assert!(summary.bytes <= limits.max_total_bytes);
                std::fs::remove_dir_all(&dest).unwrap();
            }
            Err(e) => {
                assert_ne!(e.kind(), ErrorKind::Internal, "tar: {e}");
                assert!(!dest.exists(), "a refused archive left {}", dest.display());
            }
        }
    });
}
