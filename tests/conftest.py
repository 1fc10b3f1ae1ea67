import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEV_QUESTIONS = SHARED / "eval" / "dev-questions.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    os.environ["KYODO_CACHE_DIR"] = str(tmp_path_factory.mktemp("kyodo-cache"))
    os.environ.pop("KYODO_KNOWLEDGE_DIR", None)


@pytest.fixture(scope="session")
def kb():
    from knowledge.base import load_knowledge

    return load_knowledge()
