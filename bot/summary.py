"""Every match of a query -> counts by usage, state, province, provider and skill group, and what needs attention.
Pure functions, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.filters import MAX_REACHABLE, Query
from bot.page import PhoneNumber

TAKES_CALLS = ("Inbound", "Bidirection")  # usages that answer incoming calls, so need a contact flow


@dataclass(frozen=True)
class Tally:
    """One breakdown, e.g. "Province": each value with how many numbers have it, the commonest first."""

    title: str
    counts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Attention:
    """One check that found numbers an admin should look at (`numbers` in the order CCC lists them)."""

    title: str
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    query: Query
    total: int  # the numbers counted: every match among the first 10,000 CCC lists
    searched: int  # CCC's count for the API filters (pattern, usage, state)
    tallies: tuple[Tally, ...]
    attention: tuple[Attention, ...]
    unsettled: bool = False  # CCC kept changing while the numbers were read

    @property
    def truncated(self) -> bool:
        """CCC holds more numbers for the API filters than it lists: the summary covers the first 10,000."""
        return self.searched > MAX_REACHABLE


# (title, what needs attention) for the checks, in the order they are shown
CHECKS: tuple[tuple[str, Callable[[PhoneNumber], bool]], ...] = (
    ("Active, take incoming calls, no contact flow",
     lambda n: n.active is True and n.usage in TAKES_CALLS and not (n.contact_flow_name or n.contact_flow_id)),
    ("In no skill group", lambda n: not n.skill_groups),
    ("Inactive, still bound to an agent", lambda n: n.active is False and bool(n.user_id)),
)


CHANGED_WHILE_COUNTING_TEXT = "CCC changed while counting; these figures may be off by a few."


def summarize(query: Query, searched: int, numbers: Iterable[PhoneNumber], *, unsettled: bool = False) -> Summary:
    """The summary of `numbers`, the matches of `query` among the `searched` numbers of its API filters; `unsettled`:
    CCC kept changing while they were read."""
    numbers = tuple(numbers)
    tallies = (
        _tally("Usage", (n.usage or "usage unknown" for n in numbers)),
        _tally("State", ({True: "active", False: "inactive"}.get(n.active, "state unknown") for n in numbers)),
        _tally("Province", (n.province or "no province" for n in numbers)),
        _tally("Provider", (n.provider or "no provider" for n in numbers)),
        _group_tally(numbers),
    )
    attention = tuple(Attention(title, tuple(n.number for n in numbers if check(n))) for title, check in CHECKS)
    return Summary(query, len(numbers), searched, tallies, attention, unsettled)


def _group_tally(numbers: tuple[PhoneNumber, ...]) -> Tally:
    """Numbers per skill group, told apart by ID (two groups may share a name) and shown by name; a name two groups
    share is followed by each one's ID. "no skill group" counts the numbers in none."""
    counts: Counter[tuple[str, str]] = Counter()  # (ID, or the label when CCC gives none; label) -> numbers
    for number in numbers:
        groups = dict.fromkeys((g.skill_group_id or g.label, g.label or "unnamed skill group") for g in number.skill_groups)
        counts.update(list(groups) or [("", "no skill group")])
    labels = Counter(label for _, label in counts)
    return Tally("Skill group", tuple((label if labels[label] == 1 else f"{label} ({key})", count)
                                     for (key, label), count in counts.most_common()))


def _tally(title: str, values: Iterable[str]) -> Tally:
    return Tally(title, tuple(Counter(values).most_common()))
