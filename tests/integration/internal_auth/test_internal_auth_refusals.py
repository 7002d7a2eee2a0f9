"""Reaching routing's or delivery's gRPC port is not enough: a call needs a service
token from a trusted caller, addressed to that service, for a method that caller may
use. Health stays open for the probes; reflection is off."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import ValidationError

from servicekit.internal_auth import TokenMinter
from servicekit.internal_auth.keys import generate, load_private
from services.delivery.settings import DeliverySettings
from services.routing.settings import RoutingSettings
from switchboard.delivery.v1 import delivery_pb2
from switchboard.operations.v1 import operations_pb2
from switchboard.operations.v1.operations_pb2_grpc import OperationsServiceStub
from switchboard.routing.v1 import routing_pb2
from tests.integration.internal_auth.conftest import Guarded
from tests.integration.routing.stack import rpc_error

ROUTING = routing_pb2.DESCRIPTOR.services_by_name["RoutingService"]
OPERATIONS = operations_pb2.DESCRIPTOR.services_by_name["OperationsService"]
DELIVERY = delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"]

# Who may call what — written out here, not read from the services' tables, so a
# change to those tables has to be made in both places on purpose.
ROUTING_CALLERS = {
    **{f"/{OPERATIONS.full_name}/{m.name}": "admin" for m in OPERATIONS.methods},
    f"/{ROUTING.full_name}/RecordUpdates": "ingress",
    f"/{ROUTING.full_name}/ClaimJob": "delivery",
    f"/{ROUTING.full_name}/ReportOutcome": "delivery",
}
DELIVERY_CALLERS = {f"/{DELIVERY.full_name}/{m.name}": "admin" for m in DELIVERY.methods}
REFUSALS = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


async def status(link: grpc.aio.Channel, method: str) -> grpc.StatusCode:
    """The status a call of `method` with an empty request ends with."""
    try:
        await link.unary_unary(method)(b"")
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_the_table_names_every_rpc_of_both_services() -> None:
    assert {f"/{ROUTING.full_name}/{m.name}" for m in ROUTING.methods} <= set(ROUTING_CALLERS)
    assert all(not (m.client_streaming or m.server_streaming) for m in OPERATIONS.methods)


async def test_a_caller_without_a_credential_is_refused_by_every_rpc(
    guarded: Guarded, connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for target, methods in (
        (guarded.routing_target, ROUTING_CALLERS),
        (guarded.delivery_target, DELIVERY_CALLERS),
    ):
        anonymous = connect(target)
        for method in methods:
            error = await rpc_error(anonymous.unary_unary(method)(b""))
            assert error.code() is grpc.StatusCode.UNAUTHENTICATED, method
            assert error.details() == (
                "internal auth: no service token (send authorization: Bearer <token>)"
            )
    refused = [r for r in caplog.records if r.getMessage() == "internal call refused"]
    assert {r.grpc_method for r in refused} == {*ROUTING_CALLERS, *DELIVERY_CALLERS}


async def test_nothing_happens_when_an_anonymous_call_is_refused(guarded: Guarded, connect) -> None:
    mallory = operations_pb2.ImportCustomerRequest(
        telegram_user_id=4242,
        display_name="Mallory",
        actor=operations_pb2.Actor(kind="system", id="mallory"),
    )
    anonymous = OperationsServiceStub(connect(guarded.routing_target))
    assert (await rpc_error(anonymous.ImportCustomer(mallory))).code() in REFUSALS
    admin = guarded.keys.credential("admin", "routing")
    as_admin = OperationsServiceStub(connect(guarded.routing_target, admin))
    lookup = operations_pb2.GetCustomerRequest(telegram_user_id=4242)
    assert (await rpc_error(as_admin.GetCustomer(lookup))).code() is grpc.StatusCode.NOT_FOUND


async def test_each_service_gets_only_its_own_rpcs(guarded: Guarded, connect) -> None:
    for caller in ("ingress", "delivery", "admin"):
        link = connect(guarded.routing_target, guarded.keys.credential(caller, "routing"))
        for method, allowed in ROUTING_CALLERS.items():
            code = await status(link, method)
            if caller == allowed:
                assert code not in REFUSALS, (caller, method)  # let in (the request is empty)
            else:
                assert code is grpc.StatusCode.PERMISSION_DENIED, (caller, method)
    admin = connect(guarded.delivery_target, guarded.keys.credential("admin", "delivery"))
    for method in DELIVERY_CALLERS:
        assert await status(admin, method) is grpc.StatusCode.OK


async def test_a_permission_refusal_names_the_caller_and_method_but_not_the_token(
    guarded: Guarded, connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ingress = guarded.keys.credential("ingress", "routing")
    method = f"/{OPERATIONS.full_name}/ListApiKeys"
    error = await rpc_error(connect(guarded.routing_target, ingress).unary_unary(method)(b""))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == f"internal auth: ingress may not call {method}"
    (logged,) = [r for r in caplog.records if r.getMessage() == "internal call refused"]
    assert (logged.caller, logged.grpc_method, logged.grpc_code) == (
        "ingress",
        method,
        "PERMISSION_DENIED",
    )
    token = ingress.authorization().removeprefix("Bearer ")
    assert all(part not in caplog.text for part in token.split("."))


async def test_forged_expired_and_misaddressed_tokens_are_refused(
    guarded: Guarded, connect
) -> None:
    keys = guarded.keys
    ingress_key = load_private(keys.pairs["ingress"].private_pem)
    stranger = load_private(generate().private_pem)
    record = f"/{ROUTING.full_name}/RecordUpdates"
    presented = {
        "the signature does not match a trusted key of ingress": (
            guarded.routing_target,
            TokenMinter(stranger, caller="ingress", audience="routing"),
        ),
        "the token has expired": (
            guarded.routing_target,
            TokenMinter(
                ingress_key, caller="ingress", audience="routing", clock=lambda: time.time() - 400
            ),
        ),
        "the token is for delivery, not routing": (
            guarded.routing_target,
            keys.credential("admin", "delivery"),
        ),
        "the token is for routing, not delivery": (
            guarded.delivery_target,
            keys.credential("admin", "routing"),
        ),
        # Delivery trusts admin alone: ingress is not a caller it knows.
        "unknown caller ingress": (guarded.delivery_target, keys.credential("ingress", "delivery")),
    }
    for reason, (target, credential) in presented.items():
        method = record if target == guarded.routing_target else f"/{DELIVERY.full_name}/ListLanes"
        error = await rpc_error(connect(target, credential).unary_unary(method)(b""))
        assert (error.code(), error.details()) == (
            grpc.StatusCode.UNAUTHENTICATED,
            f"internal auth: {reason}",
        )


async def test_health_answers_anyone_and_reflection_is_off(guarded: Guarded, connect) -> None:
    for target in (guarded.routing_target, guarded.delivery_target):
        anonymous = connect(target)
        health = health_pb2_grpc.HealthStub(anonymous)
        for service in ("", "liveness"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(anonymous)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.aio.AioRpcError) as off:
            async for _ in reflection.ServerReflectionInfo(iter([request])):
                pass
        assert off.value.code() is grpc.StatusCode.UNIMPLEMENTED


def test_loopback_mode_refuses_every_other_bind_address() -> None:
    for settings in (RoutingSettings, DeliverySettings):
        with pytest.raises(ValidationError, match="INTERNAL_AUTH is loopback"):
            settings(grpc_host="0.0.0.0")


def test_routing_in_loopback_mode_will_not_start_on_all_interfaces(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env |= {
        "SWITCHBOARD_ROUTING_GRPC_HOST": "0.0.0.0",
        "SWITCHBOARD_ROUTING_GRPC_PORT": "0",
        "SWITCHBOARD_ROUTING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
    }
    started = subprocess.run(
        [sys.executable, "-m", "services.routing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "SWITCHBOARD_ROUTING_GRPC_HOST is 0.0.0.0 but INTERNAL_AUTH is loopback" in (
        started.stderr + started.stdout
    )
    assert not (tmp_path / "r.db").exists()  # refused before touching anything
