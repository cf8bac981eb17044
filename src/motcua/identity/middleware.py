"""Ends e-ID sessions that were idle too long or have reached their absolute limit, and keeps\nthe record of this browser's session on the session's current id."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from motcua.identity.sessions import (
    session_expired,
    session_finish,
    session_follow_key,
    session_state,
    session_touch,
)


class EidSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.COOKIES:  # no cookie, no session to look at (API calls by partners)
            state = session_state(request)
            if state is not None:
                now = time.time()
                if session_expired(state, now):
                    session_finish(request)
                else:
                    session_touch(request, state, now)
        response = self.get_response(request)
        session_follow_key(request)
        return response
