"""Per-pod network I/O of the sandbox, counted by the kernel's netfilter.

On a cluster the kubelet reads each pod's bytes from the interface of the pod's network
namespace and serves them in its Summary API (guide §8.3 "Network I/O"). The sandbox's
pods share the host's loopback, so nothing separates their bytes — except netfilter:

- one chain per sandbox, ``GGNET-<daemon pid>``, jumped to from ``INPUT -i lo`` and
  ``OUTPUT -o lo``. On loopback every packet crosses OUTPUT (sender) then INPUT
  (receiver); marks are set on whichever side knows the pod, bytes are counted only on
  INPUT (``-i lo`` never matches in OUTPUT), so each packet is counted once;
- a pod's id is its lowest host port (unique on the machine while bound, so two
  sandboxes on one machine never share an id). Each connection's conntrack mark holds
  two ids: the low 16 bits the pod that opened it (set on OUTPUT by ``-m cgroup --path``,
  the pod's processes run in a cgroup v2 directory of their own), the high 16 bits the
  pod that serves it (set on INPUT by ``--dport <host port>``). A pod-to-pod request so
  counts for both pods;
- four counting rules per pod (``-m connmark`` on its id, ``--ctdir ORIGINAL|REPLY``)
  give the bytes it received and sent as server and as client; ``counters()`` reads the
  chain once (``iptables -L -v -n -x``) and sums them.

Without iptables or without the right to use it (not root), accounting is off: one log
line says why and pods simply have no network statistics, as a hostNetwork pod has none.
Without a cgroup v2 mount only the served traffic is counted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import pathlib
import re
import shutil
import subprocess
import threading

log = logging.getLogger("goldgate.sandbox.netaccount")

CHAIN_PREFIX = "GGNET-"
#: Seconds one iptables call may take (``-w 5`` waits up to 5 s for the xtables lock).
CALL_TIMEOUT_S = 10.0
#: The sandbox's cgroup v2 directory, under the unified hierarchy's root.
CGROUP_DIR = "goldgate-netio"
_LOW, _HIGH = 0xFFFF, 0xFFFF0000
_SEQ = itertools.count()
_COUNTER = re.compile(r"^\s*\d+\s+(\d+)\s.*/\* (\S+) (served|client)-(rx|tx) \*/\s*$")
_CHAIN_NAME = re.compile(rf"^-N ({CHAIN_PREFIX}(\d+)(?:-\d+)?)$")

PodKey = tuple[str, str]


class IptablesError(Exception):
    """iptables is missing or refused; the message says which."""


def parse_counters(text: str) -> dict[PodKey, tuple[int, int]]:
    """``{(namespace, pod): (rx_bytes, tx_bytes)}`` from ``iptables -L CHAIN -v -n -x``."""
    out: dict[PodKey, list[int]] = {}
    for line in text.splitlines():
        m = _COUNTER.match(line)
        if not m or "/" not in m.group(2):
            continue
        namespace, pod = m.group(2).split("/", 1)
        totals = out.setdefault((namespace, pod), [0, 0])
        totals[0 if m.group(4) == "rx" else 1] += int(m.group(1))
    return {k: (v[0], v[1]) for k, v in out.items()}


def cgroup2_root(mounts: pathlib.Path = pathlib.Path("/proc/self/mounts")) -> pathlib.Path | None:
    """Where the unified (cgroup v2) hierarchy is mounted, if it is."""
    with contextlib.suppress(OSError):
        for line in mounts.read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return pathlib.Path(fields[1])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclasses.dataclass
class _Pod:
    pod_id: int
    rules: list[list[str]]
    cgroup: pathlib.Path | None


class NetAccount:
    """One sandbox's chain: pods are added when they get host ports, removed when they end."""

    def __init__(self, chain: str, iptables: str, cgroups: pathlib.Path | None,
                 cgroup_root: pathlib.Path | None) -> None:
        self.chain = chain
        self._iptables = iptables
        #: This sandbox's cgroup directory (pods get one below it); None: no outbound counting.
        self.cgroups = cgroups
        self._cgroup_root = cgroup_root
        self._pods: dict[PodKey, _Pod] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- start / stop
    @classmethod
    def start(cls, path_env: str | None = None) -> NetAccount | None:
        """Create this sandbox's chain (sweeping dead sandboxes' chains first); None when off."""
        try:
            iptables = shutil.which("iptables", path=path_env if path_env is not None
                                    else os.environ.get("PATH"))
            if iptables is None:
                raise IptablesError("iptables is not on PATH")
            sweep_stale(iptables)
            seq = next(_SEQ)
            chain = f"{CHAIN_PREFIX}{os.getpid()}" + (f"-{seq}" if seq else "")
            _run(iptables, "-N", chain)
            account = cls(chain, iptables, None, None)
            account._jump("-I")
        except IptablesError as exc:
            log.info("per-pod network accounting is off: %s", exc)
            return None
        account._make_cgroups()
        log.info("per-pod network accounting in iptables chain %s (%s)", chain,
                 "served and outbound traffic" if account.cgroups else
                 "served traffic only: no cgroup v2 directory for the pods")
        return account

    def _jump(self, op: str) -> None:
        _run(self._iptables, op, "INPUT", "-i", "lo", "-j", self.chain)
        _run(self._iptables, op, "OUTPUT", "-o", "lo", "-j", self.chain)

    def _make_cgroups(self) -> None:
        root = cgroup2_root()
        if root is None:
            return
        directory = root / CGROUP_DIR / self.chain
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.info("no cgroup v2 directory for the pods (%s): outbound traffic is not counted", exc)
            return
        self.cgroups, self._cgroup_root = directory, root

    def stop(self) -> None:
        """Remove the chain with every rule (one flush, not a delete per rule) and the cgroup directories."""
        with self._lock:
            self._pods.clear()
        _remove_chain(self._iptables, self.chain)
        if self.cgroups is not None:
            _rmdir_tree(self.cgroups)

    # ---------------------------------------------------------------- pods
    def pod_cgroup(self, key: PodKey) -> pathlib.Path | None:
        """The pod's cgroup directory (created here), whose ``cgroup.procs`` its processes join."""
        if self.cgroups is None:
            return None
        directory = self.cgroups / f"{key[0]}_{key[1]}"
        try:
            directory.mkdir(exist_ok=True)
        except OSError as exc:
            log.warning("pod %s/%s: no cgroup for network accounting: %s", *key, exc)
            return None
        return directory

    def set_pod(self, key: PodKey, host_ports: list[int]) -> None:
        """(Re)write the pod's rules for its current host ports."""
        self.remove_pod(key, keep_cgroup=True)
        if not host_ports:
            return
        pod_id = min(host_ports)
        if not 0 < pod_id <= 0xFFFF:
            return
        label = f"{key[0]}/{key[1]}"
        ids = {"client": (f"{pod_id:#x}/{_LOW:#x}", _LOW), "served": (f"{pod_id << 16:#x}/{_HIGH:#x}", _HIGH)}
        marks: list[list[str]] = [
            ["-i", "lo", "-p", "tcp", "--dport", str(port), "-m", "conntrack", "--ctstate", "NEW",
             "-j", "CONNMARK", "--set-xmark", ids["served"][0], "-m", "comment", "--comment", f"{label} mark"]
            for port in sorted(set(host_ports))]
        cgroup = self.cgroups / f"{key[0]}_{key[1]}" if self.cgroups else None
        if cgroup is not None and cgroup.is_dir() and self._cgroup_root is not None:
            marks.append(["-o", "lo", "-m", "cgroup", "--path", str(cgroup.relative_to(self._cgroup_root)),
                          "-m", "conntrack", "--ctstate", "NEW", "-j", "CONNMARK", "--set-xmark",
                          ids["client"][0], "-m", "comment", "--comment", f"{label} mark"])
        counts = [["-i", "lo", "-m", "connmark", "--mark", ids[role][0], "-m", "conntrack", "--ctdir",
                   direction, "-m", "comment", "--comment", f"{label} {role}-{rx_tx}"]
                  for role in ("served", "client")
                  for direction, rx_tx in ((("ORIGINAL", "rx"), ("REPLY", "tx")) if role == "served"
                                           else (("ORIGINAL", "tx"), ("REPLY", "rx")))]
        done: list[list[str]] = []
        try:
            for rule in marks:  # marks first in the chain: a connection's first packet is counted
                _run(self._iptables, "-I", self.chain, "1", *rule)
                done.append(rule)
            for rule in counts:
                _run(self._iptables, "-A", self.chain, *rule)
                done.append(rule)
        except IptablesError as exc:
            log.warning("pod %s: network accounting rules not added: %s", label, exc)
        with self._lock:
            self._pods[key] = _Pod(pod_id, done, cgroup)

    def remove_pod(self, key: PodKey, *, keep_cgroup: bool = False) -> None:
        with self._lock:
            pod = self._pods.pop(key, None)
        if pod is None:
            if not keep_cgroup and self.cgroups is not None:
                _rmdir_tree(self.cgroups / f"{key[0]}_{key[1]}")
            return
        for rule in pod.rules:
            with contextlib.suppress(IptablesError):
                _run(self._iptables, "-D", self.chain, *rule)
        if not keep_cgroup and pod.cgroup is not None:
            _rmdir_tree(pod.cgroup)

    def pods(self) -> list[PodKey]:
        with self._lock:
            return list(self._pods)

    # ---------------------------------------------------------------- reading
    def counters(self) -> dict[PodKey, tuple[int, int]]:
        """Bytes received and sent by every accounted pod: one read of the chain."""
        try:
            text = _run(self._iptables, "-L", self.chain, "-v", "-n", "-x")
        except IptablesError as exc:
            log.warning("network counters unreadable: %s", exc)
            return {}
        parsed = parse_counters(text)
        with self._lock:
            return {k: parsed.get(k, (0, 0)) for k in self._pods}


def join_cgroup(directory: pathlib.Path | None) -> object:
    """A ``preexec_fn`` putting the new process into ``directory`` before it execs.

    It runs in the forked child, so it only writes pre-encoded bytes (no logging, no
    locks); a failure leaves the process where it is (its outbound bytes then go uncounted).
    """
    if directory is None:
        return None
    path = os.fsencode(directory / "cgroup.procs")

    def preexec() -> None:
        try:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        except OSError:
            pass

    return preexec


def sweep_stale(iptables: str) -> list[str]:
    """Remove the chains (and cgroup directories) of sandboxes whose daemon is gone."""
    removed = []
    for line in _run(iptables, "-S").splitlines():
        m = _CHAIN_NAME.match(line.strip())
        if m and not _alive(int(m.group(2))):
            _remove_chain(iptables, m.group(1))
            removed.append(m.group(1))
    root = cgroup2_root()
    with contextlib.suppress(OSError):  # a cgroup tree we may not read is left as it is
        for directory in (root / CGROUP_DIR).iterdir() if root is not None else ():
            m = re.match(rf"^{CHAIN_PREFIX}(\d+)", directory.name)
            if m and not _alive(int(m.group(1))):
                _rmdir_tree(directory)
    if removed:
        log.info("removed network accounting chains of stopped sandboxes: %s", ", ".join(removed))
    return removed


def _remove_chain(iptables: str, chain: str) -> None:
    for hook, iface in (("INPUT", "-i"), ("OUTPUT", "-o")):
        for _ in range(5):  # a jump inserted twice is removed twice, boundedly
            try:
                _run(iptables, "-D", hook, iface, "lo", "-j", chain)
            except IptablesError:
                break
    for op in ("-F", "-X"):
        with contextlib.suppress(IptablesError):
            _run(iptables, op, chain)


def _rmdir_tree(directory: pathlib.Path) -> None:
    """Remove an (empty of processes) cgroup tree, leaves first; busy ones stay."""
    with contextlib.suppress(OSError):
        for child in directory.iterdir():
            if child.is_dir():
                _rmdir_tree(child)
        directory.rmdir()


def _run(iptables: str, *args: str) -> str:
    """One bounded iptables call; any failure becomes IptablesError with iptables' own words."""
    try:
        proc = subprocess.run([iptables, "-w", "5", *args], capture_output=True, text=True,
                              timeout=CALL_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise IptablesError(f"{iptables} {' '.join(args[:2])}: {exc}") from None
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[0]
        raise IptablesError(f"iptables {' '.join(args[:2])}: {reason}")
    return proc.stdout
