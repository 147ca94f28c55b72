"""Manifest files as evidence: files, folders and stdin read into located YAML documents.

A policy check is only useful if it never dies on the input it was given, so nothing here
raises on content: YAML syntax errors, binary files, text that is not UTF-8, duplicate keys,
alias bombs, excessive size or depth (all refused by :mod:`goldgate.safeload`, the one
loader) become :class:`ManifestProblem` entries naming the file, the document index, the
line and the field, next to the documents that did parse. A ``*.yaml`` entry that cannot be
opened (a symbolic link loop, a dangling link, no permission) is a problem of its own, never
skipped. Only a path that does not exist at all is raised (:class:`ManifestsUnavailable`),
because then there is nothing to report on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from goldgate import safeload
from goldgate.probes.artifacts import ArtifactUnavailable

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
    """Each path, folders expanded to their manifest files (sorted, recursively).

    A folder entry with a manifest suffix is listed whatever it points to: a symbolic link
    loop or a dangling link named ``*.yaml`` is reported when read, not skipped. Links to
    folders are not followed (a link cycle cannot make the walk endless).
    """
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            found: list[str] = []
            for folder, dirs, names in os.walk(path, followlinks=False):
                dirs.sort()
                found += [os.path.join(folder, n) for n in names if Path(n).suffix in SUFFIXES]
                found += [os.path.join(folder, d) for d in dirs
                          if Path(d).suffix in SUFFIXES and os.path.islink(os.path.join(folder, d))]
            yield from sorted(found)
        elif safeload.exists_as_link_or_file(path):
            yield str(path)
        else:
            raise ManifestsUnavailable(path, "no such file or folder")


def read(paths: Sequence[str], stdin: BinaryIO | None = None) -> list[ManifestFile]:
    """Every manifest file under ``paths`` (``-`` reads stdin), parsed into documents."""
    return [read_one(p, stdin) for p in files_in(paths)]


def read_one(path: str, stdin: BinaryIO | None = None) -> ManifestFile:
    limits = safeload.Limits.from_environ()
    try:
        if path == STDIN:
            data = (stdin or sys.stdin.buffer).read(limits.max_bytes + 1)
        else:
            data = safeload.read_bytes(path, limits)
    except safeload.LoadError as exc:
        return ManifestFile(path, problems=(ManifestProblem(path, None, exc.located_cause),))
    except OSError as exc:
        return ManifestFile(path, problems=(ManifestProblem(path, None, f"cannot read: {exc.strerror or exc}"),))
    return parse(path, data, limits)


def parse(path: str, data: bytes, limits: safeload.Limits | None = None) -> ManifestFile:
    """The documents of one file's bytes, and what made the rest unreadable."""
    documents: list[ManifestDocument] = []
    try:
        for i, body in safeload.yaml_documents(data, name=path, limits=limits):
            documents.append(ManifestDocument(path, i, body))
    except safeload.LoadError as exc:
        return ManifestFile(path, tuple(documents), (ManifestProblem(path, exc.document, exc.located_cause),))
    return ManifestFile(path, tuple(documents))
