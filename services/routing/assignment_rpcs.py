"""The operations that tie customers to teams (Assign, Unassign, ChangeTeam,
SetTreatment, SendToClient), mixed into routing's OperationsService."""

from __future__ import annotations


class AssignmentRpcs:
    """Filled in by the onboarding work; until then the base class answers UNIMPLEMENTED."""
