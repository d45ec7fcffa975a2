"""Speech metadata: extraction on real documents, the sidecar, filters and their SQL twin."""
from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from metadata_truth import BUNDLED, HTML, WIKISOURCE, html_titles, speech_metadata
from searchkit.documents import load_speeches
from searchkit.errors import CorpusError, InputError
from searchkit.filters import (SPEECHES_DDL, Filter, facet_counts, metadata_from_row,
                               register_functions, speech_row)
from searchkit.metadata import (CONTRACT_FIELDS, SpeechMetadata, extract_metadata, find_date,
                                is_anonymised, level_of_role, parse_who)
from searchkit.sidecar import load_sidecar, parse_date, sidecar_of

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
WIKISOURCE_DIR = ROOT.parent / "shared" / "real-docs" / "wikisource"
HTML_DIR = ROOT.parent / "shared" / "real-docs" / "html"


def _speeches(folder: Path):
    for path in sorted(folder.rglob("*.txt")):
        yield from load_speeches(path, folder)


# --------------------------------------------------------------------------- the bundled corpus


@pytest.fixture(scope="module")
def bundled():
    return {(s.source, s.index): speech_metadata(s) for s in _speeches(CORPUS)}


def test_bundled_table_covers_every_speech(bundled):
    assert set(bundled) == set(BUNDLED)
    assert len(bundled) == 42
    assert sum(1 for source, _ in bundled if source.startswith("001_")) == 38


def test_bundled_speaker_role_level(bundled):
    wrong = {key: ((m.speaker, m.role, m.level), BUNDLED[key][:3])
             for key, m in bundled.items() if (m.speaker, m.role, m.level) != BUNDLED[key][:3]}
    compilation = [key for key in bundled if key[0].startswith("001_")]
    right = sum(1 for key in compilation if key not in wrong)
    assert right >= 36, wrong
    singles = [key for key in bundled if not key[0].startswith("001_")]
    assert not [key for key in singles if key in wrong], wrong


def test_bundled_meetings_and_dates(bundled):
    meetings = {key: (m.meeting, BUNDLED[key][3]) for key, m in bundled.items()
                if m.meeting != BUNDLED[key][3]}
    assert len(meetings) <= 2, meetings
    # Dates are exact: 20XX年 is unknown, never a guess.
    assert {key: m.date for key, m in bundled.items()} == {k: v[4] for k, v in BUNDLED.items()}


def test_anonymised_values_are_never_kept(bundled):
    for meta in bundled.values():
        for name in ("speaker", "role", "place", "meeting", "date"):
            assert not is_anonymised(getattr(meta, name)), (name, meta)


# --------------------------------------------------------------------------- wikisource


@pytest.mark.skipif(not WIKISOURCE_DIR.is_dir(), reason="../shared/real-docs absent")
def test_wikisource_years_and_speakers():
    found = {s.source: speech_metadata(s) for s in _speeches(WIKISOURCE_DIR)}
    assert set(found) == set(WIKISOURCE)
    for source, (speaker, year) in WIKISOURCE.items():
        assert found[source].year == year, source
        assert found[source].speaker == speaker, source
    # Every dated government work report is a national one.
    assert {m.level for s, m in found.items() if "国务院" in s} == {"国家"}


@pytest.mark.skipif(not HTML_DIR.is_dir(), reason="../shared/real-docs absent")
def test_news_titles_of_published_speeches():
    titles = html_titles(HTML_DIR)
    assert set(titles) == set(HTML)
    got = {name: (m.speaker, m.meeting) for name, title in titles.items()
           for m in [extract_metadata(title, [], name)]}
    assert got == HTML


# --------------------------------------------------------------------------- forms from the brief


@pytest.mark.parametrize("title, preamble, source, expected", [
    ("市委副书记、市长林小明在全市经济工作暨招商引资项目建设工作会议上的讲话", [], "a.txt",
     dict(speaker="林小明", role="市委副书记、市长", level="市",
          meeting="全市经济工作暨招商引资项目建设工作会议")),
    ("县委书记张三在全县经济工作会上的讲话", [], "a.txt",
     dict(speaker="张三", role="县委书记", level="县", meeting="全县经济工作会")),
    ("在全县经济工作会议上的讲话", ["县委书记 张三", "同志们："], "a.txt",
     dict(speaker="张三", role="县委书记", level="县")),
    ("政府工作报告", ["——1991年3月26日在第七届全国人民代表大会第四次会议上", "国务院总理周恩来"],
     "a.txt", dict(date="1991-03-26", meeting="第七届全国人民代表大会第四次会议", level="国家",
                   speaker="周恩来", role="国务院总理")),
    ("政府工作报告", ["一九九一年三月二十六日", "国务院总理", "李　鹏"], "a.txt",
     dict(date="1991-03-26", speaker="李鹏", role="国务院总理")),
    ("在全县经济工作会议上的讲话", ["市长 王某某", "（2022年7月2日）"], "a.txt",
     dict(speaker=None, role="市长", level="市", date="2022-07-02")),
    ("政府工作报告", [], "2026_四川省_政府工作报告.txt", dict(date="2026", place="四川省", level="省")),
    ("在全县经济工作会议上的讲话", [], "2023/县政府/讲话.txt",
     dict(date="2023", folder="2023/县政府", level="县")),
    ("在会议上的讲话", [], "2023/县政府/讲话.txt", dict(level="县", folder="2023/县政府")),
    ("在二〇二三年全县经济工作会议上的讲话", [], "a.txt", dict(date="2023")),
    ("在20XX年全县经济工作会议上的讲话", ["（20XX年3月5日）"], "a.txt",
     dict(date=None, meeting="全县经济工作会议")),
    ("北京市委书记张三在全市干部大会上的讲话", [], "a.txt", dict(place="北京市", level="省", role="市委书记")),
    ("成都市委书记张三在全市干部大会上的讲话", [], "a.txt", dict(place="成都市", level="市")),
    ("湖南省委书记张三在全省大会上的讲话", [], "a.txt", dict(place="湖南省", level="省", role="省委书记")),
    ("自治州州长李四在全州大会上的讲话", [], "a.txt", dict(level="市", role="自治州州长")),
    ("镇党委书记王五在全镇干部会议上的讲话", [], "a.txt", dict(level="乡镇")),
    ("海淀区区长钱七在全区大会上的讲话", [], "a.txt", dict(level="区", place="海淀区", role="区长")),
    ("县市场监管局局长赵六在全县会上的讲话", [], "a.txt", dict(level="县")),
    ("XX县统计局在全市经济运行分析调度会上的发言", [], "a.txt", dict(role="县统计局", level="县")),
    ("在全市经济工作会议上的讲话（2023年1月5日）", [], "a.txt",
     dict(meeting="全市经济工作会议", date="2023-01-05", level="市")),
    ("在全市经济工作会议上的讲话 张三", ["（2023年1月5日，根据录音整理）"], "a.txt",
     dict(speaker="张三", meeting="全市经济工作会议", date="2023-01-05")),
    ("在全市经济工作会议上的讲话", ["主讲人：张三"], "a.txt", dict(speaker="张三")),
    ("在全市经济工作会议上的讲话", ["县委书记：张三"], "a.txt", dict(speaker="张三", role="县委书记")),
    ("市长张三：在全市经济工作会议上的讲话", [], "a.txt",
     dict(speaker="张三", role="市长", meeting="全市经济工作会议")),
    ("张三同志在全县经济工作会议上的讲话", ["县长", "同志们："], "a.txt",
     dict(speaker="张三", role="县长", level="县")),
    ("全面推进法治政府在全市大会上的讲话", [], "a.txt", dict(speaker=None, role=None, level="市")),
    ("奋斗在全市大会上的讲话", [], "a.txt", dict(speaker=None)),  # no surname: not a name
    ("在全国XR产业大会上的讲话", [], "a.txt", dict(meeting="全国XR产业大会", level="国家")),
    ("坚定项目为王，扩大有效投资", ["同志们：", "近期，省委、市委分别召开了会议。"], "a.txt",
     dict(speaker=None, role=None, level=None, meeting=None, date=None)),
])
def test_forms(title, preamble, source, expected):
    meta = extract_metadata(title, preamble, source)
    assert {name: getattr(meta, name) for name in expected} == expected


def test_docx_properties_are_the_last_resort():
    props = {"author": "李四", "created": "2019-05-01T08:00:00"}
    meta = extract_metadata("在全县会上的讲话", [], "a.docx", props)
    assert (meta.speaker, meta.date) == ("李四", "2019")  # created: the year only
    meta = extract_metadata("县委书记张三在全县会上的讲话", ["（2022年7月2日）"], "a.docx", props)
    assert (meta.speaker, meta.date) == ("张三", "2022-07-02")
    for author in ("微软用户", "Administrator", "User", "**"):
        assert extract_metadata("讲话", [], "a.docx", {"author": author}).speaker is None


def test_small_pieces():
    assert find_date("一九九一年三月二十六日") == "1991-03-26"
    assert find_date("2023年2月30日") is None  # not a calendar date
    assert find_date("20XX年3月") is None
    assert parse_who("何良军市长").speaker == "何良军"
    assert parse_who("人大常委会主任").speaker is None
    assert parse_who("同志们") is None
    assert level_of_role("市场监管总局局长") is None  # 市场 is not a city
    assert level_of_role("国务委员") == "国家"


def test_to_json_is_the_contract():
    meta = SpeechMetadata(title="t", speaker="张三", date="2022-07", tags=("a",), source="x.txt")
    assert tuple(meta.to_json()) == CONTRACT_FIELDS
    assert meta.to_json()["tags"] == ["a"] and meta.to_json()["role"] is None
    assert json.loads(json.dumps(meta.to_json()))["date"] == "2022-07"


# --------------------------------------------------------------------------- the sidecar


def _write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "metadata.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_sidecar_overrides(tmp_path):
    path = _write(tmp_path, "file,speech,speaker,level,date,tags,role\n"
                            "a.txt,,王五,县,2021,招商引资;项目，营商环境,\n"
                            "a.txt,1,赵六,,2022/7/2,,-\n"
                            "a.txt,第二篇讲话,孙七,,,,\n", encoding="utf-8-sig")  # Excel's BOM
    sidecar = load_sidecar(path)
    base = SpeechMetadata(title="第一篇讲话", speaker="张三", role="县长", source="a.txt")
    first = sidecar.apply(base, speech_index=0)
    assert (first.speaker, first.level, first.date, first.role) == ("王五", "县", "2021", "县长")
    assert first.tags == ("招商引资", "项目", "营商环境")
    second = sidecar.apply(base, speech_index=1)
    assert (second.speaker, second.date, second.role) == ("赵六", "2022-07-02", None)
    by_title = sidecar.apply(base.replace(title="第二篇讲话"), speech_index=5)
    assert by_title.speaker == "孙七"
    assert sidecar.apply(base.replace(source="b.txt")) == base.replace(source="b.txt")
    assert sidecar.unknown_files(["a.txt"]) == [] and sidecar.unknown_files([]) == ["a.txt"]


def test_sidecar_dates_and_absence(tmp_path):
    assert [parse_date(d) for d in ("2022", "2022-7", "2022/7/2", "2022.07.02", "2022年7月2日",
                                    "2022年13月", "22-7-2", "2022-02-30")] == \
        ["2022", "2022-07", "2022-07-02", "2022-07-02", "2022-07-02", None, None, None]
    assert sidecar_of(tmp_path).rows == []
    _write(tmp_path, "file,speaker\na.txt,张三\n")
    assert len(sidecar_of(tmp_path).rows) == 1


def test_sidecar_gb18030_and_chinese_headers(tmp_path):
    path = _write(tmp_path, "文件,讲话人,层级\r\n2023/县政府/a.txt,张三,县\r\n", encoding="gb18030")
    meta = load_sidecar(path).apply(SpeechMetadata(source="2023/县政府/a.txt"))
    assert (meta.speaker, meta.level) == ("张三", "县")


@pytest.mark.parametrize("text, message", [
    ("file,date\na.txt,2023\nb.txt,2022-1\nc.txt,2023-13\n",
     'metadata.csv line 4: date "2023-13" is not a date; use YYYY, YYYY-MM or YYYY-MM-DD'),
    ("file,level\na.txt,国\n",
     'metadata.csv line 2: level "国" is not a level; use one of 国家, 省, 市, 县, 区, 乡镇'),
    ("file,autor\na.txt,x\n", 'metadata.csv line 1: unknown column "autor"; use file, speech, '
     "title, speaker, role, level, place, meeting, date, tags"),
    ("speaker\n张三\n", 'metadata.csv line 1: no "file" column; the first row must name the '
     "columns (file, speech, title, speaker, role, level, place, meeting, date, tags)"),
    ("file,speaker\n,张三\n", "metadata.csv line 2: the file cell is empty; name the file "
     "relative to the corpus folder, e.g. 2023/县政府/讲话.txt"),
    ("file,speaker\n/abs/a.txt,张三\n", 'metadata.csv line 2: file "/abs/a.txt" must be relative '
     "to the corpus folder, e.g. 2023/县政府/讲话.txt"),
    ("file,speech,speaker\na.txt,1,张三\n\na.txt,1,李四\n", "metadata.csv line 4: a second row "
     "for a.txt speech 1 (the first is line 2); keep one"),
    ("file,speaker\na.txt,张三,李四\n", "metadata.csv line 2: 3 cells but 2 columns; quote cells "
     "that contain a comma"),
])
def test_sidecar_bad_rows(tmp_path, text, message):
    with pytest.raises(CorpusError) as error:
        load_sidecar(_write(tmp_path, text))
    assert str(error.value) == message


def test_sidecar_undecodable(tmp_path):
    path = tmp_path / "metadata.csv"
    path.write_bytes(b"file\n\xff\xfe\x00\x81\xff")
    with pytest.raises(CorpusError, match="not UTF-8 or GB18030"):
        load_sidecar(path)


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize("kwargs, message", [
    (dict(year=["20x9"]), "--year 20x9: use a year like 2022 or a range 2019..2022"),
    (dict(year=["2019-2022"]), "--year 2019-2022: use a year like 2022 or a range 2019..2022"),
    (dict(year=["2022..2019"]), "--year 2022..2019: the range runs backwards; use 2019..2022"),
    (dict(level=["国"]), "--level 国: use one of 国家, 省, 市, 县, 区, 乡镇"),
    (dict(speaker=[""]), '--speaker "": give a name, e.g. --speaker 林小明'),
    (dict(role=[" "]), '--role "": give part of a role, e.g. --role 市长'),
    (dict(place=[""]), '--place "": give part of a place name, e.g. --place 四川'),
    (dict(meeting=[""]), '--meeting "": give part of a meeting\'s name, e.g. --meeting 经济工作会议'),
    (dict(tag=[""]), '--tag "": give a tag, e.g. --tag 招商引资'),
    (dict(source=[""]), "--source \"\": give a path or glob inside the corpus, e.g. --source "
     "'2023/县政府/'"),
    (dict(source=["/home/a"]), "--source /home/a: use a path relative to the corpus folder, "
     "e.g. --source '2023/县政府/'"),
])
def test_filter_bad_values(kwargs, message):
    with pytest.raises(InputError) as error:
        Filter.parse(**kwargs)
    assert str(error.value) == message


def test_filter_parse():
    f = Filter.parse(speaker=["林小明"], level=["县级"], year=["2020", "2019..2022"],
                     source=["./2023\\县政府/"], tag="招商引资")
    assert f.speakers == ("林小明",) and f.levels == ("县",) and f.tags == ("招商引资",)
    assert f.years == ((2020, 2020), (2019, 2022)) and f.sources == ("2023/县政府/",)
    assert Filter().is_empty and Filter.parse() == Filter() and not f.is_empty
    assert f.describe() == ("--speaker 林小明 --level 县 --source 2023/县政府/ --tag 招商引资 "
                            "--year 2020 --year 2019..2022")


A = SpeechMetadata(speaker="张三", role="县委书记", level="县", place="某县", meeting="全县经济工作会议",
                   date="2022-03-01", tags=("招商",), source="2023/县政府/a.txt", folder="2023/县政府")
B = SpeechMetadata(speaker="李四", role="市长", level="市", meeting="全市大会", date=None,
                   source="b.txt")


def test_filter_semantics():
    assert Filter.parse(speaker=["张三", "李四"]).matches(B)  # OR within a kind
    assert not Filter.parse(speaker=["李四"], level=["县"]).matches(B)  # AND across kinds
    assert Filter.parse(role=["书记"], meeting=["经济"]).matches(A)  # substrings
    assert not Filter.parse(speaker=["张"]).matches(A)  # speakers are exact
    assert Filter.parse(year=["2020..2022"]).matches(A)
    assert not Filter.parse(year=["2000..2100"]).matches(B)  # unknown date: never
    for pattern in ("2023/县政府/*", "2023/县政府/", "2023/县政府", "2023", "*.txt", "2023/*/a.txt"):
        assert Filter.parse(source=[pattern]).matches(A), pattern
    for pattern in ("2023/县", "县政府", "a.txt", "2023/县政府/b*"):
        assert not Filter.parse(source=[pattern]).matches(A), pattern
    assert Filter.parse(source=["*.txt"]).matches(B)
    assert Filter.parse(tag=["招商"]).matches(A) and not Filter.parse(tag=["招"]).matches(A)
    assert Filter().matches(B)


def _table(metas):
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    register_functions(connection)
    connection.executescript(SPEECHES_DDL)
    rows = [speech_row(meta, i) for i, meta in enumerate(metas)]
    connection.executemany(
        "INSERT INTO speeches VALUES (:speech_key, :source, :speech_index, :title, :speaker, "
        ":role, :level, :place, :meeting, :date, :year, :tags_json, :folder)", rows)
    return connection


_NAMES = st.sampled_from(["张三", "李四", "王五"])
_VALUES = {  # what random speeches are made of (None = unknown)
    "speaker": ["张三", "李四", "王五", None],
    "role": ["县委书记", "市长", "区委副书记、区长", "县统计局", None],
    "level": ["国家", "省", "市", "县", "区", "乡镇", None],
    "place": ["四川省", "成都市", "海淀区", None],
    "meeting": ["全县经济工作会议", "全市大会", "一季度经济形势分析会", None],
    "date": ["2019", "2020-05", "2021-06-30", "2022", "2023-01-02", None],
    "source": ["a.txt", "2023/县政府/a.txt", "2023/县政府/内/b.txt", "2022/市/c.txt", "x[1].txt"],
}


def _random_metas(n: int, seed: int = 14) -> list[SpeechMetadata]:
    rng = random.Random(seed)
    return [SpeechMetadata(**{name: rng.choice(values) for name, values in _VALUES.items()},
                           tags=tuple(rng.sample(["招商", "项目", "民生"], rng.randint(0, 2))))
            for _ in range(n)]


_FILTERS = st.builds(
    Filter.parse,
    speaker=st.lists(_NAMES, max_size=2), level=st.lists(st.sampled_from(["县", "市", "省"]), max_size=2),
    role=st.lists(st.sampled_from(["书记", "市长", "区", "局"]), max_size=2),
    place=st.lists(st.sampled_from(["四川", "市", "区"]), max_size=1),
    meeting=st.lists(st.sampled_from(["经济", "大会", "全县"]), max_size=2),
    year=st.lists(st.sampled_from(["2019", "2020..2021", "2022..2023", "2021"]), max_size=2),
    source=st.lists(st.sampled_from(["2023/县政府/", "2023/县政府/*", "2023", "*.txt", "2022/*/c.txt",
                                     "a.txt", "x[1].txt", "x?1?.txt"]), max_size=2),
    tag=st.lists(st.sampled_from(["招商", "民生"]), max_size=1))


@pytest.fixture(scope="module")
def random_table():
    """A few hundred random speeches (drawn once: hypothesis varies the filters)."""
    metas = _random_metas(300)
    return metas, _table(metas)


@settings(max_examples=300, deadline=None)
@given(flt=_FILTERS)
def test_sql_equals_matches(random_table, flt):
    metas, connection = random_table
    where, params = flt.to_sql("s")
    got = {row[0] for row in connection.execute(
        f"SELECT speech_index FROM speeches AS s WHERE {where}", params)}
    assert got == {i for i, meta in enumerate(metas) if flt.matches(meta)}


def test_rows_read_back(random_table):
    metas, connection = random_table
    rows = connection.execute("SELECT * FROM speeches ORDER BY speech_index")
    assert [metadata_from_row(r) for r in rows] == metas
    # The random rows exercise every kind of value, including unknown ones.
    assert {m.date for m in metas} >= {None, "2019", "2021-06-30"}


def test_facet_counts():
    facets = facet_counts([A, B, A.replace(date="2021"), B.replace(speaker=None)])
    assert facets == {"speaker": {"张三": 2, "李四": 1}, "level": {"市": 2, "县": 2},
                      "year": {"2022": 1, "2021": 1}, "meeting": {"全县经济工作会议": 2, "全市大会": 2}}


_TEXT = st.text(alphabet=st.sampled_from(list("在上的讲话会议市县区省长书记委副同志：——（）()2019年3月5日一九〇XX*某张三李王全国务院总理、， \n")), max_size=120)


@settings(max_examples=300, deadline=None)
@given(title=_TEXT, preamble=st.lists(_TEXT, max_size=3), source=_TEXT)
def test_extraction_never_fails(title, preamble, source):
    meta = extract_metadata(title, preamble, source.replace("\n", "") or "a.txt")
    assert meta.level in (None, "国家", "省", "市", "县", "区", "乡镇")
    assert meta.date is None or len(meta.date) in (4, 7, 10)
    for name in ("speaker", "role", "place", "meeting"):
        assert not is_anonymised(getattr(meta, name))
