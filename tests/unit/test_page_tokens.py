import base64
import json
import random

import pytest

from invoicing.domain.links import Keyring
from invoicing.domain.page_tokens import (
    MAX_TOKEN_LENGTH,
    InvalidPageToken,
    open_page_token,
    page_token_key,
    seal_page_token,
)

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
RING = Keyring(current="k1", keys={"k1": KEY_A})
POSITION = {
    "pk": {"S": "INVOICE#INV-2026-000003"},
    "sk": {"S": "INVOICE"},
    "customer_id": {"S": "CUST-42"},
    "issued_at": {"S": "2026-11-22T12:00:00+00:00"},
}
CONTEXT = {"party": "CUST-42", "role": "customer", "order_id": None, "payment_status": "PAID"}


def test_a_sealed_position_opens_for_the_same_caller_and_query_and_shows_nothing() -> None:
    token = seal_page_token(RING, POSITION, CONTEXT)
    assert open_page_token(RING, token, CONTEXT) == POSITION
    assert token.startswith("v1.k1.") and len(token) < MAX_TOKEN_LENGTH
    body = base64.urlsafe_b64decode(token.split(".")[2] + "==")
    assert b"INVOICE" not in body and b"CUST-42" not in body and b"customer_id" not in body


@pytest.mark.parametrize(
    "other",
    [
        {**CONTEXT, "party": "CUST-OTHER"},
        {**CONTEXT, "role": "vendor"},
        {**CONTEXT, "payment_status": None},
        {**CONTEXT, "order_id": "ORD-1"},
        {**CONTEXT, "issued_from": "2026-01-01"},
    ],
)
def test_a_token_opens_for_no_other_caller_or_query(other: dict[str, str | None]) -> None:
    token = seal_page_token(RING, POSITION, CONTEXT)
    with pytest.raises(InvalidPageToken):
        open_page_token(RING, token, other)


def test_the_page_token_key_is_not_the_link_key_and_rotation_keeps_tokens_opening() -> None:
    assert page_token_key(b"a" * 32) != b"a" * 32
    assert page_token_key(b"a" * 32) == page_token_key(b"a" * 32) != page_token_key(b"b" * 32)
    token = seal_page_token(RING, POSITION, CONTEXT)
    rotated = Keyring(current="k2", keys={"k1": KEY_A, "k2": KEY_B})
    assert open_page_token(rotated, token, CONTEXT) == POSITION
    with pytest.raises(InvalidPageToken):
        open_page_token(Keyring(current="k2", keys={"k2": KEY_B}), token, CONTEXT)
    # A key id naming another key of the ring does not open it either.
    with pytest.raises(InvalidPageToken):
        open_page_token(rotated, token.replace("v1.k1.", "v1.k2."), CONTEXT)


def test_every_flipped_character_and_hundreds_of_odd_tokens_are_invalid_page_tokens() -> None:
    genuine = seal_page_token(RING, POSITION, CONTEXT)
    rng = random.Random(20261122)
    alphabet = "ABCabc0189-_.=+/ é€😀\u0000\n"
    odd = [
        "",
        "garbage",
        "v1",
        "v1.k1",
        "v1.k1.",
        "v1.k1.é",
        "v1.k1.AAAA",
        "v1.k1." + "A" * 40,  # long enough, not sealed by us
        "v2" + genuine[2:],
        genuine + "=",
        genuine + ".x",
        genuine[:-1] + "é",
        "v1.k1." + "A" * MAX_TOKEN_LENGTH,
        base64.urlsafe_b64encode(json.dumps(POSITION).encode()).decode(),  # the old, unsigned format
    ]
    for i in range(len("v1.k1."), len(genuine)):  # every character of the sealed body
        odd.append(genuine[:i] + ("B" if genuine[i] != "B" else "C") + genuine[i + 1 :])
    for _ in range(300):
        pieces = list(genuine)
        pieces[rng.randrange(len(pieces))] = rng.choice(alphabet)
        odd.append("".join(pieces[: rng.randint(1, len(pieces))]))
        odd.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))))
    for token in (t for t in odd if t != genuine):
        with pytest.raises(InvalidPageToken):
            open_page_token(RING, token, CONTEXT)
