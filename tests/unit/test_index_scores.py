"""The index reads BM25 scores straight from bm25s's matrices: they must be bm25s's own."""
import numpy as np
import pytest

from knowledge.index import FIELD_WEIGHTS, IDENTIFIER_WEIGHT


@pytest.mark.parametrize("question", [
    "区づくり推進事業の補助率は？", "センターはどこにありますか", "条例の第10条には何が書いてありますか",
    "ぼらんてぃあ はじめたい", "What is kyodo?", "ｘｙｚ",
])
@pytest.mark.parametrize("small_index", [None, 0])  # 0: scored as a large index is
def test_fused_scores_are_the_weighted_sum_of_bm25s_field_scores(kb, question, small_index, monkeypatch):
    if small_index is not None:
        monkeypatch.setattr("knowledge.index.SMALL_INDEX", small_index)
    query = kb.analyzer.analyze(question)
    terms, grams = tuple(dict.fromkeys(query.terms)), list(dict.fromkeys(query.bigrams))
    retrievers = kb.index.parts().retrievers
    expected = np.zeros(len(kb.entries))
    for name, weight in FIELD_WEIGHTS.items():
        tokens = kb.index._query_tokens(name, query, terms, grams)
        if any(t in retrievers[name].vocab_dict for t in tokens):
            expected += weight * retrievers[name].get_scores(tokens)
    identifiers = [u.form for u in query.units if u.identifier]
    for name in ("title", "source") if identifiers else ():
        expected += IDENTIFIER_WEIGHT * retrievers[name].get_scores(identifiers)
    fused = kb.index.bm25_scores(query, terms, grams)
    assert np.allclose(fused, expected, rtol=1e-5, atol=1e-6)


def test_the_search_keeps_postings_only_for_words_the_knowledge_has(kb):
    """Odd input cannot grow the process: what is kept is bounded by the knowledge's vocabulary."""
    for i in range(200):
        kb.ask(f"zq{i}xv ぬぺ{i}ぽ 謎語{i}")
    retrievers = kb.index.parts().retrievers
    for name, postings in kb.index._posting_cache.items():
        assert set(postings) <= set(retrievers[name].vocab_dict)
    assert not any("zq" in token for postings in kb.index._posting_cache.values() for token in postings)
