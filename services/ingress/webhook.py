"""`POST /webhook/{role}`: check the secret and the size, hand the raw body to routing,
answer 200 once routing recorded it, 503 when it could not (Telegram then retries)."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable

from aiohttp import web

from servicekit.logs import bind_correlation_id
from switchboard.routing.v1 import routing_pb2

from .batcher import Batcher, Update
from .errors import RoutingUnavailable
from .metrics import RESULTS, RoleMetrics
from .rawupdate import read_update_id
from .settings import ServedBot

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
JSON = "application/json"
log = logging.getLogger(__name__)


def _answer(status: int, body: bytes, **headers: str) -> web.Response:
    return web.Response(status=status, body=body, content_type=JSON, headers=headers or None)


class WebhookEndpoint:
    """The webhook of one bot role."""

    def __init__(
        self,
        bot: ServedBot,
        *,
        batcher: Callable[[], Batcher],
        metrics: RoleMetrics,
        max_body_bytes: int,
        retry_after_seconds: int,
    ) -> None:
        assert bot.secret is not None  # settings refuse a webhook bot without one
        self._bot = bot
        self._secret = bot.secret
        self._batcher = batcher
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes
        self._retry_after = str(retry_after_seconds)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer Telegram's POST of one update."""
        started = time.perf_counter()
        with bind_correlation_id() as cid:
            try:
                response = await self._handle(request, cid)
            except Exception:
                # Never a traceback to the caller; 500 also makes Telegram keep the update.
                log.exception("webhook failed", extra={"role": self._bot.role})
                self._metrics.by_result["error"].inc()
                response = _answer(500, b'{"ok":false,"error":"internal error"}')
        self._metrics.ack.observe(time.perf_counter() - started)
        return response

    async def _handle(self, request: web.Request, cid: str) -> web.Response:
        role = self._bot.role
        given = request.headers.get(SECRET_HEADER)
        # Bytes on both sides: compare_digest refuses a str with non-ASCII characters.
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self._secret
        ):
            log.warning("webhook secret missing or wrong", extra={"role": role})
            self._metrics.by_result["unauthorized"].inc()
            return _answer(401, b'{"ok":false,"error":"unauthorized"}')
        length = request.content_length
        if length is not None and length > self._max_body_bytes:
            return self._too_large(length)
        try:
            # The app's client_max_size caps this read too (a chunked body has no length).
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._too_large(None)
        update_id = read_update_id(body)
        try:
            result = await self._batcher().record(Update(self._bot.bot_id, update_id, body, cid))
        except RoutingUnavailable as error:
            log.warning(
                "update not recorded; Telegram will retry",
                extra={"role": role, "update_id": update_id, "reason": error.reason},
            )
            self._metrics.by_result["unavailable"].inc()
            return _answer(
                503, b'{"ok":false,"error":"try again later"}', **{"Retry-After": self._retry_after}
            )
        outcome = RESULTS.get(result.status)
        if outcome is None:
            # UNSPECIFIED promises nothing about storage: treat it as not recorded.
            raise RuntimeError(f"routing answered status {result.status} for an update")
        self._metrics.by_result[outcome].inc()
        if result.status == routing_pb2.RECORD_STATUS_REJECTED:
            log.info(
                "update recorded as rejected",
                extra={"role": role, "update_id": update_id, "reason": result.reason},
            )
        elif result.status == routing_pb2.RECORD_STATUS_QUARANTINED:
            # Kept by routing for an operator to replay: answered 200 like any recorded
            # update, or Telegram would hold the chat back for a day redelivering it.
            log.warning(
                "update recorded as quarantined",
                extra={"role": role, "update_id": update_id, "reason": result.reason},
            )
        return _answer(200, b'{"ok":true}')

    def _too_large(self, length: int | None) -> web.Response:
        log.warning(
            "webhook body over the limit",
            extra={"role": self._bot.role, "content_length": length, "limit": self._max_body_bytes},
        )
        self._metrics.by_result["too_large"].inc()
        response = _answer(413, b'{"ok":false,"error":"body too large"}')
        # The rest of the body is not wanted: close rather than keep the connection.
        response.force_close()
        return response
