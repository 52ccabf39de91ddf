"""Which of a retrieval run's misses returned another paraphrase of the query.

    .venv/bin/python benchmarks/retrieval_errors.py \
        --faqs ../shared/data/lcqmc/faqs.csv --predictions /tmp/kefu-bench/lcqmc.csv \
        --pairs ../shared/data/lcqmc/dev.txt

Reads the predictions that ``kefu eval retrieval`` writes (``text,faq_id,top1,top5``) and a
file of labelled question pairs (tab-separated ``question1 question2 label``, 1 = same meaning,
as LCQMC ships them). The positive pairs join questions into paraphrase groups. A miss whose
top-ranked FAQ is in the query's group returned a question the data set itself labels as
meaning the same thing, only not the one FAQ the query is scored against. Printed: queries,
misses, those misses, and top-1 counted against the whole group. Nothing here feeds the
product: it explains a figure, it does not tune one.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


class _Groups:
    """Union-find over question texts."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, text: str) -> str:
        root = self._parent.setdefault(text, text)
        while root != self._parent[root]:
            root = self._parent[root]
        while text != root:
            text, self._parent[text] = self._parent[text], root
        return root

    def join(self, a: str, b: str) -> None:
        self._parent[self.find(a)] = self.find(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faqs", type=Path, required=True)
    parser.add_argument("--predictions", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, required=True)
    args = parser.parse_args()

    with args.faqs.open(encoding="utf-8") as handle:
        question = {row["id"]: row["question"] for row in csv.DictReader(handle)}
    groups = _Groups()
    with args.pairs.open(encoding="utf-8") as handle:
        for line in handle:
            first, second, label = line.rstrip("\n").split("\t")
            if label == "1":
                groups.join(first, second)
    with args.predictions.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    misses = [row for row in rows if row["top1"] != row["faq_id"]]
    paraphrase = [
        row
        for row in misses
        if row["top1"] in question
        and groups.find(question[row["top1"]]) == groups.find(row["text"])
    ]
    print(f"queries={len(rows)} misses={len(misses)} misses_in_query_group={len(paraphrase)}")
    print(
        f"top1={1 - len(misses) / len(rows):.4f} "
        f"top1_any_paraphrase={1 - (len(misses) - len(paraphrase)) / len(rows):.4f}"
    )
    for row in paraphrase[:10]:
        print(
            f"  {row['text']}  →  {question[row['top1']]}  (scored against: "
            f"{question.get(row['faq_id'], row['faq_id'])})"
        )


if __name__ == "__main__":
    main()
