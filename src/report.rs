//! What `apigw-doctor diagnose` prints for one input: one block (text) or one JSON object per reported request,
//! and its warnings; in the library so that the benchmark times the binary's own path.

use std::io::Write;

use crate::diagnose::finding::{Confidence, Finding};
use crate::diagnose::{Cause, Findings};
use crate::input::{ReadOptions, diagnose_input_each, nothing_recognised_hint};
use crate::publish::fix::{Target, exact_fix};

/// How `diagnose` prints: text for people, JSON lines for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `s` after a count that is not one.
pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What one input's report said, for the exit status.
pub struct Printed {
    /// Problems reported (5xx or a failure cause).
    pub problems: usize,
    /// Some records of the input could not be read.
    pub records_failed: bool,
}

/// Prints what one input gave (text or JSON lines) on `out`, and its warnings on `warn`.
pub fn print_found(
    out: &mut impl Write,
    warn: &mut impl Write,
    name: &str,
    mut found: Findings,
    all: bool,
    format: Format,
    colour: bool,
) -> std::io::Result<Printed> {
    let mut tally = Tally::default();
    let shown: Vec<Finding> = std::mem::take(&mut found.findings)
        .into_iter()
        .filter(|f| tally.take(f, all))
        .collect();
    let report = Report::start(out, warn, name, &found, tally, all, format, colour)?;
    for finding in shown {
        report.finding(out, finding)?;
    }
    report.end(out)
}

/// Whether `f` is printed: every finding with `all`, else the problems.
fn printed(f: &Finding, all: bool) -> bool {
    all || f.is_problem()
}

/// What a report prints, counted as the findings come: the head line's count, and whether any is quoted.
#[derive(Default, Clone, Copy)]
struct Tally {
    problems: usize,
    quoted: bool,
}

impl Tally {
    /// Counts `f` when it is printed; says whether it is.
    fn take(&mut self, f: &Finding, all: bool) -> bool {
        if !printed(f, all) {
            return false;
        }
        self.problems += usize::from(f.is_problem());
        self.quoted |= f.confidence == Confidence::Quoted;
        true
    }
}

/// One input's report, printed a finding at a time: its warnings and head first (from the counts, so that the
/// findings need not be held to count them), then each finding as it comes.
struct Report {
    format: Format,
    colour: bool,
    problems: usize,
    records_failed: bool,
}

impl Report {
    /// The warnings (on `warn`) and, as text, the head line `NAME: P problems in N requests`. `counts` is what the
    /// input gave (its findings are not read); `tally` is of the findings that will be printed.
    #[allow(clippy::too_many_arguments)]
    fn start(
        out: &mut impl Write,
        warn: &mut impl Write,
        name: &str,
        counts: &Findings,
        Tally { problems, quoted }: Tally,
        all: bool,
        format: Format,
        colour: bool,
    ) -> std::io::Result<Report> {
        if counts.unread_access_log_lines > 0 {
            let _ = writeln!(
                warn,
                "apigw-doctor: {name}: {} access-log line{} in a CLF-like layout skipped: \
                 use a JSON access-log format (README, \"Access logs\")",
                counts.unread_access_log_lines,
                plural(counts.unread_access_log_lines)
            );
        }
        if counts.oversized_records > 0 {
            let _ = writeln!(
                warn,
                "apigw-doctor: {name}: {} JSON record{} past an access-log format's bounds (nested over {} levels, \
                 over {} fields, a key over {} bytes, or over {} KiB) skipped unread",
                counts.oversized_records,
                plural(counts.oversized_records),
                crate::requests::access::MAX_RECORD_DEPTH,
                crate::requests::access::MAX_RECORD_FIELDS,
                crate::requests::access::MAX_KEY_BYTES,
                crate::requests::access::MAX_RECORD_BYTES / 1024
            );
        }
        for failure in &counts.failed_records {
            let _ = writeln!(warn, "apigw-doctor: {name}: {failure}");
        }
        let incomplete = counts
            .by_cause
            .get(&Cause::Incomplete)
            .copied()
            .unwrap_or(0);
        if incomplete > 0 && !all {
            // Not a problem and not an all-clear: say so, so that "0 problems" is never read as healthy for them.
            let _ = writeln!(
                warn,
                "apigw-doctor: {name}: {incomplete} request{} with no final status in this input (it starts after or \
                 ends before it): not counted as problems; --all lists them",
                plural(incomplete)
            );
        }
        if quoted {
            let _ = writeln!(
                warn,
                "apigw-doctor: {name}: no log line as API Gateway writes it; the cause below is read from a sentence \
                 quoted inside other text (confidence: quoted): paste the log lines themselves to confirm"
            );
        }
        let report = Report {
            format,
            colour,
            problems,
            records_failed: !counts.failed_records.is_empty(),
        };
        if format == Format::Text {
            // Every request read, whether or not a finding was built for it.
            let total = counts.requests;
            writeln!(
                out,
                "{}: {problems} problem{} in {total} request{}",
                report.paint("1", name),
                plural(problems as u64),
                plural(total)
            )?;
        }
        Ok(report)
    }

    /// One finding, with the fix filled in from what it knows (only for what is printed).
    fn finding(&self, out: &mut impl Write, mut f: Finding) -> std::io::Result<()> {
        if f.is_problem() {
            f.advice = exact_fix(&Target::of_finding(&f));
        }
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut *out, &f).map_err(std::io::Error::other)?;
                writeln!(out)
            }
            Format::Text => self.write_text(out, &f),
        }
    }

    /// The end of the report: what it said, for the exit status.
    fn end(self, out: &mut impl Write) -> std::io::Result<Printed> {
        if self.format == Format::Text {
            writeln!(out)?;
        }
        Ok(Printed {
            problems: self.problems,
            records_failed: self.records_failed,
        })
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn write_text(&self, out: &mut impl Write, f: &Finding) -> std::io::Result<()> {
        let paint = |code: &str, text: &str| self.paint(code, text);
        let status = match (f.status, f.status_inferred) {
            (Some(s), false) => s.to_string(),
            (Some(s), true) => format!("{s}?"),
            (None, _) => "---".to_owned(),
        };
        let route = match (&f.method, &f.resource_path) {
            (Some(m), Some(p)) => format!("{m} {p}"),
            // A route named by its key alone (`$default`, `$connect`).
            (None, Some(key)) if !key.starts_with('/') => key.clone(),
            _ => "(route not logged)".to_owned(),
        };
        let api = match (&f.api_id, &f.stage) {
            (Some(a), Some(s)) => format!("{a}/{s}"),
            _ => "(api unknown)".to_owned(),
        };
        let code = if f.is_problem() { "31;1" } else { "32" };
        writeln!(
            out,
            "\n{}  {}  {route}  {api}  request {}",
            paint(code, &status),
            paint(code, f.cause.as_str()),
            f.request_id.as_deref().unwrap_or("(none)")
        )?;
        if !f.is_problem() {
            return Ok(());
        }
        writeln!(out, "  {}", f.summary)?;
        if let Some(line) = &f.quoted_line {
            writeln!(
                out,
                "  {} read from a sentence quoted in: {line}",
                paint("1", "Confidence: quoted,")
            )?;
        }
        if let Some(detail) = &f.detail {
            writeln!(out, "  {} {detail}", paint("1", "What is wrong:"))?;
        }
        if f.status_inferred {
            writeln!(
                out,
                "  (status not in the log; {status} is what this cause gives)",
                status = status.trim_end_matches('?')
            )?;
        }
        if let Some(arn) = &f.function_arn {
            writeln!(out, "  Function: {arn}")?;
        }
        if let Some(arn) = &f.authorizer_arn {
            writeln!(out, "  Authorizer function: {arn}")?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "  {}", paint("1", "Evidence:"))?;
            for line in &f.evidence {
                writeln!(out, "    {line}")?;
            }
        }
        writeln!(out, "  {} {}", paint("1", "Fix:"), f.advice)
    }
}

/// Findings held to print after the head line; past this many, the input is read a second time and each finding
/// is printed as it is built instead (#29: 46,000 failing requests held as owned findings are 50 MB).
pub const HELD_FINDINGS: usize = 1_000;

/// What one input's report gave, for the exit status.
pub struct Reported {
    pub printed: Printed,
    /// The input held no API Gateway log line (said on `warn`, with what was expected).
    pub recognised_nothing: bool,
}

/// `apigw-doctor diagnose` on one input: diagnoses `bytes` and prints the report on `out`, warnings on `warn`.
/// `Ok(None)`: the input could not be read (said on `warn`); `Err`: `out` is closed.
pub fn report_input(
    out: &mut impl Write,
    warn: &mut impl Write,
    name: &str,
    bytes: &[u8],
    options: &ReadOptions,
    format: Format,
    colour: bool,
) -> std::io::Result<Option<Reported>> {
    let all = options.all;
    let mut held = Vec::new();
    let (mut tally, mut overflowed) = (Tally::default(), false);
    let counted = diagnose_input_each(bytes, options, &mut |f| {
        if !tally.take(&f, all) {
            return;
        }
        if held.len() < HELD_FINDINGS {
            held.push(f);
        } else {
            overflowed = true;
        }
    });
    let counts = match counted {
        Ok(counts) => counts,
        Err(error) => {
            let _ = writeln!(warn, "apigw-doctor: {name}: {error}");
            return Ok(None);
        }
    };
    let recognised_nothing = counts.recognised_nothing();
    if recognised_nothing {
        // Never a silent "0 problems": that reads as healthy.
        let _ = writeln!(
            warn,
            "apigw-doctor: {name}: no API Gateway log line found: {}",
            nothing_recognised_hint(bytes)
        );
    }
    let report = Report::start(out, warn, name, &counts, tally, all, format, colour)?;
    if overflowed {
        // The same input read the same way gives the same findings, in the same order.
        drop(held);
        let mut written = Ok(());
        let _ = diagnose_input_each(bytes, options, &mut |f| {
            if written.is_ok() && printed(&f, all) {
                written = report.finding(out, f);
            }
        });
        written?;
    } else {
        for finding in held {
            report.finding(out, finding)?;
        }
    }
    Ok(Some(Reported {
        printed: report.end(out)?,
        recognised_nothing,
    }))
}
