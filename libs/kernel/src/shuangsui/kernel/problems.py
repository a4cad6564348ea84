"""RFC 9457 problem details: one stable `type` per kind of error, documented in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    name: str
    status: int
    title: str
    description: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.name}"


CATALOGUE: dict[str, ProblemType] = {}


def problem_type(name: str, status: int, title: str, description: str) -> ProblemType:
    """Declare a problem type once; services add their own with this at import time."""
    existing = CATALOGUE.get(name)
    declared = ProblemType(name, status, title, description)
    if existing is not None and existing != declared:
        raise ValueError(f"problem type {name!r} declared twice with different content")
    CATALOGUE[name] = declared
    return declared


VALIDATION = problem_type(
    "validation-error", 422, "Request is not valid · 请求校验失败",
    "One or more fields are missing or malformed; `errors` lists each field and the reason.",
)  # fmt: skip
UNAUTHENTICATED = problem_type(
    "unauthenticated", 401, "Authentication required · 需要身份认证",
    "No access token, or the token is expired, malformed, or from an unknown issuer.",
)  # fmt: skip
FORBIDDEN = problem_type(
    "forbidden", 403, "Not allowed · 无权访问",
    "The token is valid but its roles, scopes or region do not allow this operation.",
)  # fmt: skip
NOT_FOUND = problem_type(
    "not-found", 404, "Not found · 未找到",
    "No such resource within the caller's region.",
)  # fmt: skip
METHOD_NOT_ALLOWED = problem_type(
    "method-not-allowed", 405, "Method not allowed · 不支持的请求方法", "The path exists; the method does not."
)  # fmt: skip
INVALID_CURSOR = problem_type(
    "invalid-cursor", 400, "Invalid page cursor · 分页游标无效",
    "The `cursor` parameter was not produced by this list; start again without it.",
)  # fmt: skip
IDEMPOTENCY_KEY_REUSED = problem_type(
    "idempotency-key-reused", 422, "Idempotency key reused with another request · 幂等键被重复使用",
    "The same Idempotency-Key was sent earlier with a different body; use a new key.",
)  # fmt: skip
IDEMPOTENCY_IN_PROGRESS = problem_type(
    "idempotency-in-progress", 409, "Same request still running · 相同请求处理中",
    "A request with this Idempotency-Key is still being processed; retry later.",
)  # fmt: skip
IDEMPOTENCY_OUTCOME_UNKNOWN = problem_type(
    "idempotency-outcome-unknown", 409, "Earlier request applied, answer lost · 请求已生效但应答丢失",
    "A request with this Idempotency-Key was applied, but its answer was lost in a crash. "
    "Nothing was applied twice; read the resource to see its state.",
)  # fmt: skip
BATCH_REJECTED = problem_type(
    "batch-rejected", 422, "Batch rejected, nothing applied · 批次被拒绝，未作任何变更",
    "An all-or-nothing batch had invalid rows; `errors` lists each row's line, field and "
    "reason. Fix them and send the batch again, or send mode=per_row to apply the valid rows.",
)  # fmt: skip
PRECONDITION_FAILED = problem_type(
    "precondition-failed", 412, "Resource changed meanwhile · 资源已被修改",
    "The If-Match ETag does not match the current version; read it again and retry.",
)  # fmt: skip
PRECONDITION_REQUIRED = problem_type(
    "precondition-required", 428, "If-Match required · 需要 If-Match",
    "Updates of versioned resources must send If-Match with the ETag last read.",
)  # fmt: skip
PAYLOAD_TOO_LARGE = problem_type(
    "payload-too-large", 413, "Payload too large · 请求体过大", "The request body exceeds the limit."
)  # fmt: skip
UNSUPPORTED_MEDIA_TYPE = problem_type(
    "unsupported-media-type", 415, "Unsupported media type · 不支持的内容类型",
    "The Content-Type is not one this operation accepts, or the body is not in that format.",
)  # fmt: skip
SERVICE_UNAVAILABLE = problem_type(
    "service-unavailable", 503, "Service unavailable · 服务暂不可用",
    "A dependency (database, broker or another service) cannot be reached; retry later.",
)  # fmt: skip
SERVICE_CALL_FAILED = problem_type(
    "service-call-failed", 502, "Another service refused the call · 服务间调用失败",
    "This service asked another one of the platform for part of the answer and was refused; "
    "`detail` names the service and its answer. Retrying will not help until that is fixed.",
)  # fmt: skip
INTERNAL = problem_type(
    "internal-error", 500, "Internal error · 内部错误",
    "An unexpected error; it has been logged with the request id shown here.",
)  # fmt: skip


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class Problem(Exception):
    """Raise anywhere outside `domain/` to answer with a problem document."""

    def __init__(
        self,
        kind: ProblemType,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or kind.title)
        self.kind = kind
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.kind.uri,
            "title": self.kind.title,
            "status": self.kind.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = [{"field": e.field, "reason": e.reason} for e in self.errors]
        doc.update(self.extensions)
        return doc
