#!/usr/bin/env python3
"""Writes the worst-case subscription deliveries for the memory measurement (BENCHMARKS.md, "Worst-case memory").

  python3 bench/pathological.py OUT_DIR [INFLATED_BYTES]

- tiny-events.json: events of a few bytes each, as many as a delivery may hold (50,000), the most events per byte;
- distinct-failures.json: 50,000 events, each its own request with a function error whose message fills the
  delivery up to INFLATED_BYTES (the most findings, with the most text each, a delivery may hold);
- distinct-routes.json: the same, each failing request on a route of its own (a path without parameters), so that
  no two group together: the most distinct problems a delivery may hold;
- access-records.json: the same size in JSON access-log records of failing requests (read field by field, so they
  are unescaped and owned, unlike execution-log lines).
Both are real `{"awslogs":{"data":...}}` deliveries; deterministic.
"""
import base64, gzip, json, sys
from pathlib import Path

out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
cap = int(sys.argv[2]) if len(sys.argv) > 2 else 16 * 1024 * 1024

def delivery(events):
    batch = {"messageType": "DATA_MESSAGE", "owner": "123456789012",
             "logGroup": "API-Gateway-Execution-Logs_a1b2c3d4e5/prod",
             "logStream": "e369853df766fa44e1ed0ff613f563bd", "subscriptionFilters": ["f"], "logEvents": events}
    raw = json.dumps(batch, separators=(",", ":")).encode()
    return json.dumps({"awslogs": {"data": base64.b64encode(gzip.compress(raw, 9)).decode()}}).encode(), len(raw)

MAX_EVENTS = 50_000

def fill(make):
    events, size = [], 250
    while len(events) < MAX_EVENTS:
        e = make(len(events))
        n = len(json.dumps(e, separators=(",", ":"))) + 1
        if size + n > cap - 1024:
            break
        events.append(e); size += n
    return events

tiny = fill(lambda i: {"id": "", "timestamp": 1, "message": "x"})
pad = "z" * max(0, cap // MAX_EVENTS - 200)
fail = fill(lambda i: {"id": "", "timestamp": 1700000000000 + i,
                       "message": f"({i:08x}-0000-4000-8000-000000000000) Lambda execution failed with status 200 due to customer function error: Error {pad}. Lambda request id: {i:08x}-1111-4000-8000-000000000000"})
def route_pair(i):
    rid = f"({i // 2:08x}-0000-4000-8000-000000000000) "
    if i % 2 == 0:
        return {"id": "", "timestamp": 1700000000000 + i,
                "message": rid + f"HTTP Method: GET, Resource Path: /r{i // 2:08x}/{pad}"}
    return {"id": "", "timestamp": 1700000000000 + i,
            "message": rid + f"Lambda execution failed with status 200 due to customer function error: Error {pad}. "
                             f"Lambda request id: {i // 2:08x}-1111-4000-8000-000000000000"}
routes = fill(route_pair)

def access_record(i):
    record = {"requestId": f"{i:08x}-2222-4000-8000-000000000000", "ip": "203.0.113.7", "httpMethod": "GET",
              "resourcePath": "/orders/{id}", "status": "502", "protocol": "HTTP/1.1", "responseLength": "36",
              "integrationErrorMessage": "The Lambda function returned the following error: " + pad}
    return {"id": "", "timestamp": 1700000000000 + i, "message": json.dumps(record, separators=(",", ":"))}
access = fill(access_record)
for name, events in [("tiny-events", tiny), ("distinct-failures", fail), ("distinct-routes", routes),
                     ("access-records", access)]:
    wire, inflated = delivery(events)
    (out / f"{name}.json").write_bytes(wire)
    print(f"{name}: {len(events)} events, {inflated} bytes inflated, {len(wire)} bytes on the wire")
