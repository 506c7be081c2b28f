"""PutObjectAcl / PutBucketAcl under Object Ownership BucketOwnerEnforced (every bucket's setting).

AWS: "Buckets that use this setting only accept PUT requests that don't specify an ACL or PUT
requests that specify bucket owner full control ACLs, such as the bucket-owner-full-control canned
ACL or an equivalent form of this ACL expressed in the XML format." Anything else is 400
AccessControlListNotSupported; an ACL in both the headers and the body is 400 UnexpectedContent; a
body that is not an ACL document is 400 MalformedACLError. Accepted or refused, nothing changes.
"""
from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY
from s3util import err

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def owner_id(s3, bucket: str) -> str:
    return s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]


def policy(owner: str, *grants: dict) -> dict:
    return {"Owner": {"ID": owner}, "Grants": list(grants)}


def user_grant(canonical_id: str, permission: str = "FULL_CONTROL") -> dict:
    return {"Grantee": {"Type": "CanonicalUser", "ID": canonical_id}, "Permission": permission}


def raw_put_acl(server, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """A SigV4-signed PUT of an arbitrary ACL body (one that boto3 would refuse to build)."""
    url = f"{server.url}{path}"
    req = AWSRequest(method="PUT", url=url, data=body, headers=headers or {})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(url, data=body, method="PUT", headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"acl test body")
    return bucket, "k"


def test_xml_acl_granting_only_the_owner_full_control_is_accepted(s3, obj):
    bucket, key = obj
    owner = owner_id(s3, bucket)
    before = s3.get_object_acl(Bucket=bucket, Key=key)
    r = s3.put_object_acl(Bucket=bucket, Key=key, AccessControlPolicy=policy(owner, user_grant(owner)))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    r = s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy(owner, user_grant(owner)))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    after = s3.get_object_acl(Bucket=bucket, Key=key)
    assert after["Grants"] == before["Grants"] and after["Owner"] == before["Owner"]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"acl test body"


def test_canned_owner_full_control_is_accepted_and_public_read_refused(s3, obj):
    bucket, key = obj
    s3.put_object_acl(Bucket=bucket, Key=key, ACL="bucket-owner-full-control")
    s3.put_object_acl(Bucket=bucket, Key=key, ACL="private")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key=key, ACL="public-read")
    assert err(e.value) == ("AccessControlListNotSupported", 400)


@pytest.mark.parametrize(
    "grants",
    [
        pytest.param(lambda o: [user_grant(o, "READ")], id="owner-read-only"),
        pytest.param(lambda o: [user_grant(o), user_grant("a" * 64, "READ")], id="owner-plus-another-account"),
        pytest.param(
            lambda o: [user_grant(o), {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}],
            id="owner-plus-public-read",
        ),
        pytest.param(lambda o: [user_grant("b" * 64)], id="another-account-full-control"),
        pytest.param(lambda o: [], id="no-grants"),
    ],
)
def test_xml_acl_granting_anything_else_is_refused_and_changes_nothing(s3, obj, grants):
    bucket, key = obj
    owner = owner_id(s3, bucket)
    before = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key=key, AccessControlPolicy=policy(owner, *grants(owner)))
    assert err(e.value) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy(owner, *grants(owner)))
    assert err(e.value) == ("AccessControlListNotSupported", 400)
    assert s3.get_object_acl(Bucket=bucket, Key=key)["Grants"] == before


def test_xml_acl_naming_another_owner_is_refused(s3, obj):
    bucket, key = obj
    owner = owner_id(s3, bucket)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key=key, AccessControlPolicy=policy("c" * 64, user_grant(owner)))
    assert err(e.value) == ("AccessControlListNotSupported", 400)


def test_acl_in_header_and_body_is_unexpected_content(s3, obj):
    bucket, key = obj
    owner = owner_id(s3, bucket)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key=key, ACL="private", AccessControlPolicy=policy(owner, user_grant(owner)))
    assert err(e.value) == ("UnexpectedContent", 400)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<AccessControlPolicy><AccessControlList><Grant>", id="not-well-formed"),
        pytest.param(b"<Tagging><TagSet/></Tagging>", id="wrong-root"),
        pytest.param(b"not xml at all", id="not-xml"),
        pytest.param(b"<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>", id="no-grant-list"),
        pytest.param(
            b"<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>a</ID><ID>b</ID></Grantee>"
            b"<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>",
            id="grantee-with-two-ids",
        ),
    ],
)
def test_a_body_that_is_not_an_acl_is_malformed_acl_error(server, s3, obj, body):
    bucket, key = obj
    status, text = raw_put_acl(server, f"/{bucket}/{key}?acl", body)
    assert status == 400, text
    assert "<Code>MalformedACLError</Code>" in text, text
    status, text = raw_put_acl(server, f"/{bucket}?acl", body)
    assert status == 400, text
    assert "<Code>MalformedACLError</Code>" in text, text


def test_the_owner_full_control_document_as_s3cmd_sends_it(server, s3, obj):
    """Byte for byte the document s3cmd 2.3 puts after `s3cmd cp` (the ACL it read from the source)."""
    bucket, key = obj
    owner = owner_id(s3, bucket)
    doc = (
        '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Owner><ID>{owner}</ID></Owner><AccessControlList><Grant>"
        f'<Grantee {XSI} xsi:type="CanonicalUser"><ID>{owner}</ID></Grantee>'
        "<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>"
    ).encode()
    status, text = raw_put_acl(server, f"/{bucket}/{key}?acl", doc, {"Content-Type": "application/xml"})
    assert status == 200, text


def test_an_acl_body_is_checked_against_its_content_md5(server, s3, obj):
    bucket, key = obj
    owner = owner_id(s3, bucket)
    doc = (
        f"<AccessControlPolicy><Owner><ID>{owner}</ID></Owner><AccessControlList><Grant>"
        f'<Grantee {XSI} xsi:type="CanonicalUser"><ID>{owner}</ID></Grantee>'
        "<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>"
    ).encode()
    wrong = base64.b64encode(hashlib.md5(b"another document").digest()).decode()
    status, text = raw_put_acl(server, f"/{bucket}/{key}?acl", doc, {"Content-MD5": wrong})
    assert status == 400 and "<Code>BadDigest</Code>" in text, text
    right = base64.b64encode(hashlib.md5(doc).digest()).decode()
    status, text = raw_put_acl(server, f"/{bucket}/{key}?acl", doc, {"Content-MD5": right})
    assert status == 200, text
