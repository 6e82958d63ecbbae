"""The naive /numbers bot most teams write first, the benchmark's baseline.

bolt's development server (`app.start()`), bolt's default listener pool, no cache, a new SDK client per call, and
one API call per page shown. It parses and renders exactly like the real bot, so both send the same messages.
Run as `python -m bench.naive` with the same environment as `python -m bot`.
"""

import os

from alibabacloud_ccc20200701.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from slack_bolt import App
from slack_sdk import WebClient

from bot.filters import Query, decode_value, parse_command
from bot.formatters import page_message
from bot.page import Page
from bot.service import list_request, to_api_page

ROWS = int(os.environ.get("NUMBERS_ROWS_PER_PAGE") or 10)
INSTANCES = (os.environ["CCC_INSTANCE_ID"],)
MAX_PAGE = 100  # the API's last PageNumber: with pages of ROWS, only the first 100 * ROWS matches can be seen
app = App(client=WebClient(os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
          signing_secret=os.environ["SLACK_SIGNING_SECRET"])


def lookup(query: Query) -> dict:
    client = Client(Config(access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                           access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                           endpoint=os.environ["CCC_ENDPOINT"], protocol="http", region_id="cn-shanghai"))
    response = client.list_phone_numbers(list_request(query, query.page, ROWS))
    found = to_api_page(response.body)
    return page_message(Page(query, found.numbers, found.total, ROWS, query.page))


@app.command("/numbers")
def command(ack, command, respond):  # noqa: ANN001, ANN201
    ack()
    respond(**lookup(parse_command(command["text"], default_instance=INSTANCES[0], allowed_instances=INSTANCES, max_page=MAX_PAGE)))


@app.action("numbers_next")
@app.action("numbers_prev")
def page(ack, action, respond):  # noqa: ANN001, ANN201
    ack()
    respond(**lookup(decode_value(action["value"], allowed_instances=INSTANCES, max_page=MAX_PAGE)), replace_original=True)


if __name__ == "__main__":
    app.start(port=int(os.environ["PORT"]))
