//! Pasted text → plain log lines: what people and tools wrap around API Gateway log lines, each form removed by a
//! small named reader. Only the CLI's pasted text comes through here; a subscription delivery never does, so the
//! Lambda's rule (a sentence counts only when it begins the event's own message) is untouched. Here the same rule
//! applies once the known wrappers are removed: a wrapper is only ever taken off the *start* or the *end* of a
//! physical line, so a sentence inside a body, header, path or query still begins nothing.
//!
//! Readers, in the order they run:
//! - [`tool_output`]: `aws apigateway test-invoke-method` JSON or YAML (its `log` field), `aws logs
//!   filter-log-events` / `get-log-events` JSON (each event's `message`);
//! - [`console_panels`]: the console's TEST panel pasted whole (its `Status` kept, its other lines removed);
//! - [`split_html_breaks`]: `<br/>` as a line break (issue trackers, some wikis);
//! - [`split_run_on_console`]: console TEST output whose newlines were lost, split at each console timestamp;
//! - [`insights_table`]: a Logs Insights result table (tab- or `|`-separated, a header row naming `@message`);
//! - [`strip_line`]: per line, markdown quotes, list bullets, `... ` elisions, tool prefixes (`awslogs`,
//!   `aws logs tail`), retyped timestamp placeholders, labels naming the log or the error, surrounding quotes and
//!   a trailing `"` or `,`, inline code, HTML `<pre><code>`, emphasis;
//!   code-fence lines are dropped, and where a fence opens a [`BLOCK_BREAK`] tells the line reader to start a
//!   block of its own.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::Request;
use super::logline::{BLOCK_BREAK, split_request_id};
use crate::signature::{self, Kind};

/// Pasted text once read: its log lines, and the statuses the test tools showed beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pasted<'a> {
    /// One log line per line, every known wrapper removed.
    pub text: Cow<'a, str>,
    /// The status the client got, as `test-invoke-method` (`status`) or the console's TEST panel (`Status`)
    /// showed it, one per test run in the order they appear. Not log lines: the caller pairs them with the
    /// requests only when there is one per request (a log pasted short of its final line still has its status).
    pub reported_statuses: Vec<u16>,
}

/// `input` with every known wrapper removed, one log line per line.
pub fn normalise(input: &str) -> Cow<'_, str> {
    let text = read(input).text;
    if text.contains(BLOCK_BREAK) {
        let breaks: &[char] = &[BLOCK_BREAK, '\n'];
        Cow::Owned(text.replace(&String::from_iter(breaks), ""))
    } else {
        text
    }
}

/// Reads pasted text: [`normalise`] plus the statuses the test tools reported.
pub fn read(input: &str) -> Pasted<'_> {
    let mut text: Cow<'_, str> = Cow::Borrowed(input);
    let mut reported_statuses = Vec::new();
    if let Some((unwrapped, statuses)) = tool_output(&text) {
        text = Cow::Owned(unwrapped);
        reported_statuses = statuses;
    }
    if let Some((logs, statuses)) = console_panels(&text) {
        text = Cow::Owned(logs);
        reported_statuses.extend(statuses);
    }
    if let Some(split) = split_html_breaks(&text) {
        text = Cow::Owned(split);
    }
    if let Some(split) = split_run_on_console(&text) {
        text = Cow::Owned(split);
    }
    if let Some(messages) = insights_table(&text) {
        text = Cow::Owned(messages);
    }
    let changed = text.lines().any(|line| {
        is_fence(line)
            || strip_line(line).len() != line.len()
            || unquote_sentence(line).is_some()
            || matches!(backtick_after_request_id(line), Cow::Owned(_))
    });
    if !changed {
        return Pasted {
            text,
            reported_statuses,
        };
    }
    // With code fences in the paste, the log is inside them: outside, only what reads as a log line is kept
    // (prose after a closing fence would otherwise continue the last event).
    let fenced = text.lines().any(is_fence);
    let mut inside = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if is_fence(line) {
            inside = !inside;
            if inside && !out.is_empty() {
                out.push(BLOCK_BREAK);
                out.push('\n');
            }
            continue;
        }
        let line = backtick_after_request_id(strip_line(line));
        if fenced && !inside && !looks_like_log_line(line.trim_start()) {
            continue;
        }
        let line = line.as_ref();
        match unquote_sentence(line) {
            Some(unquoted) => out.push_str(&unquoted),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    Pasted {
        text: Cow::Owned(out),
        reported_statuses,
    }
}

/// The log inside a CLI's output, and the status it reported: `test-invoke-method`'s `log` (the console's TEST
/// log, `\n`-escaped in JSON or folded in YAML) and `status`, or the `message` of each event of
/// `filter-log-events` / `get-log-events` (no status).
pub fn tool_output(input: &str) -> Option<(String, Vec<u16>)> {
    if let Some(logs) = yaml_test_invoke(input) {
        return Some(logs);
    }
    // The object may come after the command line or comment lines, indented, and before more prose.
    let first = input.lines().find(|l| l.trim_start().starts_with('{'))?;
    let start = (first.as_ptr() as usize - input.as_ptr() as usize)
        + (first.len() - first.trim_start().len());
    let mut stream =
        serde_json::Deserializer::from_str(&input[start..]).into_iter::<serde_json::Value>();
    let value = match stream.next()? {
        Ok(value) => value,
        // A `log` string broken by the raw line breaks of a terminal copy is no JSON: read it line by line.
        Err(_) => return broken_test_invoke_json(&input[start..]),
    };
    if test_invoke_run(&value).is_some() {
        // A tutorial or an issue often shows several runs (the error, then the run after a fix): every run's log,
        // in order, each with its status.
        let (mut logs, mut statuses) = (String::new(), Vec::new());
        let mut at = start;
        loop {
            let mut stream =
                serde_json::Deserializer::from_str(&input[at..]).into_iter::<serde_json::Value>();
            let after = match stream.next() {
                Some(Ok(value)) => {
                    if let Some((log, status)) = test_invoke_run(&value) {
                        logs.push_str(log);
                        if !logs.ends_with('\n') {
                            logs.push('\n');
                        }
                        statuses.extend(status);
                    }
                    at + stream.byte_offset()
                }
                // No JSON from this brace (prose, code): the next line on.
                _ => input[at..].find('\n').map_or(input.len(), |n| at + n + 1),
            };
            let Some(line) = input[after..]
                .lines()
                .find(|l| l.trim_start().starts_with('{'))
            else {
                break;
            };
            at = (line.as_ptr() as usize - input.as_ptr() as usize)
                + (line.len() - line.trim_start().len());
        }
        return Some((logs, statuses));
    }
    let events = value.get("events")?.as_array()?;
    let messages: Vec<&str> = events
        .iter()
        .filter_map(|e| e.get("message")?.as_str())
        .collect();
    (!messages.is_empty() || events.is_empty()).then(|| {
        let mut out = messages.join("\n");
        out.push('\n');
        (out, Vec::new())
    })
}

/// One `test-invoke-method` run: its `log` and the `status` the client got (when it is one).
fn test_invoke_run(value: &serde_json::Value) -> Option<(&str, Option<u16>)> {
    let log = value.get("log")?.as_str()?;
    let status = value.get("status")?;
    let status = status
        .as_u64()
        .or_else(|| status.as_str()?.parse().ok())
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s));
    Some((log, status))
}

/// `test-invoke-method` output whose `"log"` string holds raw line breaks (copied from a terminal that wrapped
/// it, or pasted through a tool that unescaped `\n`): the text from `"log": "` to the string's last quote,
/// its escapes undone, and the `"status"` beside it.
fn broken_test_invoke_json(object: &str) -> Option<(String, Vec<u16>)> {
    let key = object.find("\"log\"")?;
    let after_key = object[key + 5..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let body = after_key.strip_prefix('"')?;
    // The string ends at the last quote before the object's end (`"` then `,` or `}` after blanks).
    let end = body
        .char_indices()
        .filter(|&(i, c)| {
            c == '"'
                && !body[..i].ends_with('\\')
                && body[i + 1..].trim_start().starts_with([',', '}'])
        })
        .map(|(i, _)| i)
        .next_back()
        .unwrap_or(body.len());
    let raw = &body[..end];
    if !raw.contains("Execution log for request") && !raw.contains("Starting execution") {
        return None;
    }
    let mut log = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            log.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => log.push('\n'),
            Some('t') => log.push('\t'),
            Some('r') => {}
            Some(other) => log.push(other),
            None => {}
        }
    }
    log.push('\n');
    let status = object
        .find("\"status\"")
        .and_then(|at| {
            let rest = object[at + 8..]
                .trim_start()
                .strip_prefix(':')?
                .trim_start();
            let digits: String = rest
                .trim_start_matches('"')
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u16>().ok()
        })
        .filter(|s| (100..600).contains(s));
    Some((log, status.into_iter().collect()))
}

/// A paste's sentences that stand after other text on their line (quoted in prose, a table cell, two sentences
/// joined in one bullet): each cut out from where it begins to where the next begins, with the trailing quote,
/// pipe or backtick off; and the first line they were found in. Only for a paste no anchored line explains.
pub fn quoted_sentences(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut first_line = None;
    for line in text.lines() {
        let mut starts = crate::signature::sentence_starts_within(line);
        // A sentence without its prefix is weaker evidence (documentation names causes too): it counts only on a
        // line that shows the 5xx itself.
        if !shows_a_5xx(line) {
            starts.retain(|(_, prefix)| prefix.is_empty());
        }
        if starts.is_empty() {
            continue;
        }
        first_line.get_or_insert(line);
        for (i, &(at, prefix)) in starts.iter().enumerate() {
            let mut end = starts.get(i + 1).map_or(line.len(), |&(next, _)| next);
            // A sentence quoted with a quote or backtick ends at the closing one.
            if let Some(quote) = line[..at]
                .chars()
                .next_back()
                .filter(|c| matches!(c, '"' | '`' | '\''))
                && let Some(close) = line[at..end].find(quote)
            {
                end = at + close;
            }
            // The final status is a number, whatever prose follows it.
            const COMPLETED: &str = "Method completed with status: ";
            if line[at..end].starts_with(COMPLETED) {
                let digits = line[at + COMPLETED.len()..end]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                end = at + COMPLETED.len() + digits;
            }
            let sentence = line[at..end]
                .trim_end()
                .trim_end_matches(['|', '"', '\'', '`', ',', ';', '*', '_'])
                .trim_end();
            out.push_str(prefix);
            out.push_str(sentence);
            out.push('\n');
        }
    }
    first_line.map(|line| (out, line))
}

/// Whether a line shows a 5xx status: a number from 500 to 599 standing as a word in prose ("got 500", "HTTP 502:",
/// "(504)"; not `label/500` or `5001`), or the words API Gateway's 5xx bodies carry.
fn shows_a_5xx(line: &str) -> bool {
    let bytes = line.as_bytes();
    let standalone_5xx = bytes.windows(3).enumerate().any(|(i, w)| {
        w[0] == b'5'
            && w[1].is_ascii_digit()
            && w[2].is_ascii_digit()
            && (i == 0 || matches!(bytes[i - 1], b' ' | b'(' | b'*' | b'"' | b'`' | b'\''))
            && bytes
                .get(i + 3)
                .is_none_or(|b| matches!(b, b' ' | b')' | b',' | b'.' | b':' | b'*' | b'"' | b'`'))
    });
    standalone_5xx
        || line.contains("Internal Server Error")
        || line.contains("Internal server error")
        || line.contains("Bad Gateway")
}

/// Gives each request of a paste the status its test run reported ([`Pasted::reported_statuses`]), when there is
/// exactly one reported status per request, in order (a console panel or a `test-invoke-method` output holds one
/// run each). Only a request whose log shows no final status takes it: a logged status is never overridden.
pub fn apply_reported_statuses(requests: &mut [Request<'_>], statuses: &[u16]) {
    // The console's `Execution log for request` header alone is not a request (nothing is reported for it).
    let count = requests.iter().filter(|r| r.is_recognised()).count();
    if statuses.is_empty() || statuses.len() != count {
        return;
    }
    let recognised = requests.iter_mut().filter(|r| r.is_recognised());
    for (request, &status) in recognised.zip(statuses) {
        if request.status.is_none() {
            request.status = Some(status);
            request.status_reported = true;
        }
    }
}

/// The `log` of `aws apigateway test-invoke-method --output yaml` (the CLI v2 default for some): a YAML
/// double-quoted scalar folded at about 80 columns. Each `log: "` of the input, unfolded (a line break and the
/// next line's indentation read as one space) and unescaped, the logs one after the other.
pub fn yaml_test_invoke(input: &str) -> Option<(String, Vec<u16>)> {
    let mut logs = String::new();
    let mut statuses = Vec::new();
    let mut rest = input;
    while let Some(at) = rest.find("log: \"") {
        // Only a key at the start of a line (after indentation or a list's `- `).
        let line_start = rest[..at].rfind('\n').map_or(0, |i| i + 1);
        let before = rest[line_start..at].trim_start_matches([' ', '-']);
        let body = &rest[at + "log: \"".len()..];
        let Some(end) = closing_quote(body) else {
            break;
        };
        if before.is_empty() {
            logs.push_str(&unescape_yaml(&unfold_yaml(&body[..end])));
            if !logs.ends_with('\n') {
                logs.push('\n');
            }
        }
        rest = &body[end + 1..];
    }
    if logs.is_empty() {
        return None;
    }
    // The run's `status: 502` key (the keys of one run are sorted; there is one per run).
    for line in input.lines() {
        // A key of the run (indented at most as a list item's); the folded log's lines are indented deeper.
        if line.len() - line.trim_start().len() > 2 {
            continue;
        }
        let key = line.trim_start().trim_start_matches("- ");
        if let Some(status) = key
            .strip_prefix("status: ")
            .and_then(|s| s.trim().parse::<u16>().ok())
            .filter(|s| (100..600).contains(s))
        {
            statuses.push(status);
        }
    }
    Some((logs, statuses))
}

/// The API Gateway console's TEST panel pasted whole: `Request`, `Status`, `Latency`, the response body and
/// headers, then `Logs` (or `Log`) and the execution log. The panel's lines are not log lines (its response body
/// is whatever the integration answered): each panel is removed, its status kept. A panel is only read when it
/// opens with a `Request` line, shows a status, and ends on the `Log(s)` line right above `Execution log for
/// request`; anything else is left to the line readers.
pub fn console_panels(input: &str) -> Option<(String, Vec<u16>)> {
    let lines: Vec<&str> = input.lines().collect();
    let plain = |i: usize| strip_line(lines[i]).trim();
    let mut drop = vec![false; lines.len()];
    let mut statuses = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        // The status sits right under the request (before the response body, whose lines are the integration's).
        let status = is_panel_request_line(lines[at])
            .then(|| panel_status(&lines[at..(at + 8).min(lines.len())]))
            .flatten();
        let end = status.and_then(|_| {
            (at + 1..lines.len()).find(|&i| {
                matches!(plain(i), "Log" | "Logs")
                    && (i + 1..lines.len())
                        .find(|&n| !plain(n).is_empty())
                        .is_some_and(|n| plain(n).starts_with("Execution log for request "))
            })
        });
        match (status, end) {
            (Some(status), Some(end)) => {
                drop[at..=end].iter_mut().for_each(|d| *d = true);
                statuses.push(status);
                at = end + 1;
            }
            _ => at += 1,
        }
    }
    if statuses.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(input.len());
    for (line, _) in lines.iter().zip(&drop).filter(|(_, dropped)| !**dropped) {
        out.push_str(line);
        out.push('\n');
    }
    Some((out, statuses))
}

/// The status of a console TEST panel pasted without its log (a `Request` line, then a status within a few lines):
/// the CLI then says what is missing instead of "no log line".
pub fn panel_without_log(input: &str) -> Option<u16> {
    let lines: Vec<&str> = input.lines().collect();
    lines.iter().enumerate().find_map(|(i, line)| {
        is_panel_request_line(line).then(|| panel_status(&lines[i..(i + 6).min(lines.len())]))?
    })
}

/// `Request: /orders`, `Request /orders`, `Request` alone (the 2023 console), also in markdown bold.
fn is_panel_request_line(line: &str) -> bool {
    let line = strip_line(line).trim();
    let label = line.replace("**", "");
    label == "Request" || label.starts_with("Request: ") || label.starts_with("Request /")
}

/// The status of one console panel: `Status: 500`, `Status 500`, or `Status` with `500` on the next line.
fn panel_status(panel: &[&str]) -> Option<u16> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|s| (100..600).contains(s))
    };
    panel.iter().enumerate().find_map(|(i, line)| {
        let line = strip_line(line).trim().replace("**", "");
        let rest = line.strip_prefix("Status")?;
        if rest.is_empty() {
            return panel.get(i + 1).and_then(|next| parse(strip_line(next)));
        }
        parse(rest.strip_prefix(':').unwrap_or(rest))
    })
}

fn closing_quote(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// YAML's line folding in a double-quoted scalar: a line break with the next line's leading spaces is one
/// space; after an escaping `\` at the end of a line, nothing.
fn unfold_yaml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        let line = if i == 0 { line } else { line.trim_start() };
        if i > 0 {
            if out.ends_with('\\') && !out.ends_with("\\\\") {
                out.pop();
            } else {
                out.push(' ');
            }
        }
        out.push_str(line.trim_end_matches(' '));
    }
    out
}

/// The escapes of a YAML double-quoted scalar that the CLI writes (`\n`, `\"`, `\\`, `\t`, `\/`, `\uXXXX`).
fn unescape_yaml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => out.push_str(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// `<br/>`, `<br>` and `<br />` read as line breaks.
pub fn split_html_breaks(input: &str) -> Option<String> {
    static BREAK: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?i)<br\s*/?>").ok());
    let split = BREAK.as_ref()?;
    split
        .is_match(input)
        .then(|| split.replace_all(input, "\n").into_owned())
}

/// The API Gateway console's TEST timestamp, `Wed Nov 02 10:19:35 UTC 2022 : `.
static CONSOLE_TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d UTC \d{4} : ",
    )
    .ok()
});

/// Console TEST output pasted as one run-on line (the newlines lost): a line that starts with a console
/// timestamp (after its wrappers, and after the console's `Execution log for request <id>` header) and holds more
/// of them is split before each. Only such a line: in a paste that kept its newlines a timestamp inside a body
/// stays inside the body. (Where newlines were lost, a body quoting a timestamp cannot be told apart; the CLI
/// only reads, it changes nothing.)
pub fn split_run_on_console(input: &str) -> Option<String> {
    let timestamp = CONSOLE_TIMESTAMP.as_ref()?;
    // The line without its wrappers, and where its first timestamp is.
    let run_on = |line: &str| -> Option<(String, usize)> {
        let line = strip_line(line);
        let first = timestamp.find(line)?;
        let head = &line[..first.start()];
        let header_only = head.is_empty()
            || head.starts_with("Execution log for request ")
                && head.trim_end().split(' ').count() == 5;
        (header_only && timestamp.find_iter(line).nth(1).is_some())
            .then(|| (line.to_owned(), first.start()))
    };
    if !input.lines().any(|l| run_on(l).is_some()) {
        return None;
    }
    let mut out = String::with_capacity(input.len() + 64);
    for line in input.lines() {
        match run_on(line) {
            Some((line, first)) => {
                let mut last = 0;
                for m in timestamp.find_iter(&line) {
                    if m.start() == first && first == 0 {
                        continue;
                    }
                    out.push_str(line[last..m.start()].trim_end());
                    out.push('\n');
                    last = m.start();
                }
                out.push_str(line[last..].trim_end_matches('`'));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    Some(out)
}

/// A Logs Insights result table, copied from the console (tab-separated) or exported as markdown (`|`-separated):
/// its header row names the columns, and `@message` is the one to read. Rows without that many cells are kept
/// as they are (a wrapped message).
pub fn insights_table(input: &str) -> Option<String> {
    let mut lines = input.lines().skip_while(|l| l.trim().is_empty());
    let header = lines.next()?;
    let separator = if header.contains('\t') {
        '\t'
    } else if header.trim_start().starts_with('|') {
        '|'
    } else {
        return None;
    };
    let cells = |line: &str| -> Vec<String> {
        let line = line.trim();
        let line = if separator == '|' {
            line.trim_start_matches('|').trim_end_matches('|')
        } else {
            line
        };
        line.split(separator).map(|c| c.trim().to_owned()).collect()
    };
    let names = cells(header);
    let at = names.iter().position(|n| n == "@message")?;
    let mut out = String::with_capacity(input.len());
    for line in lines {
        let row = cells(line);
        // The markdown rule under the header (`|---|---|`).
        if row
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue;
        }
        match row.get(at) {
            Some(message) if row.len() == names.len() => out.push_str(message),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    Some(out)
}

/// A catalogue sentence that the writer put in quotes after its prefix (`Execution failed due to configuration
/// error: "Malformed Lambda proxy response"`): unquoted when that makes a more specific sentence of the
/// catalogue. The prefix still has to begin the message.
pub fn unquote_sentence(line: &str) -> Option<String> {
    let (id, message) = split_request_id(line);
    let open = message.find(": \"")? + 2;
    let inner = message[open + 1..].strip_suffix('"')?;
    if inner.contains('"') {
        return None;
    }
    let candidate = format!("{}{inner}", &message[..open]);
    let before = signature::match_start(message).map(|m| m.0);
    let after = signature::match_start(&candidate).map(|m| m.0);
    let sharper = matches!(after, Some(Kind::Failure(_))) && after != before;
    sharper.then(|| match id {
        Some(id) => format!("({id}) {candidate}"),
        None => candidate,
    })
}

/// A markdown code fence line (```` ``` ````, `~~~`, with or without a language).
fn is_fence(line: &str) -> bool {
    let line = strip_quote_marks(line.trim_start()).trim_start();
    line.starts_with("```") || line.starts_with("~~~")
}

/// One physical line without the wrappers around its log line, outermost first, until none applies.
pub fn strip_line(line: &str) -> &str {
    let mut rest = line;
    loop {
        let before = rest.len();
        rest = strip_quote_marks(rest);
        rest = strip_indent(rest);
        rest = strip_comment_marker(rest);
        rest = strip_bullet(rest);
        rest = strip_elision(rest);
        rest = strip_tool_prefix(rest);
        rest = strip_placeholder_timestamp(rest);
        rest = strip_log_label(rest);
        rest = strip_surrounding_quotes(rest);
        rest = strip_inline_code(rest);
        rest = strip_html_code(rest);
        rest = strip_emphasis(rest);
        if rest.len() == before {
            return rest;
        }
    }
}

/// Markdown emphasis around a pasted block (`_Thu Jan 25 ... : Sending request ...` on its first line, `... status:
/// 500_` on its last): a leading `_` or `*` taken off when a log line follows it, a trailing one when the line
/// reads as a log line without it.
fn strip_emphasis(line: &str) -> &str {
    let trimmed = line.trim();
    for mark in ['_', '*'] {
        // A run of marks: `_`, `__` (bold), or unbalanced (`__sentence_`, seen in a README).
        let opened = trimmed.trim_start_matches(mark);
        let leading = opened.len() != trimmed.len() && !opened.starts_with(' ');
        let start = if leading { opened } else { trimmed };
        let closed = start.trim_end_matches(mark);
        let trailing = closed.len() != start.len();
        let candidates = [
            (leading || trailing).then_some(closed),
            leading.then_some(start),
        ];
        if let Some(found) = candidates
            .into_iter()
            .flatten()
            .find(|candidate| looks_like_log_line(candidate))
        {
            return found;
        }
    }
    line
}

/// HTML code markup glued to a block's first and last lines (`<pre class="wp-block-code"><code>` before the
/// first log line, `</code></pre>` after the last, as blog exports write it): taken off when a log line is left.
fn strip_html_code(line: &str) -> &str {
    let trimmed = line.trim();
    let mut rest = trimmed;
    for tag in ["<pre", "<code"] {
        if let Some(after) = rest.strip_prefix(tag)
            && let Some(end) = after.find('>')
            && after[..end].bytes().all(|b| b != b'<')
        {
            rest = &after[end + 1..];
        }
    }
    for tag in ["</pre>", "</code>"] {
        rest = rest.strip_suffix(tag).unwrap_or(rest);
    }
    if rest.len() != trimmed.len() && looks_like_log_line(rest) {
        rest
    } else {
        line
    }
}

/// Inline-code backticks around a log line (`` `(a1) Method completed with status: 502` ``), also markdown's
/// double ones (``` ``(a1) ... `` ```, used when the code holds a backtick).
fn strip_inline_code(line: &str) -> &str {
    let trimmed = line.trim();
    if let Some(inner) = trimmed
        .strip_prefix("``")
        .filter(|rest| !rest.starts_with('`'))
    {
        let inner = inner.strip_suffix("``").unwrap_or(inner);
        if looks_like_log_line(&backtick_after_request_id(inner)) {
            return inner;
        }
    }
    let inner = match (trimmed.strip_prefix('`'), trimmed.ends_with('`')) {
        (Some(rest), true) => rest.strip_suffix('`').unwrap_or(rest),
        (Some(rest), false) => rest,
        (None, true) if trimmed.matches('`').count() == 1 => &trimmed[..trimmed.len() - 1],
        _ => return line,
    };
    if inner.starts_with('`')
        || !looks_like_log_line(inner) && !inner.starts_with("Execution log for request ")
    {
        return line;
    }
    inner
}

/// `(a1)` Endpoint response body ...`: a backtick the writer left right after the request id (the id quoted as
/// code inside a code span) is taken out.
fn backtick_after_request_id(line: &str) -> Cow<'_, str> {
    if let Some(close) = line.find(")` ")
        && line.starts_with('(')
        && split_request_id(&line[..close + 1]).0.is_some()
    {
        return Cow::Owned(format!("{}{}", &line[..close + 1], &line[close + 2..]));
    }
    Cow::Borrowed(line)
}

/// The indentation of a markdown code block or of a block inside HTML (`<details>`): taken off a line only when a
/// log line starts right after it (a body's continuation line keeps its indentation).
fn strip_indent(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.len() != line.len()
        && (looks_like_log_line(trimmed) || trimmed.starts_with("Execution log for request "))
    {
        trimmed
    } else {
        line
    }
}

/// A source-code comment marker (`# `, `// `) before a log line quoted in a script or a test (`# Received response.
/// Status: 400, ...`): taken off only when a log line follows it, so a comment of prose stays what it is.
fn strip_comment_marker(line: &str) -> &str {
    let trimmed = line.trim_start();
    for marker in ["# ", "// "] {
        if let Some(after) = trimmed.strip_prefix(marker)
            && looks_like_log_line(after.trim_start())
        {
            return after.trim_start();
        }
    }
    line
}

/// Markdown blockquote markers: `> `, `>> `, `> > `.
fn strip_quote_marks(line: &str) -> &str {
    let mut rest = line;
    while let Some(after) = rest.trim_start().strip_prefix('>') {
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    rest
}

/// A list bullet (`- `, `* `, `+ `, `• `) or number (`1. `, `2) `) opening the line.
fn strip_bullet(line: &str) -> &str {
    let trimmed = line.trim_start();
    for bullet in ["- ", "* ", "+ ", "• "] {
        if let Some(after) = trimmed.strip_prefix(bullet) {
            return after;
        }
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits)
        && let Some(after) = trimmed[digits..]
            .strip_prefix(". ")
            .or_else(|| trimmed[digits..].strip_prefix(") "))
    {
        return after;
    }
    line
}

/// `... ` or `… ` where the person pasting cut the start of the line off.
fn strip_elision(line: &str) -> &str {
    let trimmed = line.trim_start();
    trimmed
        .strip_prefix("...")
        .or_else(|| trimmed.strip_prefix('…'))
        .map(str::trim_start)
        .unwrap_or(line)
}

/// The columns `awslogs get` and `aws logs tail` print before each message: the log group, the log stream, a
/// timestamp. Only API Gateway's own group names and stream shapes are taken off (a word of prose is not), and a
/// timestamp only when a stream follows it (a timestamp alone is read by the line parser, which keeps it as a
/// sign of where events start).
fn strip_tool_prefix(line: &str) -> &str {
    let trimmed = line.trim_start();
    let Some((first, rest)) = trimmed.split_once(' ') else {
        return line;
    };
    let is_group = |t: &str| t.starts_with("API-Gateway-Execution-Logs_") || t.starts_with("/aws/");
    let is_stream = |t: &str| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit());
    let is_tail_time = first.len() >= 20
        && first.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && first.as_bytes()[4] == b'-'
        && first.contains('T');
    let next = rest.trim_start().split(' ').next().unwrap_or("");
    if is_group(first) || is_stream(first) || is_tail_time && (is_stream(next) || is_group(next)) {
        rest.trim_start()
    } else {
        line
    }
}

/// A timestamp the person pasting replaced by a word (`Date : `, `<timestamp> : `, `[time] : `).
fn strip_placeholder_timestamp(line: &str) -> &str {
    static PLACEHOLDER: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:Date|Time|Timestamp|DATE|TIME|TIMESTAMP|<[^<>]{1,24}>|\[[^\[\]]{1,24}\]|[Xx]{2,}) : ")
            .ok()
    });
    match PLACEHOLDER.as_ref().and_then(|p| p.find(line)) {
        Some(m) => &line[m.end()..],
        None => line,
    }
}

/// A prose label naming the log or the error the writer quotes (`API Gateway execution log: "..."`, `Execution
/// log: ...`, `*root Cause:* ...`, `**Error:** ...`), emphasis marks and all: taken off only when a log line follows
/// it (with or without its quotes).
fn strip_log_label(line: &str) -> &str {
    static LABEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"^\s*[*_]{0,2}([A-Za-z][A-Za-z ]{0,39}?)[*_]{0,2}:[*_]{0,2}\s+").ok()
    });
    let Some(found) = LABEL.as_ref().and_then(|l| l.captures(line)) else {
        return line;
    };
    let (Some(whole), Some(label)) = (found.get(0), found.get(1)) else {
        return line;
    };
    let label = label.as_str().trim().to_ascii_lowercase();
    let names_a_log = label.ends_with("execution log")
        || label.ends_with("execution logs")
        || label == "api gateway log"
        || matches!(
            label.as_str(),
            "error" | "the error" | "error message" | "root cause" | "cause" | "log" | "logs"
        );
    if !names_a_log {
        return line;
    }
    let rest = line[whole.end()..].trim_start();
    let quoted = strip_surrounding_quotes(rest);
    if looks_like_log_line(rest) || looks_like_log_line(quoted.trim()) {
        rest
    } else {
        line
    }
}

/// A line in quotes (`"... status: 500",` from a JSON array or a string literal), or with a stray `"` or `,` at
/// its end: taken off only from what reads as a log line once they are gone, and quotes only when they do not
/// pair inside the line (a line of pretty-printed JSON keeps its quotes and commas).
fn strip_surrounding_quotes(line: &str) -> &str {
    let trimmed = line.trim();
    let unpaired = trimmed.matches('"').count() % 2 == 1;
    let without_comma = trimmed.strip_suffix(',').map(str::trim_end);
    let candidates = [
        without_comma
            .unwrap_or(trimmed)
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"')),
        trimmed.strip_suffix('"').filter(|_| unpaired),
        trimmed.strip_suffix("\",").filter(|_| unpaired),
        trimmed.strip_prefix('"').filter(|_| unpaired),
        // A trailing comma after a status (`status: 500,`) is list punctuation.
        without_comma.filter(|s| s.ends_with(|c: char| c.is_ascii_digit())),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|inner| looks_like_log_line(inner))
        .unwrap_or(line)
}

/// Whether `line` starts the way a log line does: a `(request-id)`, a catalogue sentence, a console timestamp
/// or an ISO date.
fn looks_like_log_line(line: &str) -> bool {
    let b = line.as_bytes();
    split_request_id(line).0.is_some()
        || signature::starts_an_event(line)
        || CONSOLE_TIMESTAMP
            .as_ref()
            .and_then(|t| t.find(line))
            .is_some_and(|m| m.start() == 0)
        || b.len() > 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "(a1) Method completed with status: 502";

    #[test]
    fn markdown_wrappers_come_off() {
        for wrapped in [
            "> (a1) Method completed with status: 502",
            ">> (a1) Method completed with status: 502",
            "> > (a1) Method completed with status: 502",
            "- (a1) Method completed with status: 502",
            "* (a1) Method completed with status: 502",
            "3. (a1) Method completed with status: 502",
            "> - (a1) Method completed with status: 502",
            "... (a1) Method completed with status: 502",
            "…(a1) Method completed with status: 502",
        ] {
            assert_eq!(strip_line(wrapped), STATUS, "{wrapped}");
        }
        let fenced = "```text\n(a1) Method completed with status: 502\n```\n";
        assert_eq!(normalise(fenced), format!("{STATUS}\n"));
        let quoted_fence = "> ```\n> (a1) Method completed with status: 502\n> ```";
        assert_eq!(normalise(quoted_fence), format!("{STATUS}\n"));
    }

    #[test]
    fn emphasis_around_a_pasted_block_comes_off() {
        assert_eq!(
            strip_line("_(a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(
            strip_line("(a1) Method completed with status: 502_"),
            STATUS
        );
        assert_eq!(
            strip_line("*(a1) Method completed with status: 502*"),
            STATUS
        );
        assert_eq!(strip_line("_not a log line_"), "_not a log line_");
        // Bold, and unbalanced runs as a README wrote them.
        assert_eq!(
            strip_line("__(a1) Method completed with status: 502__"),
            STATUS
        );
        assert_eq!(
            strip_line("__(a1) Method completed with status: 502_ "),
            STATUS
        );
        assert_eq!(
            strip_line("**(a1) Method completed with status: 502**"),
            STATUS
        );
        // A bullet is not emphasis.
        assert_eq!(strip_emphasis("* not a log line"), "* not a log line");
    }

    #[test]
    fn prose_after_a_closing_fence_is_not_part_of_the_log() {
        let paste = "We saw:\n```\n(a1) Method completed with status: 502\n```\nThe function was never invoked.\n";
        assert_eq!(normalise(paste), format!("{STATUS}\n"));
        // A log line outside the fences is still read.
        let mixed = "```\n(a1) Starting execution for request: a1\n```\n(a1) Method completed with status: 502\n";
        assert!(normalise(mixed).contains(STATUS));
    }

    #[test]
    fn a_label_naming_the_log_comes_off_only_before_a_log_line() {
        assert_eq!(
            strip_line(r#"API Gateway execution log: "(a1) Method completed with status: 502""#),
            STATUS
        );
        assert_eq!(
            strip_line("Execution log: (a1) Method completed with status: 502"),
            STATUS
        );
        let prose = "API Gateway execution log: it said the request failed";
        assert_eq!(strip_line(prose), prose);
        // A label naming the cause, in emphasis, as notes write it; prose after such a label stays.
        assert_eq!(
            strip_line("- *root Cause:* (a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(
            strip_line("**Error:** (a1) Method completed with status: 502"),
            STATUS
        );
        let error_prose = "Error: Request failed with status code 502";
        assert_eq!(strip_line(error_prose), error_prose);
        let other = "Response body: (a1) Method completed with status: 502";
        assert_eq!(strip_line(other), other);
    }

    #[test]
    fn quotes_and_trailing_punctuation_come_off_only_when_they_do_not_pair() {
        assert_eq!(
            strip_line("\"(a1) Method completed with status: 502\","),
            STATUS
        );
        assert_eq!(
            strip_line("\"(a1) Method completed with status: 502\""),
            STATUS
        );
        assert_eq!(
            strip_line("(a1) Method completed with status: 502\""),
            STATUS
        );
        assert_eq!(
            strip_line("(a1) Method completed with status: 502,"),
            STATUS
        );
        // Quotes that pair belong to the line.
        let body = r#"(a1) Endpoint response body before transformations: {"message":"x"}"#;
        assert_eq!(strip_line(body), body);
        let string_body = r#"(a1) Endpoint response body before transformations: "hello""#;
        assert_eq!(strip_line(string_body), string_body);
        let json_line = r#"(a1) Endpoint response headers: {a=b},"#;
        assert_eq!(strip_line(json_line), json_line);
    }

    #[test]
    fn a_comment_marker_comes_off_a_quoted_log_line_only() {
        assert_eq!(
            strip_line("# (a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(
            strip_line("    // (a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(
            strip_line("# Received response. Status: 400, Integration latency: 10 ms"),
            "Received response. Status: 400, Integration latency: 10 ms"
        );
        // A comment of prose, a heading, and JSON in a comment stay as they are.
        for kept in [
            "# Doing APIG Test on GET:",
            "## Background",
            "# {\"input\": \"{}\",",
        ] {
            assert_eq!(strip_line(kept), kept);
        }
    }

    #[test]
    fn tool_prefixes_and_placeholders_come_off() {
        assert_eq!(
            strip_line(
                "API-Gateway-Execution-Logs_a1b2c3d4e5/prod 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e (a1) Method completed with status: 502"
            ),
            STATUS
        );
        assert_eq!(
            strip_line(
                "2024-11-30T10:00:00.123000+00:00 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e (a1) Method completed with status: 502"
            ),
            STATUS
        );
        assert_eq!(
            strip_line("Date : (a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(
            strip_line("<timestamp> : (a1) Method completed with status: 502"),
            STATUS
        );
        // Prose keeps its first word.
        assert_eq!(
            strip_line("Then the API said hello"),
            "Then the API said hello"
        );
    }

    #[test]
    fn a_quoted_catalogue_sentence_is_unquoted_only_when_it_sharpens() {
        assert_eq!(
            unquote_sentence(
                r#"Execution failed due to configuration error: "Malformed Lambda proxy response""#
            )
            .as_deref(),
            Some("Execution failed due to configuration error: Malformed Lambda proxy response")
        );
        assert_eq!(
            unquote_sentence(r#"(a1) Execution failed due to configuration error: "Invalid permissions on Lambda function""#)
                .as_deref(),
            Some("(a1) Execution failed due to configuration error: Invalid permissions on Lambda function")
        );
        // A quoted body is not a sentence of the catalogue.
        assert_eq!(
            unquote_sentence(r#"(a1) Endpoint response body before transformations: "hello""#),
            None
        );
        // Inside a logged header the sentence still begins nothing.
        assert_eq!(
            unquote_sentence(
                r#"(a1) Method request headers: {X: "Invalid permissions on Lambda function"}"#
            ),
            None
        );
    }

    #[test]
    fn inline_code_comes_off_a_log_line_only() {
        assert_eq!(
            strip_line("`(a1) Method completed with status: 502`"),
            STATUS
        );
        assert_eq!(
            strip_line("> `(a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(strip_line("`npm run build`"), "`npm run build`");
        assert_eq!(strip_line("```"), "```");
    }

    #[test]
    fn html_code_markup_glued_to_the_first_and_last_lines_comes_off() {
        assert_eq!(
            strip_line(
                r#"<pre class="wp-block-code"><code>(a1) Method completed with status: 502</code></pre>"#
            ),
            STATUS
        );
        assert_eq!(
            strip_line("<code>(a1) Method completed with status: 502"),
            STATUS
        );
        assert_eq!(
            strip_line("(a1) Method completed with status: 502</code></pre>"),
            STATUS
        );
        // Markup around anything else stays.
        let prose = "<pre><code>npm run build</code></pre>";
        assert_eq!(strip_line(prose), prose);
    }

    #[test]
    fn double_backtick_code_and_a_backtick_after_the_id_come_off() {
        assert_eq!(
            normalise("``(a1)` Method completed with status: 502``"),
            "(a1) Method completed with status: 502\n"
        );
        assert_eq!(
            normalise("``(a1) Method completed with status: 502``"),
            STATUS.to_owned() + "\n"
        );
        // Inside a message a backtick stays; so does one after something that is not a request id.
        let body = "(a1) Endpoint response body before transformations: is `denied.";
        assert_eq!(normalise(body), body);
        assert_eq!(normalise("``(see below)` then``"), "``(see below)` then``");
    }

    #[test]
    fn html_breaks_are_line_breaks() {
        let text = "(a1) Execution failed due to configuration error: Malformed Lambda proxy response<br/>(a1) Method completed with status: 502<BR>";
        assert_eq!(
            normalise(text),
            "(a1) Execution failed due to configuration error: Malformed Lambda proxy response\n(a1) Method completed with status: 502\n"
        );
    }

    #[test]
    fn run_on_console_output_is_split_at_each_timestamp() {
        let run_on = "Wed Nov 02 10:19:35 UTC 2022 : Starting execution for request: 1 Wed Nov 02 10:19:35 UTC 2022 : Execution failed due to configuration error: Malformed Lambda proxy response Wed Nov 02 10:19:35 UTC 2022 : Method completed with status: 502";
        let lines: Vec<String> = normalise(run_on).lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[2],
            "Wed Nov 02 10:19:35 UTC 2022 : Method completed with status: 502"
        );
        // Quoted and in backticks, after the console's header.
        let quoted = format!("> `Execution log for request 1 {run_on}`");
        let lines: Vec<String> = normalise(&quoted).lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(lines[0], "Execution log for request 1");
        assert_eq!(
            lines[3],
            "Wed Nov 02 10:19:35 UTC 2022 : Method completed with status: 502"
        );
        // With its newlines kept, a body quoting a timestamp stays one line.
        let kept = "Wed Nov 02 10:19:35 UTC 2022 : Endpoint request body after transformations: {\"note\":\"Wed Nov 02 10:19:35 UTC 2022 : Method completed with status: 500\"}\nWed Nov 02 10:19:35 UTC 2022 : Method completed with status: 200";
        assert!(split_run_on_console(kept).is_some_and(|s| s.lines().count() == 3));
    }

    #[test]
    fn test_invoke_and_log_events_json_give_their_log() {
        let invoke = r#"{"status": 502, "body": "{\"message\": \"Internal server error\"}", "headers": {}, "log": "Execution log for request 1\nWed Nov 02 10:19:35 UTC 2022 : Method completed with status: 502\n", "latency": 31}"#;
        assert_eq!(
            tool_output(invoke).unwrap(),
            (
                "Execution log for request 1\nWed Nov 02 10:19:35 UTC 2022 : Method completed with status: 502\n"
                    .to_owned(),
                vec![502]
            )
        );
        let events = r#"{"events": [{"logStreamName": "s", "timestamp": 1, "message": "(a1) Method completed with status: 502", "ingestionTime": 2, "eventId": "3"}], "searchedLogStreams": []}"#;
        assert_eq!(
            tool_output(events).unwrap(),
            (format!("{STATUS}\n"), vec![])
        );
        assert_eq!(tool_output(r#"{"status":"500","requestId":"x"}"#), None);
    }

    #[test]
    fn test_invoke_yaml_is_unfolded_and_unescaped() {
        let yaml = "aws apigateway test-invoke-method --rest-api-id x --resource-id y --http-method \"GET\"\n- body: '{\"message\": \"Internal server error\"}'\n  log: \"Execution log for request 1\\nTue Oct 12\n    21:09:59 UTC 2021 : Endpoint response body before transformations: {\\\"a\\\":1}\\nTue Oct 12 21:10:00 UTC 2021 : Execution\n    failed due to configuration error: Malformed Lambda proxy response\\nTue Oct 12\n    21:10:00 UTC 2021 : Method completed with status: 502\\n\"\n  status: 502\n";
        assert_eq!(
            yaml_test_invoke(yaml).unwrap(),
            (
                "Execution log for request 1\nTue Oct 12 21:09:59 UTC 2021 : Endpoint response body before transformations: {\"a\":1}\nTue Oct 12 21:10:00 UTC 2021 : Execution failed due to configuration error: Malformed Lambda proxy response\nTue Oct 12 21:10:00 UTC 2021 : Method completed with status: 502\n"
                    .to_owned(),
                vec![502]
            )
        );
        // `log:` inside a value is not the key.
        assert_eq!(yaml_test_invoke("note: see log: \"x\""), None);
    }

    #[test]
    fn console_panels_give_their_status_and_leave_the_log() {
        const LOG: &str = "Execution log for request a1\nMon Mar 31 11:17:07 UTC 2025 : Starting execution for request: a1\n";
        // The console before 2023 (`Request: `, `Status: `) and after (labels on their own lines).
        let old = format!(
            "Request: /orders\nStatus: 500\nLatency: 31 ms\nResponse Body\n{{\"message\": \"Internal server error\"}}\nResponse Headers\n{{}}\nLogs\n{LOG}"
        );
        let new = format!(
            "Request\n/orders\nLatency ms\n31\nStatus\n502\nResponse body\n{{\"message\": \"Internal server error\"}}\nResponse headers\n{{}}\nLog\n{LOG}"
        );
        let inline = format!("> Request /orders\n> Status 504\n> Logs\n> {LOG}");
        assert_eq!(console_panels(&old).unwrap(), (LOG.to_owned(), vec![500]));
        assert_eq!(console_panels(&new).unwrap(), (LOG.to_owned(), vec![502]));
        assert_eq!(console_panels(&inline).unwrap().1, vec![504]);
        // No `Request` line, no status, or no log right under `Logs`: not a panel, nothing taken off.
        assert_eq!(console_panels(&format!("Status: 500\nLogs\n{LOG}")), None);
        assert_eq!(
            console_panels(&format!("Request: /orders\nLogs\n{LOG}")),
            None
        );
        assert_eq!(
            console_panels("Request: /orders\nStatus: 500\nLogs\nnothing here\n"),
            None
        );
    }

    #[test]
    fn insights_tables_give_their_message_column() {
        let tabs = "@timestamp\t@message\n2024-11-30 10:00:00.000\t(a1) Method completed with status: 502\n";
        assert_eq!(insights_table(tabs).unwrap(), format!("{STATUS}\n"));
        let markdown = "| @timestamp | @message |\n|---|---|\n| 2024-11-30 10:00:00.000 | (a1) Method completed with status: 502 |\n";
        assert_eq!(insights_table(markdown).unwrap(), format!("{STATUS}\n"));
        assert_eq!(
            insights_table("(a1)\tMethod completed with status: 502"),
            None
        );
    }
}
