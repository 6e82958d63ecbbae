"""What a lookup returns: the numbers of one page and where that page sits in the whole result."""

from __future__ import annotations

from dataclasses import dataclass

from bot.filters import MAX_REACHABLE, Query


@dataclass(frozen=True)
class SkillGroup:
    skill_group_id: str
    name: str
    display_name: str

    @property
    def label(self) -> str:
        return self.display_name or self.name or self.skill_group_id


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    active: bool | None = None
    usage: str = ""
    province: str = ""
    city: str = ""
    provider: str = ""
    contact_flow_name: str = ""
    contact_flow_id: str = ""
    skill_groups: tuple[SkillGroup, ...] = ()
    user_id: str = ""
    tags: str = ""
    created_at: int | None = None  # Unix seconds

    @property
    def location(self) -> str:
        if self.province and self.city and self.province != self.city:
            return f"{self.province} {self.city}"
        return self.city or self.province


@dataclass(frozen=True)
class Page:
    """Rows `first_row`..`last_row` (1-based) of `total` matches; `query.page` is the page shown.

    With row filters, `total` counts the rows that passed them, out of the `searched` ones."""

    query: Query
    numbers: tuple[PhoneNumber, ...]
    total: int
    rows_per_page: int
    requested_page: int
    searched: int | None = None  # with row filters: CCC's count for the API filters, whose first 10,000 were searched
    moved: bool = False  # rows moved in CCC since the page the user clicked Prev or Next on

    @property
    def reachable(self) -> int:
        return min(self.total, MAX_REACHABLE)

    @property
    def truncated(self) -> bool:
        """CCC holds more matches than it lists (10,000): rows past those were neither shown nor searched."""
        return (self.total if self.searched is None else self.searched) > MAX_REACHABLE

    @property
    def page_count(self) -> int:
        return max(1, -(-self.reachable // self.rows_per_page))

    @property
    def first_row(self) -> int:
        return (self.query.page - 1) * self.rows_per_page + 1 if self.numbers else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.numbers) - 1 if self.numbers else 0

    @property
    def has_prev(self) -> bool:
        return self.query.page > 1

    @property
    def has_next(self) -> bool:
        return self.query.page < self.page_count

    @property
    def clamped(self) -> bool:
        """The user asked for a page past the end and got the last one instead.

        Not when nothing matches: there are no pages to speak of then."""
        return self.requested_page != self.query.page and bool(self.numbers)


def rows_window(page: int, rows_per_page: int, api_page_size: int) -> tuple[int, int, list[int]]:
    """For a bot page: (first row offset, row count, the API pages that hold those rows)."""
    start = (page - 1) * rows_per_page
    end = min(start + rows_per_page, MAX_REACHABLE)
    first_api, last_api = start // api_page_size + 1, (end - 1) // api_page_size + 1
    return start, end - start, list(range(first_api, last_api + 1))
