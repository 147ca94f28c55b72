"""Masks secrets before anything leaves the process: reports, logs, JUnit, audit.

It sits on the ground floor (it imports nothing from goldgate) because the secret
resolvers register each value here the moment they resolve it, below every writer.

Two nets, because each alone leaks:

* **Known values.** Every secret goldgate resolves at run time (``env:``, ``file:``,
  ``vault:`` references, tokens and keys read from a kubeconfig) is registered here the
  moment it is resolved, and that exact text is masked wherever it turns up — even inside
  an exception message a third-party library built.
* **Shapes.** Credentials goldgate never resolved itself (a token echoed back by a server,
  a URL someone pasted into an error) are caught by patterns: ``Bearer``/``Basic``
  authorization values, ``user:password@`` in URLs, and API-key / token / password
  header or query assignments.

The registry is process-wide on purpose: a secret resolved by any code path must be
masked by every writer in the same process, and the writers (allure-pytest, junitxml,
logging) know nothing of goldgate's fixtures.

Example::

    >>> from goldgate import redact
    >>> redact.register_secret("s3cr3t-value")
    >>> redact.redact("connecting with s3cr3t-value to https://bot:pw@db.local/x")
    'connecting with *** to https://bot:***@db.local/x'
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import yaml

MASK = "***"

#: Shorter values are not registered: masking "on" or "1" everywhere would shred reports
#: while protecting nothing a guess would not find.
MIN_SECRET_LENGTH = 6

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer <token> / Basic <b64>
    (re.compile(r"\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1\2" + MASK),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(@)", re.I), r"\1" + MASK + r"\2"),
    # X-API-Key: value, api_key=value, "token": "value", password=value ...
    (
        re.compile(
            r"""((?:x-)?api[-_]?key|access[-_]?token|auth[-_]?token|token|password|passwd|secret|client[-_]?secret)"""
            r"""(["']?(?:\s*:\s*|=)["']?)(?!\*\*\*)([^\s"',;&(){}\[\]]{4,})""",
            re.I,
        ),
        r"\1\2" + MASK,
    ),
)


class Redactor:
    """A set of known secret values plus the credential patterns; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, value: str | None) -> None:
        """Remember a secret so every later :meth:`redact` masks it.

        URL-encoded and decoded spellings are registered too; for a URL that carries a
        password, the password alone.
        """
        if not value or not isinstance(value, str):
            return
        secret = value.strip()
        if "://" in value:
            # For a URL with a password only the password is masked: the host and
            # database stay readable, which is what a failure message is for.
            try:
                password = urlsplit(secret).password
            except ValueError:
                password = None
            if password and len(unquote(password)) >= MIN_SECRET_LENGTH:
                secret = unquote(password)
        candidates = {secret, quote(secret, safe=""), unquote(secret)}
        added = {c for c in candidates if len(c) >= MIN_SECRET_LENGTH}
        if not added:
            return
        with self._lock:
            if added <= self._values:
                return
            self._values |= added
            # Longest first, so a URL is masked whole before its password part is.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def forget_all(self) -> None:
        """Drop every registered value (tests only: a real run never un-registers)."""
        with self._lock:
            self._values.clear()
            self._pattern = None

    @property
    def known(self) -> int:
        return len(self._values)

    def redact(self, text: str) -> str:
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for shape, replacement in _PATTERNS:
            text = shape.sub(replacement, text)
        return text

    def redact_obj(self, obj: Any) -> Any:
        """Redact every string inside a JSON-like structure (dict keys included)."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, dict):
            return {self.redact_obj(k): self.redact_obj(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v) for v in obj]
        return obj


#: The process-wide registry used by goldgate's writers.
REDACTOR = Redactor()


def register_secret(value: str | None) -> None:
    REDACTOR.register(value)


def redact(text: str) -> str:
    return REDACTOR.redact(text)


def redact_obj(obj: Any) -> Any:
    return REDACTOR.redact_obj(obj)


# --------------------------------------------------------------------------- kubeconfig
_KUBECONFIG_SECRET_KEYS = ("token", "password", "client-key-data", "client-certificate-data")


def register_kubeconfig_secrets(path: str | Path) -> int:
    """Register the credentials of every user in a kubeconfig; returns how many.

    The Kubernetes client reads the file itself, so goldgate never "resolves" these values;
    registering them up front is what keeps a token echoed in an API error out of reports.
    A missing or unreadable file registers nothing (the probe reports that problem).
    """
    try:
        doc = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return 0
    count = 0
    users = doc.get("users") if isinstance(doc, dict) else None
    for entry in users or []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict):
            continue
        for key in _KUBECONFIG_SECRET_KEYS:
            value = user.get(key)
            if isinstance(value, str) and value:
                register_secret(value)
                count += 1
        token_file = user.get("tokenFile")
        if isinstance(token_file, str):
            try:
                register_secret(Path(token_file).expanduser().read_text(encoding="utf-8").strip())
                count += 1
            except OSError:
                pass
    return count


# --------------------------------------------------------------------------- files
def redact_file(path: Path) -> bool:
    """Rewrite a text file with secrets masked; binary files are left alone. True if changed."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    cleaned = REDACTOR.redact(text)
    if cleaned == text:
        return False
    path.write_text(cleaned, encoding="utf-8")
    return True


def redact_tree(root: Path, since: float | None = None) -> list[Path]:
    """Redact every text file under ``root`` (modified at or after ``since``, if given)."""
    changed: list[Path] = []
    if not root.is_dir():
        return changed
    for path in root.rglob("*"):
        try:
            if not path.is_file() or (since is not None and path.stat().st_mtime < since):
                continue
        except OSError:
            continue
        if redact_file(path):
            changed.append(path)
    return changed


# --------------------------------------------------------------------------- logging
class _RecordFactory:
    """Wraps the logging record factory so a record's text is masked when it is made.

    A filter on one handler would miss handlers added later (pytest adds its capture
    handlers per test phase); the factory sees every record of every logger.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is logging's to report
            return record
        cleaned = REDACTOR.redact(text)
        if cleaned != text:
            record.msg, record.args = cleaned, ()
        return record


def install_logging_redaction() -> Any:
    """Mask secrets in every log record; returns a function that undoes it."""
    current = logging.getLogRecordFactory()
    if isinstance(current, _RecordFactory):
        return lambda: None
    factory = _RecordFactory(current)
    logging.setLogRecordFactory(factory)

    def _undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(current)

    return _undo


# --------------------------------------------------------------------------- pytest reports
@dataclass(frozen=True)
class _CrashLine:
    path: str
    lineno: int
    message: str


class RedactedRepr:
    """Stands in for a pytest failure representation whose text held a secret.

    Keeps what pytest's terminal summary and junitxml read (``reprcrash``, ``toterminal``,
    ``str``) so the one-line reason survives, with the secret masked.
    """

    def __init__(self, original: Any, text: str) -> None:
        self._text = text
        crash = getattr(original, "reprcrash", None)
        self.reprcrash = (
            _CrashLine(str(crash.path), int(crash.lineno), REDACTOR.redact(crash.message)) if crash is not None else None
        )

    def toterminal(self, tw: Any) -> None:
        for line in self._text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self._text


def redact_lines(lines: Iterable[str]) -> list[str]:
    return [REDACTOR.redact(line) for line in lines]
