#!/usr/bin/env python3
"""The peer we compare with: a typical Python 3.11 subscription handler doing the same job as apigw-doctor's
hot path (base64, gzip, json, one regex per signature per line, grouping by request id, a cause per request,
grouping into alerts). It checks its counts per cause against the generator's ground truth, like the Rust bench.

Usage: python3 bench/python_peer.py DIR   (DIR from `cargo bench --bench pipeline -- --write-events DIR`)
Prints one JSON line per delivery: {"delivery", "median_ms", "min_ms", "runs", "counts_match"}.
"""
import base64
import gzip
import json
import re
import statistics
import sys
import time
from pathlib import Path

PREFIX = re.compile(r"^\(([^)\s]+)\) (.*)$", re.S)
STATUS = re.compile(r"^Method completed with status: (\d+)")
ROUTE = re.compile(r"^HTTP Method: (\S+), Resource Path: (\S+)")
# One regex per signature, searched on every line: how such handlers are usually written.
SIGNATURES = [
    ("invalid_permissions", re.compile(r"Execution failed due to configuration error: Invalid permissions on Lambda function")),
    ("authorizer_error", re.compile(r"Execution failed due to configuration error: Authorizer error")),
    ("could_not_parse_policy", re.compile(r"Execution failed due to configuration error: Could not parse policy")),
    ("malformed", re.compile(r"Execution failed due to configuration error: Malformed Lambda proxy response")),
    ("rate_exceeded", re.compile(r"Execution failed due to configuration error: Rate Exceeded\.")),
    ("lambda_429", re.compile(r"Lambda invocation failed with status: 429")),
    ("unable_to_transform", re.compile(r"Execution failed due to configuration error: Unable to transform request")),
    ("internal_error", re.compile(r"Execution failed due to configuration error: There was an internal error while executing your request")),
    ("integration_timeout", re.compile(r"Execution failed due to a timeout error")),
    ("customer_error", re.compile(r"Lambda execution failed with status \d+ due to customer function error: (.*)")),
    ("key_throttle", re.compile(r"Key throttle limit exceeded for")),
    ("kms", re.compile(r"Lambda was unable to decrypt the environment variables because KMS access was denied")),
    ("service", re.compile(r'"Type": "Service"')),
    ("success", re.compile(r"Successfully completed execution")),
]
TIMEOUT = re.compile(r"Task timed out after [\d.]+ seconds")
PAYLOAD = re.compile(r"^Response payload size exceeded")


def cause_of(r):
    s = r["signals"]
    if "invalid_permissions" in s:
        return "authorizer_missing_invoke_permission" if "authorizer_error" in s else "missing_invoke_permission"
    if "could_not_parse_policy" in s or "authorizer_error" in s:
        return "authorizer_error"
    if "lambda_429" in s or "rate_exceeded" in s:
        return "lambda_throttled"
    if "integration_timeout" in s:
        return "integration_timeout"
    if "customer_error" in s:
        text = r["customer_error"]
        if PAYLOAD.search(text):
            return "payload_too_large"
        if TIMEOUT.search(text):
            return "function_timeout"
        return "function_error"
    if "kms" in s:
        return "lambda_kms_error"
    if "service" in s:
        return "lambda_service_error"
    if "malformed" in s:
        return "malformed_proxy_response"
    if "unable_to_transform" in s:
        return "mapping_error"
    if "internal_error" in s:
        return "backend_error"
    if "key_throttle" in s:
        return "throttled"
    status = r["status"]
    if status is None:
        return "incomplete"
    if status < 400:
        return "ok"
    if status == 429:
        return "throttled"
    if status < 500:
        return "client_error"
    return "unknown_5xx"


def handle(event_bytes):
    event = json.loads(event_bytes)
    batch = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    requests = {}
    for e in batch["logEvents"]:
        m = PREFIX.match(e["message"])
        if not m:
            continue
        rid, msg = m.group(1), m.group(2)
        r = requests.get(rid)
        if r is None:
            r = requests[rid] = {"status": None, "signals": set(), "route": None, "customer_error": ""}
        for name, rx in SIGNATURES:
            found = rx.search(msg)
            if found:
                r["signals"].add(name)
                if name == "customer_error":
                    r["customer_error"] = found.group(1)
        st = STATUS.search(msg)
        if st:
            r["status"] = int(st.group(1))
        rt = ROUTE.search(msg)
        if rt:
            r["route"] = rt.groups()
    counts, alerts = {}, {}
    for r in requests.values():
        cause = cause_of(r)
        counts[cause] = counts.get(cause, 0) + 1
        if cause not in ("ok", "client_error", "throttled", "incomplete"):
            key = (batch["logGroup"], r["route"], cause)
            alerts[key] = alerts.get(key, 0) + 1
    return counts, alerts


def main():
    directory = Path(sys.argv[1])
    for stem in ("small", "medium", "largest"):
        event = (directory / f"{stem}.json").read_bytes()
        truth = json.loads((directory / f"{stem}.truth.json").read_text())["causes"]
        counts, _ = handle(event)
        samples = []
        budget = time.perf_counter() + 3.0
        while len(samples) < 5 or time.perf_counter() < budget:
            t = time.perf_counter()
            handle(event)
            samples.append(time.perf_counter() - t)
        print(json.dumps({
            "delivery": stem,
            "median_ms": statistics.median(samples) * 1e3,
            "min_ms": min(samples) * 1e3,
            "runs": len(samples),
            "counts_match": counts == truth,
        }))
        if counts != truth:
            print(f"{stem}: peer counts {counts} differ from the truth {truth}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
