"""Credentials of a service calling another: tokens for `sub = system:<service>`, role `service`.

A token names the one service it is for (`internal_audience`) and carries only the scopes the
deployment granted. Production asks the province's identity provider for them (OAuth 2.0 client
credentials, RFC 6749 §4.4); the local stack signs them with the development issuer's key and
grants the scopes its own table lists (`shuangsui.devstack.config.SERVICE_GRANTS`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote_plus

import httpx
import jwt

from shuangsui.kernel.auth import Role, deployment_region, system_actor
from shuangsui.kernel.settings import BaseServiceSettings, ConfigurationError

# A token is renewed once this share of its life has passed, so a call never leaves with a
# token that expires on the way.
RENEW_AFTER = 0.8
SIGNED_TOKEN_SECONDS = 900


class ServiceTokens(Protocol):
    async def token_for(self, audience: str) -> str: ...

    def forget(self, audience: str) -> None:
        """Drop a token the callee refused (a rotated key, a revoked grant): the next call
        asks for a new one."""


def service_claims(
    service: str, province: str, audience: str, scopes: list[str], lifetime: int
) -> dict[str, object]:
    """The claims of a service principal's token (besides `iss`), valid from now."""
    now = int(time.time())
    return {
        "aud": audience,
        "sub": system_actor(service),
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "roles": [Role.service.value],
        "region_code": deployment_region(province),
        "scopes": scopes,
    }


@dataclass
class _Held:
    token: str
    renew_at: float


class _TokenCache:
    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}

    def get(self, audience: str) -> str | None:
        held = self._held.get(audience)
        return held.token if held is not None and held.renew_at > time.time() else None

    def put(self, audience: str, token: str, lifetime: float) -> str:
        self._held[audience] = _Held(token, time.time() + lifetime * RENEW_AFTER)
        return token

    def forget(self, audience: str) -> None:
        self._held.pop(audience, None)


class SignedServiceTokens:
    """Development only: tokens signed with the development issuer's private key."""

    def __init__(
        self,
        *,
        service: str,
        province: str,
        issuer: str,
        private_key_pem: bytes,
        key_id: str | None,
        scopes: list[str],
        lifetime: int = SIGNED_TOKEN_SECONDS,
    ) -> None:
        self.service = service
        self.province = province
        self.issuer = issuer
        self.scopes = scopes
        self.lifetime = lifetime
        self._key = private_key_pem
        self._key_id = key_id
        self._cache = _TokenCache()

    async def token_for(self, audience: str) -> str:
        held = self._cache.get(audience)
        if held is not None:
            return held
        claims = service_claims(self.service, self.province, audience, self.scopes, self.lifetime)
        claims["iss"] = self.issuer
        headers = {"kid": self._key_id} if self._key_id else None
        token = jwt.encode(claims, self._key, algorithm="ES256", headers=headers)
        return self._cache.put(audience, token, self.lifetime)

    def forget(self, audience: str) -> None:
        self._cache.forget(audience)


class TokenEndpointRefused(RuntimeError):
    """The identity provider did not hand out a token (wrong secret, scope not granted)."""


class ClientCredentialsTokens:
    """Production: the OAuth 2.0 client-credentials grant at the identity provider.

    The client authenticates with HTTP Basic (RFC 6749 §2.3.1), asks for its scopes and names
    the service it will call in `audience` (the parameter most providers use for it)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scopes: list[str],
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.scopes = scopes
        self._secret = client_secret
        self._timeout = timeout
        self._transport = transport
        self._cache = _TokenCache()

    async def token_for(self, audience: str) -> str:
        held = self._cache.get(audience)
        if held is not None:
            return held
        form = {"grant_type": "client_credentials", "audience": audience}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as http:
            try:
                # RFC 6749 §2.3.1: both are form-encoded before Basic (`system:planning`
                # holds a colon, which Basic alone would split at).
                credentials = (quote_plus(self.client_id), quote_plus(self._secret))
                answer = await http.post(self.token_url, data=form, auth=credentials)
            except httpx.HTTPError as exc:
                raise TokenEndpointRefused(
                    f"the token endpoint {self.token_url} did not answer ({type(exc).__name__})"
                ) from exc
        if answer.status_code != 200:
            raise TokenEndpointRefused(
                f"the token endpoint refused client {self.client_id!r}: "
                f"{answer.status_code} {answer.text[:200]}"
            )
        grant = answer.json()
        token = grant.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenEndpointRefused("the token endpoint's answer has no access_token")
        return self._cache.put(audience, token, float(grant.get("expires_in") or 300))

    def forget(self, audience: str) -> None:
        self._cache.forget(audience)


def service_tokens(settings: BaseServiceSettings, service: str) -> ServiceTokens:
    """The credentials the settings configure; start-up stops with a clear message if none."""
    scopes = settings.service_scopes.split()
    if settings.service_token_url:
        if settings.service_client_secret is None:
            raise ConfigurationError(
                service, ["SERVICE_CLIENT_SECRET is not set (SERVICE_TOKEN_URL is)"]
            )
        return ClientCredentialsTokens(
            token_url=settings.service_token_url,
            client_id=settings.service_client_id or system_actor(service),
            client_secret=settings.service_client_secret.get_secret_value(),
            scopes=scopes,
            timeout=settings.service_call_timeout_seconds,
        )
    if settings.service_signing_key_path:
        return SignedServiceTokens(
            service=service,
            province=settings.province,
            issuer=settings.auth_issuer,
            private_key_pem=Path(settings.service_signing_key_path).read_bytes(),
            key_id=settings.service_signing_key_id,
            scopes=scopes,
        )
    raise ConfigurationError(
        service,
        [
            "this service calls other services: set SERVICE_TOKEN_URL, SERVICE_CLIENT_ID and "
            "SERVICE_CLIENT_SECRET (or, for local runs, SERVICE_SIGNING_KEY_PATH)"
        ],
    )
