"""Async Kubernetes API client and informer machinery (reflector, informer, workqueue, leader election).

Layers, bottom up:

* `Config` / `load_kubeconfig` (``config``): where the server is and how to authenticate;
* `Client` (``_client``): typed REST verbs on any served resource (`ResourceRef`), bounded
  Retry-After retries, resumable `Watch` streams of `WatchEvent`; failures are the
  ``skiff.client.errors`` tree (`ApiError`, `NotFound`, `Conflict`, `Expired`, ...);
* `Reflector` -> `Indexer` (``cache``) -> `Informer` / `SharedInformerFactory` -> `Lister`: a
  local, immutable (`FrozenDict`; `thaw` for a mutable copy), indexed copy of server state with
  add/update/delete handlers;
* `WorkQueue` with `RateLimiter`s: what controllers' workers pull keys from;
* `LeaderElector` (Lease-based) and `EventRecorder` (aggregating core/v1 Events).

Only ``skiff.api`` and ``skiff.util`` are imported; the API server and storage are never touched
(they are reached over HTTP). Controllers, the scheduler, the agent and the CLI build on this.
"""

from skiff.client._transport import LeanTransport
from skiff.client._client import (
    Client,
    PatchType,
    Preconditions,
    Watch,
    WatchEvent,
    WatchEventType,
)
from skiff.client.cache import (
    LABELS_INDEX,
    NAMESPACE_INDEX,
    Indexer,
    IndexFunc,
    label_index_func,
    labels_index_func,
    namespace_index_func,
)
from skiff.client.config import Config, load_kubeconfig
from skiff.client.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    ClientError,
    ConfigError,
    Conflict,
    Expired,
    Forbidden,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NotFound,
    ServerError,
    ServerTimeout,
    ServiceUnavailable,
    ShutDown,
    TooManyRequests,
    TransportError,
    Unauthorized,
    UnsupportedMediaType,
    WouldBlock,
    error_from_status,
)
from skiff.client.event import EventRecorder, EventRecorderStatistics
from skiff.client.frozen import FrozenDict, FrozenList, freeze, thaw
from skiff.client.informer import (
    HandlerRegistration,
    Informer,
    ResourceEventHandler,
    SharedInformerFactory,
)
from skiff.client.leaderelection import LeaderElector
from skiff.client.lister import Lister
from skiff.client.ratelimit import (
    BucketRateLimiter,
    ItemExponentialRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from skiff.client.reflector import Reflector, ReflectorSink
from skiff.client.resource import ResourceRef, object_key, resolve, resource_for, resource_path
from skiff.client.selector import (
    FieldSelector,
    LabelSelector,
    format_label_selector,
    parse_field_selector,
    parse_label_selector,
)
from skiff.client.typed import TypedClient, resource_of
from skiff.client.workqueue import QueueStatistics, WorkQueue

__all__ = [
    "LABELS_INDEX",
    "NAMESPACE_INDEX",
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "BucketRateLimiter",
    "Client",
    "ClientError",
    "Config",
    "ConfigError",
    "Conflict",
    "EventRecorder",
    "EventRecorderStatistics",
    "Expired",
    "FieldSelector",
    "Forbidden",
    "FrozenDict",
    "FrozenList",
    "HandlerRegistration",
    "IndexFunc",
    "Indexer",
    "Informer",
    "InternalError",
    "Invalid",
    "ItemExponentialRateLimiter",
    "LabelSelector",
    "LeanTransport",
    "LeaderElector",
    "Lister",
    "MaxOfRateLimiter",
    "MethodNotAllowed",
    "NotFound",
    "PatchType",
    "Preconditions",
    "QueueStatistics",
    "RateLimiter",
    "Reflector",
    "ReflectorSink",
    "ResourceEventHandler",
    "ResourceRef",
    "ServerError",
    "ServerTimeout",
    "ServiceUnavailable",
    "SharedInformerFactory",
    "ShutDown",
    "TooManyRequests",
    "TransportError",
    "TypedClient",
    "Unauthorized",
    "UnsupportedMediaType",
    "Watch",
    "WatchEvent",
    "WatchEventType",
    "WorkQueue",
    "WouldBlock",
    "default_controller_rate_limiter",
    "error_from_status",
    "format_label_selector",
    "freeze",
    "label_index_func",
    "labels_index_func",
    "load_kubeconfig",
    "namespace_index_func",
    "object_key",
    "parse_field_selector",
    "parse_label_selector",
    "resolve",
    "resource_for",
    "resource_of",
    "resource_path",
    "thaw",
]
