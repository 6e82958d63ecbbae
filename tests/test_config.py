"""bot.config: settings from an environment mapping, validated, never leaking secrets."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings, ccc_regions, load_settings, require_http, require_instance

BOT_TOKEN = "xoxb-1111-2222-bot-token-secret"
SIGNING_SECRET = "signing-secret-0123456789abcdef"
APP_TOKEN = "xapp-1-A111-app-token-secret"


def load(**env: str) -> Settings:
    return load_settings(env, dotenv=False)


def config_error(**env: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(**env)
    return str(caught.value)


# --- defaults and modes ---------------------------------------------------------------------------


def test_defaults():
    settings = load()
    assert settings.mode == "console"
    assert (settings.port, settings.region_id, settings.protocol, settings.endpoint) == (3000, "cn-shanghai", "https", "")
    assert (settings.instance_id, settings.instance_ids, settings.allowed_instances) == ("", (), ())
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.rows_per_page, settings.cache_ttl_seconds, settings.max_attempts) == (10, 60, 3)
    assert settings.sandbox is False
    assert (settings.web_concurrency, settings.gunicorn_threads) == (1, 8)


def test_socket_mode_with_an_app_token():
    assert load(SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=BOT_TOKEN).mode == "socket"


def test_socket_mode_wins_over_http():
    assert load(SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET).mode == "socket"


def test_http_mode_with_bot_token_and_signing_secret():
    assert load(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET).mode == "http"


def test_empty_values_count_as_unset():
    assert load(SLACK_BOT_TOKEN=" ", SLACK_SIGNING_SECRET="", PORT="  ").mode == "console"


def test_values_are_read_and_trimmed():
    settings = load(PORT=" 8080 ", CCC_REGION_ID="cn-beijing", CCC_ENDPOINT="127.0.0.1:8090", CCC_PROTOCOL="HTTP",
                    NUMBERS_ROWS_PER_PAGE="20", CCC_READ_TIMEOUT_SECONDS="0.5", CCC_MAX_ATTEMPTS="1", LOG_LEVEL="debug",
                    WEB_CONCURRENCY=" 4", GUNICORN_THREADS="16 ")
    assert (settings.port, settings.region_id, settings.endpoint, settings.protocol) == (8080, "cn-beijing", "127.0.0.1:8090", "http")
    assert (settings.rows_per_page, settings.read_timeout_seconds, settings.max_attempts, settings.log_level) == (20, 0.5, 1, "DEBUG")
    assert (settings.web_concurrency, settings.gunicorn_threads) == (4, 16)


# --- malformed values -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [
    ("PORT", "abc"), ("PORT", "0"), ("PORT", "65536"), ("PORT", "80.5"), ("PORT", "70000"),
    ("WEB_CONCURRENCY", "two"), ("WEB_CONCURRENCY", "0"), ("WEB_CONCURRENCY", "65"), ("WEB_CONCURRENCY", "+2"),
    ("GUNICORN_THREADS", "0"), ("GUNICORN_THREADS", "eight"), ("GUNICORN_THREADS", "257"),
    ("NUMBERS_ROWS_PER_PAGE", "0"), ("NUMBERS_ROWS_PER_PAGE", "21"), ("NUMBERS_ROWS_PER_PAGE", "ten"),
    ("NUMBERS_CACHE_TTL_SECONDS", "-1"), ("NUMBERS_CACHE_MAX_ENTRIES", "99"), ("NUMBERS_LISTENER_THREADS", "0"),
    ("CCC_PROTOCOL", "ftp"), ("CCC_SANDBOX", "maybe"), ("CCC_SANDBOX", "2"), ("LOG_LEVEL", "LOUD"),
    ("CCC_MAX_ATTEMPTS", "0"), ("CCC_MAX_ATTEMPTS", "11"),
    ("CCC_READ_TIMEOUT_SECONDS", "0"), ("CCC_READ_TIMEOUT_SECONDS", "abc"), ("CCC_READ_TIMEOUT_SECONDS", "nan"),
    ("CCC_READ_TIMEOUT_SECONDS", "inf"), ("CCC_READ_TIMEOUT_SECONDS", "121"), ("CCC_CONNECT_TIMEOUT_SECONDS", "0.05"),
    ("CCC_CONNECT_TIMEOUT_SECONDS", "61"), ("CCC_CONNECT_TIMEOUT_SECONDS", "-1"),
    ("CCC_INSTANCE_ID", "ccc test"), ("CCC_INSTANCE_ID", "-ccc"), ("CCC_INSTANCE_ID", "ccc/../x"), ("CCC_INSTANCE_ID", "a" * 65),
    ("CCC_INSTANCE_IDS", "ccc-a,bad id"), ("CCC_INSTANCE_IDS", "ccc-a,ccc<b>"),
    ("SLACK_API_URL", "not a url"), ("SLACK_API_URL", "ftp://slack.example/api"), ("SLACK_API_URL", "http://"),
    ("NUMBERS_ALLOWED_USERS", "alice"), ("NUMBERS_ALLOWED_USERS", "U0ALICE,@bob"), ("NUMBERS_ALLOWED_USERS", "C0OPS"),
    ("NUMBERS_ALLOWED_CHANNELS", "#ops"), ("NUMBERS_ALLOWED_CHANNELS", "U0ALICE"), ("NUMBERS_MASK_SHARED", "partly"),
])
def test_malformed_value_names_its_variable_first(name, value):
    message = config_error(**{name: value})
    assert message.startswith(f"{name}: ")
    assert "\n" not in message


def test_allow_lists_and_masking():
    settings = load(NUMBERS_ALLOWED_USERS=" U0ALICE , W0BOB,", NUMBERS_ALLOWED_CHANNELS="C0OPS,G0PRIV,D0DM", NUMBERS_MASK_SHARED="yes")
    assert settings.allowed_users == {"U0ALICE", "W0BOB"}
    assert settings.allowed_channels == {"C0OPS", "G0PRIV", "D0DM"}
    assert settings.mask_shared is True
    assert load().allowed_users == frozenset() and load().mask_shared is False


def test_a_wrong_id_in_an_allow_list_says_what_an_id_looks_like():
    message = config_error(NUMBERS_ALLOWED_USERS="U0ALICE,@bob")
    assert "'@bob'" in message and "U012AB3CD" in message and "Copy member ID" in message


def test_the_bad_value_is_quoted():
    assert "'abc'" in config_error(PORT="abc")
    assert "'bad id'" in config_error(CCC_INSTANCE_IDS="ccc-a,bad id")


def test_app_token_must_be_an_app_level_token():
    assert config_error(SLACK_APP_TOKEN="xoxb-not-an-app-token", SLACK_BOT_TOKEN=BOT_TOKEN).startswith("SLACK_APP_TOKEN: ")


def test_app_token_needs_the_bot_token():
    assert config_error(SLACK_APP_TOKEN=APP_TOKEN).startswith("SLACK_BOT_TOKEN: ")


def test_bot_token_without_signing_secret():
    assert config_error(SLACK_BOT_TOKEN=BOT_TOKEN).startswith("SLACK_SIGNING_SECRET: ")


def test_signing_secret_without_bot_token():
    assert config_error(SLACK_SIGNING_SECRET=SIGNING_SECRET).startswith("SLACK_BOT_TOKEN: ")


def test_config_errors_do_not_echo_tokens():
    for env in ({"SLACK_APP_TOKEN": "xoxb-secret-in-the-wrong-place", "SLACK_BOT_TOKEN": BOT_TOKEN}, {"SLACK_BOT_TOKEN": BOT_TOKEN}):
        message = config_error(**env)
        assert "secret" not in message.replace("SLACK_SIGNING_SECRET", "")


def test_gunicorn_settings_say_their_range():
    assert config_error(WEB_CONCURRENCY="two") == "WEB_CONCURRENCY: 'two' must be a whole number from 1 to 64"
    assert config_error(GUNICORN_THREADS="0") == "GUNICORN_THREADS: '0' must be a whole number from 1 to 256"


@pytest.mark.parametrize(("env", "missing"), [
    ({}, "SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_SIGNING_SECRET"),  # Socket Mode settings, HTTP asked for
])
def test_require_http_names_what_http_mode_lacks(env, missing):
    with pytest.raises(ConfigError, match=f"^{missing}: "):
        require_http(load(**env))
    require_http(load(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET))


def test_require_instance_names_the_variable():
    with pytest.raises(ConfigError, match="^CCC_INSTANCE_ID: "):
        require_instance(load())
    require_instance(load(CCC_INSTANCE_ID="ccc-test"))


# --- instances and sandbox ------------------------------------------------------------------------


def test_sandbox_defaults_to_the_sample_instances():
    settings = load(CCC_SANDBOX="1")
    assert settings.sandbox is True
    assert settings.instance_id == "ccc-test"
    assert settings.instance_ids == ("ccc-test", "ccc-demo")


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on"])
def test_sandbox_true_words(value):
    assert load(CCC_SANDBOX=value).sandbox is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_sandbox_false_words(value):
    settings = load(CCC_SANDBOX=value)
    assert settings.sandbox is False and settings.instance_id == ""


def test_sandbox_keeps_an_explicit_instance():
    settings = load(CCC_SANDBOX="1", CCC_INSTANCE_ID="ccc-demo", CCC_INSTANCE_IDS="ccc-demo")
    assert (settings.instance_id, settings.allowed_instances) == ("ccc-demo", ("ccc-demo",))


def test_allowed_instances_put_the_default_first_without_duplicates():
    settings = load(CCC_INSTANCE_ID="ccc-b", CCC_INSTANCE_IDS=" ccc-a , ccc-b,ccc-c,, ")
    assert settings.instance_ids == ("ccc-a", "ccc-b", "ccc-c")
    assert settings.allowed_instances == ("ccc-b", "ccc-a", "ccc-c")


def test_default_instance_is_allowed_even_if_not_listed():
    assert load(CCC_INSTANCE_ID="ccc-x", CCC_INSTANCE_IDS="ccc-a").allowed_instances == ("ccc-x", "ccc-a")


def test_the_first_listed_instance_is_the_default_when_none_is_set():
    settings = load(CCC_INSTANCE_IDS="ccc-a,ccc-b")
    assert settings.instance_id == "ccc-a"
    assert settings.allowed_instances == ("ccc-a", "ccc-b")


# --- Slack API URL, repr --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("http://127.0.0.1:9000/api", "http://127.0.0.1:9000/api/"),
    ("http://127.0.0.1:9000/api/", "http://127.0.0.1:9000/api/"),
    ("https://slack.example", "https://slack.example/"),
])
def test_slack_api_url_gets_a_trailing_slash(value, expected):
    assert load(SLACK_API_URL=value).slack_api_url == expected


def test_repr_never_shows_secrets():
    settings = load(SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    CCC_INSTANCE_ID="ccc-test")
    for shown in (repr(settings), str(settings), f"{settings}", repr([settings])):
        assert BOT_TOKEN not in shown and SIGNING_SECRET not in shown and APP_TOKEN not in shown
        assert "xox" not in shown and "xapp" not in shown
    assert "ccc-test" in repr(settings)


# --- CCC region -----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["cn-shanghai", "ap-southeast-1", "cn-beijing", "eu-central-1"])
def test_a_region_ccc_serves_is_taken(region):
    assert load(CCC_REGION_ID=region).region_id == region


def test_a_region_ccc_does_not_serve_is_refused_with_one_line_naming_those_it_does():
    with pytest.raises(ConfigError) as refused:
        load(CCC_REGION_ID="cn-hangzhou")  # a region of Alibaba Cloud, but no CCC endpoint there
    message = str(refused.value)
    assert message.startswith("CCC_REGION_ID: 'cn-hangzhou' is not a region CCC serves; use one of ")
    assert "cn-shanghai" in message and "ap-southeast-1" in message and "\n" not in message


def test_the_regions_are_the_ones_the_sdk_has_endpoints_for():
    assert set(ccc_regions()) >= {"cn-shanghai", "ap-southeast-1", "us-west-1"} and "cn-hangzhou" not in ccc_regions()


def test_any_region_goes_with_an_explicit_endpoint():
    assert load(CCC_REGION_ID="cn-hangzhou", CCC_ENDPOINT="ccc-vpc.example:443").region_id == "cn-hangzhou"


def test_a_cache_smaller_than_one_walk_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"NUMBERS_CACHE_MAX_ENTRIES": "50"})
    assert str(refused.value).startswith("NUMBERS_CACHE_MAX_ENTRIES: '50' must be a whole number from 100 to 1000000: ")
    assert "every click reads them all again" in str(refused.value)
    assert load_settings({"NUMBERS_CACHE_MAX_ENTRIES": "100"}).cache_max_entries == 100
