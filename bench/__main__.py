"""`python -m bench`: run every scenario against each target, print the table, write bench/results.json."""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.report import ratios, table, verdicts
from bench.rig import TARGETS, Rig, Target

RESULTS = Path(__file__).with_name("results.json")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--numbers", type=int, default=10_000, help="numbers in the CCC instance (default 10000)")
    parser.add_argument("--latency-ms", type=float, default=20, help="time each CCC call takes (default 20)")
    parser.add_argument("--runs", type=int, default=60, help="samples for the miss and repeat scenarios (default 60)")
    parser.add_argument("--walks", type=int, default=5, help="results to click Next ten times through (default 5)")
    parser.add_argument("--burst", type=int, default=100, help="concurrent commands in the burst (default 100)")
    parser.add_argument("--burst-latency", type=float, default=2.0, help="seconds each CCC call takes in the burst")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for the gunicorn targets (default: unset, as deployed)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every bot started, e.g. NUMBERS_LISTENER_THREADS=32 (repeatable)")
    parser.add_argument("--targets", default="gunicorn,bot,naive", help=f"comma list of {', '.join(TARGETS)}")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON (default bench/results.json)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes for a quick check that the benchmark runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.numbers, args.runs, args.walks, args.burst, args.burst_latency = 300, 3, 1, 4, 0.2
    if any("=" not in setting for setting in args.env):
        parser.error("--env takes NAME=VALUE")
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    return args


def measure(rig: Rig, target: Target, args: argparse.Namespace) -> dict[str, Any]:
    """Each scenario on a fresh process of `target`, so one cannot warm the cache of the next."""
    commands = scenarios.distinct_commands()
    print(f"  {target.name}: cache misses and hits", file=sys.stderr, flush=True)
    with rig.running(target) as (_, user):
        scenarios.warm_up(user, args.workers)
        figures = scenarios.overhead(rig, user, commands[:args.runs])
        figures.update(scenarios.cache_hits(rig, user, commands[0], args.runs, args.walks))
    print(f"  {target.name}: paging through every number", file=sys.stderr, flush=True)
    with rig.running(target) as (process, user):
        figures["memory"] = scenarios.memory(rig, process, user, target.last_page)
    print(f"  {target.name}: burst of {args.burst}", file=sys.stderr, flush=True)
    with rig.running(target) as (_, user):
        scenarios.warm_up(user, args.workers)
        figures["burst"] = scenarios.burst(rig, user, commands[:args.burst], args.burst_latency)
    return figures


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
              if line.startswith("model name")] if cpuinfo.exists() else []
    return {"cpus": os.cpu_count(), "cpu": models[0] if models else platform.machine(),
            "python": platform.python_version(), "system": platform.platform()}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k != "output"}
    results: dict[str, Any] = {"machine": machine(), "settings": settings, "targets": {}}
    rig = Rig(args.numbers, args.workers, dict(setting.split("=", 1) for setting in args.env))
    gc.freeze()  # the 10,000 numbers the stand-in holds: a full collection over them here would pause a measurement
    rig.ccc.latency = args.latency_ms / 1000
    print(f"numbers bench: {args.numbers} numbers, CCC latency {args.latency_ms:g} ms", file=sys.stderr, flush=True)
    try:
        for key in args.targets.split(","):
            results["targets"][key] = measure(rig, TARGETS[key], args)
    finally:
        rig.close()
    results["ratios"] = ratios(results["targets"])
    results["targets_met"] = verdicts(results)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
