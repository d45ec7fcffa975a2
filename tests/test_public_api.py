"""The package's public face: `import searchkit` is light and names the public API."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_is_light_and_the_api_is_there():
    code = ("import sys, searchkit; light = sorted(m for m in ('whoosh', 'faiss', 'jieba', 'numpy', 'torch', "
            "'searchkit.searcher', 'searchkit.indexer') if m in sys.modules); "
            "from searchkit import Searcher, build_index, Settings, Hit, SearchkitError, InputError; "
            "print(light, Searcher.__module__, build_index.__module__, Settings.__module__, Hit.__module__, "
            "issubclass(InputError, SearchkitError))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "searchkit.searcher", "searchkit.indexer", "searchkit.config", "searchkit.models",
                           "True"]
    assert (ROOT / "searchkit" / "py.typed").is_file()


def test_unknown_names_are_an_attribute_error():
    import pytest

    import searchkit

    with pytest.raises(AttributeError):
        searchkit.nothing_here  # noqa: B018
    assert set(searchkit.__all__) <= set(dir(searchkit)) | {"__version__"}
