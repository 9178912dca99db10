"""Errors: every failure storyboard reports, drawn as one hierarchy.

    StoryboardError                 the base; the CLI prints it and exits non-zero, never a traceback
    ├── ProblemsFound               bad input: a list of located Diagnostics, all reported at once
    ├── MissingExtra                an optional extra is not installed (exit 2, one wording)
    ├── MediaError                  a media file that cannot be read or measured
    ├── FFmpegError                 an ffmpeg run that failed (carries the tail of its log)
    ├── ProviderError               a provider said no or could not be reached (names shot and provider)
    │   ├── TransportError          connection refused/reset, timeouts: retryable
    │   │   └── ConnectFailed       never connected: a submit surely did not arrive
    │   ├── RateLimited             HTTP 429 (Throttling.*): retryable, may carry retry_after
    │   ├── ServerError             HTTP 5xx: retryable
    │   ├── AuthError               401/403: a wrong or missing key, an expired policy
    │   ├── RequestRejected         other 4xx: InvalidParameter, Arrearage, ... not retryable
    │   ├── ListUnavailable         a task list that cannot be read: whether a task exists is unknown
    │   │   └── NeverListed         no list ever shows such a call: a lost one is settled by hand
    │   └── TaskFailed              the task ran and ended FAILED/CANCELED/UNKNOWN (moderation included)
    ├── BudgetExceeded              a run would spend past --budget, or spend without consent
    ├── JournalError                the task journal cannot be opened or written
    └── StoreError                  the shared render store is misconfigured
        ├── StoreUnreachable        the store cannot be read or written (network, permissions)
        └── StoreCorrupt            a stored video whose bytes do not match its recorded sha256

Errors from libraries (yaml, httpx, sqlite3, subprocess) are translated into these at the module that
talks to the library, with ``raise X from exc``, so callers handle one family.

Credentials inside URLs (``s3://ID:SECRET@bucket``, ``postgresql://user:pass@host``) never reach the
user's screen: ``mask_urls`` replaces every URL's user-info part with ``***``, and every message and
quoted source line made here goes through it. Text written into a file another program reads goes
through one helper per kind of file: ``one_line`` (a name in an EDL or XML timeline),
``plain_text`` (a value in XML or JSON), ``csv_text`` (every CSV storyboard writes: a text cell a
spreadsheet would run as a formula starts with ``'``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from storyboard import installed

# The distribution's name (``storyboard`` on the package index is another project); the import package
# and the command are ``storyboard``.
DISTRIBUTION = installed.DISTRIBUTION

Severity = Literal["error", "warning"]
# a scheme starts where no scheme character precedes it: one try per run of letters, so a long
# line is read in linear time (not from every letter of it)
_USERINFO = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@]*(?:@[^\s/?#@]*)*@")
QUOTE_WIDTH = 160  # characters of a source line quoted under a problem, at most


def mask_urls(text: str) -> str:
    """``text`` with the user-info part of every URL in it (``ID:SECRET@``) shown as ``***@``."""
    return _USERINFO.sub(r"\1***@", text) if "@" in text else text


def mask_userinfo(text: str, url: str) -> str:
    """``text`` (a library's message about ``url``) with ``url``'s user-info masked wherever it
    appears, also without its scheme (``Invalid bucket name "ID:SECRET@bucket"``)."""
    found = _USERINFO.match(url)
    if found is None:
        return mask_urls(text)
    userinfo = url[len(found.group(1)):found.end() - 1]
    for secret in sorted({userinfo, *userinfo.split(":")}, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return mask_urls(text)


def printable(text: str) -> bool:
    """Whether ``text`` is non-empty and every character of it printable: no terminal escape, no
    control character, no line break, no lone surrogate. What an id or a path echoed to a
    terminal (a task id, say) must be."""
    return bool(text) and text.isprintable()


# control characters (line breaks, NUL, escapes), line and paragraph separators, lone surrogates
# and the two non-characters: what breaks a line-based file (EDL) or is not XML 1.0
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]+")


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]+")


def one_line(text: str) -> str:
    """``text`` written safely as a name into a file another program reads (an EDL, an XML
    timeline): each run of control characters, line breaks and characters XML cannot hold is one
    space."""
    return _NOT_ONE_LINE.sub(" ", text)


def plain_text(text: str) -> str:
    """``text`` written safely as a value into an XML or JSON file, its line breaks and tabs
    kept (a prompt's lines): each run of other control characters is one space."""
    return _NOT_TEXT.sub(" ", text)


# what makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LOCALE_SEPARATOR = ";"  # the field separator of a spreadsheet in a comma-decimal locale
_NEEDS_QUOTES = re.compile('[,"\n\r]')


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: one that starts like a formula, its first
    character read as compatibility characters are (``＝``, ``＋``, ``－``, ``＠`` full width,
    ``﹦`` small, which an East Asian spreadsheet takes for ``=``), gets a leading ``'`` (shown as
    text, the ``'`` hidden by Excel and LibreOffice); so does each of its parts after a ``;``
    (``x;=4+4`` is ``x;'=4+4``: a spreadsheet that splits fields at ``;``, as Excel does in a
    comma-decimal locale, sees the text ``'=4+4``); any other is as written."""
    return LOCALE_SEPARATOR.join("'" + part if _formula_like(part) else part
                                 for part in text.split(LOCALE_SEPARATOR))


def _formula_like(text: str) -> bool:
    return unicodedata.normalize("NFKC", text[:1]).startswith(FORMULA_STARTS)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str | int | float]]) -> str:
    """A CSV file's text (RFC 4180 with ``\\n`` line ends: a cell holding a comma, a quote or a
    line break, a carriage return included, in quotes): a number as a number (at most four
    decimals, no trailing zeros), every text cell through ``spreadsheet_cell``. Every CSV
    storyboard writes is made here."""
    lines = [[spreadsheet_cell(name) for name in header]]
    lines += [[_number(cell) if isinstance(cell, (int, float)) else spreadsheet_cell(cell)
               for cell in row] for row in rows]
    return "".join(",".join(_quoted(cell) for cell in line) + "\n" for line in lines)


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell


def _number(value: int | float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, safe on any terminal: what is not printable is escaped
    (``'\\x1b[2J'``), and a long text is cut at ``limit`` characters."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def excerpt(line: str, col: int) -> tuple[str, int]:
    """At most ``QUOTE_WIDTH`` characters of ``line`` around column ``col`` (1-based), with
    ``...`` where it was cut, and the column of ``col`` in that excerpt: a megabyte on one line is
    quoted as a line's worth."""
    if len(line) <= QUOTE_WIDTH:
        return line, col
    start = max(0, min(col - 1 - QUOTE_WIDTH // 4, len(line) - QUOTE_WIDTH))
    head = "..." if start else ""
    tail = "..." if start + QUOTE_WIDTH < len(line) else ""
    return head + line[start:start + QUOTE_WIDTH] + tail, col - start + len(head)


@dataclass(frozen=True, slots=True)
class Span:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem; ``format()`` quotes the source line under it. ``code`` names its kind
    (``schema-type``, ``model-frames``...) for tools; ``stable_code`` is never empty."""

    span: Span | None
    message: str
    severity: Severity = "error"
    source_line: str | None = None
    code: str = ""

    @property
    def stable_code(self) -> str:
        """``code``, else one made from the message's form (quoted text and numbers left out), so
        the same kind of problem keeps one code from run to run."""
        if self.code:
            return self.code
        form = _QUOTED.sub("_", self.message)
        return "form-" + hashlib.sha256(form.encode()).hexdigest()[:8]

    def format(self) -> str:
        where = f"{self.span}: " if self.span else ""
        text = f"{where}{self.severity}: {mask_urls(self.message)}"
        if self.source_line is not None and self.span is not None:
            line, col = excerpt(self.source_line.rstrip(), max(self.span.col, 1))
            text += f"\n    {mask_urls(line)}\n    {' ' * (col - 1)}^"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.message)
        return (self.span.file, self.span.line, self.span.col, self.message)


class StoryboardError(Exception):
    """Base of every error storyboard raises on purpose."""

    exit_code = 1

    def __str__(self) -> str:
        return mask_urls(super().__str__())


class ProblemsFound(StoryboardError):
    """Bad input: carries every diagnostic found, errors and warnings."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = sorted(diagnostics, key=Diagnostic.sort_key)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} problem(s) found")

    def format(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


def install_line(extra: str) -> str:
    """The command that adds ``extra`` to the installation this process runs from: pipx's inject,
    uv tool's reinstall, or that environment's own pip (a bare ``pip`` may be another environment's,
    or install another project), from where storyboard came from (a clone, or the index)."""
    dist = installed.own_distribution()
    return installed.add_extra(installed.current(), extra, installed.extra_requirements(dist, extra))


class MissingExtra(StoryboardError):
    """An optional extra is not installed. Every command says it in these words, and exits 2."""

    exit_code = 2

    def __init__(self, needs: str, extra: str, module: str | None = None) -> None:
        missing = f" ({module.partition('.')[0]} is not installed)" if module else ""
        super().__init__(f"{needs} needs the {extra} extra{missing}; storyboard is "
                         f"{installed.current().describe()}; add the extra with: {install_line(extra)}")
        self.extra = extra


class MediaError(StoryboardError):
    """A media file that cannot be read or measured."""


class FFmpegError(StoryboardError):
    """An ffmpeg run failed; ``log_tail`` holds the last lines ffmpeg printed."""

    def __init__(self, message: str, log_tail: Sequence[str] = ()) -> None:
        self.log_tail = list(log_tail)
        tail = "\n".join(f"    {line}" for line in self.log_tail)
        super().__init__(f"{message}\n  ffmpeg said:\n{tail}" if tail else message)


class ProviderError(StoryboardError):
    """A provider refused or could not be reached; names the shot and the provider."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        shot: str = "",
        code: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.shot = shot
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.detail = message
        super().__init__(message)

    def __str__(self) -> str:
        where = " ".join(p for p in (self.provider and f"[{self.provider}]",
                                     self.shot and f"shot {self.shot}:") if p)
        code = f"{self.code}: " if self.code else ""
        return mask_urls(f"{where} {code}{self.detail}".strip())


class TransportError(ProviderError):
    retryable = True


class ConnectFailed(TransportError):
    """The connection was never made (refused, DNS): the request cannot have reached the server,
    so a submit may be sent again at once. Any other TransportError may have reached it."""


class UnreadAnswer(TransportError):
    """An answer that is neither what was asked for nor an error its service documents (an
    envelope's unknown code, a submit's answer with no task id): the request reached the service,
    which may have acted on it, so a submit's is a lost answer (looked up, never sent again)."""


class ListUnavailable(ProviderError):
    """A task list answer without its list (neither ``data`` nor ``tasks``): nothing can be said
    about which tasks exist, so a lost submit stays ambiguous (never sent again)."""


class NeverListed(ListUnavailable):
    """No list of the provider ever shows such a call (a synchronous call, a provider or library
    with no list): asking again never tells, so a lost one is settled by a person
    (``storyboard task``), never by a later run. ``adopt_as``: the task id ``task adopt`` takes
    for it, as a person writes it (``TASK_ID``, ``portrait-ASSET_ID``) and ``found_in``, where
    that id is found; None where the call leaves no task id (a synchronous call), so only
    ``task forget`` settles it."""

    def __init__(self, message: str, *, provider: str = "", shot: str = "", code: str = "",
                 adopt_as: str | None = "TASK_ID",
                 found_in: str = "from the provider's console or billing export") -> None:
        super().__init__(message, provider=provider, shot=shot, code=code)
        self.adopt_as, self.found_in = adopt_as, found_in


class RateLimited(ProviderError):
    retryable = True


class ServerError(ProviderError):
    retryable = True


class AuthError(ProviderError):
    pass


class RequestRejected(ProviderError):
    pass


class TaskFailed(ProviderError):
    pass


class DownloadTooLarge(ProviderError):
    """A result larger than its download limit: refused or stopped at the limit, nothing kept.
    Not retryable: the same URL would only send as much again."""


class BudgetExceeded(StoryboardError):
    """A run would spend past its budget, or spend without the user's consent."""


class JournalError(StoryboardError):
    """The task journal cannot be opened or written."""


class LedgerAway(JournalError):
    """The team ledger's server could not be reached (a restart, the network): a while later it
    may be."""


class RunBusy(JournalError):
    """Another run (a render, a worker) holds the series folder's run lock: once it ends, a run
    may start. ``holder`` is its process id, as its ``run.pid`` says."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class StoreError(StoryboardError):
    """The shared render store is misconfigured (a URL, an option, a missing backend)."""


class StoreUnreachable(StoreError):
    """The store cannot be read or written: the network, the credentials, the permissions."""


class StoreCorrupt(StoreError):
    """A stored video whose bytes do not match the sha256 the lock file or the store records."""
