"""``KubeSchedulerConfiguration`` (``kubescheduler.config.k8s.io/v1``): reading, checking, defaults.

A configuration file has profiles (each a ``schedulerName`` with plugins enabled or disabled per
extension point, ``multiPoint`` included, score weights, and ``pluginConfig`` args),
``percentageOfNodesToScore`` and the queue's back-off (``podInitialBackoffSeconds``,
``podMaxBackoffSeconds``). Disabling ``"*"`` at a point drops its defaults; an enabled plugin
already among the defaults keeps its place and takes the new weight, others are appended
(kube-scheduler ``mergePlugins``). A file that cannot be used raises `ConfigError` whose message
names the field, as kube-scheduler's validation does (``profiles[0].plugins.score.enabled[1].name:
Invalid value: "Foo": plugin not found``).

Plugin args read here: ``NodeResourcesFitArgs`` (``scoringStrategy.type`` LeastAllocated or
MostAllocated, ``scoringStrategy.resources`` with weights), ``NodeResourcesBalancedAllocationArgs``
(``resources``), ``PodTopologySpreadArgs`` (``defaultConstraints``, ``defaultingType`` System or
List).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skiff.scheduler.plugins import DEFAULT_PLUGINS, DEFAULT_WEIGHTS, EXTENSION_POINTS

__all__ = [
    "API_VERSION",
    "ConfigError",
    "ProfileConfig",
    "SchedulerConfig",
    "default_config",
    "load_config",
    "parse_config",
]

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"

_TOP_FIELDS = {
    "apiVersion",
    "kind",
    "parallelism",
    "leaderElection",
    "clientConnection",
    "healthzBindAddress",
    "metricsBindAddress",
    "enableProfiling",
    "enableContentionProfiling",
    "percentageOfNodesToScore",
    "podInitialBackoffSeconds",
    "podMaxBackoffSeconds",
    "profiles",
    "extenders",
    "delayCacheUntilActive",
}
_PROFILE_FIELDS = {"schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"}
_POINT_FIELDS = {*EXTENSION_POINTS, "queueSort", "preBind", "postBind", "multiPoint"}
_ARG_KINDS = {
    "NodeResourcesFit": "NodeResourcesFitArgs",
    "NodeResourcesBalancedAllocation": "NodeResourcesBalancedAllocationArgs",
    "PodTopologySpread": "PodTopologySpreadArgs",
    "DefaultPreemption": "DefaultPreemptionArgs",
    "InterPodAffinity": "InterPodAffinityArgs",
    "NodeAffinity": "NodeAffinityArgs",
    "VolumeBinding": "VolumeBindingArgs",
}


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the field."""


@dataclass
class ProfileConfig:
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    plugins: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_PLUGINS.items()}
    )
    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    args: dict[str, dict[str, Any]] = field(default_factory=dict)
    multi_point: list[str] = field(default_factory=list)
    multi_point_disabled: list[str] = field(default_factory=list)
    percentage_of_nodes_to_score: int | None = None


@dataclass
class SchedulerConfig:
    profiles: list[ProfileConfig] = field(default_factory=lambda: [ProfileConfig()])
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff: float = 1.0
    pod_max_backoff: float = 10.0
    leader_election: dict[str, Any] = field(default_factory=dict)


def default_config() -> SchedulerConfig:
    return SchedulerConfig()


def load_config(path: str | Path) -> SchedulerConfig:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not YAML: {e}") from None
    return parse_config(doc)


def _invalid(path: str, value: Any, detail: str) -> ConfigError:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    return ConfigError(f"{path}: Invalid value: {shown}: {detail}")


def _unknown(path: str, obj: Mapping[str, Any], allowed: set[str]) -> None:
    for key in obj:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise ConfigError(f'strict decoding error: unknown field "{where}"')


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(path, value, "must be an object")
    return value


def _list(value: Any, path: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(path, value, "must be a list")
    return value


def _percentage(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise _invalid(path, value, "not in valid range [0-100]")
    return value


def parse_config(doc: Any) -> SchedulerConfig:
    """Check and default a decoded KubeSchedulerConfiguration."""
    if not isinstance(doc, Mapping):
        raise ConfigError("the file is not a KubeSchedulerConfiguration object")
    if doc.get("apiVersion") != API_VERSION:
        raise ConfigError(
            f'apiVersion: Unsupported value: "{doc.get("apiVersion")}": supported values: '
            f'"{API_VERSION}"'
        )
    if doc.get("kind") != KIND:
        raise ConfigError(
            f'kind: Unsupported value: "{doc.get("kind")}": supported values: "{KIND}"'
        )
    _unknown("", doc, _TOP_FIELDS)
    cfg = SchedulerConfig()
    if doc.get("percentageOfNodesToScore") is not None:
        cfg.percentage_of_nodes_to_score = _percentage(
            doc["percentageOfNodesToScore"], "percentageOfNodesToScore"
        )
    for key, attr in (
        ("podInitialBackoffSeconds", "pod_initial_backoff"),
        ("podMaxBackoffSeconds", "pod_max_backoff"),
    ):
        if doc.get(key) is not None:
            v = doc[key]
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise _invalid(key, v, "must be greater than 0")
            setattr(cfg, attr, float(v))
    if cfg.pod_max_backoff < cfg.pod_initial_backoff:
        raise _invalid(
            "podMaxBackoffSeconds",
            int(cfg.pod_max_backoff),
            "must be greater than or equal to PodInitialBackoffSeconds",
        )
    cfg.leader_election = dict(_mapping(doc.get("leaderElection"), "leaderElection"))
    raw_profiles = _list(doc.get("profiles"), "profiles")
    if raw_profiles:
        cfg.profiles = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_profiles):
            path = f"profiles[{i}]"
            profile = _profile(_mapping(raw, path), path)
            if profile.scheduler_name in seen:
                raise ConfigError(
                    f'{path}.schedulerName: Duplicate value: "{profile.scheduler_name}"'
                )
            seen.add(profile.scheduler_name)
            cfg.profiles.append(profile)
    return cfg


def _profile(raw: Mapping[str, Any], path: str) -> ProfileConfig:
    from skiff.scheduler.plugins import in_tree_registry

    known = in_tree_registry()
    _unknown(path, raw, _PROFILE_FIELDS)
    profile = ProfileConfig()
    name = raw.get("schedulerName", DEFAULT_SCHEDULER_NAME)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}.schedulerName: Required value")
    profile.scheduler_name = name
    if raw.get("percentageOfNodesToScore") is not None:
        profile.percentage_of_nodes_to_score = _percentage(
            raw["percentageOfNodesToScore"], f"{path}.percentageOfNodesToScore"
        )
    plugins = _mapping(raw.get("plugins"), f"{path}.plugins")
    _unknown(f"{path}.plugins", plugins, _POINT_FIELDS)
    for point, spec in plugins.items():
        ppath = f"{path}.plugins.{point}"
        spec = _mapping(spec, ppath)
        _unknown(ppath, spec, {"enabled", "disabled"})
        enabled: list[tuple[str, int | None]] = []
        for j, entry in enumerate(_list(spec.get("enabled"), f"{ppath}.enabled")):
            epath = f"{ppath}.enabled[{j}]"
            entry = _mapping(entry, epath)
            _unknown(epath, entry, {"name", "weight"})
            pname = entry.get("name")
            if not isinstance(pname, str) or not pname:
                raise ConfigError(f"{epath}.name: Required value")
            if pname not in known:
                raise _invalid(f"{epath}.name", pname, "plugin not found")
            weight = entry.get("weight")
            if weight is not None and (
                not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100
            ):
                raise _invalid(f"{epath}.weight", weight, "must be in the range [0, 100]")
            enabled.append((pname, weight))
        disabled: list[str] = []
        for j, entry in enumerate(_list(spec.get("disabled"), f"{ppath}.disabled")):
            epath = f"{ppath}.disabled[{j}]"
            entry = _mapping(entry, epath)
            pname = entry.get("name")
            if not isinstance(pname, str) or not pname:
                raise ConfigError(f"{epath}.name: Required value")
            if pname != "*" and pname not in known:
                raise _invalid(f"{epath}.name", pname, "plugin not found")
            disabled.append(pname)
        if point == "multiPoint":
            profile.multi_point = [n for n, _ in enabled]
            profile.multi_point_disabled = disabled
            for n, w in enabled:
                if w:
                    profile.weights[n] = w
            continue
        if point in ("queueSort", "preBind", "postBind"):
            continue  # fixed in skiff: priority sort, no pre/post-bind plugins
        current = [] if "*" in disabled else list(profile.plugins.get(point, []))
        current = [n for n in current if n not in disabled]
        for n, w in enabled:
            if n not in current:
                current.append(n)
            if point == "score" and w:
                profile.weights[n] = w
        profile.plugins[point] = current
    for j, entry in enumerate(_list(raw.get("pluginConfig"), f"{path}.pluginConfig")):
        cpath = f"{path}.pluginConfig[{j}]"
        entry = _mapping(entry, cpath)
        _unknown(cpath, entry, {"name", "args"})
        pname = entry.get("name")
        if not isinstance(pname, str) or pname not in known:
            raise _invalid(f"{cpath}.name", pname, "plugin not found")
        if pname in profile.args:
            raise ConfigError(f'{cpath}.name: Duplicate value: "{pname}"')
        args = dict(_mapping(entry.get("args"), f"{cpath}.args"))
        kind = args.pop("kind", None)
        args.pop("apiVersion", None)
        if kind is not None and kind != _ARG_KINDS.get(pname):
            raise ConfigError(
                f'{cpath}.args.kind: Unsupported value: "{kind}": supported values: '
                f'"{_ARG_KINDS.get(pname, pname + "Args")}"'
            )
        _check_args(pname, args, f"{cpath}.args")
        profile.args[pname] = args
    return profile


def _check_resources(value: Any, path: str) -> None:
    for k, r in enumerate(_list(value, path)):
        rpath = f"{path}[{k}]"
        r = _mapping(r, rpath)
        if not isinstance(r.get("name"), str) or not r.get("name"):
            raise ConfigError(f"{rpath}.name: Required value")
        w = r.get("weight", 1)
        if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 100:
            raise _invalid(
                f"{rpath}.weight", w, "resource weight of cpu should be in the range [1, 100]"
            )


def _check_args(plugin: str, args: Mapping[str, Any], path: str) -> None:
    if plugin == "NodeResourcesFit":
        _unknown(path, args, {"ignoredResources", "ignoredResourceGroups", "scoringStrategy"})
        strategy = _mapping(args.get("scoringStrategy"), f"{path}.scoringStrategy")
        _unknown(
            f"{path}.scoringStrategy", strategy, {"type", "resources", "requestedToCapacityRatio"}
        )
        kind = strategy.get("type", "LeastAllocated")
        if kind not in ("LeastAllocated", "MostAllocated"):
            raise ConfigError(
                f'{path}.scoringStrategy.type: Unsupported value: "{kind}": supported values: '
                '"LeastAllocated", "MostAllocated"'
            )
        _check_resources(strategy.get("resources"), f"{path}.scoringStrategy.resources")
    elif plugin == "NodeResourcesBalancedAllocation":
        _unknown(path, args, {"resources"})
        _check_resources(args.get("resources"), f"{path}.resources")
    elif plugin == "PodTopologySpread":
        _unknown(path, args, {"defaultConstraints", "defaultingType"})
        dtype = args.get("defaultingType", "System")
        if dtype not in ("System", "List"):
            raise ConfigError(
                f'{path}.defaultingType: Unsupported value: "{dtype}": supported values: '
                '"List", "System"'
            )
        constraints = _list(args.get("defaultConstraints"), f"{path}.defaultConstraints")
        if dtype == "System" and constraints:
            raise _invalid(
                f"{path}.defaultingType",
                dtype,
                "when .defaultConstraints are not empty",
            )
        for k, c in enumerate(constraints):
            cp = f"{path}.defaultConstraints[{k}]"
            c = _mapping(c, cp)
            skew = c.get("maxSkew")
            if not isinstance(skew, int) or isinstance(skew, bool) or skew <= 0:
                raise _invalid(f"{cp}.maxSkew", skew, "must be greater than zero")
            if not c.get("topologyKey"):
                raise ConfigError(f"{cp}.topologyKey: Required value: can not be empty")
            when = c.get("whenUnsatisfiable")
            if when not in ("DoNotSchedule", "ScheduleAnyway"):
                raise ConfigError(
                    f'{cp}.whenUnsatisfiable: Unsupported value: "{when}": supported values: '
                    '"DoNotSchedule", "ScheduleAnyway"'
                )
            if c.get("labelSelector") is not None:
                raise ConfigError(
                    f"{cp}.labelSelector: Forbidden: constraint must not define a selector, as "
                    "they deduced for each pod"
                )
