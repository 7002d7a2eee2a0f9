"""Google Cloud Tasks as the dispatcher: one queue per lane, an HTTP task per job
attempt pushed to delivery with an OIDC token, scheduled no sooner than the job's
not_before (Telegram's retry_after). Task names are hashes of (job, attempt), so
handing the same attempt out twice creates one task."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

import grpc
from google.api_core import exceptions as api_exceptions
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport
from google.protobuf import timestamp_pb2

from services.routing.outbox.relay import Handout

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/x-protobuf"


def task_id(job_id: int, attempt: int, *, salt: str = "") -> str:
    """A hashed task id: Cloud Tasks spreads hashed names well (sequential ones are slow)."""
    return hashlib.sha256(f"{salt}:{job_id}:{attempt}".encode()).hexdigest()[:40]


def queue_path(*, project: str, location: str, lane: str) -> str:
    """The full name of a lane's queue: the queue id is the lane's name."""
    return tasks_v2.CloudTasksAsyncClient.queue_path(project, location, lane)


def make_client(*, emulator: str = "") -> tasks_v2.CloudTasksAsyncClient:
    """A client of Google's API (Application Default Credentials), or of an emulator at
    host:port over plaintext gRPC (credentials options would make it try TLS)."""
    if not emulator:
        return tasks_v2.CloudTasksAsyncClient()
    channel = grpc.aio.insecure_channel(emulator)
    return tasks_v2.CloudTasksAsyncClient(transport=CloudTasksGrpcAsyncIOTransport(channel=channel))


class CloudTasksDispatcher:
    def __init__(
        self,
        client: tasks_v2.CloudTasksAsyncClient,
        *,
        project: str,
        location: str,
        delivery_url: str,
        service_account: str,
        audience: str | None = None,
        name_salt: str = "",
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.project = project
        self.location = location
        self.delivery_url = delivery_url.rstrip("/")
        self.service_account = service_account
        self.audience = audience
        self.name_salt = name_salt
        # Put on every task besides our own headers (which win). For tests against the
        # emulator, which attaches no OIDC token: they pass a self-minted Authorization.
        self.extra_headers = dict(extra_headers or {})

    def queue_path(self, lane: str) -> str:
        return queue_path(project=self.project, location=self.location, lane=lane)

    def build_task(self, handout: Handout) -> tasks_v2.Task:
        url = f"{self.delivery_url}/push/{handout.lane}"
        name = self.client.task_path(
            self.project,
            self.location,
            handout.lane,
            task_id(handout.job_id, handout.attempt, salt=self.name_salt),
        )
        task = tasks_v2.Task(
            name=name,
            http_request=tasks_v2.HttpRequest(
                http_method=tasks_v2.HttpMethod.POST,
                url=url,
                # Cloud Tasks sets no Content-Type of its own.
                headers={
                    **self.extra_headers,
                    "Content-Type": CONTENT_TYPE,
                    "X-Switchboard-Job": str(handout.job_id),
                },
                body=handout.payload,
                oidc_token=tasks_v2.OidcToken(
                    service_account_email=self.service_account,
                    audience=self.audience or url,
                ),
            ),
        )
        if handout.not_before is not None:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromDatetime(handout.not_before)
            task.schedule_time = stamp
        return task

    async def __call__(self, handout: Handout) -> None:
        task = self.build_task(handout)
        try:
            await self.client.create_task(parent=self.queue_path(handout.lane), task=task)
        except api_exceptions.AlreadyExists:
            # This attempt was handed out before (a relay retry): the task exists.
            log.info("task already exists", extra={"job_id": handout.job_id})
