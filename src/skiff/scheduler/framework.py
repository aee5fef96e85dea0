"""The scheduling framework: statuses, per-cycle state, plugin Protocols, the registry, profiles.

Shaped like kube-scheduler's ``pkg/scheduler/framework`` (interface.go, cycle_state.go,
runtime/framework.go): a profile is an ordered set of plugins per extension point, chosen by the
pod's ``spec.schedulerName``. A scheduling cycle runs PreFilter, Filter, PostFilter (when nothing
fits), PreScore, Score, NormalizeScore, then Reserve and Permit; the binding cycle runs Bind.
`Status` carries a `Code` and reasons; a PreFilter answering `Code.SKIP` turns off that plugin's
Filter for the cycle (and PreScore's Skip its Score), which is what keeps the common pod cheap.

Beyond upstream's per-node ``Filter(state, pod, nodeInfo)``, a filter may offer
``filter_mask(state, pod, table)``: one boolean per node row of the cache's arrays, computed with
numpy. The runtime uses the mask where offered and the per-node call elsewhere, and always the
per-node call to explain a failure (`Diagnosis`), so both paths must agree (the tests check
that). Scores likewise may offer ``score_vector``.

Feasible nodes are searched from a rotating start and the search stops after
`num_feasible_nodes_to_find` of them, as kube-scheduler's ``percentageOfNodesToScore`` does
(adaptive: 50% minus 1% per 125 nodes, at least 5%, at least 100 nodes).
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast, overload, runtime_checkable

import numpy as np
import numpy.typing as npt

from skiff.scheduler.types import NodeInfo, PodInfo

if TYPE_CHECKING:
    from skiff.scheduler.cache import SchedulerCache

__all__ = [
    "MAX_NODE_SCORE",
    "BindPlugin",
    "ClusterEvent",
    "Code",
    "CycleState",
    "Diagnosis",
    "FilterPlugin",
    "FitError",
    "Framework",
    "Handle",
    "MaskFilterPlugin",
    "NodeRows",
    "NormalizeScorePlugin",
    "PermitPlugin",
    "Plugin",
    "PluginFactory",
    "PostFilterPlugin",
    "PostFilterResult",
    "PreEnqueuePlugin",
    "PreFilterPlugin",
    "PreScorePlugin",
    "Registry",
    "ReservePlugin",
    "ScorePlugin",
    "Status",
    "VectorScorePlugin",
    "default_normalize",
    "histogram",
    "num_feasible_nodes_to_find",
]

MAX_NODE_SCORE = 100
ALLOC_ROWS = "framework/allocatable-rows"  # float64 [rows, resources] of the scored nodes
NONZERO_ROWS = "framework/nonzero-rows"  # their non-zero requests with the pod's added
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Code(enum.IntEnum):
    """framework.Code."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5
    PENDING = 6


@dataclass(slots=True)
class Status:
    """The result of one plugin call: a code, the reasons shown to users, the plugin's name."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @classmethod
    def unschedulable(cls, *reasons: str, unresolvable: bool = False) -> Status:
        code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
        return cls(code, reasons)

    @classmethod
    def error(cls, message: str) -> Status:
        return cls(Code.ERROR, (message,))

    @property
    def ok(self) -> bool:
        return self.code == Code.SUCCESS

    @property
    def rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING)

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)


SUCCESS = Status()


class CycleState:
    """Per-cycle data plugins share (framework.CycleState): written in PreFilter/PreScore, read in
    Filter/Score. ``skip_filter``/``skip_score`` hold the plugins whose Pre* said Skip."""

    __slots__ = ("_data", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def read(self, key: str) -> Any:
        return self._data.get(key)

    def clone(self) -> CycleState:
        out = CycleState()
        out._data = dict(self._data)
        out.skip_filter = set(self.skip_filter)
        out.skip_score = set(self.skip_score)
        return out


class ClusterEvent(enum.StrEnum):
    """Cluster changes that may make an unschedulable pod schedulable (framework.ClusterEvent)."""

    NODE_ADD = "Node/Add"
    NODE_LABEL = "Node/UpdateNodeLabel"
    NODE_TAINT = "Node/UpdateNodeTaint"
    NODE_ALLOCATABLE = "Node/UpdateNodeAllocatable"
    NODE_CONDITION = "Node/UpdateNodeCondition"
    NODE_SCHEDULABLE = "Node/UpdateNodeSchedulable"
    POD_ADD = "Pod/Add"  # an assigned pod appeared (affinity can be satisfied by it)
    POD_LABEL = "Pod/UpdatePodLabel"
    POD_DELETE = "Pod/Delete"  # an assigned pod was deleted or finished: resources freed
    PVC_CHANGE = "PersistentVolumeClaim/*"
    PV_CHANGE = "PersistentVolume/*"
    PDB_CHANGE = "PodDisruptionBudget/*"


# -- plugin protocols --------------------------------------------------------------------------


@runtime_checkable
class Plugin(Protocol):
    name: str


@runtime_checkable
class PreEnqueuePlugin(Plugin, Protocol):
    def pre_enqueue(self, pod: PodInfo) -> Status: ...


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status: ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status: ...


@runtime_checkable
class MaskFilterPlugin(Plugin, Protocol):
    """Optional vectorised Filter: True for every node row the pod passes."""

    def filter_mask(self, state: CycleState, pod: PodInfo, cache: SchedulerCache) -> BoolArray: ...


@dataclass(slots=True)
class PostFilterResult:
    nominated_node: str = ""


@runtime_checkable
class PostFilterPlugin(Plugin, Protocol):
    def post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]: ...


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Status: ...


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int: ...


@runtime_checkable
class VectorScorePlugin(Plugin, Protocol):
    """Optional vectorised Score over the cache rows ``rows``."""

    def score_vector(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache, rows: IntArray
    ) -> FloatArray: ...


@runtime_checkable
class NormalizeScorePlugin(Plugin, Protocol):
    def normalize_score(self, state: CycleState, pod: PodInfo, scores: FloatArray) -> None: ...


@runtime_checkable
class ReservePlugin(Plugin, Protocol):
    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status: ...

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


@runtime_checkable
class PermitPlugin(Plugin, Protocol):
    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status, float]:
        """Success, a rejection, or `Code.WAIT` with a timeout in seconds."""
        ...


@runtime_checkable
class BindPlugin(Plugin, Protocol):
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status: ...


def default_normalize(scores: FloatArray, *, reverse: bool = False) -> None:
    """helper.DefaultNormalizeScore: scale to [0, MAX_NODE_SCORE] by the maximum."""
    top = float(scores.max()) if scores.size else 0.0
    if top == 0:
        if reverse:
            scores[:] = MAX_NODE_SCORE
        return
    scores *= MAX_NODE_SCORE / top
    if reverse:
        scores[:] = MAX_NODE_SCORE - scores


# -- registry and handle -----------------------------------------------------------------------


@dataclass
class Handle:
    """What plugins may reach (framework.Handle): the cache, API access, listers, the clock."""

    cache: SchedulerCache
    client: Any = None  # skiff.client.Client (Any keeps plugins testable without one)
    recorder: Any = None
    pvcs: Any = None  # Lister of PersistentVolumeClaims, or None
    pvs: Any = None
    pdbs: Any = None
    rng: random.Random = field(default_factory=random.Random)
    framework: Any = None  # the profile's Framework, set once it is built


PluginFactory = Callable[[Mapping[str, Any], Handle], Plugin]


class Registry(dict[str, PluginFactory]):
    """Plugin factories by name (runtime.Registry)."""

    def register(self, name: str, factory: PluginFactory) -> None:
        if name in self:
            raise ValueError(f"a plugin named {name} already exists")
        self[name] = factory


# -- diagnosis and errors ----------------------------------------------------------------------


@dataclass
class Diagnosis:
    """Why a pod fit nowhere: the first rejecting status per node, the prefilter message, and the
    plugins that rejected (used to decide which cluster events may help)."""

    node_statuses: dict[str, Status] = field(default_factory=dict)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""


class FitError(Exception):
    """No node fits (framework.FitError); ``str()`` is Kubernetes' message."""

    def __init__(self, pod: PodInfo, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis
        self.nominated = ""  # the node preemption nominated, if any

    def __str__(self) -> str:
        d = self.diagnosis
        if self.num_all_nodes == 0:
            return d.pre_filter_msg or "no nodes available to schedule pods"
        head = f"0/{self.num_all_nodes} nodes are available"
        if d.pre_filter_msg:
            msg = f"{head}: {d.pre_filter_msg}."
        else:
            msg = f"{head}: {histogram(d.node_statuses.values())}."
        if d.post_filter_msg:
            msg += " " + d.post_filter_msg
        return msg


def histogram(statuses: Any) -> str:
    """``"2 Insufficient cpu, 3 node(s) had untolerated taint {a: b}"`` sorted as kube does."""
    counts: dict[str, int] = {}
    for st in statuses:
        for reason in st.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))


def num_feasible_nodes_to_find(percentage: int, num_all_nodes: int) -> int:
    """schedule_one.go numFeasibleNodesToFind."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    if percentage >= 100:
        return num_all_nodes
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


# -- the runtime -------------------------------------------------------------------------------

_NOT_READY = "node(s) were not ready"


class NodeRows(Sequence[NodeInfo]):
    """The nodes of some cache rows, as a sequence built lazily (most cycles never read it)."""

    def __init__(self, cache: SchedulerCache, rows: IntArray) -> None:
        self.cache = cache
        self.rows = rows
        self._nodes: list[NodeInfo] | None = None

    def _list(self) -> list[NodeInfo]:
        if self._nodes is None:
            nodes = self.cache.nodes
            self._nodes = [n for n in (nodes[int(r)] for r in self.rows) if n is not None]
        return self._nodes

    def __len__(self) -> int:
        return len(self._list())

    @overload
    def __getitem__(self, i: int) -> NodeInfo: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[NodeInfo]: ...

    def __getitem__(self, i: int | slice) -> NodeInfo | Sequence[NodeInfo]:
        return self._list()[i]

    def __iter__(self) -> Iterator[NodeInfo]:
        return iter(self._list())


class Framework:
    """One profile: its plugins per extension point and how to run them (runtime.frameworkImpl)."""

    def __init__(
        self,
        profile_name: str,
        plugins: Mapping[str, Plugin],
        points: Mapping[str, Sequence[str]],
        weights: Mapping[str, int],
        *,
        handle: Handle,
        percentage_of_nodes_to_score: int = 0,
    ) -> None:
        self.profile_name = profile_name
        self.plugins = dict(plugins)
        self.handle = handle
        self.percentage = percentage_of_nodes_to_score
        self.weights = dict(weights)

        def at(point: str, proto: type) -> list[Any]:
            out = []
            for name in points.get(point, ()):
                plugin = self.plugins[name]
                if not isinstance(plugin, proto):
                    raise ValueError(f"plugin {name} does not extend {point}")
                out.append(plugin)
            return out

        self.pre_enqueue: list[PreEnqueuePlugin] = at("preEnqueue", PreEnqueuePlugin)
        self.pre_filter: list[PreFilterPlugin] = at("preFilter", PreFilterPlugin)
        self.filters: list[FilterPlugin] = at("filter", FilterPlugin)
        self.post_filter: list[PostFilterPlugin] = at("postFilter", PostFilterPlugin)
        self.pre_score: list[PreScorePlugin] = at("preScore", PreScorePlugin)
        self.scores: list[ScorePlugin] = at("score", ScorePlugin)
        self.reserve: list[ReservePlugin] = at("reserve", ReservePlugin)
        self.permit: list[PermitPlugin] = at("permit", PermitPlugin)
        self.bind: list[BindPlugin] = at("bind", BindPlugin)
        # runtime_checkable isinstance is slow: decide once which plugins offer vector forms
        self._mask_filters = {p.name for p in self.filters if isinstance(p, MaskFilterPlugin)}
        self._vector_scores = {p.name for p in self.scores if isinstance(p, VectorScorePlugin)}
        self._normalizers = {p.name for p in self.scores if isinstance(p, NormalizeScorePlugin)}
        self.next_start = 0
        self.waiting: dict[str, asyncio.Future[Status]] = {}

    # PreEnqueue
    def run_pre_enqueue(self, pod: PodInfo) -> Status:
        for p in self.pre_enqueue:
            st = p.pre_enqueue(pod)
            if not st.ok:
                st.plugin = p.name
                return st
        return SUCCESS

    # PreFilter
    def run_pre_filter(self, state: CycleState, pod: PodInfo) -> Status:
        for p in self.pre_filter:
            st = p.pre_filter(state, pod)
            if st.code == Code.SKIP:
                state.skip_filter.add(p.name)
                continue
            if not st.ok:
                st.plugin = p.name
                return st
        return SUCCESS

    def _base_mask(self, pod: PodInfo, cache: SchedulerCache) -> BoolArray:
        mask = cache.valid[: cache.rows].copy()
        if not _tolerates_not_ready(pod):
            mask &= cache.ready[: cache.rows]
        return mask

    def run_filter_node(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        """Every Filter on one node, stopping at the first rejection (RunFilterPlugins)."""
        if not node.ready and not _tolerates_not_ready(pod):
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (_NOT_READY,), "NodeReady")
        for p in self.filters:
            if p.name in state.skip_filter:
                continue
            st = p.filter(state, pod, node)
            if not st.ok:
                st.plugin = p.name
                return st
        return SUCCESS

    def find_feasible(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache
    ) -> tuple[Sequence[int], int]:
        """Rows of feasible nodes (at most `num_feasible_nodes_to_find`), nodes evaluated."""
        total = cache.node_count
        mask = self._base_mask(pod, cache)
        scalar: list[FilterPlugin] = []
        for p in self.filters:
            if p.name in state.skip_filter:
                continue
            if p.name in self._mask_filters:
                mask &= cast(MaskFilterPlugin, p).filter_mask(state, pod, cache)
            else:
                scalar.append(p)
        want = num_feasible_nodes_to_find(self.percentage, total)
        candidates = np.flatnonzero(mask)
        if candidates.size == 0:
            return [], total
        # rotate so successive pods start their search where the last one stopped
        start = int(np.searchsorted(candidates, self.next_start % max(cache.rows, 1)))
        order = np.concatenate((candidates[start:], candidates[:start]))
        if not scalar:
            chosen = order[:want]
            self.next_start = int(chosen[-1]) + 1
            return cast(Sequence[int], chosen), total
        feasible: list[int] = []
        nodes = cache.nodes
        for i in order:
            row = int(i)
            node = nodes[row]
            assert node is not None
            ok = True
            for p in scalar:
                if not p.filter(state, pod, node).ok:
                    ok = False
                    break
            if ok:
                feasible.append(row)
                if len(feasible) >= want:
                    break
        if feasible:
            self.next_start = feasible[-1] + 1
        return feasible, total

    def diagnose(self, state: CycleState, pod: PodInfo, cache: SchedulerCache) -> Diagnosis:
        d = Diagnosis()
        for node in cache.node_list():
            st = self.run_filter_node(state, pod, node)
            if not st.ok:
                d.node_statuses[node.name] = st
                d.unschedulable_plugins.add(st.plugin)
        return d

    # PostFilter
    def run_post_filter(
        self, state: CycleState, pod: PodInfo, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]:
        last = Status(Code.UNSCHEDULABLE)
        for p in self.post_filter:
            result, st = p.post_filter(state, pod, statuses)
            if st.ok:
                return result, st
            st.plugin = p.name
            last = st
        return None, last

    # PreScore + Score + NormalizeScore
    def prioritize(
        self, state: CycleState, pod: PodInfo, cache: SchedulerCache, rows: Sequence[int]
    ) -> FloatArray:
        idx = np.asarray(rows, dtype=np.int64)
        live = NodeRows(cache, idx)
        # the resource scores share one gather of the rows' numbers
        state.write(ALLOC_ROWS, cache.allocatable[idx].astype(np.float64))
        state.write(NONZERO_ROWS, (cache.non_zero[idx] + pod.non_zero).astype(np.float64))
        for p in self.pre_score:
            st = p.pre_score(state, pod, live)
            if st.code == Code.SKIP:
                state.skip_score.add(p.name)
        total = np.zeros(len(idx), dtype=np.float64)
        for sp in self.scores:
            if sp.name in state.skip_score:
                continue
            if sp.name in self._vector_scores:
                vsp = cast(VectorScorePlugin, sp)
                scores = vsp.score_vector(state, pod, cache, idx).astype(np.float64, copy=True)
            else:
                scores = np.fromiter(
                    (sp.score(state, pod, n) for n in live), dtype=np.float64, count=len(live)
                )
            if sp.name in self._normalizers:
                cast(NormalizeScorePlugin, sp).normalize_score(state, pod, scores)
            total += scores * self.weights.get(sp.name, 1)
        return total

    def select_host(self, rows: Sequence[int], scores: FloatArray, cache: SchedulerCache) -> str:
        """The best-scoring node; ties broken at random (selectHost's reservoir sampling)."""
        top = scores.max()
        best = np.flatnonzero(scores == top)
        pick = int(best[self.handle.rng.randrange(best.size)]) if best.size > 1 else int(best[0])
        node = cache.nodes[int(rows[pick])]
        assert node is not None
        return node.name

    # Reserve / Permit
    def run_reserve(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        for i, p in enumerate(self.reserve):
            st = p.reserve(state, pod, node)
            if not st.ok:
                for q in reversed(self.reserve[: i + 1]):
                    q.unreserve(state, pod, node)
                st.plugin = p.name
                return st
        return SUCCESS

    def run_unreserve(self, state: CycleState, pod: PodInfo, node: str) -> None:
        for p in reversed(self.reserve):
            p.unreserve(state, pod, node)

    def run_permit(self, state: CycleState, pod: PodInfo, node: str) -> tuple[Status, float]:
        wait = 0.0
        for p in self.permit:
            st, timeout = p.permit(state, pod, node)
            if st.code == Code.WAIT:
                wait = max(wait, timeout)
                continue
            if not st.ok:
                st.plugin = p.name
                return st, 0.0
        if wait > 0:
            return Status(Code.WAIT), wait
        return SUCCESS, 0.0

    async def wait_on_permit(self, pod: PodInfo, timeout: float) -> Status:  # noqa: ASYNC109
        fut: asyncio.Future[Status] = asyncio.get_running_loop().create_future()
        self.waiting[pod.uid] = fut
        try:
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            return Status(Code.UNSCHEDULABLE, ("rejected due to timeout after waiting",))
        finally:
            self.waiting.pop(pod.uid, None)

    def allow(self, uid: str) -> None:
        fut = self.waiting.get(uid)
        if fut is not None and not fut.done():
            fut.set_result(SUCCESS)

    def reject(self, uid: str, reason: str) -> None:
        fut = self.waiting.get(uid)
        if fut is not None and not fut.done():
            fut.set_result(Status(Code.UNSCHEDULABLE, (reason,)))

    # Bind
    async def run_bind(self, state: CycleState, pod: PodInfo, node: str) -> Status:
        for p in self.bind:
            st = await p.bind(state, pod, node)
            if st.code == Code.SKIP:
                continue
            st.plugin = p.name
            return st
        return Status.error("no bind plugin bound the pod")


def _tolerates_not_ready(pod: PodInfo) -> bool:
    for t in pod.tolerations:
        key = t.get("key")
        op = t.get("operator") or "Equal"
        effect = t.get("effect") or ""
        if effect not in ("", "NoSchedule"):
            continue
        if (not key and op == "Exists") or key == "node.kubernetes.io/not-ready":
            return True
    return False
