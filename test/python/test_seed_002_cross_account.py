"""Seed 002 ("Cross-Region Replication in Amazon S3 with KMS Encryption"): cross-account,
cross-region replication. One server with two accounts (A = 111111111111, B = 222222222222), the
source bucket in A's region (ap-south-1, the seed's Mumbai), the destination in B's (eu-north-1,
the seed's Stockholm):

  1.1/1.2 buckets (A's with all four public access blocks, as the console default), versioning
  2.x     a KMS key per account, default SSE-KMS on both buckets
  3       A's role S3ReplicationRoleAccountA, trusted by s3.amazonaws.com, the seed's policy
          (its literal first version has "s3>ListBucket", which IAM refuses)
  4       key policies: A's key lets the role Decrypt/GenerateDataKey, B's lets it Encrypt/GenerateDataKey
  5       B's destination bucket policy for A's role (+ bucket-level List/GetBucketVersioning, spec §5.3)
  6       the rule: Account B, AccessControlTranslation Owner=Destination, ReplicaKmsKeyID = B's key,
          SseKmsEncryptedObjects, delete markers
  7       objects replicate, owned by B, encrypted with B's key.

Twins: no destination bucket policy -> DstPutObjectNotPermitted; a policy without
s3:ObjectOwnerOverrideToBucketOwner while the rule sets AccessControlTranslation ->
DstPutObjectNotPermitted; B cannot read A's bucket until A's bucket policy grants it.
"""
from __future__ import annotations

import json
import random
import string
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from replication_util import (
    ServerProc,
    cleanup_base_dir,
    error_of,
    head,
    list_versions,
    new_base_dir,
    wait_status,
    wait_until,
)

A, B = "111111111111", "222222222222"
A_CREDS = ("AKIAACCOUNTAAAAAAAAA", "account-a-secret")
B_CREDS = ("AKIAACCOUNTBBBBBBBBB", "account-b-secret")
SRC_REGION, DST_REGION = "ap-south-1", "eu-north-1"
ROLE_NAME = "S3ReplicationRoleAccountA"
ROLE_ARN = f"arn:aws:iam::{A}:role/{ROLE_NAME}"

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


class World:
    def __init__(self, srv: ServerProc):
        self.srv = srv
        self.url = srv.url
        self._c: dict = {}

    def c(self, service: str, creds, region: str):
        k = (service, creds, region)
        if k not in self._c:
            kw = {"s3": {"addressing_style": "path"}, "signature_version": "s3v4"} if service == "s3" else {}
            self._c[k] = boto3.session.Session().client(
                service, endpoint_url=self.url, region_name=region, aws_access_key_id=creds[0],
                aws_secret_access_key=creds[1], config=Config(retries={"max_attempts": 1}, **kw))
        return self._c[k]

    def a(self, service="s3", region=SRC_REGION):
        return self.c(service, A_CREDS, region)

    def b(self, service="s3", region=DST_REGION):
        return self.c(service, B_CREDS, region)


@pytest.fixture(scope="module")
def world():
    from conftest import _build

    _build()
    base = new_base_dir("xregion-seed002-")
    srv = ServerProc(base, "seed002", extra_config={
        "regions": [SRC_REGION, DST_REGION, "us-east-1"],
        "credentials": [
            {"accessKeyId": A_CREDS[0], "secretAccessKey": A_CREDS[1], "accountId": A},
            {"accessKeyId": B_CREDS[0], "secretAccessKey": B_CREDS[1], "accountId": B},
        ]}, ensure_roles=False)
    try:
        srv.start()
        yield World(srv)
    finally:
        srv.stop()
        cleanup_base_dir(base)


def _suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=8))


def default_key_policy(account: str, *extra: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"}, *extra]})


def role_policy(src: str, dst: str, src_key: str, dst_key: str) -> dict:
    """Step 3.3's policy: the seed's final text (its statements combined), placeholders filled."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "SourceBucketPermissions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionTagging", "s3:GetObjectVersionAcl", "s3:ListBucket",
                    "s3:GetObjectVersionForReplication", "s3:GetReplicationConfiguration"],
         "Resource": [f"arn:aws:s3:::{src}/*", f"arn:aws:s3:::{src}"]},
        {"Sid": "DestinationBucketPermissions", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ObjectOwnerOverrideToBucketOwner", "s3:GetObjectVersionTagging",
                    "s3:ReplicateTags", "s3:ReplicateDelete"],
         "Resource": [f"arn:aws:s3:::{dst}/*"]},
        {"Sid": "SourceBucketKMSKey", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow",
         "Resource": src_key},
        {"Sid": "DestinationBucketKMSKey", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Effect": "Allow",
         "Resource": dst_key},
    ]}


def dest_bucket_policy(dst: str, owner_override: bool = True) -> dict:
    """Step 5.2's policy plus the bucket-level statement of spec §5.3."""
    actions = ["s3:ReplicateObject", "s3:ObjectOwnerOverrideToBucketOwner", "s3:GetObjectVersionTagging",
               "s3:ReplicateTags", "s3:ReplicateDelete"]
    if not owner_override:
        actions.remove("s3:ObjectOwnerOverrideToBucketOwner")
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DestinationBucketPermissions", "Effect": "Allow", "Principal": {"AWS": ROLE_ARN},
         "Action": actions, "Resource": f"arn:aws:s3:::{dst}/*"},
        {"Sid": "DestinationBucketLevel", "Effect": "Allow", "Principal": {"AWS": ROLE_ARN},
         "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"], "Resource": f"arn:aws:s3:::{dst}"},
    ]}


class Setup:
    """The seed's steps 1-6 for one source/destination pair."""

    def __init__(self, w: World, dest_policy: str | None = "seed", act: bool = True):
        """dest_policy: "seed" (step 5.2 + spec §5.3), "no-override" (the same without
        s3:ObjectOwnerOverrideToBucketOwner) or None (no destination bucket policy)."""
        s = _suffix()
        self.w = w
        self.src = f"my-source-bucket-account-a-{s}"
        self.dst = f"my-destination-bucket-account-b-{s}"
        a, b = w.a(), w.b()
        # 1.1 source bucket in A: Block Public Access all on, versioning
        a.create_bucket(Bucket=self.src, CreateBucketConfiguration={"LocationConstraint": SRC_REGION})
        a.put_public_access_block(Bucket=self.src, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        a.put_bucket_versioning(Bucket=self.src, VersioningConfiguration={"Status": "Enabled"})
        # 1.2 destination bucket in B
        b.create_bucket(Bucket=self.dst, CreateBucketConfiguration={"LocationConstraint": DST_REGION})
        b.put_bucket_versioning(Bucket=self.dst, VersioningConfiguration={"Status": "Enabled"})
        # 2.1-2.4 keys (one per account, in the bucket's region) and default encryption
        self.src_key = w.a("kms").create_key(Description="SourceBucketKeyAccountA", Policy=default_key_policy(A))[
            "KeyMetadata"]["Arn"]
        w.a("kms").create_alias(AliasName=f"alias/s3-crr-key-account-a-{s}", TargetKeyId=self.src_key)
        self.dst_key = w.b("kms").create_key(Description="DestinationBucketKeyAccountB", Policy=default_key_policy(B))[
            "KeyMetadata"]["Arn"]
        assert self.src_key.startswith(f"arn:aws:kms:{SRC_REGION}:{A}:key/")
        assert self.dst_key.startswith(f"arn:aws:kms:{DST_REGION}:{B}:key/")
        for cl, bucket, key in ((a, self.src, self.src_key), (b, self.dst, self.dst_key)):
            cl.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                "BucketKeyEnabled": True}]})
        # 3 role in A (one per setup would collide on the name: the role is shared, its policy per pair)
        iam = w.a("iam", "us-east-1")
        try:
            iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST))
        except ClientError as e:
            if error_of(e)[1] != "EntityAlreadyExists":
                raise
        iam.put_role_policy(RoleName=ROLE_NAME, PolicyName=f"S3ReplicationPolicyAccountA-{s}",
                            PolicyDocument=json.dumps(role_policy(self.src, self.dst, self.src_key, self.dst_key)))
        # 4.1/4.2 key policies: the role may use them
        w.a("kms").put_key_policy(KeyId=self.src_key, PolicyName="default", Policy=default_key_policy(A, {
            "Sid": "Allow use of the key for replication", "Effect": "Allow", "Principal": {"AWS": ROLE_ARN},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}))
        w.b("kms").put_key_policy(KeyId=self.dst_key, PolicyName="default", Policy=default_key_policy(B, {
            "Sid": "Allow use of the key for replication from Account A", "Effect": "Allow",
            "Principal": {"AWS": ROLE_ARN}, "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}))
        # 5 destination bucket policy
        if dest_policy is not None:
            doc = dest_bucket_policy(self.dst, owner_override=dest_policy != "no-override")
            b.put_bucket_policy(Bucket=self.dst, Policy=json.dumps(doc))
        # 6 the rule
        dest = {"Bucket": f"arn:aws:s3:::{self.dst}", "StorageClass": "STANDARD",
                "EncryptionConfiguration": {"ReplicaKmsKeyID": self.dst_key}}
        if act:
            dest["Account"] = B
            dest["AccessControlTranslation"] = {"Owner": "Destination"}
        a.put_bucket_replication(Bucket=self.src, ReplicationConfiguration={"Role": ROLE_ARN, "Rules": [{
            "ID": "CrossAccountReplicationRule", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": dest}]})

    def upload(self, key: str = "test-file.txt", body: bytes = b"cross-account test\n", **kw) -> str:
        return self.w.a().put_object(Bucket=self.src, Key=key, Body=body, **kw)["VersionId"]


def _status_as_a(w: World, bucket: str) -> dict:
    """GET /_xregion/replication/status signed as account A."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import urllib3

    req = AWSRequest(method="GET", url=f"{w.url}/_xregion/replication/status?bucket={bucket}")
    S3SigV4Auth(Credentials(*A_CREDS), "s3", SRC_REGION).add_auth(req)
    p = req.prepare()
    r = urllib3.request("GET", p.url, headers=dict(p.headers), retries=False)
    assert r.status == 200, (r.status, r.data[:500])
    return json.loads(r.data)


def canonical_id(client) -> str:
    return client.list_buckets()["Owner"]["ID"]


# --------------------------------------------------------------------------------------------


def test_identities(world):
    assert world.a("sts", "us-east-1").get_caller_identity()["Account"] == A
    assert world.b("sts", "us-east-1").get_caller_identity()["Account"] == B
    assert canonical_id(world.a()) != canonical_id(world.b())


def test_seed_policy_with_the_typo_is_refused_by_iam(world):
    """Step 3.3 as printed has "s3>ListBucket": not an action (no vendor prefix); IAM refuses it."""
    iam = world.a("iam", "us-east-1")
    name = f"typo-{uuid.uuid4().hex[:6]}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    doc = {"Version": "2012-10-17", "Statement": [{"Sid": "SourceBucketPermissions", "Effect": "Allow",
                                                   "Action": ["s3:GetObjectVersionTagging", "s3>ListBucket"],
                                                   "Resource": ["arn:aws:s3:::src/*", "arn:aws:s3:::src"]}]}
    with pytest.raises(ClientError) as ei:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
    assert error_of(ei.value)[:2] == (400, "MalformedPolicyDocument"), error_of(ei.value)


def test_cross_account_replication_owner_override_and_destination_key(world):
    s = Setup(world)
    a, b = world.a(), world.b()
    vid = s.upload("test-file.txt", b"Disaster recovery test\n", Tagging="Env=Prod")
    try:
        h = wait_status(a, s.src, "test-file.txt", vid, "COMPLETED", timeout=20)
    except AssertionError as e:
        raise AssertionError(f"{e}; replication status: {_status_as_a(world, s.src)}") from None
    assert h["SSEKMSKeyId"] == s.src_key
    r = b.head_object(Bucket=s.dst, Key="test-file.txt", VersionId=vid)
    assert r["ReplicationStatus"] == "REPLICA"
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == s.dst_key, r
    assert b.get_object(Bucket=s.dst, Key="test-file.txt", VersionId=vid)["Body"].read() == b"Disaster recovery test\n"
    # owned by B: ListObjects with FetchOwner, and the object ACL's owner
    b_id, a_id = canonical_id(b), canonical_id(a)
    lst = b.list_objects_v2(Bucket=s.dst, FetchOwner=True)["Contents"]
    assert [(o["Key"], o["Owner"]["ID"]) for o in lst] == [("test-file.txt", b_id)], lst
    acl = b.get_object_acl(Bucket=s.dst, Key="test-file.txt")
    assert acl["Owner"]["ID"] == b_id and acl["Owner"]["ID"] != a_id
    assert {g["Grantee"].get("ID") for g in acl["Grants"]} == {b_id}, acl["Grants"]
    # the source object is A's
    assert world.a().get_object_acl(Bucket=s.src, Key="test-file.txt")["Owner"]["ID"] == a_id
    # A cannot read the replica (B's bucket, B's object, B's key)
    e = pytest.raises(ClientError, world.a("s3", DST_REGION).get_object, Bucket=s.dst, Key="test-file.txt").value
    assert error_of(e)[:2] == (403, "AccessDenied"), error_of(e)
    # delete markers cross too (s3:ReplicateDelete in B's policy)
    dm = a.delete_object(Bucket=s.src, Key="test-file.txt")["VersionId"]
    wait_until(lambda: any(x["VersionId"] == dm and x["IsDeleteMarker"] for x in list_versions(b, s.dst, "test-file.txt")),
               15, desc="delete marker in B")


def test_without_destination_bucket_policy_replication_fails(world):
    s = Setup(world, dest_policy=None)
    a = world.a()
    vid = s.upload()
    try:
        wait_status(a, s.src, "test-file.txt", vid, "FAILED", timeout=20)
    except AssertionError as e:
        raise AssertionError(f"{e}; replication status: {_status_as_a(world, s.src)}") from None
    failed = _status_as_a(world, s.src)["failed"]
    assert [f["reason"] for f in failed] == ["DstPutObjectNotPermitted"], failed
    assert head(world.b(), s.dst, "test-file.txt", vid) is None


def test_policy_without_owner_override_fails_when_translation_is_set(world):
    s = Setup(world, dest_policy="no-override")
    a = world.a()
    vid = s.upload()
    try:
        wait_status(a, s.src, "test-file.txt", vid, "FAILED", timeout=20)
    except AssertionError as e:
        raise AssertionError(f"{e}; replication status: {_status_as_a(world, s.src)}") from None
    failed = _status_as_a(world, s.src)["failed"]
    assert [f["reason"] for f in failed] == ["DstPutObjectNotPermitted"], failed


def test_same_policy_without_translation_replicates_owned_by_source_account(world):
    """Control for the twin above: without AccessControlTranslation the override permission is not
    needed, and the replica keeps the source object's owner (A)."""
    s = Setup(world, dest_policy="no-override", act=False)
    # without owner override the destination's BucketOwnerEnforced would still make B the owner; make
    # the destination keep writers' ownership so that the replica's owner is visible
    world.b().put_bucket_ownership_controls(Bucket=s.dst, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    a = world.a()
    vid = s.upload()
    try:
        wait_status(a, s.src, "test-file.txt", vid, "COMPLETED", timeout=20)
    except AssertionError as e:
        raise AssertionError(f"{e}; replication status: {_status_as_a(world, s.src)}") from None
    lst = world.b().list_objects_v2(Bucket=s.dst, FetchOwner=True)["Contents"]
    assert lst[0]["Owner"]["ID"] == canonical_id(world.a()), lst


def test_account_b_reads_a_bucket_only_when_a_bucket_policy_grants_it(world):
    s = Setup(world)
    a = world.a()
    a.put_object(Bucket=s.src, Key="plain.txt", Body=b"sse-s3 object", ServerSideEncryption="AES256")
    a.put_object(Bucket=s.src, Key="kms.txt", Body=b"sse-kms object")  # the bucket default: A's key
    bb = world.b("s3", SRC_REGION)
    for fn, kw in ((bb.get_object, {"Key": "plain.txt"}), (bb.list_objects_v2, {}), (bb.get_object, {"Key": "kms.txt"})):
        e = pytest.raises(ClientError, fn, Bucket=s.src, **kw).value
        assert error_of(e)[:2] == (403, "AccessDenied"), (fn, error_of(e))
    a.put_bucket_policy(Bucket=s.src, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountBRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{s.src}", f"arn:aws:s3:::{s.src}/*"]}]}))
    assert bb.get_object(Bucket=s.src, Key="plain.txt")["Body"].read() == b"sse-s3 object"
    keys = sorted(o["Key"] for o in bb.list_objects_v2(Bucket=s.src)["Contents"])
    assert keys == ["kms.txt", "plain.txt"]
    # B may not write, and an SSE-KMS object also needs kms:Decrypt on A's key for B
    e = pytest.raises(ClientError, bb.put_object, Bucket=s.src, Key="w", Body=b"x").value
    assert error_of(e)[:2] == (403, "AccessDenied"), error_of(e)
    e = pytest.raises(ClientError, bb.get_object, Bucket=s.src, Key="kms.txt").value
    assert error_of(e)[:2] == (403, "AccessDenied"), error_of(e)
    world.a("kms").put_key_policy(KeyId=s.src_key, PolicyName="default", Policy=default_key_policy(A, {
        "Sid": "Allow use of the key for replication", "Effect": "Allow", "Principal": {"AWS": ROLE_ARN},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}, {
        "Sid": "AccountBDecrypt", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": "kms:Decrypt", "Resource": "*"}))
    assert bb.get_object(Bucket=s.src, Key="kms.txt")["Body"].read() == b"sse-kms object"
    # the grant was to B only: a third party (anonymous) still cannot
    anon = boto3.session.Session().client("s3", endpoint_url=world.url, region_name=SRC_REGION,
                                          config=Config(signature_version=__import__("botocore").UNSIGNED,
                                                        s3={"addressing_style": "path"}))
    e = pytest.raises(ClientError, anon.get_object, Bucket=s.src, Key="plain.txt").value
    assert error_of(e)[:2] == (403, "AccessDenied"), error_of(e)
