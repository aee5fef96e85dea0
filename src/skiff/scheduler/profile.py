"""Build a `Framework` per profile from a `ProfileConfig` and the plugin registry.

Each plugin is instantiated once per profile with its args (``pluginConfig``) and a `Handle`;
``multiPoint`` plugins join every extension point they implement. A plugin enabled at a point it
does not implement is an error naming the profile and point.
"""

from __future__ import annotations

from collections.abc import Mapping

from skiff.scheduler.config import ConfigError, ProfileConfig
from skiff.scheduler.framework import (
    BindPlugin,
    FilterPlugin,
    Framework,
    Handle,
    PermitPlugin,
    Plugin,
    PostFilterPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    Registry,
    ReservePlugin,
    ScorePlugin,
)
from skiff.scheduler.plugins import EXTENSION_POINTS, in_tree_registry

__all__ = ["build_framework"]

_PROTOCOLS: Mapping[str, type] = {
    "preEnqueue": PreEnqueuePlugin,
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "postFilter": PostFilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
    "reserve": ReservePlugin,
    "permit": PermitPlugin,
    "bind": BindPlugin,
}


def build_framework(
    profile: ProfileConfig,
    handle: Handle,
    *,
    registry: Registry | None = None,
    percentage_of_nodes_to_score: int = 0,
) -> Framework:
    registry = registry or in_tree_registry()
    points = {p: list(profile.plugins.get(p, [])) for p in EXTENSION_POINTS}
    names: list[str] = []
    for p in EXTENSION_POINTS:
        for n in points[p]:
            if n not in names:
                names.append(n)
    for n in profile.multi_point:
        if n not in names:
            names.append(n)
    plugins: dict[str, Plugin] = {}
    for n in names:
        if n not in registry:
            raise ConfigError(f'profiles[{profile.scheduler_name}]: plugin "{n}" does not exist')
        try:
            plugins[n] = registry[n](profile.args.get(n, {}), handle)
        except ValueError as e:
            raise ConfigError(f"profiles[{profile.scheduler_name}].pluginConfig[{n}]: {e}") from e
    for n in profile.multi_point:
        for p, proto in _PROTOCOLS.items():
            if isinstance(plugins[n], proto) and n not in points[p]:
                points[p].append(n)
    if "*" in profile.multi_point_disabled:
        keep = set(profile.multi_point)
        points = {p: [n for n in ns if n in keep] for p, ns in points.items()}
    else:
        for n in profile.multi_point_disabled:
            points = {p: [x for x in ns if x != n] for p, ns in points.items()}
    for p, ns in points.items():
        for n in ns:
            if not isinstance(plugins.get(n), _PROTOCOLS[p]):
                raise ConfigError(
                    f"profiles[{profile.scheduler_name}].plugins.{p}: plugin {n} does not "
                    f"extend {p}"
                )
    pct = profile.percentage_of_nodes_to_score
    fw = Framework(
        profile.scheduler_name,
        {n: plugins[n] for n in names if any(n in ns for ns in points.values())},
        points,
        profile.weights,
        handle=handle,
        percentage_of_nodes_to_score=percentage_of_nodes_to_score if pct is None else pct,
    )
    handle.framework = fw
    return fw
