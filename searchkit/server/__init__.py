"""`searchkit serve`: the search page and the HTTP API over a warm Searcher.

Kept import-light: FastAPI and uvicorn load only when the server is created
(`searchkit.server.app.create_app`), never for other commands.
"""
