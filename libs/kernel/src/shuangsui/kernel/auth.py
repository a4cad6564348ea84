"""Access tokens: verify a JWT (issuer, audience, JWKS from settings) into a Principal.

Claims follow ARCHITECTURE.md §5; role codes follow DOMAIN.md §7.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shuangsui.kernel.problems import FORBIDDEN, UNAUTHENTICATED, Problem

ALGORITHMS = ["ES256", "RS256", "EdDSA"]


class Role(StrEnum):
    """Role codes carried in tokens (DOMAIN.md §7)."""

    national_admin = "national_admin"
    provincial_admin = "provincial_admin"
    department_admin = "department_admin"
    partner_admin = "partner_admin"
    station_staff = "station_staff"
    inspector = "inspector"
    reviewer = "reviewer"
    auditor = "auditor"
    enterprise = "enterprise"
    integrator = "integrator"
    # Another service of the platform calling this one (`sub = system:<service>`): it holds
    # only the scopes its deployment granted, never a user's role.
    service = "service"


SYSTEM_PREFIX = "system:"


def system_actor(service: str) -> str:
    """The actor of what a service does on its own (consumers, schedulers, calls to others)."""
    return f"{SYSTEM_PREFIX}{service}"


def deployment_region(province: str) -> str:
    """The region of the whole deployment: `330000` for province 33, `100000` nationally."""
    return "100000" if province == "national" else f"{province}0000"


def internal_audience(audience: str, service: str) -> str:
    """The audience of tokens addressed to one service by another (`shuangsui:registry`).
    The gateway accepts only the public audience, so such a token is useless from outside."""
    return f"{audience}:{service}"


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    region_code: str
    org_id: str | None = None
    org_code: str | None = None
    department_type: str | None = None
    station_code: str | None = None
    uscc: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def province(self) -> str:
        return self.region_code[:2]

    @property
    def is_national(self) -> bool:
        return Role.national_admin in self.roles

    @property
    def is_service(self) -> bool:
        return Role.service in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @classmethod
    def system(cls, service: str, province: str) -> Principal:
        """The service itself, for use cases its consumers and schedulers run: the whole
        deployment's region, no user role; events it records name `system:<service>`."""
        return cls(
            sub=system_actor(service),
            roles=frozenset({Role.service}),
            region_code=deployment_region(province),
        )

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        region = claims.get("region_code")
        if not isinstance(region, str) or len(region) != 6 or not region.isdigit():
            raise Problem(UNAUTHENTICATED, "the token has no valid 6-digit region_code claim")
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Problem(UNAUTHENTICATED, "the token's roles claim must be a list of role codes")
        scopes = claims.get("scopes") or []
        if isinstance(scopes, str):
            scopes = scopes.split()
        return cls(
            sub=str(claims["sub"]),
            roles=frozenset(roles),
            region_code=region,
            org_id=claims.get("org_id"),
            org_code=claims.get("org_code"),
            department_type=claims.get("department_type"),
            station_code=claims.get("station_code"),
            uscc=claims.get("uscc"),
            scopes=frozenset(scopes),
        )


VERIFIED_TOKENS_KEPT = 10_000


class TokenVerifier:
    """Checks signature, expiry, issuer and audience; keys come from a JWKS file or URL."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_path: str | None = None,
        jwks_url: str | None = None,
        service_audience: str | None = None,
    ) -> None:
        """`service_audience`: the audience of calls from other services to this one (see
        `internal_audience`); None (the gateway) accepts no service tokens at all."""
        if not (jwks_path or jwks_url):
            raise ValueError("set AUTH_JWKS_PATH or AUTH_JWKS_URL")
        self.issuer = issuer
        self.audience = audience
        self.service_audience = service_audience
        self._jwks_path = jwks_path
        self._url_client = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._file_keys: dict[str, jwt.PyJWK] | None = None
        self._verified: dict[str, tuple[Principal, float]] = {}

    def _key_for(self, token: str) -> Any:
        if self._url_client is not None:
            return self._url_client.get_signing_key_from_jwt(token).key
        if self._file_keys is None:
            assert self._jwks_path is not None
            jwks = json.loads(Path(self._jwks_path).read_text())
            self._file_keys = {k.key_id or "": k for k in jwt.PyJWKSet.from_dict(jwks).keys}
        kid = jwt.get_unverified_header(token).get("kid") or ""
        key = self._file_keys.get(kid)
        if key is None:
            raise jwt.InvalidTokenError(f"unknown signing key {kid!r}")
        return key.key

    def verify(self, token: str) -> Principal:
        """The token's principal. A token once verified is remembered until it expires: a
        client sends the same token with every call, and checking a signature costs more than
        the rest of a small request."""
        remembered = self._verified.get(token)
        if remembered is not None and remembered[1] > time.time():
            return remembered[0]
        principal, expires = self._check(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        audiences = [self.audience, *([self.service_audience] if self.service_audience else [])]
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=ALGORITHMS,
                audience=audiences,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Problem(UNAUTHENTICATED, "the access token has expired") from None
        except jwt.InvalidIssuerError:
            raise Problem(UNAUTHENTICATED, "the access token is from an unknown issuer") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError, ValueError) as exc:
            raise Problem(UNAUTHENTICATED, f"the access token is not valid: {exc}") from None
        principal = Principal.from_claims(claims)
        self._check_service_audience(principal, claims["aud"])
        return principal, float(claims["exp"])

    def _check_service_audience(self, principal: Principal, audience: str | list[str]) -> None:
        """A service token is addressed to this service and to nothing else, and the audience
        of service calls admits service principals only: neither passes for the other."""
        addressed = {audience} if isinstance(audience, str) else set(audience)
        internal = self.service_audience is not None and self.service_audience in addressed
        if principal.is_service:
            if not internal or len(addressed) != 1:
                raise Problem(
                    UNAUTHENTICATED,
                    "a service token is accepted only by the one service it is addressed to",
                )
            if not principal.sub.startswith(SYSTEM_PREFIX):
                raise Problem(UNAUTHENTICATED, "a service token's sub must be system:<service>")
        elif internal:
            raise Problem(UNAUTHENTICATED, "this audience is for service calls only")


_bearer = HTTPBearer(auto_error=False, description="JWT access token · 访问令牌")
# Public reads take a token when there is one (an admin sees drafts too). The app's OpenAPI
# document lists this scheme as "no token, or the bearer token" (see kernel.app).
OPTIONAL_BEARER = "OptionalBearer"
_optional_bearer = HTTPBearer(auto_error=False, scheme_name=OPTIONAL_BEARER)


MISSING_CREDENTIALS = "this operation needs a Bearer access token"


def bearer_challenge(detail: str) -> Problem:
    """401 with the `WWW-Authenticate: Bearer` challenge (RFC 6750), as every refusal of a
    missing or bad token is answered, by the services and at the gateway."""
    return Problem(UNAUTHENTICATED, detail, headers={"WWW-Authenticate": "Bearer"})


async def optional_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_optional_bearer)
) -> Principal | None:
    """The caller of a public read: anonymous without a token; a bad token is still refused."""
    return None if credentials is None else await current_principal(request, credentials)


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """The verified caller. The deployment serves one province: other provinces are refused."""
    if credentials is None:
        raise bearer_challenge(MISSING_CREDENTIALS)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = verifier.verify(credentials.credentials)
    except Problem as problem:
        raise bearer_challenge(problem.detail or "invalid token") from None
    deployment_province: str = request.app.state.province
    if (
        deployment_province != "national"
        and not principal.is_national
        and principal.province != deployment_province
    ):
        raise Problem(
            FORBIDDEN,
            f"a token of province {principal.province} cannot use the platform of province "
            f"{deployment_province}",
        )
    return principal


PrincipalDependency = Callable[..., Coroutine[Any, Any, Principal]]


def require(*roles: str) -> PrincipalDependency:
    """Dependency: the caller holds at least one of `roles` (national_admin always passes)."""

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.is_national or principal.has_any_role(*roles):
            return principal
        raise Problem(FORBIDDEN, f"this operation needs one of the roles: {', '.join(roles)}")

    return check


def require_scope(scope: str, *roles: str) -> PrincipalDependency:
    """Dependency: an `integrator` client or another service (`service` role) granted `scope`,
    or a user holding one of `roles`."""

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.has_any_role(Role.integrator, Role.service) and scope in principal.scopes:
            return principal
        if principal.is_national or principal.has_any_role(*roles):
            return principal
        raise Problem(FORBIDDEN, f"this operation needs the scope {scope!r}")

    return check
