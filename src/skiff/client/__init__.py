"""Async Kubernetes API client and informer machinery (reflector, informer, workqueue, leader election).

Layers, bottom up:

* `Config` / `load_kubeconfig` (``config``): where the server is and how to authenticate;
* `Client` (``_client``): typed REST verbs on any served resource (`ResourceRef`), bounded
  Retry-After retries, resumable `Watch` streams of `WatchEvent`; failures are the
  ``skiff.client.errors`` tree (`ApiError`, `NotFound`, `Conflict`, `Expired`, ...);
* `Reflector` -> `Indexer` (``cache``) -> `Informer` / `SharedInformerFactory` -> `Lister`: a
  local, immutable (`FrozenDict`; `thaw` for a mutable copy), indexed copy of server state with
  add/update/delete handlers; each object passes an informer ``transform`` first (``view``:
  `drop_managed_fields` by default, typed frozen `PodView`/`NodeView`/`EndpointSliceView`), and
  ``metadata_only`` informers cache ``PartialObjectMetadata`` only;
* selectors are the API server's (``skiff.api.selector``, re-exported here), so the client and the
  server never disagree on what ``a>1`` or ``matchExpressions`` mean;
* `WorkQueue` with `RateLimiter`s: what controllers' workers pull keys from;
* `LeaderElector` (Lease-based) and `EventRecorder` (aggregating core/v1 Events).

Only ``skiff.api`` and ``skiff.util`` are imported; the API server and storage are never touched
(they are reached over HTTP). Controllers, the scheduler, the agent and the CLI build on this.
"""

from skiff.api.selector import (
    FieldSelector,
    LabelSelector,
    LabelSelectorLike,
    SelectorError,
    as_label_selector,
    label_selector_from_object,
    parse_field_selector,
    parse_label_selector,
    selector_to_string,
)
from skiff.client._client import (
    METADATA_API_VERSION,
    Client,
    PatchType,
    Preconditions,
    TransportChoice,
    Watch,
    WatchEvent,
    WatchEventType,
    field_selector_param,
    label_selector_param,
    partial_object_metadata,
)
from skiff.client._transport import LeanTransport
from skiff.client.cache import (
    LABELS_INDEX,
    NAMESPACE_INDEX,
    Indexer,
    IndexFunc,
    label_index_func,
    labels_index_func,
    namespace_index_func,
    stored_form,
)
from skiff.client.component import (
    LeaderElectedComponent,
    LeaderElection,
    LeadershipLost,
    default_identity,
)
from skiff.client.config import CachedTokenFile, Config, load_kubeconfig
from skiff.client.discovery import Discovery, server_preferred_resources
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
from skiff.client.frozen import FrozenDict, FrozenList, adopt, freeze, thaw
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
from skiff.client.typed import TypedClient, resource_of
from skiff.client.view import (
    EndpointSliceView,
    NodeView,
    ObjectView,
    PodView,
    Transform,
    drop_managed_fields,
    endpoint_slice_view,
    keep_everything,
    node_view,
    object_meta,
    pod_view,
)
from skiff.client.workqueue import QueueStatistics, WorkQueue

__all__ = [
    "LABELS_INDEX",
    "METADATA_API_VERSION",
    "NAMESPACE_INDEX",
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "BucketRateLimiter",
    "CachedTokenFile",
    "Client",
    "ClientError",
    "Config",
    "ConfigError",
    "Conflict",
    "Discovery",
    "EndpointSliceView",
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
    "LabelSelectorLike",
    "LeaderElectedComponent",
    "LeaderElection",
    "LeaderElector",
    "LeadershipLost",
    "LeanTransport",
    "Lister",
    "MaxOfRateLimiter",
    "MethodNotAllowed",
    "NodeView",
    "NotFound",
    "ObjectView",
    "PatchType",
    "PodView",
    "Preconditions",
    "QueueStatistics",
    "RateLimiter",
    "Reflector",
    "ReflectorSink",
    "ResourceEventHandler",
    "ResourceRef",
    "SelectorError",
    "ServerError",
    "ServerTimeout",
    "ServiceUnavailable",
    "SharedInformerFactory",
    "ShutDown",
    "TooManyRequests",
    "Transform",
    "TransportChoice",
    "TransportError",
    "TypedClient",
    "Unauthorized",
    "UnsupportedMediaType",
    "Watch",
    "WatchEvent",
    "WatchEventType",
    "WorkQueue",
    "WouldBlock",
    "adopt",
    "as_label_selector",
    "default_controller_rate_limiter",
    "default_identity",
    "drop_managed_fields",
    "endpoint_slice_view",
    "error_from_status",
    "field_selector_param",
    "freeze",
    "keep_everything",
    "label_index_func",
    "label_selector_from_object",
    "label_selector_param",
    "labels_index_func",
    "load_kubeconfig",
    "namespace_index_func",
    "node_view",
    "object_key",
    "object_meta",
    "parse_field_selector",
    "parse_label_selector",
    "partial_object_metadata",
    "pod_view",
    "resolve",
    "resource_for",
    "resource_of",
    "resource_path",
    "selector_to_string",
    "server_preferred_resources",
    "stored_form",
    "thaw",
]
