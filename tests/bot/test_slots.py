"""The slot extractor, table-driven: what is a slot in English and Chinese, and what is not."""

from __future__ import annotations

import pytest

from bot.slots import extract_slots, mask_slots, only_slots


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Order numbers: shaped like one, or named as one.
        ("#10482", [("order_number", "10482")]),
        ("SO123456", [("order_number", "SO123456")]),
        ("order 10482", [("order_number", "10482")]),
        ("Order no. 10482 please", [("order_number", "10482")]),
        ("my order number is SO123456", [("order_number", "SO123456")]),
        ("order #SO-123456", [("order_number", "SO123456")]),
        ("订单号 LM20240518", [("order_number", "LM20240518")]),
        ("订单号是LM20240518", [("order_number", "LM20240518")]),
        ("单号：123456", [("order_number", "123456")]),
        ("订单 20240518", [("order_number", "20240518")]),  # named, so not a date
        ("Order #20261122001 never came", [("order_number", "20261122001")]),
        # Chinese writes no space around a Latin or digit run: a Han neighbour is a boundary.
        ("我的订单SO123456到哪了", [("order_number", "SO123456")]),
        ("订单123456还没到", [("order_number", "123456")]),
        ("查一下#10482的物流", [("order_number", "10482")]),
        ("SO123456什么时候发货", [("order_number", "SO123456")]),
        # E-mail addresses.
        ("mail me at li.na+shop@Example.com", [("email", "li.na+shop@example.com")]),
        ("邮箱 a.b@example.co.uk", [("email", "a.b@example.co.uk")]),
        # Phones: Chinese numbering by default, others with their + code, spaces allowed.
        ("13800138000", [("phone", "+8613800138000")]),
        ("call 138 0013 8000", [("phone", "+8613800138000")]),
        ("我的手机是138-0013-8000", [("phone", "+8613800138000")]),
        ("+86 138 0013 8000", [("phone", "+8613800138000")]),
        ("+44 20 7946 0958", [("phone", "+442079460958")]),
        ("+44 7911 123456", [("phone", "+447911123456")]),
        ("座机 021-12345678", [("phone", "+862112345678")]),
        # Amounts, normalised with their currency.
        ("$59.90", [("amount", "59.90 USD")]),
        ("59.90元", [("amount", "59.90 CNY")]),
        ("¥100", [("amount", "100.00 CNY")]),
        ("100块", [("amount", "100.00 CNY")]),
        ("退我 299块钱", [("amount", "299.00 CNY")]),
        ("I paid 1,299.00 yuan", [("amount", "1299.00 CNY")]),
        ("€12,50", [("amount", "12.50 EUR")]),
        ("HK$100", [("amount", "100.00 HKD")]),
        ("20 dollars", [("amount", "20.00 USD")]),
        # Several in one message, in the order written.
        (
            "I was charged twice for order #10482, I need the extra $59.90 back",
            [("order_number", "10482"), ("amount", "59.90 USD")],
        ),
        (
            "我的订单号是 LM20240518，邮箱 ada@example.com，电话 13800138000",
            [
                ("order_number", "LM20240518"),
                ("email", "ada@example.com"),
                ("phone", "+8613800138000"),
            ],
        ),
    ],
)
def test_slots_are_found_and_normalised(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(s.kind, s.value) for s in extract_slots(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-18",
        "20240518",
        "it came on 5/18/2024",
        "18.05.2024",
        "2024年5月18日",
        "at 14:30",
        "下午3点到",
        "3:30pm",
        "I placed an order in 2024",
        "from 2019 to 2023",
        "iPhone 15",
        "iPhone 15 Pro 256GB",
        "I bought 3 shirts and want 2 more",
        "买了3件，还要2件",
        "size 42",
        "10 items",
        "I ordered 12345 things",  # "ordered" does not name an order number
        "+44 7700 900123",  # a reserved, invalid number: neither a phone nor an order
        "the order",
        "nothing to see here",
    ],
)
def test_dates_times_years_models_and_quantities_are_not_slots(text: str) -> None:
    assert extract_slots(text) == []


def test_a_slot_keeps_what_the_customer_wrote_and_the_span_it_covers() -> None:
    text = "my order number is SO-123456, thanks"
    [slot] = extract_slots(text)
    assert (slot.value, slot.text) == ("SO123456", "SO-123456")
    assert text[slot.start : slot.end] == "order number is SO-123456"


@pytest.mark.parametrize(
    ("text", "alone"),
    [
        ("#10482", True),
        ("my order number is SO123456", True),
        ("订单号 LM20240518", True),
        ("订单号是LM20240518", True),
        ("it's 13800138000, thanks", True),
        ("我的邮箱是 ada@example.com", True),
        ("$59.90", True),
        ("Where is order #10482?", False),
        ("我的订单号是 LM20240518，怎么还没发货？", False),
        ("I was charged twice for order #10482, I need the extra $59.90 back", False),
        ("hello", False),
        ("20240518", False),
    ],
)
def test_only_slots_means_no_question_of_its_own(text: str, alone: bool) -> None:
    assert only_slots(text) is alone


@pytest.mark.parametrize(
    ("text", "language", "masked"),
    [
        (
            "I was charged twice for order #10482, I need the extra $59.90 back",
            "en",
            "I was charged twice for order, I need the extra money back",
        ),
        ("我的订单号是 LM20240518，怎么还没发货？", "zh", "我的订单，怎么还没发货？"),
        ("call me on +44 7911 123456", "en", "call me on phone number"),
        ("How do I track my order?", "en", "How do I track my order?"),
    ],
)
def test_masking_replaces_each_slot_with_a_plain_word(
    text: str, language: str, masked: str
) -> None:
    assert mask_slots(text, extract_slots(text), language) == masked
