"""Score a citizen held-out set once, for reporting (tests/data/holdout-citizen-4.jsonl with its
labels in holdout-citizen-4.labels.jsonl, written from the knowledge files by someone who did not
run the desk). Prints the figures only; `--lines` adds one line per question (top-3 entry
titles), which makes the set seen: after that it may be reported once more, never tuned on.

    .venv/bin/python bench/holdout_report.py tests/data/holdout-citizen-4.jsonl \\
        tests/data/holdout-citizen-4.labels.jsonl [--today YYYY-MM-DD] [--lines]

A question is handled right when the desk answers it from an entry holding the expected facts,
or declines it when it is out of remit or the sources do not say (the decline then points to
the right office or to the staff).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.base import load_knowledge  # noqa: E402
from knowledge.evaluate import answer_text, load_questions, satisfies  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--lines", action="store_true")
    args = parser.parse_args()
    kb = load_knowledge()
    labels = {row["id"]: row for row in load_questions(args.labels)}
    counts = dict.fromkeys(("answerable", "right", "top3", "offered", "given", "given_right", "unknown",
                            "unknown_declined", "outside", "outside_declined", "outside_offered"), 0)
    for item in load_questions(args.questions):
        label = labels[item["id"]]
        answer = kb.ask(item["q"], today=args.today)
        hits = kb.search(item["q"], k=3).hits
        passing = [bool(label.get("expect")) and satisfies(answer_text(kb.show(h.entry.id, args.today)), label["expect"])
                   for h in hits]
        given = not answer.declined
        kind = "outside" if not item.get("in_remit") else "unknown" if label.get("abstain") else "answerable"
        counts[kind] += 1
        counts[f"{kind}_declined"] = counts.get(f"{kind}_declined", 0) + (not given)
        counts["right"] += kind == "answerable" and given and passing[0]
        counts["top3"] += kind == "answerable" and any(passing)
        counts["given"] += given
        counts["given_right"] += given and bool(passing) and passing[0]
        offered = [kb.show(m.id, args.today) for m in answer.maybe]
        counts["offered"] += kind == "answerable" and any(
            satisfies(answer_text(shown), label["expect"]) for shown in offered if shown)
        counts["outside_offered"] += kind == "outside" and bool(offered)
        if args.lines:
            print(f"{item['id']}\t{kind}\t{'ANS ' if given else 'DECL'}\t{answer.confidence:.2f}\t{item['q']}\t"
                  + " | ".join(h.entry.title for h in hits))
    report(counts)


def report(c: dict[str, int]) -> None:
    handled = c["right"] + c["unknown_declined"] + c["outside_declined"]
    total = c["answerable"] + c["unknown"] + c["outside"]
    print(f"answerable {c['answerable']}: top-1 answered right {c['right']} ({c['right'] / c['answerable']:.1%}), "
          f"top-3 {c['top3']} ({c['top3'] / c['answerable']:.1%}), declined {c['answerable_declined']}")
    print(f"  declined with the right entry among the 「もしかして」 buttons: {c['offered']}")
    print(f"in remit, not in the sources {c['unknown']}: declined {c['unknown_declined']}")
    print(f"out of remit {c['outside']}: declined {c['outside_declined']} ({c['outside_declined'] / c['outside']:.1%}), "
          f"of which with 「もしかして」 buttons {c['outside_offered']}")
    print(f"reliability: {c['given_right']} of {c['given']} answers given are right "
          f"({c['given_right'] / max(1, c['given']):.1%})")
    print(f"handled right overall: {handled} of {total} ({handled / total:.1%})")


if __name__ == "__main__":
    main()
