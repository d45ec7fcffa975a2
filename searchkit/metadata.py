"""Who spoke, when, where, at which meeting: metadata of one speech, read from its text.

`extract_metadata` reads what real documents carry, most trusted first:

1. the title: `市委副书记、市长林小明在全市经济工作暨招商引资项目建设工作会议上的讲话`,
   `何良军市长在…会上的讲话`, `在…会议上的讲话`, `<主标题>——<who>在…上的讲话`;
2. the lines of the title block (preamble): subtitles `——1991年3月26日在…会议上`, date lines
   `（2022年7月2日）`, speaker lines `国务院总理周恩来`, `市长 王某某`, `国务院总理` + `李克强`;
3. the file name and folders (`2026_四川省_政府工作报告.txt`, `2023/县政府/…`);
4. .docx core properties (`author`, `created`), the least trusted: templates carry stale ones.

Anonymised values (`20XX年`, `*`, `**`, `XX`, `某`) are unknown (None), never guessed.
A user's sidecar (`searchkit/sidecar.py`) overrides all of this.

Level rules (`level_of_role`, `level_of_place`, `level_of_meeting`), in order of trust:
- a place named in the role or title decides: 省/自治区/特别行政区 and the four 直辖市
  (北京市, 天津市, 上海市, 重庆市: provincial level by the constitution) → 省; other 市, and
  州/自治州/盟/地区 (prefecture level) → 市; 县/自治县/旗 → 县; 区 → 区; 乡/镇/街道 → 乡镇;
- else the first administrative word of the role: 国务院/全国/中央/国家 → 国家, 省/自治区 → 省,
  市/州/盟 → 市, 县/旗 → 县, 区 → 区, 乡/镇/街道/社区 → 乡镇 (so 市委书记 → 市, 省委书记 → 省,
  县委书记 → 县, 区长 → 区, 州长 → 市); posts that exist only nationally (总理, 国务委员,
  总书记, 委员长) → 国家;
- else the meeting: `全市…`, `县委…会`, `市政府常务会议`, `…全国人民代表大会…`;
- else national or `全X` words in the title; else a place or organ in the file name or folders.
A 县级市 cannot be told from a 地级市 by its name; both come out as 市.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Iterable, Mapping, Sequence

LEVELS = ("国家", "省", "市", "县", "区", "乡镇")
CONTRACT_FIELDS = ("title", "speaker", "role", "level", "place", "meeting", "date", "tags")


@dataclass(frozen=True)
class SpeechMetadata:
    """Metadata of one speech. `date` is "YYYY", "YYYY-MM" or "YYYY-MM-DD"; None = unknown."""

    title: str | None = None
    speaker: str | None = None
    role: str | None = None
    level: str | None = None
    place: str | None = None
    meeting: str | None = None
    date: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""  # path of the file relative to the corpus root, "/"-separated
    folder: str = ""  # the source's folder ("" at the corpus root)

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None

    def to_json(self) -> dict:
        """The `speech` object of the JSON contract (names never change; absent values null)."""
        return {"title": self.title, "speaker": self.speaker, "role": self.role,
                "level": self.level, "place": self.place, "meeting": self.meeting,
                "date": self.date, "tags": list(self.tags)}

    def replace(self, **changes) -> SpeechMetadata:
        return replace(self, **changes)


# --------------------------------------------------------------------------- text basics

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
# Marks that anonymised corpora put in place of names, places and numbers.
# An X that is part of a Latin word (XR, Excel) is not one.
_ANON_MARK = re.compile(r"(?<![A-Za-z])[XxＸｘ]+(?![A-Za-z])|[*＊×□]|某")
_DASHES = re.compile(r"[—－-]{2,}|^[—－-]")  # a subtitle separator; a single 一—4 dash is not
# A greeting or a numbered heading ends the title block; what follows is the speech itself.
_BODY_START = re.compile(r"^(?:[^，。]{0,12}[:：]$"            # 同志们：
                         r"|[一二三四五六七八九十]+[、.．]"       # 一、
                         r"|[(（][一二三四五六七八九十]+[)）])")  # （一）


def normalise(text: str) -> str:
    """NFKC (full-width digits, brackets, letters → plain) and no spaces between Han characters.

    Titles and speaker lines are often typeset with spaces: `习　近　平`, `市长 王某某`.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    return re.sub(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])", "", text)


def is_anonymised(value: str | None) -> bool:
    return bool(value and _ANON_MARK.search(value))


# --------------------------------------------------------------------------- dates

# 2022年7月2日, 2022年7月, 2022年 (spaces tolerated); a year of 19xx or 20xx only.
_DIGIT_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年(?:\s*(?P<m>\d{1,2})\s*月"
                         r"(?:\s*(?P<d>\d{1,2})\s*[日号])?)?")
# 一九九一年三月二十六日, 二〇二三年: four digit-by-digit numerals, then month and day words.
_CN_DIGITS = "〇零○Ｏ一二三四五六七八九"
_CN_DATE = re.compile(rf"(?P<y>[{_CN_DIGITS}]{{4}})年(?:(?P<m>[一二三四五六七八九十]{{1,3}})月"
                      r"(?:(?P<d>[一二三四五六七八九十]{1,3})[日号])?)?")
# An anonymised year (20XX年, XX年度): unknown; removed from meeting names.
_ANON_YEAR = re.compile(r"(?:19|20)?[XxＸｘ*＊]{1,4}\s*年度?")


def format_date(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """"YYYY", "YYYY-MM" or "YYYY-MM-DD"; None when the parts do not make a calendar date."""
    import datetime

    if not 1000 <= year <= 2999:
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def _cn_number(text: str) -> int:
    # cn2an takes ~0.3 s to import: only dates written in Chinese numerals pay for it.
    import cn2an

    text = re.sub("[零○Ｏ]", "〇", text)
    return int(cn2an.cn2an(text, "smart"))


def find_date(text: str) -> str | None:
    """The first complete date in `text` (Arabic or Chinese numerals), or None."""
    for pattern, number in ((_DIGIT_DATE, int), (_CN_DATE, _cn_number)):
        m = pattern.search(text)
        if m:
            month = number(m["m"]) if m["m"] else None
            day = number(m["d"]) if m["d"] else None
            return format_date(number(m["y"]), month, day if month else None)
    return None


def _strip_dates(text: str) -> str:
    for pattern in (_DIGIT_DATE, _CN_DATE, _ANON_YEAR):
        text = pattern.sub("", text)
    return text


# --------------------------------------------------------------------------- places and levels

_UNITS = "特别行政区|自治区|自治州|自治县|地区|新区|街道|省|市|州|盟|县|旗|区|乡|镇"
# Two to nine characters of a place name: never an organ or role word, never 全/本/我 (全市 is
# "the whole city", not a place), never a number word, never a bare unit (自治州 is no name).
_PLACE_NAME = rf"(?!自治)(?:(?![委会副代党在的年季度届次第、，全本我各该])[{_HAN}]){{2,9}}?"
_PLACE = re.compile(rf"(?P<place>{_PLACE_NAME}(?:{_UNITS}))")
# What may follow a place inside a role: an organ (委, 人民政府, 人大, 政协, 党…), a post (长,
# 副…, 代…, 常务…), another unit (北京市市长) or a bureau.
_AFTER_PLACE_IN_ROLE = re.compile(
    rf"^(?:[委长人政党纪副代常]|{_UNITS}|[{_HAN}]*?(?:局|厅|办|部|院|会|所|中心))")
_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")  # 直辖市: provincial level

_LEVEL_WORDS = [  # (pattern, level); the leftmost match in a role decides
    (r"国务院|全国|中央|国家", "国家"),
    (r"特别行政区|自治区|省", "省"),
    (r"社区|街道|(?<!城)乡|(?<!城)镇", "乡镇"),  # 城乡建设局, 城镇 are not townships
    (r"自治州|州|盟|地区|市(?!场)", "市"),  # 市场监管局 is a market, not a city
    (r"自治县|县|旗", "县"),
    (r"区", "区"),
]
_LEVEL_WORD = re.compile("|".join(f"(?P<L{i}>{p})" for i, (p, _) in enumerate(_LEVEL_WORDS)))
_NATIONAL_POSTS = re.compile(r"总理|国务委员|总书记|委员长|国家主席")


def level_of_place(place: str | None) -> str | None:
    if not place:
        return None
    if place in _MUNICIPALITIES:
        return "省"
    for units, level in (("特别行政区|自治区|省", "省"), ("自治州|州|盟|地区", "市"),
                         ("自治县|县|旗", "县"), ("新区|区", "区"), ("街道|乡|镇", "乡镇"),
                         ("市", "市")):
        if re.search(f"(?:{units})$", place):
            return level
    return None


def level_of_role(role: str | None) -> str | None:
    """The level of the first administrative word of a role (市委副书记、市长 → 市)."""
    if not role:
        return None
    m = _LEVEL_WORD.search(role)
    if m and m.lastgroup:  # every alternative is a named group, so a match names one
        return _LEVEL_WORDS[int(m.lastgroup[1:])][1]
    return "国家" if _NATIONAL_POSTS.search(role) else None


# A meeting of "the whole X" (全市…), of X's organs (县委…, 市政府常务会议) or a national congress.
_MEETING_LEVEL = re.compile(r"全国|全(?P<whole>[省市州盟县旗区乡镇])|^(?P<organ>[省市州县区乡镇])"
                            r"(?:委|政府|人民政府|人大|政协|党委|纪委)")


def level_of_meeting(text: str | None) -> str | None:
    if not text:
        return None
    m = _MEETING_LEVEL.search(text)
    if not m:
        return None
    return level_of_role(m["whole"] or m["organ"]) if (m["whole"] or m["organ"]) else "国家"


def split_place(role: str) -> tuple[str | None, str]:
    """`成都市委书记` → ("成都市", "市委书记"); `四川省省长` → ("四川省", "省长")."""
    m = _PLACE.match(role)
    if not m:
        return None, role
    rest = role[m.end():]
    if not rest or not _AFTER_PLACE_IN_ROLE.match(rest):
        return None, role
    unit_match = re.search(f"(?:{_UNITS})$", m["place"])
    assert unit_match is not None  # _PLACE ends in a unit
    unit = unit_match.group(0)
    return m["place"], rest if rest.startswith(unit[-1]) else unit + rest


# --------------------------------------------------------------------------- who spoke

# A post ends a role: 市长, 县长, 书记, 主任, 主席, 委员, 常委, 总理, 成员, 领导…
_POST = r"(?:长|书记|主任|主席|委员|常委|总理|成员|领导|负责人|政委|司令员|专员|巡视员|调研员|秘书)"
# An organisation speaking as such: 县统计局, 市发改委, 区政府办.
_ORGAN = r"(?:局|厅|委|办|部|院|所|中心|政府|办公室|公司|集团)"
# A name before its post: 何良军市长, 刘有明书记, 张春华县长.
_NAME_THEN_POST = re.compile(rf"(?P<name>[{_HAN}·]{{2,3}}?)(?P<role>(?:常务)?[副代]?"
                             rf"(?:[省市州县区乡镇]长|总理|书记|主席|主任|部长|局长|厅长))")
# The name may be anonymised (市长王某某, 市长**): the role is still worth keeping.
_ROLE_THEN_NAME = re.compile(rf"(?P<role>.*{_POST})(?P<name>[{_HAN}·XxＸｘ*＊×□]{{1,4}})")
# A post, or an organ of some level (县统计局, 市发改委): 法治政府 alone is a slogan's end.
_ROLE_ONLY = re.compile(rf".+{_POST}|(?:[省市州县区乡镇]|国务院|国家|中央).*{_ORGAN}")
# Words that look like a name by length but are not one.
_NOT_A_NAME = re.compile(rf"{_POST}$|{_ORGAN}$|[会委、，]"
                         r"|^(?:同志|领导|大家|各位|讲话|报告|发言|致辞)"
                         r"|^(?:时间|日期|地点|来源|作者|发布|主题|标题|"
                        r"会议|单位|附件|编者|导读|记者|编辑|责任)")
_SPEAKER_LABEL = re.compile(r"^(?:主讲人|讲话人|发言人|报告人|主讲|讲话|报告)[:：]")
# Anonymised place before its unit: XX省人大 → 省人大 (the unit still tells the level).
_ANON_PLACE = re.compile(rf"[XxＸｘ*＊×□]+(?=(?:{_UNITS}))")


@dataclass(frozen=True)
class Who:
    speaker: str | None = None
    role: str | None = None
    place: str | None = None


# Common Chinese surnames (the Hundred Family Surnames' frequent ones, simplified and
# traditional). A name standing alone (a title block's `习近平`, a news title's `李强：…`, a
# .docx author) must start with one, so that 2–3 characters of a slogan are not taken for it;
# a name next to a post (市长林小明) or marked 同志 needs no such check.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲"
    "房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟"
    "应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀"
    "郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴"
    "丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富"
    "尧闭由习洪续蔚訾甯寿释占郗扬蓬铁代竺邴"
    "陳劉張楊黃趙吳周許韓馮鄧蕭葉蘇呂盧薑鐘譚陸範賈夏韋鄒熊邱閆段雷賀顧龔萬錢嚴覃戴莫溫"
    "顏龐聶魯嶽關蘭焦俞紀畢單裴塗駱藍喻饒靳羅鄭謝")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                      "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门")


def _looks_like_name(name: str) -> bool:
    return name[0] in _SURNAMES or name.startswith(_COMPOUND_SURNAMES)


def _valid_name(name: str | None, longest: int = 4) -> str | None:
    if not name or is_anonymised(name) or not 2 <= len(name) <= longest:
        return None
    return None if _NOT_A_NAME.search(name) else name


def parse_who(text: str) -> Who | None:
    """Role and name from `市委副书记、市长林小明`, `何良军市长`, `宋国权同志`, `县统计局`.

    None when the text is not a speaker at all (a slogan, a heading).
    """
    text = _ANON_PLACE.sub("", normalise(text)).strip("　 ,，:：()（）")
    text = re.sub(r"^中共(?!中央)", "", text)  # 中共XX县委书记: the party is already in 县委
    # Labels and colons between a role and a name: 主讲人：张三, 县委书记：张三.
    text = _SPEAKER_LABEL.sub("", text)
    text = re.sub(r"[:：]", "", text)
    had_tongzhi = text.endswith("同志")
    text = text.removesuffix("同志")
    if len(text) < 2 or len(text) > 60 or re.search(r"[，。；！？]", text):
        return None
    place, rest = split_place(text)
    m = _ROLE_THEN_NAME.fullmatch(rest)
    if m and is_anonymised(m["name"]):
        return _who(None, m["role"], place)
    if m and _valid_name(m["name"]):
        return _who(m["name"], m["role"], place)
    m = _NAME_THEN_POST.fullmatch(text)
    if m and _valid_name(m["name"], 3):
        return _who(m["name"], m["role"], None)
    if _ROLE_ONLY.fullmatch(rest) or (place and re.fullmatch(f".*{_ORGAN}", rest)):
        return _who(None, rest, place)
    # A bare name: 2–3 characters (4 only when marked 同志: 欧阳xx), no post, no organ, and a
    # surname unless marked 同志.
    name = _valid_name(text, 4 if had_tongzhi else 3)
    if name and (had_tongzhi or _looks_like_name(name)):
        return Who(speaker=name)
    return None


def _who(name: str | None, role: str | None, place: str | None) -> Who:
    role = role.strip("、，, ") or None if role else None
    if role and is_anonymised(role):
        role = _ANON_MARK.sub("", role) or None
    name = None if is_anonymised(name) else name
    if place and is_anonymised(place):
        place = None
    return Who(speaker=name, role=role, place=place)


# --------------------------------------------------------------------------- titles and subtitles

# What a speech's title says it is, after the meeting: 上的讲话, 上关于经济运行分析的讲话, 的报告…
_KIND = (r"(?:关于.{1,30}?)?的?(?:重要|主题|总结|动员|主持|开幕|闭幕|书面|工作|政治)?"
         r"(?:讲话|发言|报告|致辞|讲评|点评|演讲|汇报|部署)(?:稿|提纲|摘要|要点)?")
# News titles of speeches: 习近平在…会议上强调 <headline>.
_REPORTED = r"(?:强调|指出|表示|要求|提出|宣布|发表).*"
_KIND_TAIL = re.compile(f"{_KIND}|{_REPORTED}")
# News titles that open with the speaker: 习近平：<headline>, 习近平主持召开…,
# 习近平对…作出重要指示.
_NEWS_LEAD = re.compile(r"(?P<who>[^:]{2,30}?)(?::|主持召开|主持|出席|会见|致信|致电|对.+作出)")
# Notes after a title: （全文）, （摘要）.
_TITLE_NOTE = re.compile(r"\((?:全文|摘要|节选|要点|提纲|讲话稿|发言稿|定稿|初稿|修改稿)\)$")
# "在…会讲话" without 上: the meeting must end as a meeting does.
_MEETING_THEN_KIND = re.compile(rf"(?P<meeting>.+?(?:会|会议|大会|全会|论坛))(?:{_KIND})")


@dataclass(frozen=True)
class Heading:
    """What one title, subtitle or preamble line says."""

    who: Who | None = None
    meeting: str | None = None
    date: str | None = None


def clean_meeting(meeting: str) -> str | None:
    """The meeting's name without anonymised years (20XX年全县… → 全县…); None if nothing
    is left."""
    meeting = _ANON_YEAR.sub("", meeting).strip("　 ,，、“”\"")
    if not meeting or is_anonymised(meeting) or len(meeting) > 80:
        return None
    return meeting


def _parse_at_meeting(part: str) -> Heading | None:
    """`<who>在<meeting>上<kind>` or `<date>在<meeting>上<who>`; None if the part is neither."""
    for at in (m.start() for m in re.finditer("在", part)):
        head, after = part[:at], part[at + 1:]
        for end in (m.start() for m in re.finditer("上", after)):
            meeting, rest = after[:end], after[end + 1:]
            if not meeting:
                continue
            if not rest or _KIND_TAIL.fullmatch(rest):
                return _heading(head, meeting)
            # 在…会议上国务院总理李克强 (lines joined by PDF damage), 在…上的讲话 张三
            kind = re.match(_KIND, rest)
            who_after = parse_who(rest[kind.end():] if kind else rest)
            if who_after and (who_after.role or kind):
                return Heading(who_after, clean_meeting(meeting), find_date(head))
        m = _MEETING_THEN_KIND.fullmatch(after)
        if m:
            return _heading(head, m["meeting"])
        m = re.fullmatch(f".+?时{_REPORTED}", after)  # 习近平在湖北考察时强调: a visit, no meeting
        if m and parse_who(head):
            return Heading(parse_who(head), None, None)
    return None


def _heading(head: str, meeting: str) -> Heading:
    date = find_date(head) or find_date(meeting)
    who_text = _strip_dates(head).strip("　 —-－()（）于")
    who = parse_who(who_text) if who_text else None
    return Heading(who, clean_meeting(meeting), date)


_LONGEST_HEADING = 160  # longer "titles" are prose; parsing them would cost O(n²) for nothing


def parse_heading(line: str) -> Heading:
    """Everything one title or title-block line states (its parts split at ——)."""
    line = normalise(line)
    if len(line) > _LONGEST_HEADING:
        return Heading()
    who = meeting = date = None
    lead = _NEWS_LEAD.match(line)
    if lead:
        lead_who = parse_who(lead["who"])
        if lead_who and lead_who.speaker:
            who, rest = lead_who, line[lead.end():]
            if line[lead.end() - 1] == ":":
                line = rest
            elif re.search("(?:会|会议|大会|全会|论坛)$", rest) and "召开" in lead.group(0) \
                    or lead.group(0).endswith("出席"):
                meeting = clean_meeting(rest)  # 主持召开中央外事工作委员会第一次会议
    for part in (p for p in _DASHES.split(line) if p.strip()):
        part = _TITLE_NOTE.sub("", part.strip())
        dated = re.fullmatch(r"(?P<part>.+?)\((?P<date>[^()]{4,24})\)", part)
        if dated and find_date(dated["date"]):  # …上的讲话（2023年1月5日）
            date = date or find_date(dated["date"])
            part = dated["part"]
        found = _parse_at_meeting(part)
        if found is None:
            # `<who>重要讲话——在…上`: the part before the dash names the speaker.
            # Only a post (县工业和信息化局领导) or 某某同志: 政府工作报告 and 年度报告 are not
            # anyone's name.
            m = re.fullmatch(rf"(?P<who>.+?)(?:{_KIND})", part)
            who_part = parse_who(m["who"]) if m else None
            if m and who_part and (re.search(f"{_POST}$", who_part.role or "")
                                   or m["who"].endswith("同志")):
                found = Heading(who_part)
        if found is None and _DATE_LINE.fullmatch(part):
            found = Heading(date=find_date(part))
        if found is not None:
            who = who or found.who
            meeting = meeting or found.meeting
            date = date or found.date
    return Heading(who, meeting, date)


# A line that is only a date, perhaps with a place or a note: （2022年7月2日）, 一九九一年三月
# 二十六日, 2022年7月2日于北京, （2023年1月5日，根据录音整理）.
_DATE_LINE = re.compile(rf"[(\[]?(?:{_DIGIT_DATE.pattern}|{_CN_DATE.pattern})"
                        rf"(?:[于在,，、].{{1,20}})?[)\]]?"
                        .replace("(?P<y>", "(?:").replace("(?P<m>", "(?:").replace("(?P<d>", "(?:"))


def _title_block(lines: Iterable[str]) -> list[str]:
    """The lines before the speech itself starts (a greeting, a heading or prose)."""
    block = []
    for line in lines:
        line = normalise(line)
        if not line:
            continue
        if _BODY_START.match(line) or len(line) > 80:
            break
        block.append(line)
    return block


def _read_block(lines: list[str]) -> Heading:
    """Speaker, meeting and date from the title block: subtitles, date lines, speaker lines.

    A bare name (`习近平`, `李强`) counts only right after a date, subtitle or role line,
    where a title block puts the speaker; elsewhere two or three characters mean nothing.
    """
    who = meeting = date = None
    pending_role = None
    after_header = False
    for line in lines:
        found = parse_heading(line)
        if found == Heading():
            found = Heading(parse_who(line))  # a speaker line: 国务院总理周恩来, 李强
        date, meeting = date or found.date, meeting or found.meeting
        if found.who and found.who.role and not found.who.speaker and who is None:
            pending_role = found.who  # 国务院总理 / 李克强 on two lines
        elif found.who and found.who.speaker and (found.who.role or found.meeting or after_header
                                                  or _SPEAKER_LABEL.match(line)):
            if who is None:
                w = found.who
                who = Who(w.speaker, w.role or (pending_role.role if pending_role else None),
                          w.place or (pending_role.place if pending_role else None))
        after_header = bool(found.date or found.meeting or pending_role)
    return Heading(who or pending_role, meeting, date)


# --------------------------------------------------------------------------- file names, folders

_YEAR_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?:19|20)\d{2}(?![0-9A-Za-z])")
_ISO_DATE = re.compile(r"(?<![0-9A-Za-z])((?:19|20)\d{2})([-.]?)(\d{2})\2(\d{2})(?![0-9A-Za-z])")
_TOKEN_SPLIT = re.compile(r"[_\s·.,，、()（）\[\]【】《》-]+")
# A folder named after an organ says its level: 县政府, 市委办, 区人大.
_ORGAN_FOLDER = re.compile(r"^(?P<unit>[省市州县区乡镇])(?:委|政府|人民政府|人大|政协|党委|纪委)")


def _path_date(text: str) -> str | None:
    m = _ISO_DATE.search(text)
    if m:
        found = format_date(int(m[1]), int(m[3]), int(m[4]))
        if found:
            return found
    m = _DIGIT_DATE.search(text)
    if m:
        return format_date(int(m["y"]), int(m["m"]) if m["m"] else None,
                           int(m["d"]) if m["d"] and m["m"] else None)
    m = _YEAR_TOKEN.search(text)
    return format_date(int(m.group(0))) if m else None


def _path_facts(source: str) -> tuple[str | None, str | None, str | None]:
    """(date, place, level) from the file name, else from the folders, innermost first."""
    path = PurePosixPath(source)
    date = place = level = None
    for name in [path.stem, *reversed(path.parent.parts)]:
        name = normalise(name)
        date = date or _path_date(name)
        for token in _TOKEN_SPLIT.split(name):
            token = _DIGIT_DATE.sub("", token)
            if not place and not is_anonymised(token) and _PLACE.fullmatch(token):
                place = token
            organ = _ORGAN_FOLDER.match(token)
            if not level and organ:
                level = level_of_role(organ["unit"])
    return date, place, level or level_of_place(place) or _title_level(normalise(path.stem))


# --------------------------------------------------------------------------- .docx properties

# Authors that Office installs write, not people: 微软用户, Administrator, 雨林木风…
_NOT_AN_AUTHOR = re.compile(
    r"用户|微软|中国|公司|电脑|系统|技术|花园|木风|之家|办公|管理员|作者|单位")


def _property_facts(properties: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(speaker, year) candidates from .docx core properties; `created` gives only the year,
    since a file is made days or years away from the speech (templates)."""
    author = normalise(str(properties.get("author") or ""))
    speaker = None
    if re.fullmatch(rf"[{_HAN}]{{2,3}}", author) and not _NOT_AN_AUTHOR.search(author):
        speaker = _valid_name(author, 3) if _looks_like_name(author) else None
    m = _YEAR_TOKEN.match(str(properties.get("created") or "").strip())
    return speaker, format_date(int(m.group(0))) if m else None


# --------------------------------------------------------------------------- extraction


def _title_place(title: str) -> str | None:
    """A place opening a title: 四川省政府工作报告, 成都市2023年…"""
    m = _PLACE.match(title)
    if m and re.match(r"\d|政府|人民政府|人大|政协|委", title[m.end():]):
        return None if is_anonymised(m["place"]) else m["place"]
    return None


def _title_level(title: str) -> str | None:
    """National bodies or "the whole X" anywhere in a title (国务院政府工作报告, 全县…)."""
    if re.search(r"国务院|全国|中央|中华人民共和国", title):
        return "国家"
    m = re.search(r"全([省市州盟县旗区乡镇])", title)
    return level_of_role(m.group(1)) if m else None


def extract_metadata(title: str, preamble: Sequence[str], source: str,
                     properties: Mapping[str, str] = {},  # noqa: B006 (never mutated)
                     first_paragraphs: Sequence[str] = ()) -> SpeechMetadata:
    """Metadata of one speech from its title, title block, first paragraphs, path and
    .docx core properties (see the module docstring for what is read where)."""
    from_title = parse_heading(title or "")
    from_block = _read_block(_title_block([*preamble, *first_paragraphs]))
    path_date, path_place, path_level = _path_facts(source)
    author, created_year = _property_facts(properties)

    who = from_title.who or from_block.who or Who()
    below = from_block.who
    if below and who is not below:  # the title names one half, the title block the other
        if who.speaker is None and below.speaker:
            who = Who(below.speaker, who.role, who.place)
        elif who.role is None and below.role and below.speaker in (None, who.speaker):
            who = Who(who.speaker, below.role, who.place or below.place)
    meeting = from_title.meeting or from_block.meeting
    # A full date on a date line beats a year that is part of the title or the meeting.
    date = from_block.date or from_title.date or find_date(normalise(title or "")) \
        or path_date or created_year
    place = who.place or _title_place(normalise(title or "")) or path_place
    level = (level_of_place(who.place) or level_of_role(who.role) or level_of_meeting(meeting)
             or _title_level(normalise(title or "")) or level_of_place(place) or path_level)
    folder = PurePosixPath(source).parent.as_posix()
    return SpeechMetadata(
        title=title or None, speaker=who.speaker or author, role=who.role, level=level,
        place=place, meeting=meeting, date=date, tags=(), source=source,
        folder="" if folder == "." else folder)
