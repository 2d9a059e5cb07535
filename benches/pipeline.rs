//! The hot path, measured: raw subscription event bytes → alerts, and each stage on its own, on deterministic
//! synthetic deliveries of three sizes. Compared with inflate alone (flate2 as the project builds it, and
//! libdeflate, the fastest inflate available) on the same payload.
//!
//! `cargo bench --bench pipeline`                       timing table (markdown) on stdout
//! `cargo bench --bench pipeline -- --write-events DIR` also writes the three events and their ground truth
//! `cargo bench --bench pipeline -- --memory FILE`      peak memory growth (VmHWM) of one end-to-end run
//! `cargo bench --bench pipeline -- --shipped`          the invocation as shipped and the CLI, on the three
//!                                                      deliveries and the costly shapes, as ratios to inflate
//!
//! Under `cargo test` (no `--bench` argument) only the ground truth is checked; no timing is run.
//!
//! Correctness is not traded: every run checks the counts per cause against the generator's ground truth and
//! exits non-zero on a difference. No timing is asserted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/shapes.rs"]
mod shapes;
#[path = "support/synth.rs"]
mod synth;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apigw_doctor::alert::Plan;
use apigw_doctor::diagnose::classify::Cause;
use apigw_doctor::diagnose::finding::{Findings, Origin, find_escaped};
use apigw_doctor::ingest::{self, DEFAULT_MAX_INFLATED_BYTES};
use apigw_doctor::input::ReadOptions;
use apigw_doctor::lambda::config::Config;
use apigw_doctor::lambda::metrics::Metrics;
use apigw_doctor::lambda::{Handler, plan_batch};
use apigw_doctor::publish::render::Message;
use apigw_doctor::publish::sns::{PublishError, Publisher};
use apigw_doctor::remediate::Disabled;
use apigw_doctor::suppress::NoSuppression;
use base64::Engine as _;
use synth::{GroundTruth, Shape, generate};

/// Lambda's asynchronous invocation payload limit.
const ASYNC_PAYLOAD_LIMIT: usize = 1024 * 1024;

struct Delivery {
    name: &'static str,
    event: Vec<u8>,
    truth: GroundTruth,
    lines: usize,
    inflated_len: usize,
    compressed_len: usize,
}

fn delivery(name: &'static str, lines: usize) -> Delivery {
    let (batch, truth) = generate(Shape {
        lines,
        failures_per_mille: 50,
        seed: 42,
    });
    from_batch(name, &batch, truth)
}

fn from_batch(
    name: &'static str,
    batch: &apigw_doctor::ingest::Batch<'_>,
    truth: GroundTruth,
) -> Delivery {
    let event = ingest::encode(batch).unwrap();
    let json = ingest::decode(&event, DEFAULT_MAX_INFLATED_BYTES).unwrap();
    let compressed_len = base64::engine::general_purpose::STANDARD
        .decode(ingest::envelope_data(&event).unwrap().as_bytes())
        .unwrap()
        .len();
    Delivery {
        name,
        lines: batch.log_events.len(),
        inflated_len: json.len(),
        compressed_len,
        event,
        truth,
    }
}

/// The largest delivery whose event fits the asynchronous payload limit (binary search on lines).
fn largest() -> Delivery {
    let (mut low, mut high) = (1_000usize, 60_000usize);
    while high - low > 250 {
        let mid = (low + high) / 2;
        if delivery("largest", mid).event.len() <= ASYNC_PAYLOAD_LIMIT {
            low = mid;
        } else {
            high = mid;
        }
    }
    delivery("largest (1 MB event)", low)
}

/// Everything the Lambda does before publishing: the product's hot path.
/// Exactly the handler's pure part (`handler::plan_batch`), after the same decode steps.
fn end_to_end(event: &[u8]) -> (Findings, Plan) {
    let data = ingest::envelope_data(event).unwrap();
    let json = ingest::inflate(&data, DEFAULT_MAX_INFLATED_BYTES).unwrap();
    let batch = ingest::parse_raw_batch(&json).unwrap();
    plan_batch(&batch, &Config::default())
}

/// Publishes nothing, but builds the request body SNS would get (`MessageStructure=json`).
struct NoopPublisher;

impl Publisher for NoopPublisher {
    async fn publish(&self, message: &Message) -> Result<String, PublishError> {
        Ok(black_box(message.structured()).len().to_string())
    }
}

/// The invocation as shipped: lambda_runtime's read of the payload (a `Box<RawValue>`, validated JSON), then the
/// handler (decode, reassemble, classify, group, render) publishing to a no-op publisher, on a current-thread
/// runtime as in `bootstrap`.
fn shipped(runtime: &tokio::runtime::Runtime, config: &Config, event: &[u8]) -> u64 {
    let payload: Box<serde_json::value::RawValue> = serde_json::from_slice(event).unwrap();
    let handler = Handler::new(config, &NoopPublisher, &Disabled, &NoSuppression);
    let mut metrics = Metrics::default();
    runtime
        .block_on(handler.payload(payload.get().as_bytes(), &mut metrics))
        .unwrap();
    metrics.alerts_sent
}

/// `apigw-doctor diagnose EVENT` as the CLI runs it: every request read, the problems written as JSON lines.
fn cli(event: &[u8]) -> usize {
    // What `apigw-doctor diagnose --format json` runs for one input, printing into memory.
    let (mut out, mut warn) = (Vec::new(), Vec::new());
    apigw_doctor::report::report_input(
        &mut out,
        &mut warn,
        "delivery",
        event,
        &ReadOptions::default(),
        apigw_doctor::report::Format::Json,
        false,
    )
    .unwrap()
    .unwrap();
    out.len()
}

/// A delivery of one of [`shapes`], with no ground truth beyond its own reading; it must fit Lambda's payload.
fn shaped(name: &'static str, batch: apigw_doctor::ingest::Batch<'static>) -> Delivery {
    let d = from_batch(name, &batch, GroundTruth::new());
    assert!(
        d.event.len() <= ASYNC_PAYLOAD_LIMIT,
        "{name}: {} bytes",
        d.event.len()
    );
    d
}

/// Times the shipped invocation and the CLI on each delivery, each as a ratio to libdeflate's inflate of the same
/// payload measured in the same run (interleaved: inflate, shipped, CLI, repeated), and the cost per inflated byte
/// relative to the largest realistic delivery's.
/// `handler_only`: the CLI is not run (its column reads 0), so that a profile of the run shows the handler alone.
/// `rounds`: exactly that many rounds instead of a time budget (for `perf stat`, whose instruction counts are
/// steadier than this VM's clock).
fn shipped_table(deliveries: &[Delivery], handler_only: bool, rounds: Option<usize>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let config = Config {
        alert_topic_arn: Some("arn:aws:sns:us-east-1:123456789012:apigw-doctor".into()),
        ..Config::default()
    };
    println!(
        "\n| delivery | lines | JSON | inflate (libdeflate) | inflate, kept buffer | shipped: handler | CLI: diagnose | shipped vs inflate | vs inflate, kept buffer | CLI vs shipped | ns per JSON byte (shipped) | per byte vs the 1 MB delivery |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut reference_per_byte = None;
    for d in deliveries {
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(ingest::envelope_data(&d.event).unwrap().as_bytes())
            .unwrap();
        let mut samples: [Vec<Duration>; 4] = Default::default();
        // The same inflate into a buffer kept from round to round (no allocation, no page faults), as the
        // handler's own inflate does after its first delivery: the stricter floor.
        let mut kept = vec![0u8; d.inflated_len];
        let started = Instant::now();
        while match rounds {
            Some(n) => samples[0].len() < n,
            None => samples[0].len() < 15 || started.elapsed() < Duration::from_secs(3),
        } {
            let t = Instant::now();
            let mut dec = libdeflater::Decompressor::new();
            let mut out = vec![0u8; d.inflated_len];
            black_box(dec.gzip_decompress(&compressed, &mut out).unwrap());
            samples[0].push(t.elapsed());
            let t = Instant::now();
            black_box(shipped(&runtime, &config, &d.event));
            samples[1].push(t.elapsed());
            let t = Instant::now();
            if !handler_only {
                black_box(cli(&d.event));
            }
            samples[2].push(t.elapsed());
            let t = Instant::now();
            let mut dec = libdeflater::Decompressor::new();
            black_box(dec.gzip_decompress(&compressed, &mut kept).unwrap());
            samples[3].push(t.elapsed());
            if samples[0].len() >= 2_000 {
                break;
            }
        }
        let [inflate, handler, cli, inflate_kept] = samples.map(|mut s| {
            s.sort();
            let median = s[s.len() / 2];
            let (p10, p90) = (s[s.len() / 10], s[s.len() * 9 / 10]);
            (median, p10, p90)
        });
        let per_byte = handler.0.as_nanos() as f64 / d.inflated_len as f64;
        if d.name.starts_with("largest") {
            reference_per_byte = Some(per_byte);
        }
        let ms = |x: (Duration, Duration, Duration)| {
            format!(
                "{:.2} ms ({:.2}–{:.2})",
                x.0.as_secs_f64() * 1e3,
                x.1.as_secs_f64() * 1e3,
                x.2.as_secs_f64() * 1e3
            )
        };
        println!(
            "| {} | {} | {:.2} MB | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            d.name,
            d.lines,
            d.inflated_len as f64 / 1e6,
            ms(inflate),
            ms(inflate_kept),
            ms(handler),
            ms(cli),
            inflate.0.as_secs_f64() / handler.0.as_secs_f64(),
            inflate_kept.0.as_secs_f64() / handler.0.as_secs_f64(),
            cli.0.as_secs_f64() / handler.0.as_secs_f64(),
            per_byte,
            reference_per_byte.map_or("-".to_owned(), |r| format!("{:.2}×", per_byte / r)),
        );
    }
    println!(
        "\n(median, p10–p90 in brackets; \"shipped vs inflate\": libdeflate's inflate time (a fresh output buffer each time, as the issue measured it) divided by the handler's, 1.00 = as fast as inflating alone; \"vs inflate, kept buffer\": the same with the output buffer kept between rounds, the stricter floor; \"CLI vs shipped\": the CLI's time divided by the handler's.)"
    );
}

fn check(d: &Delivery) {
    let (found, plan) = end_to_end(&d.event);
    if found.by_cause != d.truth {
        eprintln!("{}: counts per cause differ from the ground truth", d.name);
        eprintln!("  engine: {:?}\n  truth:  {:?}", found.by_cause, d.truth);
        std::process::exit(1);
    }
    let failing = d.truth.keys().any(|c| c.is_failure());
    assert_eq!(
        failing,
        !plan.alerts.is_empty(),
        "{}: alerts do not match failures",
        d.name
    );
}

/// Runs `f` until `budget` has passed (at least `min_runs`), returns (median, min).
fn measure<T>(min_runs: usize, budget: Duration, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    black_box(f()); // warm-up
    let started = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < min_runs || started.elapsed() < budget {
        let t = Instant::now();
        black_box(f());
        samples.push(t.elapsed());
        if samples.len() >= 10_000 {
            break;
        }
    }
    samples.sort();
    (samples[samples.len() / 2], samples[0])
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

/// Prints the table and returns the end-to-end medians (ms), by delivery.
fn table(deliveries: &[Delivery]) -> Vec<f64> {
    let mut e2e = Vec::new();
    println!(
        "| delivery | lines | event | gzip | JSON | stage | median | min | MB/s (JSON) | ns/line | vs libdeflate inflate |"
    );
    println!("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    for d in deliveries {
        let data = ingest::envelope_data(&d.event).unwrap().into_owned();
        let compressed = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .unwrap();
        let json = ingest::gunzip(&compressed, DEFAULT_MAX_INFLATED_BYTES).unwrap();
        let budget = Duration::from_secs(2);
        let runs = 20;
        let libdeflate = measure(runs, budget, || {
            let mut d = libdeflater::Decompressor::new();
            let mut out = vec![0u8; json.len()];
            d.gzip_decompress(&compressed, &mut out).unwrap()
        });
        let stages: Vec<(&str, (Duration, Duration))> = vec![
            (
                "base64 (envelope + decode)",
                measure(runs, budget, || {
                    let data = ingest::envelope_data(&d.event).unwrap();
                    ingest::base64_decode(&data).unwrap()
                }),
            ),
            (
                "inflate: flate2 streaming (fallback)",
                measure(runs, budget, || {
                    ingest::gunzip_streaming(&compressed, DEFAULT_MAX_INFLATED_BYTES).unwrap()
                }),
            ),
            (
                "inflate: ours (libdeflate one-shot)",
                measure(runs, budget, || {
                    ingest::gunzip(&compressed, DEFAULT_MAX_INFLATED_BYTES).unwrap()
                }),
            ),
            ("inflate: libdeflate (reference)", libdeflate),
            (
                "JSON parse (owned, unescaped: the old path)",
                measure(runs, budget, || {
                    ingest::parse_batch(&json).unwrap().log_events.len()
                }),
            ),
            (
                "JSON parse (serde_json RawValue, borrowed, escaped: the fallback)",
                measure(runs, budget, || {
                    ingest::parse_raw_batch_with_serde(&json)
                        .unwrap()
                        .log_events
                        .len()
                }),
            ),
            (
                "JSON parse (ours: scanner, borrowed, escaped)",
                measure(runs, budget, || {
                    ingest::parse_raw_batch(&json).unwrap().log_events.len()
                }),
            ),
            (
                // Everything before the first line is reassembled, as the handler does it (the buffer kept between
                // deliveries): the floor of a design that validates the whole delivery.
                "event → batch (envelope, base64, inflate, scan; no per-line work)",
                measure(runs, budget, || {
                    let data = ingest::plain_envelope(&d.event).unwrap();
                    let json = ingest::inflate(data, DEFAULT_MAX_INFLATED_BYTES).unwrap();
                    let events = ingest::parse_raw_batch(&json).unwrap().log_events.len();
                    ingest::recycle(json);
                    events
                }),
            ),
            (
                "JSON + reassemble + classify",
                measure(runs, budget, || {
                    let batch = ingest::parse_raw_batch(&json).unwrap();
                    let origin = Origin::new(&batch.owner, &batch.log_group, &batch.log_stream);
                    find_escaped(
                        &origin,
                        batch
                            .log_events
                            .iter()
                            .map(|e| (Some(e.timestamp), e.message.escaped())),
                        false,
                    )
                    .requests
                }),
            ),
            (
                "end to end (event bytes → alerts)",
                measure(runs, budget, || end_to_end(&d.event).1.alerts.len()),
            ),
        ];
        e2e.push(
            stages
                .last()
                .map_or(0.0, |(_, (m, _))| m.as_secs_f64() * 1e3),
        );
        for (stage, (median, min)) in stages {
            println!(
                "| {} | {} | {:.0} KB | {:.0} KB | {:.2} MB | {stage} | {:.2} ms | {:.2} ms | {:.0} | {:.0} | {:.2} |",
                d.name,
                d.lines,
                d.event.len() as f64 / 1024.0,
                d.compressed_len as f64 / 1024.0,
                d.inflated_len as f64 / 1e6,
                median.as_secs_f64() * 1e3,
                min.as_secs_f64() * 1e3,
                mb_per_s(d.inflated_len, median),
                median.as_nanos() as f64 / d.lines as f64,
                libdeflate.0.as_secs_f64() / median.as_secs_f64(),
            );
        }
    }
    println!(
        "\n(\"JSON + reassemble + classify\" includes the borrowed JSON parse; the last column is libdeflate's inflate time divided by the stage's: 1.00 = as fast as inflating alone.)"
    );
    e2e
}

fn write_events(dir: &Path, deliveries: &[Delivery]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, d) in deliveries.iter().enumerate() {
        let stem = ["small", "medium", "largest"][i.min(2)];
        std::fs::write(dir.join(format!("{stem}.json")), &d.event).unwrap();
        let truth: serde_json::Map<String, serde_json::Value> = d
            .truth
            .iter()
            .map(|(c, n)| (c.as_str().to_owned(), (*n).into()))
            .collect();
        std::fs::write(
            dir.join(format!("{stem}.truth.json")),
            serde_json::json!({"lines": d.lines, "inflated_bytes": d.inflated_len, "causes": truth}).to_string(),
        )
        .unwrap();
    }
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Peak memory growth of one end-to-end run on an event read from a file: VmHWM after, minus VmRSS before.
fn memory(file: &Path) {
    let event = std::fs::read(file).unwrap();
    let before = status_kb("VmRSS:");
    let (found, plan) = end_to_end(&event);
    let peak = status_kb("VmHWM:");
    let inflated = ingest::decode(&event, DEFAULT_MAX_INFLATED_BYTES)
        .unwrap()
        .len();
    let growth = peak.saturating_sub(before) * 1024;
    println!(
        "{}: inflated JSON {:.2} MB, baseline RSS {:.1} MB, peak (VmHWM) {:.1} MB, growth {:.2} MB = {:.2} x the JSON; {} requests, {} alerts",
        file.display(),
        inflated as f64 / 1e6,
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        growth as f64 / 1e6,
        growth as f64 / inflated as f64,
        found.requests,
        plan.alerts.len()
    );
    black_box(&found.by_cause.get(&Cause::Ok));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    if let Some(file) = value_of("--memory") {
        memory(&file);
        return;
    }
    let deliveries = vec![
        delivery("500 lines", 500),
        delivery("10,000 lines", 10_000),
        largest(),
    ];
    for d in &deliveries {
        check(d);
    }
    eprintln!("ground truth checked: the counts per cause match on every delivery");
    if let Some(dir) = value_of("--write-events") {
        write_events(&dir, &deliveries);
        eprintln!("events written to {}", dir.display());
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this too, unoptimised, where only the
    // ground-truth check is worth its time.
    let timing = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--no-timing");
    // The shapes must read as what they are, timed or not.
    let mut shaped_deliveries = vec![
        shaped(
            "escaped 256 KB bodies, healthy",
            shapes::escaped_bodies(28, false),
        ),
        shaped(
            "escaped 256 KB bodies, malformed proxy",
            shapes::escaped_bodies(28, true),
        ),
        shaped(
            "distinct failing requests",
            shapes::distinct_failures(15_700),
        ),
        shaped("one giant request", shapes::giant_request(17_000)),
        shaped("tiny events", shapes::tiny_events(50_000)),
        shaped(
            "escaped bodies cut short, malformed proxy",
            shapes::cut_bodies(28),
        ),
        shaped(
            "failing access-log records",
            shapes::failing_access_records(28_000),
        ),
        shaped(
            "every line a failing request",
            shapes::every_line_failing(40_000),
        ),
        shaped(
            "every line its own request id",
            shapes::every_line_own_id(40_000),
        ),
    ];
    for d in &shaped_deliveries {
        let (found, _) = end_to_end(&d.event);
        let want = match d.name {
            n if n.ends_with("healthy") => (Cause::Ok, 28),
            n if n.ends_with("malformed proxy") => (Cause::MalformedProxyResponse, 28),
            n if n.starts_with("distinct") => (Cause::FunctionError, 15_700),
            n if n.starts_with("one giant") => (Cause::Ok, 1),
            n if n.starts_with("failing access") => (Cause::FunctionTimeout, 28_000),
            n if n.starts_with("every line a failing") => (Cause::FunctionError, 40_000),
            // Of six lines, the success and status lines each end a request (the three before the method line
            // open none: nothing to diagnose).
            n if n.starts_with("every line its own") => (Cause::Ok, 13_332),
            _ => (Cause::Ok, 0),
        };
        let got = found.by_cause.get(&want.0).copied().unwrap_or(0);
        if got != want.1 {
            eprintln!("{}: {got} {}, want {}", d.name, want.0, want.1);
            std::process::exit(1);
        }
    }
    if args.iter().any(|a| a == "--shipped") {
        let mut all: Vec<Delivery> = deliveries;
        all.append(&mut shaped_deliveries);
        // `--only NAME`: the deliveries whose name contains NAME (to profile one shape).
        if let Some(only) = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
        {
            all.retain(|d| d.name.contains(only.as_str()));
        }
        let rounds = value_of("--rounds")
            .and_then(|n| n.to_str()?.parse().ok())
            .filter(|&n: &usize| n > 0);
        shipped_table(&all, args.iter().any(|a| a == "--handler-only"), rounds);
        return;
    }
    if timing {
        let e2e = table(&deliveries);
        if let Some(dir) = value_of("--write-events") {
            let medians: serde_json::Map<String, serde_json::Value> =
                ["small", "medium", "largest"]
                    .iter()
                    .zip(&e2e)
                    .map(|(stem, ms)| ((*stem).to_owned(), (*ms).into()))
                    .collect();
            std::fs::write(
                dir.join("rust-e2e.json"),
                serde_json::Value::Object(medians).to_string(),
            )
            .unwrap();
        }
    }
}
