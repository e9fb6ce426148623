//! The serving comparison: the Python stand-in against `sagemaker serve`, under keep-alive
//! HTTP load from `wrk` or the workspace's load generator.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

use sagemaker_test_support::http::HttpClient;
use sagemaker_test_support::load::{Load, post_request};
use serde_json::{Value, json};

use super::process::{output, start_server};
use super::report::median;
use super::{Binaries, ENDPOINT, OURS_START, Options, Paths, Results, STANDIN_START, WARMUP};

/// The headers of every request both sides get.
const CSV_HEADERS: [(&str, &str); 2] = [("Content-Type", "text/csv"), ("Accept", "text/csv")];

/// A free loopback port (racy by nature, but only this benchmark is starting servers).
pub(super) fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `http://host:port/path` → (address, path).
pub(super) fn split_url(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = host
        .parse()
        .map_err(|e| format!("{url}: host is not ip:port: {e}"))?;
    Ok((addr, format!("/{path}")))
}

/// One HTTP target of the load runs.
pub(super) struct Target {
    side: &'static str,
    url: String,
    addr: SocketAddr,
    path: String,
}

impl Target {
    fn new(side: &'static str, url: String) -> Result<Self, String> {
        let (addr, path) = split_url(&url)?;
        Ok(Target {
            side,
            url,
            addr,
            path,
        })
    }

    fn request(&self, body: &str) -> Vec<u8> {
        post_request(
            &self.addr.to_string(),
            &self.path,
            &CSV_HEADERS,
            body.as_bytes(),
        )
    }
}

pub(super) fn serving(
    paths: &Paths,
    bins: &Binaries,
    options: &Options,
    python: bool,
    use_wrk: bool,
    results: &mut Results,
) -> Result<(), String> {
    let artifact = paths.tmp.join("iris-logistic.tar.gz");
    let mut cmd = Command::new(&bins.compare);
    cmd.arg("artifact").arg(&paths.data).arg(&artifact);
    output(paths, "artifact", cmd)?;

    // Servers are dropped (stopped) when this function returns, on success or on error.
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    if python {
        let port = free_port()?;
        let mut cmd = Command::new("bash");
        cmd.arg(paths.anchor("serve_standin.sh"))
            .arg(&paths.data)
            .arg(port.to_string())
            .env("VENV", &paths.venv);
        let started = start_server(paths, "standin", "TERM", cmd, STANDIN_START, |line| {
            line.strip_prefix("READY ").map(|u| u.trim().to_string())
        });
        match started {
            Ok((server, base)) => {
                servers.push(server);
                let url = format!("{}/invocations", base.trim_end_matches('/'));
                println!("   stand-in: {url}");
                targets.push(Target::new("python", url)?);
            }
            // Our side is measured all the same.
            Err(e) => results.fail("serving, the stand-in", e),
        }
    }
    let serve_root = paths.tmp.join("serve-root");
    let _ = std::fs::remove_dir_all(&serve_root);
    let mut cmd = Command::new(&bins.sagemaker);
    cmd.arg("serve")
        .arg(&artifact)
        .arg("--root")
        .arg(&serve_root)
        .args(["--name", ENDPOINT, "--port", "0"]);
    let (server, url) = start_server(paths, "sagemaker-serve", "INT", cmd, OURS_START, |line| {
        line.trim()
            .strip_prefix("Invocations:")
            .map(|u| u.trim().to_string())
    })?;
    servers.push(server);
    println!("   ours:     {url}");
    targets.push(Target::new("rust", url)?);

    let bodies: BTreeMap<&str, String> = ["row1", "rows100"]
        .into_iter()
        .map(|name| {
            let path = paths.data.join(format!("{name}.csv"));
            std::fs::read_to_string(&path)
                .map(|b| (name, b))
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut checked = Vec::new();
    for t in targets {
        match sample(&t, &bodies["row1"]) {
            Ok(answer) => {
                println!("   {} answers row1 with {answer}", t.side);
                checked.push(t);
            }
            Err(e) => results.fail(&format!("serving, {}", t.side), e),
        }
    }
    let targets = checked;

    let scenarios = [("row1", 16usize), ("rows100", 16), ("row1", 1)];
    let duration = options.load_seconds();
    for (body_name, conns) in scenarios {
        let body = &bodies[body_name];
        for run in 1..=options.runs {
            for t in &targets {
                let r = if use_wrk {
                    wrk(paths, t, body, conns, duration)?
                } else {
                    builtin_load(t, body, conns, duration)
                };
                println!(
                    "   {body_name} × {conns} conns, run {run}/{}, {:<6}: {:>9.0} req/s, \
                     p50 {:.3} ms, p99 {:.3} ms, {} errors",
                    options.runs, t.side, r.rps, r.p50_ms, r.p99_ms, r.errors
                );
                results.serving.push(json!({
                    "side": t.side, "url": t.url, "body": body_name, "connections": conns,
                    "run": run, "seconds": duration.as_secs_f64(),
                    "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors,
                }));
            }
        }
    }
    for mut s in servers {
        s.stop();
    }
    Ok(())
}

/// One request on a fresh connection: the status and the start of the body.
pub(super) fn sample(target: &Target, body: &str) -> Result<String, String> {
    let r = HttpClient::new(target.addr.to_string())
        .try_post_blocking(&target.path, &CSV_HEADERS, body.as_bytes())
        .map_err(|e| format!("{} at {}: {e}", target.side, target.url))?;
    let text = r.text();
    if !(200..300).contains(&r.status) {
        return Err(format!(
            "{} answered HTTP {} to one row: {text:?}",
            target.side, r.status
        ));
    }
    Ok(format!("HTTP {} {:?}", r.status, text.trim()))
}

/// One load run's figures.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoadFigures {
    pub(super) rps: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) errors: u64,
}

/// The shared load generator: one OS thread, one task per keep-alive connection, `WARMUP`
/// then `duration` recorded.
pub(super) fn builtin_load(
    target: &Target,
    body: &str,
    conns: usize,
    duration: Duration,
) -> LoadFigures {
    let r = Load::new(target.addr, target.request(body))
        .connections(conns)
        .warmup(WARMUP)
        .duration(duration)
        .run();
    LoadFigures {
        rps: r.rps(),
        p50_ms: r.p50_ms(),
        p99_ms: r.p99_ms(),
        errors: r.errors,
    }
}

/// A Lua string literal.
pub(super) fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A wrk duration (`166.00us`, `3.25ms`, `1.02s`, `1.50m`) in milliseconds.
pub(super) fn wrk_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => n / 1e3,
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => return None,
    })
}

/// Parses `wrk --latency` output.
pub(super) fn parse_wrk(text: &str) -> Result<LoadFigures, String> {
    let mut load = LoadFigures {
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => load.rps = n.parse().unwrap_or(f64::NAN),
            ["50%", t] => load.p50_ms = wrk_ms(t).unwrap_or(f64::NAN),
            ["99%", t] => load.p99_ms = wrk_ms(t).unwrap_or(f64::NAN),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    if load.rps.is_nan() {
        return Err(format!("no Requests/sec in wrk's output:\n{text}"));
    }
    Ok(load)
}

/// `wrk -t1 -c{conns}`: a `WARMUP` run (discarded), then a `duration` run.
pub(super) fn wrk(
    paths: &Paths,
    target: &Target,
    body: &str,
    conns: usize,
    duration: Duration,
) -> Result<LoadFigures, String> {
    let script = paths.tmp.join(format!("post-{}.lua", body.len()));
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = {}\nwrk.headers[\"Content-Type\"] = \"text/csv\"\n\
             wrk.headers[\"Accept\"] = \"text/csv\"\n",
            lua_string(body)
        ),
    )
    .map_err(|e| format!("{}: {e}", script.display()))?;
    let run = |seconds: u64| {
        let mut cmd = Command::new("wrk");
        cmd.args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(&target.url);
        output(paths, "wrk", cmd)
    };
    run(WARMUP.as_secs().max(1))?;
    parse_wrk(&run(duration.as_secs())?)
}

pub(super) fn serving_medians(runs: &[Value]) -> Vec<Value> {
    let mut groups: BTreeMap<(String, u64, String), Vec<&Value>> = BTreeMap::new();
    for r in runs {
        let key = (
            r["body"].as_str().unwrap_or_default().to_string(),
            r["connections"].as_u64().unwrap_or(0),
            r["side"].as_str().unwrap_or_default().to_string(),
        );
        groups.entry(key).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((body, conns, side), rows)| {
            let mut m =
                json!({"side": side, "body": body, "connections": conns, "runs": rows.len()});
            for field in ["rps", "p50_ms", "p99_ms"] {
                if let Some(x) = median(rows.iter().filter_map(|r| r[field].as_f64())) {
                    m[field] = json!(x);
                }
            }
            m["errors"] = json!(
                rows.iter()
                    .filter_map(|r| r["errors"].as_u64())
                    .sum::<u64>()
            );
            m
        })
        .collect()
}
