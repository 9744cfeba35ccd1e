"""The pages in the stack: a private bucket read only by CloudFront (origin access control),
HTTPS only, the API behind the same domain uncached with the bearer token passed on, and the
security headers on every answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import EnvironmentConfig, PagesSignIn
from infra.constructs.web_pages import API_PATHS
from tests.infrastructure.conftest import Synth
from tests.infrastructure.test_invoicing_stack import bucket_policy, of_type


def test_the_pages_bucket_is_private_and_read_only_by_this_distribution(
    templates: dict[str, dict[str, Any]],
) -> None:
    for env, template in templates.items():
        (distribution_id,) = of_type(template, "AWS::CloudFront::Distribution")
        buckets = {
            bucket_id: b
            for bucket_id, b in of_type(template, "AWS::S3::Bucket").items()
            if bucket_id.startswith("WebPages")
        }
        ((bucket_id, bucket),) = buckets.items()
        assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values()), env
        statements = bucket_policy(template, bucket_id)
        (read,) = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
        assert read["Action"] == "s3:GetObject" and distribution_id in json.dumps(read["Condition"])
        (tls,) = [s for s in statements if s["Effect"] == "Deny"]
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        (control,) = of_type(template, "AWS::CloudFront::OriginAccessControl").values()
        assert control["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"


def test_the_api_is_behind_the_same_domain_uncached_and_every_answer_has_the_security_headers(
    templates: dict[str, dict[str, Any]],
) -> None:
    template = templates["prod"]
    (distribution,) = of_type(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviors) == set(API_PATHS)
    for behavior in behaviors.values():
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
        assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # all but Host
        assert "PUT" in behavior["AllowedMethods"] and "POST" in behavior["AllowedMethods"]
    (policy,) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["ContentSecurityPolicy"]["ContentSecurityPolicy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": next(iter(of_type(template, "AWS::CloudFront::ResponseHeadersPolicy")))
    }


def test_the_pages_sign_in_with_the_issuer_the_api_trusts_and_may_call_only_it(
    synth: Synth, configs: dict[str, EnvironmentConfig]
) -> None:
    written = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in synth.outdir.glob("asset.*/sign-in/config.json")
    ]
    assert sorted(written, key=lambda c: c["client_id"]) == sorted(
        (
            {
                "issuer": config.jwt_issuer,
                "client_id": config.pages_sign_in.client_id,
                "scopes": config.pages_sign_in.scopes,
                "send_to_api": "access_token",
            }
            for config in configs.values()
        ),
        key=lambda c: c["client_id"],
    )
    for env, template in synth.templates.items():
        (policy,) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
        csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        directives = dict(
            d.strip().split(" ", 1) for d in csp["ContentSecurityPolicy"]["ContentSecurityPolicy"].split(";")
        )
        issuer_origin = configs[env].jwt_issuer.rstrip("/")
        assert directives["connect-src"] == f"'self' {issuer_origin}", env
        assert directives["default-src"] == "'self'" and directives["form-action"] == "'self'", env
        (output,) = [o for k, o in template["Outputs"].items() if k.startswith("PagesRedirectUris")]
        assert "/account/ " in json.dumps(output["Value"]) and output["Value"]


def test_pages_sending_their_id_token_make_the_api_accept_their_client_as_audience(
    configs: dict[str, EnvironmentConfig],
) -> None:
    from infra.constructs.download_api import DownloadApi

    dev = configs["dev"]
    assert DownloadApi._audiences(dev) == [dev.jwt_audience]
    with_id_token = dev.model_copy(
        update={"pages_sign_in": dev.pages_sign_in.model_copy(update={"send_to_api": "id_token"})}
    )
    assert DownloadApi._audiences(with_id_token) == [dev.jwt_audience, dev.pages_sign_in.client_id]


@pytest.mark.parametrize("origin", ["http://auth.example", "https://auth.example/path", "auth.example"])
def test_an_identity_provider_origin_must_be_an_https_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an https origin"):
        PagesSignIn(client_id="pages", identity_provider_origins=[origin])
