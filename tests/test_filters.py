"""bot.filters: command text -> Query, Query <-> button value."""

from __future__ import annotations

import itertools
import json

import pytest

from bot.filters import (
    MAX_FILTER_VALUE,
    MAX_OPTION_VALUE,
    MAX_PATTERN_LENGTH,
    MAX_VALUE_LENGTH,
    ROW_FILTERS,
    HelpRequest,
    Query,
    QueryError,
    UnknownWord,
    command_text,
    decode_number_ref,
    decode_value,
    encode_value,
    max_page_for,
    number_digest,
    number_ref,
    parse_command,
    typed_text,
)

DEFAULT = "ccc-test"
ALLOWED = ("ccc-test", "ccc-demo")
MAX_PAGE = 1000


def parse(text: str) -> Query | HelpRequest:
    return parse_command(text, default_instance=DEFAULT, allowed_instances=ALLOWED, max_page=MAX_PAGE)


def parse_error(text: str) -> str:
    with pytest.raises(QueryError) as caught:
        parse(text)
    return str(caught.value)


def decode(value: object) -> Query:
    return decode_value(value, allowed_instances=ALLOWED, max_page=MAX_PAGE)


def value_of(**changes: object) -> str:
    """A button value as encode_value writes it, with some keys changed (or removed when set to ...)."""
    data = json.loads(encode_value(Query(DEFAULT, pattern="0833", usage="Inbound", active=True, page=2)))
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...})


# --- parse_command: what it accepts ---------------------------------------------------------------


def test_empty_text_is_every_number_of_the_default_instance():
    assert parse("") == Query(DEFAULT)


def test_pattern_usage_and_state_together():
    assert parse("0833 inbound active") == Query(DEFAULT, pattern="0833", usage="Inbound", active=True)


@pytest.mark.parametrize(("word", "usage"), [
    ("inbound", "Inbound"), ("in", "Inbound"), ("incoming", "Inbound"), ("呼入", "Inbound"),
    ("outbound", "Outbound"), ("out", "Outbound"), ("outgoing", "Outbound"), ("呼出", "Outbound"),
    ("bidirection", "Bidirection"), ("bidirectional", "Bidirection"), ("both", "Bidirection"),
    ("bi", "Bidirection"), ("呼入和呼出", "Bidirection"), ("双向", "Bidirection"),
])
def test_usage_aliases(word, usage):
    assert parse(word) == Query(DEFAULT, usage=usage)


@pytest.mark.parametrize(("word", "active"), [
    ("active", True), ("enabled", True), ("usable", True), ("可用", True),
    ("inactive", False), ("disabled", False), ("unusable", False), ("不可用", False),
])
def test_state_aliases(word, active):
    assert parse(word) == Query(DEFAULT, active=active)


@pytest.mark.parametrize("text", ["INBOUND Active", "Inbound ACTIVE", "InBoUnD aCtIvE"])
def test_words_are_case_insensitive(text):
    assert parse(text) == Query(DEFAULT, usage="Inbound", active=True)


@pytest.mark.parametrize("order", list(itertools.permutations(["0833", "outbound", "inactive", "page 3", "instance:ccc-demo"])))
def test_words_in_any_order(order):
    expected = Query("ccc-demo", pattern="0833", usage="Outbound", active=False, page=3)
    assert parse(" ".join(order)) == expected


def test_full_width_space_separates_words():
    assert parse("0833\u3000呼入\u3000\u3000可用") == Query(DEFAULT, pattern="0833", usage="Inbound", active=True)


def test_full_width_colon_is_read_as_a_colon():
    assert parse("instance：ccc-demo page：2") == Query("ccc-demo", page=2)


def test_extra_spaces_and_tabs_are_ignored():
    assert parse("   0833 \t  inbound  ") == Query(DEFAULT, pattern="0833", usage="Inbound")


@pytest.mark.parametrize("text", ["page 7", "page:7", "PAGE 7", "Page:7", "p 7"])
def test_page_forms(text):
    assert parse(text) == Query(DEFAULT, page=7)


def test_page_bounds_are_inclusive():
    assert parse("page 1").page == 1
    assert parse(f"page {MAX_PAGE}").page == MAX_PAGE


@pytest.mark.parametrize(("text", "pattern"), [
    ("0833", "0833"), ("+86-0833", "860833"), ("400-123-4567", "4001234567"), ("1" * MAX_PATTERN_LENGTH, "1" * MAX_PATTERN_LENGTH),
])
def test_number_patterns_keep_only_digits(text, pattern):
    assert parse(text) == Query(DEFAULT, pattern=pattern)


def test_allowed_instance_is_picked():
    assert parse("instance:ccc-demo") == Query("ccc-demo")


def test_instance_word_is_case_insensitive_but_id_is_kept_verbatim():
    assert parse("INSTANCE:ccc-demo") == Query("ccc-demo")


@pytest.mark.parametrize("text", ["help", "HELP", "?", "-h", "--help", "帮助", "0833 help", "inbound ? page 2"])
def test_help_words(text):
    assert isinstance(parse(text), HelpRequest)


# --- parse_command: what it refuses ---------------------------------------------------------------


def test_instance_not_allowed_is_refused_and_the_allowed_ones_listed():
    message = parse_error("instance:ccc-prod")
    assert "`ccc-prod`" in message
    assert "`ccc-test`" in message and "`ccc-demo`" in message


@pytest.mark.parametrize("text", ["instance:", "instance:bad/id", "instance:-lead", "instance:" + "a" * 65])
def test_malformed_instance_is_refused(text):
    assert "is not a CCC instance ID" in parse_error(text)


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("inbond", "inbound"), ("outbund", "outbound"), ("actve", "active"), ("inactiv", "inactive"),
    ("bidirecton", "bidirection"), ("instanse:x", "instance:x"), ("instanse:ccc-demo", "instance:ccc-demo"),
])
def test_unknown_word_is_named_with_the_nearest_suggestion(typo, suggestion):
    message = parse_error(f"0833 {typo}")
    assert f"`{typo}`" in message
    assert f"Did you mean `{suggestion}`?" in message


def test_unknown_word_without_a_near_match_gets_the_help_pointer():
    message = parse_error("zzzzqqq")
    assert "`zzzzqqq`" in message and "Did you mean" not in message
    assert "/numbers help" in message


def test_digits_mixed_with_letters_explain_what_a_pattern_is():
    message = parse_error("08a33")
    assert "`08a33`" in message
    assert "digits only" in message


def test_page_without_a_number():
    assert "`page` needs a number" in parse_error("0833 page")


@pytest.mark.parametrize(("text", "first", "second"), [
    ("inbound outbound", "`inbound`", "`outbound`"), ("in 呼出", "`in`", "`呼出`"), ("both out", "`both`", "`out`"),
    ("active inactive", "`active`", "`inactive`"), ("可用 disabled", "`可用`", "`disabled`"),
    ("page 2 page 3", "`page 2`", "`page 3`"), ("page:2 p 4", "`page:2`", "`p 4`"),
    ("instance:ccc-test instance:ccc-demo", "`instance:ccc-test`", "`instance:ccc-demo`"),
])
def test_conflicting_filters_are_an_error_naming_both_words(text, first, second):
    message = parse_error(text)
    assert "pick one" in message
    assert first in message and second in message


def test_the_same_filter_twice_is_also_a_conflict():
    assert "pick one" in parse_error("inbound inbound")


def test_two_patterns_are_an_error_that_suggests_joining_them():
    message = parse_error("0833 1234")
    assert "`0833`" in message and "`1234`" in message
    assert "`08331234`" in message


def test_pattern_one_digit_too_long():
    message = parse_error("1" * (MAX_PATTERN_LENGTH + 1))
    assert f"{MAX_PATTERN_LENGTH + 1} digits" in message


@pytest.mark.parametrize("text", ["page 0", f"page {MAX_PAGE + 1}", "page:0", "page -1", "page two", "page 1.5", "page:"])
def test_page_out_of_range_or_not_a_number(text):
    assert f"from 1 to {MAX_PAGE}" in parse_error(text)


def test_max_page_comes_from_the_caller():
    with pytest.raises(QueryError):
        parse_command("page 501", default_instance=DEFAULT, allowed_instances=ALLOWED, max_page=500)


@pytest.mark.parametrize("text", ["page ²", "page:³"])
def test_page_with_a_superscript_digit_is_a_query_error(text):
    assert "needs a page number" in parse_error(text)  # str.isdigit() says yes to '²', int() does not


@pytest.mark.parametrize("digits", ["9" * 5000, "0" * 5000 + "1", "1" * 10])
def test_page_with_too_many_digits_is_a_query_error(digits):  # int() raises ValueError past 4,300 digits
    message = parse_error(f"page {digits}")
    assert f"from 1 to {MAX_PAGE}" in message and len(message) < 200


def test_a_typed_word_cannot_close_its_code_span():
    assert "`a*b*ˋc`" in parse_error("a*b*`c")


def test_a_long_typed_word_is_echoed_clipped():
    message = parse_error("x" * 5000)
    assert "`" + "x" * 79 + "…`" in message and len(message) < 200


# --- command_text ---------------------------------------------------------------------------------

QUERIES = [
    Query(DEFAULT),
    Query(DEFAULT, pattern="0833"),
    Query(DEFAULT, usage="Outbound", active=False),
    Query(DEFAULT, pattern="400", usage="Bidirection", active=True, page=12),
    Query(DEFAULT, page=MAX_PAGE),
    Query(DEFAULT, pattern="0833", row_filters=(("province", "四川"), ("group", "VIP 热线"), ("tag", "M1"))),
    Query(DEFAULT, usage="Inbound", page=3, row_filters=tuple((name, "x" * MAX_FILTER_VALUE) for name in ROW_FILTERS)),
]


@pytest.mark.parametrize("query", QUERIES)
def test_command_text_is_the_inverse_of_parse_command(query):
    assert parse(command_text(query)) == query


def test_command_text_reads_like_what_a_user_types():
    query = Query(DEFAULT, pattern="0833", usage="Inbound", active=True, page=2)
    assert command_text(query) == "0833 inbound active page 2 instance:ccc-test"
    assert command_text(Query(DEFAULT)) == "instance:ccc-test"


def test_command_text_keeps_a_non_default_instance():
    query = Query("ccc-demo", pattern="0833")
    assert parse(command_text(query)) == query


# --- encode_value / decode_value ------------------------------------------------------------------

ROUND_TRIP = [*QUERIES, Query("ccc-demo", pattern="1" * MAX_PATTERN_LENGTH, usage="Inbound", active=False, page=1)]


@pytest.mark.parametrize("query", ROUND_TRIP)
def test_button_value_round_trip(query):
    value = encode_value(query)
    assert len(value) <= MAX_VALUE_LENGTH
    assert decode(value) == query


def test_refuses_a_value_that_is_not_a_string():
    for value in (None, 42, b"{}", {"v": 1}):
        with pytest.raises(QueryError, match="not one this bot made"):
            decode(value)


def test_refuses_an_oversized_value_even_if_it_is_valid_json():
    padded = encode_value(Query(DEFAULT)) + " " * MAX_VALUE_LENGTH
    with pytest.raises(QueryError, match="not one this bot made"):
        decode(padded)


@pytest.mark.parametrize("value", ["", "not json", "{", "{'v': 1}", "[" * MAX_VALUE_LENGTH])
def test_refuses_non_json(value):  # brackets nested deeper than the parser recurses raise RecursionError, not ValueError
    with pytest.raises(QueryError, match="damaged"):
        decode(value)


@pytest.mark.parametrize("value", [
    value_of(v=3), value_of(v="2"), value_of(v=True), value_of(v=2.0), value_of(v=...), value_of(extra="x"), value_of(p=...),
    value_of(i=...), value_of(f=...), value_of(v=1),
    "[1, 2]", "null", '"text"',
])
def test_refuses_wrong_version_and_wrong_keys(value):
    with pytest.raises(QueryError, match="another version"):
        decode(value)


@pytest.mark.parametrize("value", [
    value_of(p=True), value_of(p="2"), value_of(p=2.0), value_of(p=None),
    value_of(i=7), value_of(q=833), value_of(q="08a3"), value_of(q="+0833"), value_of(q="1" * (MAX_PATTERN_LENGTH + 1)),
    value_of(u="inbound"), value_of(u="Sideways"), value_of(u=1),
    value_of(a="yes"), value_of(a="true"),
])
def test_refuses_wrong_types_and_values(value):
    with pytest.raises(QueryError, match="damaged"):
        decode(value)


@pytest.mark.parametrize("instance", ["ccc-prod", "bad/id", ""])
def test_refuses_an_instance_that_is_not_allowed(instance):
    with pytest.raises(QueryError, match="(?i)instance"):
        decode(value_of(i=instance))


@pytest.mark.parametrize("page", [0, -1, MAX_PAGE + 1])
def test_refuses_a_page_out_of_range(page):
    with pytest.raises(QueryError, match=f"page {page}, outside 1-{MAX_PAGE}"):
        decode(value_of(p=page))


@pytest.mark.parametrize("active", [1, 0, 1.0])
def test_refuses_a_number_as_active(active):  # 1 == True, so `active in (None, True, False)` is not enough
    with pytest.raises(QueryError):
        decode(value_of(a=active))


# --- max_page_for ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "last_page"), [(1, 10_000), (3, 3334), (7, 1429), (10, 1000), (20, 500), (100, 100)])
def test_max_page_reaches_exactly_the_first_10000_rows(rows, last_page):
    assert max_page_for(rows) == last_page
    assert (last_page - 1) * rows < 10_000 <= last_page * rows


# --- row filters (applied by the service) ---------------------------------------------------------


@pytest.mark.parametrize(("text", "row_filters"), [
    ("province:四川", (("province", "四川"),)),
    ("city:乐山", (("city", "乐山"),)),
    ("provider:alicom", (("provider", "alicom"),)),
    ("group:vip", (("group", "vip"),)),
    ("agent:agent07@ccc-test", (("agent", "agent07@ccc-test"),)),
    ("tag:M1", (("tag", "M1"),)),
    ("flow:IVR", (("flow", "IVR"),)),
    ('group:"VIP 热线"', (("group", "VIP 热线"),)),
    ("group:“VIP 热线”", (("group", "VIP 热线"),)),  # the curly quotes Slack and CJK keyboards type
    ("PROVINCE：四川", (("province", "四川"),)),  # any case, full-width colon
    ("flow:a:b", (("flow", "a:b"),)),
    ("group:VIP：热线", (("group", "VIP：热线"),)),  # a full-width colon inside a value stays as typed
    ('group:"VIP\u3000热线"', (("group", "VIP\u3000热线"),)),  # and so does a full-width space in quotes
])
def test_each_row_filter(text, row_filters):
    assert parse(text) == Query(DEFAULT, row_filters=row_filters)


def test_row_filters_combine_with_each_other_and_the_api_filters_in_a_fixed_order():
    query = parse('tag:M1 0833 group:"VIP 热线" inbound province:四川 active page 2 instance:ccc-demo city:乐山')
    assert query == Query("ccc-demo", pattern="0833", usage="Inbound", active=True, page=2, row_filters=(
        ("province", "四川"), ("city", "乐山"), ("group", "VIP 热线"), ("tag", "M1")))


def test_row_filters_are_described_with_their_values_quoted():
    query = Query(DEFAULT, pattern="0833", usage="Inbound", row_filters=(("province", "四川"), ("group", "VIP")))
    assert query.describe() == "matching 0833 · inbound · province 四川 · group VIP"
    assert query.describe(lambda text: f"`{text}`") == "matching `0833` · inbound · province `四川` · group `VIP`"


@pytest.mark.parametrize("text", ["province:", 'group:""', "tag:   "])
def test_a_row_filter_needs_a_value(text):
    assert "needs a value" in parse_error(text)


@pytest.mark.parametrize("text", ["tag:" + "x" * (MAX_FILTER_VALUE + 1), 'tag:a"b', "flow:a\x00b"])
def test_a_row_filter_value_too_long_or_odd_is_refused(text):
    assert "is not a" in parse_error(text)


def test_the_same_row_filter_twice_is_a_conflict():
    assert "`tag:M1` and `tag:VIP` are two tag filters; pick one." in parse_error("tag:M1 tag:VIP")


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("provence:四川", "province:四川"), ("cty:乐山", "city:乐山"), ("grop:vip", "group:vip"), ("tags:M1", "tag:M1"),
])
def test_an_unknown_prefix_suggests_the_nearest_filter(typo, suggestion):
    with pytest.raises(UnknownWord) as caught:
        parse(typo)
    assert f"Did you mean `{suggestion}`?" in str(caught.value)


def test_command_text_quotes_a_value_with_spaces():
    query = Query(DEFAULT, pattern="0833", row_filters=(("province", "四川"), ("group", "VIP 热线")))
    assert command_text(query) == '0833 province:四川 group:"VIP 热线" instance:ccc-test'


def test_a_version_1_value_from_a_button_already_posted_still_works():
    value = json.dumps({"v": 1, "i": "ccc-test", "q": "0833", "u": "Inbound", "a": True, "p": 2})
    assert decode(value) == Query(DEFAULT, pattern="0833", usage="Inbound", active=True, page=2)


def test_a_value_with_filters_is_version_2_and_keeps_cjk_as_is():
    value = encode_value(Query(DEFAULT, row_filters=(("province", "四川"),)))
    assert json.loads(value)["v"] == 2 and "四川" in value


@pytest.mark.parametrize("row_filters", [
    [], "四川", {"provence": "四川"}, {"province": 4}, {"province": ""}, {"province": None}, {"tag": "x" * 65},
    {"tag": " M1"}, {"tag": 'a"b'}, {"tag": "a\nb"}, {"tag": "\ud800"}, {"group": ["VIP"]},
])
def test_refuses_row_filters_of_the_wrong_shape_or_value(row_filters):
    with pytest.raises(QueryError, match="damaged"):
        decode(value_of(f=row_filters))


def test_typed_text_undoes_slacks_three_escapes_and_nothing_else() -> None:
    assert typed_text("provider:AT&amp;T tag:&lt;VIP&gt;") == "provider:AT&T tag:<VIP>"
    assert typed_text("&amp;lt; &amp;amp; &quot; &#39;") == "&lt; &amp; &quot; &#39;"


@pytest.mark.parametrize(("text", "value"), [
    ('group:"VIP abc：x"', "VIP abc：x"),  # a full-width colon inside a value stays as typed
    ("group:'VIP 热线'", "VIP 热线"),
    ("group:‘VIP 热线’", "VIP 热线"),  # the curly single quotes a phone or a Mac types
    ('group："VIP 热线"', "VIP 热线"),  # the colon of a CJK keyboard before the quotes
    ("provider:O'Brien", "O'Brien"),  # an apostrophe inside a value is part of it
    ("provider:Brien'", "Brien'"),  # and so is one at its end
])
def test_quoted_values_keep_what_is_inside_the_quotes(text: str, value: str) -> None:
    assert parse(text).row_filters[0][1] == value


@pytest.mark.parametrize("text", ['group:"VIP 热线', "group:'VIP 热线 active"])
def test_a_quote_left_open_is_named_with_an_example(text: str) -> None:
    with pytest.raises(QueryError, match=r"The quote after `group:` is not closed: .*`group:\"VIP 热线\"`"):
        parse(text)


@pytest.mark.parametrize("text", ['tag:"M1 VIP"', "tag:M1,VIP", "tag:'M1;VIP'"])
def test_a_tag_that_holds_a_separator_is_refused_because_it_can_never_match(text: str) -> None:
    with pytest.raises(QueryError, match=r"can never match: a number's tags are split on .* e\.g\. `tag:M1`"):
        parse(text)


# --- what a refusal says, word for word: a garbled or swapped message is something a user notices --------------


@pytest.mark.parametrize(("text", "message"), [
    ("page", "`page` needs a number after it, e.g. `page 2`."),
    ("inbond", "I don't know the word `inbond`. Did you mean `inbound`? Try `/numbers help`."),
    ("provence:四川", "I don't know the word `provence:四川`. Did you mean `province:四川`? Try `/numbers help`."),
    ("provence:a:b", "I don't know the word `provence:a:b`. Did you mean `province:a:b`? Try `/numbers help`."),
    ("inbond:x", "I don't know the word `inbond:x`. Did you mean `inbound`? Try `/numbers help`."),
    ("08x33", "I don't know the word `08x33`. A number pattern is digits only, e.g. `0833`. Try `/numbers help`."),
    ("zzzz", "I don't know the word `zzzz`. Try `/numbers help`."),
    ("group:''", "`group:` needs a value after it, e.g. `group:\"VIP 热线\"`."),
    ("instance:other", "Instance `other` is not one this bot may look in. Allowed: `ccc-test`, `ccc-demo`."),
])
def test_a_refused_command_says_why_in_these_words(text: str, message: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse(text)
    assert str(refused.value) == message


def test_a_word_is_echoed_whole_up_to_80_characters_and_clipped_after() -> None:
    for length, shown in ((80, "z" * 80), (81, "z" * 79 + "…")):
        with pytest.raises(UnknownWord) as refused:
            parse("z" * length)
        assert f"`{shown}`" in str(refused.value)


def test_with_no_instance_allowed_the_refusal_says_none() -> None:
    with pytest.raises(QueryError, match=r"^Instance `ccc-test` is not one this bot may look in\. Allowed: none\.$"):
        decode_value(encode_value(Query("ccc-test")), allowed_instances=(), max_page=MAX_PAGE)


@pytest.mark.parametrize(("value", "message"), [
    (None, "That button is not one this bot made."),
    ("{" * (MAX_VALUE_LENGTH + 1), "That button is not one this bot made."),
    ("{", "That button's data is damaged; run the command again."),
    ('{"v": 9}', "That button is from another version of this bot; run the command again."),
])
def test_a_refused_button_says_why_in_these_words(value: object, message: str) -> None:
    with pytest.raises(QueryError) as refused:
        decode_value(value, allowed_instances=ALLOWED, max_page=MAX_PAGE)
    assert str(refused.value) == message


@pytest.mark.parametrize(("value", "message"), [
    (None, "That menu is not one this bot made."),
    ("{" * (MAX_OPTION_VALUE + 1), "That menu is not one this bot made."),
    ("{" * MAX_OPTION_VALUE, "That menu's data is damaged; run the command again."),  # as long as it may be: read
    ('{"i": "ccc-test"}', "That menu's data is damaged; run the command again."),
    ('{"i": "ccc-test", "n": "no digits"}', "That menu's data is damaged; run the command again."),
])
def test_a_refused_menu_choice_says_why_in_these_words(value: object, message: str) -> None:
    with pytest.raises(QueryError) as refused:
        decode_number_ref(value, allowed_instances=ALLOWED)
    assert str(refused.value) == message


# --- what a title, a shared command and a button say, word for word -------------------------------------------


@pytest.mark.parametrize(("query", "words"), [
    (Query("ccc-test", pattern="0833", usage="Inbound", active=True), "matching 0833 · inbound · active"),
    (Query("ccc-test", active=False, row_filters=(("tag", "M1"),)), "inactive · tag M1"),
    (Query("ccc-test"), "all numbers"),
])
def test_a_query_in_words(query: Query, words: str) -> None:
    assert query.describe() == words


@pytest.mark.parametrize(("query", "typed"), [
    (Query("ccc-test", pattern="0833", active=True), "0833 active instance:ccc-test"),
    (Query("ccc-test", usage="Outbound", active=False, page=3), "outbound inactive page 3 instance:ccc-test"),
    (Query("ccc-test", row_filters=(("group", "'abc'"),)), "group:\"'abc'\" instance:ccc-test"),
])
def test_the_command_a_query_gives_back_word_for_word(query: Query, typed: str) -> None:
    assert command_text(query) == typed
    assert parse(typed) == query


def test_a_button_value_is_compact_json_with_cjk_as_typed() -> None:
    query = Query("ccc-test", pattern="0833", row_filters=(("province", "四川"),))
    assert encode_value(query) == '{"v":2,"i":"ccc-test","q":"0833","u":null,"a":null,"p":1,"f":{"province":"四川"}}'
    anchored = encode_value(query.next_to("after", "083312340011"))
    assert anchored.startswith('{"v":3,') and anchored.endswith(f'"n":["after","{number_digest("083312340011")}"]}}')


def test_a_page_jump_forgets_which_number_the_page_must_be_next_to() -> None:
    assert Query("ccc-test").next_to("after", "0833").at_page(3).anchor is None


@pytest.mark.parametrize("anchor", [["sideways", "0" * 16], ["after"], ["after", "0" * 15], ["after", 7], "after"])
def test_a_doctored_anchor_is_refused_as_damaged(anchor: object) -> None:
    value = json.loads(encode_value(Query("ccc-test").next_to("after", "0833")))
    with pytest.raises(QueryError, match="damaged"):
        decode_value(json.dumps({**value, "n": anchor}), allowed_instances=ALLOWED, max_page=MAX_PAGE)


def test_a_details_option_value_is_compact_json_within_150_characters() -> None:
    assert number_ref("ccc-test", "0833分机1") == '{"i":"ccc-test","n":"0833分机1"}'
    assert number_ref("ccc-test", "7") == '{"i":"ccc-test","n":"7"}'
    assert number_ref("i" * 35, "1" * 100) is not None  # 150 characters exactly
    assert number_ref("i" * 36, "1" * 100) is None
    assert number_ref("ccc-test", "1" * 101) is None and number_ref("ccc-test", "") is None
