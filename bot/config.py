"""Settings, read once from the environment (and `.env`) and validated."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NoReturn, TypeVar

T = TypeVar("T")

DEFAULT_REGION = "cn-shanghai"
SANDBOX_INSTANCE_ID = "ccc-test"
SANDBOX_INSTANCE_IDS = (SANDBOX_INSTANCE_ID, "ccc-demo")
INSTANCE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_CACHE_ENTRIES = 100  # API pages one walk reads at most (100 pages of 100 numbers)
MAX_ROWS_PER_PAGE = 20  # 20 numbers + header, summary and buttons stay well under Slack's 50 blocks
SLACK_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")
SLACK_CHANNEL_ID_RE = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
EVENTS_PATH = "/slack/events"  # HTTP mode: slash commands and interactivity both come here
EXIT_BAD_SETTING = 2
BOT_TOKEN_MISSING = "SLACK_BOT_TOKEN: not set; HTTP mode needs the bot token (xoxb-...) from OAuth & Permissions"
SIGNING_SECRET_MISSING = "SLACK_SIGNING_SECRET: HTTP mode needs it (Basic Information > App Credentials)"


class ConfigError(ValueError):
    """A missing or malformed setting; its message names the setting and how to fix it."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    port: int = 3000
    web_concurrency: int = 1  # gunicorn worker processes
    gunicorn_threads: int = 8  # threads per gunicorn worker
    region_id: str = DEFAULT_REGION
    endpoint: str = ""
    protocol: str = "https"
    instance_id: str = ""
    instance_ids: tuple[str, ...] = ()
    sandbox: bool = False
    rows_per_page: int = 10
    cache_ttl_seconds: int = 60
    cache_max_entries: int = 1000
    error_cache_seconds: float = 5.0  # a failed CCC call is the answer to identical lookups for this long
    connect_timeout_seconds: float = 3.0
    read_timeout_seconds: float = 5.0
    max_attempts: int = 3
    listener_threads: int = 100
    log_level: str = "INFO"
    allowed_users: frozenset[str] = frozenset()  # empty: everyone
    allowed_channels: frozenset[str] = frozenset()  # empty: every conversation
    mask_shared: bool = False

    @property
    def mode(self) -> str:
        """'socket', 'http' or 'console', as the contract picks it."""
        if self.slack_app_token:
            return "socket"
        if self.slack_bot_token and self.slack_signing_secret:
            return "http"
        return "console"

    @property
    def allowed_instances(self) -> tuple[str, ...]:
        """The default instance first, then the others a user may pick with instance:ID."""
        rest = tuple(i for i in self.instance_ids if i != self.instance_id)
        return (self.instance_id, *rest) if self.instance_id else rest

    def __repr__(self) -> str:  # never print secrets
        return f"Settings(mode={self.mode!r}, instance_id={self.instance_id!r}, sandbox={self.sandbox})"


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Read the settings from `environ` (default: the process environment plus `.env`)."""
    if environ is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(Path.cwd() / ".env", override=False)
        environ = os.environ
    env = {k: v.strip() for k, v in environ.items()}

    sandbox = _parse(env, "CCC_SANDBOX", _boolean, False)
    instance_id = env.get("CCC_INSTANCE_ID", "") or (SANDBOX_INSTANCE_ID if sandbox else "")
    instance_ids = tuple(i.strip() for i in env.get("CCC_INSTANCE_IDS", "").split(",") if i.strip())
    if sandbox and not instance_ids:
        instance_ids = SANDBOX_INSTANCE_IDS
    for name, value in [("CCC_INSTANCE_ID", instance_id), *(("CCC_INSTANCE_IDS", i) for i in instance_ids)]:
        if value and not INSTANCE_ID_RE.match(value):
            raise ConfigError(f"{name}: {value!r} is not a CCC instance ID (letters, digits, '-', '_', '.')")
    if not instance_id and instance_ids:
        instance_id = instance_ids[0]

    settings = Settings(
        slack_bot_token=env.get("SLACK_BOT_TOKEN", ""),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        slack_app_token=env.get("SLACK_APP_TOKEN", ""),
        slack_api_url=_slack_api_url(env.get("SLACK_API_URL", "")),
        port=_parse(env, "PORT", _int_between(1, 65535), 3000),
        web_concurrency=_parse(env, "WEB_CONCURRENCY", _int_between(1, 64), 1),
        gunicorn_threads=_parse(env, "GUNICORN_THREADS", _int_between(1, 256), 8),
        region_id=_region(env.get("CCC_REGION_ID", ""), endpoint_given=bool(env.get("CCC_ENDPOINT"))),
        endpoint=env.get("CCC_ENDPOINT", ""),
        protocol=_parse(env, "CCC_PROTOCOL", _one_of("http", "https"), "https"),
        instance_id=instance_id,
        instance_ids=instance_ids,
        sandbox=sandbox,
        rows_per_page=_parse(env, "NUMBERS_ROWS_PER_PAGE", _int_between(1, MAX_ROWS_PER_PAGE), 10),
        cache_ttl_seconds=_parse(env, "NUMBERS_CACHE_TTL_SECONDS", _int_between(0, 86400), 60),
        cache_max_entries=_parse(env, "NUMBERS_CACHE_MAX_ENTRIES", _cache_entries, 1000),
        error_cache_seconds=_parse(env, "NUMBERS_ERROR_CACHE_SECONDS", _float_between(0, 300), 5.0),
        connect_timeout_seconds=_parse(env, "CCC_CONNECT_TIMEOUT_SECONDS", _float_between(0.1, 60), 3.0),
        read_timeout_seconds=_parse(env, "CCC_READ_TIMEOUT_SECONDS", _float_between(0.1, 120), 5.0),
        max_attempts=_parse(env, "CCC_MAX_ATTEMPTS", _int_between(1, 10), 3),
        listener_threads=_parse(env, "NUMBERS_LISTENER_THREADS", _int_between(1, 512), 100),
        log_level=_parse(env, "LOG_LEVEL", _one_of("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        allowed_users=_parse(env, "NUMBERS_ALLOWED_USERS", _slack_ids(SLACK_USER_ID_RE, "a Slack member ID like U012AB3CD "
                                                                      "(profile > ⋯ > Copy member ID)"), frozenset()),
        allowed_channels=_parse(env, "NUMBERS_ALLOWED_CHANNELS", _slack_ids(SLACK_CHANNEL_ID_RE, "a Slack conversation ID like "
                                                                            "C012AB3CD (channel details > About, at the bottom)"),
                                frozenset()),
        mask_shared=_parse(env, "NUMBERS_MASK_SHARED", _boolean, False),
    )
    _check_slack(settings)
    return settings


def require_instance(settings: Settings) -> None:
    """Slack modes and real CCC need an instance to look in."""
    if not settings.instance_id:
        raise ConfigError("CCC_INSTANCE_ID: not set; set it to your CCC instance ID (or set CCC_SANDBOX=1)")


def require_http(settings: Settings) -> None:
    """HTTP mode needs the bot token and the signing secret, whatever else is set."""
    if not settings.slack_bot_token:
        raise ConfigError(BOT_TOKEN_MISSING)
    if not settings.slack_signing_secret:
        raise ConfigError(SIGNING_SECRET_MISSING)


def stop_start_up(error: Exception, code: int = EXIT_BAD_SETTING) -> NoReturn:
    """End the process with one line that says what to fix: no traceback, nothing else."""
    print(f"numbers: {error}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def _check_slack(settings: Settings) -> None:
    if settings.slack_app_token and not settings.slack_app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN: an app-level token starts with 'xapp-' (Basic Information > App-Level Tokens)")
    if settings.slack_app_token and not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN: Socket Mode also needs the bot token (xoxb-...) from OAuth & Permissions")
    if settings.slack_bot_token and not (settings.slack_app_token or settings.slack_signing_secret):
        raise ConfigError(SIGNING_SECRET_MISSING)
    if settings.slack_signing_secret and not settings.slack_bot_token:
        raise ConfigError(BOT_TOKEN_MISSING)


@cache
def ccc_regions() -> tuple[str, ...]:
    """The regions CCC serves, as the SDK knows them: those its endpoint map sends to ccc.aliyuncs.com, and cn-shanghai,
    whose own endpoint (ccc.cn-shanghai.aliyuncs.com) its regional rule makes."""
    from alibabacloud_ccc20200701.client import Client  # imported when needed: the SDK takes most of a second to load
    from alibabacloud_tea_openapi.utils_models import Config

    return tuple(sorted({DEFAULT_REGION, *Client(Config(region_id=DEFAULT_REGION))._endpoint_map}))


def _region(value: str, *, endpoint_given: bool) -> str:
    """CCC_REGION_ID; without CCC_ENDPOINT the SDK makes the host to call from it, so it must be one CCC serves."""
    if not value:
        return DEFAULT_REGION
    if not endpoint_given and value not in ccc_regions():
        raise ConfigError(f"CCC_REGION_ID: {value!r} is not a region CCC serves; use one of {', '.join(ccc_regions())} "
                          "(or set CCC_ENDPOINT)")
    return value


def _slack_api_url(value: str) -> str:
    if not value:
        return "https://slack.com/api/"
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"SLACK_API_URL: {value!r} is not an http(s) URL")
    return value if value.endswith("/") else value + "/"


def _parse(env: Mapping[str, str], name: str, convert: Callable[[str], T], default: T) -> T:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return convert(raw)
    except ValueError as e:
        raise ConfigError(f"{name}: {raw!r} {e}") from None


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("is not a boolean; use 1/true or 0/false")


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        if not re.fullmatch(r"-?\d+", raw) or not low <= int(raw) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return int(raw)

    return convert


def _cache_entries(raw: str) -> int:
    try:
        return _int_between(MIN_CACHE_ENTRIES, 1_000_000)(raw)
    except ValueError as e:
        raise ValueError(f"{e}: a row filter, a summary or an export reads up to {MIN_CACHE_ENTRIES} pages, and with "
                         "fewer kept every click reads them all again") from None


def _float_between(low: float, high: float) -> Callable[[str], float]:
    def convert(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise ValueError(f"must be a number of seconds from {low:g} to {high:g}")
        return value

    return convert


def _slack_ids(pattern: re.Pattern[str], what: str) -> Callable[[str], frozenset[str]]:
    def convert(raw: str) -> frozenset[str]:
        ids = [part.strip() for part in raw.split(",") if part.strip()]
        wrong = [i for i in ids if not pattern.fullmatch(i)]
        if wrong:
            raise ValueError(f"has {wrong[0]!r}, which is not {what}; separate IDs with commas")
        return frozenset(ids)

    return convert


def _one_of(*choices: str) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        for choice in choices:
            if raw.lower() == choice.lower():
                return choice
        raise ValueError(f"must be one of {', '.join(choices)}")

    return convert
