"""Reading, cleaning, reflow, TOC removal and speech splitting on small inline texts."""
from pathlib import Path

import pytest

from searchkit.documents import (clean_lines, collapse_spaces, find_toc, load_speeches,
                                 read_text, reflow, split_speeches)
from searchkit.errors import CorpusError

SPEECH_A = "XX市市长张三在全市经济运行分析会上的讲话"
SPEECH_B = "XX县县长李四在全县项目建设推进会上的讲话"


# --------------------------------------------------------------------------- read_text

def test_read_text_utf8_with_and_without_bom(tmp_path: Path):
    plain, bom = tmp_path / "a.txt", tmp_path / "b.txt"
    plain.write_bytes("同志们：".encode("utf-8"))
    bom.write_bytes(b"\xef\xbb\xbf" + "同志们：".encode("utf-8"))
    assert read_text(plain) == "同志们："
    assert read_text(bom) == "同志们："


@pytest.mark.parametrize("encoding", ["utf-16", "gb18030"])
def test_read_text_other_encodings(tmp_path: Path, encoding: str):
    text = "同志们：今天召开全市经济运行分析会，主要任务是总结上半年工作，部署下半年任务。" * 3
    path = tmp_path / "speech.txt"
    path.write_bytes(text.encode(encoding))
    assert read_text(path) == text


def test_read_text_binary_file_is_a_corpus_error(tmp_path: Path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xfe\x00\x00" * 20)
    with pytest.raises(CorpusError) as error:
        read_text(path)
    message = str(error.value)
    assert "image.txt" in message and "\n" not in message


def test_read_text_missing_file_is_a_corpus_error(tmp_path: Path):
    with pytest.raises(CorpusError, match="missing.txt"):
        read_text(tmp_path / "missing.txt")


# --------------------------------------------------------------------------- cleaning

def test_clean_lines_removes_spaces_between_chinese_and_junk():
    text = ("XX 市人民政府\u200b在 市委经济工作会议上\r\n\n\u00a0\n  12  \n"
            "20XX 年 GDP 增长 8%\n- 3 -\n本DOCX文档由 www.zciku.com/中词库网 生成\n")
    assert clean_lines(text) == ["XX市人民政府在市委经济工作会议上", "20XX年GDP增长8%"]


def test_collapse_spaces_keeps_spaces_between_latin_words():
    assert collapse_spaces("use the Whoosh index 和 jieba") == "use the Whoosh index和jieba"
    assert collapse_spaces("全年 “五争攻坚” 任务") == "全年“五争攻坚”任务"


def test_full_width_punctuation_is_kept():
    assert clean_lines("同志们：一是“进”的态势（持续）向好！") == ["同志们：一是“进”的态势（持续）向好！"]


# --------------------------------------------------------------------------- reflow

def test_reflow_joins_a_page_break_inside_a_sentence():
    lines = ["二、辩证看待经济运行中的困难和问题",
             "当前，全球疫情形势依然严峻，国内经济仍处在恢复之",
             "中，我省稳定经济增长仍面临一些困难和问题。"]
    assert reflow(lines) == ["二、辩证看待经济运行中的困难和问题",
                             "当前，全球疫情形势依然严峻，国内经济仍处在恢复之中，我省稳定经济增长仍面临一些困难和问题。"]


def test_reflow_heading_without_punctuation_does_not_swallow_the_next_line():
    lines = ["一、客观估价成绩，喜忧参半，压力巨大", "今年以来，全县上下认真贯彻落实各项决策部署。"]
    assert reflow(lines) == lines


def test_reflow_wrapped_heading_takes_its_short_tail():
    lines = ["一、在研判形势中坚定追赶发展的信心，把握机遇迎难", "而上", "今年以来，经济形势变化很快。"]
    assert reflow(lines) == ["一、在研判形势中坚定追赶发展的信心，把握机遇迎难而上", "今年以来，经济形势变化很快。"]


def test_reflow_body_line_cut_mid_sentence_is_not_a_heading():
    lines = ["三是传统产业改造升级没有实现预期效果，新兴产业培", "育不足，带动作用不强。"]
    assert reflow(lines) == ["三是传统产业改造升级没有实现预期效果，新兴产业培育不足，带动作用不强。"]
    lines = ["二是积极做好考核验收准备工作。从今年起，省上将不", "再单独考核。"]
    assert len(reflow(lines)) == 1


def test_reflow_does_not_join_into_a_new_numbered_section():
    lines = ["要加快推进重点项目建设，确保按期完成", "（二）抓好固投指标，加快推进重大项目建设"]
    assert reflow(lines) == lines


def test_reflow_ordinal_after_cut_line_continues_the_sentence():
    assert reflow(["全年进出口总额增速居全省", "第一，增幅比上年提高。"]) == ["全年进出口总额增速居全省第一，增幅比上年提高。"]


def test_reflow_keeps_short_list_items_apart():
    assert reflow(["勤奋好学、学以致用", "联系群众、服务人民"]) == ["勤奋好学、学以致用", "联系群众、服务人民"]


def test_reflow_trailing_remark_ends_the_sentence():
    lines = ["坚决防止各类安全事故发生。（未讲）", "第七，狠抓工作落实"]
    assert reflow(lines) == lines


# --------------------------------------------------------------------------- TOC & splitting

COMPILATION = f"""各地区经济工作会议上的 讲话合集

办公室工作

目 录

1.XX 市市长张三在全市经济运行分析会上的讲话.....\t5

2.中共 XX 县委书记王五在县委经济工作会议上的讲话.....\t11

3.XX 县县长李四在全县项目建设推进会上的讲话\t20

4.赵六同志在 20XX 年全市上半年工业经济运行分\t

析会上的讲话\t30

XX省市长张三在全市经济运行分析 会上的讲话

同志们：

一、上半年经济工作值得充分肯定

今年以来，全市经济运行总体平稳。

抢抓新机遇再创新业绩 在高质量发展征程

中干在实处走在前列

——中共 XX 县委书记王五在县委经济工作会议上的讲话

同志们：

今天召开县委经济工作会议。

{SPEECH_B}

同志们：

一要加快项目建设。项目是发展的生命线。

赵六同志在 20XX 年全市上半年工业经济运行分析会上的讲话

同志们：

上半年工业经济运行平稳。
"""


def test_find_toc_reads_entries_including_a_wrapped_one():
    found = find_toc([line.strip() for line in COMPILATION.split("\n") if line.strip()])
    assert found is not None
    _, _, entries = found
    assert [entry.page for entry in entries] == [5, 11, 20, 30]
    assert entries[3].title == "赵六同志在20XX年全市上半年工业经济运行分析会上的讲话"


def test_split_compilation_uses_the_toc_and_drops_it():
    speeches = split_speeches(COMPILATION, "c.txt")
    assert len(speeches) == 4
    assert speeches[0].title == "XX省市长张三在全市经济运行分析会上的讲话"
    assert [s.index for s in speeches] == [0, 1, 2, 3]
    everything = "".join(p for s in speeches for p in s.paragraphs)
    assert "目录" not in everything and "....." not in everything and "讲话合集" not in everything
    assert speeches[0].paragraphs == ("同志们：", "一、上半年经济工作值得充分肯定", "今年以来，全市经济运行总体平稳。")


def test_subtitle_and_multi_line_main_title_form_one_title():
    speech = split_speeches(COMPILATION, "c.txt")[1]
    assert speech.title == "抢抓新机遇再创新业绩在高质量发展征程中干在实处走在前列"
    assert speech.preamble == ("——中共XX县委书记王五在县委经济工作会议上的讲话",)
    assert speech.paragraphs == ("同志们：", "今天召开县委经济工作会议。")


def test_title_lines_are_not_paragraphs():
    speeches = split_speeches(COMPILATION, "c.txt")
    for speech in speeches:
        assert all("的讲话" not in paragraph for paragraph in speech.paragraphs)


def test_split_without_toc_finds_titles_by_layout():
    text = f"{SPEECH_A}\n同志们：\n今天开会。\n{SPEECH_B}\n同志们：\n一要加快项目建设。\n"
    speeches = split_speeches(text, "two.txt")
    assert [s.title for s in speeches] == [SPEECH_A, SPEECH_B]
    assert speeches[1].paragraphs == ("同志们：", "一要加快项目建设。")


def test_preview_line_repeating_the_title_is_dropped():
    text = (" 在全区重点项目建设推进会上的讲话同志们：这次会议既是一次盘点调度会...\n"
            "在全区重点项目建设推进会上的讲话\n同志们：\n这次会议既是一次盘点调度会。\n")
    [speech] = split_speeches(text, "003.txt")
    assert speech.title == "在全区重点项目建设推进会上的讲话"
    assert speech.paragraphs == ("同志们：", "这次会议既是一次盘点调度会。")


def test_speech_without_title_line_gets_a_derived_title():
    text = "同志们：\n今天开会。\n一、客观估价成绩，喜忧参半，压力巨大\n今年以来成绩明显。\n"
    [speech] = split_speeches(text, "000_fcda3296baa12e59.txt")
    assert speech.title == "客观估价成绩，喜忧参半，压力巨大"
    assert speech.paragraphs[0] == "同志们："
    [named] = split_speeches("同志们：\n今天开会。\n", "sub/在全县大会上的讲话.txt")
    assert named.title == "在全县大会上的讲话"


def test_empty_text_has_no_speeches():
    assert split_speeches("\n \n", "empty.txt") == []


def test_load_speeches_uses_a_posix_source_relative_to_root(tmp_path: Path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "s.txt").write_text(f"{SPEECH_A}\n同志们：\n今天开会。\n", encoding="utf-8")
    [speech] = load_speeches(folder / "s.txt", tmp_path)
    assert speech.source == "sub/s.txt"
