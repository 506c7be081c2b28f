"""Shared helpers for the replication end-to-end tests (test_replication_*.py).

Everything here talks to real xregion processes over HTTP, as a user would: boto3 clients,
raw SigV4-signed requests (for documents boto3 refuses to build and for the admin endpoints),
the aws CLI and the `xregion replication ...` CLI. Nothing of the server is imported or mocked.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, urlencode

import boto3
import pytest
import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from s3util import server_url
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "bin" / "xregion.js"
ACCESS_KEY = "test"
SECRET_KEY = "test"
ACCOUNT_ID = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/replication-role"
MiB = 1024 * 1024

# Verbatim AWS texts (spec §1.6; [C] or [O] rows only).
MSG_SRC_VERSIONING = "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
MSG_DST_VERSIONING = "Destination bucket must have versioning enabled."
MSG_MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
MSG_NOT_FOUND = "The replication configuration was not found"
MSG_DMR_MUST = "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema."
MSG_DMR_CANNOT = (
    "DeleteMarkerReplication cannot be used for this version of Cross Region Replication configuration schema. "
    "Please refer to S3 Developer Guide for more information."
)
MSG_PRIO_CANNOT = "Priority cannot be used for this version of Cross Region Replication configuration schema"
MSG_DISTINCT_DEST = "Number of distinct destination bucket ARNs cannot exceed 1"
MSG_SSC_EMPTY = "SourceSelectionCriteria cannot be empty"
MSG_KMS_KEY_REQUIRED = "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present."
MSG_METRICS_THRESHOLD = "Metrics cannot contain an event threshold when ReplicationTime is not specified or Disabled"
MSG_VERSIONING_LOCKED = (
    "A replication configuration is present on this bucket, so you cannot change the versioning state. "
    "To change the versioning state, first delete the replication configuration."
)


# --------------------------------------------------------------------------------------------
# names, ARNs, rules


def unique(prefix: str = "rp") -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def v2_rule(dest: str, rule_id: str | None = None, priority: int | None = 1, prefix: str | None = "",
            dmr: str | None = "Disabled", status: str = "Enabled", filter: dict | None = None,
            storage_class: str | None = None, replica_modifications: str | None = None, **dest_extra) -> dict:
    """A V2 (Filter) rule. `filter` overrides `prefix`; pass priority=None / dmr=None to omit them."""
    rule: dict = {"Status": status, "Destination": {"Bucket": arn(dest), **dest_extra}}
    if rule_id is not None:
        rule["ID"] = rule_id
    if priority is not None:
        rule["Priority"] = priority
    rule["Filter"] = filter if filter is not None else ({"Prefix": prefix} if prefix is not None else {})
    if dmr is not None:
        rule["DeleteMarkerReplication"] = {"Status": dmr}
    if storage_class is not None:
        rule["Destination"]["StorageClass"] = storage_class
    if replica_modifications is not None:
        rule["SourceSelectionCriteria"] = {"ReplicaModifications": {"Status": replica_modifications}}
    return rule


def v1_rule(dest: str, rule_id: str | None = None, prefix: str = "", status: str = "Enabled", **extra) -> dict:
    rule: dict = {"Prefix": prefix, "Status": status, "Destination": {"Bucket": arn(dest)}}
    if rule_id is not None:
        rule["ID"] = rule_id
    rule.update(extra)
    return rule


def config(*rules: dict, role: str = ROLE) -> dict:
    return {"Role": role, "Rules": list(rules)}


# --------------------------------------------------------------------------------------------
# the replication role (replication runs AS the configuration's role: it must exist, with a
# trust policy letting s3.amazonaws.com assume it, else versions turn FAILED AssumeRoleNotPermitted)

# Every role name the replication tests put in a configuration that then replicates.
REPLICATION_ROLE_NAMES = (
    ROLE.rsplit("/", 1)[1],
    "S3ReplicationRole",
    "MultiRegionReplicationRole-abc123",
    "s3-replication-role",
)

REPLICATION_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": ["s3.amazonaws.com", "batchoperations.s3.amazonaws.com"]},
        "Action": "sts:AssumeRole",
    }],
}

# Deliberately broad: these tests check replication mechanics; least privilege is what the
# security tests (test_seed_000_security.py, test_seed_002_cross_account.py) check.
ALLOW_ALL_S3_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}
ALLOW_ALL_POLICY_NAME = "test-replication-allow-all"


def iam_client(url: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, session_token: str | None = None):
    return boto3.session.Session().client(
        "iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, aws_session_token=session_token,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def ensure_role(url: str, role: str = ROLE, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
                trust_policy: dict | None = None, policy: dict | None = None) -> str:
    """Idempotently makes `role` (a name or a role ARN) exist on the server at `url`, in the account
    of the given credentials, with the S3 replication trust policy and an inline s3:* + kms:* policy.
    Returns the role's ARN."""
    name = role.rsplit("/", 1)[1] if role.startswith("arn:") else role
    iam = iam_client(url, access_key, secret_key)
    trust = json.dumps(trust_policy or REPLICATION_TRUST_POLICY)
    try:
        arn_ = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    except ClientError as e:
        if e.response["Error"].get("Code") != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        arn_ = iam.get_role(RoleName=name)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=ALLOW_ALL_POLICY_NAME,
                        PolicyDocument=json.dumps(policy or ALLOW_ALL_S3_KMS))
    return arn_


def ensure_replication_roles(url: str, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> list[str]:
    """ensure_role for every role name the replication tests use."""
    return [ensure_role(url, n, access_key, secret_key) for n in REPLICATION_ROLE_NAMES]


# --------------------------------------------------------------------------------------------
# server processes


class ServerProc:
    """One `xregion serve` process, startable again on the same port and data dir."""

    def __init__(self, base: Path, name: str, regions: list[str] | None = None, sites: list[dict] | None = None,
                 extra_config: dict | None = None, ensure_roles: bool | None = None, args: list[str] | None = None):
        """ensure_roles: after each start, make the replication tests' roles exist (default: yes,
        unless extra_config sets its own "credentials", where test/test may not be an account).
        args: extra `serve` flags (e.g. ["--tls"])."""
        self.base = base
        self.name = name
        self.data_dir = base / f"data-{name}"
        self.log_path = base / f"server-{name}.log"
        self.regions = regions
        self.sites = sites
        self.extra_config = extra_config or {}
        self.ensure_roles = ("credentials" not in self.extra_config) if ensure_roles is None else ensure_roles
        self.args = list(args or [])
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, port: int | None = None, timeout: float = 20) -> "ServerProc":
        cmd = ["node", str(BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port if port is None else port),
               "--data-dir", str(self.data_dir)]
        if self.regions:
            cmd += ["--regions", ",".join(self.regions)]
        cmd += self.args
        cfg = dict(self.extra_config)
        if self.sites:
            cfg["sites"] = self.sites
        if cfg:
            cfg_path = self.base / f"config-{self.name}.json"
            cfg_path.write_text(json.dumps(cfg))
            cmd += ["--config", str(cfg_path)]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log)
        url = server_url(self.proc, timeout)
        if url is None:
            self.stop()
            raise RuntimeError(f"xregion {self.name} did not start:\n{self.log()[-4000:]}")
        self.url = url.rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])
        if self.ensure_roles:
            # Replication runs as the configuration's role; idempotent on a restart.
            ensure_replication_roles(self.url)
        return self

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM to this process (by its own PID), then wait; kill only if it does not exit."""
        p = self.proc
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def new_base_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def cleanup_base_dir(base: Path) -> None:
    if not os.environ.get("XREGION_KEEP_DATA"):
        shutil.rmtree(base, ignore_errors=True)


def client(url: str, region: str = "us-east-1"):
    cfg = Config(
        region_name=region,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name=region, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=cfg,
    )


def create_bucket(c, name: str, region: str, versioning: str | None = "Enabled") -> str:
    kw = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    c.create_bucket(Bucket=name, **kw)
    if versioning:
        c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    return name


def empty_and_delete_bucket(c, name: str) -> None:
    while True:
        r = c.list_object_versions(Bucket=name)
        items = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in r.get("Versions", []) + r.get("DeleteMarkers", [])]
        if not items:
            break
        for it in items:
            c.delete_object(Bucket=name, Key=it["Key"], VersionId=it["VersionId"])
    c.delete_bucket(Bucket=name)


# --------------------------------------------------------------------------------------------
# polling and object inspection


def wait_until(pred, timeout: float = 10.0, interval: float = 0.1, desc: str = "condition"):
    """Polls pred() until it returns a truthy value (returned) or the deadline passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except ClientError:  # e.g. the replica's bucket answers 404 until something arrives
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {desc}")
        time.sleep(interval)


def stays(pred, seconds: float, interval: float = 0.1, desc: str = "condition") -> None:
    """Asserts pred() keeps holding for `seconds` (used for what must NOT happen)."""
    deadline = time.monotonic() + seconds
    while True:
        ok = pred()
        assert ok, f"{desc} stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def head(c, bucket: str, key: str, version_id: str | None = None, **kw):
    """head_object, or None on 404."""
    try:
        if version_id:
            return c.head_object(Bucket=bucket, Key=key, VersionId=version_id, **kw)
        return c.head_object(Bucket=bucket, Key=key, **kw)
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] in (404, 405):
            return None
        raise


def repl_status(c, bucket: str, key: str, version_id: str | None = None) -> str | None:
    h = head(c, bucket, key, version_id)
    return None if h is None else h.get("ReplicationStatus")


def wait_status(c, bucket: str, key: str, version_id: str | None, want: str, timeout: float = 10.0) -> dict:
    """Waits until the version's x-amz-replication-status is `want`; returns the HeadObject answer.
    Fails early if a terminal status other than `want` shows up."""
    seen: list[str | None] = []

    def check():
        h = head(c, bucket, key, version_id)
        s = None if h is None else h.get("ReplicationStatus")
        if not seen or seen[-1] != s:
            seen.append(s)
        if s == want:
            return h
        if s in ("COMPLETED", "FAILED") and s != want:
            raise AssertionError(f"{bucket}/{key}?versionId={version_id}: status {s}, expected {want} (seen {seen})")
        return None

    try:
        return wait_until(check, timeout, desc=f"{bucket}/{key} status {want}")
    except AssertionError as e:
        raise AssertionError(f"{e}; statuses seen: {seen}") from None


def wait_version(c, bucket: str, key: str, version_id: str, timeout: float = 10.0) -> dict:
    """Waits until the bucket holds that version of the key (object or delete marker); returns its
    ListObjectVersions entry plus 'IsDeleteMarker'."""

    def check():
        e = find_version(c, bucket, key, version_id)
        return e

    return wait_until(check, timeout, desc=f"version {version_id} of {key} in {bucket}")


def find_version(c, bucket: str, key: str, version_id: str) -> dict | None:
    for e in list_versions(c, bucket, key):
        if e["VersionId"] == version_id:
            return e
    return None


def list_versions(c, bucket: str, key: str | None = None) -> list[dict]:
    """All versions and delete markers (with IsDeleteMarker) of one key, or of the bucket."""
    out: list[dict] = []
    kw: dict = {"Bucket": bucket}
    if key is not None:
        kw["Prefix"] = key
    while True:
        r = c.list_object_versions(**kw)
        for v in r.get("Versions", []):
            out.append({**v, "IsDeleteMarker": False})
        for d in r.get("DeleteMarkers", []):
            out.append({**d, "IsDeleteMarker": True})
        if not r.get("IsTruncated"):
            break
        kw["KeyMarker"] = r["NextKeyMarker"]
        kw["VersionIdMarker"] = r["NextVersionIdMarker"]
    if key is not None:
        out = [e for e in out if e["Key"] == key]
    return out


def tags_of(c, bucket: str, key: str, version_id: str | None = None) -> dict[str, str]:
    kw = {"VersionId": version_id} if version_id else {}
    r = c.get_object_tagging(Bucket=bucket, Key=key, **kw)
    return {t["Key"]: t["Value"] for t in r["TagSet"]}


def error_of(e: ClientError) -> tuple[int, str, str]:
    return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code", ""),
            e.response["Error"].get("Message", ""))


def expect_error(fn, status: int, code: str, message: str | None = None, message_startswith: str | None = None,
                 **kw) -> ClientError:
    """Calls fn(**kw) and asserts the S3 error it must raise."""
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    got = error_of(ei.value)
    assert (got[0], got[1]) == (status, code), f"expected {status} {code}, got {got}"
    if message is not None:
        assert got[2] == message, f"message: {got[2]!r} != {message!r}"
    if message_startswith is not None:
        assert got[2].startswith(message_startswith), f"message: {got[2]!r} does not start with {message_startswith!r}"
    return ei.value


# --------------------------------------------------------------------------------------------
# raw signed requests (admin endpoints, schema-invalid documents)

_http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=60))


def signed_request(url: str, method: str, path: str, query: dict | list | None = None, body: bytes = b"",
                   headers: dict | None = None, region: str = "us-east-1", content_md5: bool = False):
    """Sends a SigV4 (service s3) request; returns (status, headers, body bytes)."""
    qs = urlencode(query, quote_via=quote) if query else ""
    full = f"{url}{path}" + (f"?{qs}" if qs else "")
    h = dict(headers or {})
    if content_md5:
        import base64

        h["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    req = AWSRequest(method=method, url=full, data=body, headers=h)
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", region).add_auth(req)
    prepared = req.prepare()
    r = _http.request(method, prepared.url, body=body or None, headers=dict(prepared.headers), redirect=False)
    return r.status, dict(r.headers), r.data


def parse_error(body: bytes) -> dict[str, str]:
    """S3 error document -> {child tag: text}."""
    root = ET.fromstring(body)
    return {re.sub(r"^\{.*\}", "", ch.tag): (ch.text or "") for ch in root}


def put_replication_xml(url: str, bucket: str, xml: str | bytes, region: str = "us-east-1", content_md5: bool = True):
    body = xml.encode() if isinstance(xml, str) else xml
    return signed_request(url, "PUT", f"/{bucket}", {"replication": ""}, body=body, region=region, content_md5=content_md5)


class Admin:
    """The signed admin endpoints /_xregion/replication/{status,explain} of one server."""

    def __init__(self, url: str, region: str = "us-east-1"):
        self.url = url
        self.region = region

    def get(self, what: str, **params):
        status, _, body = signed_request(self.url, "GET", f"/_xregion/replication/{what}", params, region=self.region)
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            doc = None
        return status, doc, body

    def require(self, what: str, **params):
        """The JSON answer, or pytest.skip when the endpoint does not exist (yet)."""
        status, doc, body = self.get(what, **params)
        if doc is None and status in (400, 404, 405, 501):
            pytest.skip(f"admin endpoint /_xregion/replication/{what} not available (HTTP {status}: {body[:200]!r})")
        assert status == 200, f"/_xregion/replication/{what} {params}: HTTP {status} {body[:500]!r}"
        assert doc is not None, f"/_xregion/replication/{what}: not JSON: {body[:500]!r}"
        return doc

    def status(self, bucket: str) -> dict:
        return self.require("status", bucket=bucket)

    def explain(self, bucket: str, key: str, tags: dict[str, str] | None = None) -> dict:
        params = {"bucket": bucket, "key": key}
        if tags:
            params["tags"] = ",".join(f"{k}={v}" for k, v in tags.items())
        return self.require("explain", **params)


# --------------------------------------------------------------------------------------------
# CLIs


def aws_env(url: str, region: str = "us-east-1") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=region, AWS_REGION=region,
        AWS_ENDPOINT_URL=url, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="",
        AWS_MAX_ATTEMPTS="2", AWS_RETRY_MODE="standard",
    )
    return env


def aws(url: str, *args, region: str = "us-east-1", cwd=None, timeout: float = 120) -> tuple[int, str, str]:
    r = subprocess.run(["aws", *map(str, args)], env=aws_env(url, region), capture_output=True, cwd=cwd,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def aws_ok(url: str, *args, **kw) -> str:
    code, out, err = aws(url, *args, **kw)
    assert code == 0, f"aws {' '.join(map(str, args))} exited {code}\nstdout: {out[:2000]}\nstderr: {err[:3000]}"
    return out


def xregion_cli(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION="us-east-1")
    return subprocess.run(["node", str(BIN), *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def require_xregion_cli(*args) -> subprocess.CompletedProcess:
    """Runs `xregion <args>`; skips when the subcommand does not exist (yet)."""
    r = xregion_cli(*args)
    text = (r.stdout + r.stderr).lower()
    if r.returncode != 0 and ("unknown command" in text or "unknown option" in text or "not available" in text):
        pytest.skip(f"xregion {' '.join(map(str, args[:2]))} not available: {(r.stderr or r.stdout)[:200]}")
    return r
