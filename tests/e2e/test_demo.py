"""The README's first command, run as a person would: the whole pipeline on embedded AWS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.e2e
def test_the_demo_issues_every_expected_invoice_and_rejects_the_invalid_orders(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.local.demo", "--out", str(tmp_path)],
        cwd=ROOT,
        # A shell that has it set must not bring the functions' JSON logs back (only --verbose does).
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_METRICS_DISABLED": "false"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    assert "All expectations met." in output
    # A new user's first hour: a line per stage as it runs, no raw log or metric JSON.
    assert not [line for line in output.splitlines() if line.lstrip().startswith("{")]
    assert re.search(r"^→ starting embedded AWS .* … done \(\d+\.\d s\)$", output, re.MULTILINE)
    assert re.search(r"^→ writing 8 sample orders to the Orders table … done \(\d+\.\d s\)$", output, re.M)
    assert len(re.findall(r"^→ .* … done \(\d+\.\d s\)$", output, re.MULTILINE)) >= 10
    assert output.index("→ writing 8 sample orders") < output.index("[INVOICE] ORD-2026-0001")

    numbers = re.findall(r"-> (INV-\d{4}-\d{6})", output)
    assert [int(n[-6:]) for n in numbers] == list(range(1, 7))
    invoices = tmp_path / "invoices"
    assert {f"{n}.pdf" for n in numbers} <= {p.name for p in invoices.glob("*.pdf")}
    assert all(p.read_bytes().startswith(b"%PDF-") for p in invoices.glob("*.pdf"))
    _assert_what_was_sent_can_be_opened(tmp_path, output)
    assert "Zoë Łukasiewicz" in output and "54.163 BHD" in output and "14531 JPY" in output

    assert "[REJECTED] ORD-2026-0007" in output
    for code in ("QUANTITY_NOT_POSITIVE", "TAX_RATE_OUT_OF_RANGE", "TOTAL_MISMATCH", "NO_REACHABLE_CHANNEL"):
        assert code in output
    assert "[REJECTED] ORD-2026-0008" in output and "FIELD_MISSING" in output
    assert "no second invoice, number, event, email or text (OK)" in output
    assert output.count("emailed: 'Your SayPro Order Invoice INV-2026-") == 4
    assert "texted +447700900123" in output and "/download/INV-2026-000002?token=v2." in output
    assert "listed in the customer's account" in output
    # Corrections: a bad edit refused, a price fix credited and replaced, a cancellation credited.
    assert re.search(
        r"an edit whose totals do not add up: refused \(.*TOTAL_MISMATCH.*\); INV-2026-000001 stands", output
    )
    assert re.search(r"CN-2026-000001 credits INV-2026-000001 .* INV-2026-\d{6} replaces it", output)
    assert '"Your corrected SayPro invoice INV-2026-' in output
    assert re.search(
        r"cancelled after issue: CN-2026-000002 credits INV-2026-\d{6} in full; emailed: 1", output
    )
    assert re.search(r"2 of 7 DATES-1 returned: CN-2026-000003 credits 2\.475 BHD of INV-2026-\d{6}", output)
    assert {f"CN-2026-00000{i}.pdf" for i in (1, 2, 3)} <= {p.name for p in invoices.glob("CN-*.pdf")}
    assert "-> 302 to a fresh presigned URL" in output and "identical to the issued PDF: True" in output
    assert "the same link with a tampered token -> 403" in output
    assert "INV-2026-000001 218.82 EUR (superseded)" in output and "without a token -> 401" in output
    assert "VND-2026-000012" in output and "emailed to nobody" not in output
    assert "6 customer and 12 vendor InvoiceIssued" in output
    assert re.search(r"X-Amz-Algorithm=AWS4-HMAC-SHA256", output)  # SigV4 links, not SigV2
    # Issue 4: the bounce webhook and the SLA sweep, end to end.
    assert "a forged bounce (signed with another key) -> 403; delivery still SENT" in output
    assert "POSTed to /webhooks/ses -> 200" in output and "-> delivery BOUNCED: Permanent/General" in output
    assert (
        "suppressed for future sends: True" in output
        and "InvoiceDeliveryFailed for customer service" in output
    )
    assert re.search(r"fallback texted \+447700900123: .*INV-2026-000008", output)
    assert "0 new events, 0 more texts, delivery stays BOUNCED" in output
    assert "1 batch in the generator's on-failure queue" in output
    assert "1 failed batch re-driven: INV-2026-000009 ISSUED" in output and "1 time(s)" in output
    assert re.search(
        r"Payment due: please pay 218\.82 EUR by \d{1,2} \w{3} \d{4}, quoting INV-2026-000010", output
    )
    assert "a second tick -> 0 re-driven, 0 more emails" in output
    assert "VALIDATION_FAILURE ORD-2026-0007" in output
    # Issue 11: money in, end to end.
    assert "quoting INV-2026-000010 -> 200: partial, balance due 198.82" in output
    assert "duplicate True (applied once)" in output and "another secret -> 401" in output
    assert "settles it: paid, balance 0.00" in output
    assert re.search(
        r"INV-2026-000011 paid 10\.00 too much -> overpaid, balance -10\.00; finance told: OVERPAYMENT",
        output,
    )
    assert "never issued -> unmatched: UNKNOWN_INVOICE_REFERENCE" in output
    assert re.search(r'sent once: "Payment reminder: SayPro invoice INV-2026-000012 is due on', output)
    assert re.search(r"findings.csv -> 302", output)
    findings = next((tmp_path / "reports").glob("RECON-*/findings.csv")).read_text(encoding="utf-8")
    assert findings.startswith("section,invoice_number,") and "payment_without_invoice" in findings
    statements = sorted(p.name for p in (tmp_path / "vendor-statements").glob("STMT-*.pdf"))
    assert statements and any(name.endswith("-EUR-V-BOOKS.pdf") for name in statements)
    assert re.search(r"Vendor statements for \w+ \d{4}: (\d+) .*, \1 emailed", output)
    # Issue 12: customer service, end to end.
    assert (
        'found by the email "ZOE@example.com": INV-2026-' in output and "a customer's token -> 403" in output
    )
    assert re.search(r"agent-7 +escalated escalated to tier 2, owned by billing-lead", output)
    assert "resolved (resent): resent to the corrected address" in output
    assert "the same request again -> 202, repeated True; emails sent: 1" in output


def _assert_what_was_sent_can_be_opened(out: Path, output: str) -> None:
    """Every email as the raw MIME SES got, every text, every vendor invoice: files a person opens."""
    raw = (out / "emails" / "INV-2026-000001-1.eml").read_bytes()
    email = message_from_bytes(raw, policy=policy.default)
    assert isinstance(email, EmailMessage)
    assert email["Subject"] == "Your SayPro Order Invoice INV-2026-000001"
    attachment = next(email.iter_attachments())
    assert attachment.get_content() == (out / "invoices" / "INV-2026-000001.pdf").read_bytes()
    assert (out / "emails" / "VND-2026-000001-1.eml").exists()
    emails = re.search(r"(\d+) emails as SES got them", output)
    assert emails and int(emails.group(1)) == len(list((out / "emails").glob("*.eml"))) >= 4 + 12
    text = (out / "texts" / "INV-2026-000002-1.txt").read_text(encoding="utf-8")
    assert text.startswith("To: +447700900123\nSegments: 1 (GSM-7, ")
    assert "\n\nInvoice INV-2026-000002, 27.16 GBP: http://127.0.0.1:" in text
    assert "/download/INV-2026-000002?token=v2." in text
    vendor_pdfs = sorted(p.name for p in (out / "vendor-invoices").glob("VND-*.pdf"))
    assert vendor_pdfs[:12] == [f"VND-2026-{n:06d}.pdf" for n in range(1, 13)]
    # The corrections' vendor credit notes are there too, beside the vendor invoices they credit.
    assert {f"VCN-2026-00000{n}.pdf" for n in (1, 2)} <= {
        p.name for p in (out / "vendor-invoices").glob("VCN-*")
    }
    assert "vendor V-SCENT: part unchanged, keeps VND-2026-000008" in output
    assert all(p.read_bytes().startswith(b"%PDF-") for p in (out / "vendor-invoices").glob("*.pdf"))
    for folder in ("invoices", "vendor-invoices", "emails", "texts"):
        assert re.search(rf"^  {re.escape(str(out / folder))}/ +\d+ ", output, re.MULTILINE), folder
