"""Which service may call delivery's gRPC, when internal calls carry service tokens
(`internal_auth = "token"`; see servicekit.internal_auth). Not listed: refused."""

from __future__ import annotations

from servicekit.internal_auth import Policy
from switchboard.delivery.v1 import delivery_pb2

AUDIENCE = "delivery"  # the `aud` a caller's token must name

_DELIVERY = delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"].full_name

# ListLanes and CheckBots are operations questions: only admin asks them.
POLICY: Policy = {f"/{_DELIVERY}/*": {"admin"}}
