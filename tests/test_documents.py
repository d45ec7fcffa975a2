"""Reading, cleaning, reflow, TOC removal and speech splitting on small inline texts."""
from pathlib import Path

import pytest

from searchkit.documents import (clean_lines, collapse_spaces, find_toc, load_speeches,
                                 read_text, reflow, split_document, split_speeches)
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


# --------------------------------------------------------------------------- real-text structure

from dataclasses import dataclass as _dataclass  # noqa: E402

from searchkit.chunking import chunk_speeches  # noqa: E402

BODY_SENTENCE = "过去一年，我们坚持稳中求进工作总基调，经济运行总体回升向好，主要目标任务较好完成。"


@_dataclass(frozen=True)
class Block:  # the readers' contract (searchkit/readers): text, optional outline level
    text: str
    level: int | None = None


@_dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]


def passages(text: str, source: str = "s.txt"):
    return chunk_speeches(split_speeches(text, source))


def test_full_width_digits_and_spaces_do_not_hide_a_heading():
    chunks = passages(f"　　一、２０２３年工作回顾\n{BODY_SENTENCE}\n　　二、2 0 2 4年工作安排\n{BODY_SENTENCE}\n")
    assert [c.heading for c in chunks] == [("一、２０２３年工作回顾",), ("二、2 0 2 4年工作安排",)]
    assert chunks[0].text.startswith("一、２０２３年工作回顾")  # the original characters are kept


BLANK_SEPARATED = "\n\n".join([
    "各位代表：", "现在，我代表市人民政府向大会报告工作，请予审议。",
    "过去一年的工作回顾", BODY_SENTENCE * 2, BODY_SENTENCE,
    "今年的主要任务", "今年是全面贯彻党的二十大精神的开局之年，做好政府工作至关重要。",
    BODY_SENTENCE * 2, BODY_SENTENCE,
])


def test_short_line_standing_alone_between_blank_lines_is_a_heading():
    chunks = passages(BLANK_SEPARATED)
    headings = [c.heading for c in chunks]
    assert ("过去一年的工作回顾",) in headings and ("今年的主要任务",) in headings
    assert not any("工作回顾过去一年" in c.text for c in chunks)  # not glued into the body


def test_bare_numeral_line_starts_a_section():
    text = "\n\n".join(["各位代表：" + BODY_SENTENCE, "一", BODY_SENTENCE * 3, "二", BODY_SENTENCE * 3,
                       BODY_SENTENCE, BODY_SENTENCE])
    assert [c.heading for c in passages(text)][-2:] == [("一",), ("二",)]


TITLE_BLOCK = ("2023年政府工作报告\n奋力推进高质量发展\n——2023年1月12日在某某市第十七届人民代表大会第二次会议上\n"
               "市长 王某某\n各位代表：\n" + BODY_SENTENCE + "\n一、过去一年工作回顾\n" + BODY_SENTENCE + "\n")


def test_title_block_gives_title_and_preamble_not_passage_zero():
    [speech] = split_speeches(TITLE_BLOCK, "report.txt")
    assert speech.title == "2023年政府工作报告"
    assert speech.preamble == ("奋力推进高质量发展", "——2023年1月12日在某某市第十七届人民代表大会第二次会议上", "市长 王某某")
    assert speech.paragraphs[:2] == ("各位代表：", BODY_SENTENCE)
    assert all("王某某" not in c.text and "奋力推进" not in c.text for c in chunk_speeches([speech]))


def test_title_from_file_name_keeps_digits_and_offers_the_speaker():
    [speech] = split_speeches("各位代表：\n" + BODY_SENTENCE + "\n", "2023政府工作报告_王某某.txt")
    assert speech.title == "2023政府工作报告" and speech.speaker_candidate == "王某某"
    [dated] = split_speeches(BODY_SENTENCE, "2018年中华人民共和国国务院政府工作报告.txt")
    assert dated.title == "2018年中华人民共和国国务院政府工作报告"


def test_footer_or_photo_caption_is_never_a_title():
    text = ("（新华社记者 张三 摄）\n图为会议现场。\n在全市经济工作会议上的讲话\n同志们：\n" + BODY_SENTENCE
            + "\n责任编辑：李四\n京ICP备12024993号-1\n")
    speeches = split_speeches(text, "page.txt")
    assert [s.title for s in speeches] == ["在全市经济工作会议上的讲话"]
    assert "page chrome" in speeches.removed
    assert all("ICP" not in c.text and "摄" not in c.text for c in chunk_speeches(speeches))


def test_table_of_contents_numbered_in_chinese_is_not_content():
    text = ("某某县政府工作报告\n目录\n一、过去五年工作回顾\n二、今后五年目标任务\n"
            f"各位代表：\n{BODY_SENTENCE}\n一、过去五年工作回顾\n{BODY_SENTENCE}\n二、今后五年目标任务\n{BODY_SENTENCE}\n")
    speeches = split_speeches(text, "toc.txt")
    assert speeches.removed["table of contents"] == 3
    everything = "\n".join(c.text for c in chunk_speeches(speeches))
    assert everything.count("一、过去五年工作回顾") == 1 and "目录" not in everything


def test_lines_above_a_title_are_kept():
    text = ("一、这是标题上方的一段没有句号的文字\n——2023年1月5日\n"
            f"在全县经济工作会议上的讲话\n同志们：\n{BODY_SENTENCE}\n")
    speeches = split_speeches(text, "above.txt")
    kept = "".join(c.text for c in chunk_speeches(speeches)) + "".join(speeches[0].preamble)
    assert "一、这是标题上方的一段没有句号的文字" in kept and "——2023年1月5日" in kept


WEB_PAGE = """首页 > 新闻中心 > 领导讲话
您的位置：首页 > 要闻 > 正文
下载 打印 全屏 收藏 【字号：加大 还原 减小】
来源：某某日报
发布时间：2023-01-12 09:00
在全市优化营商环境大会上的讲话
同志们：
今天召开全市优化营商环境大会，主要任务是总结工作、分析形势、部署任务。
一、充分认识优化营商环境的重要意义
营商环境就是生产力，优化营商环境就是解放生产力、提高综合竞争力。
分享到：微信 微博 QQ空间
相关报道：
全市优化营商环境工作取得新成效
某某区召开营商环境推进会
责任编辑：王五
网站地图 | 联系我们
京ICP备12345678号
"""


def test_web_chrome_of_a_pasted_page_is_removed_and_counted():
    speeches = split_speeches(WEB_PAGE, "pasted.txt")
    assert [s.title for s in speeches] == ["在全市优化营商环境大会上的讲话"]
    text = "\n".join(c.text for c in chunk_speeches(speeches))
    for chrome in ("您的位置", "下载", "字号", "来源：", "分享到", "相关报道", "责任编辑", "ICP备", "营商环境推进会"):
        assert chrome not in text, chrome
    assert "营商环境就是生产力" in text
    assert speeches.removed["page chrome"] >= 10


def test_the_same_report_twice_is_indexed_once_and_reported():
    once = f"在全县经济工作会议上的讲话\n同志们：\n{BODY_SENTENCE}\n一、认清形势\n{BODY_SENTENCE * 2}\n二、狠抓落实\n{BODY_SENTENCE}\n"
    speeches = split_speeches(once + once, "twice.txt")
    assert len(speeches) == 1 and speeches.removed["duplicate copy"] > 0 and speeches.warnings
    untitled = "\n".join(f"第{i}段：{BODY_SENTENCE}" for i in range(8))
    [speech] = split_speeches(untitled + "\n" + untitled, "pasted-twice.txt")
    assert len(speech.paragraphs) == 8


def test_a_document_on_one_line_is_cut_at_sentence_ends():
    notice = ("关于做好2023年安全生产工作的通知。详见 www.example.gov.cn 下载附件。" + BODY_SENTENCE * 75)
    chunks = passages(notice, "notice.txt")
    assert len(notice) > 3000 and len(chunks) >= 7
    assert all(len(c.text) <= 500 and c.text.endswith("。") for c in chunks)
    assert _key("".join(c.text for c in chunks)) == _key(notice)  # nothing lost but spaces


def test_explicit_levels_from_the_format_make_title_and_headings():
    doc = Document((Block("促进中小企业发展管理办法", 0), Block("总则", 1), Block("第一条 " + BODY_SENTENCE),
                    Block("采购程序", 1), Block("（一）" + BODY_SENTENCE), Block("（二）" + BODY_SENTENCE)))
    speeches = split_document(doc, "rules.docx")
    assert [s.title for s in speeches] == ["促进中小企业发展管理办法"]
    paths = [c.heading for c in chunk_speeches(speeches)]
    assert paths[0] == ("总则",) and all(p[0] in ("总则", "采购程序") for p in paths)
    assert ("采购程序",) in paths or any(p[:1] == ("采购程序",) for p in paths)


def test_every_line_is_kept_or_removed_on_purpose():
    text = "\n".join([WEB_PAGE, TITLE_BLOCK, BLANK_SEPARATED, "目录\n一、认清形势\n二、狠抓落实",
                      "一、认清形势", BODY_SENTENCE, "二、狠抓落实", BODY_SENTENCE, "- 3 -"])
    speeches = split_speeches(text, "mixed.txt")
    kept = _key("".join([c.text for c in chunk_speeches(speeches)] + [s.title for s in speeches]
                        + [line for s in speeches for line in s.preamble]))
    dropped = {_key(line) for _, line in speeches.dropped}
    lost = [line for line in text.split("\n")
            if len(_key(line)) >= 6 and _key(line) not in kept and _key(line) not in dropped]
    assert lost == []
    assert sum(speeches.removed.values()) == len(speeches.dropped)


def _key(text: str) -> str:
    return "".join(text.split())
