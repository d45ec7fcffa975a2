"""The readers: one per format, each on a file made the way users' tools make it.

Fixtures are written here with the libraries those tools use (python-docx with Word
numbering, reportlab with a real CJK font, a GBK web page with site chrome), plus checks
over the real documents in ../shared/real-docs/ when that folder is there.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchkit.corpus import scan_corpus
from searchkit.documents import load_speeches
from searchkit.errors import CorpusError
from searchkit.readers import SUPPORTED_SUFFIXES, Block, read_document, unsupported_advice
from searchkit.readers.docx import format_number
from searchkit.readers.pdf import repair_line

ROOT = Path(__file__).resolve().parent.parent
REAL_DOCS = ROOT.parent / "shared" / "real-docs"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
needs_font = pytest.mark.skipif(not CJK_FONT.exists(), reason="fonts-wqy-zenhei not installed (scripts/setup.sh)")

# Phrases found in exactly one fixture each, so a search can tell the formats apart.
DOCX_PHRASE = "老旧小区改造一百个"
PDF_PHRASE = "高标准农田建设"
HTML_PHRASE = "乡村振兴示范带"
MD_PHRASE = "中小企业预留份额"
TXT_PHRASE = "城市更新行动"


def texts(document) -> list[str]:
    return [b.text for b in document.blocks if b.text]


# --------------------------------------------------------------------------- .docx

_ABSTRACT_NUM = """<w:abstractNum {ns} w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/></w:lvl>
</w:abstractNum>"""


def _numbered(doc, text, ilvl, style=None):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph = doc.add_paragraph(text, style=style)
    paragraph._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="90"/></w:numPr>'))
    return paragraph


def make_docx(path: Path) -> Path:
    """A work report as Word writes it: Title and Heading styles, numbering from
    numbering.xml (一、/（一）are not typed), a table, a header and a footer."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = docx.Document()
    numbering = doc.part.numbering_part.element
    numbering.insert(0, parse_xml(_ABSTRACT_NUM.format(ns=nsdecls("w"))))  # abstractNums before nums
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    doc.core_properties.title = "2023年市政府工作报告"
    doc.core_properties.author = "王某某"
    section = doc.sections[0]
    section.header.paragraphs[0].text = "某某市人民政府办公室页眉文字"
    section.footer.paragraphs[0].text = "页脚文字 第1页"
    doc.add_heading("2023年政府工作报告", level=0)
    doc.add_paragraph("各位代表：")
    doc.add_paragraph("现在，我代表市人民政府，向大会报告工作，请予审议。")
    _numbered(doc, "过去一年工作回顾", 0, style="Heading 1")
    _numbered(doc, "经济运行稳中有进", 1, style="Heading 2")
    doc.add_paragraph("全市地区生产总值增长百分之五点六，招商引资到位资金创历史新高。")
    _numbered(doc, "民生保障有力有效", 1, style="Heading 2")
    doc.add_paragraph(f"新增城镇就业三万人，完成{DOCX_PHRASE}。")
    _numbered(doc, "2023年主要任务", 0, style="Heading 1")
    _numbered(doc, "扩大有效投资", 1)
    table = doc.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "指标", (0, 1): "目标", (1, 0): "地区生产总值增速", (1, 1): "百分之六左右"}.items():
        table.cell(row, col).text = text
    doc.add_paragraph("我们要以更加昂扬的精神状态，奋力谱写高质量发展新篇章！")
    doc.save(path)
    return path


def test_docx_outline_numbering_table_and_properties(tmp_path):
    document = read_document(make_docx(tmp_path / "report.docx"))
    levels = [(b.level, b.text) for b in document.blocks if b.level is not None]
    assert levels == [(0, "2023年政府工作报告"), (1, "一、过去一年工作回顾"), (2, "（一）经济运行稳中有进"),
                      (2, "（二）民生保障有力有效"), (1, "二、2023年主要任务")]
    body = texts(document)
    assert "（一）扩大有效投资" in body  # numbered, not a heading: the counter restarted under 二、
    assert "指标\t目标" in body and "地区生产总值增速\t百分之六左右" in body
    assert not any("页眉" in t or "页脚" in t for t in body)
    assert document.properties["title"] == "2023年市政府工作报告"
    assert document.properties["author"] == "王某某"
    assert len(document.properties["created"]) == 10  # an ISO date
    # Paragraphs are separated by blank blocks, so the plain-text view keeps the breaks.
    assert "\n\n各位代表：\n\n" in document.text()


def test_word_number_formats():
    assert [format_number(n, "chineseCounting") for n in (1, 10, 12, 20, 21, 105)] == \
        ["一", "十", "十二", "二十", "二十一", "一百零五"]
    assert format_number(3, "ideographTraditional") == "丙"
    assert format_number(2, "decimalEnclosedCircle") == "②"
    assert format_number(4, "lowerRoman") == "iv"


def test_docx_numbering_continues_across_lists_unless_restarted(tmp_path):
    """Two num instances of one abstract list continue each other, as in Word; "Restart
    numbering" in Word writes a new num with a startOverride."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = docx.Document()
    numbering = doc.part.numbering_part.element
    numbering.insert(0, parse_xml(_ABSTRACT_NUM.format(ns=nsdecls("w"))))
    for num_id, override in (("90", ""), ("91", ""), ("92", '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>')):
        numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="90"/>{override}</w:num>'))
    for num_id, text in (("90", "甲"), ("90", "乙"), ("91", "丙"), ("92", "丁"), ("92", "戊")):
        paragraph = doc.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>'))
    doc.save(tmp_path / "lists.docx")
    assert texts(read_document(tmp_path / "lists.docx")) == ["一、甲", "二、乙", "三、丙", "一、丁", "二、戊"]


def test_docx_outline_level_without_heading_style(tmp_path):
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = docx.Document()
    paragraph = doc.add_paragraph("一级标题由大纲级别给出")
    paragraph._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="0"/>'))
    doc.add_paragraph("正文一段。")
    doc.save(tmp_path / "outline.docx")
    document = read_document(tmp_path / "outline.docx")
    assert [(b.level, b.text) for b in document.blocks if b.text] == [(1, "一级标题由大纲级别给出"), (None, "正文一段。")]


def test_damaged_docx_is_a_corpus_error(tmp_path):
    good = make_docx(tmp_path / "good.docx").read_bytes()
    damaged = tmp_path / "damaged.docx"
    damaged.write_bytes(good[: len(good) // 2])  # a download cut off half-way
    with pytest.raises(CorpusError, match=r"damaged\.docx.*(damaged|not a zip)"):
        read_document(damaged)
    locked = tmp_path / "locked.docx"  # what Word writes for a password-protected document
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    with pytest.raises(CorpusError, match=r"locked\.docx is not a \.docx package.*password"):
        read_document(locked)


# --------------------------------------------------------------------------- .pdf

PDF_PARAGRAPHS = [
    "一、过去一年工作回顾",
    f"过去一年，我们坚持稳中求进工作总基调，粮食生产再获丰收，新建{PDF_PHRASE}十万亩，"
    "农村人居环境持续改善，乡村治理水平不断提升。" * 3,
    "二、今年工作安排",
    "今年是全面贯彻党的二十大精神的开局之年，做好政府工作意义重大。要坚持以人民为中心的发展思想，"
    "着力扩大国内需求，加快建设现代化产业体系，切实保障和改善民生，推动经济运行整体好转。" * 4,
    "三、加强政府自身建设",
    "各级政府要坚持依法行政，深化政务公开，自觉接受人大监督和政协民主监督，建设人民满意的服务型政府。" * 4,
]
PDF_HEADER = "某某市人民政府工作报告"


def make_pdf(path: Path, paragraphs=PDF_PARAGRAPHS, lines_per_page=12, encrypt=None, bookmarks=False) -> int:
    """Chinese text in a real CJK font, wrapped at the page width like a word processor
    does, over several pages with a running header and a page number in the footer;
    with bookmarks, the 一、 headings are in the PDF outline (as Word exports headings)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", str(CJK_FONT), subfontIndex=0))
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    width, height = A4
    per_line = int((width - 144) // 12)
    lines = []
    for paragraph in paragraphs:
        text = paragraph if paragraph[1] == "、" else "　　" + paragraph
        lines += [text[i:i + per_line] for i in range(0, len(text), per_line)]
    pages = [lines[i:i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    for number, page in enumerate(pages, 1):
        pdf.setFont("WQY", 9)
        pdf.drawCentredString(width / 2, height - 40, PDF_HEADER)
        pdf.drawCentredString(width / 2, 30, f"— {number} —")
        pdf.setFont("WQY", 12)
        for i, line in enumerate(page):
            pdf.drawString(72, height - 80 - 20 * i, line)
            if bookmarks and line[1:2] == "、":
                pdf.bookmarkPage(line)
                pdf.addOutlineEntry(line, line, level=0)
        pdf.showPage()
    pdf.save()
    return len(pages)


@needs_font
def test_pdf_text_without_running_header_and_page_numbers(tmp_path):
    pages = make_pdf(tmp_path / "report.pdf")
    assert pages >= 3
    document = read_document(tmp_path / "report.pdf")
    body = texts(document)
    assert PDF_HEADER not in body and not any(t.startswith("—") and t.endswith("—") for t in body)
    assert document.removed["running_header"] == pages and document.removed["page_number"] == pages
    joined = "".join(body)
    assert joined == "".join(p.replace("　", "") for p in PDF_PARAGRAPHS)  # every character, in order
    assert body[0] == "一、过去一年工作回顾"


@needs_font
def test_pdf_bookmarks_give_heading_levels(tmp_path):
    make_pdf(tmp_path / "marked.pdf", bookmarks=True)
    outline = [(b.level, b.text) for b in read_document(tmp_path / "marked.pdf").blocks if b.level is not None]
    assert outline == [(1, "一、过去一年工作回顾"), (1, "二、今年工作安排"), (1, "三、加强政府自身建设")]
    make_pdf(tmp_path / "plain.pdf")
    assert all(b.level is None for b in read_document(tmp_path / "plain.pdf").blocks)


@needs_font
def test_pdf_through_the_pipeline_joins_lines_cut_at_line_and_page_ends(tmp_path):
    make_pdf(tmp_path / "report.pdf")
    speeches = load_speeches(tmp_path / "report.pdf", tmp_path)
    paragraphs = [p for s in speeches for p in s.paragraphs]
    assert any(p.startswith("各级政府要坚持依法行政") and p.endswith("服务型政府。") and len(p) > 150
               for p in paragraphs)  # one paragraph again, across lines and a page end


@needs_font
def test_pdf_characters_placed_one_by_one_are_repaired(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", str(CJK_FONT), subfontIndex=0))
    pdf = canvas.Canvas(str(tmp_path / "spaced.pdf"))
    x = 72
    for ch in "坚持反对“以党治国”的错误倾向。":  # justified text: every character placed alone
        pdf.setFont("WQY", 12)
        pdf.drawString(x, 700, ch)
        x += 20
    pdf.showPage()
    pdf.save()
    assert texts(read_document(tmp_path / "spaced.pdf")) == ["坚持反对“以党治国”的错误倾向。"]


def test_pdf_line_repair_rules():
    assert repair_line("反 对 “ 以 党 治 国 ”") == "反对“以党治国”"
    assert repair_line("2 0 2 3 年 工 作 回 顾") == "2023年工作回顾"
    assert repair_line("增长 5.2% ， GDP growth") == "增长5.2%，GDP growth"


def make_scanned_pdf(path: Path) -> None:
    from reportlab.pdfgen import canvas

    scan = canvas.Canvas(str(path))
    scan.rect(72, 72, 300, 500, fill=1)  # a picture of a page, no text layer
    scan.showPage()
    scan.save()


@needs_font
def test_encrypted_truncated_and_scanned_pdfs(tmp_path):
    from reportlab.lib.pdfencrypt import StandardEncryption

    make_pdf(tmp_path / "locked.pdf", encrypt=StandardEncryption("secret", ownerPassword="owner"))
    with pytest.raises(CorpusError, match=r"locked\.pdf is an encrypted PDF"):
        read_document(tmp_path / "locked.pdf")
    make_pdf(tmp_path / "full.pdf")
    data = (tmp_path / "full.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[:200])
    with pytest.raises(CorpusError, match=r"cut\.pdf"):
        read_document(tmp_path / "cut.pdf")
    make_scanned_pdf(tmp_path / "scan.pdf")
    document = read_document(tmp_path / "scan.pdf")
    assert document.blocks == () and "scan.pdf has no text layer" in document.warnings[0]
    with pytest.raises(CorpusError, match="no text layer"):
        load_speeches(tmp_path / "scan.pdf", tmp_path)


# --------------------------------------------------------------------------- .html

HTML_PAGE = """<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>在全市乡村振兴工作会议上的讲话_某某市人民政府网</title>
<script>var _hmt = _hmt || []; document.write("统计脚本文字");</script>
<style>.nav {{ color: red }} .x:after {{ content: "样式文字" }}</style>
</head><body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zw">政务公开</a></li>
<li><a href="/hd">互动交流</a></li><li><a href="/fw">办事服务</a></li></ul></div>
<div class="location">您的位置：<a href="/">首页</a> &gt; <a href="/ldjh">领导讲话</a></div>
<div class="article">
<h1>在全市乡村振兴工作会议上的讲话</h1>
<div class="info">发布时间：2023-03-02 来源：某某日报 <span class="share">分享到：<a href="#">微信</a><a href="#">微博</a></span>
 【字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】 <a href="#">打印</a></div>
<div class="content">
<p>同志们：</p>
<p>今天召开全市乡村振兴工作会议，主要任务是总结去年工作，安排部署今年任务。</p>
<p class="pic_title">图为会议现场。记者 张三 摄</p>
<h2>一、充分肯定成绩</h2>
<p>过去一年，全市上下团结奋斗，建成{phrase}三条，农村居民人均可支配收入增长百分之七，农村人居环境明显改善。</p>
<p>我们坚持把农业农村工作放在突出位置，统筹推进产业发展、人才培养和基层治理，各项工作取得新成效。</p>
<p><strong>二是</strong>加强人才培养，选派科技特派员服务乡村产业。</p>
<p><a href="/kjtpy.html">科技特派员名单</a></p>
<h2>二、扎实做好今年工作</h2>
<p>今年要坚持农业农村优先发展，巩固拓展脱贫攻坚成果，全面推进乡村振兴，加快建设农业强市。</p>
<p>各级各部门要强化责任担当，确保各项任务落地见效，为全面建设社会主义现代化强市作出新的更大贡献。</p>
<p><strong>相关报道</strong></p>
<p><a href="/a1.html">市委召开农村工作会议</a></p>
<p><a href="/a2.html">我市乡村振兴工作综述</a></p>
</div></div>
<div class="footer"><p><a href="/about">关于我们</a> | <a href="/map">网站地图</a></p>
<p>主办：某某市人民政府办公室 版权所有</p><p>京ICP备12345678号-1 京公网安备11010502000001号</p></div>
</body></html>
"""

CHROME = ("首页", "政务公开", "您的位置", "分享到", "微博", "字号", "打印", "关于我们", "网站地图", "ICP备", "公网安备",
          "版权所有", "统计脚本", "样式文字", "相关报道", "我市乡村振兴工作综述", "图为会议现场")


def make_html(path: Path) -> Path:
    path.write_bytes(HTML_PAGE.format(phrase=HTML_PHRASE).encode("gbk"))  # labelled gb2312, as such sites do
    return path


def test_html_article_without_chrome(tmp_path):
    document = read_document(make_html(tmp_path / "page.shtml"))
    text = document.text()
    assert HTML_PHRASE in text and "同志们：" in text and "作出新的更大贡献" in text
    assert "二是加强人才培养，选派科技特派员服务乡村产业。" in text  # bold words opening text are no label
    for chrome in CHROME:
        assert chrome not in text, chrome
    assert document.blocks[0] == Block("在全市乡村振兴工作会议上的讲话", 0)  # site suffix removed
    assert document.properties["title"] == "在全市乡村振兴工作会议上的讲话"
    headings = [(b.level, b.text) for b in document.blocks if b.level]
    assert headings == [(1, "一、充分肯定成绩"), (1, "二、扎实做好今年工作")]
    assert document.removed == {"related_links": 1, "photo_caption": 1}


def test_html_encoding_from_bom_and_meta(tmp_path):
    page = "<html><head><meta charset='big5'><title>繁體頁面</title></head><body><p>{}</p></body></html>"
    text = "中華民國政府工作報告全文，內容關於經濟發展與社會建設，以及各項改革措施的推進情況。" * 3
    (tmp_path / "big5.html").write_bytes(page.format(text).encode("big5"))
    assert "經濟發展與社會建設" in read_document(tmp_path / "big5.html").text()
    (tmp_path / "bom.htm").write_bytes(b"\xef\xbb\xbf" + page.replace("big5", "gbk").format(text).encode("utf-8"))
    assert "經濟發展與社會建設" in read_document(tmp_path / "bom.htm").text()  # the BOM beats a wrong label


def test_html_paragraphs_set_apart_with_br_only(tmp_path):
    (tmp_path / "notice.html").write_text(
        "<html><head><meta charset='utf-8'><title>关于印发实施办法的通知_某某县人民政府</title></head><body>"
        "<div id='zoom'><p>各乡镇人民政府，县政府各部门：<br>现将《实施办法》印发给你们，请认真贯彻执行。<br><br>"
        "一、总体要求<br>坚持农业农村优先发展，按照产业兴旺、生态宜居、乡风文明、治理有效、生活富裕的总要求，推进乡村全面振兴。"
        "<br>某某县人民政府<br>2023年3月1日</p></div></body></html>", encoding="utf-8")
    document = read_document(tmp_path / "notice.html")
    assert texts(document) == ["关于印发实施办法的通知", "各乡镇人民政府，县政府各部门：", "现将《实施办法》印发给你们，请认真贯彻执行。",
                               "一、总体要求", "坚持农业农村优先发展，按照产业兴旺、生态宜居、乡风文明、治理有效、生活富裕的总要求，推进乡村全面振兴。",
                               "某某县人民政府", "2023年3月1日"]


def test_html_page_without_article_says_why(tmp_path):
    (tmp_path / "app.html").write_text("<html><head><title>应用_某某网</title><script>render()</script></head>"
                                       "<body><div id='app'></div></body></html>", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"app\.html: no article text found"):
        load_speeches(tmp_path / "app.html", tmp_path)


@pytest.mark.skipif(not (REAL_DOCS / "html").is_dir(), reason="../shared/real-docs not present")
def test_real_web_pages_give_articles_without_chrome():
    pages = sorted((REAL_DOCS / "html").glob("*.shtml"))
    assert len(pages) >= 10
    for page in pages:
        document = read_document(page)
        body = texts(document)
        assert len("".join(body)) > 500, page.name
        assert document.blocks[0].level == 0 and "共产党员网" not in document.blocks[0].text, page.name
        for chrome in ("ICP备", "分享到", "延伸阅读", "相关报道", "责任编辑", "打印", "<script", "var "):
            assert not any(chrome in line for line in body), (page.name, chrome)


# --------------------------------------------------------------------------- .md

MARKDOWN = f"""# 政府采购管理办法

## 第一章 总则

**第一条** 为了规范*政府采购*行为，根据[《中华人民共和国政府采购法》](https://example.org/law)，
制定本办法。

**第二条** 采购人应当落实{MD_PHRASE}等政策：

- 货物和服务采购项目
- 工程采购项目 **以及** 相关服务

## 第二章 采购程序

### 第一节 一般规定

| 项目 | 限额 |
|---|---|
| 货物 | 100万元 |
"""


def test_markdown_outline_and_plain_text(tmp_path):
    (tmp_path / "rules.md").write_text(MARKDOWN, encoding="utf-8")
    document = read_document(tmp_path / "rules.md")
    outline = [(b.level, b.text) for b in document.blocks if b.level is not None]
    assert outline == [(0, "政府采购管理办法"), (1, "第一章 总则"), (1, "第二章 采购程序"), (2, "第一节 一般规定")]
    body = texts(document)
    assert "第一条 为了规范政府采购行为，根据《中华人民共和国政府采购法》，制定本办法。" in body
    assert "工程采购项目 以及 相关服务" in body and "货物\t100万元" in body
    assert not any(mark in document.text() for mark in ("**", "](", "- 货物", "|"))
    assert document.properties == {"title": "政府采购管理办法"}


@pytest.mark.skipif(not (REAL_DOCS / "markdown").is_dir(), reason="../shared/real-docs not present")
def test_real_markdown_laws():
    for path in sorted((REAL_DOCS / "markdown").glob("*.md")):
        document = read_document(path)
        assert document.blocks[0].level == 0 and document.properties["title"] == document.blocks[0].text
        chapters = [b.text for b in document.blocks if b.level == 1]
        source_chapters = [line[3:].strip() for line in path.read_text(encoding="utf-8").splitlines()
                           if line.startswith("## ")]
        assert chapters == source_chapters, path.name  # every "## 第X章" and nothing else
        assert "**" not in document.text()


# --------------------------------------------------------------------------- .txt, dispatch, scan

def test_text_reader_gives_back_the_decoded_text(tmp_path):
    from searchkit.documents import read_text

    (tmp_path / "a.txt").write_bytes("标题\r\n\r\n正文一行。\n".encode("gb18030"))
    document = read_document(tmp_path / "a.txt")
    assert document.text() == read_text(tmp_path / "a.txt")
    assert [b.text.rstrip("\r") for b in document.blocks] == ["标题", "", "正文一行。", ""]


def test_unsupported_files_are_named_with_what_to_do(tmp_path):
    assert {".txt", ".docx", ".pdf", ".html", ".htm", ".shtml", ".md"} <= SUPPORTED_SUFFIXES
    assert "save it as .docx" in unsupported_advice(Path("old.doc"))
    assert "WPS" in unsupported_advice(Path("a.wps"))
    assert "OCR" in unsupported_advice(Path("scan.JPG"))
    assert unsupported_advice(Path("a.PDF")) is None
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)  # an OLE2 header
    with pytest.raises(CorpusError, match=r"old\.doc is a Word 97-2003 file"):
        read_document(tmp_path / "old.doc")


def test_scan_reports_other_types_but_not_sidecars_or_hidden_files(tmp_path):
    (tmp_path / "a.txt").write_text(f"{TXT_PHRASE}要稳步推进。", encoding="utf-8")
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "metadata.csv").write_text("source,title\n", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "~$old.docx").write_bytes(b"\0")  # Word's lock file beside an open document
    (tmp_path / "empty.pdf").write_bytes(b"")
    files, skipped = scan_corpus(tmp_path)
    assert [f.source for f in files] == ["a.txt"]
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) == {"old.doc", "sheet.xlsx", "empty.pdf"}
    assert "save it as .docx" in reasons["old.doc"] and "spreadsheet" in reasons["sheet.xlsx"]
    assert reasons["empty.pdf"] == "empty file, nothing to index"


# --------------------------------------------------------------------------- end to end

@pytest.fixture
def mixed_corpus(tmp_path) -> Path:
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    (corpus / "speech.txt").write_text(
        f"在全市城建工作会议上的讲话\n同志们：\n今年要深入实施{TXT_PHRASE}，加快老旧街区改造，提升城市品质。\n", encoding="utf-8")
    make_docx(corpus / "report.docx")
    make_pdf(corpus / "farm.pdf")
    make_html(corpus / "page.shtml")
    (corpus / "rules.md").write_text(MARKDOWN, encoding="utf-8")
    (corpus / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    good = (corpus / "report.docx").read_bytes()
    (corpus / "broken.docx").write_bytes(good[: len(good) // 2])
    make_scanned_pdf(corpus / "scan.pdf")
    (corpus / "empty.pdf").write_bytes(b"")
    from reportlab.lib.pdfencrypt import StandardEncryption

    make_pdf(corpus / "locked.pdf", paragraphs=["密码保护的文件内容。"], encrypt=StandardEncryption("secret"))
    return corpus


def _cli(*args):
    from typer.testing import CliRunner

    from searchkit.cli import app

    return CliRunner().invoke(app, list(args), env={"SEARCHKIT_MODEL": "fake-bigram-64"})


@needs_font
def test_index_a_mixed_folder_and_find_a_phrase_from_each_format(mixed_corpus, tmp_path):
    index = str(tmp_path / "index")
    result = _cli("index", "--corpus", str(mixed_corpus), "--index", index, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(report["added"]) == ["farm.pdf", "page.shtml", "report.docx", "rules.md", "speech.txt"]
    skipped = {s["source"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"old.doc", "broken.docx", "scan.pdf", "empty.pdf", "locked.pdf"}
    assert "save it as .docx" in skipped["old.doc"] and "damaged" in skipped["broken.docx"]
    assert "no text layer" in skipped["scan.pdf"] and "empty" in skipped["empty.pdf"]
    assert "encrypted PDF" in skipped["locked.pdf"]
    for phrase, source in ((TXT_PHRASE, "speech.txt"), (DOCX_PHRASE, "report.docx"), (PDF_PHRASE, "farm.pdf"),
                           (HTML_PHRASE, "page.shtml"), (MD_PHRASE, "rules.md")):
        found = _cli("search", f'"{phrase}"', "--index", index, "--mode", "keyword", "--json")
        assert found.exit_code == 0, found.output
        hits = json.loads(found.stdout)["results"]
        assert hits and hits[0]["source"] == source and phrase in hits[0]["text"], phrase
    # Unchanged files (and the same skipped ones) on a second run: up to date.
    again = json.loads(_cli("index", "--corpus", str(mixed_corpus), "--index", index, "--json").stdout)
    assert again["up_to_date"] and {s["source"] for s in again["skipped"]} == set(skipped)
    strict = _cli("index", "--corpus", str(mixed_corpus), "--index", index, "--strict", "--rebuild")
    assert strict.exit_code == 1 and "--strict" in strict.stderr


def test_chunks_on_a_folder_with_nothing_readable_fails_and_names_the_files(tmp_path):
    folder = tmp_path / "only-old"
    folder.mkdir()
    (folder / "a.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (folder / "b.wps").write_bytes(b"\xd0\xcf\x11\xe0")
    result = _cli("chunks", str(folder))
    assert result.exit_code == 1
    assert "skipped a.doc: a Word 97-2003 file" in result.stderr and "skipped b.wps" in result.stderr
    assert "no readable file" in result.stderr
    (folder / "c.md").write_text("# 标题\n\n正文一段，说明情况。\n", encoding="utf-8")
    result = _cli("chunks", str(folder))
    assert result.exit_code == 0 and "skipped a.doc" in result.stderr


def test_similar_reads_a_draft_in_word(run, tmp_path):
    assert run("index").exit_code == 0
    import docx

    draft = docx.Document()
    draft.add_paragraph("明年我们将大力推进招商引资，创新招商方式，做好招商项目的跟踪服务。")
    draft.save(tmp_path / "draft.docx")
    result = run("similar", "--file", str(tmp_path / "draft.docx"), "--json")
    assert result.exit_code == 0, result.output
    assert "招商" in json.loads(result.stdout)["results"][0]["text"]
