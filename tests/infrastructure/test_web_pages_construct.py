"""The pages in the stack: a private bucket read only by CloudFront (origin access control),
HTTPS only, the API behind the same domain uncached with the bearer token passed on, and the
security headers on every answer."""

from __future__ import annotations

import json
from typing import Any

from infra.constructs.web_pages import API_PATHS
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
