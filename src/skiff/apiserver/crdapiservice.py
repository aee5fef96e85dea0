"""An APIService for every group/version CRDs serve (kube-aggregator's crdregistration and
autoregister controllers, ``pkg/controllers/crdregistration`` and ``pkg/controllers/autoregister``).

Kubernetes registers one local APIService (``v1.<group>``, no ``spec.service``) per served
group/version, CRD ones included: created when a CRD serving it appears, with the label
``kube-aggregator.kubernetes.io/automanaged: "true"`` and priorities 1000/100, and deleted when
the last CRD serving that group/version goes; ``kubectl get apiservices`` lists them, ``Local``
and ``Available``. The built-in ones (label ``onstart``) are the server's bootstrap
(``strategies.apiservice.local_api_services``) and are never touched here; neither is an
APIService a user created under the same name (it is not labelled ``true``).

`reconcile_api_services` runs with the rest of the CRD housekeeping, on each change of the CRDs.
"""

from __future__ import annotations

import logging
from typing import Any

from skiff.api import resources as kinds
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.context import RequestContext
from skiff.apiserver.crd import served_infos
from skiff.apiserver.errors import AlreadyExistsError, NotFoundError
from skiff.apiserver.registry import ListOptions, Registry
from skiff.apiserver.strategies.apiservice import (
    AUTOMANAGED_LABEL,
    api_service,
    served_group_versions,
)

__all__ = ["reconcile_api_services"]

log = logging.getLogger(__name__)

_USER = UserInfo("system:apiserver", ("system:masters",))


async def reconcile_api_services(registry: Registry, crds: list[dict[str, Any]]) -> None:
    """Create the APIService of each group/version a served CRD version needs and delete the
    automanaged ones no CRD (and no built-in kind) serves any more."""
    info = kinds.by_resource("apiregistration.k8s.io", "v1", "apiservices")
    assert info is not None
    wanted = {(r.group, r.version) for crd in crds for r in served_infos(crd)}
    builtin = served_group_versions()
    ctx = RequestContext(user=_USER, field_manager="skiff-apiserver")
    items, _, _ = await registry.list(
        info, "", ListOptions(label_selector=f"{AUTOMANAGED_LABEL}=true")
    )
    present = set()
    for item in items:
        spec = item.get("spec") or {}
        gv = (str(spec.get("group") or ""), str(spec.get("version") or ""))
        present.add(gv)
        if gv in wanted or gv in builtin or spec.get("service"):
            continue
        name = str((item.get("metadata") or {}).get("name") or "")
        try:
            await registry.delete(info, "", name, ctx)
        except NotFoundError:
            pass
        except Exception:
            log.exception("deleting APIService %s failed", name)
    for group, version in sorted(wanted - present - builtin):
        try:
            await registry.create(info, "", api_service(group, version, crd=True), ctx)
        except AlreadyExistsError:
            pass  # one of the same name exists (a user's): left alone, as upstream
        except Exception:
            log.exception("creating APIService %s.%s failed", version, group)
