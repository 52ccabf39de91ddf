"""The personal-data detector (core/pii.py), table-driven: what it finds, what it masks to, and
the look-alikes it must leave alone."""

from __future__ import annotations

import pytest

from core.pii import find_personal_data, mask_personal_data

FOUND = [
    ("my card is 4111111111111111", "my card is [card ••••1111]"),
    ("卡号4111 1111 1111 1111，谢谢", "卡号[card ••••1111]，谢谢"),
    ("Amex 3782 822463 10005 please", "Amex [card ••••0005] please"),
    ("银行卡 6222021234567890128", "银行卡 [card ••••0128]"),
    ("手机13812345678谢谢", "手机[phone •••5678]谢谢"),
    ("+86 138 1234 5678", "[phone •••5678]"),
    ("138-1234-5678", "[phone •••5678]"),
    ("(+86) 13812345678", "[phone •••5678]"),
    ("0086 13812345678", "[phone •••5678]"),
    ("１３８１２３４５６７８", "[phone •••5678]"),
    ("tel: 010-62345678", "tel: [phone •••5678]"),
    ("call (415) 555-2671 after 6", "call [phone •••2671] after 6"),
    ("+44 20 7946 0958", "[phone •••0958]"),
    ("call me at 07400 123456", "call me at [phone •••3456]"),
    ("邮箱是abc.d@qq.com。", "邮箱是[email a•••@qq.com]。"),
    ("<John.Smith@Example.co.uk>", "<[email J•••@Example.co.uk]>"),
    ("身份证11010519491231002X", "身份证[id ••••]"),
    ("ID 110105 19491231 002x", "ID [id ••••]"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [iban GB••••5432] please"),
    ("DE89370400440532013000", "[iban DE••••3000]"),
]

LOOKALIKES = [
    "order #10482",
    "LM20240518",
    "订单号 2024051812345",
    "订单号：1934567890123456781",
    "order 4111111111111111",
    "¥59.90",
    "$1,234.56",
    "€12,50",
    "SF1234567890123",
    "1Z999AA10123456784",
    "运单号 773012345678901",
    "4111111111111112",
    "110105194912310021",
    "2024-05-18 14:30:00",
    "20240518143000",
    "05/18/2024",
    "2024051812",
    "4155552671",
    "barcode 6901234567892",
    "IMEI 356938035643809",
    "version 13.8.1234",
    "统一社会信用代码 91350211MA2XXXXXX1",
    "postcode SW1A 1AA",
    "400-820-8820",
]


@pytest.mark.parametrize(("text", "masked"), FOUND)
def test_personal_data_is_found_and_masked_with_a_hint(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked
    assert find_personal_data(masked) == []  # masking twice changes nothing


@pytest.mark.parametrize("text", LOOKALIKES)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert find_personal_data(text) == []
    assert mask_personal_data(text) == text


def test_kinds_choose_what_is_masked() -> None:
    text = "card 4111111111111111, phone 13812345678"
    assert [s.kind for s in find_personal_data(text)] == ["card", "phone"]
    assert (
        mask_personal_data(text, kinds={"phone"}) == "card 4111111111111111, phone [phone •••5678]"
    )
