"""DeliveryService over gRPC: the lanes served, and a live check of the bots."""

from __future__ import annotations

from typing import Any

import grpc
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from servicekit.lanes import LaneSettings
from switchboard.common.v1 import common_pb2
from switchboard.delivery.v1 import delivery_pb2, delivery_pb2_grpc

ROLES = {
    "client": common_pb2.BOT_ROLE_CLIENT,
    "cs": common_pb2.BOT_ROLE_CS,
    "cr": common_pb2.BOT_ROLE_CR,
    "treatment": common_pb2.BOT_ROLE_TREATMENT,
}


def lane_enum(name: str) -> common_pb2.Lane.ValueType:
    return common_pb2.Lane.Value("LANE_" + name.upper().replace("-", "_"))


class DeliveryServicer(delivery_pb2_grpc.DeliveryServiceServicer):
    def __init__(self, *, lanes: dict[str, LaneSettings], bots: dict[str, Bot]) -> None:
        self.lanes = lanes
        self.bots = bots

    async def ListLanes(
        self, request: delivery_pb2.ListLanesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> delivery_pb2.ListLanesResponse:
        """The lanes this worker serves, with their dispatch settings."""
        return delivery_pb2.ListLanesResponse(
            lanes=[
                delivery_pb2.LaneSettings(
                    lane=lane_enum(name),
                    queue=name,
                    max_dispatches_per_second=s.max_dispatches_per_second,
                    max_concurrent_dispatches=s.max_concurrent_dispatches,
                    max_attempts=s.max_attempts,
                )
                for name, s in self.lanes.items()
            ]
        )

    async def CheckBots(
        self, request: delivery_pb2.CheckBotsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> delivery_pb2.CheckBotsResponse:
        """Ask Telegram who each configured bot is."""
        checks = []
        for role, bot in self.bots.items():
            check = delivery_pb2.BotCheck(role=ROLES[role], bot_id=bot.id)
            try:
                me = await bot.get_me()
                check.ok, check.username = True, me.username or ""
            except (TelegramAPIError, TelegramNetworkError) as error:
                check.error = error.message
            checks.append(check)
        return delivery_pb2.CheckBotsResponse(bots=checks)
