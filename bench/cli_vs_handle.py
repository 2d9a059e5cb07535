#!/usr/bin/env python3
"""Whole-process cost per delivery of `apigw-doctor diagnose` against `apigw-doctor handle` (what the Lambda does,
printing instead of publishing), on the built release binary: each command on N copies of a delivery and on one
copy, (t_N - t_1) / (N - 1), so that process start and SDK set-up cancel out. Rounds are interleaved (diagnose N,
diagnose 1, handle N, handle 1, ...); medians with p10-p90 over the rounds.

    cargo build --release --bin apigw-doctor
    python3 bench/cli_vs_handle.py DELIVERY.json [DELIVERY.json ...] [--copies 21] [--rounds 15] [--format json|text]

`--format` is what both commands print (json by default: every problem as an object; text is what a person sees,
grouped per distinct problem past 100 problems).
"""

import os
import statistics
import subprocess
import sys
import time

BIN = os.environ.get("BIN", "target/release/apigw-doctor")


def run(args):
    env = {k: v for k, v in os.environ.items() if k != "ALERT_TOPIC_ARN"}
    env.setdefault("AWS_REGION", "us-east-1")
    start = time.perf_counter()
    subprocess.run([BIN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def quantiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]
    return statistics.median(values), pick(0.1), pick(0.9)


def main():
    args = sys.argv[1:]
    copies, rounds, fmt = 21, 15, "json"
    if "--copies" in args:
        i = args.index("--copies"); copies = int(args[i + 1]); del args[i:i + 2]
    if "--rounds" in args:
        i = args.index("--rounds"); rounds = int(args[i + 1]); del args[i:i + 2]
    if "--format" in args:
        i = args.index("--format"); fmt = args[i + 1]; del args[i:i + 2]
    print("| delivery | diagnose per delivery, ms | handle per delivery, ms | diagnose / handle |")
    print("|---|---:|---:|---:|")
    for delivery in args:
        per = {"diagnose": [], "handle": []}
        for _ in range(rounds):
            for command in ("diagnose", "handle"):
                extra = ["--format", fmt]
                many = run([command, *extra, *([delivery] * copies)])
                one = run([command, *extra, delivery])
                per[command].append((many - one) / (copies - 1) * 1000)
        d, h = quantiles(per["diagnose"]), quantiles(per["handle"])
        ratios = sorted(a / b for a, b in zip(per["diagnose"], per["handle"]))
        r = quantiles(ratios)
        print(
            f"| {os.path.basename(delivery)} | {d[0]:.2f} ({d[1]:.2f}-{d[2]:.2f}) | {h[0]:.2f} ({h[1]:.2f}-{h[2]:.2f}) "
            f"| {r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f}) |"
        )


if __name__ == "__main__":
    main()
