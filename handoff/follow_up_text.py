"""What the follow-up survey says to customers, in English and Chinese: the e-mail and the
answer page's lines. Every value given to the HTML is escaped here."""

from __future__ import annotations

from html import escape

__all__ = ["ANSWERS", "LANGUAGES", "mail_parts", "page_text"]

ANSWERS = ("solved", "not_solved")
LANGUAGES = ("en", "zh")

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Did your problem stay solved?",
        "greeting": "Hello,",
        "greeting_named": "Hello {name},",
        "body": (
            "A few days ago you talked to our customer service ({closed}). "
            "Did the problem stay solved?"
        ),
        "solved": "Yes, it stayed solved",
        "not_solved": "No, I still need help",
        "footer": (
            "One click answers; the links work until {expires}. "
            "You get this message once, about that conversation only."
        ),
        "title": "Follow-up",
        "question": "Did the problem from your conversation of {closed} stay solved?",
        "confirm_hint": "Please confirm your answer:",
        "thanks_solved": "Thank you! We are glad the problem stayed solved.",
        "thanks_not_solved": (
            "Thank you for telling us. Our team has been told and will look at your "
            "conversation again."
        ),
        "chat": "Chat with us now",
        "chat_hint": "To talk to us now, open the chat on our website again.",
        "already": "You already answered: {answer}. Thank you.",
        "expired": "This question has closed: answers were taken until {expires}.",
        "invalid": "This link is not valid. It may have been mistyped or replaced by a newer one.",
        "bad_answer": "That answer is not one of the choices. Please choose one:",
    },
    "zh": {
        "subject": "您的问题解决了吗？",
        "greeting": "您好，",
        "greeting_named": "{name}，您好：",
        "body": "几天前您联系了我们的客服（{closed}）。问题是否已经彻底解决？",
        "solved": "是的，问题已解决",
        "not_solved": "没有，我仍需要帮助",
        "footer": "点击即可回答，链接在 {expires} 前有效。我们只会就这次对话发送一次此邮件。",
        "title": "回访",
        "question": "您在 {closed} 的对话中提到的问题是否已经彻底解决？",
        "confirm_hint": "请确认您的回答：",
        "thanks_solved": "谢谢！很高兴问题已经解决。",
        "thanks_not_solved": "谢谢您的反馈。我们已通知客服团队，他们会重新查看您的对话。",
        "chat": "立即联系客服",
        "chat_hint": "如需立即联系我们，请在我们的网站上再次打开聊天窗口。",
        "already": "您已经回答过：{answer}。谢谢！",
        "expired": "此回访已结束：回答截止于 {expires}。",
        "invalid": "此链接无效，可能输入有误或已被新的链接取代。",
        "bad_answer": "该回答不在选项之中，请选择：",
    },
}


def page_text(language: str, key: str, **values: str) -> str:
    """One line of the page or mail, with ``values`` put in (not escaped)."""
    table = _TEXT.get(language, _TEXT["en"])
    return table[key].format(**values)


def mail_parts(
    language: str,
    *,
    name: str | None,
    closed: str,
    expires: str,
    links: dict[str, str],
) -> tuple[str, str, str]:
    """The subject, the plain text and the HTML of the follow-up e-mail."""
    greeting = (
        page_text(language, "greeting_named", name=name)
        if name
        else page_text(language, "greeting")
    )
    body = page_text(language, "body", closed=closed)
    footer = page_text(language, "footer", expires=expires)
    choices = [(page_text(language, answer), links[answer]) for answer in ANSWERS]
    plain = "\n\n".join([greeting, body, *(f"{label}:\n{url}" for label, url in choices), footer])
    buttons = "".join(
        f'<p><a href="{escape(url)}" style="display:inline-block;padding:10px 16px;'
        f"border-radius:6px;text-decoration:none;color:#fff;background:"
        f'{"#1f7a4d" if n == 0 else "#9a3b1b"}">{escape(label)}</a></p>'
        for n, (label, url) in enumerate(choices)
    )
    html = (
        f'<!doctype html><html lang="{escape(language)}"><body style="font-family:sans-serif;'
        f'color:#222;max-width:36em"><p>{escape(greeting)}</p><p>{escape(body)}</p>{buttons}'
        f'<p style="color:#666;font-size:90%">{escape(footer)}</p></body></html>'
    )
    return page_text(language, "subject"), plain + "\n", html
