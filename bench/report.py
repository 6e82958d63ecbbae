"""The benchmark's table and its verdict on each target, from the results dictionary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.rig import TARGETS

PRODUCTION = "gunicorn"  # the target the goals are judged on: the Procfile's command
Row = tuple[str, Callable[[dict[str, Any]], str]]


def _pair(figures: dict[str, Any]) -> str:
    return f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}" if figures.get("n") else "-"


def _out_of(count: int, whole: int) -> str:
    return f"{count}/{whole}"


ROWS: list[Row] = [
    ("raw SDK call p50 / p99 ms", lambda t: _pair(t["raw_sdk"])),
    ("1 cache miss end to end p50 / p99 ms", lambda t: _pair(t["miss"])),
    ("  over the raw SDK p50, ms", lambda t: f"+{t['miss']['p50_ms'] - t['raw_sdk']['p50_ms']:.1f}"),
    ("2 same command again p50 / p99 ms", lambda t: _pair(t["repeat"])),
    ("  upstream calls for those", lambda t: str(t["repeat"]["upstream_calls"])),
    ("  Next click p50 / p99 ms", lambda t: _pair(t["next"])),
    ("  upstream calls per 10 Next clicks", lambda t: f"{t['next']['calls_per_10_clicks']:g}"),
    ("3 burst: ack p50 / p99 ms (of those acked)", lambda t: _pair(t["burst"]["ack"])),
    ("  no connection in 3 s, or reset", lambda t: str(t["burst"]["refused"])),
    ("  acked within Slack's 3 s", lambda t: _out_of(t["burst"]["acked_in_3s"], t["burst"]["commands"])),
    ("  answered exactly once", lambda t: _out_of(t["burst"]["answered_once"], t["burst"]["commands"])),
    ("  last reply after, s", lambda t: f"{t['burst']['last_reply_s']}"),
    ("  upstream calls", lambda t: str(t["burst"]["upstream_calls"])),
    ("4 peak RSS after paging, MiB", lambda t: f"{t['memory']['peak_rss_mib']:.1f}"),
    ("  numbers seen / distinct", lambda t: f"{t['memory']['numbers_seen']} / {t['memory']['distinct']}"),
    ("  Next click p50 / p99 ms", lambda t: _pair(t["memory"]["click"])),
]


def table(results: dict[str, Any]) -> str:
    targets = results["targets"]
    names = [TARGETS[key].name for key in targets]
    width = max(len(label) for label, _ in ROWS) + 2
    lines = [" " * width + "".join(f"{name:>22}" for name in names)]
    lines += [f"{label:<{width}}" + "".join(f"{cell(figures):>22}" for figures in targets.values()) for label, cell in ROWS]
    if PRODUCTION in targets and "naive" in targets:
        lines += ["", "naive bot / Procfile (same run):"] + [f"  {label}: {value}" for label, value in ratios(targets)]
    lines += ["", f"targets ({TARGETS[PRODUCTION].name}):" if PRODUCTION in targets else "targets:"]
    lines += [f"  {'met ' if v['met'] else 'MISSED'} {v['goal']}: {v['measured']}" for v in results["targets_met"]]
    return "\n".join(lines)


def ratios(targets: dict[str, Any]) -> list[tuple[str, str]]:
    ours, naive = targets[PRODUCTION], targets["naive"]

    def times(pick: Callable[[dict[str, Any]], float]) -> str:
        return f"{pick(naive) / pick(ours):.1f}x" if pick(ours) else "-"

    return [
        ("cache miss p50", times(lambda t: t["miss"]["p50_ms"])),
        ("same command again p50", times(lambda t: t["repeat"]["p50_ms"])),
        ("Next click p50", times(lambda t: t["next"]["p50_ms"])),
        ("burst commands acked within 3 s", f"{naive['burst']['acked_in_3s']} vs {ours['burst']['acked_in_3s']}"),
    ]


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of the production target: what was measured and whether it is met."""
    if PRODUCTION not in results["targets"]:
        return []
    t = results["targets"][PRODUCTION]
    miss_over = t["miss"]["p50_ms"] - t["raw_sdk"]["p50_ms"]
    burst = t["burst"]
    return [
        _goal("cache miss p50 within raw SDK p50 + 15 ms", f"+{miss_over:.1f} ms", miss_over <= 15),
        _goal("cache hit p50 <= 10 ms (same command)", f"{t['repeat']['p50_ms']:.1f} ms", t["repeat"]["p50_ms"] <= 10),
        _goal("cache hit p50 <= 10 ms (Next click)", f"{t['next']['p50_ms']:.1f} ms", t["next"]["p50_ms"] <= 10),
        _goal("at most 1 upstream call per 10 Next clicks", f"{t['next']['calls_per_10_clicks']:g}",
              t["next"]["calls_per_10_clicks"] <= 1),
        _goal("burst ack p99 < 500 ms", f"{burst['ack']['p99_ms']:.1f} ms", burst["ack"]["p99_ms"] < 500),
        _goal("burst: every command answered exactly once", _out_of(burst["answered_once"], burst["commands"]),
              burst["answered_once"] == burst["commands"]),
        _goal("peak RSS < 120 MiB with every number cached", f"{t['memory']['peak_rss_mib']:.1f} MiB",
              t["memory"]["peak_rss_mib"] < 120),
    ]


def _goal(goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"goal": goal, "measured": measured, "met": bool(met)}
