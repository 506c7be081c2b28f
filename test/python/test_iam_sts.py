"""IAM and STS against a real xregion server, driven by the aws CLI and boto3 as against AWS.

Identities created here are named with a unique suffix: the session server (and its account
000000000000) is shared with the other test files.
"""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCOUNT_ID, BIN, ROOT, new_bucket_name
from s3util import server_url

# AWS CLI v1 exits 255 on a service error; v2 exits 254.
SERVICE_ERROR_EXIT = (254, 255)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def client(server_url: str, service: str, key: str, secret: str, token: str | None = None):
    return boto3.session.Session().client(
        service,
        endpoint_url=server_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust_account(account: str = ACCOUNT_ID) -> str:
    return policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"})


@pytest.fixture
def aws_json(cli_ok):
    """aws_json(service, op, *args) -> the parsed JSON output of `aws service op ... --output json`."""

    def run(service, op, *args, **kw):
        out = cli_ok(service, op, *args, "--output", "json", **kw)
        return json.loads(out) if out.strip() else {}

    return run


@pytest.fixture
def aws_error(cli):
    """aws_error(service, op, *args) -> (code, message) of the service error the CLI reports."""

    def run(service, op, *args, **kw):
        code, out, err = cli(service, op, *args, **kw)
        assert code in SERVICE_ERROR_EXIT, f"expected a service error, got exit {code}: {out} {err}"
        m = re.search(r"An error occurred \((\w+)\) when calling the \w+ operation: (.*)", err)
        assert m, err
        return m.group(1), m.group(2).strip()

    return run


@pytest.fixture
def iam_user(server, aws_json):
    """iam_user(policy_doc=None) -> (name, access key id, secret) of a fresh IAM user."""

    def make(inline: str | None = None):
        name = unique("user")
        aws_json("iam", "create-user", "--user-name", name)
        if inline is not None:
            aws_json("iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", inline)
        key = aws_json("iam", "create-access-key", "--user-name", name)["AccessKey"]
        return name, key["AccessKeyId"], key["SecretAccessKey"]

    return make


def test_caller_identity_of_the_root(aws_json):
    me = aws_json("sts", "get-caller-identity")
    assert me == {"UserId": ACCOUNT_ID, "Account": ACCOUNT_ID, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:root"}


def test_role_lifecycle_with_the_cli(cli_ok, aws_json, aws_error, tmp_path):
    name = unique("Role")
    trust = tmp_path / "trust.json"
    trust.write_text(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", '
        '"Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}\n  ]\n}\n'
    )
    created = aws_json("iam", "create-role", "--role-name", name, "--assume-role-policy-document", f"file://{trust}",
                       "--description", "replication role", "--path", "/service/")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role/service/{name}"
    assert created["Role"]["Arn"] == arn
    assert created["Role"]["RoleId"].startswith("AROA")
    assert cli_ok("iam", "get-role", "--role-name", name, "--query", "Role.Arn", "--output", "text").strip() == arn

    role = aws_json("iam", "get-role", "--role-name", name)["Role"]
    # The CLI decodes the URL-encoded document back into JSON.
    assert role["AssumeRolePolicyDocument"] == json.loads(trust.read_text())
    assert role["MaxSessionDuration"] == 3600
    assert role["Description"] == "replication role"
    assert name in [r["RoleName"] for r in aws_json("iam", "list-roles", "--path-prefix", "/service/")["Roles"]]

    inline = policy({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ReplicateObject"], "Resource": "*"})
    cli_ok("iam", "put-role-policy", "--role-name", name, "--policy-name", "replicate", "--policy-document", inline)
    got = aws_json("iam", "get-role-policy", "--role-name", name, "--policy-name", "replicate")
    assert got["RoleName"] == name and got["PolicyName"] == "replicate"
    assert got["PolicyDocument"] == json.loads(inline)
    assert aws_json("iam", "list-role-policies", "--role-name", name)["PolicyNames"] == ["replicate"]

    assert aws_error("iam", "delete-role", "--role-name", name) == (
        "DeleteConflict", "Cannot delete entity, must delete policies first.")
    cli_ok("iam", "delete-role-policy", "--role-name", name, "--policy-name", "replicate")

    cli_ok("iam", "attach-role-policy", "--role-name", name, "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    attached = aws_json("iam", "list-attached-role-policies", "--role-name", name)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}]
    assert aws_error("iam", "delete-role", "--role-name", name) == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.")
    cli_ok("iam", "detach-role-policy", "--role-name", name, "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")

    cli_ok("iam", "delete-role", "--role-name", name)
    assert aws_error("iam", "get-role", "--role-name", name) == ("NoSuchEntity", f"The role with name {name} cannot be found.")


def test_errors_as_aws_words_them(cli_ok, aws_error, tmp_path):
    name = unique("Dup")
    cli_ok("iam", "create-role", "--role-name", name, "--assume-role-policy-document", trust_account())
    assert aws_error("iam", "create-role", "--role-name", name.upper(), "--assume-role-policy-document", trust_account()) == (
        "EntityAlreadyExists", f"Role with name {name.upper()} already exists.")

    # Identity policies may not name a principal; trust policies must be trust policies.
    with_principal = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    assert aws_error("iam", "put-role-policy", "--role-name", name, "--policy-name", "p", "--policy-document", with_principal) == (
        "MalformedPolicyDocument", "Policy document should not specify a principal.")
    code, _ = aws_error("iam", "create-role", "--role-name", unique("Bad"), "--assume-role-policy-document", '{"Version": "2012-10-17"')
    assert code == "MalformedPolicyDocument"
    code, _ = aws_error("iam", "create-role", "--role-name", unique("Bad"),
                        "--assume-role-policy-document", policy({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                                  "Action": "sts:AssumeRole", "Resource": "*"}))
    assert code == "MalformedPolicyDocument"

    assert aws_error("iam", "get-user", "--user-name", "no-such-user-x") == (
        "NoSuchEntity", "The user with name no-such-user-x cannot be found.")
    assert aws_error("iam", "attach-role-policy", "--role-name", name, "--policy-arn", "arn:aws:iam::aws:policy/NoSuchPolicy") == (
        "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
    code, message = aws_error("iam", "create-user", "--user-name", "has space")
    assert code == "ValidationError"
    assert message == ("1 validation error detected: Value 'has space' at 'userName' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: [\\w+=,.@-]+")


def test_user_keys_work_with_boto3_and_policies_decide(server, cli_ok, aws_json, aws_error, iam_user):
    name, key, secret = iam_user()
    assert key.startswith("AKIA") and len(key) == 20 and len(secret) == 40
    me = client(server.url, "sts", key, secret).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    assert me["Account"] == ACCOUNT_ID
    assert me["UserId"].startswith("AIDA")

    s3 = client(server.url, "s3", key, secret)
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    cli_ok("iam", "attach-user-policy", "--user-name", name, "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    bucket = new_bucket_name("iam")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"from an IAM user")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"from an IAM user"
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    # A deactivated key stops working at once; a user with keys and policies cannot be deleted.
    keys = aws_json("iam", "list-access-keys", "--user-name", name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(key, "Active")]
    cli_ok("iam", "update-access-key", "--user-name", name, "--access-key-id", key, "--status", "Inactive")
    with pytest.raises(ClientError) as e:
        client(server.url, "sts", key, secret).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert aws_error("iam", "delete-user", "--user-name", name) == (
        "DeleteConflict", "Cannot delete entity, must detach all policies first.")
    cli_ok("iam", "detach-user-policy", "--user-name", name, "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert aws_error("iam", "delete-user", "--user-name", name) == (
        "DeleteConflict", "Cannot delete entity, must delete access keys first.")
    cli_ok("iam", "delete-access-key", "--user-name", name, "--access-key-id", key)
    cli_ok("iam", "delete-user", "--user-name", name)


def test_iam_calls_are_authorized(server, iam_user):
    name, key, secret = iam_user(policy({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}))
    iam = client(server.url, "iam", key, secret)
    assert iam.get_user()["User"]["UserName"] == name
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=unique("Nope"), AssumeRolePolicyDocument=trust_account())
    err = e.value.response["Error"]
    assert err["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Message"].startswith(f"User: arn:aws:iam::{ACCOUNT_ID}:user/{name} is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::{ACCOUNT_ID}:role/")


def test_assume_role_and_use_the_session(server, aws_json, iam_user):
    role = unique("Deploy")
    role_arn = aws_json("iam", "create-role", "--role-name", role, "--assume-role-policy-document", trust_account(),
                        "--max-session-duration", "7200")["Role"]["Arn"]
    aws_json("iam", "put-role-policy", "--role-name", role, "--policy-name", "s3",
             "--policy-document", policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    name, key, secret = iam_user(policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}))
    sts = client(server.url, "sts", key, secret)

    r = sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy-session", DurationSeconds=7200)
    creds = r["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert len(creds["SecretAccessKey"]) == 40
    assert len(creds["SessionToken"]) > 100
    remaining = creds["Expiration"].timestamp() - time.time()
    assert 7000 < remaining <= 7200
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/deploy-session"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:deploy-session", r["AssumedRoleUser"]["AssumedRoleId"])

    temp = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    me = client(server.url, "sts", **temp).get_caller_identity()
    assert me["Arn"] == r["AssumedRoleUser"]["Arn"]
    assert me["UserId"] == r["AssumedRoleUser"]["AssumedRoleId"]

    s3 = client(server.url, "s3", **temp)
    bucket = new_bucket_name("sts")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"from a role session")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"from a role session"

    # The session token is part of the credentials.
    with pytest.raises(ClientError) as e:
        client(server.url, "sts", creds["AccessKeyId"], creds["SecretAccessKey"]).get_caller_identity()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # Limits: the role's maximum, and one hour for role chaining.
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="too-long", DurationSeconds=7201)
    assert e.value.response["Error"] == {
        "Type": "Sender", "Code": "ValidationError",
        "Message": "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}


def test_trust_policy_decides_who_may_assume(server, cli_ok, aws_json, iam_user):
    allowed_name, allowed_key, allowed_secret = iam_user()
    role = unique("Only")
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/{allowed_name}"},
                    "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}}})
    role_arn = aws_json("iam", "create-role", "--role-name", role, "--assume-role-policy-document", trust)["Role"]["Arn"]

    # Another user, even with sts:AssumeRole on everything, is not trusted.
    other_name, other_key, other_secret = iam_user(policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    with pytest.raises(ClientError) as e:
        client(server.url, "sts", other_key, other_secret).assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT_ID}:user/{other_name} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")

    # The trusted user needs the external id.
    sts = client(server.url, "sts", allowed_key, allowed_secret)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123")["Credentials"]["AccessKeyId"].startswith("ASIA")

    # The account root may not assume roles at all.
    with pytest.raises(ClientError) as e:
        client(server.url, "sts", "test", "test").assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123")
    assert e.value.response["Error"]["Message"] == "Roles may not be assumed by root accounts."


def test_managed_policies_and_groups(server, cli_ok, aws_json, aws_error, iam_user):
    pname = unique("ReadOnly")
    doc = policy({"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"})
    p = aws_json("iam", "create-policy", "--policy-name", pname, "--policy-document", doc, "--description", "list buckets")["Policy"]
    assert p["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:policy/{pname}"
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0 and p["PolicyId"].startswith("ANPA")
    got = aws_json("iam", "get-policy", "--policy-arn", p["Arn"])["Policy"]
    assert got["Description"] == "list buckets"
    assert aws_json("iam", "get-policy-version", "--policy-arn", p["Arn"], "--version-id", "v1")["PolicyVersion"]["Document"] == json.loads(doc)
    local = aws_json("iam", "list-policies", "--scope", "Local")["Policies"]
    assert pname in [x["PolicyName"] for x in local]

    group = unique("readers")
    aws_json("iam", "create-group", "--group-name", group)
    cli_ok("iam", "attach-group-policy", "--group-name", group, "--policy-arn", p["Arn"])
    name, key, secret = iam_user()
    s3 = client(server.url, "s3", key, secret)
    with pytest.raises(ClientError):
        s3.list_buckets()
    cli_ok("iam", "add-user-to-group", "--group-name", group, "--user-name", name)
    s3.list_buckets()
    assert [u["UserName"] for u in aws_json("iam", "get-group", "--group-name", group)["Users"]] == [name]

    assert aws_error("iam", "delete-policy", "--policy-arn", p["Arn"]) == (
        "DeleteConflict", "Cannot delete a policy attached to entities.")
    cli_ok("iam", "remove-user-from-group", "--group-name", group, "--user-name", name)
    cli_ok("iam", "detach-group-policy", "--group-name", group, "--policy-arn", p["Arn"])
    cli_ok("iam", "delete-group", "--group-name", group)
    v2 = aws_json("iam", "create-policy-version", "--policy-arn", p["Arn"], "--policy-document", doc, "--set-as-default")
    assert v2["PolicyVersion"]["VersionId"] == "v2" and v2["PolicyVersion"]["IsDefaultVersion"] is True
    code, _ = aws_error("iam", "delete-policy", "--policy-arn", p["Arn"])
    assert code == "DeleteConflict"
    cli_ok("iam", "delete-policy-version", "--policy-arn", p["Arn"], "--version-id", "v1")
    cli_ok("iam", "delete-policy", "--policy-arn", p["Arn"])
    assert aws_error("iam", "get-policy", "--policy-arn", p["Arn"]) == ("NoSuchEntity", f"Policy {p['Arn']} was not found.")


def test_list_users_paginates(server, aws_json):
    prefix = f"/{unique('page')}/"
    names = sorted(unique("pu") for _ in range(5))
    for n in names:
        aws_json("iam", "create-user", "--user-name", n, "--path", prefix)
    iam = client(server.url, "iam", "test", "test")
    pages = list(iam.get_paginator("list_users").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]
    assert [u["UserName"] for p in pages for u in p["Users"]] == names
    # The CLI follows the markers itself.
    assert [u["UserName"] for u in aws_json("iam", "list-users", "--path-prefix", prefix, "--page-size", "2")["Users"]] == names


def test_get_session_token(server, iam_user):
    name, key, secret = iam_user()
    creds = client(server.url, "sts", key, secret).get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    temp = client(server.url, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert temp.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    # Without MFA, these credentials cannot call IAM.
    with pytest.raises(ClientError) as e:
        client(server.url, "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).get_user()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


# ---------------------------------------------------------------------------------------------
# Durability: a private server, killed with SIGKILL and restarted on the same data directory.
# ---------------------------------------------------------------------------------------------

def start_private_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        ["node", str(BIN), "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", str(data_dir)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    url = server_url(proc, 20)
    if url is None:
        proc.kill()
        proc.wait()
        pytest.fail("private xregion server did not start")
    return proc, url


def test_identities_survive_kill_9(server):
    """iam.db commits with synchronous=FULL: what IAM and STS acknowledged is there after SIGKILL."""
    base = Path(tempfile.mkdtemp(prefix="xregion-iam-durable-"))
    data_dir = base / "data"
    try:
        _kill_and_restart(data_dir)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _kill_and_restart(data_dir: Path) -> None:
    proc, url = start_private_server(data_dir)
    try:
        iam = client(url, "iam", "test", "test")
        iam.create_user(UserName="durable")
        key = iam.create_access_key(UserName="durable")["AccessKey"]
        role_arn = iam.create_role(RoleName="DurableRole", AssumeRolePolicyDocument=trust_account())["Role"]["Arn"]
        iam.put_user_policy(UserName="durable", PolicyName="assume",
                            PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}))
        creds = client(url, "sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
            RoleArn=role_arn, RoleSessionName="before-crash")["Credentials"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    proc, url = start_private_server(data_dir)
    try:
        me = client(url, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
        assert me["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/durable"
        session = client(url, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).get_caller_identity()
        assert session["Arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/DurableRole/before-crash"
        assert client(url, "iam", "test", "test").get_role(RoleName="DurableRole")["Role"]["Arn"] == role_arn
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
