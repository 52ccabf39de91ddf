"""Personal data in a message: where it is, and the message with it masked.

Pure functions of the text, in English and Chinese, with no model: e-mail addresses; phone
numbers (``phonenumbers``: Chinese numbering by default, any other country with its ``+`` or
``00`` code, and North American numbers written in their own format); bank card numbers (13 to
19 digits, Luhn-checked, with an issuer's prefix); mainland resident ID numbers (GB 11643
checksum and a real birth date); and IBANs (their country's length and the mod-97 check).

Precision matters as much as recall: an order number, a tracking number, a date or an amount
masked in the agent's view hides what the agent needs. So every number must pass its check,
and a number the customer names as an order, a tracking or an invoice number is left alone.
Passport and driving-licence numbers have no check digit worth the name and look like order
numbers; they are not detected (docs/security.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

import phonenumbers
from stdnum import iban, luhn
from stdnum.cn import ric

__all__ = [
    "ALL_KINDS",
    "EMAIL",
    "PHONE_REGION",
    "PersonalKind",
    "PersonalSpan",
    "find_personal_data",
    "mask_personal_data",
    "phone_matches",
    "placeholder",
]

PersonalKind = Literal["email", "phone", "card", "national_id", "iban"]
ALL_KINDS: frozenset[PersonalKind] = frozenset({"email", "phone", "card", "national_id", "iban"})
PHONE_REGION = "CN"


@dataclass(frozen=True)
class PersonalSpan:
    kind: PersonalKind
    start: int
    end: int


# ASCII only on purpose: a Han character is a word character, and "邮箱是a@qq.com" must give
# "a@qq.com", not the words before it.
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
# Cheap gates: most messages have no run of seven digits and no "@", and skip the rest.
_DIGIT_RUN = re.compile(r"\d(?:[\s().+-]{0,3}\d){6,}")
_EDGE_BEFORE = r"(?<![A-Za-z0-9.,/#+-])"
_EDGE_AFTER = r"(?![A-Za-z0-9/]|[.,-]\d)"
# Card numbers as written: one run of digits, or groups of four (4-6-5 and 4-6-4 for Amex and
# Diners) split by spaces or dashes, the same separator throughout.
_CARD = re.compile(
    _EDGE_BEFORE + r"(?:\d{13,19}"
    r"|\d{4}(?P<s>[ -]| - |  )\d{4}(?P=s)\d{4}(?:(?P=s)\d{1,4}){1,2}"
    r"|\d{4}(?P<t>[ -])\d{6}(?P=t)\d{4,5})" + _EDGE_AFTER
)
_NATIONAL_ID = re.compile(_EDGE_BEFORE + r"\d{6}(?P<s> ?)\d{8}(?P=s)\d{3}[\dXx]" + _EDGE_AFTER)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)
# A number the customer names as something else is that thing: "order 4111111111111111",
# "运单号 SF1234567890123", "invoice no. 13812345678".
_NAMED_OTHER = re.compile(
    r"(?:(?<![A-Za-z])(?:orders?|order\s+(?:number|no\.?|id)|tracking(?:\s+(?:number|no\.?|id))?|"
    r"invoice(?:\s+(?:number|no\.?))?|ref(?:erence)?(?:\s+(?:number|no\.?))?|"
    r"waybill|parcel|shipment|sku|item|serial(?:\s+number)?|ticket|case|barcode|imei|meid)|"
    r"订单号码|订单编号|订单号|订单|单号|运单|快递|物流|发票号?|流水号|序列号|工单|条形码|条码)"
    r"\s*(?:is|was|是|为|:|：|#|no\.?)?\s*#?\s*$",
    re.I,
)
_DIALLABLE = re.compile(
    r"(?<![A-Za-z0-9.,/#+-])(?:\+|00)?\(?\d(?:[ ().-]{0,2}\d){6,14}(?![A-Za-z0-9]|[.,-]\d)"
)
_PHONE_CUE = re.compile(
    r"(?:(?<![A-Za-z])(?:phone|tel|mobile|cell|call|text|whatsapp|wechat|reach|contact|my number)|"
    r"电话|手机|号码|打|联系|微信)"
    r"(?:\s*(?:number|no\.?|me|at|on|is|号|是|为|:|：))*\s*$",
    re.I,
)
_NANP_WRITTEN = re.compile(r"^(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}$")


def phone_matches(text: str, region: str = PHONE_REGION) -> Iterator[phonenumbers.PhoneNumberMatch]:
    """``phonenumbers``' valid numbers in ``text``, dialled from ``region`` (shared with slots)."""
    if _DIGIT_RUN.search(text) is None:
        return iter(())
    return iter(phonenumbers.PhoneNumberMatcher(text, region))


def find_personal_data(text: str) -> list[PersonalSpan]:
    """Every span of personal data in ``text``, in order; a span belongs to the first kind that
    claims it (e-mail, resident ID, IBAN, card, phone)."""
    found: list[PersonalSpan] = []

    def claim(kind: PersonalKind, start: int, end: int) -> None:
        if not any(start < s.end and s.start < end for s in found):
            found.append(PersonalSpan(kind, start, end))

    if "@" in text:
        for match in EMAIL.finditer(text):
            claim("email", *match.span())
    if _DIGIT_RUN.search(text) is not None:
        for match in _NATIONAL_ID.finditer(text):
            if _is_resident_id(match.group(0)) and not _named_other(text, match.start()):
                claim("national_id", *match.span())
        for match in _IBAN.finditer(text):
            end = _iban_end(match.group(0))
            if end and not _named_other(text, match.start()):
                claim("iban", match.start(), match.start() + end)
        for match in _CARD.finditer(text):
            if _is_card(match.group(0)) and not _named_other(text, match.start()):
                claim("card", *match.span())
        for start, end in _phone_spans(text):
            if not _named_other(text, start):
                claim("phone", start, end)
    return sorted(found, key=lambda span: span.start)


def mask_personal_data(text: str, kinds: Collection[PersonalKind] = ALL_KINDS) -> str:
    """``text`` with each span of the given kinds replaced by a typed placeholder with a hint:
    ``[card ••••1111]``, ``[phone •••5678]``, ``[email a•••@example.com]``, ``[id ••••]``."""
    parts: list[str] = []
    position = 0
    for span in find_personal_data(text):
        if span.kind not in kinds:
            continue
        parts += [text[position : span.start], placeholder(span.kind, text[span.start : span.end])]
        position = span.end
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def placeholder(kind: PersonalKind, written: str) -> str:
    alphanumerics = re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", written))
    if kind == "email":
        local, _, domain = written.partition("@")
        return f"[email {local[:1]}•••@{domain}]"
    if kind == "phone":
        return f"[phone •••{alphanumerics[-4:]}]"
    if kind == "card":
        return f"[card ••••{alphanumerics[-4:]}]"
    if kind == "iban":
        return f"[iban {alphanumerics[:2].upper()}••••{alphanumerics[-4:]}]"
    return "[id ••••]"


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in phone_matches(text):
        if _dialled_as_phone(match):
            yield match.start, match.end
    # A North American number without its +1, only in its own written shape ("(415) 555-2671"),
    # so that a bare run of ten digits (an order, a tracking number) is never read as one.
    for match in phone_matches(text, "US"):
        if _NANP_WRITTEN.match(match.raw_string):
            yield match.start, match.end
    # Any other country's number in its own national format ("07400 123456", "8123 0374") cannot
    # be told from other numbers by its digits; the words before it tell ("call me at", "电话").
    for run in _DIALLABLE.finditer(text):
        start, end = run.span()
        digits = sum(c.isdigit() for c in run.group(0))
        if 7 <= digits <= 15 and _PHONE_CUE.search(text[max(0, start - 24) : start]):
            yield start, end


def _dialled_as_phone(match: phonenumbers.PhoneNumberMatch) -> bool:
    """A Chinese landline is written with its trunk 0 ("010-62345678"); without it, a run of
    ten digits that happens to fit a Chinese area code is more likely an order or a date."""
    raw = match.raw_string.lstrip("(（ ")
    if raw.startswith(("+", "＋", "00")) or re.sub(r"\D", "", raw).startswith("0"):
        return True
    kind = phonenumbers.number_type(match.number)
    return kind in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }


def _named_other(text: str, start: int) -> bool:
    return _NAMED_OTHER.search(text[max(0, start - 24) : start]) is not None


def _is_card(written: str) -> bool:
    digits = re.sub(r"\D", "", written)
    if not luhn.is_valid(digits) or _shaped_like_resident_id(digits):
        return False
    return any(
        len(digits) in lengths and low <= int(digits[: len(str(low))]) <= high
        for low, high, lengths in _ISSUERS
    )


# (first digits from, to, lengths): an issuer's prefix and the lengths its cards have.
_ISSUERS: tuple[tuple[int, int, range | tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),  # Mastercard's 2-series
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),
    (300, 305, range(14, 17)),  # Diners Club
    (36, 36, range(14, 17)),
    (38, 39, range(14, 17)),
    (3528, 3589, range(16, 20)),  # JCB
    (50, 50, range(16, 20)),  # Maestro
    (56, 58, range(16, 20)),
    (60, 62, range(16, 20)),  # Discover, Chinese banks' cards, UnionPay
    (64, 65, range(16, 20)),  # Discover
    (67, 67, range(16, 20)),  # Maestro
    (95, 95, (19,)),  # the older Chinese bank cards (9558...)
)
# The provinces' codes that begin a resident ID number.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)


def _birth_date(digits: str) -> date | None:
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None
    return born if date(1900, 1, 1) <= born <= date.today() else None


def _shaped_like_resident_id(digits: str) -> bool:
    """Eighteen digits that start with a province and carry a birth date are an ID number
    mistyped (or some other number), not a card."""
    return len(digits) == 18 and int(digits[:2]) in _PROVINCES and _birth_date(digits) is not None


def _is_resident_id(written: str) -> bool:
    # GB 11643's check digit and a real birth date. Not stdnum's ``ric.is_valid``: it also wants
    # the county code to have existed in the birth year, and people born before their county
    # was made hold such numbers.
    number = written.replace(" ", "").upper()
    return (
        _shaped_like_resident_id(number[:17] + "0") and ric.calc_check_digit(number) == number[-1]
    )


def _iban_end(written: str) -> int:
    """The length of the longest valid IBAN ``written`` starts with (whole groups), or 0."""
    cut = len(written)
    while cut >= 15:
        if iban.is_valid(written[:cut]):
            return cut
        space = written.rfind(" ", 0, cut)
        if space < 0:
            return 0
        cut = space
    return 0
