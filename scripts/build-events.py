#!/usr/bin/env python3
"""Builds events/*.json (CloudWatch Logs subscription deliveries, the wire format) and their readable twins
events/decoded/*.json from the real log lines in tests/data/. Deterministic: re-running gives identical bytes.

Usage: python3 scripts/build-events.py
"""
import base64
import gzip
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EVENTS = ROOT / "events"
ACCOUNT = "123456789012"
CORPUS_API = "API-Gateway-Execution-Logs_uwe3g5jm54/Prod"
OWN_API = "API-Gateway-Execution-Logs_a1b2c3d4e5/prod"
BASE_TS = 1732440000000
CONSOLE_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4} : ")
ISO_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.+-]+\s")


def events_of(name, request_id=None, only=None):
    """The events of a tests/data file as stage-log messages `(<id>) message`, one per event."""
    out = []
    for line in (DATA / name).read_text().splitlines():
        if line.startswith("#") or not line.strip() and not out:
            continue
        line = line.replace("958845080241", ACCOUNT)
        line = ISO_PREFIX.sub("", line)
        had_console_date = CONSOLE_DATE.match(line)
        line = CONSOLE_DATE.sub("", line)
        if line.startswith("("):
            out.append(line)
        elif had_console_date or not out:
            out.append(f"({request_id}) {line}")
        else:  # continuation of a multi-line message
            out[-1] += "\n" + line
    out = [m.rstrip("\n") for m in out]
    if only:
        out = [m for m in out if m.startswith(f"({only})")]
    return out


SENTENCES = ("Sending request to ", "Received response.", "Endpoint response headers: ",
             "Endpoint response body before transformations:", "Execution failed due to ", "Method completed with status: ")


def quoted_log_of(name, request_id):
    """The events of a tests/data file whose log is quoted in prose (fences, `# ` comment markers, blank lines),
    under one request id, each message on one line as API Gateway writes it (a pretty-printed body is joined)."""
    out = []
    lines = (DATA / name).read_text().splitlines()
    body = [line for line in lines if not line.startswith("# source:") and not line.startswith("# expected")
            and not line.startswith("# form:") and not line.startswith("# what it proves:")
            and not line.startswith("# status:")]
    for line in body:
        text = line[2:] if line.startswith("# ") else line
        open_body = out and out[-1].startswith(f"({request_id}) Endpoint response body") and (
            out[-1].endswith("transformations:") or out[-1].count("{") > out[-1].count("}"))
        if text.startswith(SENTENCES):
            out.append(f"({request_id}) {text.strip()}")
        elif open_body and text.strip() and not line.startswith("#"):
            joiner = " " if out[-1].endswith("transformations:") else ""
            out[-1] += joiner + text.strip()
    # The quoting writer's account id, redacted as in every sample.
    return [m.replace("304932368623", ACCOUNT).replace("{    ", "{").replace(",    ", ",") for m in out]


def interleave(*groups):
    """Round-robin the events of several requests, as a busy stage writes them."""
    out, queues = [], [list(g) for g in groups]
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def batch(log_group, messages, stream="e369853df766fa44e1ed0ff613f563bd"):
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": log_group,
        "logStream": stream,
        "subscriptionFilters": ["apigw-doctor"],
        "logEvents": [
            {"id": str(36000000000000000000000000000000000000000000000000000000 + i * 7), "timestamp": BASE_TS + i * 7, "message": m}
            for i, m in enumerate(messages)
        ],
    }


def records_of(name):
    """The one-line access-log records of a tests/data file, one event each."""
    return [l for l in (DATA / name).read_text().splitlines() if l.startswith("{")]


def kinesis_event(payloads):
    """A Kinesis event as Lambda delivers it from a stream fed by a CloudWatch Logs destination: each record's
    data is the gzip'd subscription JSON (Lambda base64-encodes it)."""
    records = []
    for i, (account, payload) in enumerate(payloads):
        seq = f"4959033383461578018231766543{i:02d}00000000000000000000000000000{i}"
        records.append({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": f"{account}-{i:04x}",
                "sequenceNumber": seq,
                "data": base64.b64encode(payload).decode(),
                "approximateArrivalTimestamp": BASE_TS / 1000 + i,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/apigw-doctor",
            "awsRegion": "us-east-1",
            "eventSourceARN": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/apigw-doctor-fan-in",
        })
    return {"Records": records}


def write(name, decoded, raw=None):
    text = json.dumps(decoded, indent=2, ensure_ascii=False) + "\n"
    (EVENTS / "decoded" / f"{name}.json").write_text(text)
    if raw is None:
        compact = json.dumps(decoded, separators=(",", ":"), ensure_ascii=False).encode()
        data = base64.b64encode(gzip.compress(compact, mtime=0)).decode()
        raw = {"awslogs": {"data": data}}
    (EVENTS / f"{name}.json").write_text(json.dumps(raw) + "\n")


def main():
    (EVENTS / "decoded").mkdir(parents=True, exist_ok=True)
    own = {
        "function-error": events_of("11-unhandled-function-error-502-2025.log") + events_of("40-process-exited-502.log"),
        "missing-invoke-permission": events_of("39-missing-permission-with-route-500.log"),
        "authorizer-missing-invoke-permission": events_of("37-authorizer-missing-permission-kc.log"),
        "authorizer-error": events_of("17-authorizer-could-not-parse-policy.log", "6c3a1f0e-1c1a-4b7e-9d61-0a9b3c7d1717")
        + events_of("38-authorizer-cannot-assume-role-500.log"),
        "lambda-throttled": events_of("33-lambda-throttled-429-500-2025.log"),
        "payload-too-large": events_of("30-payload-too-large-502.log"),
        "lambda-kms-error": events_of("31-kms-access-denied-500.log"),
        "lambda-service-error": events_of("32-lambda-service-error-500.log"),
        "mapping-error": events_of("23-unable-to-transform-request-500.log") + events_of("34-output-mapping-invalid-500.log"),
        "backend-error": events_of("35-backend-errors-500.log"),
        "service-integration-error": quoted_log_of(
            "89-code-comment-console-test-step-functions-unmapped-400.log", "7db46310-0000-4000-8000-000000000089")
        + quoted_log_of("90-blog-bare-sentence-sqs-unmapped-403.log", "7db46310-0000-4000-8000-000000000090"),
        "lambda-invoke-error": quoted_log_of(
            "64-lambda-eni-limit-document-logged-as-malformed-502.log", "7db46310-0000-4000-8000-000000000064"),
        "client-error": events_of("36-authorizer-denied-401.log"),
        "unknown-5xx": events_of("41-unknown-5xx.log"),
        "log-injection": events_of("42-log-injection-is-inert.log"),
    }
    corpus = {
        "malformed-proxy-response": events_of("01-malformed-proxy-response-batch.log", only="5cb7ee58-39e6-11e9-be7e-29aff96747f2")
        + events_of("14-malformed-body-object-502-test-console.log", "3e7a9c1d-14aa-4c2b-8f0e-5d6b7a8c1414"),
        "function-timeout": events_of("02-lambda-function-timeout-502.log"),
        "integration-timeout": events_of("05-integration-timeout-504-2018.log"),
        "lambda-throttled-2018": events_of("06-lambda-throttled-reserved-concurrency-502-2018.log"),
        "throttled": events_of("03-stage-throttle-429.log"),
    }
    for name, messages in own.items():
        write(name, batch(OWN_API, messages))
    for name, messages in corpus.items():
        write(name, batch(CORPUS_API, messages))
    mixed = interleave(
        *[events_of("01-malformed-proxy-response-batch.log", only=rid) for rid in (
            "5cb7ee58-39e6-11e9-be7e-29aff96747f2", "6015718a-39e6-11e9-be7e-29aff96747f2",
            "60aa5e11-39e6-11e9-be7e-29aff96747f2", "617ffe5e-39e6-11e9-be7e-29aff96747f2")],
        events_of("02-lambda-function-timeout-502.log"),
        events_of("09-missing-invoke-permission-500-2025.log"),
        events_of("03-stage-throttle-429.log"),
    )
    write("mixed-batch", batch(CORPUS_API, mixed, stream="f033ab37c30201f73f142449d037028d"))
    write("control-message", {
        "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
        "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": BASE_TS,
                                                   "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda function."}],
    })
    http_access = batch("/aws/vendedlogs/apigateway/orders-http-access", records_of("45-http-api-access-log-records.log"),
                        stream="a1b2c3d4e5_.default-2026-11-24-10")
    write("http-api-access-log", http_access)

    # Fan-in: deliveries of two other accounts, one record cut short in transit, one control message.
    def gz(doc):
        return gzip.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(), mtime=0)
    sender_a = batch(CORPUS_API, events_of("02-lambda-function-timeout-502.log"))
    sender_a["owner"] = "111122223333"
    sender_b = dict(http_access, owner="444455556666")
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": BASE_TS,
                                                         "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}
    corrupt = gz(sender_a)[:200]
    payloads = [("111122223333", gz(sender_a)), ("444455556666", gz(sender_b)), ("111122223333", corrupt),
                ("000000000000", gz(control))]
    kinesis = kinesis_event(payloads)
    (EVENTS / "kinesis-fan-in.json").write_text(json.dumps(kinesis, indent=2) + "\n")
    (EVENTS / "decoded" / "kinesis-fan-in.json").write_text(json.dumps({
        "note": "record 3 is the first 200 bytes of a valid gzip stream: it must be the only batch item failure",
        "expected_batch_item_failures": [kinesis["Records"][2]["kinesis"]["sequenceNumber"]],
        "records": [sender_a, sender_b, {"corrupt": "first 200 bytes of record 1's gzip"}, control],
    }, indent=2, ensure_ascii=False) + "\n")

    # A delivery cut short in transit: valid base64 of the first half of a gzip stream.
    good = gzip.compress(json.dumps(batch(OWN_API, own["unknown-5xx"])).encode(), mtime=0)
    bad = {"awslogs": {"data": base64.b64encode(good[: len(good) // 2]).decode()}}
    (EVENTS / "decoded" / "bad-payload.json").write_text(json.dumps(
        {"expected_error": "gzip", "note": "the first half of a valid gzip stream: decoding must fail with a gzip error"}, indent=2) + "\n")
    (EVENTS / "bad-payload.json").write_text(json.dumps(bad) + "\n")


if __name__ == "__main__":
    main()
