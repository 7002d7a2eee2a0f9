"""REST for customers: find them, look one up, assign, move, switch Treatment, write."""

from __future__ import annotations

from switchboard.operations.v1 import operations_pb2 as ops_pb2

from .bodies import ClientMessage, CustomerQuery, TeamChoice, TreatmentSwitch
from .rest import Call, Route

CUSTOMER = ("customer", "id")


async def list_customers(call: Call) -> ops_pb2.CustomerList:
    q: CustomerQuery = call.query
    request = ops_pb2.ListCustomersRequest(
        query=q.query, status=q.status, cr_team=q.team, limit=q.limit, after_id=q.after_id
    )
    return await call.forward(call.ops.ListCustomers, request)


async def get_customer(call: Call) -> ops_pb2.Customer:
    return await call.forward(
        call.ops.GetCustomer, ops_pb2.GetCustomerRequest(id=call.path_int("id"))
    )


async def assign(call: Call) -> ops_pb2.Customer:
    body: TeamChoice = call.body
    call.attempt.details = {"cr_team": body.cr_team}
    request = ops_pb2.AssignRequest(customer_id=call.path_int("id"), cr_team=body.cr_team)
    return await call.forward(call.ops.Assign, request)


async def unassign(call: Call) -> ops_pb2.Customer:
    return await call.forward(
        call.ops.Unassign, ops_pb2.UnassignRequest(customer_id=call.path_int("id"))
    )


async def change_team(call: Call) -> ops_pb2.Customer:
    body: TeamChoice = call.body
    call.attempt.details = {"cr_team": body.cr_team}
    request = ops_pb2.ChangeTeamRequest(customer_id=call.path_int("id"), cr_team=body.cr_team)
    return await call.forward(call.ops.ChangeTeam, request)


async def set_treatment(call: Call) -> ops_pb2.Customer:
    body: TreatmentSwitch = call.body
    call.attempt.details = {"on": body.on}
    request = ops_pb2.SetTreatmentRequest(customer_id=call.path_int("id"), on=body.on)
    return await call.forward(call.ops.SetTreatment, request)


async def send(call: Call) -> ops_pb2.SendToClientResponse:
    body: ClientMessage = call.body
    # The audit keeps who it was sent as and how long it was, never the text itself.
    call.attempt.details = {"as_staff": body.as_staff, "chars": len(body.text)}
    request = ops_pb2.SendToClientRequest(
        customer_id=call.path_int("id"), text=body.text, staff_telegram_user_id=body.as_staff or 0
    )
    return await call.forward(call.ops.SendToClient, request)


_ONE = "/v1/customers/{id}"
ROUTES = [
    Route(
        "GET",
        "/v1/customers",
        "ListCustomers",
        list_customers,
        "Find customers by name, email or Telegram user id, status and CR team",
        ops_pb2.CustomerList.DESCRIPTOR,
        query=CustomerQuery,
    ),
    Route(
        "GET",
        _ONE,
        "GetCustomer",
        get_customer,
        "One customer with their topics",
        ops_pb2.Customer.DESCRIPTOR,
        target=CUSTOMER,
    ),
    Route(
        "POST",
        f"{_ONE}/assign",
        "Assign",
        assign,
        "Confirm the customer's pending assignment with a CR team",
        ops_pb2.Customer.DESCRIPTOR,
        body=TeamChoice,
        target=CUSTOMER,
    ),
    Route(
        "POST",
        f"{_ONE}/unassign",
        "Unassign",
        unassign,
        "Close the customer's topics; their lines are held until assigned again",
        ops_pb2.Customer.DESCRIPTOR,
        target=CUSTOMER,
    ),
    Route(
        "POST",
        f"{_ONE}/team",
        "ChangeTeam",
        change_team,
        "Record a move of the customer to another CR team",
        ops_pb2.Customer.DESCRIPTOR,
        body=TeamChoice,
        target=CUSTOMER,
    ),
    Route(
        "POST",
        f"{_ONE}/treatment",
        "SetTreatment",
        set_treatment,
        "Switch the Treatment team's following of the customer on or off",
        ops_pb2.Customer.DESCRIPTOR,
        body=TreatmentSwitch,
        target=CUSTOMER,
    ),
    Route(
        "POST",
        f"{_ONE}/messages",
        "SendToClient",
        send,
        "Send the client a message as a staff member or as the system",
        ops_pb2.SendToClientResponse.DESCRIPTOR,
        body=ClientMessage,
        target=CUSTOMER,
        status=202,
    ),
]
