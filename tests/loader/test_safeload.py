"""The one safe loader: every refusal is one LoadError naming file, document, field and cause."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from goldgate import safeload
from goldgate.safeload import Limits, LoadError

BOMB = b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [".encode() + b",".join([f"*{chr(97 + i)}".encode()] * 9) + b"]\n"
    for i in range(8))


def _refusal(data: bytes, name: str = "in.yaml", **limits: int) -> LoadError:
    with pytest.raises(LoadError) as info:
        safeload.load_yaml_all(data, name=name, limits=Limits(**limits) if limits else None)
    message = str(info.value)
    assert "\n" not in message and message.startswith(name), message
    return info.value


def test_duplicate_key_names_the_key_both_lines_and_the_field() -> None:
    exc = _refusal(b"kind: Deployment\nspec:\n  replicas: 1\n  replicas: 3\n")
    assert exc.document == 0 and exc.field == "spec.replicas" and exc.line == 4
    assert "duplicate key 'replicas' (line 3 and line 4)" in str(exc)


def test_duplicate_key_in_a_later_document_keeps_the_earlier_ones() -> None:
    got = []
    with pytest.raises(LoadError) as info:
        for index, body in safeload.yaml_documents(b"a: 1\n---\nb: 1\nb: 2\n", name="m.yaml"):
            got.append((index, body))
    assert got == [(0, {"a": 1})] and info.value.document == 1


def test_merge_keys_and_a_few_aliases_are_accepted() -> None:
    assert safeload.load_yaml(b"x: &x {a: 1}\ny: *x\nz: {<<: *x, b: 2}\n") == {
        "x": {"a": 1}, "y": {"a": 1}, "z": {"a": 1, "b": 2}}


def test_not_utf8_names_the_byte_and_its_offset() -> None:
    exc = _refusal(b"name: ok\nowner: caf\xe9\n")
    assert "not UTF-8: byte 0xe9 at offset 19" in str(exc) and exc.line == 2


def test_binary_is_refused() -> None:
    assert "binary file (NUL byte at offset 3)" in str(_refusal(b"a: \x00\x01"))


@pytest.mark.parametrize("data", [
    b"[" * 10_000 + b"]" * 10_000,
    b"{a: " * 10_000 + b"1" + b"}" * 10_000,
    b"- " * 10_000 + b"x\n",
    b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 300)),
])
def test_ten_thousand_deep_nesting_is_refused_without_recursion(data: bytes) -> None:
    assert "nested deeper than" in str(_refusal(data))


def test_depth_limit_is_overridable() -> None:
    data = ("".join(" " * i + f"k{i}:\n" for i in range(120)) + " " * 120 + "v: 1\n").encode()
    assert "the loader's limit of 100" in str(_refusal(data))
    assert safeload.load_yaml(data, limits=Limits(max_depth=200))


def test_alias_bomb_is_refused_not_expanded() -> None:
    start = time.perf_counter()
    exc = _refusal(BOMB)
    assert "alias bomb, refused, not expanded" in str(exc)
    assert time.perf_counter() - start < 5  # generous: expanded, it would be 387 million nodes


def test_alias_uses_beyond_the_budget_are_refused() -> None:
    data = b"a: &a x\nb: [" + b", ".join([b"*a"] * 150) + b"]\n"
    assert "more than 100 YAML alias uses" in str(_refusal(data))
    assert len(safeload.load_yaml(data, limits=Limits(max_aliases=200))["b"]) == 150


def test_recursive_alias_is_refused() -> None:
    assert "recursive alias" in str(_refusal(b"a: &a [x, *a]\n"))


def test_size_limit_refuses_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:  # 20 MB of valid YAML
        fh.write(b"items:\n" + b"- {name: x, value: 1}\n" * (20_000_000 // 22))
    start = time.perf_counter()
    with pytest.raises(LoadError, match=r"big\.yaml: \d+ bytes, above the loader's limit of 8388608"):
        safeload.load_yaml(big)
    assert time.perf_counter() - start < 5
    monkeypatch.setenv("GOLDGATE_LOADER_MAX_BYTES", "100")
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: " + b"x" * 200 + b"\n")
    with pytest.raises(LoadError, match="GOLDGATE_LOADER_MAX_BYTES"):
        safeload.load_yaml(small)


def test_limits_from_the_environment_are_checked() -> None:
    assert Limits.from_environ({"GOLDGATE_LOADER_MAX_DEPTH": "7"}).max_depth == 7
    with pytest.raises(LoadError, match="GOLDGATE_LOADER_MAX_DEPTH: expected a whole number"):
        Limits.from_environ({"GOLDGATE_LOADER_MAX_DEPTH": "deep"})


def test_paths_that_cannot_be_read_are_named(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    (tmp_path / "dangling.yaml").symlink_to("gone.yaml")
    (tmp_path / "folder.yaml").mkdir()
    os.mkfifo(tmp_path / "fifo.yaml")
    causes = {}
    for name in ("loop.yaml", "dangling.yaml", "folder.yaml", "fifo.yaml", "absent.yaml"):
        with pytest.raises(LoadError) as info:
            safeload.load_yaml(tmp_path / name)
        causes[name] = info.value.cause
    assert causes == {
        "loop.yaml": "symbolic link loop: the link never reaches a file",
        "dangling.yaml": "dangling symbolic link (to 'gone.yaml', which does not exist)",
        "folder.yaml": "is a directory, not a file",
        "fifo.yaml": "not a regular file (a FIFO, socket or device): refused",
        "absent.yaml": "no such file",
    }


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_is_named(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n")
    path.chmod(0)
    with pytest.raises(LoadError, match="permission denied"):
        safeload.load_yaml(path)


def test_json_refusals() -> None:
    with pytest.raises(LoadError, match=r"duplicate key 'decision' \(line 1 and line 2\)"):
        safeload.load_json(b'{"decision": "NO-GO",\n "decision": "GO"}', name="v.json")
    with pytest.raises(LoadError, match="nested deeper than"):
        safeload.load_json(b"[" * 10_000 + b"]" * 10_000, name="v.json")
    with pytest.raises(LoadError, match=r"v\.json: line 1: not valid JSON"):
        safeload.load_json(b'{"decision": ', name="v.json")
    with pytest.raises(LoadError, match="not UTF-8"):
        safeload.load_json(b'{"a": "\xff"}', name="v.json")
    with pytest.raises(LoadError, match=r"a\.jsonl: line 7: not UTF-8"):
        safeload.load_json_line(b'{"a": "\xff"}', name="a.jsonl", line=7)
