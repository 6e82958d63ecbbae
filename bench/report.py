"""The benchmark's table, its ratios and its verdict on each target, from the results dictionary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.rig import TARGETS

PRODUCTION = "gunicorn"  # the target the goals are judged on: the Procfile's command
Row = tuple[str, Callable[[dict[str, Any]], str]]


def p50(figures: dict[str, Any]) -> float | None:
    return figures.get("p50_ms")


def _pair(figures: dict[str, Any]) -> str:
    return f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}" if figures.get("n") else "-"


def _over_raw(t: dict[str, Any]) -> float | None:
    miss, raw = p50(t["miss"]), p50(t["raw_sdk"])
    return None if miss is None or raw is None else miss - raw


def _out_of(count: int, whole: int) -> str:
    return f"{count}/{whole}"


ROWS: list[Row] = [
    ("raw SDK call p50 / p99 ms", lambda t: _pair(t["raw_sdk"])),
    ("1 cache miss end to end p50 / p99 ms", lambda t: _pair(t["miss"])),
    ("  over the raw SDK p50, ms", lambda t: "-" if _over_raw(t) is None else f"{_over_raw(t):+.1f}"),
    ("2 same command again p50 / p99 ms", lambda t: _pair(t["repeat"])),
    ("  upstream calls for those", lambda t: str(t["repeat"]["upstream_calls"])),
    ("  Next click p50 / p99 ms", lambda t: _pair(t["next"])),
    ("  upstream calls per 10 Next clicks", lambda t: f"{t['next']['calls_per_10_clicks']:g}"),
    ("3 burst: ack p50 / p99 ms (of those acked)", lambda t: _pair(t["burst"]["ack"])),
    ("  not acked (refused, reset, timed out)", lambda t: str(t["burst"]["not_acked"])),
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
    if results.get("ratios"):
        lines += ["", "naive bot ÷ Procfile, same run (above 1: the naive bot takes longer):"]
        lines += [f"  {label}: {'-' if value is None else f'{value:.1f}x'}" for label, value in results["ratios"].items()]
    lines += ["", f"targets ({TARGETS[PRODUCTION].name}):" if PRODUCTION in targets else "targets:"]
    lines += [f"  {'met ' if v['met'] else 'MISSED'} {v['goal']}: {v['measured']}" for v in results["targets_met"]]
    return "\n".join(lines)


def ratios(targets: dict[str, Any]) -> dict[str, float | None]:
    """The naive bot's time over the production bot's, per scenario (empty unless both ran)."""
    if PRODUCTION not in targets or "naive" not in targets:
        return {}
    ours, naive = targets[PRODUCTION], targets["naive"]

    def over(pick: Callable[[dict[str, Any]], float | None]) -> float | None:
        theirs, mine = pick(naive), pick(ours)
        return None if not theirs or not mine else round(theirs / mine, 2)

    return {
        "cache miss p50": over(lambda t: p50(t["miss"])),
        "same command again p50": over(lambda t: p50(t["repeat"])),
        "Next click p50": over(lambda t: p50(t["next"])),
    }


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of the production target: what was measured and whether it is met (no samples: missed)."""
    if PRODUCTION not in results["targets"]:
        return []
    t = results["targets"][PRODUCTION]
    over, repeat, click, ack = _over_raw(t), p50(t["repeat"]), p50(t["next"]), t["burst"]["ack"].get("p99_ms")
    burst = t["burst"]
    return [
        _goal("cache miss p50 within raw SDK p50 + 15 ms", over, "{:+.1f} ms", lambda v: v <= 15),
        _goal("cache hit p50 <= 10 ms (same command)", repeat, "{:.1f} ms", lambda v: v <= 10),
        _goal("cache hit p50 <= 10 ms (Next click)", click, "{:.1f} ms", lambda v: v <= 10),
        _goal("at most 1 upstream call per 10 Next clicks", t["next"]["calls_per_10_clicks"] if click is not None else None,
              "{:g}", lambda v: v <= 1),
        _goal("burst ack p99 < 500 ms", ack, "{:.1f} ms", lambda v: v < 500),
        {"goal": "burst: every command answered exactly once", "measured": _out_of(burst["answered_once"], burst["commands"]),
         "met": burst["answered_once"] == burst["commands"]},
        _goal("peak RSS < 120 MiB with every number cached", t["memory"]["peak_rss_mib"], "{:.1f} MiB", lambda v: v < 120),
    ]


def _goal(goal: str, value: float | None, shown: str, met: Callable[[float], bool]) -> dict[str, Any]:
    if value is None:
        return {"goal": goal, "measured": "no samples", "met": False}
    return {"goal": goal, "measured": shown.format(value), "met": bool(met(value))}
