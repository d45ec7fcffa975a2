"""Incremental updates, manifests, generations: the index as a whole."""

import pytest

from searchkit import store
from searchkit.config import Settings
from searchkit.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from searchkit.indexer import build_index
from searchkit.manifest import Manifest
from searchkit.searcher import Searcher

NEW_SPEECH = "在全区夜间经济工作推进会上的讲话\n一、大力发展夜间经济\n制定出台政策，繁荣夜市消费，打造特色步行街区。\n"


def texts(settings, query, mode="keyword", k=10):
    return [h.chunk.text for h in Searcher(settings).search(query, k=k, mode=mode).hits]


def test_first_build_then_no_change_is_up_to_date(built, fake_embedder):
    settings, report = built
    assert report.added == ["a.txt", "b.txt"] and report.chunks_total > 0
    again = build_index(settings, embedder=fake_embedder)
    assert again.up_to_date and again.chunks_embedded == 0


def test_adding_a_file_embeds_only_its_chunks(built, fake_embedder):
    settings, first = built
    (settings.corpus_dir / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    fake_embedder.encoded.clear()
    report = build_index(settings, embedder=fake_embedder)
    assert report.added == ["c.txt"] and report.unchanged == ["a.txt", "b.txt"]
    assert report.chunks_embedded > 0 and report.windows_embedded == len(fake_embedder.encoded)
    assert all("夜" in t or "步行街" in t for t in fake_embedder.encoded)
    assert "特色步行街区" in texts(settings, "特色步行街区")[0]
    assert report.chunks_total == first.chunks_total + report.chunks_embedded


def test_changing_and_removing_files(built, fake_embedder):
    settings, _ = built
    (settings.corpus_dir / "b.txt").write_text(NEW_SPEECH, encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    assert report.changed == ["b.txt"]
    assert texts(settings, '"双过半"') == []  # the old content of b.txt is gone
    assert texts(settings, "步行街区")
    (settings.corpus_dir / "b.txt").unlink()
    report = build_index(settings, embedder=fake_embedder)
    assert report.removed == ["b.txt"]
    assert texts(settings, "步行街区") == []
    assert texts(settings, "招商引资")  # a.txt is still there


def test_same_content_under_two_names_is_indexed_once(built, fake_embedder):
    settings, first = built
    (settings.corpus_dir / "copy.txt").write_bytes((settings.corpus_dir / "a.txt").read_bytes())
    fake_embedder.encoded.clear()
    report = build_index(settings, embedder=fake_embedder)
    assert report.added == ["copy.txt"] and report.chunks_total == first.chunks_total
    assert fake_embedder.encoded == []
    hit = Searcher(settings).search("招商引资", mode="keyword").hits[0]
    assert set(hit.sources) == {"a.txt", "copy.txt"}


def test_unchanged_vectors_are_reused_on_rebuild_of_changed_file(built, fake_embedder):
    settings, _ = built
    path = settings.corpus_dir / "a.txt"
    extra = "\n四、其他事项\n" + "会后各单位要认真抓好落实，及时报送工作进展情况。" * 16 + "\n"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    fake_embedder.encoded.clear()
    report = build_index(settings, embedder=fake_embedder)
    assert report.changed == ["a.txt"] and report.chunks_reused > 0
    assert report.windows_embedded == len(fake_embedder.encoded) > 0


def test_missing_index_is_a_clean_error(settings):
    with pytest.raises(IndexMissingError, match="run `searchkit index`"):
        Searcher(settings).search("招商引资")


def test_manifest_mismatch_is_detected(built):
    settings, _ = built
    with pytest.raises(IndexMismatchError, match="run `searchkit index`"):
        Searcher(settings.with_(model="another-model")).search("招商引资")


def test_manifest_describes_the_index(built):
    import json

    settings, report = built
    generation = store.open_generation(settings.index_dir)
    data = json.loads((generation.path / store.MANIFEST).read_text(encoding="utf-8"))
    for key in ("format_version", "searchkit_version", "model", "keyword", "vectors", "chunking", "counts", "files"):
        assert key in data
    assert data["model"] == {"name": "fake-bigram-64", "embed_template_version": 2, "window_sizes": [120, 200],
                             "dimension": 64, "precision": "fp32"}
    assert data["keyword"]["engine"] == "whoosh" and data["keyword"]["settings"]["analysis"]["user_dict_sha256"]
    assert data["vectors"]["engine"] == "faiss" and data["vectors"]["version"]
    assert data["counts"]["chunks"] == report.chunks_total == generation.manifest.counts.chunks
    assert Manifest.from_dict(data) == generation.manifest  # a save -> load round trip


def test_status_verify_finds_an_altered_large_file(built):
    # A normal load checks the sizes of big files only; --verify hashes every file.
    from searchkit.status import index_status

    settings, _ = built
    generation = store.open_generation(settings.index_dir)
    path = generation.path / store.VECTORS
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes
    path.write_bytes(bytes(data))
    assert index_status(settings)["generation"] == generation.number
    with pytest.raises(IndexCorruptError, match="vectors.faiss was truncated or altered") as raised:
        index_status(settings, verify=True)
    assert raised.value.rebuild_reason == f"the index at {settings.index_dir} is damaged (vectors.faiss was truncated or altered)"


def test_damaged_files_are_detected(built):
    settings, _ = built
    generation = store.open_generation(settings.index_dir)
    (generation.path / store.VECTORS).write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        Searcher(settings).search("招商引资")


def test_damaged_index_is_rebuilt_by_the_next_build(built, fake_embedder):
    settings, _ = built
    generation = store.open_generation(settings.index_dir)
    (generation.path / store.META).write_bytes(b"x")
    report = build_index(settings, embedder=fake_embedder)
    assert report.rebuilt and texts(settings, "招商引资")


def test_old_generations_are_cleaned(built, fake_embedder):
    settings, _ = built
    for i in range(4):
        (settings.corpus_dir / f"n{i}.txt").write_text(NEW_SPEECH + str(i), encoding="utf-8")
        build_index(settings, embedder=fake_embedder)
    gens = sorted(p.name for p in settings.index_dir.glob("gen-*"))
    assert len(gens) == 2 and (settings.index_dir / "CURRENT").read_text().strip() == gens[-1]
    assert not list(settings.index_dir.glob("tmp-*"))


def test_settings_change_rebuilds_but_reuses_vectors(built, fake_embedder):
    from searchkit.config import ChunkingSettings

    settings, first = built
    settings = settings.with_(chunking=ChunkingSettings(version=ChunkingSettings().version + 1))  # as if the chunking rules changed
    fake_embedder.encoded.clear()
    report = build_index(settings, embedder=fake_embedder)
    assert report.rebuilt and report.rebuild_reason == "the chunking settings changed"
    assert report.chunks_reused == first.chunks_total and fake_embedder.encoded == []
    assert texts(settings, "招商引资")


def test_a_question_the_passage_words_answer_gets_keyword_weight(built, fake_embedder):
    # Most of the question's bigrams stand in b.txt's 农民工工资 sentence: the keyword side counts.
    settings, _ = built
    searcher = Searcher(settings, embedder=fake_embedder)
    hybrid = searcher.search("怎样按时足额发放农民工工资？", mode="hybrid").hits
    assert "按时足额发放农民工工资" in hybrid[0].chunk.text
    assert hybrid[0].keyword_rank == 1 and hybrid[0].score > 1 - searcher.ranking.keyword_weight


def test_a_paraphrase_sharing_no_words_is_ranked_by_the_vector_side_alone(built, fake_embedder):
    # Almost none of its bigrams are in the corpus: coverage below coverage_low, keyword weight 0.
    settings, _ = built
    searcher = Searcher(settings, embedder=fake_embedder)
    query = "老百姓看病贵的难题应当如何缓解呢"
    hybrid = [h.chunk.chunk_id for h in searcher.search(query, mode="hybrid").hits]
    vector = [h.chunk.chunk_id for h in searcher.search(query, mode="vector").hits]
    assert hybrid == vector


SECTIONS_ON_INVESTMENT = """在全市招商引资推进会上的讲话
一、招商引资要抓产业链
招商引资要围绕主导产业补链强链，瞄准龙头企业和配套企业，开展产业链精准招商，引进一批投资规模大、带动能力强的项目。
二、招商引资要抓项目落地
签约项目要建立台账，专人跟踪服务，解决用地、用工、融资等难题，推动签约项目早开工、早投产、早见效。
三、财政资金要节约使用
各部门要严控一般性支出，压减三公经费，把有限的资金用在刀刃上，保障重点项目和民生支出。
四、招商引资要优化环境
深化放管服改革，推行一窗受理、并联审批，打造市场化法治化国际化营商环境，让客商放心投资。
"""


def test_a_paraphrase_whose_words_the_corpus_lacks_is_ranked_by_the_vector_side_alone(tmp_path, fake_embedder):
    # Every bigram of 招商引资 stands in the best keyword passage, the rest of the question
    # in none: the unknown bigrams count (at the idf of df = 0), so coverage stays below
    # coverage_low and the keyword side gets no weight.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SECTIONS_ON_INVESTMENT, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=corpus, model=fake_embedder.name)
    build_index(settings, embedder=fake_embedder)
    searcher = Searcher(settings, embedder=fake_embedder)
    query = "招商引资靠的是勒紧裤腰带省着花钱吗"
    keyword = searcher.search(query, mode="keyword").hits
    assert len(keyword) >= 3 and "招商引资" in keyword[0].chunk.text
    hybrid = searcher.search(query, mode="hybrid").hits
    vector = searcher.search(query, mode="vector").hits
    assert [h.chunk.chunk_id for h in hybrid] == [h.chunk.chunk_id for h in vector]
    # every hybrid score is the vector side's alone, scaled as in fusion (no keyword share)
    window, top = searcher.ranking.vector_window, vector[0].score
    assert [round(h.score, 9) for h in hybrid] == [round(max(0.0, (h.score - top + window) / window), 9) for h in vector]


def test_embedding_failure_leaves_the_index_as_it_was(built, fake_embedder):
    # Embedding runs in a worker thread beside the keyword writing: its error must still
    # reach the caller, and the half-written generation must be thrown away.
    settings, first = built

    class Failing(type(fake_embedder)):
        def encode(self, texts, progress=None):
            raise RuntimeError("model exploded")

    (settings.corpus_dir / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    with pytest.raises(RuntimeError, match="model exploded"):
        build_index(settings, embedder=Failing())
    generation = store.open_generation(settings.index_dir)
    assert generation.number == first.generation
    assert not [p for p in settings.index_dir.iterdir() if p.name.startswith("tmp-")]
    assert texts(settings, "特色步行街区") == [] or "特色步行街区" not in texts(settings, "特色步行街区")[0]


def test_keyword_failure_stops_the_embedding_thread(built, fake_embedder, monkeypatch):
    import threading

    from searchkit import keyword_index

    settings, first = built
    started = threading.Event()

    class Slow(type(fake_embedder)):
        def encode(self, texts, progress=None):
            started.set()
            for _ in range(200):  # a long encode that checks in between batches
                if progress:
                    progress(0)
                threading.Event().wait(0.01)
            return super().encode(texts, progress)

    def broken_update(self, *args, **kwargs):
        started.wait(5)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keyword_index.KeywordIndex, "update", broken_update)
    (settings.corpus_dir / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    with pytest.raises(Exception, match="space"):
        build_index(settings, embedder=Slow())
    assert not [t for t in threading.enumerate() if t.name == "searchkit-embed"]
    assert store.open_generation(settings.index_dir).number == first.generation


def test_precision_is_part_of_the_index_settings(built, fake_embedder):
    # An index embedded at another precision cannot take new vectors: changing
    # SEARCHKIT_PRECISION rebuilds it; searching does not care which precision built it.
    settings, first = built
    assert store.open_generation(settings.index_dir).manifest.model.precision == "fp32"
    int8 = settings.with_(precision="int8")
    report = build_index(int8, embedder=fake_embedder)
    assert report.rebuilt and report.rebuild_reason == "the model settings changed"
    assert store.open_generation(settings.index_dir).manifest.model.precision == "int8"
    assert build_index(int8, embedder=fake_embedder).up_to_date
    assert "双过半" in texts(settings, '"双过半"')[0]  # fp32 settings can still search it
    assert build_index(settings, embedder=fake_embedder).rebuilt


def test_index_without_precision_counts_as_fp32(built, fake_embedder):
    from searchkit.engines import expected_blocks
    from searchkit.manifest import Manifest

    settings, _ = built
    data = store.open_generation(settings.index_dir).manifest.to_dict()
    del data["model"]["precision"]  # as written before precisions existed
    manifest = Manifest.from_dict(data)
    store.check_compatible(manifest, expected_blocks(settings, fake_embedder.name, "fp32"), settings.index_dir)
    with pytest.raises(IndexMismatchError, match="precision") as raised:
        store.check_compatible(manifest, expected_blocks(settings, fake_embedder.name, "int8"), settings.index_dir)
    assert (raised.value.block, raised.value.field, raised.value.have, raised.value.wanted) == (
        "model", "precision", "fp32", "int8")


def test_an_index_of_another_engine_is_never_opened(built, fake_embedder):
    import json

    settings, _ = built
    generation = store.open_generation(settings.index_dir)
    path = generation.path / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["vectors"]["engine"] = "milvus"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexMismatchError) as raised:
        Searcher(settings).search("招商引资")
    assert (raised.value.block, raised.value.field, raised.value.have) == ("vectors", "engine", "milvus")
    report = build_index(settings, embedder=fake_embedder)
    assert report.rebuilt and report.rebuild_reason == "the vectors settings changed"


def test_unknown_precision_is_an_input_error(settings, fake_embedder):
    from searchkit.errors import InputError

    # Settings are validated once, when they are made: nothing downstream sees a bad value.
    with pytest.raises(InputError, match="SEARCHKIT_PRECISION"):
        settings.with_(precision="int4")
    with pytest.raises(InputError, match="SEARCHKIT_KEYWORD_PLAN"):
        Settings(keyword_plan="fastest")


def test_a_passage_takes_the_surviving_name_when_its_first_file_is_deleted(settings, fake_embedder):
    # a.txt and b.txt hold the same text; a.txt, its first name, is deleted.
    (settings.corpus_dir / "b.txt").write_bytes((settings.corpus_dir / "a.txt").read_bytes())
    build_index(settings, embedder=fake_embedder)
    (settings.corpus_dir / "a.txt").unlink()
    report = build_index(settings, embedder=fake_embedder)
    assert report.removed == ["a.txt"] and not report.up_to_date
    hits = Searcher(settings).search("招商引资", mode="keyword").hits
    assert hits and all(h.chunk.source == "b.txt" and h.chunk.chunk_id.startswith("b.txt#") for h in hits)
    assert all(h.sources == ("b.txt",) for h in hits)


def index_contents(settings) -> dict:
    """Everything an index answers from, keyed by chunk id: passage fields and window vectors."""
    from searchkit.vector_index import VectorIndex, passage_windows, vector_ids

    generation = store.open_generation(settings.index_dir)
    meta = store.MetaStore(generation.meta_path, readonly=True)
    chunks = meta.chunks(meta.all_doc_ids())
    files = meta.files()
    meta.close()
    vectors = VectorIndex.load(generation.vectors_path, mmap=False)
    return {"files": [(s, k, n) for s, k, _size, n in files],
            "chunks": {c.chunk_id: (c.source, c.title, c.heading, c.text, c.speech_index, c.position,
                                    vectors.reconstruct(vector_ids(d, [i for i, _ in passage_windows(c.text)])).tobytes())
                       for d, c in chunks.items()},
            "count": vectors.count, "counts": generation.manifest.counts}


def test_an_incrementally_updated_index_equals_a_fresh_full_build(built, fake_embedder, tmp_path):
    settings, _ = built
    corpus = settings.corpus_dir
    (corpus / "c.txt").write_text(NEW_SPEECH, encoding="utf-8")
    build_index(settings, embedder=fake_embedder)
    (corpus / "b.txt").write_text(NEW_SPEECH + "二、繁荣夜市\n延长营业时间，丰富夜间消费业态。\n", encoding="utf-8")
    (corpus / "0.txt").write_bytes((corpus / "a.txt").read_bytes())  # a new first name for a.txt's content
    (corpus / "c.txt").unlink()
    build_index(settings, embedder=fake_embedder)
    fresh = settings.with_(index_dir=tmp_path / "fresh")
    build_index(fresh, embedder=fake_embedder)
    # Same passages under the same names and ids, and bit-identical vectors, chunk id by chunk id
    # (reused vectors equal freshly embedded ones).
    assert index_contents(settings) == index_contents(fresh)
    for query in ("招商引资 措施", "夜市", '"双过半"'):
        for mode in ("keyword", "vector", "hybrid"):
            got = [(h.chunk.chunk_id, h.sources) for h in Searcher(settings).search(query, mode=mode).hits]
            assert got == [(h.chunk.chunk_id, h.sources) for h in Searcher(fresh).search(query, mode=mode).hits]


def test_a_quoted_latin_phrase_matches_regardless_of_case_on_both_sides(tmp_path, fake_embedder):
    from searchkit.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("在经济会议上的讲话\n全市gdp增长百分之六，经济运行总体平稳。\n", encoding="utf-8")
    (corpus / "b.txt").write_text("在环保会议上的讲话\n生态环境持续改善，空气质量明显提升。\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=fake_embedder.name)
    build_index(settings, embedder=fake_embedder)
    searcher = Searcher(settings, embedder=fake_embedder)
    for mode in ("keyword", "vector", "hybrid"):
        hits = searcher.search('"GDP"', mode=mode).hits
        assert [h.chunk.source for h in hits] == ["a.txt"], mode


def test_a_file_holding_a_report_twice_is_indexed_once_and_the_copy_reported(tmp_path, fake_embedder):
    from searchkit.config import Settings

    corpus = tmp_path / "twice"
    corpus.mkdir()
    speech = ("在全市经济工作会议上的讲话\n同志们：\n今天召开会议，主要任务是总结去年工作，部署今年经济工作。\n"
              "一、过去一年的工作\n全市经济运行稳中有进，项目建设取得明显成效，民生保障持续加强。\n")
    (corpus / "r.txt").write_text(speech + speech, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "twice-index", model=fake_embedder.name)
    report = build_index(settings, embedder=fake_embedder)
    assert any("second copy" in n and "r.txt" in n for n in report.notices), report.notices
    assert "".join(texts(settings, "项目建设")).count("项目建设取得明显成效") == 1
