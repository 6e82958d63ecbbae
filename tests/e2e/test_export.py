"""Export CSV: the whole filtered result as a file in the clicker's DM, through slack_sdk's files_upload_v2 against
the local Slack, with the allow lists, Slack's errors and CCC's errors on the way."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.sandbox import CccServer
from harness.process import BotProcess
from harness.slack import Reply, SlackClient, SlackServer, Upload
from tests.e2e.conftest import ALICE, BOB, SIGNING_SECRET, alice_only_bot


@pytest.fixture(scope="module")
def exporter(ccc: CccServer, slack: SlackServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    yield from alice_only_bot(ccc, slack, tmp_path_factory.mktemp("exporter"))


@pytest.fixture()
def alice(exporter: BotProcess, slack: SlackServer) -> SlackClient:
    return SlackClient(exporter.url, SIGNING_SECRET, slack)


def expected_row(item: dict[str, Any]) -> list[str]:
    """A sandbox number as the CSV should hold it."""
    groups = "; ".join(f"{g['Name']} ({g['DisplayName']})" for g in item["SkillGroups"])
    added = datetime.fromtimestamp(int(item["CreateTime"]) // 1000, tz=UTC).strftime("%Y-%m-%d")
    return [item["Number"], item["Usage"], "yes" if item["Active"] else "no", item["Province"], item["City"],
            item["Provider"], item["ContactFlowName"], item["ContactFlowId"], groups, item["UserId"], item["Tags"], added]


def csv_rows(upload: Upload) -> list[list[str]]:
    assert upload.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(upload.content.decode("utf-8-sig"), newline="")))


def export(alice: SlackClient, slack: SlackServer, reply: Reply, **kwargs: Any) -> tuple[Reply, list[Upload]]:
    """Click Export CSV on `reply`: the one private answer, and the files shared while it was made."""
    before = len(slack.completed_uploads())
    answer = alice.press(reply, "numbers_export", **kwargs)
    time.sleep(0.3)  # room for a second, unwanted reply
    assert len(slack.replies_to(answer.response_url)) == 1
    assert answer.body["response_type"] == "ephemeral" and answer.body.get("replace_original") is False
    return answer, slack.completed_uploads()[before:]


def audit(bot: BotProcess, **wanted: Any) -> dict[str, Any]:
    for _ in range(50):
        lines = [json.loads(line) for line in bot.log().splitlines() if line.startswith('{"ts"')]
        found = [entry for entry in lines if wanted.items() <= entry.items()]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no audit line with {wanted}")


def test_export_sends_every_match_with_every_column_to_the_dm(
        alice: SlackClient, slack: SlackServer, ccc: CccServer, exporter: BotProcess) -> None:
    kept = [n for n in ccc.instances["ccc-test"]
            if "0833" in n["Number"] and n["Usage"] == "Inbound" and n["Province"] == "四川"]
    assert len(kept) > 10  # more than the page the button sits on
    reply = alice.run("0833 inbound province:四川 page 2")
    answer, uploads = export(alice, slack, reply)
    [upload] = uploads
    name = "numbers-ccc-test-0833-inbound-province-四川.csv"
    assert upload.filename == name and upload.channel == f"D{ALICE}"
    assert f"{len(kept)} numbers in ccc-test" in upload.initial_comment
    rows = csv_rows(upload)
    assert rows[0][0] == "number" and rows[1:] == [expected_row(n) for n in kept]
    assert f"Sent `{name}` ({len(kept)} numbers) to your DM with me." in answer.text
    line = audit(exporter, event="export", user=ALICE, outcome="ok")
    assert line["results"] == len(kept) and line["filters"]["province"] == "四川"


def test_export_without_row_filters_walks_every_api_page(alice: SlackClient, slack: SlackServer, ccc: CccServer) -> None:
    everything = ccc.instances["ccc-test"]
    assert len(everything) > 100  # more than one API page
    _, [upload] = export(alice, slack, alice.run(""))
    assert [row[0] for row in csv_rows(upload)[1:]] == [n["Number"] for n in everything]
    assert upload.filename == "numbers-ccc-test.csv"


def test_a_user_off_the_allow_list_gets_no_file(alice: SlackClient, slack: SlackServer, exporter: BotProcess) -> None:
    reply = alice.run("0833")
    before = len(slack.uploads)
    answer, uploads = export(alice, slack, reply, user_id=BOB)
    assert uploads == [] and len(slack.uploads) == before
    assert "NUMBERS_ALLOWED_USERS" in answer.text
    assert audit(exporter, event="export", user=BOB)["outcome"] == "refused"


@pytest.mark.parametrize("method", ["files.completeUploadExternal", "conversations.open"])
def test_a_missing_scope_gets_one_clear_reply(method: str, alice: SlackClient, slack: SlackServer,
                                              exporter: BotProcess) -> None:
    reply = alice.run("0833 inbound")
    slack.fail_api(method, "missing_scope")
    answer, uploads = export(alice, slack, reply)
    assert uploads == []
    assert "`missing_scope`" in answer.text and "files:write" in answer.text and "im:write" in answer.text
    assert audit(exporter, event="export", user=ALICE, outcome="error")
    slack.clear_faults()
    _, [upload] = export(alice, slack, reply)  # the bot is still there, and works once Slack does
    assert upload.filename == "numbers-ccc-test-0833-inbound.csv"


@pytest.mark.parametrize("error", ["user_not_visible", "invalid_user_combination", "cannot_dm_bot"])
def test_someone_the_bot_cannot_dm_is_told_so_not_to_reinstall(error: str, alice: SlackClient, slack: SlackServer,
                                                               exporter: BotProcess) -> None:
    """A guest, or someone from another organization in a Slack Connect channel: the app is fine, the DM is not allowed."""
    reply = alice.run("0833 inbound")
    slack.fail_api("conversations.open", error)
    answer, uploads = export(alice, slack, reply)
    assert uploads == []
    assert f"`{error}`" in answer.text and "direct message" in answer.text and "Share in channel" in answer.text
    assert "reinstall" not in answer.text and "scope" not in answer.text
    assert f"Slack answered {error}" in exporter.log()


def test_a_rate_limited_upload_waits_as_slack_asks_and_succeeds(alice: SlackClient, slack: SlackServer) -> None:
    reply = alice.run("0833 bidirection")
    before = slack.calls_to("files.completeUploadExternal")
    slack.rate_limit("files.completeUploadExternal", retry_after=1)
    answer, [upload] = export(alice, slack, reply)
    assert "Sent `numbers-ccc-test-0833-bidirection.csv`" in answer.text
    assert slack.calls_to("files.completeUploadExternal") == before + 2  # refused with 429, then served


def test_slack_hanging_up_on_the_upload_gets_one_clear_reply(alice: SlackClient, slack: SlackServer,
                                                             exporter: BotProcess) -> None:
    reply = alice.run("0833 outbound")
    slack.drop_api("files.getUploadURLExternal")
    answer, uploads = export(alice, slack, reply)
    assert uploads == [] and "I could not reach Slack to send you the file. Try again in a minute." in answer.text
    assert "could not reach Slack to send you the file for the export request from user=U0ALICE" in exporter.log()
    slack.clear_faults()
    _, [upload] = export(alice, slack, reply)
    assert upload.filename == "numbers-ccc-test-0833-outbound.csv"


def test_a_ccc_failure_gets_one_clear_reply_and_no_file(alice: SlackClient, slack: SlackServer, ccc: CccServer,
                                                        exporter: BotProcess) -> None:
    reply = alice.run("1")  # caches the first API page only; the export needs the others
    ccc.fail_next("Forbidden.RAM", 10)
    answer, uploads = export(alice, slack, reply)
    assert uploads == [] and ":warning:" in answer.text
    line = audit(exporter, event="export", user=ALICE, code="Forbidden.RAM")
    assert line["outcome"] == "error" and "results" not in line
