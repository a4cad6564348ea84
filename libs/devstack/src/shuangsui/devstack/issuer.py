"""The development token issuer: a local signing key, its JWKS, and tokens with platform claims.

For local runs and tests only; production verifies tokens of the province's identity provider.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from shuangsui.kernel.auth import internal_audience
from shuangsui.kernel.service_auth import SIGNED_TOKEN_SECONDS, service_claims

DEV_ISSUER = "https://dev-issuer.shuangsui.local"
DEV_AUDIENCE = "shuangsui"
KEY_ID = "dev-1"


class DevIssuer:
    def __init__(
        self, directory: Path, issuer: str = DEV_ISSUER, audience: str = DEV_AUDIENCE
    ) -> None:
        self.directory = directory
        self.issuer = issuer
        self.audience = audience

    @property
    def private_key_path(self) -> Path:
        return self.directory / "private.pem"

    @property
    def jwks_path(self) -> Path:
        return self.directory / "jwks.json"

    def ensure_keys(self) -> None:
        if self.private_key_path.exists() and self.jwks_path.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.private_key_path.write_bytes(pem)
        self.private_key_path.chmod(0o600)
        public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        public.update({"kid": KEY_ID, "use": "sig", "alg": "ES256"})
        self.jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))

    def mint(self, claims: dict[str, Any], ttl_seconds: int = 8 * 3600, **overrides: Any) -> str:
        """A signed token; `overrides` replace standard claims (tests use it for `exp`, `iss`)."""
        self.ensure_keys()
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now - 5,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            **claims,
            **overrides,
        }
        key = self.private_key_path.read_bytes()
        return jwt.encode(body, key, algorithm="ES256", headers={"kid": KEY_ID})

    def service_credentials_env(self, scopes: tuple[str, ...]) -> dict[str, str]:
        """What a service of the local stack needs to sign its own service tokens: this
        issuer's key, and the scopes the stack grants it (SERVICE_GRANTS)."""
        self.ensure_keys()
        return {
            "SERVICE_SIGNING_KEY_PATH": str(self.private_key_path),
            "SERVICE_SIGNING_KEY_ID": KEY_ID,
            "SERVICE_SCOPES": " ".join(scopes),
        }

    def service_token(
        self, caller: str, callee: str, scopes: list[str], province: str = "33", **overrides: Any
    ) -> str:
        """A token of the service principal `system:<caller>` addressed to `callee`, as the
        caller itself would sign it; `overrides` replace claims (`aud`, `sub`, `roles` …)."""
        audience = internal_audience(self.audience, callee)
        claims = service_claims(caller, province, audience, scopes, SIGNED_TOKEN_SECONDS)
        return self.mint({**claims, **overrides})

    def token_for(self, *, roles: list[str], region: str = "330000", **options: Any) -> str:
        """Tests' shorthand: claims as keywords; `exp`, `iss`, `aud` override the standard ones."""
        overrides = {k: options.pop(k) for k in ("exp", "iss", "aud") if k in options}
        return self.mint(token_claims(roles=roles, region=region, **options), **overrides)


def authorization(token: str) -> dict[str, str]:
    """The request header that carries `token`."""
    return {"Authorization": f"Bearer {token}"}


def token_claims(
    *,
    roles: list[str],
    region: str,
    sub: str | None = None,
    org: str | None = None,
    org_code: str | None = None,
    department_type: str | None = None,
    station: str | None = None,
    uscc: str | None = None,
    scopes: list[str] | None = None,
) -> dict[str, Any]:
    """The platform claims of ARCHITECTURE.md §5, leaving out the ones not given. `org` is the
    org's id; its public unit code is `org_code` (the id again when not given, for tests that
    name an org by one value)."""
    claims: dict[str, Any] = {
        "sub": sub or f"dev-{'-'.join(roles)}-{region}",
        "roles": roles,
        "region_code": region,
        "department_type": department_type or "market_supervision",
    }
    optional = {"org_code": org_code or org, "org_id": org, "station_code": station, "uscc": uscc}
    claims.update({k: v for k, v in optional.items() if v})
    if scopes:
        claims["scopes"] = scopes
    return claims
