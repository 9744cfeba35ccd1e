"""Embedded AWS for local runs: moto in server mode on loopback, and the functions loaded from disk."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from infra.local import ROOT, moto_patches
from infra.local.provisioning import provision

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a real Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = field(default="")
    log_stream_name: str = "local"
    timeout_millis: int = 60_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_millis


@dataclass
class LocalStack:
    endpoint: str
    names: dict[str, str]
    server: ThreadedMotoServer

    def stop(self) -> None:
        self.server.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_local_stack(port: int = 0, prefix: str = "saypro-local", api_port: int = 0) -> LocalStack:
    """Start moto on 127.0.0.1, point every boto3 client at it, create the stack's resources."""
    port = port or _free_port()
    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per AWS call is noise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_SERVICE_NAME": "invoicing",
            "POWERTOOLS_METRICS_NAMESPACE": "SayProInvoicing",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
            "INVOICE_SERIES": os.environ.get("INVOICE_SERIES", "INV"),
            "CREDIT_NOTE_SERIES": os.environ.get("CREDIT_NOTE_SERIES", "CN"),
            # dev's payment policy: bank transfer, cash on delivery and invoice terms paid later.
            "PAYMENT_POLICY_JSON": json.dumps({"pay_later": _dev_config()["pay_later"]}),
        }
    )
    names = provision(prefix)
    # Links in emails point at the local download endpoint (infra/local/api_server.py).
    names["API_PORT"] = str(api_port or _free_port())
    names["DOWNLOAD_BASE_URL"] = f"http://127.0.0.1:{names['API_PORT']}"
    names["LINK_LIFETIME_DAYS"] = "30"
    os.environ.update(names)
    return LocalStack(endpoint=endpoint, names=names, server=server)


def _dev_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads((ROOT / "infra" / "config" / "dev.json").read_text())
    return config


def load_module(function: str) -> ModuleType:
    """Import functions/<function>/handler.py under a unique name, as Lambda would load it."""
    path = ROOT / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"{function}_handler", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(function: str) -> LambdaHandler:
    handler: LambdaHandler = load_module(function).lambda_handler
    return handler


def presigning_s3_client() -> Any:
    """SigV4 and path-style explicitly: against a custom endpoint boto3 would otherwise sign SigV2."""
    return boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
