"""Load benchmark of `searchkit serve`, bounded and against 127.0.0.1 only.

Copies the index and the corpus into a work folder (the update phase adds files to the
copy, never to yours), starts `searchkit serve` on a free loopback port in a subprocess,
then for 1, 4 and 20 concurrent clients sends 100 hybrid queries per client and reports
latency p50/p95/p99, throughput and errors; then the same again while an incremental
update (one new ~7,000-character speech) runs in the server.

    .venv/bin/python scripts/bench_server.py --index indexes/default --corpus corpus
    .venv/bin/python scripts/bench_server.py --index I --corpus C --fake   # fake embedder (tests)

Targets (issue 15): 0 errors at every level; one client warm p50 <= 50 ms; throughput at
20 clients no lower than at 4.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never anything else: this benchmark loads only this machine
FALLBACK_QUERIES = ["招商引资 措施", "农民工工资 拖欠", "营商环境", "项目建设 进度", "安全生产 隐患排查",
                    "乡村振兴", "全域旅游", "工厂招不到合适的工人怎么办", "双过半", "民生保障"]


def queries() -> list[str]:
    path = ROOT / "eval" / "dev.jsonl"
    if not path.exists():
        return FALLBACK_QUERIES
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["query"] for r in rows if r.get("kind") != "paragraph"] or FALLBACK_QUERIES


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(index: Path, corpus: Path, port: int, fake: bool, log) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if fake:
        env["SEARCHKIT_MODEL"] = "fake-bigram-64"
        cmd = [sys.executable, str(ROOT / "tests" / "fake_embedder.py")]
    else:
        cmd = [sys.executable, "-m", "searchkit"]
    cmd += ["serve", "--index", str(index), "--corpus", str(corpus), "--host", HOST, "--port", str(port)]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base: str, server: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}; see its log above")
        try:
            if httpx.get(base + "/api/status", timeout=5).json().get("ready"):
                httpx.get(base + "/api/search", params={"q": "招商引资 措施"}, timeout=60)  # warm
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not become ready in time")


def run_level(base: str, clients: int, per_client: int, qs: list[str]) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for i in range(per_client):
                q = qs[(number * per_client + i) % len(qs)]
                started = time.perf_counter()
                try:
                    response = http.get("/api/search", params={"q": q, "mode": "hybrid", "k": 10})
                    ok = response.status_code == 200
                    problem = None if ok else f"{response.status_code} {response.text[:100]}"
                except httpx.HTTPError as error:
                    problem = f"{type(error).__name__}: {error}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"clients": clients, "requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
            "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "p99_ms": round(cuts[98], 1),
            "throughput_qps": round(len(latencies) / wall, 1), "wall_s": round(wall, 2)}


def new_speech(corpus_src: Path, number: int) -> str:
    """A speech the index has not seen: the paragraphs of a bundled one, each turned about
    its middle, so every passage is new text and is embedded (a copy would be reused)."""
    source = sorted(corpus_src.glob("*.txt"))[min(2, len(list(corpus_src.glob("*.txt"))) - 1)]
    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    turned = [line[len(line) // 2:] + line[: len(line) // 2] if len(line) > 40 else line for line in lines]
    text = "\n".join(turned)
    return f"基准测试更新第{number}篇\n" + text[:7000]


def run_during_update(base: str, corpus: Path, corpus_src: Path, clients: int, per_client: int, qs, number: int) -> dict:
    (corpus / f"zz_bench_update_{number}.txt").write_text(new_speech(corpus_src, number), encoding="utf-8")
    started = time.perf_counter()
    response = httpx.post(base + "/api/update", headers={"Origin": base}, timeout=30)
    if response.status_code != 202:
        raise SystemExit(f"the update did not start: {response.status_code} {response.text}")
    result = run_level(base, clients, per_client, qs)
    while (state := httpx.get(base + "/api/update/progress", timeout=30).json())["state"] == "running":
        time.sleep(0.1)
    update_s = time.perf_counter() - started
    # update_s runs from the POST to the end of the build; the load starts with the POST
    result.update(update_state=state["state"], update_s=round(update_s, 2), update_error=state.get("error"))
    return result


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print("| clients | requests | errors | p50 ms | p95 ms | p99 ms | throughput q/s | update s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
              f"| {r['throughput_qps']} | {r.get('update_s', '')} |")
        for e in r["first_errors"]:
            print(f"|   error: {e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "default")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--clients", default="1,4,20", help="concurrency levels, comma-separated")
    parser.add_argument("--queries", type=int, default=100, help="hybrid queries per client (at most 1000)")
    parser.add_argument("--fake", action="store_true", help="serve with the test suite's fake embedder")
    parser.add_argument("--no-update", action="store_true", help="skip the runs during an update")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    if not 1 <= args.queries <= 1000 or not all(1 <= c <= 64 for c in levels):
        raise SystemExit("--queries must be 1..1000 and each client count 1..64 (a bounded benchmark)")
    if not (args.index / "CURRENT").exists():
        raise SystemExit(f"no index at {args.index}; build it with `searchkit index` first")
    work = Path(tempfile.mkdtemp(prefix="searchkit-bench-server-"))
    server = None
    try:
        shutil.copytree(args.index, work / "index", ignore=shutil.ignore_patterns(".lock", "tmp-*"))
        shutil.copytree(args.corpus, work / "corpus")
        port = free_port()
        base = f"http://{HOST}:{port}"
        log = open(work / "server.log", "w")
        server = start_server(work / "index", work / "corpus", port, args.fake, log)
        wait_ready(base, server)
        qs = queries()
        load = os.getloadavg()[0]
        steady = [run_level(base, c, args.queries, qs) for c in levels]
        print_table(f"Steady: hybrid /api/search, {args.queries} queries per client (load average {load:.2f} at start)", steady)
        during = []
        if not args.no_update:
            during = [run_during_update(base, work / "corpus", args.corpus, c, args.queries, qs, n)
                      for n, c in enumerate(levels, 1)]
            print_table("While an update (one new ~7,000-character speech) runs in the server", during)
            for r in during:
                if r["update_state"] != "done":
                    print(f"update failed: {r['update_error']}")
        if args.json:
            args.json.write_text(json.dumps({"steady": steady, "during_update": during, "load_average": load},
                                            ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
