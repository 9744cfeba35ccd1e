import base64
from datetime import UTC, datetime, timedelta

import pytest

from invoicing.domain.links import (
    InvalidLinkToken,
    Keyring,
    check_link_shape,
    sign_link,
    sign_link_v1,
    verify_link,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
RING = Keyring(current="2026-11", keys={"2026-11": KEY_A})
DAY = timedelta(days=1)


# v1: links already sent must keep working.


def test_a_signed_link_verifies_for_its_invoice_until_it_expires() -> None:
    token = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    claims = verify_link(RING, token, "INV-2026-000001", NOW + timedelta(hours=23))
    assert (claims.invoice_number, claims.party_id) == ("INV-2026-000001", "CUST-1")
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000001", NOW + DAY)


def test_a_token_for_another_invoice_is_refused() -> None:
    token = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000002", NOW)


@pytest.mark.parametrize("part", [1, 2, 3])
def test_any_tampering_is_refused(part: int) -> None:
    token = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    pieces = token.split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, ".".join(pieces), "INV-2026-000001", NOW)


def test_a_forged_payload_with_a_longer_expiry_is_refused() -> None:
    token = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    version, kid, _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"exp":9999999999,"inv":"INV-2026-000001","sub":"CUST-1"}').decode()
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, f"{version}.{kid}.{forged.rstrip('=')}.{signature}", "INV-2026-000001", NOW)


@pytest.mark.parametrize("token", ["", "garbage", "v1.x.y", "v2.2026-11.e30.sig", "v1.unknown.e30.sig"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000001", NOW)


def test_rotation_keeps_recent_links_working_and_drops_retired_keys() -> None:
    old_link = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    rotated = Keyring(current="2026-12", keys={"2026-11": KEY_A, "2026-12": KEY_B})
    new_link = sign_link_v1(rotated, "INV-2026-000001", "CUST-1", NOW, DAY)
    assert new_link.split(".")[1] == "2026-12"
    assert verify_link(rotated, old_link, "INV-2026-000001", NOW).party_id == "CUST-1"
    retired = Keyring(current="2026-12", keys={"2026-12": KEY_B})
    with pytest.raises(InvalidLinkToken):
        verify_link(retired, old_link, "INV-2026-000001", NOW)


def test_the_secret_cloudformation_generates_is_a_working_keyring() -> None:
    from invoicing.adapters.link_keys import keyring_from_secret

    generated = keyring_from_secret({"current": "k1", "k1_secret": "Ab3" * 21 + "x"})
    token = sign_link_v1(generated, "INV-2026-000001", "CUST-1", NOW, DAY)
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
    genuine = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    tokens = [t for t in _odd_tokens(genuine, 400) if t != genuine]
    assert any(not t.isascii() for t in tokens)
    for token in tokens:
        with pytest.raises(InvalidLinkToken):
            verify_link(RING, token, "INV-2026-000001", NOW)


def test_a_v1_token_naming_another_party_than_the_invoices_is_refused() -> None:
    token = sign_link_v1(RING, "INV-2026-000001", "CUST-1", NOW, DAY)
    assert verify_link(RING, token, "INV-2026-000001", NOW, party_id="CUST-1").party_id == "CUST-1"
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, "INV-2026-000001", NOW, party_id="CUST-2")


# v2: what new links are signed with.

NUMBER, PARTY = "INV-2026-000001", "CUST-1"


def v2(**overrides: object) -> str:
    args: dict[str, object] = {
        "keyring": RING,
        "invoice_number": NUMBER,
        "party_id": PARTY,
        "now": NOW,
        "lifetime": DAY,
    }
    args.update(overrides)
    return sign_link(**args)  # type: ignore[arg-type]


def test_a_v2_token_is_short_and_carries_neither_the_invoice_nor_the_party() -> None:
    token = v2()
    version, kid, exp, signature = token.split(".")
    assert (version, kid) == ("v2", "2026-11")
    assert int(exp, 36) == int((NOW + DAY).timestamp()) and exp == exp.lower()
    assert len(signature) == 22  # 128 bits
    assert len(token) == 3 + len(kid) + 1 + len(exp) + 1 + 22 <= 40
    assert NUMBER not in token and PARTY not in token


def test_a_v2_token_verifies_for_its_invoice_and_party_until_it_expires() -> None:
    token = v2()
    claims = verify_link(RING, token, NUMBER, NOW + timedelta(hours=23), party_id=PARTY)
    assert (claims.invoice_number, claims.party_id) == (NUMBER, PARTY)
    assert claims.expires_at == int((NOW + DAY).timestamp())
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, NUMBER, NOW + DAY, party_id=PARTY)
    with pytest.raises(InvalidLinkToken):  # expired long ago
        verify_link(RING, v2(now=NOW - timedelta(days=400)), NUMBER, NOW, party_id=PARTY)


def test_a_v2_token_cannot_be_verified_without_the_invoices_party() -> None:
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, v2(), NUMBER, NOW)


@pytest.mark.parametrize(
    ("number", "party"),
    [
        ("INV-2026-000002", PARTY),  # another invoice
        (NUMBER, "CUST-2"),  # another party
        (NUMBER, "CUST-1 "),
        (NUMBER, ""),
        ("INV-2026-000001.CUST", "1"),  # the same signed string, split elsewhere
        ("INV-2026-00000", "1.CUST-1"),
    ],
)
def test_a_v2_token_for_another_invoice_or_party_is_refused(number: str, party: str) -> None:
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, v2(), number, NOW, party_id=party)


def test_a_v2_token_from_a_key_not_in_the_ring_or_under_another_key_id_is_refused() -> None:
    other = Keyring(current="2026-11", keys={"2026-11": KEY_B})
    with pytest.raises(InvalidLinkToken):
        verify_link(other, v2(), NUMBER, NOW, party_id=PARTY)
    both = Keyring(current="2026-12", keys={"2026-11": KEY_A, "2026-12": KEY_A})
    relabelled = v2().replace("v2.2026-11.", "v2.2026-12.")  # same secret, other id: still refused
    with pytest.raises(InvalidLinkToken):
        verify_link(both, relabelled, NUMBER, NOW, party_id=PARTY)
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, v2().replace("2026-11", "unknown"), NUMBER, NOW, party_id=PARTY)


def test_v2_rotation_keeps_recent_links_working_and_drops_retired_keys() -> None:
    old_link = v2()
    rotated = Keyring(current="2026-12", keys={"2026-11": KEY_A, "2026-12": KEY_B})
    assert v2(keyring=rotated).split(".")[1] == "2026-12"
    assert verify_link(rotated, old_link, NUMBER, NOW, party_id=PARTY).party_id == PARTY
    with pytest.raises(InvalidLinkToken):
        verify_link(
            Keyring(current="2026-12", keys={"2026-12": KEY_B}), old_link, NUMBER, NOW, party_id=PARTY
        )


@pytest.mark.parametrize("part", [1, 2, 3])
def test_any_tampering_with_a_v2_token_is_refused(part: int) -> None:
    pieces = v2().split(".")
    pieces[part] = pieces[part][:-1] + ("a" if not pieces[part].endswith("a") else "b")
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, ".".join(pieces), NUMBER, NOW, party_id=PARTY)


def test_a_v2_token_with_a_longer_expiry_is_refused() -> None:
    _, kid, exp, signature = v2().split(".")
    for later in (int(exp, 36) + 1, int(exp, 36) + 86_400 * 365):
        longer = f"v2.{kid}.{_base36(later)}.{signature}"
        with pytest.raises(InvalidLinkToken):
            verify_link(RING, longer, NUMBER, NOW, party_id=PARTY)


def _base36(number: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits


@pytest.mark.parametrize(
    "exp",
    [
        "",
        "0",  # not canonical
        "0tv8q0w",  # leading zero
        "TV8Q0W",  # upper case
        "-1",
        "+tv8q0w",
        "tv_8q0w",  # int(..., 36) would take it
        " tv8q0w",
        "tv8q0w ",
        "zzzzzzzz",  # huge: 8 digits
        "z" * 100,
        "9" * 4300,  # longer than int() would even convert
        "tv8q0w!",
        "tv8.q0w",
    ],
)
def test_v2_expiries_that_are_not_canonical_short_base36_are_refused(exp: str) -> None:
    _, kid, _, signature = v2().split(".")
    token = f"v2.{kid}.{exp}.{signature}"
    with pytest.raises(InvalidLinkToken):
        check_link_shape(RING, token)
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, NUMBER, NOW, party_id=PARTY)


def test_a_v2_token_signed_for_a_huge_expiry_is_refused_by_its_shape_before_any_arithmetic() -> None:
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, v2(lifetime=timedelta(days=36**7 // 86_400)), NUMBER, NOW, party_id=PARTY)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v2",
        "v2...",
        "v2.2026-11.tv8q0w",
        "v2.2026-11.tv8q0w.",
        "v2.2026-11.tv8q0w." + "A" * 21,
        "v2.2026-11.tv8q0w." + "A" * 23,
        "v2.2026-11.tv8q0w." + "A" * 43,  # a v1 signature's length
        "v2.2026-11.tv8q0w." + "A" * 21 + "=",
        "v2.2026-11.tv8q0w." + "A" * 21 + "+",
        "v2.2026-11.tv8q0w." + "é" * 22,  # non-ASCII signature of the right length
        "v2.2026-11.tv8q0w." + "A" * 22,  # well-formed, unsigned
        "V2.2026-11.tv8q0w." + "A" * 22,
        "v3.2026-11.tv8q0w." + "A" * 22,
        "v2.2026-11.tv8q0w.AAAAAAAAAAAAAAAAAAAAAA.AAAA",
        "v2.2026-1é.tv8q0w." + "A" * 22,
        "v2.2026-11.tv8q0w." + "A" * 1100,
    ],
)
def test_malformed_v2_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidLinkToken):
        verify_link(RING, token, NUMBER, NOW, party_id=PARTY)


def test_no_malformed_v2_token_raises_anything_but_invalid_link_token() -> None:
    genuine = v2()
    tokens = [t for t in _odd_tokens(genuine, 400) if t != genuine]
    assert any(not t.isascii() for t in tokens)
    for token in tokens:
        with pytest.raises(InvalidLinkToken):
            verify_link(RING, token, NUMBER, NOW, party_id=PARTY)


@pytest.mark.parametrize("party", ["VEND-ACME", "Zoë Łukasiewicz", "a.b.c", "x" * 200])
def test_any_party_id_is_signed_for_and_verified(party: str) -> None:
    token = v2(party_id=party)
    assert len(token) == len(v2())
    assert verify_link(RING, token, NUMBER, NOW, party_id=party).party_id == party


def test_an_invoice_number_or_key_id_with_a_dot_is_never_signed() -> None:
    with pytest.raises(ValueError):
        v2(invoice_number="INV.1")
    with pytest.raises(ValueError):
        v2(keyring=Keyring(current="k.1", keys={"k.1": KEY_A}))
