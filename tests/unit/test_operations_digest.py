"""The operations digest stays small whatever the backlog, urgent items first, nothing dropped."""

from invoicing.domain.operations_digest import MAX_LISTED, DigestItem, build_digest


def test_nothing_to_tell_sends_nothing() -> None:
    assert build_digest([], {"INVOICE_UNSENT": 3}) is None


def test_a_huge_backlog_lists_the_urgent_then_the_oldest_and_summarizes_the_rest() -> None:
    items = [
        DigestItem(kind="VALIDATION_FAILURE", text=f"VALIDATION_FAILURE ORD-{i}: fix it " + "x" * 400)
        for i in range(5000)
    ]
    items.append(
        DigestItem(kind="INVOICE_UNSENT", text="INVOICE_UNSENT INV-1: not delivered (20.5 h)", urgent=True)
    )
    digest = build_digest(items, {"VALIDATION_FAILURE": 5000, "INVOICE_UNSENT": 1})
    assert digest is not None
    assert len(digest.text.encode()) < 48 * 1024 and len(digest.subject) <= 100
    assert len(digest.listed) == MAX_LISTED and 5000 in digest.listed  # the urgent one is listed
    assert digest.listed[:-1] == list(range(MAX_LISTED - 1))  # then the oldest, in order
    assert digest.text.index("About to miss") < digest.text.index("Needs a person")
    assert "4901 more VALIDATION_FAILURE" in digest.text
    assert "about to miss 24 h" in digest.subject
