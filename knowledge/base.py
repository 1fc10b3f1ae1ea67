"""The knowledge base a desk answers from: one city's folder, its index (cached) and `ask`."""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from knowledge import analysis
from knowledge import entries as entries_module
from knowledge import index as index_module
from knowledge.analysis import Analyzer
from knowledge.answers import ANSWER_THRESHOLD, Answer, answer_from_entry, compose, decline
from knowledge.entries import Entry, require_entries
from knowledge.index import KnowledgeIndex, SearchResult
from knowledge.profile import CityProfile, load_city, load_vocabulary

log = logging.getLogger(__name__)

DEFAULT_FOLDER = Path(__file__).parent / "okayama"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")


@dataclass
class KnowledgeBase:
    folder: Path
    profile: CityProfile
    analyzer: Analyzer
    index: KnowledgeIndex
    threshold: float = ANSWER_THRESHOLD

    @property
    def entries(self) -> list[Entry]:
        return self.index.entries

    def entry(self, entry_id: str) -> Entry | None:
        return self.index.by_id.get(entry_id)

    def ask(self, question: str) -> Answer:
        text = (question or "").strip()
        if not text or not (_JAPANESE.search(text) or _LATIN.search(text) or any(c.isdigit() for c in text)):
            return decline(self.profile, "empty")
        result = self.search(text)
        if not _JAPANESE.search(text) and result.confidence < self.threshold:
            return decline(self.profile, "not_japanese", result.confidence)
        return compose(result, self.entry, self.profile, self.threshold)

    def search(self, text: str, k: int = 5) -> SearchResult:
        return self.index.search(self.analyzer.analyze(text), k=k)

    def show(self, entry_id: str) -> Answer | None:
        """An entry as an answer, for a tapped related topic."""
        entry = self.entry(entry_id)
        return answer_from_entry(entry, self.profile) if entry else None


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for module in (analysis, entries_module, index_module):
        digest.update(Path(module.__file__).read_bytes())
    for dist in ("sudachidict-core", "bm25s"):
        digest.update(metadata.version(dist).encode())
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def load_knowledge(folder: Path | str | None = None, cache_dir: Path | str | None = None) -> KnowledgeBase:
    """Load a city's knowledge folder (default: Okayama's); with `cache_dir`, the index is built
    once and kept there until a file changes."""
    folder = Path(folder or DEFAULT_FOLDER).resolve()
    analyzer = Analyzer(load_vocabulary(folder))
    profile = load_city(folder)
    cache_file = Path(cache_dir) / f"index-{_fingerprint(folder)}.pkl" if cache_dir else None
    index = _read_cache(cache_file) if cache_file else None
    if index is None:
        index = KnowledgeIndex.build(require_entries(folder), analyzer)
        if cache_file:
            _write_cache(cache_file, index)
    return KnowledgeBase(folder=folder, profile=profile, analyzer=analyzer, index=index)


def _read_cache(path: Path) -> KnowledgeIndex | None:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # a stale or torn cache file is rebuilt, never fatal
        log.warning("knowledge index cache unreadable; rebuilding")
        return None


def _write_cache(path: Path, index: KnowledgeIndex) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
    except OSError:
        log.warning("knowledge index cache not writable at %s; continuing without it", path.parent)
