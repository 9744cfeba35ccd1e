"""The README's "Run it locally" steps, run as written: make local, the put_order commands, the curl."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from infra.local.serve import DEFAULT_API_PORT, DEFAULT_PORT
from infra.local.tokens import issue_token

ROOT = Path(__file__).parents[2]


def _local_run_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Run it locally\n", 1)[1].split("\n## ", 1)[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(lines: list[str], text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in line for line in lines):
        assert time.monotonic() < deadline, f"no {text!r} in:\n" + "".join(lines)
        time.sleep(0.2)


@pytest.mark.e2e
def test_the_documented_customer_has_invoices_after_the_documented_steps(tmp_path: Path) -> None:
    section = _local_run_section()
    put_orders = re.findall(r"^ *(\.venv/bin/python -m infra\.local\.put_order .+)$", section, re.MULTILINE)
    curl = re.search(r"--sub (\S+?)\)\" http://127\.0\.0\.1:(\d+)/invoices", section)
    assert put_orders and curl, "the README's local-run steps changed shape"
    customer, documented_api_port = curl.group(1), int(curl.group(2))
    assert documented_api_port == DEFAULT_API_PORT  # the address in the README is the one make local uses
    assert f"http://127.0.0.1:{DEFAULT_PORT}" in section

    # The documented ports may be taken on a shared machine: the same run on free ones.
    port, api_port = _free_port(), _free_port()
    stack = subprocess.Popen(
        [
            *(sys.executable, "-m", "infra.local.serve", "--port", str(port), "--api-port", str(api_port)),
            *("--out", str(tmp_path)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "INFO"},  # a shell's setting must not bring JSON back
    )
    lines: list[str] = []
    output = stack.stdout
    assert output is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(output.readline, "")), daemon=True)
    reader.start()
    try:
        _wait_for(lines, "Ctrl-C stops", timeout=120)
        assert any(f"local API at http://127.0.0.1:{api_port}" in line for line in lines)
        assert any(f"http://127.0.0.1:{api_port}/account/" in line for line in lines)
        for command in put_orders:
            argv = shlex.split(command)
            argv[0] = sys.executable
            subprocess.run(
                [*argv, "--endpoint", f"http://127.0.0.1:{port}"], cwd=ROOT, check=True, timeout=120
            )
        request = urllib.request.Request(
            f"http://127.0.0.1:{api_port}/invoices",
            headers={"Authorization": f"Bearer {issue_token(customer, 'customer')}"},
        )
        deadline, items = time.monotonic() + 90, []
        while not items and time.monotonic() < deadline:
            with urllib.request.urlopen(request, timeout=10) as response:
                items = json.loads(response.read())["items"]
            time.sleep(0.5)
        assert items, f"{customer} has no invoices after the README's steps:\n" + "".join(lines)
        written = {shlex.split(c)[shlex.split(c).index("--order-id") + 1] for c in put_orders}
        assert {item["order_id"] for item in items} <= written
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=30)
        reader.join(timeout=10)
    assert not [line for line in lines if line.lstrip().startswith("{")], "".join(lines)
    assert any(f"-> {tmp_path}/emails/INV-2026-" in line for line in lines)  # as sent, to open
