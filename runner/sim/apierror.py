"""Coder's JSON error body (`message`, `detail`, `validations`) as a raisable exception."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NOT_FOUND = "Resource not found or you do not have access to this resource"
ROUTE_NOT_FOUND = "Route not found."


@dataclass(frozen=True)
class Validation:
    field: str
    detail: str


class ApiError(Exception):
    """An error response: HTTP status plus Coder's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        detail: str = "",
        validations: Sequence[Validation] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = tuple(validations)

    def body(self) -> dict[str, Any]:
        """The JSON body; `detail` and `validations` are omitted when empty, as Coder does."""
        body: dict[str, Any] = {"message": self.message}
        if self.detail:
            body["detail"] = self.detail
        if self.validations:
            body["validations"] = [{"field": v.field, "detail": v.detail} for v in self.validations]
        return body


def not_found() -> ApiError:
    """Coder's one 404 for both "does not exist" and "not allowed"."""
    return ApiError(404, NOT_FOUND)
