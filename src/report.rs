//! What `apigw-doctor diagnose` prints for one input: one block (text) or one JSON object per reported request,
//! and its warnings; in the library so that the benchmark times the binary's own path.

use std::cmp::Reverse;
use std::io::Write;

use crate::alert::{Alert, Grouping, MAX_GROUPED};
use crate::diagnose::finding::Finding;
use crate::diagnose::{Cause, Findings};
use crate::input::{Found, ReadOptions, diagnose_input_each, nothing_recognised_hint};
use crate::publish::fix::{Target, exact_fix};
use crate::publish::render::iso;

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
    let mut shown = Shown::new(format, all);
    for finding in std::mem::take(&mut found.findings) {
        let finding = Found::Finding(finding);
        if tally.take(&finding, all) {
            shown.take(finding, tally.problems, usize::MAX);
        }
    }
    let report = Report::start(out, warn, name, &found, tally, all, format, colour)?;
    report.shown(out, shown)?;
    report.end(out)
}

/// Past this many problems, a text report prints one block per distinct problem (its cause, API and route, as
/// an alert groups them) with its count and sample requests, instead of one block per request: 35,000 blocks
/// are read by nobody, and filling in each one's fix cost 9 × what the function spends on the same log (#29).
/// `--all` and `--format json` still give every request.
pub const GROUP_PAST: usize = 100;

/// Distinct problems a grouped report prints as blocks; the next ones get a line each, and the rest are counted
/// per cause.
const GROUPED_BLOCKS: usize = 20;
const GROUPED_LINES: usize = 30;

/// Request ids quoted per distinct problem in a grouped report.
const GROUPED_SAMPLES: usize = 3;

/// The findings a report will print: held one by one, or, past [`GROUP_PAST`] problems in a text report
/// without `--all`, counted into their distinct problems.
struct Shown {
    /// Grouping is allowed: a text report of the problems only.
    group: bool,
    held: Vec<Finding>,
    grouping: Option<Grouping>,
}

impl Shown {
    fn new(format: Format, all: bool) -> Shown {
        Shown {
            group: format == Format::Text && !all,
            held: Vec::new(),
            grouping: None,
        }
    }

    /// Takes a printed request, `problems` being the count so far with it. `false`: not kept, because `hold`
    /// findings are held already (only without grouping; the caller reads the input again).
    fn take(&mut self, found: Found<'_>, problems: usize, hold: usize) -> bool {
        if self.grouping.is_none() && self.group && problems > GROUP_PAST {
            // No region: a fix's source ARN leaves it to fill in, as a request's does.
            let mut grouping = Grouping::with_cap("", GROUPED_SAMPLES, MAX_GROUPED);
            for held in self.held.drain(..) {
                grouping.add(&held);
            }
            self.grouping = Some(grouping);
        }
        match (self.grouping.as_mut(), found) {
            // A delivery's request is made a finding only when it opens a group, as on the Lambda's path.
            (Some(grouping), Found::Problem(problem)) => grouping.add_problem(problem),
            (Some(grouping), Found::Finding(finding)) => grouping.add(&finding),
            (None, found) if self.held.len() < hold => self.held.push(found.into_finding()),
            (None, _) => return false,
        }
        true
    }
}

/// Whether `f` is printed: every request with `all`, else the problems.
fn printed(f: &Found<'_>, all: bool) -> bool {
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
    fn take(&mut self, f: &Found<'_>, all: bool) -> bool {
        if !printed(f, all) {
            return false;
        }
        self.problems += usize::from(f.is_problem());
        self.quoted |= f.is_quoted();
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

    /// A block's first line: status, cause, route, API, and what follows it (the request, or the count).
    fn write_head(
        &self,
        out: &mut impl Write,
        head: Head<'_>,
        problem: bool,
        after: std::fmt::Arguments<'_>,
    ) -> std::io::Result<()> {
        let code = if problem { "31;1" } else { "32" };
        writeln!(
            out,
            "\n{}  {}  {}  {}  {after}",
            self.paint(code, &head.status()),
            self.paint(code, head.cause.as_str()),
            head.route(),
            head.api()
        )
    }

    fn write_text(&self, out: &mut impl Write, f: &Finding) -> std::io::Result<()> {
        self.write_head(
            out,
            Head::of_finding(f),
            f.is_problem(),
            format_args!("request {}", f.request_id.as_deref().unwrap_or("(none)")),
        )?;
        if !f.is_problem() {
            return Ok(());
        }
        self.write_body(
            out,
            Body {
                summary: f.summary,
                quoted_line: f.quoted_line.as_deref(),
                detail: f.detail.as_deref(),
                inferred_status: f.status.filter(|_| f.status_inferred),
                function_arns: f.function_arn.as_slice(),
                authorizer_arns: f.authorizer_arn.as_slice(),
                seen: Vec::new(),
                evidence_label: "Evidence:",
                evidence: &f.evidence,
                fix: &f.advice,
            },
        )
    }

    /// A problem's lines under its head, for one request or one distinct problem alike.
    fn write_body(&self, out: &mut impl Write, b: Body<'_>) -> std::io::Result<()> {
        let paint = |code: &str, text: &str| self.paint(code, text);
        writeln!(out, "  {}", b.summary)?;
        if let Some(line) = b.quoted_line {
            writeln!(
                out,
                "  {} read from a sentence quoted in: {line}",
                paint("1", "Confidence: quoted,")
            )?;
        }
        if let Some(detail) = b.detail {
            writeln!(out, "  {} {detail}", paint("1", "What is wrong:"))?;
        }
        if let Some(status) = b.inferred_status {
            writeln!(
                out,
                "  (status not in the log; {status} is what this cause gives)"
            )?;
        }
        for arn in b.function_arns {
            writeln!(out, "  Function: {arn}")?;
        }
        for arn in b.authorizer_arns {
            writeln!(out, "  Authorizer function: {arn}")?;
        }
        for line in &b.seen {
            writeln!(out, "  {line}")?;
        }
        if !b.evidence.is_empty() {
            writeln!(out, "  {}", paint("1", b.evidence_label))?;
            for line in b.evidence {
                writeln!(out, "    {line}")?;
            }
        }
        writeln!(out, "  {} {}", paint("1", "Fix:"), b.fix)
    }

    /// What [`Shown`] holds: each finding, or the distinct problems.
    fn shown(&self, out: &mut impl Write, shown: Shown) -> std::io::Result<()> {
        match shown.grouping {
            Some(grouping) => self.grouped(out, grouping),
            None => shown
                .held
                .into_iter()
                .try_for_each(|finding| self.finding(out, finding)),
        }
    }

    /// The distinct problems, the largest of each cause first, then the rest, the most severe and frequent first:
    /// the first ones as blocks, the next a line each, the rest counted per cause.
    fn grouped(&self, out: &mut impl Write, grouping: Grouping) -> std::io::Result<()> {
        let mut plan = grouping.plan(usize::MAX);
        let mut problems = std::mem::take(&mut plan.alerts);
        problems.append(&mut plan.overflow);
        // Stable: first appearance breaks ties. Then each cause's largest comes first, so that a frequent cause
        // is not hidden past the blocks by fifty single requests of a more severe one.
        problems.sort_by_key(|a| (Reverse(a.severity), Reverse(a.count)));
        let mut causes = std::collections::HashSet::new();
        let (mut problems, rest_of_causes): (Vec<Alert>, Vec<Alert>) =
            problems.into_iter().partition(|a| causes.insert(a.cause));
        problems.extend(rest_of_causes);
        let mut rest = plan.unlisted;
        let distinct = problems.len() as u64 + rest.totals().0;
        writeln!(
            out,
            "Grouped into {distinct} distinct problem{} (a cause on an API's route), each with its count and sample \
             requests{}; --all or --format json prints each request",
            plural(distinct),
            if distinct > 1 {
                ": the largest of each cause first, then the rest, the most severe and frequent first"
            } else {
                ""
            }
        )?;
        let mut problems = problems.into_iter();
        for alert in problems.by_ref().take(GROUPED_BLOCKS) {
            self.write_alert(out, &alert)?;
        }
        let mut lines = problems.by_ref().take(GROUPED_LINES).peekable();
        if lines.peek().is_some() {
            writeln!(out)?;
        }
        for alert in lines {
            let head = Head::of_alert(&alert);
            writeln!(
                out,
                "{}  {}  {}  {}  {} request{}",
                head.status(),
                alert.cause.as_str(),
                head.route(),
                head.api(),
                alert.count,
                plural(alert.count)
            )?;
        }
        for alert in problems {
            rest.add_alert(&alert);
        }
        let (more, requests) = rest.totals();
        if more > 0 {
            let causes: Vec<String> = rest
                .by_cause
                .iter()
                .map(|(cause, (_, n))| format!("{} {n}", cause.as_str()))
                .collect();
            writeln!(
                out,
                "\n{more} more distinct problem{} in {requests} request{}, requests by cause: {}",
                plural(more),
                plural(requests),
                causes.join(", ")
            )?;
        }
        Ok(())
    }

    /// One distinct problem: what its first request showed, with the count and the fix from what the requests
    /// named.
    fn write_alert(&self, out: &mut impl Write, alert: &Alert) -> std::io::Result<()> {
        self.write_head(
            out,
            Head::of_alert(alert),
            true,
            format_args!("{} request{}", alert.count, plural(alert.count)),
        )?;
        let mut seen = Vec::new();
        if let (Some(first), Some(last)) = (alert.first_seen, alert.last_seen) {
            let at = |ms| iso(ms).unwrap_or_else(|| ms.to_string());
            seen.push(format!("Seen: {} to {}", at(first), at(last)));
        }
        if !alert.sample_request_ids.is_empty() {
            let more = alert.count - alert.sample_request_ids.len() as u64;
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            seen.push(format!(
                "Requests: {}{more}",
                alert.sample_request_ids.join(", ")
            ));
        }
        self.write_body(
            out,
            Body {
                summary: alert.summary,
                quoted_line: None,
                detail: alert.detail.as_deref(),
                inferred_status: alert.status.filter(|_| alert.status_inferred),
                function_arns: &alert.function_arns,
                authorizer_arns: &alert.authorizer_arns,
                seen,
                evidence_label: "Evidence of the first request:",
                evidence: &alert.evidence,
                fix: &exact_fix(&Target::of_alert(alert)),
            },
        )
    }
}

/// What a problem's block says under its head ([`Report::write_body`]).
struct Body<'a> {
    summary: &'a str,
    quoted_line: Option<&'a str>,
    detail: Option<&'a str>,
    /// The status this cause gives, when the log did not say it.
    inferred_status: Option<u16>,
    function_arns: &'a [String],
    authorizer_arns: &'a [String],
    /// When and which requests, for a distinct problem.
    seen: Vec<String>,
    evidence_label: &'a str,
    evidence: &'a [String],
    fix: &'a str,
}

/// What a block's first line says of a request or a distinct problem.
struct Head<'a> {
    status: Option<u16>,
    inferred: bool,
    cause: Cause,
    method: Option<&'a str>,
    resource_path: Option<&'a str>,
    api_id: Option<&'a str>,
    stage: Option<&'a str>,
}

impl<'a> Head<'a> {
    fn of_finding(f: &'a Finding) -> Head<'a> {
        Head {
            status: f.status,
            inferred: f.status_inferred,
            cause: f.cause,
            method: f.method.as_deref(),
            resource_path: f.resource_path.as_deref(),
            api_id: f.api_id.as_deref(),
            stage: f.stage.as_deref(),
        }
    }

    fn of_alert(a: &'a Alert) -> Head<'a> {
        Head {
            status: a.status,
            inferred: a.status_inferred,
            cause: a.cause,
            method: a.method.as_deref(),
            resource_path: a.resource_path.as_deref(),
            api_id: a.api_id.as_deref(),
            stage: a.stage.as_deref(),
        }
    }

    /// `502`, `502?` when the log did not give it, `---` when unknown.
    fn status(&self) -> String {
        match (self.status, self.inferred) {
            (Some(s), false) => s.to_string(),
            (Some(s), true) => format!("{s}?"),
            (None, _) => "---".to_owned(),
        }
    }

    fn route(&self) -> String {
        match (self.method, self.resource_path) {
            (Some(m), Some(p)) => format!("{m} {p}"),
            // A route named by its key alone (`$default`, `$connect`).
            (None, Some(key)) if !key.starts_with('/') => key.to_owned(),
            _ => "(route not logged)".to_owned(),
        }
    }

    fn api(&self) -> String {
        match (self.api_id, self.stage) {
            (Some(a), Some(s)) => format!("{a}/{s}"),
            _ => "(api unknown)".to_owned(),
        }
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
    let mut shown = Shown::new(format, all);
    let (mut tally, mut overflowed) = (Tally::default(), false);
    let counted = diagnose_input_each(bytes, options, &mut |f| {
        if tally.take(&f, all) && !shown.take(f, tally.problems, HELD_FINDINGS) {
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
        drop(shown);
        let mut written = Ok(());
        let _ = diagnose_input_each(bytes, options, &mut |f| {
            if written.is_ok() && printed(&f, all) {
                written = report.finding(out, f.into_finding());
            }
        });
        written?;
    } else {
        report.shown(out, shown)?;
    }
    Ok(Some(Reported {
        printed: report.end(out)?,
        recognised_nothing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::diagnose_input;

    /// The real delivery of tests/data/01-malformed-proxy-response-batch.log (four requests, one 502 malformed
    /// proxy response) with each request repeated under new ids, and the real paste of
    /// tests/data/09-missing-invoke-permission-500-2025.log on 60 routes: a `DATA_MESSAGE` of 300 requests, 120 of them failing.
    fn many_failing_requests() -> Vec<u8> {
        let read = |name: &str| {
            std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
        };
        let logged = |text: &str| -> Vec<(String, String)> {
            text.lines()
                .filter_map(|l| l.strip_prefix('('))
                .filter_map(|l| l.split_once(") "))
                .map(|(id, message)| (id.to_owned(), message.to_owned()))
                .collect()
        };
        let batch = logged(&read("01-malformed-proxy-response-batch.log"));
        let permission = logged(&read("09-missing-invoke-permission-500-2025.log"));
        let mut messages = Vec::new();
        for copy in 0..60 {
            for (id, message) in &batch {
                let new = format!("{copy:04x}{}", &id[4..]);
                messages.push(format!("({new}) {}", message.replace(id.as_str(), &new)));
            }
        }
        for n in 0..60 {
            let id = format!("0000bbbb-0000-4000-8000-{n:012x}");
            messages.push(format!("({id}) HTTP Method: GET, Resource Path: /r{n:02}"));
            for (_, message) in &permission {
                messages.push(format!("({id}) {message}"));
            }
        }
        let events: Vec<serde_json::Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                serde_json::json!({"id": i.to_string(), "timestamp": 1_551_199_717_000_i64 + i as i64, "message": m})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "messageType": "DATA_MESSAGE",
            "owner": "958845080241",
            "logGroup": "API-Gateway-Execution-Logs_uwe3g5jm54/Prod",
            "logStream": "f033ab37c30201f73f142449d037028d",
            "subscriptionFilters": ["ship-logs"],
            "logEvents": events,
        }))
        .unwrap()
    }

    /// A delivery's requests are grouped without being made findings (`add_problem`); the report must read as if
    /// each had been made a finding first (`add`), as `print_found` does with the findings of a live read.
    #[test]
    fn a_grouped_report_of_a_delivery_reads_as_from_its_findings() {
        let delivery = many_failing_requests();
        let options = ReadOptions::default();
        let (mut out, mut warn) = (Vec::new(), Vec::new());
        let reported = report_input(
            &mut out,
            &mut warn,
            "batch",
            &delivery,
            &options,
            Format::Text,
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(reported.printed.problems, 120);
        let found = diagnose_input(&delivery, &options).unwrap();
        let (mut from_findings, mut warned) = (Vec::new(), Vec::new());
        print_found(
            &mut from_findings,
            &mut warned,
            "batch",
            found,
            false,
            Format::Text,
            false,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, String::from_utf8(from_findings).unwrap());
        assert_eq!(warn, warned);
        assert!(
            out.starts_with(
                "batch: 120 problems in 300 requests\nGrouped into 61 distinct problems"
            ),
            "{out}"
        );
        // Each cause's largest first: the 60 malformed responses are not hidden behind 60 single requests of a
        // more severe cause.
        let heads: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("  uwe3g5jm54/Prod  "))
            .collect();
        assert_eq!(
            heads[..2],
            [
                "500  missing_invoke_permission  GET /r00  uwe3g5jm54/Prod  1 request",
                "502  malformed_proxy_response  POST /receipt  uwe3g5jm54/Prod  60 requests"
            ]
        );
        assert!(
            out.ends_with(
                "\n11 more distinct problems in 11 requests, requests by cause: missing_invoke_permission 11\n\n"
            ),
            "{out}"
        );
    }
}
