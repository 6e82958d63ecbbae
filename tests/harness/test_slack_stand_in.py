"""The Slack stand-in refuses what Slack refuses: each rule of harness.slack and harness.blockkit, tried directly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.filters import Query
from bot.formatters import page_message
from bot.page import Page
from bot.sandbox import sample_instances
from bot.service import to_api_page
from harness.blockkit import message_problems, view_problems
from harness.slack import SlackServer, slack_escaped


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackServer]:
    server = SlackServer().start()
    yield server
    server.stop()


def post(url: str, body: Any, content_type: str = "application/json") -> requests.Response:
    data = json.dumps(body) if content_type == "application/json" else body
    return requests.post(url, data=data, headers={"Content-Type": content_type}, timeout=5)


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(value: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go", "value": value}


def test_a_response_url_takes_five_posts(slack: SlackServer) -> None:
    url = slack.new_response_url()
    answers = [post(url, {"text": f"post {n}"}) for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].text == "used_url"


def test_a_response_url_expires_after_thirty_minutes(slack: SlackServer) -> None:
    url = slack.new_response_url()
    slack.age_response_url(url, 29 * 60)
    assert post(url, {"text": "in time"}).status_code == 200
    slack.age_response_url(url, 30 * 60 + 1)
    answer = post(url, {"text": "too late"})
    assert (answer.status_code, answer.text) == (404, "expired_url")


def test_a_response_url_it_never_handed_out_is_no_service(slack: SlackServer) -> None:
    answer = post(f"{slack.base_url}/response/0123456789abcdef", {"text": "hello"})
    assert (answer.status_code, answer.text) == (404, "no_service")


@pytest.mark.parametrize(("body", "content_type"), [
    ("payload=%7B%22text%22%3A%22hi%22%7D", "application/x-www-form-urlencoded"),
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
])
def test_a_response_url_takes_json_only(slack: SlackServer, body: str, content_type: str) -> None:
    answer = requests.post(slack.new_response_url(), data=body, headers={"Content-Type": content_type}, timeout=5)
    assert (answer.status_code, answer.text) == (400, "invalid_payload")


def test_a_message_needs_text_or_blocks(slack: SlackServer) -> None:
    answer = post(slack.new_response_url(), {"response_type": "ephemeral"})
    assert (answer.status_code, answer.text) == (400, "no_text")


BROKEN = {
    "51 blocks": [section(f"row {n}") for n in range(51)],
    "a section of 3,001 characters": [section("x" * 3001)],
    "a button value of 2,001 characters": [{"type": "actions", "elements": [button("v" * 2001)]}],
    "26 elements in an actions block": [{"type": "actions", "elements": [{**button("v"), "action_id": f"a{n}"} for n in range(26)]}],
    "an option text of 76 characters": [{"type": "actions", "elements": [{
        "type": "static_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Pick"},
        "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "1"}]}]}],
    "an option value of 151 characters": [{"type": "actions", "elements": [{
        "type": "static_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Pick"},
        "options": [{"text": {"type": "plain_text", "text": "one"}, "value": "1" * 151}]}]}],
    "101 options": [{"type": "actions", "elements": [{
        "type": "static_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Pick"},
        "options": [{"text": {"type": "plain_text", "text": str(n)}, "value": str(n)} for n in range(101)]}]}],
    "a block_id used twice": [section("one", block_id="same"), section("two", block_id="same")],
    "an unknown block type": [{"type": "sparkles"}],
}


@pytest.mark.parametrize("blocks", BROKEN.values(), ids=BROKEN.keys())
def test_blocks_slack_would_not_render_are_refused(slack: SlackServer, blocks: list[dict[str, Any]]) -> None:
    url = slack.new_response_url()
    answer = post(url, {"text": "fallback", "blocks": blocks})
    assert (answer.status_code, answer.text) == (400, "invalid_blocks")
    assert slack.replies_to(url)[0].refusal == "invalid_blocks"


def test_the_limits_themselves_are_taken(slack: SlackServer) -> None:
    blocks = [section("x" * 3000), {"type": "actions", "elements": [button("v" * 2000)]},
              *(section(f"row {n}") for n in range(48))]
    assert post(slack.new_response_url(), {"text": "fallback", "blocks": blocks}).status_code == 200


def test_blocks_sent_without_a_block_id_are_given_one(slack: SlackServer) -> None:
    url = slack.new_response_url()
    post(url, {"text": "hi", "blocks": [section("one"), section("two", block_id="mine")]})
    ids = [block["block_id"] for block in slack.replies_to(url)[0].blocks]
    assert ids[1] == "mine" and ids[0] and ids[0] != "mine"


def test_a_page_the_bot_renders_at_its_largest_is_taken() -> None:
    """20 rows of the longest texts, every row filter at its longest, page 2 of many: within every limit."""
    items = [{**item, "Tags": "<!channel> " * 100, "ContactFlowName": "流" * 5000, "Provider": "&" * 1000}
             for item in sample_instances()["ccc-test"][:20]]
    numbers = to_api_page({"Code": "OK", "Data": {"TotalCount": 20, "List": items}}).numbers
    filters = tuple((name, "値" * 64) for name in ("province", "city", "provider", "group", "agent", "tag", "flow"))
    query = Query("ccc-test", pattern="0" * 32, usage="Inbound", active=True, page=2, row_filters=filters)
    page = Page(query, numbers, total=9000, rows_per_page=20, requested_page=2, searched=12000)
    assert len(numbers) == 20
    assert message_problems(page_message(page)) == []
    assert message_problems(page_message(page, shared_by="U0ALICE")) == []


def test_a_modal_title_takes_24_characters() -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 24}, "blocks": [section("hi")]}
    assert view_problems(view) == []
    assert view_problems({**view, "title": {"type": "plain_text", "text": "t" * 25}})
    assert view_problems({**view, "blocks": [section(f"row {n}") for n in range(101)]})


def test_a_rate_limited_method_answers_429_with_retry_after(slack: SlackServer) -> None:
    slack.rate_limit("auth.test", retry_after=7, times=1)
    first = requests.post(f"{slack.base_url}/api/auth.test", headers={"Authorization": "Bearer xoxb-1"}, timeout=5)
    second = requests.post(f"{slack.base_url}/api/auth.test", headers={"Authorization": "Bearer xoxb-1"}, timeout=5)
    assert (first.status_code, first.headers["Retry-After"], first.json()["error"]) == (429, "7", "ratelimited")
    assert second.json()["ok"] is True


def test_command_text_is_escaped_as_slack_escapes_it() -> None:
    assert slack_escaped('AT&T <VIP> "R&D" &lt;') == 'AT&amp;T &lt;VIP&gt; "R&amp;D" &amp;lt;'


def test_views_open_refuses_a_modal_slack_would_not_render(slack: SlackServer) -> None:
    client = WebClient(token="xoxb-1", base_url=f"{slack.base_url}/api/")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "A title longer than 24 chars"},
            "blocks": [section("hi")]}
    with pytest.raises(SlackApiError) as refused:
        client.views_open(trigger_id=slack.new_trigger_id(), view=view)
    assert refused.value.response["error"] == "invalid_arguments"
    assert "title" in refused.value.response["response_metadata"]["messages"][0]
