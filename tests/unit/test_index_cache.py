"""The knowledge index cache: arrays and JSON with a checksum; loading it runs no code, and a file
that is altered, torn or not ours is ignored and rebuilt."""
import hashlib
import io
import json
import logging
import pickle
import shutil

import numpy as np
import pytest

from knowledge import index_cache
from knowledge.base import load_knowledge

QUESTIONS = ["協働とは", "公民館の休館日は？", "協働推進委員会の委員は何人？", "町内会の補助金はある？", "ごみの日",
             "市民の役割って条例の第何条？", "条例で市民の役割ってどう決まっとるん？"]  # still_answers: answered, declined


def _answers(kb) -> list[tuple]:
    return [(a.text, a.abstained, round(a.confidence, 6), a.sources) for a in (kb.ask(q) for q in QUESTIONS)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A cache directory holding a freshly built index, and the answers of the built index."""
    folder = tmp_path_factory.mktemp("index-cache")
    kb = load_knowledge(cache_dir=folder)
    [cache_file] = folder.glob("index-*.npz")
    return cache_file, _answers(kb)


@pytest.fixture
def cache(built, tmp_path):
    original, answers = built
    copy = tmp_path / original.name
    shutil.copy(original, copy)
    return copy, answers


@pytest.fixture
def no_unpickling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the index cache was unpickled")
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)


def test_the_cached_index_answers_exactly_as_the_built_one_without_unpickling(cache, no_unpickling):
    cache_file, answers = cache
    before = cache_file.read_bytes()
    assert _answers(load_knowledge(cache_dir=cache_file.parent)) == answers
    assert cache_file.read_bytes() == before  # used as it was, not rebuilt


def test_an_altered_cache_file_is_ignored_and_rebuilt(cache, caplog, no_unpickling):
    cache_file, answers = cache
    data = bytearray(cache_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cache_file.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="knowledge.base"):
        assert _answers(load_knowledge(cache_dir=cache_file.parent)) == answers
    assert "checksum" in caplog.text
    index_cache.load(cache_file)  # written again, whole


def _checksummed(arrays: dict) -> bytes:
    archive = io.BytesIO()
    np.savez(archive, **arrays)
    body = archive.getvalue()
    return index_cache.MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


@pytest.mark.parametrize("meta", [{"fields": [1, 2]}, {"fields": {"text": {"vocab": 3}}}, [1]])
def test_a_checksummed_file_of_the_wrong_shape_is_rebuilt(cache, meta):
    cache_file, answers = cache
    cache_file.write_bytes(_checksummed({"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}))
    assert _answers(load_knowledge(cache_dir=cache_file.parent)) == answers


class _Payload:
    def __reduce__(self):
        return (exec, ("raise SystemExit('the cache ran code')",))


def test_a_cache_file_with_a_valid_checksum_but_pickled_objects_runs_no_code(cache, caplog):
    cache_file, answers = cache
    cache_file.write_bytes(_checksummed({"meta": np.array([_Payload()], dtype=object)}))
    with caplog.at_level(logging.WARNING, logger="knowledge.base"):
        assert _answers(load_knowledge(cache_dir=cache_file.parent)) == answers
    assert "unreadable" in caplog.text


@pytest.mark.parametrize("content", [b"", b"kyodo-index 1 0\n", pickle.dumps({"not": "an index"})])
def test_a_torn_or_foreign_cache_file_is_rebuilt(cache, content):
    cache_file, answers = cache
    cache_file.write_bytes(content)
    assert _answers(load_knowledge(cache_dir=cache_file.parent)) == answers
    index_cache.load(cache_file)
