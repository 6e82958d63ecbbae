"""bot/export.py: the CSV of a whole result, and its file name."""

from __future__ import annotations

import csv
import io

from bot.export import BOM, HEADER, csv_row, file_name, group_label, to_csv
from bot.filters import Query
from bot.page import PhoneNumber, SkillGroup

FULL = PhoneNumber(
    number="083312340011", active=True, usage="Inbound", province="四川", city="乐山", provider="alicom",
    contact_flow_name="夜间留言", contact_flow_id="flow-1",
    skill_groups=(SkillGroup("g1@ccc", "presales", "售前咨询"), SkillGroup("g2@ccc", "vip", "VIP 热线")),
    user_id="agent07@ccc-test", tags="M1,VIP", created_at=1609469882,
)


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_a_header_then_one_row_per_number_with_every_column():
    parsed = rows(to_csv([FULL, PhoneNumber("4001234567")]))
    assert parsed[0] == list(HEADER)
    assert parsed[1] == ["083312340011", "Inbound", "yes", "四川", "乐山", "alicom", "夜间留言", "flow-1",
                         "presales (售前咨询); vip (VIP 热线)", "agent07@ccc-test", "M1,VIP", "2021-01-01"]
    assert parsed[2] == ["4001234567", "", "", "", "", "", "", "", "", "", "", ""]
    assert len(parsed) == 3


def test_the_file_is_utf8_with_a_byte_order_mark_for_excel():
    data = to_csv([FULL])
    assert data.startswith(BOM.encode("utf-8")) and data.count(BOM.encode("utf-8")) == 1
    assert "四川".encode() in data


def test_an_inactive_number_and_one_of_unknown_state():
    assert csv_row(PhoneNumber("1", active=False))[2] == "no"
    assert csv_row(PhoneNumber("1", active=None))[2] == ""


def test_a_group_label_names_both_names_or_the_one_it_has():
    assert group_label(SkillGroup("g@c", "vip", "VIP 热线")) == "vip (VIP 热线)"
    assert group_label(SkillGroup("g@c", "vip", "")) == "vip"
    assert group_label(SkillGroup("g@c", "", "VIP 热线")) == "g@c (VIP 热线)"
    assert group_label(SkillGroup("g@c", "vip", "vip")) == "vip"
    assert group_label(SkillGroup("", "", "")) == ""


def test_commas_quotes_and_newlines_stay_inside_their_cell():
    tricky = PhoneNumber("1", tags='a, "b"\nc', contact_flow_name="x\r\ny", city=";")
    parsed = rows(to_csv([tricky]))
    assert len(parsed) == 2 and len(parsed[1]) == len(HEADER)
    assert parsed[1][10] == 'a, "b"\nc' and parsed[1][6] == "x\r\ny" and parsed[1][4] == ";"


def test_slack_markup_is_just_data():
    values = ["<!channel>", "`code`", "*bold*", "<http://evil.example|x>"]
    parsed = rows(to_csv([PhoneNumber("1", tags=value) for value in values]))
    assert [row[10] for row in parsed[1:]] == values


def test_an_unknown_date_is_an_empty_cell():
    assert csv_row(PhoneNumber("1", created_at=None))[11] == ""
    assert csv_row(PhoneNumber("1", created_at=0))[11] == "1970-01-01"


def test_no_numbers_is_just_the_header():
    assert rows(to_csv([])) == [list(HEADER)]


def test_the_file_name_holds_the_instance_and_filters_in_safe_characters():
    query = Query("ccc-test", pattern="0833", usage="Inbound", active=True,
                  row_filters=(("province", "四川"), ("group", 'VIP "热线"/../x')))
    assert file_name(query) == "numbers-ccc-test-0833-inbound-active-province-四川-group-VIP-热线-x.csv"
    assert file_name(Query("ccc-demo", page=7)) == "numbers-ccc-demo.csv"


def test_a_long_file_name_is_cut():
    name = file_name(Query("ccc-test", row_filters=(("tag", "x" * 500),)))
    assert len(name) <= len("numbers-.csv") + 80 and name.endswith("x.csv")


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text() -> None:
    table = rows(to_csv([PhoneNumber("+861012345678", tags="=HYPERLINK(\"http://evil.example\")", contact_flow_name="@SUM(A1)",
                                    user_id="-2+3", provider="+cmd")]))
    number = table[1][0]
    assert number == "+861012345678"  # a leading + on a number stays
    assert table[1][HEADER.index("tags")] == "'=HYPERLINK(\"http://evil.example\")"
    assert table[1][HEADER.index("contact flow name")] == "'@SUM(A1)"
    assert table[1][HEADER.index("agent")] == "'-2+3" and table[1][HEADER.index("provider")] == "'+cmd"
    assert rows(to_csv([PhoneNumber("=1+1")]))[1][0] == "'=1+1"
