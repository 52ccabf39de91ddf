"""What the bot says, in the customer's language, when a decision carries no answer of its own."""

from __future__ import annotations

__all__ = ["phrase"]

_PHRASES: dict[str, dict[str, str]] = {
    "clarify": {
        "en": "I'm not quite sure what you mean. Did you mean one of these?",
        "zh": "我不太确定您的意思，您是想问以下哪个问题？",
    },
    "fallback": {
        "en": "Sorry, I didn't understand that. Could you say it another way? "
        "You can also ask to talk to a person.",
        "zh": "抱歉，我没有理解您的意思。可以换个说法吗？您也可以随时要求转人工客服。",
    },
    "escalate": {
        "en": "I'm connecting you with a member of our team. They will see our whole "
        "conversation, so you won't need to repeat yourself.",
        "zh": "正在为您转接人工客服，客服会看到我们之前的全部对话，您无需重复描述。",
    },
    "escalate_offline": {
        "en": "Our team can't take chats right now. Leave your email and a message and we'll "
        "write back; meanwhile I'm happy to keep helping here.",
        "zh": "人工客服暂时无法接入。您可以留下邮箱和留言，我们会尽快回复；"
        "在此期间我仍可以继续为您解答。",
    },
    "no_response": {
        "en": "I can help with orders, delivery, returns, refunds, payments, invoices, your "
        "account, points and coupons, and warranty.",
        "zh": "我可以帮您处理订单、物流、退换货、退款、支付、发票、账户、积分优惠券和保修等问题。",
    },
}


def phrase(key: str, language: str) -> str:
    variants = _PHRASES[key]
    return variants.get(language) or variants["en"]
