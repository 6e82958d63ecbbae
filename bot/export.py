"""Phone numbers -> a CSV file and its name. Pure functions, no I/O."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from bot.filters import Query
from bot.formatters import utc_day
from bot.page import PhoneNumber, SkillGroup

HEADER = ("number", "usage", "active", "province", "city", "provider", "contact flow name", "contact flow id",
          "skill groups", "agent", "tags", "added (UTC)")
GROUP_SEPARATOR = "; "
# Excel reads a CSV without a byte order mark in the machine's legacy code page, which turns 四川 into mojibake;
# with the BOM it reads UTF-8. Other tools (Python's "utf-8-sig", LibreOffice, pandas) skip it.
BOM = "\ufeff"
MAX_NAME_PART = 80
# A cell starting with one of these runs as a formula in Excel and LibreOffice (CSV injection); a leading ' makes it
# text. A number may start with + (+8610...), which no spreadsheet runs on its own, so numbers keep theirs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMULA_STARTS = ("=", "@", "\t", "\r")
UNSAFE = re.compile(r"\W+")  # anything but letters and digits of any script and _


def to_csv(numbers: Iterable[PhoneNumber]) -> bytes:
    """A header row, then one row per number with every column, as UTF-8 with a BOM."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(csv_row(number) for number in numbers)
    return (BOM + text.getvalue()).encode("utf-8")


def csv_row(number: PhoneNumber) -> list[str]:
    active = {True: "yes", False: "no"}.get(number.active, "")
    groups = GROUP_SEPARATOR.join(group_label(group) for group in number.skill_groups)
    texts = [number.usage, active, number.province, number.city, number.provider, number.contact_flow_name,
             number.contact_flow_id, groups, number.user_id, number.tags, utc_day(number.created_at)]
    return [_inert(number.number, NUMBER_FORMULA_STARTS), *(_inert(text, FORMULA_STARTS) for text in texts)]


def _inert(cell: str, formula_starts: tuple[str, ...]) -> str:
    return "'" + cell if cell.startswith(formula_starts) else cell


def group_label(group: SkillGroup) -> str:
    """ "name (display name)"; just one of them when the other is missing or the same."""
    name, display = group.name or group.skill_group_id, group.display_name
    return f"{name} ({display})" if name and display and display != name else name or display


def file_name(query: Query) -> str:
    """ "numbers-ccc-test-0833-inbound-province-四川.csv": the instance and filters, with `-` for anything else."""
    words = [query.instance_id, query.pattern, (query.usage or "").lower(),
             {True: "active", False: "inactive"}.get(query.active, "")]
    words += [f"{name}-{value}" for name, value in query.row_filters]
    slug = UNSAFE.sub("-", "-".join(w for w in words if w)).strip("-")
    return f"numbers-{slug[:MAX_NAME_PART].rstrip('-')}.csv"
