"""The CDK app: `-c env=dev|staging|prod` synthesizes one environment, no context all three.

cdk-nag's AWS Solutions checks run at synth as a validation plugin; an unacknowledged finding
fails the synth.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import ENVIRONMENTS, load_config
from infra.stacks.invoicing_stack import InvoicingStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    requested = app.node.try_get_context("env")
    for env_name in [requested] if requested else ENVIRONMENTS:
        config = load_config(env_name)
        InvoicingStack(
            app,
            f"SayProInvoicing-{env_name}",
            config=config,
            env=cdk.Environment(account=config.account, region=config.region),
            termination_protection=config.env_name == "prod",
            description=f"SayPro invoicing pipeline ({env_name})",
        )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    # The CDK CLI passes its output folder in CDK_OUTDIR; run directly (make synth), use cdk.out.
    build_app(cdk.App(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")).synth()
