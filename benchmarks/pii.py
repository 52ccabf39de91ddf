"""Does the personal-data detector find what customers type, and leave look-alikes alone?

    .venv/bin/python benchmarks/pii.py [--per-kind 1000] [--lookalikes 5000] [--seed 15]

Generates (seeded, deterministic) chat messages in English and Chinese:

- with personal data: e-mail addresses, phone numbers (mainland mobiles and landlines, foreign
  numbers in international and in their own national formats), bank card numbers of every
  major scheme (Visa, Mastercard, Amex, UnionPay, JCB, Discover; the Chinese banks' 19-digit
  cards), mainland resident ID numbers, IBANs, each in the formats people write them in (run
  together, grouped by spaces or dashes, with "+86", "0086", "(+86)", lower-case "x", and so
  on), inside sentences, sometimes next to an order number or an amount;
- with look-alikes only: order numbers (named or shaped: "#10482", "LM20240518", "订单号
  2024051812345", Taobao-style 19-digit order numbers after "订单号"), tracking numbers (SF,
  YT, JD, UPS "1Z...", EMS "EA...CN", bare courier numbers), dates and times in every common
  form, amounts, versions, postal codes, company credit codes, and long numbers that fail the
  check a real card (Luhn) or ID number (GB 11643) passes.

The formats come from how people write these things, not from the detector: the generator does
not import it. Scored per span: a written item is found when a span of its kind covers it; a
span is right when it overlaps an item of its kind. Then the cost of masking on the bot's turn:
``mask_personal_data`` timed on realistic chat messages (four in five with no personal data).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import string
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

import phonenumbers
from stdnum import iban, luhn
from stdnum.cn import ric

from core.pii import find_personal_data, mask_personal_data

KINDS = ("email", "phone", "card", "national_id", "iban")


@dataclass
class Item:
    text: str
    language: str
    gold: list[tuple[str, int, int]] = field(default_factory=list)


class Writer:
    """Builds one message from pieces, remembering where each personal item lies."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.parts: list[str] = []
        self.gold: list[tuple[str, int, int]] = []

    def say(self, text: str) -> Writer:
        self.parts.append(text)
        return self

    def personal(self, kind: str, text: str) -> Writer:
        start = sum(len(p) for p in self.parts)
        self.gold.append((kind, start, start + len(text)))
        self.parts.append(text)
        return self

    def item(self) -> Item:
        return Item("".join(self.parts), self.language, self.gold)


# -- values, written the ways people write them ---------------------------------------------

FIRST = ["john", "mary", "wei", "li", "anna", "david", "sarah", "mike", "emma", "chen", "yuki"]
LAST = ["smith", "zhang", "wang", "brown", "liu", "garcia", "lee", "chen", "nguyen", "müller"]
DOMAINS = [
    "gmail.com",
    "qq.com",
    "163.com",
    "126.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.co.uk",
    "foxmail.com",
    "sina.com",
    "icloud.com",
    "example.com.cn",
    "mail.shop-example.org",
    "company.io",
]


def email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST).replace("ü", "u")
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}{last}{rng.randint(1, 99)}",
            f"{first}_{last}",
            f"{first[0]}{last}",
            str(rng.randint(10_000, 9_999_999_999)),  # QQ numbers
            f"{first}+shop",
            f"{last}{rng.randint(1970, 2005)}",
        ]
    )
    address = f"{local}@{rng.choice(DOMAINS)}"
    return (
        address.upper()
        if rng.random() < 0.03
        else address.title()
        if rng.random() < 0.05
        else address
    )


MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
    "198",
    "147",
    "173",
]
LANDLINE_AREAS = ["010", "021", "020", "0755", "0571", "028", "027", "025", "0512", "023"]
FOREIGN = ["US", "GB", "HK", "SG", "DE", "JP", "AU", "FR", "CA", "TW", "KR", "MY"]


def mainland_mobile(rng: random.Random) -> str:
    digits = rng.choice(MOBILE_PREFIXES) + "".join(rng.choices(string.digits, k=8))
    a, b, c = digits[:3], digits[3:7], digits[7:]
    return rng.choice(
        [
            digits,
            digits,
            digits,
            f"{a} {b} {c}",
            f"{a}-{b}-{c}",
            f"+86 {a} {b} {c}",
            f"+86{digits}",
            f"+86-{digits}",
            f"+86 {digits}",
            f"(+86) {digits}",
            f"0086 {digits}",
            f"{a}{b} {c}",
            # Chinese input methods in full-width mode.
            digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        ]
    )


def mainland_landline(rng: random.Random) -> str:
    area = rng.choice(LANDLINE_AREAS)
    # These cities' local numbers have eight digits, never starting with 0 or 1.
    local = str(rng.randint(2, 8)) + "".join(rng.choices(string.digits, k=7))
    return rng.choice(
        [
            f"{area}-{local}",
            f"{area} {local[:4]} {local[4:]}",
            f"({area}) {local}",
            f"+86 {area[1:]} {local}",
            f"{area}{local}",
        ]
    )


def foreign_phone(rng: random.Random) -> str:
    region = rng.choice(FOREIGN)
    kind = rng.choice(
        [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = str(example.national_number)
    while True:  # a real-looking number of that plan: the example's prefix, new last digits
        tail = "".join(rng.choices(string.digits, k=4))
        number = phonenumbers.parse(f"+{example.country_code}{national[:-4]}{tail}")
        if phonenumbers.is_valid_number(number):
            break
    formats = [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
    written = phonenumbers.format_number(number, rng.choice(formats))
    if region in {"US", "CA"} and rng.random() < 0.5:
        # North Americans mostly write their own numbers without +1.
        digits = str(number.national_number)
        written = rng.choice(
            [
                f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
                f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
            ]
        )
    elif rng.random() < 0.15:
        written = "00" + written.lstrip("+")
    elif rng.random() < 0.2:  # at home, in the country's own national format
        written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return written


def phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return mainland_mobile(rng)
    return mainland_landline(rng) if roll < 0.75 else foreign_phone(rng)


CARD_SCHEMES: list[tuple[Callable[[random.Random], str], int]] = [
    (lambda r: "4", 16),  # Visa
    (lambda r: str(r.randint(51, 55)), 16),  # Mastercard
    (lambda r: str(r.randint(2221, 2720)), 16),  # Mastercard 2-series
    (lambda r: r.choice(["34", "37"]), 15),  # Amex
    (lambda r: r.choice(["6222", "6217", "6228", "6225", "6214", "6212", "6230"]), 16),  # UnionPay
    (lambda r: r.choice(["6222", "6217", "6228", "6230", "6210"]), 19),  # UnionPay debit
    (lambda r: "9558", 19),  # ICBC's older cards
    (lambda r: str(r.randint(3528, 3589)), 16),  # JCB
    (lambda r: "6011", 16),  # Discover
    (lambda r: "4", 13),  # old Visa
]


def card_digits(rng: random.Random) -> str:
    prefix, length = rng.choice(CARD_SCHEMES)
    body = prefix(rng)
    body += "".join(rng.choices(string.digits, k=length - len(body) - 1))
    return body + luhn.calc_check_digit(body)


def group(digits: str, sizes: list[int], separator: str) -> str:
    parts, position = [], 0
    for size in sizes:
        parts.append(digits[position : position + size])
        position += size
    if position < len(digits):
        parts.append(digits[position:])
    return separator.join(p for p in parts if p)


def card(rng: random.Random) -> str:
    digits = card_digits(rng)
    separator = rng.choice(["", "", " ", " ", "-"])
    if not separator:
        return digits
    if len(digits) == 15:
        return group(digits, [4, 6, 5], separator)
    return group(digits, [4, 4, 4, 4], separator)


ID_REGIONS = [
    "110101",
    "110105",
    "110108",
    "310101",
    "310115",
    "440106",
    "440304",
    "330106",
    "510107",
    "420111",
    "320102",
    "500103",
    "610113",
    "370202",
    "350203",
    "120101",
    "210102",
    "430104",
    "410105",
    "530102",
]


def resident_id(rng: random.Random) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 66))
    body = f"{rng.choice(ID_REGIONS)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    number = body + ric.calc_check_digit(body + "0")  # it expects a place for the digit
    if number.endswith("X") and rng.random() < 0.3:
        number = number[:-1] + "x"
    if rng.random() < 0.1:
        number = f"{number[:6]} {number[6:14]} {number[14:]}"
    return number


IBAN_SHAPES = {  # country: BBAN as (letters, digits) runs
    "GB": [("A", 4), ("9", 14)],
    "DE": [("9", 18)],
    "FR": [("9", 23)],
    "NL": [("A", 4), ("9", 10)],
    "ES": [("9", 20)],
    "BE": [("9", 12)],
    "CH": [("9", 17)],
    "AT": [("9", 16)],
}


def iban_number(rng: random.Random) -> str:
    while True:
        country = rng.choice(list(IBAN_SHAPES))
        bban = "".join(
            "".join(rng.choices(string.ascii_uppercase if kind == "A" else string.digits, k=n))
            for kind, n in IBAN_SHAPES[country]
        )
        number = country + iban.calc_check_digits(country + "00" + bban) + bban
        if iban.is_valid(number):  # the country's own checks (French and Belgian keys, ...)
            break
    return iban.format(number) if rng.random() < 0.7 else number


# -- look-alikes ------------------------------------------------------------------------------


def order_number(rng: random.Random, language: str) -> str:
    digits = "".join(rng.choices(string.digits, k=rng.randint(10, 19)))
    forms = [
        f"#{rng.randint(1000, 99999)}",
        f"order #{rng.randint(1000, 99999)}",
        f"LM{rng.randint(2023, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        f"SO{rng.randint(100000, 9999999)}",
        f"order number {rng.randint(100000, 99999999)}",
        f"order no. {digits}",
        f"订单号 {a_day(rng):%Y%m%d}{rng.randint(10000, 99999)}",
        f"订单号：{digits}",
        f"订单编号{digits}",
        f"单号 {digits}",
    ]
    return rng.choice(forms[5:] if language == "zh" and rng.random() < 0.6 else forms)


def tracking(rng: random.Random) -> str:
    digits = partial(digits_of, rng)
    return rng.choice(
        [
            f"SF{digits(12)}",
            f"SF{digits(13)}",
            f"YT{digits(13)}",
            f"JD{digits(13)}",
            f"1Z{''.join(rng.choices(string.ascii_uppercase + string.digits, k=6))}{digits(10)}",
            f"EA{digits(9)}CN",
            f"运单号 {digits(12)}",
            f"快递单号：{digits(15)}",
            f"tracking number {digits(12)}",
            f"tracking no. 9400 {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(2)}",
            f"中通 {'7' + digits(13)}",
        ]
    )


def a_day(rng: random.Random) -> date:
    return date(2020, 1, 1) + timedelta(days=rng.randint(0, 2500))


def clock(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def digits_of(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(string.digits, k=k))


def alnum(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(string.ascii_uppercase + string.digits, k=k))


def a_date(rng: random.Random) -> str:
    d = date(2020, 1, 1) + timedelta(days=rng.randint(0, 2500))
    return rng.choice(
        [
            f"{d:%Y-%m-%d}",
            f"{d.year}年{d.month}月{d.day}日",
            f"{d:%m/%d/%Y}",
            f"{d:%d.%m.%Y}",
            f"{d:%Y%m%d}",
            f"{d:%B} {d.day}, {d.year}",
            f"{d:%Y-%m-%d} {clock(rng)}",
            f"{d:%Y/%m/%d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{d:%Y%m%d}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}",
        ]
    )


def amount(rng: random.Random) -> str:
    value = rng.uniform(1, 50_000)
    return rng.choice(
        [
            f"¥{value:.2f}",
            f"${value:,.2f}",
            f"{int(value)}元",
            f"€{value:.2f}".replace(".", ","),
            f"RMB {value:,.2f}",
            f"{value:.1f}块",
            f"USD {value:,.0f}",
            f"￥{value:,.2f}",
        ]
    )


def other_number(rng: random.Random) -> str:
    digits = partial(digits_of, rng)
    return rng.choice(
        [
            f"version {rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 9999)}",
            f"邮编 {rng.randint(100000, 860000)}",
            f"postcode {rng.choice(['SW1A 1AA', 'EC1A 1BB', '10115', '75008'])}",
            f"统一社会信用代码 91{digits(4)}{rng.choice(['MA', '00'])}{alnum(rng, 10)}",
            f"SKU {digits(12)}",
            f"barcode {'69' + digits(11)}",
            f"IMEI {digits(15)}",
            f"{rng.randint(1, 12)} pcs",
            f"{rng.randint(1, 23)}:{rng.randint(0, 59):02d}",
            f"model A{rng.randint(1000, 2999)}",
            f"{rng.randint(1, 500)}件",
            f"优惠码 SAVE{rng.randint(10, 99)}",
        ]
    )


def failing_card(rng: random.Random) -> str:
    digits = card_digits(rng)
    wrong = str((int(digits[-1]) + rng.randint(1, 9)) % 10)
    digits = digits[:-1] + wrong
    return group(digits, [4, 4, 4, 4], " ") if rng.random() < 0.3 else digits


def failing_id(rng: random.Random) -> str:
    number = resident_id(rng).replace(" ", "").upper()
    choices = [c for c in "0123456789X" if c != number[-1]]
    return number[:-1] + rng.choice(choices)


LOOKALIKES: list[Callable[[random.Random, str], str]] = [
    order_number,
    lambda r, _l: tracking(r),
    lambda r, _l: a_date(r),
    lambda r, _l: amount(r),
    lambda r, _l: other_number(r),
    lambda r, _l: failing_card(r),
    lambda r, _l: failing_id(r),
]

# -- sentences --------------------------------------------------------------------------------

TEMPLATES = {
    "email": {
        "en": [
            "my email is {x}",
            "Email me at {x} please",
            "you can reach me on {x}.",
            "I registered with {x} but never got the code",
            "contact: {x}",
            "send the invoice to {x}, thanks",
            "({x})",
            "<{x}>",
            "is {x} the right address?",
        ],
        "zh": [
            "我的邮箱是{x}",
            "邮箱：{x}",
            "发到{x}就行",
            "请把发票发到 {x} 谢谢",
            "我用{x}注册的，收不到验证码",
            "邮箱{x}。",
            "联系邮箱 {x}，",
        ],
    },
    "phone": {
        "en": [
            "call me at {x}",
            "my number is {x}",
            "phone: {x}",
            "text me on {x} when it ships",
            "the courier should call {x}",
            "Tel {x}.",
            "reach me at {x}, after 6pm",
            "my phone {x} was not receiving the SMS",
        ],
        "zh": [
            "我的手机号是{x}",
            "电话{x}",
            "联系电话：{x}",
            "打我手机{x}吧",
            "收件人电话 {x}",
            "手机{x}，谢谢",
            "快递员打{x}找我",
            "我的号码{x}收不到验证码",
        ],
    },
    "card": {
        "en": [
            "I paid with my card {x} and got charged twice",
            "card number {x}",
            "refund to {x} please",
            "the charge on {x} is wrong",
            "my visa {x} was declined",
            "Card: {x}, exp 09/27",
        ],
        "zh": [
            "我的卡号是{x}",
            "银行卡{x}被扣了两次",
            "退款退到{x}这张卡",
            "卡号：{x}",
            "用{x}付的款，显示失败",
            "信用卡 {x} 被拒了",
        ],
    },
    "national_id": {
        "en": ["my ID number is {x}", "ID: {x}", "the customs form asks for my ID, it's {x}"],
        "zh": [
            "身份证号{x}",
            "我的身份证号码是{x}",
            "身份证：{x}",
            "清关需要身份证，{x}",
            "实名认证用的{x}",
        ],
    },
    "iban": {
        "en": [
            "please refund to IBAN {x}",
            "my IBAN is {x}",
            "bank account: {x}",
            "send it to {x} (Sparkasse)",
        ],
        "zh": ["退款到这个账户：{x}", "IBAN：{x}", "我的欧洲账户 {x}"],
    },
}
LOOKALIKE_TEMPLATES = {
    "en": [
        "where is {x}?",
        "I ordered on {x} and it has not arrived",
        "it was {x}",
        "{x} shows delivered but I got nothing",
        "status of {x}?",
        "I was charged {x} twice",
        "can you check {x}",
        "ref {x}",
    ],
    "zh": [
        "{x}到哪了？",
        "我{x}下的单还没到",
        "{x}显示已签收但我没收到",
        "查一下{x}",
        "扣了我{x}",
        "{x}怎么还没发货",
        "麻烦看下{x}",
    ],
}
VALUES: dict[str, Callable[[random.Random], str]] = {
    "email": email,
    "phone": phone,
    "card": card,
    "national_id": resident_id,
    "iban": iban_number,
}


def personal_item(rng: random.Random, kind: str, language: str) -> Item:
    writer = Writer(language)
    template = rng.choice(TEMPLATES[kind][language])
    before, after = template.split("{x}")
    if rng.random() < 0.15:  # a look-alike in the same message
        writer.say(rng.choice(LOOKALIKES)(rng, language) + (", " if language == "en" else "，"))
    writer.say(before).personal(kind, VALUES[kind](rng)).say(after)
    if rng.random() < 0.1:  # a second personal item
        other = rng.choice(["email", "phone"])
        writer.say(" / " if language == "en" else "，").personal(other, VALUES[other](rng))
    return writer.item()


def lookalike_item(rng: random.Random, language: str) -> Item:
    template = rng.choice(LOOKALIKE_TEMPLATES[language])
    return Item(template.replace("{x}", rng.choice(LOOKALIKES)(rng, language)), language)


def generate(per_kind: int, lookalikes: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for language in ("en", "zh"):
        for kind in KINDS:
            items += [personal_item(rng, kind, language) for _ in range(per_kind)]
        items += [lookalike_item(rng, language) for _ in range(lookalikes)]
    return items


# -- scoring ----------------------------------------------------------------------------------


def _core(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return start, end


def score(items: list[Item]) -> tuple[dict[str, Counter[str]], list[str]]:
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in (*KINDS, "all")}
    errors: list[str] = []
    for item in items:
        found = find_personal_data(item.text)
        for kind, start, end in item.gold:
            a, b = _core(item.text, start, end)
            hit = any(s.kind == kind and s.start <= a and s.end >= b for s in found)
            for key in (kind, "all"):
                counts[key]["gold"] += 1
                counts[key]["recalled"] += hit
            if not hit:
                errors.append(
                    f"missed {kind}: {item.text!r} -> "
                    f"{[(s.kind, item.text[s.start : s.end]) for s in found]}"
                )
        for span in found:
            right = any(k == span.kind and span.start < e and s < span.end for k, s, e in item.gold)
            for key in (span.kind, "all"):
                counts[key]["found"] += 1
                counts[key]["right"] += right
            if not right:
                errors.append(
                    f"wrong {span.kind}: {item.text[span.start : span.end]!r} in {item.text!r}"
                )
    return counts, errors


def chat_messages(rng: random.Random, n: int) -> list[str]:
    plain = [
        "where is my order #10482? it's been a week",
        "我想退货，怎么操作？",
        "hi",
        "你好",
        "how long does shipping to Shanghai take?",
        "这个耳机有蓝牙5.3吗",
        "can I change the delivery address",
        "I was charged $59.90 twice on 2024-05-18, please help",
        "优惠券用不了，订单号 2024051812345",
        "the package SF1234567890123 shows delivered but I got nothing",
        "谢谢，没问题了",
        "Do you ship to Canada? What are the fees for 3 items?",
        "我昨天下午3点下的单，现在还没发货，太慢了！",
        "I want to talk to a person",
        "退款多久到账？我是用微信支付的 ¥129.00",
    ]
    messages = []
    for _ in range(n):
        if rng.random() < 0.8:
            messages.append(rng.choice(plain))
        else:
            kind, language = rng.choice(KINDS), rng.choice(["en", "zh"])
            messages.append(personal_item(rng, kind, language).text)
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-kind", type=int, default=1000, help="messages per kind and language")
    parser.add_argument(
        "--lookalikes", type=int, default=5000, help="look-alike messages per language"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--show-errors", type=int, default=0)
    args = parser.parse_args()
    print("command: .venv/bin/python benchmarks/pii.py " + " ".join(sys.argv[1:]))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}"
    )
    items = generate(args.per_kind, args.lookalikes, args.seed)
    with_data = sum(bool(i.gold) for i in items)
    print(
        f"data: {len(items)} messages (en {sum(i.language == 'en' for i in items)}, "
        f"zh {sum(i.language == 'zh' for i in items)}); "
        f"{with_data} with personal data ({sum(len(i.gold) for i in items)} items), "
        f"{len(items) - with_data} with look-alikes only"
    )
    counts, errors = score(items)
    print(f"{'kind':<12} {'items':>6} {'found':>6} {'recall':>7} {'precision':>9}")
    for kind in (*KINDS, "all"):
        c = counts[kind]
        recall = c["recalled"] / c["gold"] if c["gold"] else float("nan")
        precision = c["right"] / c["found"] if c["found"] else float("nan")
        print(f"{kind:<12} {c['gold']:>6} {c['found']:>6} {recall:>7.4f} {precision:>9.4f}")
    for line in errors[: args.show_errors]:
        print("  " + line)
    messages = chat_messages(random.Random(args.seed + 1), 5000)
    for text in messages[:200]:
        mask_personal_data(text)  # warm up
    times: list[float] = []
    for text in messages:
        started = time.perf_counter()
        mask_personal_data(text)
        times.append((time.perf_counter() - started) * 1000)
    personal = [t for t, text in zip(times, messages, strict=True) if find_personal_data(text)]
    for label, sample in (("all", times), ("with personal data", personal)):
        q = statistics.quantiles(sample, n=100)
        print(
            f"masking on the bot's turn, {label} ({len(sample)} chat messages): "
            f"p50 {q[49]:.3f} ms, p95 {q[94]:.3f} ms, max {max(sample):.3f} ms"
        )


if __name__ == "__main__":
    main()
