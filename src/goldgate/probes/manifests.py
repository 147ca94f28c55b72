"""Manifest files as evidence: files, folders and stdin read into located YAML documents.

A policy check is only useful if it never dies on the input it was given, so nothing here
raises on content: YAML syntax errors, binary files and text that is not UTF-8 become
:class:`ManifestProblem` entries naming the file, the document index and the line, next to
the documents that did parse. Only a path that does not exist is raised
(:class:`ManifestsUnavailable`), because then there is nothing to report on at all.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from goldgate.probes.artifacts import ArtifactUnavailable

#: libyaml's loader when present: the same documents, several times faster.
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


class ManifestsUnavailable(ArtifactUnavailable):
    """A path given on the command line or in a feature does not exist."""


@dataclass(frozen=True)
class ManifestDocument:
    file: str
    index: int  # position in a multi-document file, from 0
    body: Any


@dataclass(frozen=True)
class ManifestProblem:
    file: str
    index: int | None  # the document that could not be read, None for the whole file
    cause: str


@dataclass(frozen=True)
class ManifestFile:
    path: str
    documents: tuple[ManifestDocument, ...] = ()
    problems: tuple[ManifestProblem, ...] = field(default_factory=tuple)


def files_in(paths: Sequence[str]) -> Iterator[str]:
    """Each path, folders expanded to their manifest files (sorted, recursively)."""
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            yield from (str(p) for p in found)
        elif path.exists():
            yield str(path)
        else:
            raise ManifestsUnavailable(path, "no such file or folder")


def read(paths: Sequence[str], stdin: BinaryIO | None = None) -> list[ManifestFile]:
    """Every manifest file under ``paths`` (``-`` reads stdin), parsed into documents."""
    return [read_one(p, stdin) for p in files_in(paths)]


def read_one(path: str, stdin: BinaryIO | None = None) -> ManifestFile:
    try:
        data = (stdin or sys.stdin.buffer).read() if path == STDIN else Path(path).read_bytes()
    except OSError as exc:
        return ManifestFile(path, problems=(ManifestProblem(path, None, f"cannot read: {exc.strerror or exc}"),))
    return parse(path, data)


def parse(path: str, data: bytes) -> ManifestFile:
    """The documents of one file's bytes, and what made the rest unreadable."""
    if b"\0" in data[:8192]:
        return ManifestFile(path, problems=(ManifestProblem(path, None, "binary file (NUL bytes), not YAML"),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ManifestFile(path, problems=(ManifestProblem(
            path, None, f"line {line}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"),))
    documents: list[ManifestDocument] = []
    try:
        for i, body in enumerate(yaml.load_all(text, Loader=LOADER)):  # nosec B506 - LOADER is a safe loader
            documents.append(ManifestDocument(path, i, body))
    except yaml.YAMLError as exc:
        return ManifestFile(path, tuple(documents), (ManifestProblem(path, len(documents), _yaml_cause(exc)),))
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as exc:
        cause = f"YAML cannot be loaded: {type(exc).__name__}: {str(exc)[:200]}"
        return ManifestFile(path, tuple(documents), (ManifestProblem(path, len(documents), cause),))
    return ManifestFile(path, tuple(documents))


def _yaml_cause(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        context = f"{context} started at line {context_mark.line + 1}"
    return f"{where}YAML syntax error: {problem}" + (f" ({context})" if context else "")
