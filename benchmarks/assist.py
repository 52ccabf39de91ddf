"""How often is agent assist's first knowledge-base suggestion the right answer?

    .venv/bin/python benchmarks/assist.py

The protocol of benchmarks/bot_decisions.py: the demo knowledge base with its FAQs'
alternative phrasings held out two-fold, each fold's models refreshed as a server would, and
each held-out phrasing asked as a customer's latest message. The suggestions are what the agent
console shows of kind ``faq`` (``AgentAssist.faq_suggestions``: slots masked, the index's fused
search in the conversation's language, down to the bot's "did you mean" score), in the
language the bot detects for the message. Printed per language: the share whose first
suggestion is the phrasing's entry, whose suggestions hold it at all, and that get none; and,
for comparison, the share the bot itself answers right.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from bot_decisions import held_out_folds

from core.settings import Settings
from handoff.assist import PER_KIND, AgentAssist


def main() -> None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for services, asked, _fold in held_out_folds():
        assist = AgentAssist.from_settings(
            services.engine, services.kb, services.canned, Settings()
        )
        for entry_id, text in asked:
            seen = services.chat.explain(text)
            language = seen["language"] if seen["language"] in ("en", "zh") else "other"
            ids = [s.id for s in assist.faq_suggestions(text, seen["language"])]
            tally = counts[language]
            tally["asked"] += 1
            tally["first"] += bool(ids) and ids[0] == entry_id
            tally["listed"] += entry_id in ids
            tally["none"] += not ids
            decision = seen["decision"]
            answered = decision["kind"] == "answer_faq"
            tally["bot_right"] += answered and decision["entry_id"] == entry_id
    for language, tally in sorted(counts.items()):
        share = {key: f"{value / tally['asked']:.3f}" for key, value in tally.items()}
        print(
            f"{language} ({tally['asked']} held-out phrasings): "
            f"first suggestion right {share['first']}, "
            f"in the {PER_KIND} suggestions {share['listed']}, no suggestion {share['none']}; "
            f"the bot answers right {share['bot_right']}"
        )


if __name__ == "__main__":
    main()
