"""Page chrome: the text a web page or a site's template puts around an article.

Copied pages (``.txt`` pasted from a browser, or what an HTML reader leaves behind) carry
toolbars (``下载 打印 全屏 收藏 【字号：加大 还原 减小】``), breadcrumbs (``您的位置：首页 > …``),
source and editor lines (``来源：…日报``, ``责任编辑：…``), photo captions, related-article
lists, navigation menus, licence notices and ICP registration numbers. None of it is what
the speaker said, so it is removed before titles are looked for, and counted.

Every rule looks at the shape of a line, never at a particular site. Long lines (body text
that happens to mention a source or a website) are left alone, except for toolbar phrases
cut out of them in place.
"""
from __future__ import annotations

import re

CHROME_MAX = 120  # a chrome line is short; longer lines are body text

_TOOL_WORDS = (r"(?:下载|打印|全屏|收藏|分享(?:到)?|纠错|关闭(?:窗口)?|返回(?:顶部|首页)?|字号|字体|"
               r"加大|还原|减小|放大|缩小|默认|大|中|小|扫一扫|微信|微博|QQ空间|QQ|朋友圈|"
               r"收听本文|点击观看视频|打印本页|关闭本页|网站地图|联系我们|关于我们|有奖调查|网站声明|"
               r"隐私政策|帮助中心|意见反馈|手机版|返回|【|】|\[|\]|[：:|｜/×·•]|\s)")
_TOOLBAR = re.compile(rf"^{_TOOL_WORDS}+$")
# Toolbar runs inside a longer line (a page pasted without line breaks).
_INLINE_TOOLBAR = re.compile(r"(?:【?字号[：:]\s*(?:加大|大)\s*(?:还原|中|默认)\s*(?:减小|小)】?"
                             r"|(?:下载|打印|全屏|收藏|分享)(?:\s+(?:下载|打印|全屏|收藏|分享|纠错)){2,})")
_FIELD_LINE = re.compile(
    r"^(?:您(?:现在)?的(?:当前)?位置|当前位置|所在位置|来源|稿源|文章来源|信息来源|编辑|责任编辑|"
    r"责编|发布(?:时间|日期|者)|更新时间|浏览(?:次数|量)?|阅读(?:次数|量)?|"
    r"点击(?:数|量|率)|访问量|字号|分享到|热词|标签|相关(?:报道|新闻|阅读|链接|文章)|"
    r"延伸阅读|推荐阅读|上一篇|下一篇|扫一扫|网站地图|联系我们|关于我们)\s*[：:]")
_RELATED_HEADER = re.compile(r"^(?:相关(?:报道|新闻|阅读|链接|文章)|延伸阅读|推荐阅读|热门推荐|猜你喜欢)\s*[：:]?$")
_SITE_FOOTER = re.compile(r"ICP备|ICP证|公网安备|版权所有|Copyright|©|All Rights Reserved|"
                          r"技术支持[：:]|网站标识码|Public domain", re.I)
_CAPTION = re.compile(r"^(?:[▲△↑]|图为|图[:：\d]|（?图片来源)|(?:记者|通讯员|新华社|摄影)[^。；]{0,30}摄[）)]?$|"
                      r"^[（(][^（）()]{0,30}摄[）)]$")
_FOOTNOTE_MARK = re.compile(r"^(?:↑|\[\s*(?:\d{1,3}|CPC \d+)\s*\]|[\[\]])$")
# "本作品…" opens a wiki's licence box; "本文/本页…版权…" a site's copyright notice.
_LICENCE = re.compile(r"^(?:本作品|此作品)|^(?:本文|本页面?|本站).{0,160}(?:公有领域|著作权|版权|许可协议|授权)")
_LATIN_TOKEN = re.compile(r"^(?:true|false|null|undefined|-->|<!--|\d{1,2}:\d{2}(?:\s*/\s*\d{1,2}:\d{2})?)$", re.I)
_NAV_ITEM_MAX = 10
_NAV_RUN_MIN = 6  # this many short unpunctuated lines in a row are a menu, not a list


def is_chrome_line(line: str) -> bool:
    """Whether one stripped, non-blank line is page chrome on its own."""
    if len(line) > CHROME_MAX:
        return False
    return bool(_TOOLBAR.match(line) or _FIELD_LINE.match(line) or _RELATED_HEADER.match(line)
                or _SITE_FOOTER.search(line) or _CAPTION.search(line) or _FOOTNOTE_MARK.match(line)
                or _LATIN_TOKEN.match(line))


def is_licence(line: str) -> bool:
    """A licence or copyright notice: it opens a page's footer, whatever follows is footer."""
    return bool(_LICENCE.match(line)) or bool(_SITE_FOOTER.search(line) and len(line) <= CHROME_MAX)


def strip_inline_chrome(line: str) -> str:
    """A long line with toolbar phrases cut out (a page pasted without line breaks)."""
    return _INLINE_TOOLBAR.sub("", line).strip() if len(line) > CHROME_MAX else line


def _nav_item(line: str) -> bool:
    return 0 < len(line) <= _NAV_ITEM_MAX and not re.search(r"[。！？；，、,.!?;：:（(]", line) \
        and not re.match(r"^[一二三四五六七八九十\d]", line)


def chrome_flags(lines: list[str]) -> list[bool]:
    """For each line ("" = blank), whether it is chrome: line rules, menus and page footers.

    - a run of >= 6 short unpunctuated lines (blank lines between them allowed) is a menu;
    - after a related-articles header, the short article titles that follow are chrome;
    - a licence or copyright notice in the last quarter of the text starts the page footer.
    """
    flags = [bool(line) and is_chrome_line(line) for line in lines]
    _flag_menus(lines, flags)
    _flag_related_lists(lines, flags)
    total = sum(len(line) for line in lines)
    seen = 0
    for i, line in enumerate(lines):
        seen += len(line)
        # The footer sits in the last quarter of the text (counted in characters).
        if line and seen >= total * 0.75 and is_licence(line):
            for j in range(i, len(lines)):
                flags[j] = bool(lines[j])
            break
    return flags


def _flag_menus(lines: list[str], flags: list[bool]) -> None:
    run: list[int] = []
    for i, line in enumerate(lines + ["。"]):
        if not line:
            continue
        if _nav_item(line) or (i < len(lines) and flags[i]):
            run.append(i)
            continue
        if sum(1 for j in run if not flags[j]) >= _NAV_RUN_MIN:
            for j in run:
                flags[j] = True
        run = []


def _flag_related_lists(lines: list[str], flags: list[bool]) -> None:
    inside = False
    for i, line in enumerate(lines):
        if not line:
            continue
        if _RELATED_HEADER.match(line):
            inside = True
        elif inside and len(line) <= 60 and not re.search(r"[。！？；]$", line):
            flags[i] = True
        else:
            inside = False
