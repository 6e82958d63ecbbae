"""Details: choosing a number from a result's menu opens a modal with its every field through views.open, against
the local Slack, with the allow lists, doctored menu values and Slack's errors on the way.

The local Slack refuses a trigger_id older than 3 s or used before, as Slack does: the modal must open before any slow
CCC call, from the page already cached or as a "Loading…" modal that views.update fills in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import OpenedView, Reply, SlackClient, SlackServer
from tests.e2e.conftest import ALICE, BOB, BOT_TOKEN, SIGNING_SECRET, alice_only_bot

MENU = "numbers_details"


@pytest.fixture(scope="module")
def viewer(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    yield from alice_only_bot(ccc, slack, tmp_path_factory.mktemp("viewer"))


@pytest.fixture()
def alice(viewer: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(viewer.url, SIGNING_SECRET, slack)


@dataclass
class Outcome:
    """What one choice in the Details menu came to."""

    views: list[OpenedView]
    replies: list[Reply]
    audit: dict[str, Any]


def details_lines(bot: BotProcess) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in bot.log().splitlines() if line.startswith('{"ts"')]
    return [line for line in lines if line["event"] == "details"]


def choose(alice: SlackClient, slack: SlackServer, viewer: BotProcess, reply: Reply, value: str, **kwargs: Any) -> Outcome:
    """Choose `value` in the Details menu of `reply`, and wait for its audit line."""
    views, seen = len(slack.views), len(details_lines(viewer))
    sent = alice.select(reply, MENU, value, **kwargs)
    assert sent.status == 200, (sent.status, sent.body)
    for _ in range(200):  # 20 s: a slow CCC takes 4 to 6 s, more on a busy machine
        lines = details_lines(viewer)
        if len(lines) > seen:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no details audit line")
    time.sleep(0.3)  # room for a second, unwanted answer
    return Outcome(slack.views[views:], slack.replies_to(sent.response_url), lines[-1])


def option_value(reply: Reply, number: str) -> str:
    menu = reply.button(MENU)
    assert menu is not None and menu["type"] == "static_select" and menu["placeholder"]["text"] == "Details…"
    [value] = [o["value"] for o in menu["options"] if o["text"]["text"] == number]
    return value


def view_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def expected_lines(item: dict[str, Any], instance: str = "ccc-test") -> list[str]:
    """A sandbox number as the modal's copy block should hold it."""
    added = datetime.fromtimestamp(int(item["CreateTime"]) // 1000, tz=UTC).strftime("%Y-%m-%d")
    fields = [("Number", item["Number"]), ("Usage", item["Usage"]), ("State", "active" if item["Active"] else "inactive"),
              ("Province", item["Province"]), ("City", item["City"]), ("Provider", item["Provider"]),
              ("Contact flow", item["ContactFlowName"]), ("Contact flow ID", item["ContactFlowId"]),
              ("Agent", item["UserId"]), ("Tags", item["Tags"]), ("Added (UTC)", added), ("Instance", instance)]
    groups = [f"Skill group: {g['Name']} ({g['DisplayName']}) · {g['SkillGroupId']}" for g in item["SkillGroups"]]
    return [f"{label}: {value}" for label, value in fields] + (groups or ["Skill groups: none"])


def copy_lines(view: dict[str, Any]) -> list[str]:
    [pre] = [e for b in view["blocks"] if b["type"] == "rich_text" for e in b["elements"]
             if e["type"] == "rich_text_preformatted"]
    return "".join(part["text"] for part in pre["elements"]).splitlines()


def test_choosing_a_number_opens_one_modal_with_its_every_field(alice: SlackClient, slack: SlackServer,
                                                                ccc: CccServer, viewer: BotProcess) -> None:
    reply = alice.run("0833 inbound page 2")
    menu = reply.button(MENU)
    assert menu is not None and [o["text"]["text"] for o in menu["options"]] == reply.numbers()
    items = {n["Number"]: n for n in ccc.instances["ccc-test"]}
    chosen = next(number for number in reply.numbers() if len(items[number]["SkillGroups"]) > 1
                  or items[number]["ContactFlowId"])
    outcome = choose(alice, slack, viewer, reply, option_value(reply, chosen))
    [opened] = outcome.views
    assert outcome.replies == [] and opened.updates == []
    assert opened.view["type"] == "modal" and opened.view["title"]["text"] == "Number details"
    assert copy_lines(opened.view) == expected_lines(items[chosen])
    for group in items[chosen]["SkillGroups"]:
        assert f"{group['Name']} ({group['DisplayName']}) · {group['SkillGroupId']}" in json.dumps(
            opened.view["blocks"], ensure_ascii=False)
    assert outcome.audit["user"] == ALICE and outcome.audit["outcome"] == "ok"
    assert outcome.audit["filters"]["pattern"] == chosen


def test_a_user_off_the_allow_list_gets_no_modal(alice: SlackClient, slack: SlackServer, viewer: BotProcess) -> None:
    reply = alice.run("0833")
    outcome = choose(alice, slack, viewer, reply, option_value(reply, reply.numbers()[0]), user_id=BOB)
    assert outcome.views == [] and len(outcome.replies) == 1
    assert "NUMBERS_ALLOWED_USERS" in outcome.replies[0].text
    assert outcome.audit["user"] == BOB and outcome.audit["outcome"] == "refused"


@pytest.mark.parametrize("value", ['{"i":"ccc-prod","n":"083312340011"}', "not json", '{"i":"ccc-test","n":""}'])
def test_a_doctored_option_is_refused_without_a_ccc_call(value: str, alice: SlackClient, slack: SlackServer,
                                                         ccc: CccServer, viewer: BotProcess) -> None:
    reply = alice.run("0833")
    before = ccc.calls
    outcome = choose(alice, slack, viewer, reply, value)
    assert outcome.views == [] and ccc.calls == before and len(outcome.replies) == 1
    assert outcome.replies[0].body["response_type"] == "ephemeral"
    assert outcome.audit["outcome"] == "invalid"


def test_a_number_gone_from_ccc_says_so_inside_the_modal(alice: SlackClient, slack: SlackServer, viewer: BotProcess) -> None:
    reply = alice.run("0833")
    outcome = choose(alice, slack, viewer, reply, '{"i":"ccc-test","n":"0833999999999999"}')
    [opened] = outcome.views
    assert outcome.replies == [] and is_loading(opened.view) and len(opened.updates) == 1
    assert "0833999999999999 is no longer in ccc-test" in view_text(opened.shown)
    assert outcome.audit["outcome"] == "not-found"


def test_a_views_open_failure_gets_one_clear_private_note(alice: SlackClient, slack: SlackServer,
                                                         viewer: BotProcess) -> None:
    reply = alice.run("0833 inbound")
    value = option_value(reply, reply.numbers()[0])
    slack.fail_api("views.open", "expired_trigger_id")
    outcome = choose(alice, slack, viewer, reply, value)
    assert outcome.views == [] and len(outcome.replies) == 1
    note = outcome.replies[0]
    assert note.body["response_type"] == "ephemeral" and note.body.get("replace_original") is False
    assert "`expired_trigger_id`" in note.text and "Choose the number again" in note.text
    assert outcome.audit["outcome"] == "error"
    log = viewer.log()
    assert "could not open the details for the details request from user=U0ALICE" in log and "xoxb-" not in log
    slack.clear_faults()
    [opened] = choose(alice, slack, viewer, reply, value).views  # the bot is still there, and works once Slack does
    assert copy_lines(opened.view)[0] == f"Number: {reply.numbers()[0]}"


def is_loading(view: dict[str, Any]) -> bool:
    return view["title"]["text"] == "Number details" and "Loading" in view_text(view)


def test_a_number_on_the_page_just_shown_opens_at_once_without_calling_ccc(alice: SlackClient, slack: SlackServer,
                                                                          ccc: CccServer, viewer: BotProcess) -> None:
    reply = alice.run("0833 outbound page 3")
    chosen = reply.numbers()[-1]
    before = ccc.calls
    outcome = choose(alice, slack, viewer, reply, option_value(reply, chosen))
    [opened] = outcome.views
    assert ccc.calls == before and opened.updates == [] and outcome.replies == []
    assert copy_lines(opened.view)[0] == f"Number: {chosen}"
    assert outcome.audit["outcome"] == "ok"


def demo_number(ccc: CccServer, index: int) -> tuple[str, dict[str, Any]]:
    """A Details option value for a number of ccc-demo, an instance no earlier test of this module looks up (so its page
    is not cached), and the number's record."""
    item = ccc.instances["ccc-demo"][index]
    return json.dumps({"i": "ccc-demo", "n": item["Number"]}, separators=(",", ":")), item


def test_a_number_not_cached_opens_a_loading_modal_in_time_and_fills_it_in(alice: SlackClient, slack: SlackServer,
                                                                           ccc: CccServer, viewer: BotProcess) -> None:
    reply = alice.run("0833")
    value, item = demo_number(ccc, 0)
    before = ccc.calls
    ccc.latency = 2.0
    ccc.fail_next("Throttling")  # one retry: CCC takes over 4 s, past the trigger's 3
    outcome = choose(alice, slack, viewer, reply, value)
    [opened] = outcome.views
    assert is_loading(opened.view) and item["Number"] in view_text(opened.view)
    assert len(opened.updates) == 1 and copy_lines(opened.shown) == expected_lines(item, "ccc-demo")
    assert ccc.calls == before + 2 and outcome.replies == []
    assert outcome.audit["outcome"] == "ok" and outcome.audit["instance"] == "ccc-demo"


def test_a_ccc_failure_ends_as_the_friendly_message_inside_the_modal(alice: SlackClient, slack: SlackServer,
                                                                      ccc: CccServer, viewer: BotProcess) -> None:
    reply = alice.run("0833")
    value, item = demo_number(ccc, 1)
    ccc.fail_next("NoPermission")
    outcome = choose(alice, slack, viewer, reply, value)
    [opened] = outcome.views
    assert is_loading(opened.view) and len(opened.updates) == 1 and outcome.replies == []
    shown = view_text(opened.shown)
    assert "The bot has no permission to list phone numbers of `ccc-demo`" in shown and "CCC request ID" in shown
    assert outcome.audit["outcome"] == "error" and outcome.audit["code"] == "NoPermission"
    assert "Traceback" not in viewer.log()


def test_a_modal_slack_will_not_update_is_logged_and_gets_no_second_answer(alice: SlackClient, slack: SlackServer,
                                                                           ccc: CccServer, viewer: BotProcess) -> None:
    reply = alice.run("0833")
    value, _ = demo_number(ccc, 2)
    slack.fail_api("views.update", "not_found")
    outcome = choose(alice, slack, viewer, reply, value)
    [opened] = outcome.views
    assert is_loading(opened.view) and opened.updates == [] and outcome.replies == []
    assert outcome.audit["outcome"] == "error"
    assert "could not show the details for the details request from user=U0ALICE" in viewer.log()


def test_a_choice_whose_trigger_was_used_already_gets_a_note_not_a_second_modal(alice: SlackClient, slack: SlackServer,
                                                                                viewer: BotProcess) -> None:
    reply = alice.run("0833 inbound")
    value = option_value(reply, reply.numbers()[0])
    [opened] = choose(alice, slack, viewer, reply, value).views
    again = choose(alice, slack, viewer, reply, value, trigger_id=opened.trigger_id)  # as a redelivered request would
    assert again.views == [] and len(again.replies) == 1
    assert "`exchanged_trigger_id`" in again.replies[0].text and "Choose the number again" in again.replies[0].text
    assert again.audit["outcome"] == "error"


def test_a_choice_whose_trigger_is_over_3_seconds_old_gets_a_note(alice: SlackClient, slack: SlackServer,
                                                                  viewer: BotProcess) -> None:
    reply = alice.run("0833 inbound")
    late = choose(alice, slack, viewer, reply, option_value(reply, reply.numbers()[0]), trigger_id=slack.new_trigger_id(age=3.5))
    assert late.views == [] and len(late.replies) == 1
    assert "`expired_trigger_id`" in late.replies[0].text and "Choose the number again" in late.replies[0].text


MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Test"},
         "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "Hello"}}]}


@pytest.fixture()
def web(slack: SlackServer) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=f"{slack.base_url}/api/")


def refusal(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as refused:
        call(**kwargs)
    return refused.value.response["error"]


def test_the_local_slack_opens_one_modal_a_trigger_within_3_seconds(web: WebClient, slack: SlackServer) -> None:
    trigger = slack.new_trigger_id()
    opened = web.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["title"] == MODAL["title"]
    assert refusal(web.views_open, trigger_id=trigger, view=MODAL) == "exchanged_trigger_id"
    assert refusal(web.views_open, trigger_id=slack.new_trigger_id(age=3.1), view=MODAL) == "expired_trigger_id"
    assert refusal(web.views_open, trigger_id="12345.98765.abcd2358fdea", view=MODAL) == "invalid_trigger_id"
    assert [view.id for view in slack.views].count(opened["id"]) == 1


def test_the_local_slack_updates_a_modal_by_id_with_its_current_hash(web: WebClient, slack: SlackServer) -> None:
    opened = web.views_open(trigger_id=slack.new_trigger_id(), view={**MODAL, "external_id": "ext-1"})["view"]
    first = {**MODAL, "title": {"type": "plain_text", "text": "First"}}
    updated = web.views_update(view_id=opened["id"], hash=opened["hash"], view=first)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert refusal(web.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL) == "hash_conflict"
    assert refusal(web.views_update, view_id="VNOSUCHVIEW", view=MODAL) == "not_found"
    assert refusal(web.views_update, external_id="no-such-id", view=MODAL) == "not_found"
    second = {**MODAL, "title": {"type": "plain_text", "text": "Second"}, "external_id": "ext-1"}
    web.views_update(external_id="ext-1", view=second)
    [view] = [v for v in slack.views if v.id == opened["id"]]
    assert view.updates == [first, second] and view.shown == second
