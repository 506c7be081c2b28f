"""Seed 000 ("Establishing Global Data Replication with S3 Cross-Region Replication"), its security
steps end to end through the aws CLI, as a user would run them against AWS:

  1. a KMS key + alias in each of three regions (the seed's key policy),
  2. three buckets with versioning and SSE-KMS default encryption (alias, BucketKeyEnabled),
  3. the replication role with the S3 trust policy, 4. the seed's role policy,
  5. the seed's replication configuration (as written AWS rejects it: DeleteMarkerReplication with a
     tag filter; with that fixed it is accepted, and since its rules set ReplicaKmsKeyID but not
     SourceSelectionCriteria.SseKmsEncryptedObjects, SSE-KMS objects - every object here, the
     buckets default to SSE-KMS - are NOT replicated, which `xregion replication explain` says),
  9. the source bucket policy (DenyInsecureConnections + AllowReplicationRole) and the public
     access blocks.

Then: over HTTP every S3 call on the source bucket is AccessDenied, even for the account's root
(whose only way out is the bucket policy calls), while over HTTPS (the same data dir served with
`--tls`) the same calls work, and with SseKmsEncryptedObjects added an object replicates to both
destinations re-encrypted with each destination region's key, the source showing COMPLETED -
replication keeps working under DenyInsecureConnections because S3's own traffic is TLS.

Failure twins (their own server): the seed's role policy with one permission removed in turn,
each failing the way S3 fails (spec §4.4, §5.2).
"""
from __future__ import annotations

import json
import os
import random
import string
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from replication_util import (
    ROOT,
    BIN,
    Admin,
    ServerProc,
    cleanup_base_dir,
    error_of,
    head,
    list_versions,
    new_base_dir,
    stays,
    tags_of,
    wait_status,
    wait_until,
)

PRIMARY, SECONDARY, TERTIARY = "us-east-1", "us-west-2", "eu-west-1"
ACCESS_KEY = SECRET_KEY = "test"

# The failure reasons S3 reports (spec §4.4).
AWS_FAILURE_REASONS = {
    "AssumeRoleNotPermitted", "DstBucketInvalidRegion", "DstBucketNotFound", "DstBucketObjectLockConfigMissing",
    "DstBucketUnversioned", "DstDelObjNotPermitted", "DstKmsKeyInvalidState", "DstKmsKeyNotFound",
    "DstMultipartCompleteNotPermitted", "DstMultipartInitNotPermitted", "DstMultipartPartUploadNotPermitted",
    "DstObjectHardDeleted", "DstPutAclNotPermitted", "DstPutLegalHoldNotPermitted", "DstPutObjectNotPermitted",
    "DstPutTaggingNotPermitted", "DstVersionNotFound", "InitiateReplicationNotPermitted", "SrcBucketInvalidRegion",
    "SrcBucketNotFound", "SrcBucketReplicationConfigMissing", "SrcGetAclNotPermitted", "SrcGetObjectNotPermitted",
    "SrcGetTaggingNotPermitted", "SrcHeadObjectNotPermitted", "SrcKmsKeyInvalidState", "SrcObjectNotEligible",
    "SrcVersionNotFound",
}


# --------------------------------------------------------------------------------------------
# the aws CLI, as the seed runs it


class Shell:
    """`aws ...` aimed at one server, in a working directory holding the seed's JSON files."""

    def __init__(self, url: str, cwd: Path, ca_bundle: str | None = None, creds=(ACCESS_KEY, SECRET_KEY)):
        self.url, self.cwd, self.ca_bundle, self.creds = url, cwd, ca_bundle, creds

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=self.creds[0], AWS_SECRET_ACCESS_KEY=self.creds[1], AWS_DEFAULT_REGION=PRIMARY,
                   AWS_ENDPOINT_URL=self.url, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        if self.ca_bundle:
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        return env

    def run(self, *args) -> tuple[int, str, str]:
        r = subprocess.run(["aws", *map(str, args)], env=self.env(), cwd=self.cwd, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout, r.stderr

    def ok(self, *args) -> str:
        code, out, err = self.run(*args)
        assert code == 0, f"aws {' '.join(map(str, args))} exited {code}\nstdout: {out[:2000]}\nstderr: {err[:3000]}"
        return out

    def text(self, *args) -> str:
        return self.ok(*args).strip()

    def write(self, name: str, doc) -> str:
        (self.cwd / name).write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=4))
        return f"file://{name}"


def seed_cp(sh: "Shell", local: str, bucket: str, prefix: str, tagging: str, metadata: dict | None = None) -> dict:
    """The seed's `aws s3 cp FILE s3://B/PREFIX/ [--metadata ...] --tagging ...`. The aws CLI v1 here
    has no --tagging on `s3 cp` ("Unknown options"), so the same PUT (x-amz-tagging, x-amz-meta-*)
    is sent with `s3api put-object`."""
    args = ["s3api", "put-object", "--bucket", bucket, "--key", f"{prefix}{local}", "--body", local, "--tagging", tagging]
    if metadata:
        args += ["--metadata", ",".join(f"{k}={v}" for k, v in metadata.items())]
    return json.loads(sh.ok(*args))


def client(url: str, region: str = PRIMARY, creds=(ACCESS_KEY, SECRET_KEY), service: str = "s3", verify=None):
    kw = {"s3": {"addressing_style": "path"}, "signature_version": "s3v4"} if service == "s3" else {}
    return boto3.session.Session().client(
        service, endpoint_url=url, region_name=region, aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
        verify=verify, config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, **kw))


def xregion(*args, ca: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=PRIMARY)
    if ca:
        env["NODE_EXTRA_CA_CERTS"] = ca
    return subprocess.run(["node", str(BIN), *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def key_policy(account: str) -> str:
    # Step 1's key policy, byte for byte the seed's shell string with the account substituted.
    return '''{
           "Version": "2012-10-17",
           "Statement": [
               {
                   "Sid": "Enable IAM User Permissions",
                   "Effect": "Allow",
                   "Principal": {
                       "AWS": "arn:aws:iam::''' + account + ''':root"
                   },
                   "Action": "kms:*",
                   "Resource": "*"
               },
               {
                   "Sid": "Allow S3 Service",
                   "Effect": "Allow",
                   "Principal": {
                       "Service": "s3.amazonaws.com"
                   },
                   "Action": [
                       "kms:Decrypt",
                       "kms:GenerateDataKey"
                   ],
                   "Resource": "*"
               }
           ]
       }'''


def encryption_config(alias: str) -> str:
    return '''{
           "Rules": [
               {
                   "ApplyServerSideEncryptionByDefault": {
                       "SSEAlgorithm": "aws:kms",
                       "KMSMasterKeyID": "''' + alias + '''"
                   },
                   "BucketKeyEnabled": true
               }
           ]
       }'''


TRUST_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def role_policy(src: str, dests: list[str], key_arns: list[str]) -> dict:
    """Step 4's policy (seed text, with its variables filled in)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket", "s3:GetBucketVersioning"],
         "Resource": f"arn:aws:s3:::{src}"},
        {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                                       "s3:GetObjectVersionTagging"], "Resource": f"arn:aws:s3:::{src}/*"},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": [f"arn:aws:s3:::{d}/*" for d in dests]},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arns},
    ]}


def replication_config(role_arn: str, d1: str, d2: str, k1: str, k2: str, as_written: bool, sse_kms: bool) -> dict:
    """Step 5's configuration. as_written: the seed's text (DMR Enabled on the tag rule, which AWS
    rejects); otherwise DMR Disabled there. sse_kms: adds SourceSelectionCriteria.SseKmsEncryptedObjects."""
    def rule(rid, prio, dest, sc, filt, key, dmr="Enabled"):
        r = {"ID": rid, "Status": "Enabled", "Priority": prio, "Filter": filt,
             "DeleteMarkerReplication": {"Status": dmr},
             "Destination": {"Bucket": f"arn:aws:s3:::{dest}", "StorageClass": sc,
                             "EncryptionConfiguration": {"ReplicaKmsKeyID": key},
                             "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                             "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}}
        if sse_kms:
            r["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
        return r

    return {"Role": role_arn, "Rules": [
        rule("ReplicateAllToSecondary", 1, d1, "STANDARD_IA", {"Prefix": ""}, k1),
        rule("ReplicateAllToTertiary", 2, d2, "STANDARD_IA", {"Prefix": ""}, k2),
        rule("ReplicateCriticalDataFast", 0, d1, "STANDARD",
             {"And": {"Prefix": "critical/", "Tags": [{"Key": "Priority", "Value": "High"}]}}, k1,
             dmr="Enabled" if as_written else "Disabled"),
    ]}


def source_bucket_policy(src: str, role_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureConnections", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{src}", f"arn:aws:s3:::{src}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "AllowReplicationRole", "Effect": "Allow", "Principal": {"AWS": role_arn},
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket", "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
         "Resource": [f"arn:aws:s3:::{src}", f"arn:aws:s3:::{src}/*"]},
    ]}


PAB_ALL = "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"


# --------------------------------------------------------------------------------------------
# the seed's world: steps 1-4 at fixture time, the rest in the tests, in order


class Seed:
    def __init__(self, base: Path):
        self.base = base
        self.work = base / "work"
        self.work.mkdir()
        self.srv = ServerProc(base, "seed000", ensure_roles=False)
        self.tls = False
        self.ca: str | None = None
        self.state: dict = {}

    @property
    def sh(self) -> Shell:
        return Shell(self.srv.url, self.work, self.ca)

    def s3(self, region: str = PRIMARY):
        return client(self.srv.url, region, verify=self.ca if self.tls else None)

    def restart_with_tls(self) -> None:
        if self.tls:
            return
        self.srv.stop()
        self.srv.args = ["--tls"]
        self.srv.port = 0
        self.srv.start()
        assert self.srv.url.startswith("https://"), self.srv.url
        ca = self.srv.data_dir / "tls" / "ca.pem"
        assert ca.exists(), f"--tls made no CA at {ca}"
        self.ca = str(ca)
        self.tls = True


@pytest.fixture(scope="module")
def seed():
    from conftest import _build

    _build()
    base = new_base_dir("xregion-seed000-")
    s = Seed(base)
    try:
        s.srv.start()
        sh = s.sh
        st = s.state
        st["account"] = sh.text("sts", "get-caller-identity", "--query", "Account", "--output", "text")
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        st.update(
            suffix=suffix, src=f"multi-region-source-{suffix}", d1=f"multi-region-dest1-{suffix}",
            d2=f"multi-region-dest2-{suffix}", role=f"MultiRegionReplicationRole-{suffix}",
            src_alias=f"alias/s3-multi-region-source-{suffix}", d1_alias=f"alias/s3-multi-region-dest1-{suffix}",
            d2_alias=f"alias/s3-multi-region-dest2-{suffix}")
        # Step 1: keys and aliases in all regions
        for name, region, alias, desc in (
                ("src", PRIMARY, st["src_alias"], "KMS key for S3 multi-region replication source"),
                ("d1", SECONDARY, st["d1_alias"], "KMS key for S3 multi-region replication destination 1"),
                ("d2", TERTIARY, st["d2_alias"], "KMS key for S3 multi-region replication destination 2")):
            key_id = sh.text("kms", "create-key", "--region", region, "--policy", key_policy(st["account"]),
                             "--description", desc, "--query", "KeyMetadata.KeyId", "--output", "text")
            sh.ok("kms", "create-alias", "--region", region, "--alias-name", alias, "--target-key-id", key_id)
            st[f"{name}_key"] = key_id
            st[f"{name}_key_arn"] = f"arn:aws:kms:{region}:{st['account']}:key/{key_id}"
        # Step 2: buckets, versioning, default encryption
        for name, region, alias in (("src", PRIMARY, st["src_alias"]), ("d1", SECONDARY, st["d1_alias"]),
                                    ("d2", TERTIARY, st["d2_alias"])):
            b = st[name]
            sh.ok("s3", "mb", f"s3://{b}", "--region", region)
            reg = [] if name == "src" else ["--region", region]
            sh.ok("s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled", *reg)
            sh.ok("s3api", "put-bucket-encryption", "--bucket", b, "--server-side-encryption-configuration",
                  encryption_config(alias), *reg)
        # Step 3: role
        trust = sh.write("multi-region-replication-trust-policy.json", TRUST_POLICY)
        sh.ok("iam", "create-role", "--role-name", st["role"], "--assume-role-policy-document", trust)
        st["role_arn"] = sh.text("iam", "get-role", "--role-name", st["role"], "--query", "Role.Arn", "--output", "text")
        # Step 4: role policy
        st["role_policy"] = role_policy(st["src"], [st["d1"], st["d2"]],
                                        [st["src_key_arn"], st["d1_key_arn"], st["d2_key_arn"]])
        pol = sh.write("multi-region-replication-policy.json", st["role_policy"])
        sh.ok("iam", "put-role-policy", "--role-name", st["role"], "--policy-name", "MultiRegionS3ReplicationPolicy",
              "--policy-document", pol)
        yield s
    finally:
        s.srv.stop()
        cleanup_base_dir(base)


# ---------------------------------------------------------------- steps 1-4 as the seed checks them


def test_step1_keys_and_aliases_in_three_regions(seed):
    st, sh = seed.state, seed.sh
    assert st["account"] == "000000000000"
    for name, region, alias in (("src", PRIMARY, st["src_alias"]), ("d1", SECONDARY, st["d1_alias"]),
                                ("d2", TERTIARY, st["d2_alias"])):
        md = json.loads(sh.ok("kms", "describe-key", "--region", region, "--key-id", alias))["KeyMetadata"]
        assert md["KeyId"] == st[f"{name}_key"] and md["Arn"] == st[f"{name}_key_arn"], md
        assert md["KeyState"] == "Enabled" and md["KeyUsage"] == "ENCRYPT_DECRYPT" and md["KeyManager"] == "CUSTOMER"
        aliases = json.loads(sh.ok("kms", "list-aliases", "--region", region, "--key-id", st[f"{name}_key"]))["Aliases"]
        assert [a["AliasName"] for a in aliases] == [alias]
        policy = json.loads(json.loads(sh.ok("kms", "get-key-policy", "--region", region, "--key-id", st[f"{name}_key"],
                                             "--policy-name", "default"))["Policy"])
        assert policy == json.loads(key_policy(st["account"]))
    # keys are regional: the secondary key is not known in the primary region
    code, out, err = sh.run("kms", "describe-key", "--region", PRIMARY, "--key-id", st["d1_key"])
    assert code != 0 and "NotFoundException" in err, (code, out, err)


def test_step2_buckets_versioned_with_sse_kms_default(seed):
    st, sh = seed.state, seed.sh
    for name, region, alias in (("src", PRIMARY, st["src_alias"]), ("d1", SECONDARY, st["d1_alias"]),
                                ("d2", TERTIARY, st["d2_alias"])):
        b = st[name]
        assert json.loads(sh.ok("s3api", "get-bucket-versioning", "--bucket", b, "--region", region))["Status"] == "Enabled"
        enc = json.loads(sh.ok("s3api", "get-bucket-encryption", "--bucket", b, "--region", region))
        rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}, enc
        assert rule["BucketKeyEnabled"] is True
        loc = json.loads(sh.ok("s3api", "get-bucket-location", "--bucket", b, "--region", region))["LocationConstraint"]
        assert loc == (None if region == PRIMARY else region)


def test_step3_4_role_and_policy(seed):
    st, sh = seed.state, seed.sh
    assert st["role_arn"] == f"arn:aws:iam::{st['account']}:role/{st['role']}"
    role = json.loads(sh.ok("iam", "get-role", "--role-name", st["role"]))["Role"]
    assert role["AssumeRolePolicyDocument"] == TRUST_POLICY
    got = json.loads(sh.ok("iam", "get-role-policy", "--role-name", st["role"], "--policy-name",
                           "MultiRegionS3ReplicationPolicy"))
    assert got["PolicyDocument"] == st["role_policy"]
    assert json.loads(sh.ok("iam", "list-role-policies", "--role-name", st["role"]))["PolicyNames"] == [
        "MultiRegionS3ReplicationPolicy"]


def test_step5_replication_config_and_sse_kms_objects_not_replicated_without_opt_in(seed):
    st, sh = seed.state, seed.sh
    as_written = replication_config(st["role_arn"], st["d1"], st["d2"], st["d1_key_arn"], st["d2_key_arn"],
                                    as_written=True, sse_kms=False)
    f = sh.write("multi-region-replication-config.json", as_written)
    code, out, err = sh.run("s3api", "put-bucket-replication", "--bucket", st["src"], "--replication-configuration", f)
    assert code != 0 and "(InvalidRequest)" in err and "Delete marker replication is not supported" in err, (code, err)
    fixed = replication_config(st["role_arn"], st["d1"], st["d2"], st["d1_key_arn"], st["d2_key_arn"],
                               as_written=False, sse_kms=False)
    f = sh.write("multi-region-replication-config.json", fixed)
    sh.ok("s3api", "put-bucket-replication", "--bucket", st["src"], "--replication-configuration", f)
    assert json.loads(sh.ok("s3api", "get-bucket-replication", "--bucket", st["src"], "--query",
                            "ReplicationConfiguration.Rules[].Status")) == ["Enabled", "Enabled", "Enabled"]
    # Validation step 2 of the seed: an object, which the bucket's default encryption makes SSE-KMS.
    (sh.cwd / "test-replication.txt").write_text("Multi-region replication test - before opt-in\n")
    seed_cp(sh, "test-replication.txt", st["src"], "test/", "TestType=ReplicationValidation", {"test": "replication"})
    c = seed.s3()
    h = c.head_object(Bucket=st["src"], Key="test/test-replication.txt")
    assert h["ServerSideEncryption"] == "aws:kms" and h["SSEKMSKeyId"] == st["src_key_arn"], h
    assert h.get("BucketKeyEnabled") is True, h
    st["unreplicated_vid"] = h["VersionId"]
    d1, d2 = seed.s3(SECONDARY), seed.s3(TERTIARY)
    stays(lambda: head(d1, st["d1"], "test/test-replication.txt") is None
          and head(d2, st["d2"], "test/test-replication.txt") is None, 3.0,
          desc="an SSE-KMS object without SseKmsEncryptedObjects stays unreplicated")
    # spec §10 row 7: SSE-KMS objects are skipped (no x-amz-replication-status) unless the rule opts in
    st_now = c.head_object(Bucket=st["src"], Key="test/test-replication.txt").get("ReplicationStatus")
    assert st_now is None, f"an SSE-KMS object no rule opts in carries no replication status, got {st_now}"
    r = xregion("replication", "explain", "--bucket", st["src"], "--key", "test/test-replication.txt",
                "--endpoint", seed.srv.url, "--json")
    assert r.returncode == 0, r.stderr
    x = json.loads(r.stdout)
    assert x["replicates"] is False, x
    why = json.dumps(x)
    assert "SseKmsEncryptedObjects" in why, f"explain should say that SSE-KMS objects need SseKmsEncryptedObjects: {why}"
    text = xregion("replication", "explain", "--bucket", st["src"], "--key", "test/test-replication.txt",
                   "--endpoint", seed.srv.url)
    assert "SseKmsEncryptedObjects" in text.stdout, text.stdout


# ---------------------------------------------------------------- step 9, over HTTP


def test_step9_policy_and_public_access_blocks_then_http_is_refused_even_for_root(seed):
    st, sh = seed.state, seed.sh
    assert not seed.tls
    pol = sh.write("source-bucket-policy.json", source_bucket_policy(st["src"], st["role_arn"]))
    sh.ok("s3api", "put-bucket-policy", "--bucket", st["src"], "--policy", pol)
    st["step9"] = True
    # The seed's very next command already fails when the aws CLI talks plain HTTP (against AWS it
    # always uses HTTPS): the source bucket now refuses insecure transport, to its root too.
    code, out, err = sh.run("s3api", "put-public-access-block", "--bucket", st["src"],
                            "--public-access-block-configuration", PAB_ALL)
    assert code != 0 and "(AccessDenied)" in err, (code, out, err)
    sh.ok("s3api", "put-public-access-block", "--bucket", st["d1"], "--public-access-block-configuration", PAB_ALL,
          "--region", SECONDARY)
    sh.ok("s3api", "put-public-access-block", "--bucket", st["d2"], "--public-access-block-configuration", PAB_ALL,
          "--region", TERTIARY)

    # every S3 call on the source bucket, over HTTP, as the account's root: AccessDenied
    src = st["src"]
    for args in (
        ("s3api", "list-objects-v2", "--bucket", src),
        ("s3api", "get-object", "--bucket", src, "--key", "test/test-replication.txt", "out.txt"),
        ("s3api", "put-object", "--bucket", src, "--key", "new.txt"),
        ("s3api", "delete-object", "--bucket", src, "--key", "test/test-replication.txt"),
        ("s3api", "get-bucket-versioning", "--bucket", src),
        ("s3api", "get-bucket-encryption", "--bucket", src),
        ("s3api", "get-bucket-replication", "--bucket", src),
        ("s3api", "get-public-access-block", "--bucket", src),
        ("s3api", "put-bucket-tagging", "--bucket", src, "--tagging", "TagSet=[{Key=Environment,Value=Production}]"),
        ("s3api", "list-object-versions", "--bucket", src),
        ("s3", "cp", "multi-region-replication-policy.json", f"s3://{src}/x.json"),
        ("s3", "ls", f"s3://{src}/"),
    ):
        code, out, err = sh.run(*args)
        assert code != 0 and ("AccessDenied" in err or "Forbidden" in err), f"aws {' '.join(args)} over HTTP: {code} {err[:500]}"
    c = seed.s3()
    e = pytest.raises(ClientError, c.head_object, Bucket=src, Key="test/test-replication.txt").value
    assert error_of(e)[0] == 403
    e = pytest.raises(ClientError, c.head_bucket, Bucket=src).value
    assert error_of(e)[0] == 403
    # The bucket owner's root may always read, replace and delete the bucket policy (AWS's way out).
    got = json.loads(sh.ok("s3api", "get-bucket-policy", "--bucket", src, "--query", "Policy", "--output", "text"))
    assert got == source_bucket_policy(src, st["role_arn"])
    # ... but an IAM administrator of the same account is locked out over HTTP like everyone else
    iam = client(seed.srv.url, service="iam")
    admin = f"admin-{st['suffix']}"
    iam.create_user(UserName=admin)
    iam.put_user_policy(UserName=admin, PolicyName="AdministratorAccess", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    k = iam.create_access_key(UserName=admin)["AccessKey"]
    st["admin_creds"] = (k["AccessKeyId"], k["SecretAccessKey"])
    ac = client(seed.srv.url, creds=st["admin_creds"])
    for fn, kw in ((ac.get_bucket_policy, {}), (ac.list_objects_v2, {}), (ac.get_bucket_versioning, {})):
        e = pytest.raises(ClientError, fn, Bucket=src, **kw).value
        assert error_of(e)[:2] == (403, "AccessDenied"), (fn, error_of(e))
    # the destinations have no such policy: HTTP works there
    assert client(seed.srv.url, SECONDARY, creds=st["admin_creds"]).list_objects_v2(Bucket=st["d1"])["KeyCount"] == 0
    # public access blocks as configured
    for b, region in ((src, None), (st["d1"], SECONDARY), (st["d2"], TERTIARY)):
        if b == src:
            continue  # reading it over HTTP is denied (checked above); checked over HTTPS later
        conf = seed.s3(region).get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
        assert conf == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True}


# ---------------------------------------------------------------- HTTPS: the same calls work, replication works


def _require_step9(seed):
    if not seed.state.get("step9"):
        pytest.fail("step 9 did not run (test_step9_... failed or was deselected)")


def test_over_https_the_same_calls_succeed(seed):
    _require_step9(seed)
    seed.restart_with_tls()
    st, sh = seed.state, seed.sh
    src = st["src"]
    # the rest of step 9, as the seed runs it (over HTTPS, as the aws CLI reaches AWS)
    sh.ok("s3api", "put-public-access-block", "--bucket", src, "--public-access-block-configuration", PAB_ALL)
    out = json.loads(sh.ok("s3api", "list-objects-v2", "--bucket", src))
    assert [o["Key"] for o in out["Contents"]] == ["test/test-replication.txt"]
    sh.ok("s3api", "get-object", "--bucket", src, "--key", "test/test-replication.txt", "out.txt")
    assert (sh.cwd / "out.txt").read_text() == "Multi-region replication test - before opt-in\n"
    assert json.loads(sh.ok("s3api", "get-bucket-versioning", "--bucket", src))["Status"] == "Enabled"
    sh.ok("s3api", "get-bucket-encryption", "--bucket", src)
    sh.ok("s3api", "get-bucket-replication", "--bucket", src)
    conf = json.loads(sh.ok("s3api", "get-public-access-block", "--bucket", src))["PublicAccessBlockConfiguration"]
    assert all(conf[k] is True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
    sh.ok("s3api", "put-bucket-tagging", "--bucket", src, "--tagging", "TagSet=[{Key=Environment,Value=Production}]")
    sh.ok("s3api", "list-object-versions", "--bucket", src)
    sh.ok("s3", "ls", f"s3://{src}/")
    # the IAM administrator too
    ac = client(seed.srv.url, creds=st["admin_creds"], verify=seed.ca)
    ac.get_bucket_policy(Bucket=src)
    assert ac.list_objects_v2(Bucket=src)["KeyCount"] == 1


def test_over_https_sse_kms_objects_replicate_reencrypted_with_each_destination_key(seed):
    _require_step9(seed)
    seed.restart_with_tls()
    st, sh = seed.state, seed.sh
    cfg = replication_config(st["role_arn"], st["d1"], st["d2"], st["d1_key_arn"], st["d2_key_arn"],
                             as_written=False, sse_kms=True)
    f = sh.write("multi-region-replication-config.json", cfg)
    sh.ok("s3api", "put-bucket-replication", "--bucket", st["src"], "--replication-configuration", f)
    (sh.cwd / "test-replication.txt").write_text("Multi-region replication test - opted in\n")
    seed_cp(sh, "test-replication.txt", st["src"], "test/", "TestType=ReplicationValidation", {"test": "replication"})
    (sh.cwd / "priority-test.txt").write_text("High priority test data\n")
    seed_cp(sh, "priority-test.txt", st["src"], "critical/", "Priority=High&TestType=PriorityReplication")
    c, d1, d2 = seed.s3(), seed.s3(SECONDARY), seed.s3(TERTIARY)
    # Both keys go to dest1 under "ReplicateAllToSecondary" (STANDARD_IA): for the critical/ object the
    # seed meant Priority 0 to win, but in S3 the rule with the HIGHER Priority value wins (spec §10.11).
    for key, d1_class in (("test/test-replication.txt", "STANDARD_IA"), ("critical/priority-test.txt", "STANDARD_IA")):
        vid = c.head_object(Bucket=st["src"], Key=key)["VersionId"]
        try:
            h = wait_status(c, st["src"], key, vid, "COMPLETED", timeout=20)
        except AssertionError as e:
            raise AssertionError(f"{e}\nreplication status: {Admin(seed.srv.url).get('status', bucket=st['src'])}") from None
        assert h["SSEKMSKeyId"] == st["src_key_arn"], h
        for dc, bucket, key_arn, cls in ((d1, st["d1"], st["d1_key_arn"], d1_class),
                                         (d2, st["d2"], st["d2_key_arn"], "STANDARD_IA")):
            r = dc.head_object(Bucket=bucket, Key=key, VersionId=vid)
            assert r["ReplicationStatus"] == "REPLICA", r
            assert r["ServerSideEncryption"] == "aws:kms", r
            assert r["SSEKMSKeyId"] == key_arn, f"{bucket}/{key}: replica encrypted with {r.get('SSEKMSKeyId')}, expected {key_arn}"
            assert r.get("StorageClass", "STANDARD") == cls, (bucket, key, r.get("StorageClass"))
            body = dc.get_object(Bucket=bucket, Key=key, VersionId=vid)["Body"].read()
            assert body == (sh.cwd / key.split("/")[1]).read_bytes()
        if key.startswith("test/"):
            assert d1.head_object(Bucket=st["d1"], Key=key, VersionId=vid)["Metadata"] == {"test": "replication"}
            assert tags_of(d1, st["d1"], key, vid) == {"TestType": "ReplicationValidation"}
    r = xregion("replication", "explain", "--bucket", st["src"], "--key", "critical/priority-test.txt",
                "--endpoint", seed.srv.url, "--json", ca=seed.ca)
    assert r.returncode == 0, r.stderr
    x = json.loads(r.stdout)
    assert x["replicates"] is True and x.get("status") == "COMPLETED", x
    winners = {d["destination"].removeprefix("arn:aws:s3:::"): (d["rule"], d["outranked"]) for d in x["destinations"]}
    assert winners[st["d1"]] == ("ReplicateAllToSecondary", ["ReplicateCriticalDataFast"]), winners
    # the seed's validation step 4, verbatim
    out = sh.ok("s3api", "head-object", "--bucket", st["d1"], "--key", "test/test-replication.txt", "--region", SECONDARY,
                "--query", "ServerSideEncryption")
    assert json.loads(out) == "aws:kms"
    # the object uploaded before the opt-in is not replicated retroactively (S3 replicates new writes only)
    assert head(d1, st["d1"], "test/test-replication.txt", st["unreplicated_vid"]) is None
    # the replication report over HTTPS: nothing failed
    r = xregion("replication", "status", "--bucket", st["src"], "--endpoint", seed.srv.url, "--json", ca=seed.ca)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["failedTotal"] == 0 and rep["pending"]["operations"] == 0, rep


def test_over_https_replication_keeps_working_while_the_source_denies_insecure_transport(seed):
    """The DenyInsecureConnections statement is still there; replication of a delete marker (rule
    DMR Enabled) and of a new version goes through it: S3's own requests are TLS."""
    _require_step9(seed)
    seed.restart_with_tls()
    st = seed.state
    c, d1, d2 = seed.s3(), seed.s3(SECONDARY), seed.s3(TERTIARY)
    pol = json.loads(c.get_bucket_policy(Bucket=st["src"])["Policy"])
    assert pol["Statement"][0]["Sid"] == "DenyInsecureConnections"
    v = c.put_object(Bucket=st["src"], Key="standard/standard-data.txt", Body=b"Standard application data\n",
                     Metadata={"classification": "standard"})["VersionId"]
    wait_status(c, st["src"], "standard/standard-data.txt", v, "COMPLETED", timeout=20)
    dm = c.delete_object(Bucket=st["src"], Key="standard/standard-data.txt")
    assert dm["DeleteMarker"] is True
    for dc, b in ((d1, st["d1"]), (d2, st["d2"])):
        wait_until(lambda: any(e["IsDeleteMarker"] and e["VersionId"] == dm["VersionId"]
                               for e in list_versions(dc, b, "standard/standard-data.txt")),
                   15, desc=f"delete marker in {b}")


def test_over_https_the_policy_is_exact_about_public_access(seed):
    """BlockPublicPolicy from step 9: a public statement is refused on the source bucket."""
    _require_step9(seed)
    seed.restart_with_tls()
    st = seed.state
    c = seed.s3()
    c.put_public_access_block(Bucket=st["src"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    public = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": f"arn:aws:s3:::{st['src']}/*"}]}
    e = pytest.raises(ClientError, c.put_bucket_policy, Bucket=st["src"], Policy=json.dumps(public)).value
    assert error_of(e)[:2] == (403, "AccessDenied"), error_of(e)
    assert json.loads(c.get_bucket_policy(Bucket=st["src"])["Policy"]) == source_bucket_policy(st["src"], st["role_arn"])


# --------------------------------------------------------------------------------------------
# failure twins: the seed's role policy with one permission removed


class Twins:
    def __init__(self, srv: ServerProc):
        self.srv = srv
        self.url = srv.url
        self.iam = client(self.url, service="iam")
        k1 = client(self.url, PRIMARY, service="kms").create_key(Description="twins source")["KeyMetadata"]
        k2 = client(self.url, SECONDARY, service="kms").create_key(Description="twins destination")["KeyMetadata"]
        self.src_key, self.dst_key = k1["Arn"], k2["Arn"]


@pytest.fixture(scope="module")
def twins():
    from conftest import _build

    _build()
    base = new_base_dir("xregion-seed000-twins-")
    srv = ServerProc(base, "twins", ensure_roles=False)
    try:
        srv.start()
        yield Twins(srv)
    finally:
        srv.stop()
        cleanup_base_dir(base)


def _without(policy: dict, action: str) -> dict:
    out = json.loads(json.dumps(policy))
    for s in out["Statement"]:
        s["Action"] = [a for a in s["Action"] if a != action]
    out["Statement"] = [s for s in out["Statement"] if s["Action"]]
    return out


def _without_key(policy: dict, key_arn: str) -> dict:
    out = json.loads(json.dumps(policy))
    for s in out["Statement"]:
        if isinstance(s["Resource"], list) and key_arn in s["Resource"]:
            s["Resource"] = [r for r in s["Resource"] if r != key_arn]
    return out


TWINS = {
    # name: (policy transform, trust policy, expectation)
    "seed-policy-as-is": (lambda p, t: p, TRUST_POLICY, "completed"),
    "no-GetObjectVersionForReplication": (lambda p, t: _without(p, "s3:GetObjectVersionForReplication"), TRUST_POLICY,
                                          "SrcGetObjectNotPermitted"),
    "no-ReplicateObject": (lambda p, t: _without(p, "s3:ReplicateObject"), TRUST_POLICY, "DstPutObjectNotPermitted"),
    "no-ReplicateDelete": (lambda p, t: _without(p, "s3:ReplicateDelete"), TRUST_POLICY, "delete:DstDelObjNotPermitted"),
    "no-ListBucket": (lambda p, t: _without(p, "s3:ListBucket"), TRUST_POLICY, "delete:SrcHeadObjectNotPermitted"),
    "no-kms-on-destination-key": (lambda p, t: _without_key(p, t.dst_key), TRUST_POLICY, "failed:any"),
    "no-GetObjectVersionTagging": (lambda p, t: _without(p, "s3:GetObjectVersionTagging"), TRUST_POLICY, "no-tags"),
    "no-ReplicateTags": (lambda p, t: _without(p, "s3:ReplicateTags"), TRUST_POLICY, "no-tags"),
    "trust-without-s3": (lambda p, t: p, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "AssumeRoleNotPermitted"),
}


def _failed_entries(url: str, bucket: str) -> list[dict]:
    return Admin(url).status(bucket)["failed"]


@pytest.mark.parametrize("name", list(TWINS))
def test_failure_twin(twins, name):
    transform, trust, expect = TWINS[name]
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
    src, dst, role = f"twin-src-{suffix}", f"twin-dst-{suffix}", f"TwinRole-{suffix}"
    c, w = client(twins.url, PRIMARY), client(twins.url, SECONDARY)
    c.create_bucket(Bucket=src)
    w.create_bucket(Bucket=dst, CreateBucketConfiguration={"LocationConstraint": SECONDARY})
    for cl, b, key in ((c, src, twins.src_key), (w, dst, twins.dst_key)):
        cl.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        cl.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
            "BucketKeyEnabled": True}]})
    policy = transform(role_policy(src, [dst], [twins.src_key, twins.dst_key]), twins)
    role_arn = twins.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    twins.iam.put_role_policy(RoleName=role, PolicyName="MultiRegionS3ReplicationPolicy", PolicyDocument=json.dumps(policy))
    c.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": role_arn, "Rules": [{
        "ID": "ReplicateAllToSecondary", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "EncryptionConfiguration": {"ReplicaKmsKeyID": twins.dst_key}}}]})
    key = "test/test-replication.txt"
    vid = c.put_object(Bucket=src, Key=key, Body=b"twin body\n", Tagging="TestType=ReplicationValidation")["VersionId"]

    def reason_of(op: str | None = None) -> list[str]:
        return [f["reason"] for f in _failed_entries(twins.url, src) if op is None or f["op"] == op]

    if expect in ("completed", "no-tags") or expect.startswith("delete:"):
        try:
            wait_status(c, src, key, vid, "COMPLETED", timeout=15)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}; failures: {_failed_entries(twins.url, src)}") from None
        r = w.head_object(Bucket=dst, Key=key, VersionId=vid)
        assert r["ReplicationStatus"] == "REPLICA" and r["SSEKMSKeyId"] == twins.dst_key, r
        want_tags = {} if expect == "no-tags" else {"TestType": "ReplicationValidation"}
        assert tags_of(w, dst, key, vid) == want_tags, f"{name}: replica tags"
        if expect.startswith("delete:"):
            want = expect.split(":", 1)[1]
            dm = c.delete_object(Bucket=src, Key=key)["VersionId"]
            got = wait_until(lambda: reason_of("delete-marker"), 15, desc=f"{name}: the delete marker's failure")
            assert got == [want], f"{name}: delete marker failed with {got}, expected {want}"
            assert not any(e["VersionId"] == dm for e in list_versions(w, dst, key)), "the delete marker must not arrive"
        elif expect == "completed":
            # the control twin: delete markers replicate too
            dm = c.delete_object(Bucket=src, Key=key)["VersionId"]
            wait_until(lambda: any(e["VersionId"] == dm and e["IsDeleteMarker"] for e in list_versions(w, dst, key)),
                       15, desc="delete marker at the destination")
        return
    try:
        wait_status(c, src, key, vid, "FAILED", timeout=15)
    except AssertionError as e:
        raise AssertionError(f"{name}: {e}; failures: {_failed_entries(twins.url, src)}") from None
    assert head(w, dst, key, vid) is None, f"{name}: a failed version must not be at the destination"
    got = reason_of()
    assert len(got) == 1, f"{name}: failures {_failed_entries(twins.url, src)}"
    if expect == "failed:any":
        assert got[0] in AWS_FAILURE_REASONS, f"{name}: reason {got[0]!r} is not one of S3's failure reasons"
        print(f"{name}: FAILED with reason {got[0]}")
    else:
        assert got == [expect], f"{name}: failed with {got}, expected {expect}; {_failed_entries(twins.url, src)}"
    # the CLI shows the same reason
    r = xregion("replication", "status", "--bucket", src, "--endpoint", twins.url)
    assert r.returncode == 0 and got[0] in r.stdout, (r.returncode, r.stdout, r.stderr)
