"""The domain's exception hierarchy; the service maps it to HTTP status codes in one place."""

from __future__ import annotations


class ArtworkError(Exception):
    """Base class of every error this project raises on purpose."""


class InputError(ArtworkError):
    """Bad input at a boundary: a file, a line, a field or a request value.

    The message names where the problem is (``file:line: field: what``) so a person can fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = ":".join(str(p) for p in (file, line) if p is not None)
        prefix = f"{where}: " if where else ""
        prefix += f"{field}: " if field else ""
        super().__init__(prefix + message)


class CatalogError(InputError):
    """A catalog file (titles, artwork) is malformed; nothing of it was loaded."""


class InputErrors(ArtworkError):
    """Several input errors found in one pass, reported together."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        shown = "\n  ".join(str(e) for e in errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s):\n  {shown}{more}")


class NotFoundError(ArtworkError):
    """A referenced entity (artwork, title, decision) does not exist."""


class ArtifactError(ArtworkError):
    """A saved artifact or world folder is missing, of the wrong kind, or of another version."""
