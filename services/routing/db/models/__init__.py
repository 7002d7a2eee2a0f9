"""routing's tables as SQLAlchemy models; importing this registers them all on Base.metadata."""

from services.routing.db.models.albums import PendingAlbum
from services.routing.db.models.audit import AuditEntry
from services.routing.db.models.backup import Copy, InboundUpdate, Message
from services.routing.db.models.base import Base
from services.routing.db.models.bots import Bot, StaffGroup, StaffGroupBot
from services.routing.db.models.keys import ApiKey
from services.routing.db.models.onboarding import Assignment, DirectoryUser, EmailCheck
from services.routing.db.models.outbox import Job, JobDestination, SendBudget
from services.routing.db.models.people import Customer, Staff, Team
from services.routing.db.models.topics import Topic

__all__ = [
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "Base",
    "Bot",
    "Copy",
    "Customer",
    "DirectoryUser",
    "EmailCheck",
    "InboundUpdate",
    "Job",
    "JobDestination",
    "Message",
    "PendingAlbum",
    "SendBudget",
    "Staff",
    "StaffGroup",
    "StaffGroupBot",
    "Team",
    "Topic",
]
