"""KubeSchedulerConfiguration: defaults, profiles with plugins enabled/disabled and weights,
plugin args, and refusal of bad files with a message naming the field (also through the
``skiff scheduler`` command, which exits with code 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skiff.scheduler.cache import SchedulerCache
from skiff.scheduler.config import ConfigError, parse_config
from skiff.scheduler.framework import Handle
from skiff.scheduler.profile import build_framework

BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}


def cfg(**extra: Any) -> dict[str, Any]:
    return {**BASE, **extra}


def test_defaults() -> None:
    c = parse_config(cfg())
    assert [p.scheduler_name for p in c.profiles] == ["default-scheduler"]
    fw = build_framework(c.profiles[0], Handle(cache=SchedulerCache()))
    assert [p.name for p in fw.filters][:3] == ["NodeUnschedulable", "NodeName", "TaintToleration"]
    assert fw.weights["TaintToleration"] == 3


def test_profiles_plugins_weights_and_args() -> None:
    c = parse_config(
        cfg(
            percentageOfNodesToScore=30,
            profiles=[
                {"schedulerName": "default-scheduler"},
                {
                    "schedulerName": "packer",
                    "plugins": {
                        "score": {
                            "disabled": [{"name": "*"}],
                            "enabled": [{"name": "NodeResourcesFit", "weight": 5}],
                        },
                        "filter": {"disabled": [{"name": "TaintToleration"}]},
                    },
                    "pluginConfig": [
                        {
                            "name": "NodeResourcesFit",
                            "args": {
                                "kind": "NodeResourcesFitArgs",
                                "scoringStrategy": {
                                    "type": "MostAllocated",
                                    "resources": [{"name": "cpu", "weight": 3}],
                                },
                            },
                        },
                        {
                            "name": "PodTopologySpread",
                            "args": {
                                "defaultingType": "List",
                                "defaultConstraints": [
                                    {
                                        "maxSkew": 1,
                                        "topologyKey": "zone",
                                        "whenUnsatisfiable": "ScheduleAnyway",
                                    }
                                ],
                            },
                        },
                    ],
                },
            ],
        )
    )
    packer = c.profiles[1]
    fw = build_framework(packer, Handle(cache=SchedulerCache()), percentage_of_nodes_to_score=30)
    assert [p.name for p in fw.scores] == ["NodeResourcesFit"]
    assert fw.weights["NodeResourcesFit"] == 5
    assert "TaintToleration" not in [p.name for p in fw.filters]
    assert fw.plugins["NodeResourcesFit"].strategy == "MostAllocated"
    assert fw.percentage == 30


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"apiVersion": "v1", "kind": "KubeSchedulerConfiguration"},
            'apiVersion: Unsupported value: "v1"',
        ),
        (cfg(percentageOfNodesToScore=150), "percentageOfNodesToScore: Invalid value: 150"),
        (cfg(profile=[]), 'unknown field "profile"'),
        (
            cfg(profiles=[{"schedulerName": "a"}, {"schedulerName": "a"}]),
            'profiles[1].schedulerName: Duplicate value: "a"',
        ),
        (
            cfg(profiles=[{"plugins": {"score": {"enabled": [{"name": "Nope"}]}}}]),
            'profiles[0].plugins.score.enabled[0].name: Invalid value: "Nope": plugin not found',
        ),
        (
            cfg(
                profiles=[
                    {"plugins": {"score": {"enabled": [{"name": "NodeAffinity", "weight": 1000}]}}}
                ]
            ),
            "profiles[0].plugins.score.enabled[0].weight: Invalid value: 1000",
        ),
        (
            cfg(
                profiles=[
                    {
                        "pluginConfig": [
                            {
                                "name": "NodeResourcesFit",
                                "args": {"scoringStrategy": {"type": "Random"}},
                            }
                        ]
                    }
                ]
            ),
            'profiles[0].pluginConfig[0].args.scoringStrategy.type: Unsupported value: "Random"',
        ),
        (
            cfg(
                profiles=[
                    {
                        "pluginConfig": [
                            {
                                "name": "PodTopologySpread",
                                "args": {
                                    "defaultingType": "List",
                                    "defaultConstraints": [
                                        {
                                            "maxSkew": 0,
                                            "topologyKey": "z",
                                            "whenUnsatisfiable": "DoNotSchedule",
                                        }
                                    ],
                                },
                            }
                        ]
                    }
                ]
            ),
            "profiles[0].pluginConfig[0].args.defaultConstraints[0].maxSkew: Invalid value: 0",
        ),
        (
            cfg(podInitialBackoffSeconds=5, podMaxBackoffSeconds=2),
            "podMaxBackoffSeconds: Invalid value: 2",
        ),
    ],
)
def test_bad_files_name_the_field(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(doc)
    assert message in str(e.value)


def test_plugin_at_a_point_it_does_not_extend() -> None:
    c = parse_config(cfg(profiles=[{"plugins": {"bind": {"enabled": [{"name": "NodePorts"}]}}}]))
    with pytest.raises(ConfigError, match="plugin NodePorts does not extend bind"):
        build_framework(c.profiles[0], Handle(cache=SchedulerCache()))


def test_command_refuses_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "sched.yaml"
    bad.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- schedulerName: x\n  plugins:\n    filter:\n      enabled:\n      - name: Bogus\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "skiff",
            "scheduler",
            "--scheduler-config",
            str(bad),
            "--kubeconfig",
            str(tmp_path / "none"),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert (
        'profiles[0].plugins.filter.enabled[0].name: Invalid value: "Bogus": plugin not found'
        in proc.stderr
    )


def test_leader_election_durations_from_the_file() -> None:
    from skiff.cmd.scheduler import _seconds

    assert _seconds("1m30s", 0) == 90.0
    assert _seconds("500ms", 0) == 0.5
    assert _seconds(20, 0) == 20.0
    assert _seconds("soon", 7.0) == 7.0
    c = parse_config(cfg(leaderElection={"leaderElect": False, "leaseDuration": "30s"}))
    assert c.leader_election == {"leaderElect": False, "leaseDuration": "30s"}
