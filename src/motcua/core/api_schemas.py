"""What every API error looks like, and the OpenAPI declaration of the 4xx answers an operation
gives: one shape for domain errors, bad input, refused credentials and rate limits."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    code: str
    detail: str
    errors: dict[str, str]


def error_responses(*statuses: int) -> dict[int, type[Schema]]:
    """`response={200: Out, **error_responses(401, 404, 422)}`."""
    return {status: ErrorOut for status in statuses}
