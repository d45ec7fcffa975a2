#!/usr/bin/env python
"""Cold-process latency of the everyday commands, beside the naive approach.

Every figure is the median wall time of fresh processes (warm OS file cache) on the
bundled corpus's index. The naive figure is a process that imports sentence-transformers,
loads m3e-small and encodes the query: what a CLI without the ONNX query encoder pays.
Also times a no-change `searchkit index` and an incremental update after adding one
~7,000-character speech (on a copy of the index), and the same cold queries forwarded to
a `searchkit serve` running for the index (server/forward.py).

The CLI runs as `python -m searchkit` from this checkout, so a branch measures its own code.

    .venv/bin/python scripts/bench_latency.py [--runs 7] [--index indexes/default] [--skip-updates]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPH = ("当前，我县经济运行总体平稳，但工业投资增速放缓，重点项目推进不够均衡，部分企业生产经营困难。"
             "下一步，要围绕稳增长目标，加大招商引资力度，狠抓项目建设，优化营商环境，强化要素保障，"
             "确保全年目标任务圆满完成。")  # about 150 characters
NAIVE = ("import importlib.util, pathlib\n"
         "from sentence_transformers import SentenceTransformer\n"
         "p = pathlib.Path(importlib.util.find_spec('embedding').submodule_search_locations[0]) / 'm3e-small'\n"
         "SentenceTransformer(str(p), device='cpu').encode(['招商引资 措施'])\n")


def wall(cmd: list[str], runs: int, env=None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextmanager
def running_server(sk: list[str], index: list[str]):
    """A `searchkit serve` for the index on a free port, warmed by one query; stopped after."""
    folder = Path(index[1])
    advert = folder / "server.json"
    server = subprocess.Popen(sk + ["serve", "--port", "0"] + index, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not advert.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not advert.exists():
            sys.exit("the server did not start")
        subprocess.run(sk + ["search", "预热"] + index, check=True, capture_output=True)  # opens its Searcher
        yield
    finally:
        server.terminate()
        server.wait(30)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, Python {platform.python_version()}, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--index", default="indexes/default")
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--skip-updates", action="store_true", help="only the query rows (no embedding)")
    args = parser.parse_args()
    os.chdir(ROOT)
    sk = [sys.executable, "-m", "searchkit"]
    index = ["--index", args.index]
    local = ["--no-server"]
    if subprocess.run(sk + ["status"] + index, capture_output=True).returncode != 0:
        sys.exit(f"no usable index at {args.index}; run `searchkit index` first")

    print(f"machine: {machine()}")
    naive = wall([sys.executable, "-c", NAIVE], max(3, args.runs // 2))
    search, similar = sk + ["search", "招商引资 措施"] + index, sk + ["similar", PARAGRAPH] + index
    rows = [
        ("searchkit --help", wall(sk + ["--help"], args.runs), 0.3),
        ('search "招商引资 措施" (hybrid)', wall(search + local, args.runs), 1.0),
        ('search "招商引资 措施" --mode keyword', wall(search + ["--mode", "keyword"] + local, args.runs), 0.5),
        ("similar <150-char paragraph> (hybrid)", wall(similar + local, args.runs), 1.0),
    ]
    with running_server(sk, index):
        rows += [
            ('search "招商引资 措施" (hybrid), forwarded to a running `searchkit serve`', wall(search, args.runs), 1.0),
            ("similar <150-char paragraph> (hybrid), forwarded", wall(similar, args.runs), 1.0),
        ]
    print(f"\n| command (fresh process, median of {args.runs}) | wall s | target s | naive ÷ this |")
    print("|---|---|---|---|")
    print(f"| naive: import sentence-transformers + load m3e-small + encode | {naive:.2f} | | 1.0× |")
    for name, seconds, target in rows:
        print(f"| {name} | {seconds:.2f} | ≤ {target} | {naive / seconds:.1f}× |")
    if args.skip_updates:
        return

    # Updates, on a copy so the real index is untouched.
    with tempfile.TemporaryDirectory() as tmp:
        corpus, idx = Path(tmp) / "corpus", Path(tmp) / "index"
        shutil.copytree(args.corpus, corpus)
        shutil.copytree(args.index, idx, symlinks=True)
        env = {**os.environ, "SEARCHKIT_CORPUS": str(corpus), "SEARCHKIT_INDEX": str(idx)}
        subprocess.run(sk + ["index"], check=True, capture_output=True, env=env)  # relink to the copy's path
        no_change = wall(sk + ["index"], args.runs, env=env)
        new_speech = (Path(args.corpus) / "004_d308ad772985fa49.txt").read_text(encoding="utf-8")[:7000]
        added = corpus / "zz_new_speech.txt"
        updates = []
        for _ in range(3):  # add the speech, time the update, take it out again (untimed)
            added.write_text("在全县项目建设推进会上的讲话\n" + new_speech.replace("项目", "工程项目"), encoding="utf-8")
            started = time.perf_counter()
            out = subprocess.run(sk + ["index"], check=True, capture_output=True, text=True, env=env).stdout
            updates.append(time.perf_counter() - started)
            added.unlink()
            subprocess.run(sk + ["index"], check=True, capture_output=True, env=env)
        incremental = statistics.median(updates)
        startup = wall([sys.executable, "-c", "import searchkit.indexer"], 3)
    print(f"\n| update | wall s | target |")
    print("|---|---|---|")
    print(f"| no-change `searchkit index` | {no_change:.2f} | ≤ 1 s |")
    print(f"| add one ~7,000-character speech (median of 3) | {incremental:.2f} (process start ≈ {startup:.2f}) | ≤ 3 s beyond start |")
    print("\n" + "\n".join("    " + line for line in out.strip().splitlines()[:3]))


if __name__ == "__main__":
    main()
