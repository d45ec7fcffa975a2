"""Speech metadata in the index and filters on every side: filtered results equal brute force.

Brute force = the unfiltered exact search over all passages (k = number of passages), then
keeping the passages of the speeches the filter lets through (Filter.matches, the Python
twin of the SQL the searcher runs).
"""
from __future__ import annotations

import json
import random

import pytest
from conftest import cli_error

from searchkit import fusion
from searchkit.filters import Filter
from searchkit.indexer import build_index
from searchkit.query import parse_query
from searchkit.searcher import Searcher

_POOL = [
    "招商引资是推动经济发展的重要抓手，要坚持以商招商。", "项目建设要加快进度，确保早日投产达效。",
    "优化营商环境，深化放管服改革，推行一企一策。", "固定资产投资稳步增长，工业经济运行平稳。",
    "抓好安全生产，全面排查隐患，坚决遏制重大事故。", "按时足额发放农民工工资，解决拖欠问题。",
    "乡村振兴要因地制宜，发展特色产业，增加农民收入。", "生态环境保护要守住底线，打好污染防治攻坚战。",
    "财政收入增长放缓，要严控一般性支出，过紧日子。", "民生保障要兜牢底线，办好教育医疗养老等实事。",
    "产业链招商要瞄准龙头企业，引进上下游配套项目。", "消费市场持续回暖，社会消费品零售总额增长。",
    "外贸进出口保持韧性，要帮助企业稳订单拓市场。", "科技创新是第一动力，要加大研发投入力度。",
    "防范化解金融风险，妥善处置债务问题。", "城市更新要统筹推进，改造老旧小区和管网。",
    "就业是最大的民生，要稳住重点群体就业。", "粮食生产要稳面积提单产，守住耕地红线。",
    "干部作风要转变，力戒形式主义和官僚主义。", "重点项目要实行领导包联，倒排工期挂图作战。",
]
_NUMBERS = "一二三四五六"
SPEECHES = {  # file -> (title, date line or None)
    "2022/市政府/a.txt": ("市委副书记、市长林小明在全市经济工作会议上的讲话", "（2022年7月2日）"),
    "2021/县政府/b.txt": ("县委书记张三在全县项目建设工作会议上的讲话", "（2021年3月5日）"),
    "2021/县政府/e.txt": ("县长赵六在全县经济形势分析会上的讲话", "（2021年10月9日）"),
    "c.txt": ("区长李四在全区经济运行分析会上的讲话", None),
    "d.txt": ("省委书记王强在全省招商引资大会上的讲话", "（2019年4月1日）"),
}


def _speech_text(title: str, date: str | None, rng: random.Random) -> str:
    lines = [title] + ([date] if date else []) + ["同志们："]
    for n in _NUMBERS[:5]:
        picked = rng.sample(_POOL, 10)
        lines += [f"{n}、{picked[0][:8]}", "".join(picked)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=["embedded", "milvus"])
def index(request, tmp_path_factory, milvus_uri):
    """The same speeches on each backend: Milvus runs the filters as expressions over its
    metadata fields, so the brute-force checks below test those expressions too."""
    from fake_embedder import FakeEmbedder

    from searchkit import embedding
    from searchkit.config import Settings

    embedding.register_embedder(FakeEmbedder.name, FakeEmbedder)
    patch = pytest.MonkeyPatch()
    patch.setenv("SEARCHKIT_MILVUS_URI", milvus_uri)
    request.addfinalizer(patch.undo)
    root = tmp_path_factory.mktemp("filtered")
    corpus = root / "corpus"
    rng = random.Random(14)
    for source, (title, date) in SPEECHES.items():
        path = corpus / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_speech_text(title, date, rng), encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", model=FakeEmbedder.name, backend=request.param)
    build_index(settings, embedder=FakeEmbedder())
    searcher = Searcher(settings, embedder=FakeEmbedder())
    assert searcher.backend == request.param
    yield settings, searcher
    searcher.close()


def _random_filters(searcher, count: int, seed: int) -> list[Filter]:
    metas = [m for m, _i, _n in searcher.meta.speeches()]
    rng = random.Random(seed)
    choices = {
        "speaker": sorted({m.speaker for m in metas if m.speaker}) + ["无此人"],
        "level": ["省", "市", "县", "区", "国家"],
        "role": ["县", "书记", "市长"],
        "year": ["2021", "2019..2021", "2022", "2000..2018"],
        "source": ["2021/", "2021/县政府/*", "*.txt", "c.txt", "2022/市政府/a.txt"],
        "meeting": ["经济", "招商引资"],
    }
    out = []
    for _ in range(count):
        kinds = rng.sample(sorted(choices), rng.randint(1, 2))
        out.append(Filter.parse(**{kind: rng.sample(choices[kind], rng.randint(1, 2)) for kind in kinds}))
    return out


def _speech_passes(searcher, flt: Filter):
    """(source, speech index) of the speeches `flt` lets through, by Filter.matches."""
    return {(m.source, i) for m, i, _n in searcher.meta.speeches() if flt.matches(m)}


def _kept(hits, passes):
    return [h.chunk.chunk_id for h in hits if (h.chunk.source, h.chunk.speech_index) in passes]


def _kept_ids(ranked, allowed):
    return [(d, s) for d, s in ranked if d in allowed]


def _passages(searcher) -> int:
    return searcher.meta.counts()[0]


def test_every_passage_joins_its_speech_and_hits_carry_it(index):
    _settings, searcher = index
    speeches = {(m.source, i): m for m, i, _n in searcher.meta.speeches()}
    assert len(speeches) == len(SPEECHES)
    a = speeches[("2022/市政府/a.txt", 0)]
    assert (a.speaker, a.role, a.level, a.date) == ("林小明", "市委副书记、市长", "市", "2022-07-02")
    assert speeches[("c.txt", 0)].date is None and speeches[("c.txt", 0)].level == "区"
    hit = searcher.search("招商引资", k=3, mode="hybrid").to_dict()["results"][0]
    assert list(hit["speech"]) == ["title", "speaker", "role", "level", "place", "meeting", "date", "tags"]
    expected = speeches[(hit["source"], int(hit["chunk_id"].rsplit("#", 1)[1].split(".")[0]))].to_json()
    assert hit["speech"] == expected


@pytest.mark.parametrize("mode", ["keyword", "vector"])
def test_filtered_ranking_equals_brute_force(index, mode):
    _settings, searcher = index
    n = _passages(searcher)
    # Sentences (the keyword side: bigram BM25 alone) and key words (the word index and the
    # bigram index together, each scaled by its unfiltered best score), with a phrase too.
    queries = ["要加快项目建设进度确保投产达效", "怎样优化营商环境推行一企一策", "招商引资要瞄准龙头企业",
               "招商引资", "项目建设 安全生产", '"营商环境" 改革']
    paragraph = "招商引资要瞄准龙头企业，引进上下游配套项目。优化营商环境，深化放管服改革。"
    for flt in _random_filters(searcher, 25, seed=hash(mode) % 1000):
        passes = _speech_passes(searcher, flt)
        for q in queries:
            everything = searcher.search(q, k=n, mode=mode).hits
            filtered = searcher.search(q, k=n, mode=mode, filter=flt).hits
            assert [h.chunk.chunk_id for h in filtered] == _kept(everything, passes), (flt, q)
            assert all((h.chunk.source, h.chunk.speech_index) in passes for h in filtered)
        everything = searcher.similar(paragraph, k=n, mode=mode).hits
        filtered = searcher.similar(paragraph, k=n, mode=mode, filter=flt).hits
        assert [h.chunk.chunk_id for h in filtered] == _kept(everything, passes), (flt, "similar")


def test_each_keyword_list_equals_brute_force(index):
    """Key words rank by the word index and the bigram index together: each of them, under
    a filter, is its unfiltered exact list with the other passages left out."""
    _settings, searcher = index
    n = _passages(searcher)
    for flt in _random_filters(searcher, 25, seed=7):
        allowed = searcher.allowed(flt)
        for q in ("招商引资", "项目建设 安全生产", "\"营商环境\""):
            parsed = parse_query(q)
            assert searcher.keyword.search(parsed, n, allowed) == _kept_ids(searcher.keyword.search(parsed, n), allowed)
            assert searcher.bigrams.search(q, n, allowed=allowed) == _kept_ids(searcher.bigrams.search(q, n), allowed)


def test_hybrid_equals_fusing_the_two_filtered_lists(index):
    _settings, searcher = index
    n = _passages(searcher)
    r = searcher.ranking
    for flt in _random_filters(searcher, 20, seed=3):
        allowed = searcher.allowed(flt)
        for q in ("招商引资", "项目建设 安全生产"):
            parsed = parse_query(q)
            depth = max(r.depth, n)
            words = _kept_ids(searcher.keyword.search(parsed, depth), allowed)
            grams = _kept_ids(searcher.bigrams.search(parsed.semantic_text, depth), allowed)
            # the keyword side as RankingSettings defines it: words and bigram BM25 fused
            both = fusion.convex_combination({"words": words, "bigrams": grams},
                                             {"words": 1 - r.bigram_share, "bigrams": r.bigram_share},
                                             lower_bounds={"words": 0.0, "bigrams": 0.0})
            keyword = [(f.doc_id, f.score) for f in both[:depth]]
            vector = _kept_ids(searcher.vectors.search_passages(searcher.embedder.encode([q])[0], depth), allowed)
            top = max((s for _, s in vector), default=0.0)
            fused = fusion.convex_combination(
                {"keyword": keyword, "vector": vector},
                {"keyword": r.keyword_weight, "vector": 1 - r.keyword_weight},
                lower_bounds={"keyword": 0.0, "vector": top - r.vector_window})
            got = searcher.search(q, k=n, mode="hybrid", filter=flt).hits
            chunks = searcher.meta.chunks([f.doc_id for f in fused])
            assert [h.chunk.chunk_id for h in got] == [chunks[f.doc_id].chunk_id for f in fused], (flt, q)


def test_a_selective_filter_still_returns_k_hits(index):
    _settings, searcher = index
    flt = Filter.parse(source=["c.txt"])  # one speech of five
    allowed = searcher.allowed(flt)
    assert 3 <= len(allowed) < _passages(searcher) / 3
    for mode in ("hybrid", "vector"):
        hits = searcher.search("财政收入 严控支出", k=3, mode=mode, filter=flt).hits
        assert len(hits) == 3 and {h.chunk.source for h in hits} == {"c.txt"}


def test_a_year_filter_never_matches_an_unknown_date(index):
    _settings, searcher = index
    flt = Filter.parse(year=["1000..3000"])
    sources = {m.source for m, _i, _n in searcher.meta.speeches(flt)}
    assert sources == set(SPEECHES) - {"c.txt"}
    hits = searcher.search("经济", k=_passages(searcher), mode="vector", filter=flt).hits
    assert hits and "c.txt" not in {h.chunk.source for h in hits}


def test_nothing_matching_says_so(index):
    _settings, searcher = index
    response = searcher.search("招商引资", k=5, filter=Filter.parse(speaker=["无此人"]))
    assert response.hits == [] and "no speech matches --speaker 无此人" in response.notices[0]


# -- the sidecar, end to end ---------------------------------------------------------------------

def test_sidecar_updates_metadata_without_embedding(built, fake_embedder):
    settings, _report = built
    sidecar = settings.corpus_dir / "metadata.csv"
    sidecar.write_text("file,speech,speaker,level,date,tags\nb.txt,0,王五,县,2023-04-12,招商引资;项目建设\n",
                       encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    assert not report.up_to_date and report.chunks_embedded == 0 and report.generation == 2
    searcher = Searcher(settings, embedder=fake_embedder)
    try:
        hits = searcher.search("项目建设", k=5, filter=Filter.parse(tag=["招商引资"])).hits
        assert hits and {h.chunk.source for h in hits} == {"b.txt"}
        assert hits[0].speech["speaker"] == "王五" and hits[0].speech["date"] == "2023-04-12"
        assert searcher.search("项目建设", k=5, filter=Filter.parse(year=["2023"])).hits
    finally:
        searcher.close()
    assert build_index(settings, embedder=fake_embedder).up_to_date  # nothing changed since
    sidecar.write_text("file,date\nb.txt,2023-13\n", encoding="utf-8")
    from searchkit.errors import CorpusError

    with pytest.raises(CorpusError, match='metadata.csv line 2: date "2023-13" is not a date'):
        build_index(settings, embedder=fake_embedder)


# -- the CLI -------------------------------------------------------------------------------------

def test_cli_filters_speeches_and_facets(built, run):
    result = run("search", "项目建设", "--level", "县", "--json")
    assert result.exit_code == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    assert results and all(r["speech"]["level"] == "县" and r["source"] == "b.txt" for r in results)
    cli_error(run("search", "项目", "--year", "20x9"), 2, "--year 20x9: use a year like 2022 or a range 2019..2022")
    cli_error(run("similar", "项目建设要加快", "--level", "州"), 2, "--level 州: use one of")
    cli_error(run("eval", "--level", "州"), 2, "--level 州: use one of")
    nothing = run("search", "项目", "--speaker", "无此人")
    assert nothing.exit_code == 0 and "no speech matches --speaker 无此人" in nothing.stderr
    lines = [json.loads(line) for line in run("speeches", "--json").stdout.splitlines()]
    assert {line["source"] for line in lines} == {"a.txt", "b.txt"}
    assert all({"title", "speaker", "level", "date", "tags", "source", "passages"} <= set(line) for line in lines)
    county = [json.loads(line) for line in run("speeches", "--json", "--level", "县").stdout.splitlines()]
    assert [c["source"] for c in county] == ["b.txt"]
    facets = json.loads(run("facets", "--json").stdout)
    assert facets["speeches"] == 2 and facets["level"] == {"市": 1, "县": 1}
    chunk = json.loads(run("chunks", str(built[0].corpus_dir / "b.txt"), "--json").stdout.splitlines()[0])
    assert chunk["speech"]["level"] == "县"
