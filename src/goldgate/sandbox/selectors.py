"""Kubernetes label and field selectors, as the API server and controllers apply them.

Two spellings reach the sandbox: the query-string form kubectl sends
(``app=trading-bot,tier!=db,env in (a,b),!legacy``) and the structured
``LabelSelector`` of a Deployment (``matchLabels`` + ``matchExpressions``).
Both are compiled to the same list of requirements so they cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A selector that does not parse; the API server answers 400 with this text."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # In, NotIn, Exists, DoesNotExist
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "Exists":
            return self.key in labels
        if self.op == "DoesNotExist":
            return self.key not in labels
        if self.op == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        raise SelectorError(f"unknown operator {self.op!r}")


_SET_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    terms, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return [t.strip() for t in terms if t.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse kubectl's ``-l`` syntax; an empty selector matches everything."""
    if not text:
        return []
    reqs: list[Requirement] = []
    for term in _split_terms(text):
        m = _SET_RE.match(term)
        if m:
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), "In" if m.group(2) == "in" else "NotIn", values))
        elif "!=" in term:
            k, v = term.split("!=", 1)
            reqs.append(Requirement(k.strip(), "NotIn", frozenset([v.strip()])))
        elif "==" in term:
            k, v = term.split("==", 1)
            reqs.append(Requirement(k.strip(), "In", frozenset([v.strip()])))
        elif "=" in term:
            k, v = term.split("=", 1)
            reqs.append(Requirement(k.strip(), "In", frozenset([v.strip()])))
        elif term.startswith("!"):
            reqs.append(Requirement(term[1:].strip(), "DoesNotExist"))
        elif re.fullmatch(r"[A-Za-z0-9_./-]+", term):
            reqs.append(Requirement(term, "Exists"))
        else:
            raise SelectorError(f"unable to parse requirement: {term!r}")
    return reqs


def compile_label_selector(selector: Mapping[str, Any] | None) -> list[Requirement]:
    """Compile a structured LabelSelector (matchLabels + matchExpressions)."""
    if not selector:
        return []
    reqs = [
        Requirement(k, "In", frozenset([str(v)]))
        for k, v in (selector.get("matchLabels") or {}).items()
    ]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        if op not in {"In", "NotIn", "Exists", "DoesNotExist"}:
            raise SelectorError(f"unknown operator {op!r} in matchExpressions")
        reqs.append(Requirement(expr["key"], op, frozenset(str(v) for v in expr.get("values") or [])))
    return reqs


def matches(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


def parse_field_selector(text: str | None) -> list[tuple[str, str, str]]:
    """Parse ``metadata.name=x,status.phase!=Running`` into (path, op, value) triples."""
    if not text:
        return []
    out = []
    for term in _split_terms(text):
        if "!=" in term:
            path, value = term.split("!=", 1)
            out.append((path.strip(), "!=", value.strip()))
        elif "==" in term:
            path, value = term.split("==", 1)
            out.append((path.strip(), "=", value.strip()))
        elif "=" in term:
            path, value = term.split("=", 1)
            out.append((path.strip(), "=", value.strip()))
        else:
            raise SelectorError(f"invalid field selector: {term!r}")
    return out


def field_value(obj: Mapping[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def fields_match(terms: list[tuple[str, str, str]], obj: Mapping[str, Any]) -> bool:
    for path, op, value in terms:
        actual = field_value(obj, path)
        if (op == "=" and actual != value) or (op == "!=" and actual == value):
            return False
    return True
