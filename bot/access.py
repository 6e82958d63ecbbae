"""Who may use the bot, where, and what a shared (public) message may show. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.config import Settings
from bot.page import Page

MASK = "*"


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
        numbers = tuple(replace(n, number=mask_number(n.number)) for n in page.numbers)
        pattern = page.query.pattern
        query = replace(page.query, pattern=mask_number(pattern)) if len(pattern) >= 9 else page.query
        return replace(page, query=query, numbers=numbers)


def mask_number(number: str) -> str:
    """Hide the middle of a number, at least 4 characters and a third of it: 083312340011 -> 0833****0011."""
    hidden = max(4, -(-len(number) // 3))
    keep = min(4, max(0, len(number) - hidden) // 2)
    return number[:keep] + MASK * (len(number) - 2 * keep) + number[len(number) - keep:]
