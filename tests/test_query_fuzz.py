"""Arbitrary strings on the query path: only the project's own clean errors may escape."""
import pytest
from conftest import SPEECH_A, SPEECH_B
from fake_embedder import FakeEmbedder
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from searchkit.config import Settings
from searchkit.errors import InputError
from searchkit.indexer import build_index
from searchkit.query import parse_query
from searchkit.searcher import Searcher

SYNTAX = st.sampled_from(['"', "“", "”", "(", ")", "AND", "OR", "NOT", "*", "?", "~", "^", ":", "-", "+",
                          "\\", "/", "[", "]", "{", "}", " ", "\t", "\n", "招商", "引资", "双过半", "\x00", "\u200b"])
QUERIES = st.one_of(st.text(max_size=60), st.lists(SYNTAX, max_size=12).map("".join))


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    s = Settings(corpus_dir=corpus, index_dir=base / "index", model=FakeEmbedder.name)
    build_index(s, embedder=FakeEmbedder())
    return Searcher(s, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def lean_searcher(searcher):
    return Searcher(searcher.settings.with_(keyword_plan="lean"), embedder=FakeEmbedder())


@given(QUERIES)
@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_search_never_raises_anything_but_input_error(searcher, lean_searcher, text):
    for s, mode in ((searcher, "keyword"), (searcher, "vector"), (searcher, "hybrid"), (lean_searcher, "keyword")):
        try:
            response = s.search(text, k=5, mode=mode)
        except InputError as error:
            assert "\n" not in str(error)
            continue
        assert len(response.hits) <= 5


@given(QUERIES)
@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_similar_never_raises_anything_but_input_error(searcher, lean_searcher, text):
    for s in (searcher, lean_searcher):
        try:
            s.similar(text, k=3)
        except InputError:
            pass


@given(st.text(max_size=40))
def test_parse_query_terms_are_nonempty(text):
    try:
        parsed = parse_query(text)
    except InputError:
        return
    assert all(t.strip() for t in parsed.all_pieces)
