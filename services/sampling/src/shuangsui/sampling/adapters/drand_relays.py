"""drand's HTTP relays (DRAW_SPEC §5.1): a quicknet round as a relay publishes it, at
`{relay}/{chain_hash}/public/{round}`. What a relay answers is only a claim: the service accepts
it only through the same checks (a)–(d) as an operator's push, so a relay is trusted for nothing
but availability."""

from __future__ import annotations

from typing import Any

import httpx

from shuangsui.drawspec.drand import QUICKNET_CHAIN_HASH
from shuangsui.sampling.domain.beacons import OfferedRound

TIMEOUT = httpx.Timeout(10.0)


class RelayUnavailable(Exception):
    """The relay did not answer the round (down, not yet published, or not drand's format)."""


def round_url(relay: str, round_number: int) -> str:
    return f"{relay.rstrip('/')}/{QUICKNET_CHAIN_HASH}/public/{round_number}"


def _read(body: Any) -> OfferedRound:
    if not isinstance(body, dict):
        raise RelayUnavailable("the answer is not a JSON object")
    number, randomness, signature = body.get("round"), body.get("randomness"), body.get("signature")
    if not isinstance(number, int) or not isinstance(randomness, str):
        raise RelayUnavailable("the answer has no round and randomness")
    if not isinstance(signature, str):
        raise RelayUnavailable("the answer has no signature")
    return OfferedRound(number, randomness, signature)


async def fetch_round(client: httpx.AsyncClient, relay: str, round_number: int) -> OfferedRound:
    try:
        answer = await client.get(round_url(relay, round_number), timeout=TIMEOUT)
        answer.raise_for_status()
        return _read(answer.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise RelayUnavailable(f"{relay}: {exc!r}") from None
