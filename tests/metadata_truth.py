"""Expected speech metadata, decided by hand from the text (None where the text does not say).

Shared by tests/test_metadata.py and scripts/eval_metadata.py. Rules used when deciding:
- speaker/role only as the title or title block states them; an organisation that speaks as
  such (县统计局) is the role, with no speaker;
- role without the anonymised place (XX省… → 省…) and without 中共 (中共XX县委书记 → 县委书记);
- level from the role, else from the meeting (全区…, 县委…), else None; 州 → 市;
- meeting without anonymised years (20XX年全县… → 全县…); date only where a real date is
  written (20XX年 is unknown).
"""

# (source, speech index) → (speaker, role, level, meeting, date)
BUNDLED = {
    ("000_fcda3296baa12e59.txt", 0): (None, None, None, None, None),
    ("001_92cf6fb917628260.txt", 0): ("宋国权", "省人大常委会党组副书记、副主任", "省",
                                      "省人大财经委上半年经济形势通报会", None),
    ("001_92cf6fb917628260.txt", 1): ("黄峥嵘", "市人民政府党组成员、副市长", "市", "市委经济工作会议", None),
    ("001_92cf6fb917628260.txt", 2): (None, "县统计局", "县", "全市经济运行分析调度会", None),
    ("001_92cf6fb917628260.txt", 3): ("伏玉琼", None, None, "上半年目标推进暨经济形势分析会", None),
    ("001_92cf6fb917628260.txt", 4): ("何良军", "市长", "市", "全市经济运行月度分析会", None),
    ("001_92cf6fb917628260.txt", 5): ("何良军", "市长", "市", "全市前三季度经济运行分析会", None),
    ("001_92cf6fb917628260.txt", 6): ("艾方毅", "县委书记", "县", "县委经济工作会议", None),
    ("001_92cf6fb917628260.txt", 7): ("陈坚", "区人大常委会主任", "区", "全区第三季度经济社会形势分析会", None),
    ("001_92cf6fb917628260.txt", 8): ("张庆国", "区委副书记、区长", "区", "全区经济运行分析会", None),
    ("001_92cf6fb917628260.txt", 9): ("陆广平", "区长", "区", "城区一季度经济运行分析会", None),
    ("001_92cf6fb917628260.txt", 10): ("陆广平", "区长", "区",
                                       "第二季度经济运行分析暨冲刺“双过半”工作会议", None),
    ("001_92cf6fb917628260.txt", 11): ("欧阳坚", "省政协主席", "省", "省政协经济形势分析协商会", None),
    ("001_92cf6fb917628260.txt", 12): ("漆文忠", "市委常委、常务副市长", "市", "1至11月经济形势分析调度会", None),
    ("001_92cf6fb917628260.txt", 13): ("王毅", "市委常委、常务副市长", "市", "全市上半年经济形势分析会议", None),
    ("001_92cf6fb917628260.txt", 14): ("孙飏", "市委常委、市政府副市长", "市",
                                       "全市夺取首季“开门红”和第四次全国经济普查工作推进会议", None),
    ("001_92cf6fb917628260.txt", 15): ("王方太", "市委副书记、代市长", "市",
                                       "全市前三季度经济形势分析暨四季度经济工作调度会", None),
    ("001_92cf6fb917628260.txt", 16): ("丁巨胜", "市委副书记、市长", "市",
                                       "市政府第73次常务会议暨一季度经济形势分析会议", None),
    ("001_92cf6fb917628260.txt", 17): ("丁巨胜", "市委副书记、市长", "市", "一季度经济形势分析会", None),
    ("001_92cf6fb917628260.txt", 18): ("林小明", "市委副书记、市长", "市",
                                       "全市经济工作暨招商引资项目建设工作会议", None),
    ("001_92cf6fb917628260.txt", 19): ("刘凯", "市委副书记、市长", "市", "经济运行调度暨重点工作推进会",
                                       "2022-07-02"),
    ("001_92cf6fb917628260.txt", 20): ("汪尚学", "市委副书记、市长", "市", "全市稳经济稳增长大会",
                                       "2022-06-10"),
    ("001_92cf6fb917628260.txt", 21): (None, "市委副书记、市长", "市", "市委一季度经济运行分析会", None),
    ("001_92cf6fb917628260.txt", 22): ("吴海涛", "市委书记、市长", "市",
                                       "全市一季度经济运行调度暨优化营商环境专题部署会", None),
    ("001_92cf6fb917628260.txt", 23): ("石迎军", "市长", "市", "市政府常务会议", None),
    ("001_92cf6fb917628260.txt", 24): ("孙正东", "市长", "市", "全市经济形势分析会", None),
    ("001_92cf6fb917628260.txt", 25): ("张建慧", "市长", "市", "全市经济运行分析会议", None),
    ("001_92cf6fb917628260.txt", 26): (None, "县工业和信息化局领导", "县", "全县经济运行专题会议", None),
    ("001_92cf6fb917628260.txt", 27): ("邓志聪", "县委副书记、县长", "县", "全县前三季度经济形势分析会", None),
    ("001_92cf6fb917628260.txt", 28): ("冯军", "县委副书记、县政府县长", "县",
                                       "县政府全体会议暨1—4月份经济形势分析会议", None),
    ("001_92cf6fb917628260.txt", 29): ("谢占武", "县委书记", "县",
                                       "全县一季度经济高质量发展暨经济“开门红”分析调度会议", None),
    ("001_92cf6fb917628260.txt", 30): ("张春华", "县长", "县", "县委一季度经济形势分析暨项目工作推进会", None),
    ("001_92cf6fb917628260.txt", 31): ("赵甲宏", "县长", "县", "全县一季度经济运行分析会", None),
    ("001_92cf6fb917628260.txt", 32): (None, None, None, "经济工作会议", None),
    ("001_92cf6fb917628260.txt", 33): (None, None, "区", "全区第三季度经济运行分析会暨重大项目调度会", None),
    ("001_92cf6fb917628260.txt", 34): (None, None, "县", "全县前三季度经济形势分析会议", None),
    ("001_92cf6fb917628260.txt", 35): ("张春华", "县长", "县", "县委一季度经济形势分析会议", None),
    ("001_92cf6fb917628260.txt", 36): ("赵文峭", None, "市", "全市上半年工业经济运行分析会", None),
    ("001_92cf6fb917628260.txt", 37): ("龙晓华", "州委副书记、州人民政府党组书记、州长", "市",
                                       "州委经济形势分析调度会", None),
    # Single-speech files: no title line; only 003 states anything (its meeting is 全区…).
    ("002_6c3e1b456d51acac.txt", 0): (None, None, None, None, None),
    ("003_a4dd9689482457e2.txt", 0): (None, None, "区", "全区重点项目建设推进会", None),
    ("004_d308ad772985fa49.txt", 0): (None, None, None, None, None),
}

# ../shared/real-docs/wikisource/: file name → (speaker, year). A report is "dated" when its
# file name or title block carries a year; the congress reports named only by 十六大 etc. are
# not (their year would have to come from outside the text).
WIKISOURCE = {
    "2018年中华人民共和国国务院政府工作报告.txt": (None, 2018),
    "2019年中华人民共和国国务院政府工作报告.txt": (None, 2019),
    "2021年中华人民共和国国务院政府工作报告.txt": ("李克强", 2021),
    "2022年中华人民共和国国务院政府工作报告.txt": ("李克强", 2022),
    "2023年中华人民共和国国务院政府工作报告.txt": ("李克强", 2023),
    "2024年中华人民共和国国务院政府工作报告.txt": ("李强", 2024),
    "2025年中华人民共和国国务院政府工作报告.txt": (None, 2025),
    "全面建设小康社会，开创中国特色社会主义事业新局面 (十六大).txt": (None, None),
    "全面开创社会主义现代化建设的新局面 (十二大).txt": (None, None),
    "决胜全面建成小康社会 夺取新时代中国特色社会主义伟大胜利 (十九大).txt": ("习近平", 2017),
    "加快改革开放和现代化建设步伐 (十四大).txt": (None, None),
    "北京共产主义组织的报告 (一大).txt": (None, None),
    "在中国共产党第九次全国代表大会上的报告.txt": (None, None),
    "在中国共产党第十一次全国代表大会上的政治报告.txt": (None, None),
    "在中国共产党第十次全国代表大会上的报告.txt": (None, None),
    "坚定不移沿着中国特色社会主义道路前进 为全面建成小康社会而奋斗 (十八大).txt": (None, None),
    "廣州共產黨報告 (一大).txt": (None, None),
    "沿着有中国特色的社会主义道路前进 (十三大).txt": (None, None),
    "陈独秀在中国共产党第三次全国代表大会上的报告.txt": ("陈独秀", None),
    "高举中国特色社会主义伟大旗帜 为全面建设社会主义现代化国家而团结奋斗 (二十大).txt": ("习近平", 2022),
    "高举中国特色社会主义伟大旗帜，为夺取全面建设小康社会新胜利而奋斗 (十七大).txt": (None, None),
    "高举邓小平理论伟大旗帜，把建设有中国特色社会主义事业全面推向二十一世纪 (十五大).txt": (None, None),
}


def speech_metadata(speech, properties=None):
    """Extract as the indexer will: the title, the title block's other lines (speech.preamble:
    subtitle, date and speaker lines) and the first 1–3 paragraphs."""
    from searchkit.metadata import extract_metadata

    preamble = tuple(getattr(speech, "preamble", ())) + tuple(speech.paragraphs[:3])
    return extract_metadata(speech.title, preamble, speech.source, properties or {})

# ../shared/real-docs/html/ (12371.cn pages): file → (speaker, meeting) from the page's <title>
# without the site name. A visit (在湖北考察时强调) or a headline is no meeting.
HTML = {
    "ARTI1523660364597311.shtml": ("习近平", "庆祝海南建省办经济特区30周年大会"),
    "ARTI1523969688926689.shtml": ("习近平", "十九届中央国家安全委员会第一次会议"),
    "ARTI1524308478404633.shtml": ("习近平", None),  # 习近平：自主创新推进网络强国建设
    "ARTI1524920070607721.shtml": ("习近平", None),  # 习近平在湖北考察时强调 …
    "ARTI1525424759799964.shtml": ("习近平", "纪念马克思诞辰200周年大会"),
    "ARTI1526384108228186.shtml": ("习近平", "中央外事工作委员会第一次会议"),  # 主持召开
    "ARTI1526735275136639.shtml": ("习近平", None),
    "ARTI1527511342851253.shtml": ("习近平", "中国科学院第十九次院士大会、中国工程院第十四次院士大会"),
    "ARTI1528611755888331.shtml": ("习近平", "上海合作组织成员国元首理事会第十八次会议"),
    "ARTI1529017893424689.shtml": ("习近平", None),  # 在山东考察时强调
    "ARTI1529759038219530.shtml": ("习近平", "中央外事工作会议"),
    "ARTI1530710355709253.shtml": ("习近平", None),
    "ARTI1530921962808806.shtml": ("习近平", None),
    "ARTI1531210393286998.shtml": ("习近平", "中阿合作论坛第八届部长级会议开幕式"),
    "ARTI1532387237013836.shtml": ("习近平", None),  # 对…作出重要指示
    "ARTI1532559534919406.shtml": ("习近平", "金砖国家工商论坛"),
    "ARTI1534673773675119.shtml": ("习近平", "中央军委党的建设会议"),
    "ARTI1534941552922268.shtml": ("习近平", None),
    "ARTI1535097605919895.shtml": ("习近平", None),
    "ARTI1535363686207594.shtml": ("习近平", None),
}


def html_titles(folder):
    """file → the page's <title> without its site name (`…_共产党员网`)."""
    import html
    import re

    def title(path):
        m = re.search(r"<title>(.*?)</title>", path.read_text("utf-8", "replace"), re.S)
        return html.unescape(m.group(1)).strip().rsplit("_", 1)[0]

    return {path.name: title(path) for path in sorted(folder.glob("*.shtml"))}
