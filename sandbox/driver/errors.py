"""Errors of the driver API: a status and a readable message, never a traceback."""

from __future__ import annotations


class DriverError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def invalid(message: str) -> DriverError:
    return DriverError(400, message)


def missing(message: str) -> DriverError:
    return DriverError(404, message)


def refused(message: str) -> DriverError:
    return DriverError(403, message)
