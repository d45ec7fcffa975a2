"""Typed errors: the library raises these, the CLI turns them into one-line messages."""


class SearchkitError(Exception):
    """Base class; str(error) is a complete one-line message for a person (what, where, what to do)."""

    exit_code = 1


class InputError(SearchkitError):
    """Bad user input: a query, an argument, a file."""

    exit_code = 2


class CorpusError(SearchkitError):
    """The corpus folder or one of its files cannot be used."""


class IndexMissingError(SearchkitError):
    """There is no usable index where one was expected."""


class IndexMismatchError(SearchkitError):
    """The index was built with settings that differ from the running configuration."""


class IndexCorruptError(SearchkitError):
    """An index file is missing, truncated or altered."""


class IndexLockedError(SearchkitError):
    """Another process is building the same index."""
