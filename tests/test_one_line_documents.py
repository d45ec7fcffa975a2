"""A document whose whole text stands on one line is a document, not a footer."""
from searchkit.chunking import chunk_speeches
from searchkit.documents import split_speeches

NOTICE = ("关于调整企业境外投资备案办理流程的通知 各相关单位：为做好疫情防控工作，经研究，对备案事项的办理流程进行调整。"
          "一、申请受理 企业需登录商务部对外投资合作信息服务系统（https://example.gov.cn/login）填报，相关表格可在网站下载。" * 6)


def test_one_long_line_with_a_web_address_and_download_is_indexed():
    chunks = list(chunk_speeches(split_speeches(NOTICE, "n.txt")))
    assert chunks
    assert "".join(c.text for c in chunks).count("对外投资合作信息服务系统") == 6


def test_a_short_download_site_footer_is_still_dropped():
    text = "在会议上的讲话\n同志们：今天开会。\n本DOCX文档由 www.zciku.com/中词库网 生成，海量范文文档任你选\n"
    chunks = list(chunk_speeches(split_speeches(text, "s.txt")))
    assert chunks and all("zciku" not in c.text for c in chunks)
