"""Fit the calibrated confidence (knowledge/calibration.py) and its decline threshold.

Fits a logistic model of "the top answer is right" on the tuning sets (by default the phone-style
tuning questions, the development set, the first held-out set and the citizen-style tuning sets
tests/data/tune-citizen*.jsonl), chooses the threshold that
maximises right answers minus 1.5 times the wrong ones, and prints the constants to paste into
knowledge/calibration.py, with the reliability and top-1 per set. Never pass a set whose
figures are reported as held out (tests/data/holdout-citizen-18.jsonl; the earlier citizen held-out
sets were retired to tuning, after they were reported, as tune-citizen-2, -6, -7, -8, -9, -10, -15, -16, -17,
-19, -20, -21, -22, -23, -24, -25 and -26;
tune-citizen-11 to -14 and -18 were written for tuning).

    .venv/bin/python bench/calibrate.py [FILE ...] [--wrong-cost C] [--leave-one-out C ...]

`--unphrased J` measures it all on a copy of the knowledge without the phrasings (`questions`) that are near
copies of a fitted question (character-bigram Jaccard >= J; each entry keeps its first): phrasings were added
from these sets' misses, so with them the sets answer like questions already seen; without them they answer
about as a blind set does. It also prints the share of answerable questions whose top entry is right.

`--leave-one-out` prints, for each cost, the answers that questions no route decides would get if
each set's calibration and threshold were fitted without that set: how the calibration carries
over to questions it was not fitted on, and what declining more buys.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge import calibration  # noqa: E402
from knowledge.analysis import bigrams, jaccard  # noqa: E402
from knowledge.base import DEFAULT_FOLDER, load_knowledge  # noqa: E402
from knowledge.evaluate import holds, load_questions  # noqa: E402

DATA = ROOT / "tests" / "data"
TUNING = [DATA / "tune-questions.jsonl", ROOT.parent / "shared" / "eval" / "dev-questions.jsonl",
          DATA / "holdout-questions.jsonl", DATA / "tune-citizen.jsonl",
          *sorted(DATA.glob("tune-citizen-*.jsonl"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))]
FORBIDDEN = "holdout-citizen"


Row = tuple[tuple[float, ...], bool, bool]  # features, top answer right, decided without the confidence


def labelled(kb, path: Path) -> list[Row]:
    """(features, top answer right, decided without the confidence: by the routing rule, or declined
    by an entry saying the sources do not give what it is asked) for each question of a file."""
    rows = []
    for item in load_questions(path):
        assessed = kb.assess(item["q"])
        hits = assessed.result.hits
        right = bool(not item.get("abstain") and hits and holds(kb, hits[0].entry, item["expect"]))
        rows.append((assessed.features.vector(), right, assessed.outside or assessed.result.unconfirmed_top))
    return rows


def unphrased_copy(files: list[Path], near: float, into: Path) -> Path:
    """A copy of the knowledge folder whose entries lack the phrasings close to a question of `files`."""
    asked = [frozenset(bigrams(item["q"])) for path in files for item in load_questions(path)]
    folder = Path(shutil.copytree(DEFAULT_FOLDER, into / "knowledge"))
    for path in folder.glob("*.yaml"):
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            continue
        for entry in entries:
            first, *rest = entry.get("questions") or [None]
            kept = [q for q in rest if max((jaccard(frozenset(bigrams(q)), a) for a in asked), default=0.0) < near]
            if first is not None:
                entry["questions"] = [first, *kept]
        path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def ranked_right(kb, files: list[Path]) -> str:
    answerable = [item for path in files for item in load_questions(path) if not item.get("abstain")]
    right = 0
    for item in answerable:
        hits = kb.search(item["q"], k=1).hits
        right += bool(hits and holds(kb, hits[0].entry, item["expect"]))
    return f"top entry right (declined or not): {right}/{len(answerable)} ({right / len(answerable):.1%})"


def fitted(pool: list[Row], wrong_cost: float) -> tuple[tuple[float, ...], float, float]:
    """(weights, bias, threshold) fitted on the rows no route decides."""
    weights, bias = calibration.fit([r[0] for r in pool], [int(r[1]) for r in pool])
    scored = [(calibration.probability(calibration.Features(*r[0]), weights, bias), r[1]) for r in pool]
    return weights, bias, calibration.choose_threshold(scored, wrong_cost)


def leave_one_out(data: dict[Path, list[Row]], wrong_cost: float) -> str:
    right = wrong = 0
    for held in data:
        weights, bias, threshold = fitted([r for p, rows in data.items() if p != held for r in rows if not r[2]], wrong_cost)
        for features, correct, _ in (r for r in data[held] if not r[2]):
            if calibration.probability(calibration.Features(*features), weights, bias) >= threshold:
                right, wrong = right + correct, wrong + (not correct)
    return (f"leave-one-set-out, wrong cost {wrong_cost:g}: {right} right and {wrong} wrong answers, "
            f"reliability {right / max(1, right + wrong):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path, default=TUNING)
    parser.add_argument("--wrong-cost", type=float, default=1.5, help="a wrong answer costs this many right ones")
    parser.add_argument("--leave-one-out", type=float, nargs="*", default=[], metavar="COST")
    parser.add_argument("--unphrased", type=float, metavar="J", help="without phrasings this close to a fitted question")
    args = parser.parse_args()
    if any(FORBIDDEN in str(f) for f in args.files):
        sys.exit(f"{FORBIDDEN}: a held-out set is never used for fitting")
    files = [path for path in args.files if path.exists()]
    with tempfile.TemporaryDirectory() as scratch:
        kb = load_knowledge(unphrased_copy(files, args.unphrased, Path(scratch)) if args.unphrased else None)
        report(kb, files, args)


def report(kb, files: list[Path], args: argparse.Namespace) -> None:
    data = {path: labelled(kb, path) for path in files}
    weights, bias, threshold = fitted([row for rows in data.values() for row in rows if not row[2]], args.wrong_cost)
    print(f"# fitted on {sum(len(r) for r in data.values())} questions: "
          + ", ".join(f"{p.name} ({len(r)})" for p, r in data.items()))
    print(f"WEIGHTS = ({', '.join(f'{w:.3f}' for w in weights)})  # {', '.join(calibration.FEATURES)}")
    print(f"BIAS = {bias:.3f}")
    print(f"THRESHOLD = {threshold:.3f}")
    for path, rows in data.items():
        answered = [r for r in rows if not r[2]
                    and calibration.probability(calibration.Features(*r[0]), weights, bias) >= threshold]
        right = sum(r[1] for r in answered)
        print(f"{path.name}: answered {len(answered)}/{len(rows)}, reliability "
              f"{right / len(answered) if answered else 0:.1%}, top-1 {sum(r[1] for r in rows) / len(rows):.1%}")
    if args.unphrased:
        print(ranked_right(kb, files))
    for cost in args.leave_one_out:
        print(leave_one_out(data, cost))


if __name__ == "__main__":
    main()
