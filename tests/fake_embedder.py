"""A small deterministic embedder behind the same interface as the real one.

It hashes character bigrams into a 64-dimensional vector, so texts that share words are
close: vector search behaves sensibly without loading a model. Run as a script, it is the
`searchkit` CLI with this embedder registered (for tests that need a real subprocess):
    python tests/fake_embedder.py index --corpus C --index I
"""
from __future__ import annotations

import hashlib
import sys

import numpy as np


class FakeEmbedder:
    """Same interface as SentenceTransformerEmbedder: name, dimension, encode()."""

    name = "fake-bigram-64"
    dimension = 64

    def __init__(self):
        self.encoded: list[str] = []  # every text it was asked to embed, for assertions

    def encode(self, texts, progress=None):
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            chars = "".join(ch for ch in text if not ch.isspace())
            for i in range(max(len(chars) - 1, 1)):
                gram = chars[i:i + 2]
                bucket = int.from_bytes(hashlib.md5(gram.encode()).digest()[:4], "little")
                out[row, bucket % self.dimension] += 1.0 if bucket & 1 << 31 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if progress:
            progress(len(texts))
        return out / norms


class BrokenEmbedder(FakeEmbedder):
    """Fails like a bug would (a plain RuntimeError), for the CLI's unexpected-error path."""

    name = "fake-broken"

    def encode(self, texts, progress=None):
        raise RuntimeError("model exploded")


class SlowEmbedder(FakeEmbedder):
    """Embeds slowly, one text at a time, after touching $SEARCHKIT_TEST_STARTED: lets a
    test interrupt a build for sure in the middle of its embedding."""

    name = "fake-slow"

    def encode(self, texts, progress=None):
        import os
        import time
        from pathlib import Path

        Path(os.environ["SEARCHKIT_TEST_STARTED"]).touch()
        rows = []
        for text in texts:
            time.sleep(0.5)
            rows.append(super().encode([text]))
            if progress:
                progress(1)
        return np.concatenate(rows) if rows else np.zeros((0, self.dimension), dtype=np.float32)


def main() -> None:
    from searchkit import embedding
    from searchkit.cli import app

    embedding.register_embedder(FakeEmbedder.name, FakeEmbedder)
    embedding.register_embedder(BrokenEmbedder.name, BrokenEmbedder)
    embedding.register_embedder(SlowEmbedder.name, SlowEmbedder)
    app(sys.argv[1:], prog_name="searchkit")


if __name__ == "__main__":
    main()
