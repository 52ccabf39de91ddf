"""Slots in a customer's message: order numbers, e-mail addresses, phone numbers and amounts.

Pure functions of the text, in English and Chinese. E-mail addresses and phones are found as
``core.pii`` finds them (phones from ``phonenumbers``: Chinese numbering by default, any other
country with its ``+`` code), and a card, ID or IBAN number is never an order; the rest are
patterns written to leave dates, times, years, model names and quantities alone. The bot masks
slots before it embeds a message, so an order number cannot pull retrieval towards unrelated
entries, and the context packet lists them for the agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import phonenumbers

from core.pii import EMAIL, find_personal_data, phone_matches

__all__ = ["Slot", "SlotKind", "extract_slots", "mask_slots", "only_slots"]

SlotKind = Literal["order_number", "email", "phone", "amount"]


@dataclass(frozen=True)
class Slot:
    kind: SlotKind
    value: str  # normalised: "10482", "+8613800138000", "59.90 CNY"
    text: str  # the value as the customer wrote it: "#10482", "138 0013 8000", "$59.90"
    # The whole mention, naming words included ("order number is SO123456"): what masking hides.
    start: int
    end: int


# "1,299.00", "59.90", and the European "12,50".
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+,\d{2}(?![\d,])|\d+(?:\.\d{1,2})?"
_CURRENCY_BEFORE = re.compile(
    rf"(?P<cur>US\$|HK\$|[$¥￥€£]|\b(?:RMB|CNY|USD|EUR|GBP|HKD)\b)\s?(?P<num>{_NUMBER})(?![\d.])",
    re.I,
)
_CURRENCY_AFTER = re.compile(
    rf"(?<![\d.,])(?P<num>{_NUMBER})\s?"
    r"(?P<cur>块钱|元|块|美元|欧元|英镑|港币|人民币|(?:dollars?|usd|rmb|yuan|cny|euros?|eur|gbp|hkd)\b)",
    re.I,
)
_CURRENCIES = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "美元": "USD",
    "hk$": "HKD",
    "hkd": "HKD",
    "港币": "HKD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "欧元": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "英镑": "GBP",
}
_ORDER_ID = r"[A-Z]{1,4}-?\d{4,24}|\d{4,24}"
# Where an order number may start and end: not inside a Latin word or a longer number. A Han
# character is a boundary, since Chinese puts no space around a Latin run ("订单SO123456到哪了").
_W = r"A-Za-z0-9_"
# An order number named as one ("order 10482", "订单号是LM20240518", "单号：123456") ...
_NAMED_ORDER = re.compile(
    r"(?:\border(?:\s+(?:number|no\.?|id|#))?|订单号码|订单编号|订单号|订单|单号)"
    rf"\s*(?:is|是|为|:|：|no\.?)?\s*(?P<id>#?\s*(?:{_ORDER_ID}))(?![{_W}.])",
    re.I,
)
# ... or shaped like one: "#10482", "SO123456", or a long run of digits that is no date.
_SHAPED_ORDER = re.compile(
    rf"(?<![{_W}#])#[A-Z]{{0,4}}\d{{3,24}}(?![{_W}])"
    rf"|(?<![A-Za-z0-9])[A-Z]{{1,4}}\d{{6,24}}(?![{_W}.])"
    rf"|(?<![{_W}.,:/+-])\d{{6,24}}(?![{_W}.,:/-])",
)
# An international number that ``phonenumbers`` does not accept is still no order number.
_PHONE_LIKE = re.compile(r"\+\s?\d[\d ()-]{6,}\d")
# Words that carry no question of their own around a slot ("my order number is #10482").
_FILLER = re.compile(
    r"\b(?:it'?s|it|is|my|the|here|this|that|order|number|no|id|email|e-mail|mail|phone|"
    r"mobile|tel|call|me|on|at|amount|of|and|for|please|pls|thanks?|ok|okay|yes|sure|card|"
    r"iban|account)\b"
    r"|订单号码|订单编号|订单号|订单|单号|我的|是|这是|邮箱|手机号?|电话|金额|号码|谢谢|请|好的|嗯"
    r"|卡号|银行卡|身份证号?|账号|账户",
    re.I,
)
# Personal data as core.pii masks it, as the exchange log stores it: "[email a•••@example.com]".
_MASKED = re.compile(r"\[(?P<kind>email|phone|card|id|iban) [^\[\]\n]{1,80}\]")
# What a masked slot becomes: a plain word that keeps the sentence readable for the models.
_PLACEHOLDERS: dict[str, dict[SlotKind, str]] = {
    "en": {"order_number": "order", "email": "email", "phone": "phone number", "amount": "money"},
    "zh": {"order_number": "订单", "email": "邮箱", "phone": "电话", "amount": "钱"},
}


def extract_slots(text: str) -> list[Slot]:
    """Every slot in ``text``, in order; a span belongs to the first kind that claims it."""
    found: list[Slot] = []
    taken: list[tuple[int, int]] = []

    def claim(kind: SlotKind, value: str, span: tuple[int, int], written: str) -> None:
        start, end = span
        if any(start < b and a < end for a, b in taken):
            return
        taken.append(span)
        found.append(Slot(kind, value, written.strip(), start, end))

    # Masked personal data is still the slot it was; a masked card or ID is no order number.
    for match in _MASKED.finditer(text):
        if match.group("kind") == "email":
            claim("email", match.group(0), match.span(), match.group(0))
        elif match.group("kind") == "phone":
            claim("phone", match.group(0), match.span(), match.group(0))
        else:
            taken.append(match.span())
    for match in EMAIL.finditer(text):
        claim("email", match.group(0).lower(), match.span(), match.group(0))
    # A card, resident ID or IBAN is personal data (core/pii.py), never an order number.
    taken.extend(
        (span.start, span.end)
        for span in find_personal_data(text)
        if span.kind in {"card", "national_id", "iban"}
    )
    # A number named as an order is one, even when it could be dialled.
    for match in _NAMED_ORDER.finditer(text):
        written = match.group("id")
        claim("order_number", _order_value(written), match.span(), written)
    for phone in phone_matches(text):
        formatted = phonenumbers.format_number(phone.number, phonenumbers.PhoneNumberFormat.E164)
        claim("phone", formatted, (phone.start, phone.end), phone.raw_string)
    taken.extend(match.span() for match in _PHONE_LIKE.finditer(text))
    for pattern in (_CURRENCY_BEFORE, _CURRENCY_AFTER):
        for match in pattern.finditer(text):
            currency = _CURRENCIES.get(match.group("cur").lower(), "CNY")
            claim("amount", f"{_amount(match.group('num'))} {currency}", match.span(), match[0])
    for match in _SHAPED_ORDER.finditer(text):
        written = match.group(0)
        if written.isdigit() and _is_date(written):
            continue
        claim("order_number", _order_value(written), match.span(), written)
    return sorted(found, key=lambda slot: slot.start)


def only_slots(text: str, slots: list[Slot] | None = None) -> bool:
    """Whether the message gives slots and nothing else: no question of its own."""
    slots = extract_slots(text) if slots is None else slots
    # A card, ID or IBAN number (raw or masked) gives something too, like a slot.
    spans = [(slot.start, slot.end) for slot in slots]
    spans += [
        (p.start, p.end) for p in find_personal_data(text) if p.kind not in {"email", "phone"}
    ]
    spans += [match.span() for match in _MASKED.finditer(text)]
    if not spans:
        return False
    leftover = _FILLER.sub(" ", _blank(text, spans))
    return not re.search(r"[^\W\d_]", leftover)


def mask_slots(text: str, slots: list[Slot], language: str) -> str:
    """``text`` with each slot replaced by a plain word for its kind, for the models to read."""
    words = _PLACEHOLDERS.get(language, _PLACEHOLDERS["en"])
    parts: list[str] = []
    position = 0
    for slot in slots:
        parts += [text[position : slot.start], words[slot.kind]]
        position = slot.end
    parts.append(text[position:])
    return "".join(parts)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _order_value(written: str) -> str:
    return re.sub(r"[\s#-]", "", written).upper()


def _amount(number: str) -> str:
    if re.fullmatch(r"\d+,\d{2}", number):
        number = number.replace(",", ".")
    return f"{float(number.replace(',', '')):.2f}"


def _is_date(digits: str) -> bool:
    """``20240518``: a YYYYMMDD date between 1900 and 2099 is read as a date, not an order."""
    if len(digits) != 8 or digits[:2] not in {"19", "20"}:
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True
