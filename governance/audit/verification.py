"""Walk a chain of events, from the database or from an export, and find the first bad link."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from governance.audit.canonical import chain_hash
from governance.audit.models import GENESIS_HASH


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    checked: int
    last_sequence: int
    first_bad_sequence: int | None = None
    problem: str = ""


def verify_events(
    events: Iterable[dict[str, Any]],
    *,
    expected_head: tuple[int, str] | None = None,
    start_hash: str = GENESIS_HASH,
    start_sequence: int = 1,
) -> VerificationResult:
    """Check that events are numbered without gaps, linked, and hash to what they claim.

    ``expected_head`` (sequence, hash) catches removal of the newest events, which the links
    alone cannot show. An export that starts mid-chain passes its first ``prev_hash`` and
    sequence as ``start_hash`` and ``start_sequence``.
    """
    prev_hash, expected, checked = start_hash, start_sequence, 0

    def broken(sequence: Any, problem: str) -> VerificationResult:
        return VerificationResult(False, checked, expected - 1, sequence, problem)

    for event in events:
        sequence = event.get("sequence")
        if sequence != expected:
            # A gap names the first missing number; anything else names what was found.
            gap = isinstance(sequence, int) and sequence > expected
            return broken(
                expected if gap else sequence,
                f"expected sequence {expected}, found {sequence}: events missing or out of order",
            )
        if event.get("prev_hash") != prev_hash:
            return broken(sequence, f"sequence {sequence} does not link to the event before it")
        try:
            recomputed = chain_hash(prev_hash, event)
        except (KeyError, TypeError, ValueError) as exc:
            return broken(sequence, f"sequence {sequence} is malformed: {exc}")
        if recomputed != event.get("hash"):
            return broken(sequence, f"sequence {sequence} was altered: content does not match hash")
        prev_hash = event["hash"]
        expected += 1
        checked += 1
    last = expected - 1
    if expected_head is not None and expected_head != (last, prev_hash):
        head_sequence = expected_head[0]
        return broken(
            last + 1 if head_sequence > last else head_sequence,
            f"the chain head is at sequence {head_sequence} but the log ends at {last}: "
            "the newest events were removed or the head was altered",
        )
    return VerificationResult(True, checked, last)
