"""Run a labelled question set without expected answers (tests/data/holdout-citizen.jsonl: topic,
kind, style, in_remit) once, for reporting: share of out-of-remit questions declined, share of
in-remit questions answered, and one line per question (top-3 entry titles) for a person to
judge top-1 / top-3 by hand. Never used for tuning.

    .venv/bin/python bench/holdout_report.py tests/data/holdout-citizen.jsonl
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.base import load_knowledge  # noqa: E402
from knowledge.evaluate import load_questions  # noqa: E402


def main() -> None:
    kb = load_knowledge()
    items = load_questions(Path(sys.argv[1]))
    today = dt.date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else dt.date.today()
    inside = [i for i in items if i.get("in_remit")]
    outside = [i for i in items if not i.get("in_remit")]
    declined_out = answered_in = 0
    for item in items:
        answer = kb.ask(item["q"], today=today)
        titles = " | ".join(h.entry.title for h in kb.search(item["q"], k=3).hits)
        mark = "DECL" if answer.declined else "ANS "
        print(f"{item['id']}\t{'in ' if item.get('in_remit') else 'out'}\t{mark}\t{answer.confidence:.2f}\t"
              f"{item.get('topic')}\t{item['q']}\t{titles}")
        declined_out += bool(not item.get("in_remit") and answer.declined)
        answered_in += bool(item.get("in_remit") and not answer.declined)
    print(f"# out of remit declined: {declined_out}/{len(outside)}; in remit answered: {answered_in}/{len(inside)}")


if __name__ == "__main__":
    main()
