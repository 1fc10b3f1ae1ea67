"""Score citizen held-out sets once, for reporting (tests/data/holdout-citizen-18.jsonl, or several
pooled, each with its labels in a separate file written from the knowledge files by someone who
did not run the desk). Prints the figures only; `--lines` adds one line per question (top-3 entry
titles), which makes the sets seen: after that they may be reported once more, never tuned on.

    .venv/bin/python bench/holdout_report.py tests/data/holdout-citizen-18.jsonl \\
        tests/data/holdout-citizen-18.labels.jsonl [--today YYYY-MM-DD] [--lines]

Labels follow the sets' convention: `expect` and `entry` for an answerable question, `abstain` with
`not_in_sources` for one in the desk's remit that the sources do not answer, `abstain` alone for one
outside the remit (the labeller's judgement, not the question writer's `in_remit`).

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
from knowledge.evaluate import Case, evaluate, load_questions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", type=Path, nargs="+", help="question files, each followed by its labels file")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--lines", action="store_true")
    args = parser.parse_args()
    if len(args.questions) % 2:
        parser.error("give each question file with its labels file")
    kb = load_knowledge()
    items = []
    for questions, labels in zip(args.questions[::2], args.questions[1::2], strict=True):
        by_id = {row["id"]: row for row in load_questions(labels)}
        items += [{**item, **by_id[item["id"]]} for item in load_questions(questions)]
    cases = evaluate(kb, items, args.today).cases
    if args.lines:
        for case in cases:
            titles = " | ".join(h.entry.title for h in kb.search(case.q, k=3).hits)
            print(f"{case.id}\t{group(case)}\t{'DECL' if case.abstained else 'ANS '}\t{case.confidence:.2f}\t{case.q}\t{titles}")
    report(cases)


def group(case: Case) -> str:
    return "answerable" if case.expect is not None else "unknown" if case.not_in_sources else "outside"


def report(cases: list[Case]) -> None:
    answerable, unknown, outside = ([c for c in cases if group(c) == g] for g in ("answerable", "unknown", "outside"))
    given = [c for c in cases if not c.abstained]
    right = sum(c.top1 for c in answerable if not c.abstained)
    top3 = sum(c.top3 for c in answerable)
    unknown_declined = sum(c.abstained for c in unknown)
    outside_declined = sum(c.abstained for c in outside)
    handled = right + unknown_declined + outside_declined
    print(f"answerable {len(answerable)}: top-1 answered right {right} ({right / len(answerable):.1%}), "
          f"top-3 {top3} ({top3 / len(answerable):.1%}), declined {sum(c.abstained for c in answerable)}")
    print(f"  declined with the right entry among the 「もしかして」 buttons: {sum(c.offered for c in answerable)}")
    print(f"in remit, not in the sources {len(unknown)}: declined {unknown_declined}")
    print(f"out of remit {len(outside)}: declined {outside_declined} ({outside_declined / max(1, len(outside)):.1%}), "
          f"of which with 「もしかして」 buttons {sum(c.maybe for c in outside)}")
    print(f"reliability: {sum(c.top1 for c in given)} of {len(given)} answers given are right "
          f"({sum(c.top1 for c in given) / max(1, len(given)):.1%})")
    print(f"handled right overall: {handled} of {len(cases)} ({handled / len(cases):.1%})")


if __name__ == "__main__":
    main()
