"""One loader for every YAML and JSON file a team hands to goldgate, that never crashes on it.

Environment files, release manifests, release.yaml, verdict files and audit logs are written
by people and tools goldgate does not control. Read naively they end in tracebacks
(``UnicodeDecodeError``, ``RecursionError``), hang (a 20 MB file through the pure-Python
parser, a FIFO named ``*.yaml``), or say something else than the API server reads (a
duplicate ``replicas:`` key silently won by the last line; an alias bomb expanded to a
billion nodes). Every reader here refuses such input with one :class:`LoadError` naming the
file, the document, the field path and the cause, in time bounded by the size limit:

- the path must be a regular file (symlink loops, dangling links, folders, FIFOs and
  unreadable files are named as such) no larger than ``max_bytes``;
- the bytes must be UTF-8 (the offset of the first bad byte is given) and hold no NUL;
- nesting deeper than ``max_depth`` is refused;
- a mapping may not repeat a key (both lines are named), as ``kubectl`` refuses it;
- YAML aliases are limited to ``max_aliases`` uses, and what they would expand to, to
  ``max_alias_nodes`` nodes, measured on the composed graph without expanding it; an alias
  to one of its own ancestors (a cycle) is refused.

The limits are documented in README ("The loader's limits") and can be raised for one run
with ``GOLDGATE_LOADER_MAX_BYTES``, ``GOLDGATE_LOADER_MAX_DEPTH``,
``GOLDGATE_LOADER_MAX_ALIASES`` and ``GOLDGATE_LOADER_MAX_ALIAS_NODES``. libyaml's parser is
used when present (several times faster), with its composer, so the checks below walk
nodes it built in C and only the documents that pass are constructed.

This module sits on the ground floor: it imports nothing from goldgate, and callers turn
:class:`LoadError` into their own outcome (exit 4 for an environment, ERROR for an artifact).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Limits",
    "LoadError",
    "load_json",
    "load_json_line",
    "load_yaml",
    "load_yaml_all",
    "read_bytes",
    "yaml_documents",
]

#: libyaml's parser and composer when present: the same nodes, several times faster.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENV = "GOLDGATE_LOADER_"


@dataclass(frozen=True)
class Limits:
    """What one file may hold; the defaults are far above any real manifest or environment file."""

    max_bytes: int = 8 * 1024 * 1024
    max_depth: int = 100
    max_aliases: int = 100
    max_alias_nodes: int = 10_000

    @classmethod
    def from_environ(cls, environ: Any = None) -> Limits:
        """The defaults, each overridable by ``GOLDGATE_LOADER_<NAME>`` (a positive integer)."""
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for name in ("max_bytes", "max_depth", "max_aliases", "max_alias_nodes"):
            raw = environ.get(_ENV + name.upper())
            if raw is None or not str(raw).strip():
                continue
            try:
                values[name] = int(str(raw).strip())
            except ValueError:
                raise LoadError(f"${_ENV}{name.upper()}", f"expected a whole number, got {raw!r}") from None
            if values[name] < 0:
                raise LoadError(f"${_ENV}{name.upper()}", f"must not be negative, got {raw!r}")
        return cls(**values)


class LoadError(ValueError):
    """A file goldgate cannot read as the tool that consumes it would: one line says where and why."""

    def __init__(self, file: str | os.PathLike[str], cause: str, *, document: int | None = None,
                 field: str = "", line: int | None = None, column: int | None = None) -> None:
        self.file = str(file)
        self.cause = cause
        self.document = document
        self.field = field
        self.line = line
        self.column = column
        super().__init__(file, cause)

    def __str__(self) -> str:
        where = [self.file] + ([f"document {self.document}"] if self.document is not None else [])
        return ": ".join([*where, self.located_cause])

    @property
    def located_cause(self) -> str:
        """The message without the file and document (for callers that print those themselves)."""
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        return ": ".join([*parts, *([self.field] if self.field else []), self.cause])


# ----------------------------------------------------------------------------- bytes
def read_bytes(path: str | os.PathLike[str], limits: Limits | None = None) -> bytes:
    """The bytes of a regular file no larger than the limit, or :class:`LoadError` saying why not.

    Opened non-blocking and checked with ``fstat`` before anything is read, so a FIFO or a
    device named ``*.yaml`` never blocks and a huge file is refused without reading it.
    """
    limits = limits or Limits.from_environ()
    name = str(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise LoadError(name, _open_cause(name, exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise LoadError(name, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise LoadError(name, "not a regular file (a FIFO, socket or device): refused")
        if info.st_size > limits.max_bytes:
            raise LoadError(name, f"{info.st_size} bytes, above the loader's limit of {limits.max_bytes} "
                                  f"(raise {_ENV}MAX_BYTES to read it)")
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise LoadError(name, f"cannot read: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limits.max_bytes:
        raise LoadError(name, f"more than {limits.max_bytes} bytes, above the loader's limit "
                              f"(raise {_ENV}MAX_BYTES to read it)")
    return data


def _open_cause(name: str, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop: the link never reaches a file"
    if exc.errno == errno.ENOENT and os.path.islink(name):
        try:
            target = os.readlink(name)
        except OSError:
            target = "?"
        return f"dangling symbolic link (to {target!r}, which does not exist)"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"cannot open: {exc.strerror or exc}"


def decode(name: str, data: bytes) -> str:
    """UTF-8 text (a BOM is dropped), or :class:`LoadError` with the offset of the first bad byte."""
    nul = data.find(b"\0", 0, 1 << 16)
    if nul >= 0:
        return _refuse_binary(name, data, nul)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LoadError(name, f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}", line=line) from None
    if "\0" in text:
        return _refuse_binary(name, data, data.find(b"\0"))
    return text


def _refuse_binary(name: str, data: bytes, at: int) -> str:
    raise LoadError(name, f"binary file (NUL byte at offset {at}), not text", line=data.count(b"\n", 0, at) + 1)


def _source(source: str | os.PathLike[str] | bytes, name: str | None, limits: Limits) -> tuple[str, str]:
    if isinstance(source, bytes):
        label = name or "<bytes>"
        if len(source) > limits.max_bytes:
            raise LoadError(label, f"{len(source)} bytes, above the loader's limit of {limits.max_bytes} "
                                   f"(raise {_ENV}MAX_BYTES to read it)")
        return label, decode(label, source)
    label = name or str(source)
    return label, decode(label, read_bytes(source, limits))


# ----------------------------------------------------------------------------- YAML
def yaml_documents(source: str | os.PathLike[str] | bytes, *, name: str | None = None,
                   limits: Limits | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, document)`` for each YAML document; :class:`LoadError` at the first bad one.

    The documents before a bad one have been yielded already, so a caller can keep them.
    """
    limits = limits or Limits.from_environ()
    label, text = _source(source, name, limits)
    loader = _LOADER(text)
    index = 0
    try:
        while True:
            with _collector_paused():
                try:
                    if not loader.check_node():
                        break
                    node = loader.get_node()
                except yaml.YAMLError as exc:
                    raise _yaml_error(label, index, exc) from None
                except RecursionError:
                    raise LoadError(label, f"nested deeper than the loader's limit of {limits.max_depth}",
                                    document=index) from None
                body = None if node is None else _construct(label, index, loader, node, limits)
            yield index, body
            index += 1
    finally:
        loader.dispose()


def _construct(label: str, index: int, loader: Any, node: yaml.Node, limits: Limits) -> Any:
    _check(label, index, node, limits)
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(label, index, exc) from None
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        # e.g. a mapping used as a key (unhashable), a date out of range
        raise LoadError(label, f"YAML cannot be loaded: {type(exc).__name__}: {str(exc)[:200]}",
                        document=index) from None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while one document is built (never across a ``yield``).

    A large document is millions of young objects that all stay alive; each collection
    walks them again, which tripled the time of a 5 MB mapping. Documents that pass the
    checks hold no cycles (recursive aliases are refused), so nothing is left for it to find.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_yaml_all(source: str | os.PathLike[str] | bytes, *, name: str | None = None,
                  limits: Limits | None = None) -> list[Any]:
    """Every document of a YAML stream, or :class:`LoadError`."""
    return [body for _, body in yaml_documents(source, name=name, limits=limits)]


def load_yaml(source: str | os.PathLike[str] | bytes, *, name: str | None = None,
              limits: Limits | None = None) -> Any:
    """The one document of a YAML file (None when empty); a second document is refused."""
    try:
        docs = load_yaml_all(source, name=name, limits=limits)
    except LoadError as exc:
        if exc.document == 0:  # one document expected: no need to number it
            exc.document = None
        raise
    if len(docs) > 1:
        raise LoadError(name or str(source) if not isinstance(source, bytes) else name or "<bytes>",
                        f"{len(docs)} YAML documents where one is expected", document=1)
    return docs[0] if docs else None


def _yaml_error(label: str, index: int, exc: yaml.YAMLError) -> LoadError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        context = f"{context} started at line {context_mark.line + 1}"
    if "maximum nesting depth" in str(problem):
        problem = "nested deeper than YAML's parser allows (1000 levels)"
    cause = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return LoadError(label, cause, document=index, line=mark.line + 1 if mark is not None else None,
                     column=mark.column + 1 if mark is not None else None)


_MERGE = "tag:yaml.org,2002:merge"


def _path(trail: tuple[Any, ...] | None) -> str:
    parts: list[str] = []
    while trail is not None:
        trail, part = trail
        parts.append(part)
    out = ""
    for part in reversed(parts):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _check(label: str, index: int, root: yaml.Node, limits: Limits) -> None:
    """Depth, duplicate keys and aliases of one composed document, without constructing it.

    An alias is the same node object reached twice; it is counted, never walked again, so a
    bomb costs the size of its text. A collection reached again from inside itself is a cycle.
    """
    seen: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, int, Any, yaml.Node | None]] = [(root, 1, None, None)]
    while stack:
        node, depth, trail, parent = stack.pop()
        if id(node) in seen:
            aliases += 1
            if (parent is not None and not isinstance(node, yaml.ScalarNode)
                    and node.start_mark.index <= parent.start_mark.index <= node.end_mark.index):
                raise LoadError(label, "recursive alias: a node contains an alias to itself", document=index,
                                field=_path(trail), line=node.start_mark.line + 1)
            if aliases > limits.max_aliases:
                raise LoadError(label, f"more than {limits.max_aliases} YAML alias uses: refused, not expanded "
                                f"(raise {_ENV}MAX_ALIASES to read it)", document=index, field=_path(trail))
            continue
        seen.add(id(node))
        if depth > limits.max_depth and not isinstance(node, yaml.ScalarNode):
            raise LoadError(label, f"nested deeper than the loader's limit of {limits.max_depth} "
                            f"(raise {_ENV}MAX_DEPTH to read it)", document=index, line=node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            keys: dict[tuple[str, str], yaml.Node] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name is not None and key.tag != _MERGE:
                    first = keys.setdefault((key.tag, name), key)
                    if first is not key:
                        raise LoadError(
                            label, f"duplicate key {name!r} (line {first.start_mark.line + 1} and line "
                            f"{key.start_mark.line + 1}): a mapping holds each key once (kubectl refuses it too)", document=index,
                            field=_path((trail, name)), line=key.start_mark.line + 1)
                here = (trail, name if name is not None else "?")
                stack.append((value, depth + 1, here, node))
                if not isinstance(key, yaml.ScalarNode):
                    stack.append((key, depth + 1, here, node))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, depth + 1, (trail, i), node))
    if aliases:
        expanded = _expanded_size(root, limits.max_alias_nodes + len(seen))
        if expanded > limits.max_alias_nodes + len(seen):
            raise LoadError(label, f"YAML aliases would expand {len(seen)} nodes to more than {expanded}: "
                            f"an alias bomb, refused, not expanded (limit {limits.max_alias_nodes} nodes added "
                            f"by aliases; raise {_ENV}MAX_ALIAS_NODES to read it)", document=index)


def _expanded_size(root: yaml.Node, cap: int) -> int:
    """How many nodes the document would have with every alias expanded (stops counting past ``cap``)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children = _children(node)
        if done:
            total = 1
            for child in children:
                total += size.get(id(child), 0)
                if total > cap:
                    return total
            size[id(node)] = total
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


# ----------------------------------------------------------------------------- JSON
class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def load_json(source: str | os.PathLike[str] | bytes, *, name: str | None = None,
              limits: Limits | None = None) -> Any:
    """One JSON document, with the same refusals as YAML (size, UTF-8, depth, duplicate keys)."""
    limits = limits or Limits.from_environ()
    label, text = _source(source, name, limits)
    return _json(label, text, limits)


def load_json_line(text: str | bytes, *, name: str, line: int, limits: Limits | None = None) -> Any:
    """One record of a JSON Lines file (an audit log), located by its line number."""
    limits = limits or Limits.from_environ()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LoadError(name, f"not UTF-8: byte 0x{text[exc.start]:02x} at column {exc.start + 1}",
                            line=line) from None
    return _json(name, text, limits, line=line)


def _json(label: str, text: str, limits: Limits, line: int | None = None) -> Any:
    try:
        with _collector_paused():
            doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as exc:
        lines = _key_lines(text, exc.key)
        both = f" (line {lines[0]} and line {lines[1]})" if len(lines) >= 2 and line is None else ""
        raise LoadError(label, f"duplicate key {exc.key!r}{both}", line=line) from None
    except json.JSONDecodeError as exc:
        where = exc.lineno if line is None else line
        raise LoadError(label, f"not valid JSON: {exc.msg} (column {exc.colno})", line=where) from None
    except RecursionError:
        raise LoadError(label, f"nested deeper than the loader's limit of {limits.max_depth}", line=line) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise LoadError(label, f"not valid JSON: {str(exc)[:200]}", line=line) from None
    if _depth_over(doc, limits.max_depth):
        raise LoadError(label, f"nested deeper than the loader's limit of {limits.max_depth} "
                        f"(raise {_ENV}MAX_DEPTH to read it)", line=line)
    return doc


def _key_lines(text: str, key: str) -> list[int]:
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)][:2]


def _depth_over(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False


def exists_as_link_or_file(path: str | os.PathLike[str]) -> bool:
    """True for anything at ``path``, a broken or looping symbolic link included."""
    return os.path.lexists(Path(path))
