"""Client secrets are 64 random URL-safe characters (384 bits), not passwords: a salted SHA-256
keeps them unreadable in the database, and a slow password hash (Argon2's 100 MB per check)
would only slow every token request without making such a secret any harder to guess."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "sha256_client_secret"

    def encode(self, password: str, salt: str) -> str:
        if not salt or "$" in salt:
            raise ValueError("a salt without '$' is required")
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        salt = self.decode(encoded)["salt"]
        return hmac.compare_digest(encoded.encode(), self.encode(password, salt).encode())

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"]),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
