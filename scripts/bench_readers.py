"""Reading rates of the readers, on files generated here (and ../shared/real-docs/ if present).

    .venv/bin/python scripts/bench_readers.py [--pages 60] [--paragraphs 3000]

Prints PDF pages/s (searchkit's reader, and the raw extractors pypdf / pdfminer.six /
pypdfium2 with how many characters each got right against the text that was set, when
installed: `pip install '.[bench]'`), DOCX MB/s, and web pages/s and Markdown files/s over
the real documents. Needs the fonts-wqy-zenhei font (scripts/setup.sh installs it).
"""
from __future__ import annotations

import argparse
import difflib
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from searchkit.readers import read_document  # noqa: E402

SENTENCES = ("坚持稳中求进工作总基调，完整、准确、全面贯彻新发展理念，加快构建新发展格局。",
             "着力扩大国内需求，把恢复和扩大消费摆在优先位置，增强消费能力，改善消费条件。",
             "加快建设现代化产业体系，围绕制造业重点产业链，集中优质资源合力推进关键核心技术攻关。",
             "切实落实“两个毫不动摇”，依法保护民营企业产权和企业家权益，促进民营经济发展壮大。")


def _paragraphs(n: int) -> list[str]:
    out = []
    for i in range(n):
        if i % 12 == 0:
            out.append(f"{'一二三四五六七八九'[i // 12 % 9]}、第{i // 12 + 1}部分工作安排")
        else:
            out.append("".join(SENTENCES[(i + k) % 4] for k in range(1 + i % 3)))
    return out


def _timed(fn, repeat: int = 3) -> float:
    fn()  # warm: imports, font and file caches
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _raw_extractors():
    def pypdfium2_text(path):
        import pypdfium2 as pdfium
        pdf = pdfium.PdfDocument(str(path))
        return "".join(page.get_textpage().get_text_range() for page in pdf)

    def pypdf_text(path):
        import pypdf
        return "".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)

    def pdfminer_text(path):
        from pdfminer.high_level import extract_text
        return extract_text(str(path))

    for name, module, fn in (("pypdfium2", "pypdfium2", pypdfium2_text), ("pypdf", "pypdf", pypdf_text),
                             ("pdfminer.six", "pdfminer", pdfminer_text)):
        try:
            __import__(module)
        except ImportError:
            print(f"  {name:13s} not installed (pip install '.[bench]')")
            continue
        yield name, fn


def bench_pdf(folder: Path, pages: int) -> None:
    from test_readers import PDF_HEADER, make_pdf

    paragraphs = _paragraphs(pages * 12)  # about 12 paragraphs fill a page of 36 lines
    path = folder / "bench.pdf"
    n = make_pdf(path, paragraphs, lines_per_page=36)
    truth = "".join(p.replace("　", "") for p in paragraphs)
    size = path.stat().st_size / 1e6
    print(f"PDF: {n} pages, {size:.2f} MB, {len(truth):,} characters set in WenQuanYi Zen Hei")
    seconds = _timed(lambda: read_document(path))
    got = "".join(b.text for b in read_document(path).blocks)
    print(f"  searchkit reader: {n / seconds:7.1f} pages/s  (text exact: {got == truth})")
    for name, fn in _raw_extractors():
        seconds = _timed(lambda fn=fn: fn(path), repeat=1)
        text = re.sub(r"\s", "", fn(path)).replace(PDF_HEADER, "")
        text = re.sub(r"—\d+—", "", text)
        ratio = difflib.SequenceMatcher(None, truth[:30000], text[:30000], autojunk=False).ratio()
        print(f"  {name:13s} raw: {n / seconds:7.1f} pages/s  (similarity to the set text {ratio:.4f})")


def bench_docx(folder: Path, paragraphs: int) -> None:
    import docx

    path = folder / "bench.docx"
    doc = docx.Document()
    for i, text in enumerate(_paragraphs(paragraphs)):
        if i % 12 == 0:
            doc.add_heading(text, level=1)
        else:
            doc.add_paragraph(text)
        if i % 200 == 199:
            table = doc.add_table(rows=5, cols=3)
            for r in range(5):
                for c in range(3):
                    table.cell(r, c).text = f"指标{r}{c}"
    doc.save(path)
    size = path.stat().st_size / 1e6
    seconds = _timed(lambda: read_document(path))
    chars = len(read_document(path).text())
    print(f"DOCX: {paragraphs} paragraphs, {size:.2f} MB, {chars:,} characters: "
          f"{size / seconds:.2f} MB/s ({chars / seconds / 1e6:.2f} M characters/s)")


def bench_real(folder_name: str, pattern: str, label: str) -> None:
    files = sorted((ROOT.parent / "shared" / "real-docs" / folder_name).glob(pattern))
    if not files:
        return
    seconds = _timed(lambda: [read_document(f) for f in files], repeat=1)
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"{label}: {len(files)} real files, {size:.2f} MB: {len(files) / seconds:.1f} files/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--paragraphs", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_pdf(Path(tmp), args.pages)
        bench_docx(Path(tmp), args.paragraphs)
    bench_real("html", "*.shtml", "HTML")
    bench_real("markdown", "*.md", "Markdown")


if __name__ == "__main__":
    main()
