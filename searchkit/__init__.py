"""searchkit: hybrid keyword + semantic search over Chinese speeches and reports.

Heavy dependencies (torch, sentence-transformers, faiss, jieba's dictionary) load on
first use inside the objects that need them, never at import time.
"""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
