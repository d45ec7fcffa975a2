"""`python -m searchkit …` is the `searchkit` command (for environments without the script on PATH)."""
from .cli import app

app(prog_name="searchkit")
