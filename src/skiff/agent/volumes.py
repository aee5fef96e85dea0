"""`VolumeManager`: a pod's volumes as host directories, the mounts each container gets, and the
files kubelet manages for every pod (``/etc/hosts``, ``/etc/hostname``, ``/etc/resolv.conf``, the
termination message file).

Layout (kubelet's): ``<pods_dir>/<pod-uid>/volumes/<plugin>/<volume>`` with kubelet's plugin
names (``kubernetes.io~empty-dir``, ``~configmap``, ``~secret``, ``~downward-api``,
``~projected``); ``<pods_dir>/<uid>/etc-hosts``, ``etc-hostname``, ``resolv.conf`` and
``containers/<name>/termination-log``.

Volume types:
- emptyDir: a directory (mode 0777). ``medium: Memory`` is a tmpfs mounted on it (``size`` from
  ``sizeLimit``) when the agent runs as root; without root it is a plain directory (said in the
  log once).
- hostPath: the host path itself, after kubelet's type check (``DirectoryOrCreate``, ``Directory``,
  ``FileOrCreate``, ``File``, ``Socket``, ``CharDevice``, ``BlockDevice``).
- configMap, secret, downwardAPI, projected (configMap / secret / downwardAPI sources): files
  written by an *atomic writer* as kubelet's ``pkg/volume/util/atomic_writer.go`` does - the
  payload goes into a fresh timestamped ``..<time>`` directory, the ``..data`` symlink is swapped to
  it with one rename, and the visible names are symlinks through ``..data`` - so a reader never sees
  half an update. `VolumeManager.refresh` rewrites them in place when sources change. File modes
  are ``defaultMode`` / per-item ``mode`` (0644 by default, secrets too, as kubelet). These volumes
  are always mounted read-only (kubelet since 1.10).
- ``securityContext.fsGroup`` (root only): emptyDir and API-data volumes are group-owned by it,
  setgid, group-readable (writable for emptyDir), as kubelet's ``SetVolumeOwnership``.
- projected serviceAccountToken: refused (`VolumeError`) - a token needs the TokenRequest API,
  which skiff does not serve yet.
- persistentVolumeClaim: `VolumeError` (``FailedMount``) until volume provisioning exists; the
  agent retries, so the pod waits.

`VolumeManager.mounts` turns ``volumeMounts`` (``subPath`` / ``subPathExpr``, ``readOnly``) into
runtime `Mount` s. A subPath is created under the volume if missing and must stay inside it:
absolute paths and ``..`` are refused, and so is a path that leaves the volume through a symlink
(checked on the resolved path; kubelet additionally pins the path with an open fd against a
container racing to swap a symlink in - not done here).

DNS: ``dnsPolicy`` Default (the host's resolv.conf), None (only ``dnsConfig``), ClusterFirst (the
cluster DNS servers given to the manager, search ``<ns>.svc.<domain> svc.<domain> <domain>``,
``ndots:5``). Cluster DNS does not exist yet: with no ``cluster_dns`` configured, ClusterFirst falls
back to the host's resolv.conf, as kubelet does when it has no cluster DNS IP. ``dnsConfig`` is
merged into every policy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from skiff.agent.envvars import (
    ConfigError,
    SourceLookup,
    expand,
    field_value,
    resource_value,
)
from skiff.api.quantity import QuantityError, parse_quantity
from skiff.runtime.types import DNSConfig, Mount

__all__ = [
    "DEFAULT_TERMINATION_MESSAGE_PATH",
    "PLUGIN_DIRS",
    "VolumeError",
    "VolumeManager",
    "dns_config",
    "format_resolv_conf",
    "hosts_file",
    "write_atomic",
]

log = logging.getLogger(__name__)

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}
_API_DATA = ("configMap", "secret", "downwardAPI", "projected")
_DEFAULT_MODE = 0o644
_DATA_LINK = "..data"
_MAX_NAMESERVERS = 3
_MAX_SEARCHES = 32


class VolumeError(Exception):
    """A volume cannot be set up; the message is what the FailedMount event shows."""

    reason = "FailedMount"

    def __init__(self, message: str, *, volume: str = "") -> None:
        super().__init__(message)
        self.volume = volume


# ---- the atomic writer


def _check_payload_path(rel: str) -> None:
    parts = rel.split("/")
    if not rel or rel.startswith(("/", "..")) or ".." in parts:
        raise VolumeError(f"invalid path {rel!r}: must be relative, without '..'")


def _same_payload(
    directory: Path, payload: Mapping[str, tuple[bytes, int]], fs_group: int | None
) -> bool:
    found: dict[str, Path] = {}
    for root, _, files in os.walk(directory):
        for name in files:
            full = Path(root) / name
            found[str(full.relative_to(directory))] = full
    if set(found) != set(payload):
        return False
    for rel, (content, mode) in payload.items():
        st = found[rel].lstat()
        if stat.S_IMODE(st.st_mode) != mode or found[rel].read_bytes() != content:
            return False
        if fs_group is not None and st.st_gid != fs_group:
            return False
    return True


def _own_dir(path: Path, fs_group: int | None, mode: int) -> None:
    if fs_group is None:
        os.chmod(path, mode)
        return
    # kubelet's SetVolumeOwnership: group-owned by fsGroup, setgid so new files inherit it
    os.chown(path, -1, fs_group)
    os.chmod(path, mode | stat.S_ISGID | 0o050)


def write_atomic(
    target: Path, payload: Mapping[str, tuple[bytes, int]], *, fs_group: int | None = None
) -> bool:
    """Make ``target`` hold exactly ``payload`` (relative path -> (content, mode)) the way
    kubelet's AtomicWriter does; returns False when it already did (nothing written).

    ``fs_group`` (the pod's securityContext.fsGroup; needs root) makes every file and directory
    group-owned by it and group-readable, as kubelet's volume ownership step does.
    Blocking: call it in a thread from async code."""
    for rel in payload:
        _check_payload_path(rel)
    if fs_group is not None:
        payload = {rel: (content, mode | 0o440) for rel, (content, mode) in payload.items()}
    target.mkdir(parents=True, exist_ok=True)
    if fs_group is not None:
        _own_dir(target, fs_group, 0o755)
    data_link = target / _DATA_LINK
    old = os.readlink(data_link) if data_link.is_symlink() else None
    if old is not None and _same_payload(target / old, payload, fs_group):
        return False
    stamp = time.strftime("%Y_%m_%d_%H_%M_%S", time.gmtime())
    fresh = Path(tempfile.mkdtemp(prefix=f"..{stamp}.", dir=target))
    _own_dir(fresh, fs_group, 0o755)
    for rel, (content, mode) in sorted(payload.items()):
        path = fresh / rel
        for parent in reversed(path.relative_to(fresh).parents):
            if parent != Path("."):
                try:
                    (fresh / parent).mkdir(mode=0o755)
                except FileExistsError:
                    continue
                _own_dir(fresh / parent, fs_group, 0o755)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            os.write(fd, content)
            if fs_group is not None:
                os.fchown(fd, -1, fs_group)
            os.fchmod(fd, mode)  # the umask must not narrow the mode
        finally:
            os.close(fd)
    tmp_link = target / (_DATA_LINK + "_tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(fresh.name, tmp_link)
    os.rename(tmp_link, data_link)  # the atomic switch
    visible = {rel.split("/")[0] for rel in payload}
    for name in visible:
        link = target / name
        if not link.is_symlink() and not link.exists():
            os.symlink(f"{_DATA_LINK}/{name}", link)
    for entry in os.listdir(target):
        if entry.startswith(".."):
            continue
        if entry not in visible and (target / entry).is_symlink():
            (target / entry).unlink()
    if old is not None and old != fresh.name:
        shutil.rmtree(target / old, ignore_errors=True)
    return True


# ---- managed files


def _hostname(pod: Mapping[str, Any]) -> str:
    spec = pod.get("spec") or {}
    name = str(spec.get("hostname") or (pod.get("metadata") or {}).get("name") or "")
    # kubelet truncates a pod name used as hostname to 63 characters
    return name[:63].rstrip("-.")


def hosts_file(
    pod: Mapping[str, Any], pod_ips: Sequence[str], *, host_hosts: str = "", cluster_domain: str
) -> str:
    """The pod's /etc/hosts: the host's file for hostNetwork pods, else localhost entries and the
    pod's own names; then ``hostAliases``."""
    spec = pod.get("spec") or {}
    lines: list[str] = []
    if spec.get("hostNetwork"):
        lines.append(host_hosts.rstrip("\n"))
    else:
        lines += [
            "# Kubernetes-managed hosts file (written by skiff).",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        ]
        hostname = _hostname(pod)
        namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
        subdomain = spec.get("subdomain")
        for ip in pod_ips:
            if subdomain:
                fqdn = f"{hostname}.{subdomain}.{namespace}.svc.{cluster_domain}"
                lines.append(f"{ip}\t{fqdn}\t{hostname}")
            else:
                lines.append(f"{ip}\t{hostname}")
    aliases = spec.get("hostAliases") or []
    if aliases:
        lines.append("")
        lines.append("# Entries added by HostAliases.")
        for alias in aliases:
            names = "\t".join(str(h) for h in alias.get("hostnames") or ())
            lines.append(f"{alias.get('ip', '')}\t{names}")
    return "\n".join(lines) + "\n"


def _parse_resolv_conf(text: str) -> DNSConfig:
    nameservers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            nameservers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            searches = fields[1:]  # the last search/domain line wins
        elif fields[0] == "options":
            options += fields[1:]
    return DNSConfig(tuple(nameservers), tuple(searches), tuple(options))


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def dns_config(
    pod: Mapping[str, Any],
    *,
    host_resolv_conf: str,
    cluster_dns: Sequence[str] = (),
    cluster_domain: str = "cluster.local",
) -> DNSConfig:
    """The pod's resolver configuration from ``dnsPolicy`` and ``dnsConfig`` (see the module
    docstring; kubelet's ``pkg/kubelet/network/dns``)."""
    spec = pod.get("spec") or {}
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    policy = str(spec.get("dnsPolicy") or "ClusterFirst")
    if policy == "ClusterFirstWithHostNet":
        policy = "ClusterFirst"
    elif policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"
    if policy == "ClusterFirst" and not cluster_dns:
        policy = "Default"  # no cluster DNS yet: kubelet falls back to the host's resolver
    host = _parse_resolv_conf(host_resolv_conf)
    if policy == "ClusterFirst":
        nameservers = list(cluster_dns)
        searches = [
            f"{namespace}.svc.{cluster_domain}",
            f"svc.{cluster_domain}",
            cluster_domain,
            *host.searches,
        ]
        options = ["ndots:5"]
    elif policy == "None":
        nameservers, searches, options = [], [], []
    else:
        nameservers, searches, options = (
            list(host.nameservers),
            list(host.searches),
            list(host.options),
        )
    extra = spec.get("dnsConfig") or {}
    nameservers += [str(n) for n in extra.get("nameservers") or ()]
    searches += [str(s) for s in extra.get("searches") or ()]
    merged: dict[str, str] = {}
    for opt in options:
        name, _, value = opt.partition(":")
        merged[name] = opt
    for opt in extra.get("options") or ():
        name = str(opt.get("name") or "")
        if name:
            value = opt.get("value")
            merged[name] = f"{name}:{value}" if value not in (None, "") else name
    return DNSConfig(
        tuple(_unique(nameservers)[:_MAX_NAMESERVERS]),
        tuple(_unique(searches)[:_MAX_SEARCHES]),
        tuple(merged.values()),
    )


def format_resolv_conf(config: DNSConfig) -> str:
    lines = []
    if config.searches:
        lines.append("search " + " ".join(config.searches))
    lines += [f"nameserver {n}" for n in config.nameservers]
    if config.options:
        lines.append("options " + " ".join(config.options))
    return "\n".join(lines) + ("\n" if lines else "")


# ---- mounts on the host


def _unescape_mountinfo(field: str) -> str:
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mount_points() -> list[str]:
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    return [_unescape_mountinfo(line.split()[4]) for line in text.splitlines() if line.strip()]


async def _run(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, err.decode(errors="replace").strip()


# ---- the manager


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value))
    except ValueError:
        return b""


class VolumeManager:
    """Sets up, projects and tears down the volumes of the pods on this node."""

    def __init__(
        self,
        pods_dir: Path,
        lookup: SourceLookup,
        *,
        node_name: str,
        node_ip: str = "",
        node_allocatable: Mapping[str, Any] | None = None,
        cluster_dns: Sequence[str] = (),
        cluster_domain: str = "cluster.local",
        host_resolv_conf: Path = Path("/etc/resolv.conf"),
        host_hosts_file: Path = Path("/etc/hosts"),
    ) -> None:
        self._pods_dir = Path(os.path.realpath(pods_dir))
        self._lookup = lookup
        self._node_name = node_name
        self._node_ip = node_ip
        self._allocatable = dict(node_allocatable or {})
        self._cluster_dns = tuple(cluster_dns)
        self._cluster_domain = cluster_domain
        self._host_resolv_conf = host_resolv_conf
        self._host_hosts_file = host_hosts_file
        self._pod_ips: dict[str, str] = {}
        self._warned_tmpfs = False
        self._warned_fs_group = False

    # ---- paths

    def pod_dir(self, pod_uid: str) -> Path:
        return self._pods_dir / pod_uid

    def volume_dir(self, pod_uid: str, plugin: str, name: str) -> Path:
        """``<pods_dir>/<uid>/volumes/<plugin dir>/<name>`` for a plugin key of `PLUGIN_DIRS`."""
        return self.pod_dir(pod_uid) / "volumes" / PLUGIN_DIRS[plugin] / name

    def termination_message_file(
        self, pod_uid: str, container: str, *, attempt: int | None = None
    ) -> Path:
        """The host file behind a container's terminationMessagePath. With ``attempt`` (the
        restart count, CRI's metadata.attempt) each instance has its own file, as kubelet gives
        each container its own; without, one file per container name."""
        base = self.pod_dir(pod_uid) / "containers" / container
        if attempt is None:
            return base / "termination-log"
        return base / str(attempt) / "termination-log"

    # ---- setup

    async def setup(self, pod: Mapping[str, Any], *, pod_ip: str) -> None:
        """Create every volume of the pod and the managed files; safe to call again (it then
        refreshes API-data volumes and managed files). Raises VolumeError for the first volume
        that cannot be set up."""
        uid = _uid(pod)
        self._pod_ips[uid] = pod_ip
        await asyncio.to_thread(self.pod_dir(uid).mkdir, mode=0o750, parents=True, exist_ok=True)
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            name = str(volume.get("name", ""))
            try:
                await self._setup_volume(pod, uid, volume)
            except (VolumeError, ConfigError, OSError) as err:
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : {_describe(err)}',
                    volume=name,
                ) from err
        await asyncio.to_thread(self._write_managed_files, pod, uid, pod_ip)

    async def _setup_volume(
        self, pod: Mapping[str, Any], uid: str, volume: Mapping[str, Any]
    ) -> None:
        name = str(volume["name"])
        if (source := volume.get("emptyDir")) is not None:
            await self._empty_dir(pod, uid, name, source)
        elif (source := volume.get("hostPath")) is not None:
            await asyncio.to_thread(_check_host_path, source)
        elif (claim := volume.get("persistentVolumeClaim")) is not None:
            raise VolumeError(
                f'persistentvolumeclaim "{claim.get("claimName", "")}" not bound '
                "(skiff does not provision or attach volumes yet)"
            )
        elif (plugin := _api_plugin(volume)) is not None:
            payload = await self._payload(pod, volume[plugin])
            target = self.volume_dir(uid, plugin, name)
            if plugin in ("secret", "projected"):
                # kubelet keeps secrets off the disk: these volumes sit on a tmpfs (root only)
                await self._tmpfs(target, {}, mode=0o755)
            fs_group = self._fs_group(pod)
            await asyncio.to_thread(write_atomic, target, payload, fs_group=fs_group)
        else:
            kinds = [k for k in volume if k != "name"]
            raise VolumeError(
                f"volume type {', '.join(kinds) or '(none)'} is not supported by skiff"
            )

    def _fs_group(self, pod: Mapping[str, Any]) -> int | None:
        value = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        if os.geteuid() != 0:
            if not self._warned_fs_group:
                log.warning("not root: fsGroup is not applied to volumes")
                self._warned_fs_group = True
            return None
        return value

    async def _empty_dir(
        self, pod: Mapping[str, Any], uid: str, name: str, source: Mapping[str, Any]
    ) -> None:
        path = self.volume_dir(uid, "emptyDir", name)
        await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        if source.get("medium") == "Memory":
            await self._tmpfs(path, source, mode=0o777)
        await asyncio.to_thread(_own_dir, path, self._fs_group(pod), 0o777)

    async def _tmpfs(self, path: Path, source: Mapping[str, Any], *, mode: int) -> None:
        """Mount a tmpfs on ``path`` (once) when root; else leave a plain directory."""
        await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        if os.geteuid() != 0:
            if not self._warned_tmpfs:
                log.warning("not root: memory-backed volumes are plain directories")
                self._warned_tmpfs = True
            return
        if str(path) in _mount_points():
            return
        options = [f"mode={mode:o}"]
        if (limit := source.get("sizeLimit")) is not None:
            try:
                options.append(f"size={parse_quantity(limit).value()}")
            except QuantityError as bad:
                raise VolumeError(f"invalid sizeLimit {limit!r}: {bad}") from None
        code, detail = await _run(
            "mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)
        )
        if code != 0:
            raise VolumeError(f"mount of tmpfs at {path} failed: {detail}")

    async def _payload(
        self, pod: Mapping[str, Any], source: Mapping[str, Any]
    ) -> dict[str, tuple[bytes, int]]:
        """The files of a configMap / secret / downwardAPI / projected source."""
        default_mode = _mode(source.get("defaultMode"), _DEFAULT_MODE)
        if "sources" in source:  # projected
            payload: dict[str, tuple[bytes, int]] = {}
            for item in source.get("sources") or ():
                if "serviceAccountToken" in item:
                    raise VolumeError(
                        "serviceAccountToken projection needs the TokenRequest API, "
                        "which skiff does not serve yet"
                    )
                if "clusterTrustBundle" in item:
                    raise VolumeError("clusterTrustBundle projection is not supported by skiff")
                for kind in ("configMap", "secret", "downwardAPI"):
                    if (sub := item.get(kind)) is not None:
                        payload.update(await self._source_payload(pod, kind, sub, default_mode))
            return payload
        kind = "downwardAPI"
        if "secretName" in source:
            kind = "secret"
        elif "name" in source:
            kind = "configMap"
        return await self._source_payload(pod, kind, source, default_mode)

    async def _source_payload(
        self, pod: Mapping[str, Any], kind: str, source: Mapping[str, Any], default_mode: int
    ) -> dict[str, tuple[bytes, int]]:
        namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
        items = source.get("items") or []
        if kind == "downwardAPI":
            uid = _uid(pod)
            out: dict[str, tuple[bytes, int]] = {}
            for item in items:
                if (ref := item.get("fieldRef")) is not None:
                    value = field_value(
                        pod,
                        str(ref.get("fieldPath", "")),
                        node_name=self._node_name,
                        node_ip=self._node_ip,
                        pod_ip=self._pod_ips.get(uid, ""),
                        allow_maps=True,
                    )
                elif (ref := item.get("resourceFieldRef")) is not None:
                    value = resource_value(pod, None, ref, node_allocatable=self._allocatable)
                else:
                    continue
                out[str(item["path"])] = (value.encode(), _mode(item.get("mode"), default_mode))
            return out
        optional = bool(source.get("optional"))
        data: dict[str, bytes]
        if kind == "secret":
            name = str(source.get("secretName") or source.get("name") or "")
            obj = await self._lookup.secret(namespace, name)
            label, what = "secret", "secret key"
            data = {k: _b64(v) for k, v in ((obj or {}).get("data") or {}).items()}
            data.update(
                {k: str(v).encode() for k, v in ((obj or {}).get("stringData") or {}).items()}
            )
        else:
            name = str(source.get("name") or "")
            obj = await self._lookup.config_map(namespace, name)
            label, what = "configmap", "config key"
            data = {k: str(v).encode() for k, v in ((obj or {}).get("data") or {}).items()}
            for k, v in ((obj or {}).get("binaryData") or {}).items():
                data.setdefault(k, _b64(v))
        if obj is None:
            if optional:
                return {}
            raise VolumeError(f'{label} "{name}" not found')
        if not items:
            return {k: (v, default_mode) for k, v in data.items()}
        out = {}
        for item in items:
            key = str(item.get("key", ""))
            if key not in data:
                if optional:
                    continue
                raise VolumeError(f"{label} references non-existent {what}: {key}")
            out[str(item.get("path") or key)] = (data[key], _mode(item.get("mode"), default_mode))
        return out

    def _write_managed_files(self, pod: Mapping[str, Any], uid: str, pod_ip: str) -> None:
        pod_dir = self.pod_dir(uid)
        status = pod.get("status") or {}
        ips = [str(p["ip"]) for p in status.get("podIPs") or () if p.get("ip")] or (
            [pod_ip] if pod_ip else []
        )
        spec = pod.get("spec") or {}
        host_net = bool(spec.get("hostNetwork"))
        host_hosts = _read(self._host_hosts_file) if host_net else ""
        hostname = socket.gethostname() if host_net else _hostname(pod)
        resolv = dns_config(
            pod,
            host_resolv_conf=_read(self._host_resolv_conf),
            cluster_dns=self._cluster_dns,
            cluster_domain=self._cluster_domain,
        )
        files = {
            "etc-hosts": hosts_file(
                pod, ips, host_hosts=host_hosts, cluster_domain=self._cluster_domain
            ),
            "etc-hostname": hostname + "\n",
            "resolv.conf": format_resolv_conf(resolv),
        }
        for name, text in files.items():
            _replace_file(pod_dir / name, text.encode(), 0o644)

    def dns_config(self, pod: Mapping[str, Any]) -> DNSConfig:
        """The resolver configuration the pod's resolv.conf holds (for SandboxConfig.dns)."""
        return dns_config(
            pod,
            host_resolv_conf=_read(self._host_resolv_conf),
            cluster_dns=self._cluster_dns,
            cluster_domain=self._cluster_domain,
        )

    # ---- mounts

    def mounts(
        self,
        pod: Mapping[str, Any],
        container: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        attempt: int | None = None,
    ) -> tuple[Mount, ...]:
        """The container's mounts: its volumeMounts, then /etc/hosts, /etc/hostname,
        /etc/resolv.conf (unless it mounts those paths itself) and its termination message file.

        Call it when creating the container (after `setup`): it creates missing subPath
        directories and an empty termination message file. Pass ``attempt`` (the restart count)
        so each instance gets its own file and a predecessor's message stays readable through
        ``termination_message_file(uid, name, attempt=n)`` after its successor started; files
        of attempts older than ``attempt - 1`` are removed. Without ``attempt`` the single
        per-name file is emptied here. ``env`` expands ``subPathExpr``. Raises ConfigError (a
        bad subPath or an unknown volume: kubelet's CreateContainerConfigError)."""
        uid = _uid(pod)
        cname = str(container.get("name", ""))
        volumes = {str(v.get("name")): v for v in (pod.get("spec") or {}).get("volumes") or ()}
        out: list[Mount] = []
        for vm in container.get("volumeMounts") or ():
            name = str(vm.get("name", ""))
            volume = volumes.get(name)
            if volume is None:
                raise ConfigError(f'cannot find volume "{name}" to mount into container "{cname}"')
            source = self._volume_source(uid, volume)
            sub = str(vm.get("subPath") or "")
            if not sub and vm.get("subPathExpr"):
                sub = expand(str(vm["subPathExpr"]), env or {})
            if sub:
                source = _sub_path(source, sub)
            read_only = bool(vm.get("readOnly")) or _api_plugin(volume) is not None
            out.append(
                Mount(
                    destination=str(vm.get("mountPath", "")),
                    source=str(source),
                    read_only=read_only,
                )
            )
        taken = {m.destination.rstrip("/") for m in out}
        pod_dir = self.pod_dir(uid)
        for dest, file in (
            ("/etc/hosts", "etc-hosts"),
            ("/etc/hostname", "etc-hostname"),
            ("/etc/resolv.conf", "resolv.conf"),
        ):
            if dest not in taken and (pod_dir / file).exists():
                out.append(Mount(destination=dest, source=str(pod_dir / file)))
        path = str(container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH)
        if path not in taken:
            message_file = self.termination_message_file(uid, cname, attempt=attempt)
            message_file.parent.mkdir(parents=True, exist_ok=True)
            _replace_file(message_file, b"", 0o666)  # any user in the container may write it
            if attempt is not None:
                _prune_attempts(message_file.parent.parent, keep_from=attempt - 1)
            out.append(Mount(destination=path, source=str(message_file)))
        return tuple(out)

    def _volume_source(self, uid: str, volume: Mapping[str, Any]) -> Path:
        name = str(volume["name"])
        if (host := volume.get("hostPath")) is not None:
            return Path(str(host.get("path", "")))
        if volume.get("emptyDir") is not None:
            return self.volume_dir(uid, "emptyDir", name)
        if (plugin := _api_plugin(volume)) is not None:
            return self.volume_dir(uid, plugin, name)
        raise ConfigError(f'volume "{name}" is not set up (unsupported type)')

    # ---- refresh and teardown

    async def refresh(self, pod: Mapping[str, Any]) -> None:
        """Re-project the pod's configMap / secret / downwardAPI / projected volumes (an atomic
        ``..data`` swap, only when the content changed) and its managed files. Raises
        VolumeError when a source cannot be read; the old content then stays."""
        uid = _uid(pod)
        if not self.pod_dir(uid).is_dir():
            return
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            plugin = _api_plugin(volume)
            if plugin is None:
                continue
            name = str(volume["name"])
            try:
                payload = await self._payload(pod, volume[plugin])
            except (VolumeError, ConfigError) as err:
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : {err}', volume=name
                ) from err
            await asyncio.to_thread(
                write_atomic,
                self.volume_dir(uid, plugin, name),
                payload,
                fs_group=self._fs_group(pod),
            )
        await asyncio.to_thread(self._write_managed_files, pod, uid, self._pod_ips.get(uid, ""))

    async def teardown(self, pod_uid: str) -> None:
        """Unmount everything mounted under the pod's directory (tmpfs emptyDirs), then remove the
        directory. Raises VolumeError (keeping the files) when something stays mounted."""
        pod_dir = self.pod_dir(pod_uid)
        self._pod_ips.pop(pod_uid, None)
        prefix = str(pod_dir) + "/"
        mounted = [m for m in _mount_points() if m == str(pod_dir) or m.startswith(prefix)]
        for point in sorted(set(mounted), key=len, reverse=True):
            code, err = await _run("umount", point)
            if code != 0:
                raise VolumeError(f"unmount of {point} failed: {err}")
        if pod_dir.exists():
            await asyncio.to_thread(shutil.rmtree, pod_dir)


# ---- helpers


def _uid(pod: Mapping[str, Any]) -> str:
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    if not uid or "/" in uid or uid in (".", ".."):
        raise VolumeError(f"pod has no usable uid: {uid!r}")
    return uid


def _api_plugin(volume: Mapping[str, Any]) -> str | None:
    for plugin in _API_DATA:
        if volume.get(plugin) is not None:
            return plugin
    return None


def _mode(value: Any, default: int) -> int:
    if value is None or isinstance(value, bool):
        return default
    return int(value) & 0o7777


def _describe(err: Exception) -> str:
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror}: {err.filename}" if err.filename else err.strerror
    return str(err)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _replace_file(path: Path, content: bytes, mode: int) -> None:
    """Write a whole file by rename, so readers (bind mounts aside) never see it half-written.
    A bind-mounted file keeps pointing at the old inode after a rename, so an existing file is
    rewritten in place instead."""
    if path.exists():
        with open(path, "r+b") as f:
            f.truncate(0)
            f.write(content)
        os.chmod(path, mode)
        return
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, content)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    os.rename(tmp, path)


_HOST_PATH_KINDS = {
    "Socket": (stat.S_ISSOCK, "a socket file"),
    "CharDevice": (stat.S_ISCHR, "a character device"),
    "BlockDevice": (stat.S_ISBLK, "a block device"),
}


def _check_host_path(source: Mapping[str, Any]) -> None:
    """kubelet's hostPath type check (``pkg/volume/hostpath``), creating what *OrCreate asks."""
    path = Path(str(source.get("path", "")))
    kind = str(source.get("type") or "")
    if not path.is_absolute():
        raise VolumeError(f"hostPath {path} must be absolute")
    if kind in ("", "DirectoryOrCreate", "FileOrCreate") and not path.exists():
        if kind == "DirectoryOrCreate":
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
            os.chmod(path, 0o755)
        elif kind == "FileOrCreate":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.close(fd)
        return
    if kind == "":
        return
    failed = f"hostPath type check failed: {path} is not "
    if kind in ("Directory", "DirectoryOrCreate"):
        if not path.is_dir():
            raise VolumeError(failed + "a directory")
    elif kind in ("File", "FileOrCreate"):
        if not path.exists() or path.is_dir():
            raise VolumeError(failed + "a file")
    elif kind in _HOST_PATH_KINDS:
        check, what = _HOST_PATH_KINDS[kind]
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise VolumeError(failed + what) from None
        if not check(mode):
            raise VolumeError(failed + what)
    else:
        raise VolumeError(f"invalid HostPath type {json.dumps(kind)}")


def _prune_attempts(directory: Path, *, keep_from: int) -> None:
    for entry in directory.iterdir():
        if entry.name.isdigit() and int(entry.name) < keep_from:
            shutil.rmtree(entry, ignore_errors=True)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _sub_path(volume_root: Path, sub: str) -> Path:
    """``volume_root/sub``, created as a directory when missing; refuses an absolute ``sub``,
    ``..`` and any path that resolves (through symlinks) outside the volume."""
    parts = Path(sub).parts
    if os.path.isabs(sub) or ".." in parts:
        raise ConfigError(f"subPath {sub!r} must be a relative path without '..'")
    root = os.path.realpath(volume_root)
    target = os.path.join(root, sub)
    if not _inside(os.path.realpath(target), root):
        raise ConfigError(f"subPath {sub!r} is outside of the volume {volume_root}")
    if not os.path.lexists(target):
        os.makedirs(target, mode=0o755, exist_ok=True)
        if not _inside(os.path.realpath(target), root):
            raise ConfigError(f"subPath {sub!r} is outside of the volume {volume_root}")
    return Path(target)
