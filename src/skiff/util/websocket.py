"""uvicorn's WebSocket protocol, taught to take Kubernetes' subprotocol offers.

kubectl's port-forward offers the subprotocol ``SPDY/3.1+portforward.k8s.io``
(``client-go/tools/portforward/tunneling_dialer.go``), which is not an RFC 7230 token (it has a
``/``). The websockets library behind uvicorn parses ``Sec-WebSocket-Protocol`` strictly and
answers such a handshake 400 before the application sees it; Go's servers (kube-apiserver, the
kubelet) split the header on commas. This protocol leaves the choice to the application, which
receives the offered subprotocols split on commas (uvicorn does that itself) and names the one
it accepts. Pass it to uvicorn as ``ws=KubernetesWebSocketProtocol``: the API server does
(exec/attach/port-forward from clients) and so does the node agent's endpoint (the same streams
relayed to it), which is why it lives here, below both layers.

It also shuts down cleanly a connection whose peer already sent its close frame (uvicorn 0.55
tries to send a second close then, and the error escapes ``Server.serve``).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.protocol import State
from websockets.typing import Subprotocol

__all__ = ["KubernetesWebSocketProtocol"]


def _application_chooses(headers: Headers) -> Subprotocol | None:
    # the handshake goes on without a subprotocol chosen here; the ASGI application's
    # websocket.accept names it and uvicorn writes it into the response
    return None


class KubernetesWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websockets protocol without the strict subprotocol parsing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.process_subprotocol = _application_chooses  # type: ignore[method-assign]

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent and self.conn.state is not State.OPEN:
            # the closing handshake is under way: nothing more may be sent, only let go
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1012})
            self.transport.close()
            return
        super().shutdown()
