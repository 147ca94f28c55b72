"""Loading a project's alembic environment the way ``alembic`` itself would, from anywhere.

alembic resolves a relative ``script_location``, ``prepend_sys_path`` and
``version_locations`` against the working directory; goldgate runs from its own checkout,
so every relative path is re-anchored on the folder of ``alembic.ini`` before alembic sees
it (``%(here)s`` already means that folder). Every way a project can fail to load — no
ini, a script folder that is not there, a revision that does not import — becomes
:class:`~goldgate.probes.artifacts.ArtifactUnavailable` naming the file, never a traceback.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldgate.probes.artifacts import ArtifactUnavailable

__all__ = ["LoadedProject", "MigrationScripts", "Revision", "find_ini", "load_project", "project_sys_path",
           "read_scripts"]


@dataclass(frozen=True)
class Revision:
    """One revision file: what it says it does and where it sits in the history."""

    id: str
    down: tuple[str, ...]
    message: str
    path: str
    downgrade_line: int | None = None
    branch_labels: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """``file.py:line`` of its downgrade (or the file alone), for messages a reader can open."""
        name = Path(self.path).name
        return f"{name}:{self.downgrade_line}" if self.downgrade_line else name


@dataclass(frozen=True)
class MigrationScripts:
    """The history as alembic reads it: heads, and every revision oldest first (topological)."""

    project: str  # the alembic.ini the history was read from
    heads: list[str]
    revisions: list[Revision]

    def revision(self, rev_id: str) -> Revision | None:
        return next((r for r in self.revisions if r.id == rev_id), None)


@dataclass
class LoadedProject:
    """A Config and ScriptDirectory anchored on the ini's folder, plus the history they describe."""

    ini: Path
    config: Any  # alembic.config.Config
    script: Any  # alembic.script.ScriptDirectory
    scripts: MigrationScripts
    env_py: Path
    sys_paths: list[str]
    #: the databases of alembic's multidb template (``databases = engine1, engine2`` in the ini),
    #: each with a section holding its sqlalchemy.url; empty for a single-database project
    databases: list[str] = field(default_factory=list)


def find_ini(path: Path) -> Path:
    """``path`` itself when it is a file, else ``path/alembic.ini``; unavailable when absent."""
    ini = path if path.is_file() else path / "alembic.ini"
    if not ini.is_file():
        raise ArtifactUnavailable(ini, "alembic.ini not found")
    return ini.resolve()


def _anchor(value: str, folder: Path) -> str:
    """A path option as alembic should read it: absolute, relative ones taken from ``folder``."""
    if re.match(r"^[\w.]+:[^/\\]", value) and not re.match(r"^[A-Za-z]:[\\/]", value):
        return value  # "package:folder" resource form: not a filesystem path
    path = Path(value)
    return str(path if path.is_absolute() else (folder / path).resolve())


def _pyproject(ini: Path) -> str | None:
    """``pyproject.toml`` beside the ini, which alembic's CLI reads too (``[tool.alembic]``)."""
    toml = ini.parent / "pyproject.toml"
    return str(toml) if toml.is_file() else None


def _config(ini: Path) -> tuple[Any, list[str]]:
    from alembic.config import Config

    cfg = Config(str(ini), toml_file=_pyproject(ini))
    try:
        cfg.file_config  # noqa: B018 - parse now, so a broken ini is named here
        location = cfg.get_alembic_option("script_location")
        sys_paths = [_anchor(p, ini.parent) for p in (cfg.get_prepend_sys_paths_list() or []) if p]
        versions = [_anchor(p, ini.parent) for p in (cfg.get_version_locations_list() or []) if p]
    except Exception as exc:  # configparser's errors have no common base worth naming
        raise ArtifactUnavailable(ini, f"cannot read the alembic configuration: {type(exc).__name__}: "
                                       f"{(str(exc).splitlines() or [''])[0][:200]}") from None
    if not location:
        raise ArtifactUnavailable(ini, "[alembic] script_location is not set")
    anchored = _anchor(str(location), ini.parent)
    if os.path.isabs(anchored) and not Path(anchored).is_dir():
        raise ArtifactUnavailable(ini, f"script_location {location!r}: folder {anchored} not found")
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", anchored.replace("%", "%%"))
    cfg.set_main_option("prepend_sys_path", os.pathsep.join(sys_paths).replace("%", "%%"))
    if versions:
        cfg.set_main_option("version_locations", os.pathsep.join(versions).replace("%", "%%"))
    # config_file_name stays the ini, as alembic's CLI leaves it: env.py files call
    # fileConfig(config.config_file_name) unguarded, and fileConfig(None) raises TypeError.
    # env.py runs in a child process (see .isolation), so its logging setup stays there.
    roots = [str(ini.parent), *sys_paths]
    if os.path.isabs(anchored) and str(Path(anchored).parent) not in roots:
        roots.append(str(Path(anchored).parent))
    return cfg, roots


@contextmanager
def project_sys_path(paths: list[str]) -> Iterator[None]:
    """The project's import roots in front of ``sys.path`` for the duration, then restored.

    alembic itself prepends ``prepend_sys_path`` for good; goldgate loads several projects
    in one process, so it puts the old path back afterwards.
    """
    saved = list(sys.path)
    sys.path[:0] = [p for p in paths if p not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved


def _downgrade_line(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^def downgrade\b", text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _failing_file(exc: BaseException, folder: Path) -> str:
    """The innermost project file in the traceback (the revision that did not import)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(str(folder)):
            return f"{frame.filename}:{frame.lineno}"
    return str(folder)


def load_project(path: Path) -> LoadedProject:
    """Read ``alembic.ini`` (or the folder holding it) and every revision of its history."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    ini = find_ini(path)
    cfg, sys_paths = _config(ini)
    with project_sys_path(sys_paths):
        try:
            script = ScriptDirectory.from_config(cfg)
            # heads → base in topological order, each revision after everything it depends on once reversed
            order = [r.revision for r in reversed(list(script.revision_map.iterate_revisions("heads", "base")))]
            heads = list(script.get_heads())
            scripts = {rev: script.get_revision(rev) for rev in order}
        except SyntaxError as exc:
            raise ArtifactUnavailable(f"{exc.filename}:{exc.lineno}", f"syntax error in a revision: {exc.msg}") from None
        except CommandError as exc:
            raise ArtifactUnavailable(ini, f"alembic cannot read the history: {str(exc).splitlines()[0][:300]}") from None
        except Exception as exc:  # a revision module that raises on import
            where = _failing_file(exc, Path(cfg.get_main_option("script_location") or ini.parent))
            raise ArtifactUnavailable(where, f"revision does not import: {type(exc).__name__}: "
                                             f"{str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
    env_py = Path(script.env_py_location)
    if not env_py.is_file():
        raise ArtifactUnavailable(env_py, "env.py not found in the script folder")
    revisions = []
    for rev_id in order:
        rev = scripts[rev_id]
        down = rev.down_revision
        downs = tuple(down) if isinstance(down, tuple | list) else ((down,) if down else ())
        doc = (rev.doc or "").strip()
        revisions.append(Revision(rev_id, downs, doc.splitlines()[0] if doc else "", str(rev.path),
                                  _downgrade_line(Path(rev.path)), tuple(rev.branch_labels or ())))
    databases = [n for n in re.split(r"[,\s]+", cfg.get_main_option("databases", "") or "") if n]
    return LoadedProject(ini, cfg, script, MigrationScripts(str(ini), heads, revisions), env_py, sys_paths, databases)


def read_scripts(path: Path) -> MigrationScripts:
    """The history of the project at ``path`` (an alembic.ini or the folder holding it)."""
    return load_project(path).scripts
