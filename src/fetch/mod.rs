//! CloudWatch Logs → events, for `apigw-doctor diagnose --log-group` on a live account: the CLI's own reader.
//!
//! A busy stage writes millions of execution-log lines an hour, so nothing downloads every request: a first pass
//! asks CloudWatch Logs only for the lines that mark a failing request (its final 5xx status, the failure
//! sentences of the catalogue), which give the request ids; a second pass fetches every line of those requests
//! only (quoted `(request-id)` terms, a few ids per query). An access-log group holds one record per request and
//! is read whole within the window. The events then go through the same engine as a delivery.
//!
//! [`read`] is the plan and the bookkeeping; [`LogsReader`] is the port, [`aws`] its CloudWatch Logs adapter.

pub mod aws;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::diagnose::finding::execution_log_group;
use crate::requests::logline::split_request_id;

/// A time window, in milliseconds since the epoch (CloudWatch Logs' unit), end excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Window {
    /// From `--since` (a duration back from `now_ms`) or `--start` / `--end` (RFC 3339); the end defaults to now.
    pub fn parse(
        since: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        now_ms: i64,
    ) -> Result<Window, String> {
        let end_ms = match end {
            Some(text) => rfc3339_ms(text)?,
            None => now_ms,
        };
        let start_ms = match (since, start) {
            (Some(_), Some(_)) => return Err("give --since or --start, not both".to_owned()),
            (Some(text), None) => {
                let back = humantime::parse_duration(text)
                    .map_err(|e| format!("--since {text:?}: {e} (e.g. 15m, 1h, 2d)"))?;
                end_ms.saturating_sub(i64::try_from(back.as_millis()).unwrap_or(i64::MAX))
            }
            (None, Some(text)) => rfc3339_ms(text)?,
            (None, None) => return Err("give --since (e.g. 1h) or --start".to_owned()),
        };
        if start_ms >= end_ms {
            return Err("the window is empty: its start is not before its end".to_owned());
        }
        Ok(Window { start_ms, end_ms })
    }
}

fn rfc3339_ms(text: &str) -> Result<i64, String> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            format!("{text:?} is not an RFC 3339 time (e.g. 2026-11-30T10:00:00Z): {e}")
        })?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|e| e.to_string())
}

/// The lines that mark a failing request in an execution log, one CloudWatch Logs filter pattern each (a quoted
/// term is a phrase; several terms in one pattern would mean *and*).
pub const FAILURE_PATTERNS: &[&str] = &[
    "\"Method completed with status: 500\"",
    "\"Method completed with status: 502\"",
    "\"Method completed with status: 503\"",
    "\"Method completed with status: 504\"",
    "\"Execution failed due to\"",
    "\"Lambda execution failed\"",
    "\"Lambda invocation failed\"",
];

/// Request ids per query of the second pass: CloudWatch Logs takes filter patterns of up to 1,024 characters and
/// a `(uuid)` term is about 42.
pub const IDS_PER_QUERY: usize = 20;

/// The filter pattern that matches any line of `ids`: `?"(id1)" ?"(id2)" ...`.
pub fn lines_pattern(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("?\"({id})\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a log group's events, filtered server-side.
pub trait LogsReader {
    /// Events of `log_group` in `window` matching `pattern` (`None`: all), oldest first, at most `limit`; `seen`
    /// is told how many came so far (for progress), `stop` ends the read early.
    fn filter(
        &self,
        log_group: &str,
        pattern: Option<&str>,
        window: Window,
        limit: u64,
        seen: &mut (dyn FnMut(u64) + Send),
        stop: &AtomicBool,
    ) -> impl Future<Output = Result<Vec<(i64, String)>, FetchError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("CloudWatch Logs {operation} on {log_group}: {reason}")]
    Logs {
        operation: &'static str,
        log_group: String,
        reason: String,
    },
}

/// What a read found.
#[derive(Debug, Default)]
pub struct Fetched {
    /// `(timestamp, message)`, oldest first, each once.
    pub events: Vec<(i64, String)>,
    /// Lines CloudWatch Logs returned over both passes.
    pub lines_read: u64,
    /// Requests whose lines were fetched (execution logs), or records read (access logs).
    pub requests: usize,
    /// Ctrl-C, or the line limit, ended the read: what is here is what was read until then.
    pub cut_short: bool,
}

/// Reads the failing requests of `log_group` in `window`, at most `max_lines` lines; `progress` gets the running
/// count of lines read; setting `stop` ends the read with what was read.
pub async fn read<R: LogsReader>(
    reader: &R,
    log_group: &str,
    window: Window,
    max_lines: u64,
    progress: &mut (dyn FnMut(u64) + Send),
    stop: &AtomicBool,
) -> Result<Fetched, FetchError> {
    let mut fetched = Fetched::default();
    let budget = |fetched: &Fetched| max_lines.saturating_sub(fetched.lines_read);
    if execution_log_group(log_group).is_none() {
        // An access-log group: one record per request, read whole.
        let base = fetched.lines_read;
        let events = reader
            .filter(
                log_group,
                None,
                window,
                budget(&fetched),
                &mut |n| progress(base + n),
                stop,
            )
            .await?;
        fetched.lines_read += events.len() as u64;
        fetched.requests = events.len();
        fetched.cut_short = stop.load(Ordering::Relaxed) || fetched.lines_read >= max_lines;
        fetched.events = events;
        return Ok(fetched);
    }
    // First pass: the ids of failing requests.
    let mut ids: Vec<String> = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    for pattern in FAILURE_PATTERNS {
        if stop.load(Ordering::Relaxed) || budget(&fetched) == 0 {
            fetched.cut_short = true;
            break;
        }
        let base = fetched.lines_read;
        let marks = reader
            .filter(
                log_group,
                Some(pattern),
                window,
                budget(&fetched),
                &mut |n| progress(base + n),
                stop,
            )
            .await?;
        fetched.lines_read += marks.len() as u64;
        for (_, message) in &marks {
            if let (Some(id), _) = split_request_id(message)
                && known.insert(id.to_owned())
            {
                ids.push(id.to_owned());
            }
        }
    }
    // Second pass: every line of those requests, and nothing else.
    let mut events: Vec<(i64, String)> = Vec::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        if stop.load(Ordering::Relaxed) || budget(&fetched) == 0 {
            fetched.cut_short = true;
            break;
        }
        let wanted: HashSet<&str> = chunk.iter().map(String::as_str).collect();
        let pattern = lines_pattern(&chunk.iter().map(String::as_str).collect::<Vec<_>>());
        let base = fetched.lines_read;
        let lines = reader
            .filter(
                log_group,
                Some(&pattern),
                window,
                budget(&fetched),
                &mut |n| progress(base + n),
                stop,
            )
            .await?;
        fetched.lines_read += lines.len() as u64;
        fetched.requests += chunk.len();
        // Only lines that are the request's own (a quoted term also matches the id inside another line).
        events.extend(
            lines
                .into_iter()
                .filter(|(_, m)| split_request_id(m).0.is_some_and(|id| wanted.contains(id))),
        );
    }
    events.sort_by_key(|(ts, _)| *ts);
    events.dedup();
    fetched.events = events;
    fetched.cut_short |= stop.load(Ordering::Relaxed);
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A log group in memory that applies quoted terms as CloudWatch Logs does (`?` terms: any of them).
    struct Group {
        events: Vec<(i64, String)>,
        queries: Mutex<Vec<Option<String>>>,
    }

    impl LogsReader for Group {
        async fn filter(
            &self,
            _log_group: &str,
            pattern: Option<&str>,
            window: Window,
            limit: u64,
            seen: &mut (dyn FnMut(u64) + Send),
            _stop: &AtomicBool,
        ) -> Result<Vec<(i64, String)>, FetchError> {
            self.queries
                .lock()
                .unwrap()
                .push(pattern.map(str::to_owned));
            let terms: Vec<String> = pattern
                .map(|p| {
                    p.split("?")
                        .map(|t| t.trim().trim_matches('"').to_owned())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let out: Vec<(i64, String)> = self
                .events
                .iter()
                .filter(|(ts, _)| *ts >= window.start_ms && *ts < window.end_ms)
                .filter(|(_, m)| terms.is_empty() || terms.iter().any(|t| m.contains(t.as_str())))
                .take(limit as usize)
                .cloned()
                .collect();
            seen(out.len() as u64);
            Ok(out)
        }
    }

    fn run(group: &Group, name: &str, max: u64) -> Fetched {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let stop = AtomicBool::new(false);
        let window = Window {
            start_ms: 0,
            end_ms: 1_000,
        };
        runtime
            .block_on(read(group, name, window, max, &mut |_| {}, &stop))
            .unwrap()
    }

    fn stage(lines: &[&str]) -> Group {
        Group {
            events: lines
                .iter()
                .enumerate()
                .map(|(i, l)| (i as i64, (*l).to_owned()))
                .collect(),
            queries: Mutex::new(Vec::new()),
        }
    }

    const GROUP: &str = "API-Gateway-Execution-Logs_a1b2c3d4e5/prod";

    #[test]
    fn only_the_failing_requests_are_fetched_whole() {
        let group = stage(&[
            "(ok1) HTTP Method: GET, Resource Path: /items",
            "(bad) HTTP Method: POST, Resource Path: /orders",
            "(ok1) Method completed with status: 200",
            "(bad) Execution failed due to configuration error: Invalid permissions on Lambda function",
            "(ok2) Method request body before transformations: {\"note\":\"(bad) Method completed with status: 500\"}",
            "(bad) Method completed with status: 500",
        ]);
        let fetched = run(&group, GROUP, 1_000);
        let messages: Vec<&str> = fetched.events.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            messages,
            [
                "(bad) HTTP Method: POST, Resource Path: /orders",
                "(bad) Execution failed due to configuration error: Invalid permissions on Lambda function",
                "(ok2) Method request body before transformations: {\"note\":\"(bad) Method completed with status: 500\"}",
                "(bad) Method completed with status: 500",
            ]
        );
        assert_eq!(
            fetched.requests, 2,
            "bad, and ok2 whose body quoted a status"
        );
        assert!(!fetched.cut_short);
        let queries = group.queries.lock().unwrap();
        assert_eq!(queries.len(), FAILURE_PATTERNS.len() + 1);
        assert_eq!(
            queries.last().unwrap().as_deref(),
            Some("?\"(ok2)\" ?\"(bad)\"")
        );
    }

    #[test]
    fn an_access_log_group_is_read_whole_and_the_limit_cuts_short() {
        let group = stage(&[
            "{\"requestId\":\"a\",\"status\":\"502\"}",
            "{\"requestId\":\"b\",\"status\":\"200\"}",
        ]);
        let fetched = run(&group, "/aws/apigateway/access", 1_000);
        assert_eq!(
            (fetched.events.len(), fetched.requests, fetched.cut_short),
            (2, 2, false)
        );
        let fetched = run(&group, "/aws/apigateway/access", 1);
        assert_eq!((fetched.events.len(), fetched.cut_short), (1, true));
    }

    #[test]
    fn windows_from_since_or_rfc3339() {
        let now = 1_764_500_000_000;
        assert_eq!(
            Window::parse(Some("1h"), None, None, now).unwrap(),
            Window {
                start_ms: now - 3_600_000,
                end_ms: now
            }
        );
        let w = Window::parse(
            None,
            Some("2026-11-30T10:00:00Z"),
            Some("2026-11-30T10:15:00Z"),
            now,
        )
        .unwrap();
        assert_eq!(w.end_ms - w.start_ms, 900_000);
        assert!(Window::parse(Some("1h"), Some("2026-11-30T10:00:00Z"), None, now).is_err());
        assert!(Window::parse(None, None, None, now).is_err());
        assert!(Window::parse(Some("soon"), None, None, now).is_err());
        assert!(
            Window::parse(
                None,
                Some("2026-11-30T10:15:00Z"),
                Some("2026-11-30T10:00:00Z"),
                now
            )
            .is_err()
        );
    }
}
