"""The knowledge index on disk, in a format that cannot run code: NumPy arrays (the BM25 score
matrices, read with allow_pickle=False) and JSON (entries, vocabularies, document terms), in one
file whose header carries the SHA-256 of the rest. A file that does not match its checksum, or
does not parse, is not used: the caller rebuilds the index and writes the file again.

File layout: b"kyodo-index 1 <sha256 hex>\\n" followed by an .npz archive.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from knowledge.entries import Entry
from knowledge.facts import DatedFact, EntryFacts
from knowledge.index import IndexParts, KnowledgeIndex
from knowledge.kana import KanaReader

MAGIC = b"kyodo-index 1 "
_BM25_PARAMS = ("k1", "b", "delta", "method", "idf_method", "dtype", "int_dtype")
_SCORE_ARRAYS = ("data", "indices", "indptr")


class CacheMismatch(ValueError):
    """The file is not an index this code wrote (another format, a torn write, or altered)."""


def save(path: Path, index: KnowledgeIndex) -> None:
    """Write the index atomically (a reader sees the old file or the new one, never half)."""
    archive = io.BytesIO()
    np.savez(archive, **_arrays(index.parts()))
    body = archive.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as fh:
        fh.write(MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    os.replace(fh.name, path)


def load(path: Path) -> KnowledgeIndex:
    """The index saved at `path`; CacheMismatch when the file fails its checksum or does not parse."""
    raw = path.read_bytes()
    header, _, body = raw.partition(b"\n")
    if not header.startswith(MAGIC) or header[len(MAGIC):].decode("ascii", "replace") != hashlib.sha256(body).hexdigest():
        raise CacheMismatch("checksum does not match")
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as arrays:
            return KnowledgeIndex.restore(_parts({name: arrays[name] for name in arrays.files}))
    except Exception as exc:  # whatever else is malformed in it: rebuilt, never fatal
        raise CacheMismatch(f"unreadable: {exc.__class__.__name__}") from None


def _arrays(parts: IndexParts) -> dict[str, Any]:
    meta = {
        "entries": [_entry_json(e) for e in parts.entries],
        "fields": {name: {"vocab": r.vocab_dict, "num_docs": int(r.scores["num_docs"]),
                          "params": {p: getattr(r, p) for p in _BM25_PARAMS}}
                   for name, r in parts.retrievers.items()},
        "doc_terms": [sorted(t) for t in parts.doc_terms],
        "doc_bigrams": [sorted(b) for b in parts.doc_bigrams],
        "readings": parts.readings,
        "kinds": [sorted(k) for k in parts.kinds],
        "definitions": parts.definitions,
        "kana": parts.kana.words,
        "kana_others": parts.kana.others,
        "lone_words": parts.lone_words,
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8)}
    for name, retriever in parts.retrievers.items():
        arrays.update({f"{name}.{key}": np.asarray(retriever.scores[key]) for key in _SCORE_ARRAYS})
    return arrays


def _parts(arrays: dict[str, np.ndarray]) -> IndexParts:
    meta = json.loads(arrays["meta"].tobytes().decode())
    retrievers = {}
    for name, spec in meta["fields"].items():
        retriever = bm25s.BM25(**spec["params"])
        retriever.vocab_dict = spec["vocab"]
        retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
        retriever.scores = {key: arrays[f"{name}.{key}"] for key in _SCORE_ARRAYS} | {"num_docs": spec["num_docs"]}
        retriever.nonoccurrence_array = None
        if retriever.method in retriever.methods_requiring_nonoccurrence:
            raise ValueError(f"{retriever.method} is not cached")
        retrievers[name] = retriever
    kana = KanaReader(dict(meta["kana"]), {reading: tuple(words) for reading, words in meta["kana_others"].items()})
    return IndexParts([_entry(e) for e in meta["entries"]], retrievers, [frozenset(t) for t in meta["doc_terms"]],
                      [frozenset(b) for b in meta["doc_bigrams"]], list(meta["readings"]),
                      [frozenset(k) for k in meta["kinds"]], dict(meta["definitions"]), kana, dict(meta["lone_words"]))


def _entry_json(entry: Entry) -> dict:
    data = dataclasses.asdict(entry)
    facts = data["facts"]
    facts["review_by"] = entry.facts.review_by.isoformat() if entry.facts.review_by else None
    facts["dated"] = [{**fact, "ends": fact["ends"].isoformat()} for fact in facts["dated"]]
    return data


def _entry(data: dict) -> Entry:
    facts = data.pop("facts")
    fields: dict[str, Any] = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
    return Entry(**fields,
                 facts=EntryFacts(
                     cites=tuple(facts["cites"]), kinds=tuple(facts["kinds"]), still_answers=tuple(facts["still_answers"]),
                     dated=tuple(DatedFact(f["label"], dt.date.fromisoformat(f["ends"]), f["closing"])
                                 for f in facts["dated"]),
                     review_by=dt.date.fromisoformat(facts["review_by"]) if facts["review_by"] else None))
