//! What `diagnose` prints: one block (text) or one JSON object per reported request, and warnings on stderr.

use std::io::Write;

use apigw_doctor::diagnose::finding::{Confidence, Finding};
use apigw_doctor::diagnose::{Cause, Findings};
use apigw_doctor::publish::fix::{Target, exact_fix};

use crate::{Format, plural};

/// What one input's report said, for the exit status.
pub struct Printed {
    /// Problems reported (5xx or a failure cause).
    pub problems: usize,
    /// Some records of the input could not be read.
    pub records_failed: bool,
}

/// Prints what one input gave (text or JSON lines), and its warnings on stderr.
pub fn print_found(
    out: &mut impl Write,
    name: &str,
    found: Findings,
    all: bool,
    format: Format,
    colour: bool,
) -> std::io::Result<Printed> {
    if found.unread_access_log_lines > 0 {
        eprintln!(
            "apigw-doctor: {name}: {} access-log line{} in a CLF-like layout skipped: \
             use a JSON access-log format (README, \"Access logs\")",
            found.unread_access_log_lines,
            plural(found.unread_access_log_lines)
        );
    }
    if found.oversized_records > 0 {
        eprintln!(
            "apigw-doctor: {name}: {} JSON record{} past an access-log format's bounds (nested over {} levels, over {} \
             fields, a key over {} bytes, or over {} KiB) skipped unread",
            found.oversized_records,
            plural(found.oversized_records),
            apigw_doctor::requests::access::MAX_RECORD_DEPTH,
            apigw_doctor::requests::access::MAX_RECORD_FIELDS,
            apigw_doctor::requests::access::MAX_KEY_BYTES,
            apigw_doctor::requests::access::MAX_RECORD_BYTES / 1024
        );
    }
    for failure in &found.failed_records {
        eprintln!("apigw-doctor: {name}: {failure}");
    }
    let incomplete = found.by_cause.get(&Cause::Incomplete).copied().unwrap_or(0);
    if incomplete > 0 && !all {
        // Not a problem and not an all-clear: say so, so that "0 problems" is never read as healthy for them.
        eprintln!(
            "apigw-doctor: {name}: {incomplete} request{} with no final status in this input (it starts after or ends \
             before it): not counted as problems; --all lists them",
            plural(incomplete)
        );
    }
    let mut findings = found.findings;
    // Every request read, whether or not a finding was built for it.
    let total = usize::try_from(found.requests).unwrap_or(usize::MAX);
    findings.retain(|f| all || f.is_problem());
    // The fix with what each finding knows filled in: only for what is printed.
    for f in findings.iter_mut().filter(|f| f.is_problem()) {
        f.advice = exact_fix(&Target::of_finding(f));
    }
    if findings.iter().any(|f| f.confidence == Confidence::Quoted) {
        eprintln!(
            "apigw-doctor: {name}: no log line as API Gateway writes it; the cause below is read from a sentence \
             quoted inside other text (confidence: quoted): paste the log lines themselves to confirm"
        );
    }
    match format {
        Format::Json => findings.iter().try_for_each(|f| {
            serde_json::to_writer(&mut *out, f).map_err(std::io::Error::other)?;
            writeln!(out)
        })?,
        Format::Text => write_text(out, name, total, &findings, colour)?,
    }
    Ok(Printed {
        problems: findings.iter().filter(|f| f.is_problem()).count(),
        records_failed: !found.failed_records.is_empty(),
    })
}

fn write_text(
    out: &mut impl Write,
    name: &str,
    total: usize,
    shown: &[Finding],
    colour: bool,
) -> std::io::Result<()> {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let problems = shown.iter().filter(|f| f.is_problem()).count();
    writeln!(
        out,
        "{}: {problems} problem{} in {total} request{}",
        paint("1", name),
        if problems == 1 { "" } else { "s" },
        if total == 1 { "" } else { "s" }
    )?;
    for f in shown {
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
            continue;
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
        writeln!(out, "  {} {}", paint("1", "Fix:"), f.advice)?;
    }
    writeln!(out)
}
