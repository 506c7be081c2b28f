"""
The endpoint serves S3, S3 Control, IAM, STS and KMS. A request for any other AWS service (the
seeds use CloudWatch, SNS and CloudTrail) gets a clear error in that service's own protocol —
at once, not a hang, a retry loop or an S3 answer the SDK cannot parse.
"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args, service",
    [
        (("cloudwatch", "list-metrics"), "monitoring"),  # query protocol
        (("sns", "list-topics"), "sns"),  # query protocol
        (("cloudtrail", "describe-trails"), "cloudtrail"),  # JSON protocol
    ],
)
def test_unserved_service_is_refused_clearly(cli, args, service):
    code, out, err = cli(*args, timeout=60)
    assert code != 0, out
    assert "NotImplemented" in err, err
    assert f'signed for "{service}", which it does not serve' in err, err


def test_served_services_answer(cli_ok):
    assert "000000000000" in cli_ok("sts", "get-caller-identity", "--query", "Account", "--output", "text")
    cli_ok("iam", "list-roles")
    cli_ok("kms", "list-keys")
