"""Heading detection, outline levels, merging and the length limit on small inline texts."""
from pathlib import Path

import pytest

from searchkit.chunking import chunk_file, chunk_speech, chunk_speeches, split_long_text, split_sections
from searchkit.headings import is_heading_line, parse_heading
from searchkit.config import ChunkingSettings
from searchkit.models import Speech

SETTINGS = ChunkingSettings(max_chars=500, min_chars=120)
BODY = "各级各部门要牢固树立以项目建设论成败的鲜明导向，迅速掀起抓项目促投资的热潮。"  # 39 chars


def speech(*paragraphs: str, source: str = "s.txt", index: int = 0) -> Speech:
    return Speech("测试讲话", source, tuple(paragraphs), index)


# --------------------------------------------------------------------------- headings

@pytest.mark.parametrize("paragraph, form", [
    ("一、客观估价成绩，喜忧参半，压力巨大", "cn_dun"),
    ("十二、加强党的领导", "cn_dun"),
    ("（一）科学研判形势。", "paren_cn"),
    ("(二)把握发展要求", "paren_cn"),
    ("(一)、紧密关注GDP核算基础指标", "paren_cn"),
    ("第一，要以非常之力攻项目、扩投资。", "ordinal"),
    ("第二、加快项目建设", "ordinal"),
    ("第三是抓好产业发展。", "ordinal"),
    ("第一个问题：与目标任务相比，个别指标还有欠账", "ordinal"),
    ("1、全力加快项目建设进度。", "arabic"),
    ("2.切实加大招商引资力度。", "arabic"),
    ("3．认真谋划储备争取项目。", "arabic"),
    ("（1）抓好工业运行。", "paren_arabic"),
    ("①福宝园基础设施建设项目。", "circled"),
    ("一是人的问题。就业是最大的民生。", "enum_shi"),
    ("一要进一步抓好规划和计划的推进实施。一方面要做好结合文章。", "enum_yao"),
])
def test_heading_forms(paragraph: str, form: str):
    heading = parse_heading(paragraph)
    assert heading is not None and heading.form == form


@pytest.mark.parametrize("paragraph", [
    "1.5%的增速高于全省平均水平。",
    "2023年，全市经济运行总体平稳。",
    "1、2月份工业增加值增长5%。",
    "一、二季度经济运行平稳。",
    "第一季度，全市经济开局良好。",
    "第一次全国经济普查已经完成。",
    "一是的，大家都知道。",
    "当前，主要有三个问题：一是人的问题，二是钱的问题。",
    "一要素保障还不到位，土地、资金都很紧张。",
])
def test_false_positive_headings(paragraph: str):
    assert parse_heading(paragraph) is None


def test_heading_and_body_on_one_line():
    paragraph = "第四，要以创新之策破难题、促消费。各级各部门要充分认识三产对经济增长的拉动作用。"
    heading = parse_heading(paragraph)
    assert heading.text == "第四，要以创新之策破难题、促消费。"
    assert not heading.standalone


def test_standalone_heading_is_the_whole_paragraph():
    heading = parse_heading("一、客观估价成绩，喜忧参半，压力巨大")
    assert heading.standalone and heading.text == "一、客观估价成绩，喜忧参半，压力巨大"


def test_long_enumeration_sentence_is_body_not_heading():
    assert parse_heading("一是" + "持续加大投入力度，采取更多惠民生、暖民心举措" * 4 + "。") is None


def test_is_heading_line_rejects_long_or_unfinished_lines():
    assert is_heading_line("一、客观估价成绩，喜忧参半，压力巨大")
    assert not is_heading_line("一、" + "客观估价成绩喜忧参半压力巨大" * 4)
    assert not is_heading_line("一是疫情对中小企业产生了极大冲击，")
    assert not is_heading_line("二是积极做好考核验收准备工作。从今年起，省上将不")


# --------------------------------------------------------------------------- outline

def test_levels_follow_the_order_forms_appear_in():
    sections = split_sections([
        "同志们：",
        "一、认清形势",
        "（一）从指标看。" + BODY,
        "1、工业增长。" + BODY,
        "一是规上工业。" + BODY,
        "二是园区经济。" + BODY,
        "2、投资增长。" + BODY,
        "（二）从项目看。" + BODY,
        "二、狠抓落实",
    ])
    paths = [section.path for section in sections]
    assert paths == [
        (),
        ("一、认清形势",),
        ("一、认清形势", "（一）从指标看。"),
        ("一、认清形势", "（一）从指标看。", "1、工业增长。"),
        ("一、认清形势", "（一）从指标看。", "1、工业增长。", "一是规上工业。"),
        ("一、认清形势", "（一）从指标看。", "1、工业增长。", "二是园区经济。"),
        ("一、认清形势", "（一）从指标看。", "2、投资增长。"),
        ("一、认清形势", "（二）从项目看。"),
        ("二、狠抓落实",),
    ]


def test_other_speeches_may_nest_forms_the_other_way_round():
    sections = split_sections(["第一，抓项目。" + BODY, "（一）抓前期。" + BODY, "第二，抓招商。" + BODY])
    assert [s.path for s in sections] == [
        ("第一，抓项目。",), ("第一，抓项目。", "（一）抓前期。"), ("第二，抓招商。",)]


def test_enumeration_without_its_first_item_is_body_text():
    sections = split_sections(["一、认清形势", "主要表现在增长快。", "二是结构优。" + BODY])
    assert len(sections) == 1 and len(sections[0].paragraphs) == 3


def test_second_item_after_a_mid_paragraph_first_item_is_kept():
    # "一是" sits inside the previous paragraph: "二是…" and "三是…" still open their items.
    sections = split_sections(["一、认清形势", "主要表现在：一是增长快。", "二是结构优。" + BODY,
                               "三是后劲足。" + BODY])
    assert [s.path for s in sections] == [
        ("一、认清形势",), ("一、认清形势", "二是结构优。"), ("一、认清形势", "三是后劲足。")]


# --------------------------------------------------------------------------- sizing

def test_long_text_splits_at_sentence_ends_and_balances():
    text = "".join(f"第{i}句话讲的是经济运行情况和下一步工作打算。" for i in range(40))
    pieces = split_long_text(text, 500)
    assert "".join(pieces) == text
    assert all(len(piece) <= 500 for piece in pieces)
    assert all(piece.endswith("。") for piece in pieces)
    assert max(map(len, pieces)) - min(map(len, pieces)) < 60


def test_overlong_sentence_splits_at_commas_then_hard_cuts():
    sentence = "，".join(["推进重点项目建设"] * 120) + "。"
    pieces = split_long_text(sentence, 100)
    assert "".join(pieces) == sentence and all(len(p) <= 100 for p in pieces)
    no_punctuation = "项" * 250
    pieces = split_long_text(no_punctuation, 100)
    assert "".join(pieces) == no_punctuation and all(len(p) <= 100 for p in pieces)


@pytest.mark.parametrize("max_chars", [60, 120, 500])
def test_no_chunk_exceeds_max_chars(max_chars: int):
    settings = ChunkingSettings(max_chars=max_chars, min_chars=max_chars // 4)
    paragraphs = ["同志们：", "一、认清形势", BODY * 20, "（一）抓项目。" + BODY * 3, "二、" + "很长的标题" * 30]
    chunks = chunk_speech(speech(*paragraphs), settings)
    assert all(len(chunk.text) <= max_chars for chunk in chunks)
    assert "".join(c.text for c in chunks).replace("\n", "") == "".join(paragraphs)


# --------------------------------------------------------------------------- chunks

def test_chunk_text_includes_its_heading_and_path():
    chunks = chunk_speech(speech("二、锚定目标任务，凝心聚智、攻坚破难", "第四，要以创新之策破难题、促消费。" + BODY * 5,
                                 "第五，要以务实之措惠民生、守底线。" + BODY * 5), SETTINGS)
    # The bare "二、" heading opens the chunk of its first child, so that chunk's path is
    # the parent's; the next sibling is a chunk of its own with the full path.
    assert chunks[0].heading == ("二、锚定目标任务，凝心聚智、攻坚破难",)
    assert chunks[0].text.startswith("二、锚定目标任务，凝心聚智、攻坚破难\n第四，要以创新之策破难题、促消费。")
    fifth = chunks[1]
    assert fifth.heading == ("二、锚定目标任务，凝心聚智、攻坚破难", "第五，要以务实之措惠民生、守底线。")
    assert fifth.text.startswith("第五，要以务实之措惠民生、守底线。")


def test_preamble_has_empty_heading():
    chunks = chunk_speech(speech("同志们：" + BODY * 4, "一、认清形势。" + BODY * 4), SETTINGS)
    assert chunks[0].heading == () and chunks[0].text.startswith("同志们：")


def test_short_siblings_merge_under_their_parent():
    chunks = chunk_speech(speech("一、认清形势", "一是增长快。", "二是结构优。", "三是后劲足。"), SETTINGS)
    assert len(chunks) == 1
    assert chunks[0].heading == ("一、认清形势",)
    assert chunks[0].text == "一、认清形势\n一是增长快。\n二是结构优。\n三是后劲足。"


def test_short_intro_of_a_section_joins_its_children_not_the_previous_sibling():
    chunks = chunk_speech(speech("一、成绩。" + BODY * 6, "二、问题", "一是人的问题。" + BODY * 2,
                                 "二是钱的问题。" + BODY * 4), SETTINGS)
    assert chunks[0].heading == ("一、成绩。",)
    assert chunks[1].heading == ("二、问题",) and chunks[1].text.startswith("二、问题\n一是人的问题。")


def test_bare_heading_opens_its_long_first_subsection():
    chunks = chunk_speech(speech("三、加快重大项目建设", "（一）加快制造业发展。" + BODY * 20), SETTINGS)
    assert chunks[0].text.startswith("三、加快重大项目建设\n（一）加快制造业发展。")
    assert chunks[0].heading == ("三、加快重大项目建设",)
    assert chunks[1].heading == ("三、加快重大项目建设", "（一）加快制造业发展。")


def test_chunks_never_cross_speeches_and_ids_are_unique_and_stable():
    speeches = [speech("同志们：" + BODY, index=0), speech("同志们：" + BODY, index=1),
                speech("同志们：" + BODY, source="other.txt")]
    chunks = chunk_speeches(speeches, SETTINGS)
    assert [c.speech_index for c in chunks] == [0, 1, 0]
    assert [c.position for c in chunks] == [0, 1, 0]
    assert len({c.chunk_id for c in chunks}) == 3
    assert [c.chunk_id for c in chunk_speeches(speeches, SETTINGS)] == [c.chunk_id for c in chunks]


def test_chunk_file(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_text("同志们：\n一、认清形势\n今年以来，全市经济运行\n总体平稳。\n", encoding="utf-8")
    [chunk] = chunk_file(path, tmp_path, SETTINGS)
    assert chunk.source == "a.txt" and chunk.chunk_id == "a.txt#0.0"
    assert "今年以来，全市经济运行总体平稳。" in chunk.text


def test_long_first_sentence_keeps_the_first_clause_not_the_bare_marker():
    heading = parse_heading("第二，要" + "坚持以人民为中心的发展思想" * 6 + "。" + BODY)
    assert heading.text.startswith("第二，要坚持以人民为中心") and heading.text != "第二，"


def test_numbered_list_in_the_body_does_not_take_over_the_outline():
    sections = split_sections([
        "一、稳就业", BODY,
        "二、保民生", "重点帮扶以下人群：",
        "一、高校毕业生，" + BODY, "二、退役军人，" + BODY, "三、脱贫人口，" + BODY,
        "四、在园区就业的农民工，" + BODY,
        "三、防风险", BODY,
    ])
    assert [s.path for s in sections] == [("一、稳就业",), ("二、保民生",), ("三、防风险",)]


def test_a_count_restarting_without_an_introduction_opens_a_new_part():
    # "最后，我强调几件事" then "一、…" again after "三、": a closing part, not a list.
    sections = split_sections(["一、成绩", BODY, "二、问题", BODY, "三、任务", BODY, "最后，我再强调两件事",
                               "一、关于安全生产工作", BODY, "二、关于信访稳定工作", BODY])
    assert [s.path[0] for s in sections][-2:] == ["一、关于安全生产工作", "二、关于信访稳定工作"]


def test_a_jump_in_the_count_is_a_list_when_the_items_read_as_sentences():
    sections = split_sections(["一、成绩", BODY, "三、其中一项是，" + BODY, "二、问题", BODY])
    assert [s.path for s in sections] == [("一、成绩",), ("二、问题",)]


def test_explicit_levels_nest_by_level_and_hold_numbered_headings():
    sections = split_sections(["总则", "第一条" + BODY, "采购程序", "（一）准备。" + BODY, "（二）实施。" + BODY],
                              levels=(1, None, 1, None, None))
    assert [s.path for s in sections] == [("总则",), ("采购程序",), ("采购程序", "（一）准备。"),
                                          ("采购程序", "（二）实施。")]


def test_layout_heading_closes_a_numbered_body_paragraph():
    sections = split_sections(["一、大家知道，这里是中心。" + BODY, "在工人中的宣传工作", BODY],
                              layout=frozenset({1}))
    assert [s.path for s in sections] == [("一、大家知道，这里是中心。",), ("在工人中的宣传工作",)]
