"""Which proxy, if any, the CCC client is given, and what start-up says about it."""

from __future__ import annotations

import logging
import os

import pytest

from bot.config import load_settings
from bot.sandbox import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from bot.service import build_client, ccc_proxy, sdk_endpoint

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the variables it is about; monkeypatch puts the developer's back afterwards."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:8090", "localhost:8090", "127.8.9.1", "[::1]:8090"])
def test_loopback_is_reached_directly_and_the_sdk_no_longer_sees_the_proxy(monkeypatch, endpoint):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.corp:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert ccc_proxy("http", endpoint) is None
    assert "HTTP_PROXY" not in os.environ and "http_proxy" not in os.environ  # darabonba would read them on each call
    assert os.environ["HTTPS_PROXY"] == "http://proxy.corp:3128"  # what Slack's client reads first is left alone


@pytest.mark.parametrize(("protocol", "variable"), [("https", "HTTPS_PROXY"), ("https", "https_proxy"), ("http", "HTTP_PROXY")])
def test_real_ccc_goes_through_the_proxy_for_its_protocol(monkeypatch, protocol, variable):
    monkeypatch.setenv(variable, "http://proxy.corp:3128")
    assert ccc_proxy(protocol, "ccc.cn-shanghai.aliyuncs.com") == "http://proxy.corp:3128"
    assert os.environ[variable] == "http://proxy.corp:3128"


def test_no_proxy_set_means_direct(monkeypatch):
    assert ccc_proxy("https", "ccc.aliyuncs.com") is None


def test_no_proxy_naming_real_ccc_is_reported_as_ignored_by_the_sdk(monkeypatch, caplog):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", ".aliyuncs.com")
    with caplog.at_level(logging.WARNING, logger="bot.service"):
        assert ccc_proxy("https", "ccc.aliyuncs.com") == "http://proxy.corp:3128"
    assert "does not read NO_PROXY" in caplog.text


@pytest.mark.parametrize(("region", "endpoint"), [("cn-shanghai", "ccc.cn-shanghai.aliyuncs.com"), ("ap-southeast-1", "ccc.aliyuncs.com"),
                                                  ("us-west-1", "ccc.aliyuncs.com")])
def test_the_endpoint_is_the_one_the_sdk_makes_of_the_region(region, endpoint):
    assert sdk_endpoint(load_settings({"CCC_REGION_ID": region}, dotenv=False)) == endpoint


def test_start_up_names_the_endpoint_and_the_proxy_but_not_the_proxy_password(monkeypatch, caplog):
    monkeypatch.setenv("HTTPS_PROXY", "http://bot:proxy-password@proxy.corp:3128")
    with caplog.at_level(logging.INFO, logger="bot.service"):
        build_client(load_settings({"CCC_REGION_ID": "ap-southeast-1"}, dotenv=False), (SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET))
    assert "CCC endpoint https://ccc.aliyuncs.com (CCC_REGION_ID ap-southeast-1), through the proxy at proxy.corp:3128" in caplog.text
    assert "proxy-password" not in caplog.text and SANDBOX_ACCESS_KEY_SECRET not in caplog.text
