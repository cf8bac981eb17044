"""Uploads held between two showings of a form: when a form comes back with an error, the files
it carried are not dropped (the person would have to find and choose them again), they wait in
the private storage under a short-lived signed token.

A token is only a name: the session that held the file keeps what it stands for, so a token
copied into another session claims nothing, and a token older than HOLD_SECONDS claims nothing
either (its signature carries the time it was made). The file itself is checked (`upload_check`)
before it is held and again by the service that finally files it."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import timezone

from motcua.core.uploads import CheckedFile, private_storage, upload_store

HOLD_SECONDS = 3600
SESSION_KEY = "held_uploads"
FOLDER = "held"
MAX_HELD = 20  # per session; the oldest go first
_SALT = "motcua.core.held"


@dataclass(frozen=True)
class HeldFile:
    token: str
    storage_name: str
    original_name: str
    content_type: str
    size: int


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def _entries(session: SessionBase) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = session.get(SESSION_KEY) or {}
    return entries


def held_store(session: SessionBase, upload: UploadedFile, checked: CheckedFile) -> HeldFile:
    """Keep a checked upload for this session; returns it with the token a form carries."""
    held_purge(session)
    name = upload_store(upload, checked, folder=FOLDER)
    ident = secrets.token_urlsafe(18)
    entries = _entries(session)
    entries[ident] = {
        "name": name,
        "original": checked.original_name,
        "type": checked.content_type,
        "size": checked.size,
        "at": time.time(),
    }
    for old in sorted(entries, key=lambda k: entries[k]["at"])[:-MAX_HELD]:
        _delete(entries.pop(old)["name"])
    session[SESSION_KEY] = entries
    return _view(_signer().sign(ident), entries[ident])


def held_claim(session: SessionBase, token: str) -> HeldFile | None:
    """The file a token stands for, if this session holds it and it is under an hour old."""
    try:
        ident = _signer().unsign(token or "", max_age=HOLD_SECONDS)
    except signing.BadSignature:  # also a token past its age (SignatureExpired)
        return None
    entry = _entries(session).get(ident)
    if entry is None or time.time() - float(entry["at"]) > HOLD_SECONDS:
        return None
    return _view(token, entry)


def held_open(held: HeldFile) -> UploadedFile:
    """The held file as a fresh upload, to hand to a service as if it had just been sent."""
    with private_storage().open(held.storage_name, "rb") as stream:
        content = stream.read()
    return SimpleUploadedFile(held.original_name, content, content_type=held.content_type)


def held_release(session: SessionBase, token: str) -> None:
    """Forget a held file (filed, or replaced by another) and delete it."""
    try:
        ident = _signer().unsign(token or "")
    except signing.BadSignature:
        return
    entries = _entries(session)
    entry = entries.pop(ident, None)
    if entry is not None:
        _delete(entry["name"])
        session[SESSION_KEY] = entries


def held_purge(session: SessionBase) -> None:
    """Drop this session's holds older than HOLD_SECONDS."""
    entries = _entries(session)
    stale = [k for k, e in entries.items() if time.time() - float(e["at"]) > HOLD_SECONDS]
    for ident in stale:
        _delete(entries.pop(ident)["name"])
    if stale:
        session[SESSION_KEY] = entries


def held_sweep(*, older_than_s: int = HOLD_SECONDS) -> int:
    """Delete held files of every session older than `older_than_s` (sessions that ended
    without filing); for a periodic task. Returns how many were deleted."""
    storage = private_storage()
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    deleted = 0
    folders = [FOLDER]
    while folders:
        folder = folders.pop()
        try:
            subfolders, names = storage.listdir(folder)
        except FileNotFoundError:
            continue
        folders += [f"{folder}/{sub}" for sub in subfolders]
        for base in names:
            name = f"{folder}/{base}"
            if storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                deleted += 1
    return deleted


def _view(token: str, entry: dict[str, Any]) -> HeldFile:
    return HeldFile(
        token=token,
        storage_name=str(entry["name"]),
        original_name=str(entry["original"]),
        content_type=str(entry["type"]),
        size=int(entry["size"]),
    )


def _delete(name: str) -> None:
    private_storage().delete(name)
