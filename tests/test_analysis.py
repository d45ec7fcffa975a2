from searchkit import analysis
from searchkit.keyword_index import KeywordIndex
from searchkit.models import Chunk
from searchkit.query import parse_query


def test_word_positions_are_sequential():
    positions = [t.pos for t in analysis.WordTokenizer()("招商引资措施要落实，实现“双过半”", positions=True)]
    assert positions == list(range(len(positions)))
    texts = [t.text for t in analysis.WordTokenizer()("招商引资措施要落实，实现“双过半”")]
    assert "招商引资" in texts and "双过半" in texts  # domain dictionary keeps them whole


def test_domain_terms_kept_whole():
    for term in ("营商环境", "专项债券", "双过半", "开门红", "招商引资", "高质量发展"):
        assert [w for w, _, _ in analysis.words(f"推动{term}工作")].count(term) == 1, term


def test_subwords_are_pieces_of_compounds():
    pieces = [(t.text, t.pos) for t in analysis.SubwordTokenizer()("招商引资", positions=True)]
    assert pieces[0] == ("招商引资", 0) and ("招商", 0) in pieces and ("引资", 0) in pieces


def test_bigrams_do_not_cross_punctuation():
    grams = list(analysis.bigrams("双过，过半"))
    positions = {g: p for g, p, _, _ in grams}
    assert positions["过半"] - positions["双过"] > 1  # a phrase 双过半 cannot match here


def _index(tmp_path, texts):
    ix = KeywordIndex.create(tmp_path / "kw")
    ix.update([], [(i, f"f{i}", Chunk(f"c{i}", f"s{i}.txt", "标题", (), t)) for i, t in enumerate(texts)])
    return ix


def test_quoted_phrase_finds_compound_and_only_exact(tmp_path):
    ix = _index(tmp_path, ["确保实现双过半目标任务", "上半年过半数指标双向增长", "招商引资工作取得成效"])
    hits = ix.search(parse_query('"双过半"'), 10)
    assert [d for d, _ in hits] == [0]
    assert [d for d, _ in ix.search(parse_query('"招商引资"'), 10)] == [2]


def test_compound_query_term_is_not_mandatory_in_every_part(tmp_path):
    # A passage that only says 招商 still matches the query 招商引资 through sub-words,
    # but ranks below a passage holding the whole compound.
    ix = _index(tmp_path, ["扎实开展招商工作", "招商引资工作取得成效", "农业生产稳定"])
    ranked = [d for d, _ in ix.search(parse_query("招商引资"), 10)]
    assert ranked[:2] == [1, 0] and 2 not in ranked


def test_two_terms_prefer_passages_about_both(tmp_path):
    ix = _index(tmp_path, ["招商引资工作会议", "落实各项措施", "完善招商引资措施，落实优惠政策"])
    ranked = [d for d, _ in ix.search(parse_query("招商引资 措施"), 10)]
    assert ranked[0] == 2 and set(ranked) == {0, 1, 2}


def test_query_syntax_characters_are_text(tmp_path):
    ix = _index(tmp_path, ["招商 AND 引资", "其他内容"])
    for q in ["AND", "OR NOT", '"unbalanced', "(招商", "招*", "a:b", "x~2^3", "招商 AND"]:
        ix.search(parse_query(q), 5)  # must not raise
    assert [d for d, _ in ix.search(parse_query("AND"), 5)] == [0]


def test_punctuation_only_query_is_a_clean_error():
    import pytest
    from searchkit.errors import InputError

    for q in ["", "   ", "？", "“”", '""']:
        with pytest.raises(InputError):
            parse_query(q)


def test_lexicon_backed_cutting_is_identical_to_full_jieba(tmp_path):
    from hypothesis import given, settings, strategies as st

    analysis.write_lexicon(tmp_path / "lex.sqlite")
    lexicon = analysis.Lexicon.open(tmp_path / "lex.sqlite")
    lazy = lexicon.tokenizer
    full = analysis.Lexicon.full().tokenizer
    assert lazy is not full
    corpus_text = (analysis.Path(__file__).parent.parent / "corpus" / "000_fcda3296baa12e59.txt").read_text("utf-8")
    samples = [corpus_text[i:i + 200] for i in range(0, 6000, 200)] + ["招商引资 措施", "营商环境双过半开门红"]
    for text in samples:
        assert list(lazy.tokenize(text, HMM=False)) == list(full.tokenize(text, HMM=False))

    @given(st.text(alphabet="招商引资营商环境项目建设双过半开门红的了 ，。AB12", max_size=30))
    @settings(max_examples=200, deadline=None)
    def same(text):
        assert list(lazy.tokenize(text, HMM=False)) == list(full.tokenize(text, HMM=False))

    same()
    # The cutting functions take the lexicon explicitly, or the one active in this context.
    text = samples[3]
    assert analysis.words(text, lexicon) == analysis.words(text)
    token = analysis.activate(lexicon)
    try:
        assert analysis.current_lexicon() is lexicon and analysis.words(text) == analysis.words(text, analysis.Lexicon.full())
    finally:
        analysis.deactivate(token)
    assert analysis.current_lexicon() is analysis.Lexicon.full()


def test_sentence_shaped_queries():
    assert parse_query("机关单位赖账，企业要不回钱怎么办").is_sentence
    assert parse_query("工厂招不到合适的工人怎么办").is_sentence
    assert not parse_query("招商引资 措施").is_sentence
    # Long enough to look like a sentence; the searcher's verbatim check keeps it a key term.
    assert parse_query("第七次全国人口普查").is_sentence
    assert not parse_query('"工厂招不到合适的工人怎么办"').is_sentence  # a quoted phrase is exact


def test_contains_exact(tmp_path):
    ix = _index(tmp_path, ["第七次全国人口普查工作", "其他内容"])
    assert ix.contains_exact("全国人口普查")
    assert not ix.contains_exact("全国人口调查")


def _lean(ix):
    return KeywordIndex(ix.path, plan="lean")


def test_lean_plan_ranks_by_words_and_keeps_phrases_required(tmp_path):
    ix = _index(tmp_path, ["招商引资工作会议", "落实各项措施", "完善招商引资措施，落实优惠政策", "确保实现双过半目标任务"])
    lean = _lean(ix)
    assert lean.is_lean() and not ix.is_lean()  # auto stays full on a small index
    ranked = [d for d, _ in lean.search(parse_query("招商引资 措施"), 10)]
    # 各项措施 is one jieba word: only the full plan's sub-words and bigrams find passage 1
    assert ranked == [2, 0]
    assert [d for d, _ in lean.search(parse_query('"双过半" 目标'), 10)] == [3]
    assert [d for d, _ in lean.search(parse_query('"双过半" 招商引资'), 10)] == [3]  # the phrase is required


def test_lean_plan_scores_only_the_most_specific_words(tmp_path):
    # 工作 is in every passage, 夜市 in one: with room for one word, the lean plan keeps 夜市.
    from searchkit.keyword_index import KeywordWeights

    ix = _index(tmp_path, ["夜市工作", "农业工作", "工业工作", "服务工作"])
    lean = KeywordIndex(ix.path, KeywordWeights(lean_max_words=1), plan="lean")
    assert [d for d, _ in lean.search(parse_query("工作 夜市"), 10)] == [0]


def test_auto_plan_turns_lean_above_the_threshold(tmp_path, monkeypatch):
    from searchkit import config

    ix = _index(tmp_path, ["夜市工作", "农业工作", "工业工作"])
    monkeypatch.setattr(config, "LEAN_ABOVE", 2)
    assert KeywordIndex(ix.path).is_lean()


def test_unknown_plan_is_an_input_error(tmp_path):
    import pytest

    from searchkit.errors import InputError

    with pytest.raises(InputError, match="SEARCHKIT_KEYWORD_PLAN"):
        KeywordIndex(tmp_path, plan="fast")


def test_paragraph_words_stay_within_the_postings_budget(tmp_path):
    # Through the public seam only (KeywordWeights.paragraph_postings + search_weighted_terms):
    # which passages a weighted-terms query matches shows which words it kept.
    from searchkit.keyword_index import KeywordWeights

    ix = _index(tmp_path, ["夜市工作", "农业工作", "工业工作", "服务工作"])
    terms = [("农业", 1.0), ("工作", 0.9), ("夜市", 0.5)]  # postings: 农业 1, 工作 4, 夜市 1
    roomy = ix.search_weighted_terms(terms, 10)
    assert {d for d, _ in roomy} == {0, 1, 2, 3}  # the default budget keeps all three words
    for plan in ("full", "lean"):
        # 工作 would take the postings past 2, 夜市 still fits: passages 2 and 3 (工作 only) drop out
        tight = KeywordIndex(ix.path, KeywordWeights(paragraph_postings=2), plan=plan)
        assert [d for d, _ in tight.search_weighted_terms(terms, 10)] == [1, 0]
        # with no room at all the heaviest word stays
        none = KeywordIndex(ix.path, KeywordWeights(paragraph_postings=0), plan=plan)
        assert [d for d, _ in none.search_weighted_terms(terms, 10)] == [1]
        # and a budget applies to whatever is heaviest: here 夜市 is dropped, so passage 0 no
        # longer outscores the others
        scores = {d: round(x, 6) for d, x in tight.search_weighted_terms([("工作", 1.0), ("夜市", 0.5)], 10)}
        assert set(scores) == {0, 1, 2, 3} and len(set(scores.values())) == 1
    roomy2 = dict(ix.search_weighted_terms([("工作", 1.0), ("夜市", 0.5)], 10))
    assert max(roomy2, key=roomy2.get) == 0
