"""Who may use the bot, where, and what a shared (public) message may show. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.config import Settings
from bot.filters import Query
from bot.formatters import MASK
from bot.page import Page
from bot.summary import Summary


@dataclass(frozen=True)
class Access:
    users: frozenset[str] = frozenset()  # empty: everyone
    channels: frozenset[str] = frozenset()  # empty: every conversation
    mask_shared: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        return cls(settings.allowed_users, settings.allowed_channels, settings.mask_shared)

    def refusal(self, user_id: str, channel_id: str) -> str | None:
        """Why `user_id` may not use the bot in `channel_id`, in words for them; None when they may."""
        if self.users and user_id not in self.users:
            return (f"Sorry, /numbers is limited to a list of people, and you are not on it. "
                    f"Ask the admin who runs the bot to add your member ID `{user_id or '?'}` to NUMBERS_ALLOWED_USERS.")
        if self.channels and channel_id not in self.channels:
            return (f"/numbers is not enabled in this conversation. Use it in one where it is, or ask the admin "
                    f"who runs the bot to add `{channel_id or '?'}` to NUMBERS_ALLOWED_CHANNELS.")
        return None

    def for_channel(self, page: Page) -> Page:
        """`page` as a shared message may show it: with NUMBERS_MASK_SHARED, every number (and a whole-number pattern) masked."""
        if not self.mask_shared:
            return page
        numbers = tuple(replace(n, number=self.shared_number(n.number)) for n in page.numbers)
        return replace(page, query=self.shared_query(page.query), numbers=numbers)

    def shared_summary(self, summary: Summary) -> Summary:
        """`summary` with its query as a shared message may show it; its numbers go through `shared_number`."""
        return replace(summary, query=self.shared_query(summary.query))

    def shared_number(self, number: str) -> str:
        return mask_number(number) if self.mask_shared else number

    def shared_query(self, query: Query) -> Query:
        """A pattern long enough to be a whole number is masked like one."""
        return replace(query, pattern=mask_number(query.pattern)) if self.mask_shared and len(query.pattern) >= 9 else query


def mask_number(number: str) -> str:
    """Hide the middle of a number, at least 4 characters and a third of it: 083312340011 -> 0833****0011."""
    hidden = max(4, -(-len(number) // 3))
    keep = min(4, max(0, len(number) - hidden) // 2)
    return number[:keep] + MASK * (len(number) - 2 * keep) + number[len(number) - keep:]
