import pytest

from bot.access import Access, mask_number
from bot.config import load_settings
from bot.filters import Query
from bot.page import Page, PhoneNumber


@pytest.mark.parametrize(("number", "masked"), [
    ("083312340011", "0833****0011"),
    ("13812345678", "138*****678"),
    ("4001234567", "400****567"),
    ("12345678", "12****78"),
    ("008613812345678", "0086*******5678"),  # a long number still shows four digits at each end, no more
    ("12345", "*****"),
    ("", ""),
])
def test_mask_number_hides_at_least_four_and_a_third(number: str, masked: str) -> None:
    assert mask_number(number) == masked
    assert len(masked) == len(number)


def test_empty_lists_let_everyone_in_everywhere() -> None:
    assert Access().refusal("U1", "C1") is None


def test_a_user_not_on_the_list_is_told_why_and_what_to_do() -> None:
    access = Access(users=frozenset({"U0ALICE"}))
    assert access.refusal("U0ALICE", "C1") is None
    refusal = access.refusal("U0BOB", "C1")
    assert refusal is not None and "`U0BOB`" in refusal and "NUMBERS_ALLOWED_USERS" in refusal


def test_a_conversation_not_on_the_list_is_refused() -> None:
    access = Access(channels=frozenset({"C0OPS"}))
    assert access.refusal("U1", "C0OPS") is None
    refusal = access.refusal("U1", "D0DM")
    assert refusal is not None and "`D0DM`" in refusal and "NUMBERS_ALLOWED_CHANNELS" in refusal


def test_from_settings() -> None:
    settings = load_settings({"NUMBERS_ALLOWED_USERS": "U0ALICE,U0BOB", "NUMBERS_ALLOWED_CHANNELS": "C0OPS",
                              "NUMBERS_MASK_SHARED": "true"}, dotenv=False)
    assert Access.from_settings(settings) == Access(frozenset({"U0ALICE", "U0BOB"}), frozenset({"C0OPS"}), True)


def page_of(*numbers: str, pattern: str = "0833") -> Page:
    query = Query(instance_id="ccc-test", pattern=pattern)
    return Page(query, tuple(PhoneNumber(number=n) for n in numbers), len(numbers), 10, 1)


def test_shared_pages_are_masked_only_when_configured() -> None:
    page = page_of("083312340011", "083399990000")
    assert Access().for_channel(page) is page
    masked = Access(mask_shared=True).for_channel(page)
    assert [n.number for n in masked.numbers] == ["0833****0011", "0833****0000"]
    assert masked.query.pattern == "0833" and masked.total == page.total


def test_a_pattern_as_long_as_a_number_is_masked_too() -> None:
    masked = Access(mask_shared=True).for_channel(page_of("083312340011", pattern="083312340011"))
    assert masked.query.pattern == "0833****0011"


@pytest.mark.parametrize(("pattern", "shared"), [
    ("083312345", "08*****45"),  # nine digits: a mobile number's tail, or most of a landline: hidden
    ("08331234", "08331234"),  # eight: an area code and a prefix, left as typed
])
def test_a_pattern_is_masked_from_nine_digits_on(pattern: str, shared: str) -> None:
    assert Access(mask_shared=True).for_channel(page_of("083312345678", pattern=pattern)).query.pattern == shared


def test_without_masking_a_shared_number_stays_whole() -> None:
    assert Access().shared_number("083312340011") == "083312340011"
    assert Access(mask_shared=True).shared_number("083312340011") == "0833****0011"
