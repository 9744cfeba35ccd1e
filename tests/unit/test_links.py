import base64
from datetime import UTC, datetime, timedelta

import pytest

from invoicing.domain.links import InvalidLinkToken, Keyring, sign_link, verify_link

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
RING = Keyring(current="2026-11", keys={"2026-11": KEY_A})
DAY = timedelta(days=1)


def test_a_signed_link_verifies_for_its_invoice_until_it_expires() -> None:
    token = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    claims = verify_link(RING, token, "INV-2026-000001", NOW + timedelta(hours=23))
    assert (claims.invoice_number, claims.party_id) == ("INV-2026-000001", "CUST-1")
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000001", NOW + DAY)


def test_a_token_for_another_invoice_is_refused() -> None:
    token = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000002", NOW)


@pytest.mark.parametrize("part", [1, 2, 3])
def test_any_tampering_is_refused(part: int) -> None:
    token = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    pieces = token.split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, ".".join(pieces), "INV-2026-000001", NOW)


def test_a_forged_payload_with_a_longer_expiry_is_refused() -> None:
    token = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    version, kid, _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"exp":9999999999,"inv":"INV-2026-000001","sub":"CUST-1"}').decode()
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, f"{version}.{kid}.{forged.rstrip('=')}.{signature}", "INV-2026-000001", NOW)


@pytest.mark.parametrize("token", ["", "garbage", "v1.x.y", "v2.2026-11.e30.sig", "v1.unknown.e30.sig"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000001", NOW)


def test_rotation_keeps_recent_links_working_and_drops_retired_keys() -> None:
    old_link = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    rotated = Keyring(current="2026-12", keys={"2026-11": KEY_A, "2026-12": KEY_B})
    new_link = sign_link(rotated, "INV-2026-000001", "CUST-1", NOW, DAY)
    assert new_link.split(".")[1] == "2026-12"
    assert verify_link(rotated, old_link, "INV-2026-000001", NOW).party_id == "CUST-1"
    retired = Keyring(current="2026-12", keys={"2026-12": KEY_B})
    with pytest.raises(InvalidLinkToken):
        verify_link(retired, old_link, "INV-2026-000001", NOW)


def test_the_secret_cloudformation_generates_is_a_working_keyring() -> None:
    from invoicing.adapters.link_keys import keyring_from_secret

    generated = keyring_from_secret({"current": "k1", "k1_secret": "Ab3" * 21 + "x"})
    token = sign_link(generated, "INV-2026-000001", "CUST-1", NOW, DAY)
    assert verify_link(generated, token, "INV-2026-000001", NOW).party_id == "CUST-1"
    full = keyring_from_secret({"current": "2026-11", "keys": {"2026-11": KEY_A}})
    assert full == RING


def _odd_tokens(genuine: str, count: int) -> list[str]:
    """Seeded, so a failure reproduces: mutations of a real token and outright junk."""
    import random

    rng = random.Random(20261122)
    odd_chars = "é€ü\u00a0\u200b\u0000\ufeff😀Ω.=+/ %\n\t"
    alphabet = "ABCXYZabcxyz0189-_." + odd_chars
    tokens = [
        "v1.2026-11.e30." + "é" * 43,  # non-ASCII signature of the right length
        f"{genuine[:-1]}é",
        f"{genuine}=",
        f"{genuine}\n",
        genuine.replace(".", "..", 1),
        genuine + "." + genuine,
        genuine * 50,  # huge
        "v1.2026-11." + "A" * 100_000 + "." + "A" * 43,
        "v1.2026-11.%%%.AAAA",
        "v1.2026-11.e30." + "A" * 43,  # well-formed, unsigned
    ]
    for _ in range(count):
        pieces = list(genuine)
        kind = rng.randrange(4)
        if kind == 0:  # replace a few characters
            for _ in range(rng.randint(1, 3)):
                pieces[rng.randrange(len(pieces))] = rng.choice(alphabet)
        elif kind == 1:  # insert
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(alphabet))
        elif kind == 2:  # truncate
            pieces = pieces[: rng.randrange(len(pieces))]
        else:  # junk of any length
            pieces = [rng.choice(alphabet) for _ in range(rng.randint(0, 300))]
        tokens.append("".join(pieces))
    return tokens


def test_no_malformed_token_raises_anything_but_invalid_link_token() -> None:
    genuine = sign_link(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    tokens = [t for t in _odd_tokens(genuine, 400) if t != genuine]
    assert any(not t.isascii() for t in tokens)
    for token in tokens:
        with pytest.raises(InvalidLinkToken):
            verify_link(RING, token, "INV-2026-000001", NOW)
