"""Command text -> Query, and Query <-> button value. Pure functions, no I/O."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

MAX_REACHABLE = 10_000  # ListPhoneNumbers: PageNumber and PageSize are both capped at 100
MAX_PATTERN_LENGTH = 32
MAX_VALUE_LENGTH = 2000  # Slack's limit for a button value

USAGES = ("Inbound", "Outbound", "Bidirection")
USAGE_ALIASES = {
    "inbound": "Inbound", "in": "Inbound", "incoming": "Inbound", "呼入": "Inbound",
    "outbound": "Outbound", "out": "Outbound", "outgoing": "Outbound", "呼出": "Outbound",
    "bidirection": "Bidirection", "bidirectional": "Bidirection", "both": "Bidirection",
    "bi": "Bidirection", "呼入和呼出": "Bidirection", "双向": "Bidirection",
}
ACTIVE_ALIASES = {
    "active": True, "enabled": True, "usable": True, "可用": True,
    "inactive": False, "disabled": False, "unusable": False, "不可用": False,
}
HELP_WORDS = ("help", "?", "-h", "--help", "帮助")
SUMMARY_WORDS = ("summary", "summarize", "summarise", "stats", "汇总", "统计")
PATTERN_RE = re.compile(r"\+?[0-9][0-9-]*")
INSTANCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
QUOTED_LENGTH = 80  # a word echoed in an error is clipped to this (an instance ID has up to 64 characters)
# Filters ListPhoneNumbers lacks, applied by the service to the rows it fetched; typed as `province:四川`.
ROW_FILTERS = ("province", "city", "provider", "group", "agent", "tag", "flow")
FILTER_EXAMPLES = {"province": "province:四川", "city": "city:乐山", "provider": "provider:alicom",
                   "group": 'group:"VIP 热线"', "agent": "agent:agent07", "tag": "tag:M1", "flow": "flow:IVR"}
MAX_FILTER_VALUE = 64
QUOTES = '"“”'  # a value with spaces goes in quotes; Slack and CJK keyboards may type the curly ones
SINGLE_QUOTES = "'‘’"  # single quotes work too, around a whole value; inside one (`O'Brien`) they are the value's
FULL_WIDTH_COLON = re.compile(r"^([A-Za-z]+)：")  # a word's first colon, full width, after a name
# `group:"VIP 热线"` and `group:'VIP 热线'` are one word; so is `group："VIP 热线"`, typed on a CJK keyboard
TOKEN_RE = re.compile(r"""[A-Za-z]+[:：](?:["“][^"“”]*["”]|['‘][^'‘’]*['’])|\S+""")
# `group:"VIP 热线` or `group:'VIP 热线`: a quote opened before a space and never closed
UNCLOSED_QUOTE = re.compile(r"""(?:^|\s)([A-Za-z]+[:：]["“'‘])[^"“”'‘’]*\s[^"“”'‘’]*$""")
# Tags is one text that may hold several tags, split on these (as the service splits them)
TAG_SEPARATORS = re.compile(r"[\s,，;；|、]+")
VOCABULARY = (*USAGE_ALIASES, *ACTIVE_ALIASES, "help", "summary", "page", "instance:", *(f"{name}:" for name in ROW_FILTERS))


ANCHOR_SIDES = ("after", "before")


@dataclass(frozen=True)
class Anchor:
    """The number the user saw next to a page: a Next button's page comes right `after` it, a Prev button's page
    right `before` it. Only a digest of the number, so a button stays short whatever CCC's numbers look like."""

    side: str  # one of ANCHOR_SIDES
    digest: str

    def names(self, number: str) -> bool:
        return number_digest(number) == self.digest


def number_digest(number: str) -> str:
    return hashlib.sha256(number.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class Query:
    """One lookup: the API filters, the instance, and which page of the bot's rows."""

    instance_id: str
    pattern: str = ""
    usage: str | None = None
    active: bool | None = None
    page: int = 1
    row_filters: tuple[tuple[str, str], ...] = ()  # (ROW_FILTERS name, value), in ROW_FILTERS order
    # Which number the page must be next to (Prev/Next): how the service tells that the rows moved under the user
    anchor: Anchor | None = field(default=None, compare=False)

    def at_page(self, page: int) -> Query:
        return replace(self, page=page, anchor=None)

    def next_to(self, side: str, number: str) -> Query:
        return replace(self, anchor=Anchor(side, number_digest(number)))

    def describe(self, quote: Callable[[str], str] = str) -> str:
        """The filters in words, e.g. "matching 0833 · inbound · active"; "all numbers" when there are none.

        `quote` sets the user's pattern apart (Slack puts it in a code span)."""
        parts = []
        if self.pattern:
            parts.append(f"matching {quote(self.pattern)}")
        if self.usage:
            parts.append(self.usage.lower())
        if self.active is not None:
            parts.append("active" if self.active else "inactive")
        parts += [f"{name} {quote(value)}" for name, value in self.row_filters]
        return " · ".join(parts) if parts else "all numbers"


@dataclass(frozen=True)
class HelpRequest:
    """`/numbers help`."""


@dataclass(frozen=True)
class SummaryRequest:
    """`/numbers summary [filters]`: counts over every match instead of one page of them."""

    query: Query


class QueryError(ValueError):
    """The command text cannot become a Query; the message says why in words a user understands."""


class UnknownWord(QueryError):
    """A word that is no part of the grammar (a typo, most likely)."""


def typed_text(text: str) -> str:
    """A slash command's text as the user typed it. Slack sends `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`
    (https://api.slack.com/reference/surfaces/formatting#escaping), whatever the command's `should_escape`; `&amp;`
    goes last, so a typed `&lt;` stays `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_command(text: str, *, default_instance: str, allowed_instances: Sequence[str],
                  max_page: int) -> Query | HelpRequest | SummaryRequest:
    """Turn `/numbers` text into a Query (or a HelpRequest, or a SummaryRequest). Raises QueryError naming the problem."""
    # A CJK keyboard's full-width space already splits words (it is whitespace); its colon after a filter name
    # (`province：四川`) is read as `:`. Inside a value both stay as typed.
    unclosed = UNCLOSED_QUOTE.search(text)
    if unclosed:
        raise QueryError(f"The quote after {_quoted(unclosed.group(1)[:-1])} is not closed: put the whole value in quotes, "
                         f"e.g. {_quoted(FILTER_EXAMPLES['group'])}.")
    tokens = [FULL_WIDTH_COLON.sub(r"\1:", token) for token in TOKEN_RE.findall(text)]
    if any(t.lower() in HELP_WORDS for t in tokens):
        return HelpRequest()
    found: dict[str, tuple[str, object]] = {}  # filter name -> (the word the user typed, value)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = token.lower()
        if word in ("page", "p") and index + 1 < len(tokens):
            index += 1
            _set(found, "page", f"{token} {tokens[index]}", _page_number(tokens[index], max_page))
        elif word.startswith("page:"):
            _set(found, "page", token, _page_number(token[5:], max_page))
        elif word.startswith("instance:"):
            _set(found, "instance", token, _instance(token[9:], allowed_instances))
        elif ":" in word and word.partition(":")[0] in ROW_FILTERS:
            name, _, value = token.partition(":")
            _set(found, name.lower(), token, _filter_value(name.lower(), _unquoted(value)))
        elif word in SUMMARY_WORDS:
            _set(found, "summary", token, True)
        elif word in USAGE_ALIASES:
            _set(found, "usage", token, USAGE_ALIASES[word])
        elif word in ACTIVE_ALIASES:
            _set(found, "active", token, ACTIVE_ALIASES[word])
        elif PATTERN_RE.fullmatch(token):
            _set(found, "pattern", token, _pattern(token))
        else:
            raise UnknownWord(_unknown_word(token))
        index += 1
    if "summary" in found and "page" in found:
        raise QueryError(f"A summary counts every match, so it has no pages: drop {_quoted(found['page'][0])}.")
    query = Query(
        instance_id=str(found.get("instance", (None, default_instance))[1]),
        pattern=str(found.get("pattern", (None, ""))[1]),
        usage=found.get("usage", (None, None))[1],  # type: ignore[arg-type]
        active=found.get("active", (None, None))[1],  # type: ignore[arg-type]
        page=int(found.get("page", (None, 1))[1]),  # type: ignore[call-overload]
        row_filters=tuple((name, str(found[name][1])) for name in ROW_FILTERS if name in found),
    )
    return SummaryRequest(query) if "summary" in found else query


def encode_value(query: Query) -> str:
    """The button value that carries the whole lookup, so any process can serve the next click."""
    data = {"i": query.instance_id, "q": query.pattern, "u": query.usage, "a": query.active, "p": query.page,
            "f": dict(query.row_filters)}
    versioned = {"v": 3, **data, "n": [query.anchor.side, query.anchor.digest]} if query.anchor else {"v": 2, **data}
    # ensure_ascii=False: a CJK value costs one character of Slack's 2,000, not six. A lone surrogate, which UTF-8
    # cannot carry, becomes the JSON escape \udXXX that reads back as the same character.
    text = json.dumps(versioned, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


VALUE_KEYS = {1: {"v", "i", "q", "u", "a", "p"}, 2: {"v", "i", "q", "u", "a", "p", "f"},  # version -> keys
              3: {"v", "i", "q", "u", "a", "p", "f", "n"}}
ANCHOR_DIGEST = re.compile(r"[0-9a-f]{16}")
DAMAGED = "That button's data is damaged; run the command again."


def decode_value(value: object, *, allowed_instances: Sequence[str], max_page: int) -> Query:
    """Check a button value that came back from Slack and rebuild its Query; QueryError when it is not ours.

    Versions 1 (before the row filters) and 2 (before the anchor) are still read, for buttons already posted."""
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise QueryError("That button is not one this bot made.")
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: brackets nested deeper than the parser goes
        raise QueryError(DAMAGED) from None
    if not isinstance(data, dict) or not _is_int(data.get("v")) or set(data) != VALUE_KEYS.get(data["v"]):
        raise QueryError("That button is from another version of this bot; run the command again.")
    instance, pattern, usage, active, page = data["i"], data["q"], data["u"], data["a"], data["p"]
    if not isinstance(instance, str) or not isinstance(pattern, str) or not re.fullmatch(r"[0-9]*", pattern):
        raise QueryError(DAMAGED)
    if usage not in (None, *USAGES) or not (active is None or type(active) is bool) or not _is_int(page):
        raise QueryError(DAMAGED)
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise QueryError(DAMAGED)
    row_filters = _decoded_row_filters(data.get("f", {}))
    anchor = _decoded_anchor(data.get("n"))
    _instance(instance, allowed_instances)
    if not 1 <= page <= max_page:
        raise QueryError(f"That button points at page {page}, outside 1-{max_page}; run the command again.")
    return Query(instance_id=instance, pattern=pattern, usage=usage, active=active, page=page, row_filters=row_filters,
                 anchor=anchor)


def _decoded_anchor(raw: object) -> Anchor | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2 or raw[0] not in ANCHOR_SIDES:
        raise QueryError(DAMAGED)
    if not isinstance(raw[1], str) or not ANCHOR_DIGEST.fullmatch(raw[1]):
        raise QueryError(DAMAGED)
    return Anchor(raw[0], raw[1])


def _decoded_row_filters(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not set(raw) <= set(ROW_FILTERS):
        raise QueryError(DAMAGED)
    if not all(isinstance(value, str) and is_filter_value(value) for value in raw.values()):
        raise QueryError(DAMAGED)
    return tuple((name, raw[name]) for name in ROW_FILTERS if name in raw)


def is_filter_value(value: str) -> bool:
    """1-64 characters, no quote, no control character and no lone surrogate, no space at either end."""
    if not 0 < len(value) <= MAX_FILTER_VALUE or value != value.strip() or any(q in value for q in QUOTES):
        return False
    return not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


def max_page_for(rows_per_page: int) -> int:
    """The last page that can exist: ListPhoneNumbers reaches at most 10,000 rows."""
    return -(-MAX_REACHABLE // rows_per_page)


def _is_int(value: object) -> bool:
    """A JSON integer: True and 1.0 equal 1, but are neither version 1 nor a page number."""
    return type(value) is int


def _quoted(word: str) -> str:
    """A word the user typed, as a code span that it cannot close (a backtick inside becomes ˋ), clipped."""
    word = word.replace("`", "ˋ")
    return f"`{word if len(word) <= QUOTED_LENGTH else word[:QUOTED_LENGTH - 1] + '…'}`"


def _set(found: dict[str, tuple[str, object]], name: str, word: str, value: object) -> None:
    if name in found:
        earlier = found[name][0]
        if name == "pattern":
            raise QueryError(f"Give one number pattern, not two: {_quoted(earlier)} and {_quoted(word)}. "
                             f"Did you mean {_quoted(_pattern(earlier) + _pattern(word))}?")
        raise QueryError(f"{_quoted(earlier)} and {_quoted(word)} are two {_FILTER_WORDS[name]}; pick one.")
    found[name] = (word, value)


_FILTER_WORDS = {"summary": "summary words",
                 "usage": "usages", "active": "states (active/inactive)", "page": "page numbers", "instance": "instances",
                 **{name: f"{name} filters" for name in ROW_FILTERS}}


def _pattern(token: str) -> str:
    digits = token.lstrip("+").replace("-", "")
    if len(digits) > MAX_PATTERN_LENGTH:
        raise QueryError(f"The number pattern is too long ({len(digits)} digits); use at most {MAX_PATTERN_LENGTH}.")
    return digits


def _unquoted(value: str) -> str:
    """A filter's value without the quotes around it: double ones at either end, single ones only around the whole."""
    if value[:1] not in QUOTES and _single_quoted(value):
        return value[1:-1].strip()
    return value.strip(QUOTES).strip()


def _single_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] in SINGLE_QUOTES and value[-1] in SINGLE_QUOTES


def _filter_value(name: str, value: str) -> str:
    if not value:
        raise QueryError(f"{_quoted(name + ':')} needs a value after it, e.g. {_quoted(FILTER_EXAMPLES[name])}.")
    if name == "tag" and TAG_SEPARATORS.search(value):
        raise QueryError(f"{_quoted(f'tag:{value}')} can never match: a number's tags are split on spaces, commas and "
                         f"semicolons, so one tag holds none. Give one tag, e.g. {_quoted('tag:' + TAG_SEPARATORS.split(value)[0])}.")
    if not is_filter_value(value):
        raise QueryError(f"{_quoted(f'{name}:{value}')} is not a {name} I can look for: use at most "
                         f"{MAX_FILTER_VALUE} characters, no quotes inside, and quotes around a value with spaces.")
    return value



def _page_number(raw: str, max_page: int) -> int:
    # int() refuses more than 4,300 digits with a ValueError, and no page has even ten
    number = int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else 0
    if not 1 <= number <= max_page:
        raise QueryError(f"{_quoted(f'page {raw}')} needs a page number from 1 to {max_page}.")
    return number


def _instance(instance: str, allowed: Sequence[str]) -> str:
    if not INSTANCE_RE.fullmatch(instance):
        raise QueryError(f"{_quoted(f'instance:{instance}')} is not a CCC instance ID.")
    if instance not in allowed:
        listed = ", ".join(map(_quoted, allowed)) or "none"
        raise QueryError(f"Instance {_quoted(instance)} is not one this bot may look in. Allowed: {listed}.")
    return instance


def _unknown_word(token: str) -> str:
    word = token.lower()
    if word == "page":
        return "`page` needs a number after it, e.g. `page 2`."
    prefix, colon, rest = word.partition(":")
    candidates = difflib.get_close_matches(prefix + colon, VOCABULARY, n=1, cutoff=0.6)
    hint = ""
    if candidates:
        suggestion = candidates[0] + (token.partition(":")[2] if candidates[0].endswith(":") else "")
        hint = f" Did you mean {_quoted(suggestion)}?"
    elif re.search(r"\d", token):
        hint = " A number pattern is digits only, e.g. `0833`."
    return f"I don't know the word {_quoted(token)}.{hint} Try `/numbers help`."


def command_text(query: Query) -> str:
    """The `/numbers` text that gives this query back (the inverse of parse_command), instance included."""
    words = [query.pattern, (query.usage or "").lower(), {True: "active", False: "inactive"}.get(query.active, "")]
    words += [filter_word(name, value) for name, value in query.row_filters]
    if query.page > 1:
        words.append(f"page {query.page}")
    words.append(f"instance:{query.instance_id}")
    return " ".join(w for w in words if w)


def filter_word(name: str, value: str) -> str:
    """A row filter as typed: `tag:M1`, or `group:"VIP 热线"` when the value has a space or starts with a single quote."""
    return f'{name}:"{value}"' if any(c.isspace() for c in value) or value[:1] in SINGLE_QUOTES else f"{name}:{value}"


MAX_OPTION_VALUE = 150  # Slack's limit for a menu option's value
MAX_NUMBER_LENGTH = 100
MENU_DAMAGED = "That menu's data is damaged; run the command again."


def number_ref(instance_id: str, number: str) -> str | None:
    """The Details menu option value for one number, compact JSON `{"i": instance, "n": number}`; None for a number
    that cannot be looked up by its digits or whose value would pass Slack's 150 characters."""
    if not 0 < len(number) <= MAX_NUMBER_LENGTH or not re.search(r"[0-9]", number):
        return None
    text = json.dumps({"i": instance_id, "n": number}, separators=(",", ":"), ensure_ascii=False)
    value = text.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate as its JSON escape
    return value if len(value) <= MAX_OPTION_VALUE else None


def decode_number_ref(value: object, *, allowed_instances: Sequence[str]) -> tuple[str, str]:
    """(instance, number) from a Details option value that came back from Slack; QueryError when it is not ours."""
    if not isinstance(value, str) or len(value) > MAX_OPTION_VALUE:
        raise QueryError("That menu is not one this bot made.")
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        raise QueryError(MENU_DAMAGED) from None
    if not isinstance(data, dict) or set(data) != {"i", "n"} or not all(isinstance(v, str) for v in data.values()):
        raise QueryError(MENU_DAMAGED)
    instance, number = data["i"], data["n"]
    if number_ref(instance, number) is None:
        raise QueryError(MENU_DAMAGED)
    return _instance(instance, allowed_instances), number
