"""RBAC authorization for ServiceAccount tokens, as the API server's RBAC authorizer decides.

Only a pod's account is authorized here: the admin kubeconfig's token (goldgate's own runs,
kubectl from the shell) is the cluster admin and skips this, as ``system:masters`` does.
The rules follow upstream (rbac.authorization.k8s.io/v1, "Using RBAC Authorization"):

- permissions only add up, nothing denies; a request is allowed when one rule of one role
  bound to the user (or to one of its groups) matches verb, API group, resource and name;
- a RoleBinding grants its Role's (or a ClusterRole's) rules in the binding's namespace
  only; a ClusterRoleBinding grants a ClusterRole everywhere, cluster-scoped kinds included;
- verbs: GET on a name is ``get``, on a collection ``list`` (``watch`` with ``?watch``),
  POST ``create``, PUT ``update``, PATCH ``patch``, DELETE ``delete`` /
  ``deletecollection``; ``*`` matches any verb, group or resource;
- a subresource is named ``pods/log``; ``*/scale`` matches every ``scale`` subresource,
  plain ``pods`` does not cover ``pods/log``;
- ``resourceNames`` restricts a rule to named objects, so it never matches a request
  without a name (create, or list / watch / deletecollection unless their field selector
  requires ``metadata.name``, which names the object as upstream's request info does).

Discovery and health paths are open to every authenticated user (``system:discovery``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goldgate.sandbox.apiserver.status import ApiError
from goldgate.sandbox.store import Store

Obj = dict[str, Any]

ROLES, CLUSTER_ROLES = "roles", "clusterroles"
ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS = "rolebindings", "clusterrolebindings"


@dataclass(frozen=True)
class ServiceAccountUser:
    """The user a ServiceAccount token authenticates as."""

    namespace: str
    name: str

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"

    @property
    def groups(self) -> tuple[str, ...]:
        return ("system:serviceaccounts", f"system:serviceaccounts:{self.namespace}", "system:authenticated")


@dataclass(frozen=True)
class Attributes:
    """What a request asks for, in the authorizer's terms."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


#: Collection verbs whose ``fieldSelector=metadata.name=X`` names the object (a single-object
#: watch, as informers of one object do), so a rule's resourceNames can grant them.
COLLECTION_VERBS = ("list", "watch", "deletecollection")


def selector_name(field_selector: str) -> str:
    """X of a field selector that requires exactly ``metadata.name=X`` (or ``==X``), else ""."""
    terms = [t.strip() for t in field_selector.split(",") if t.strip()]
    for term in terms:
        key, sep, value = term.partition("==") if "==" in term else term.partition("=")
        if sep and key.strip() == "metadata.name" and not key.endswith("!"):
            return value.strip()
    return ""


def request_verb(method: str, has_name: bool, watching: bool) -> str:
    """The RBAC verb of an HTTP method on a resource path."""
    if method in ("GET", "HEAD"):
        if watching:
            return "watch"
        return "get" if has_name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if has_name else "deletecollection"
    return method.lower()


def _binds(subjects: list[Obj] | None, user: ServiceAccountUser) -> bool:
    for s in subjects or []:
        kind, name = s.get("kind"), s.get("name")
        if kind == "ServiceAccount" and name == user.name and s.get("namespace") == user.namespace:
            return True
        if kind == "User" and name == user.username:
            return True
        if kind == "Group" and name in user.groups:
            return True
    return False


def _rule_allows(rule: Obj, attrs: Attributes) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.group not in groups:
        return False
    resources = rule.get("resources") or []
    if not any(r == "*" or r == attrs.combined or (attrs.subresource and r == f"*/{attrs.subresource}")
               for r in resources):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def _role_rules(store: Store, ref: Obj, binding_namespace: str | None) -> list[Obj]:
    """The rules a binding's roleRef points at; a dangling reference grants nothing."""
    kind, name = ref.get("kind"), ref.get("name", "")
    if kind == "Role" and binding_namespace:
        role = store.find(ROLES, binding_namespace, name)
    elif kind == "ClusterRole":
        role = store.find(CLUSTER_ROLES, None, name)
    else:
        role = None
    return list((role or {}).get("rules") or [])


def allowed(store: Store, user: ServiceAccountUser, attrs: Attributes) -> bool:
    for crb in store.list(CLUSTER_ROLE_BINDINGS, copy_items=False)[0]:
        if _binds(crb.get("subjects"), user) and any(
                _rule_allows(r, attrs) for r in _role_rules(store, crb.get("roleRef") or {}, None)):
            return True
    if not attrs.namespace:
        return False
    for rb in store.list(ROLE_BINDINGS, attrs.namespace, copy_items=False)[0]:
        if _binds(rb.get("subjects"), user) and any(
                _rule_allows(r, attrs) for r in _role_rules(store, rb.get("roleRef") or {}, attrs.namespace)):
            return True
    return False


def forbidden(user: ServiceAccountUser, attrs: Attributes) -> ApiError:
    """The API server's answer, word for word: who, which verb, which resource, where."""
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    what = f'{attrs.resource}.{attrs.group}' if attrs.group else attrs.resource
    subject = f'{what} "{attrs.name}"' if attrs.name else what
    message = (f'{subject} is forbidden: User "{user.username}" cannot {attrs.verb} resource '
               f'"{attrs.combined}" in API group "{attrs.group}" {scope}')
    details: Obj = {"kind": attrs.resource}
    if attrs.group:
        details["group"] = attrs.group
    if attrs.name:
        details["name"] = attrs.name
    return ApiError(403, message, "Forbidden", details)


def authorize(store: Store, user: ServiceAccountUser | None, attrs: Attributes) -> None:
    """Raise the 403 Status unless ``user`` (None = the admin) may do ``attrs``."""
    if user is not None and not allowed(store, user, attrs):
        raise forbidden(user, attrs)
