"""KMS per region, driven by the aws CLI exactly as the multi-region replication recipe drives it
(create-key with a policy, create-alias, describe-key by alias, encrypt/decrypt with fileb://,
generate-data-key, key states, key policies) and by boto3 for the error shapes.

Every expectation is what AWS KMS answers; where a message is asserted it is KMS's wording.
"""
from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, ACCOUNT_ID, REGIONS, SECRET_KEY, cli_env

# AWS CLI v1 exits 255 on a service error; v2 exits 254.
SERVICE_ERROR_EXIT = (254, 255)


def seed_policy(account: str = ACCOUNT_ID) -> str:
    """The key policy of the recipe's step 1, as the shell passes it to --policy."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "Allow S3 Service",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                },
            ],
        },
        indent=4,
    )


def suffix() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def kms_json(cli):
    """kms_json(op, *args, region=...) -> parsed JSON output of `aws kms op ...` (exit 0 asserted)."""

    def run(op, *args, region="us-east-1", **kw):
        code, out, err = cli("kms", op, *args, "--output", "json", region=region, **kw)
        assert code == 0, f"aws kms {op} {args} exited {code}: {err}"
        return json.loads(out) if out.strip() else {}

    return run


def kms_error(cli, op, *args, region="us-east-1") -> str:
    """Runs a command that must fail with a service error; returns stderr."""
    code, out, err = cli("kms", op, *args, region=region)
    assert code in SERVICE_ERROR_EXIT, f"expected a service error from {op}, got exit {code}: {out} {err}"
    return err


def error_line(code: str, op: str, message: str = "") -> str:
    return f"An error occurred ({code}) when calling the {op} operation: {message}"


@pytest.fixture
def key(cli_ok):
    """A fresh key in us-east-1 made the recipe's way; its id."""
    return cli_ok(
        "kms", "create-key", "--region", "us-east-1", "--policy", seed_policy(),
        "--description", "KMS key for S3 multi-region replication source",
        "--query", "KeyMetadata.KeyId", "--output", "text",
    ).strip()


@pytest.fixture(scope="module")
def kms_client(server):
    def make(region="us-east-1", access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        return boto3.session.Session().client(
            "kms", endpoint_url=server.url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    return make


def test_recipe_step_1_keys_and_aliases_in_all_regions(cli_ok, kms_json):
    s = suffix()
    for region, role in zip(REGIONS, ("source", "dest1", "dest2")):
        key_id = cli_ok(
            "kms", "create-key", "--region", region, "--policy", seed_policy(),
            "--description", f"KMS key for S3 multi-region replication {role}",
            "--query", "KeyMetadata.KeyId", "--output", "text",
        ).strip()
        assert len(key_id) == 36 and key_id.count("-") == 4
        alias = f"alias/s3-multi-region-{role}-{s}"
        assert cli_ok("kms", "create-alias", "--region", region, "--alias-name", alias, "--target-key-id", key_id) == ""

        meta = kms_json("describe-key", "--key-id", alias, region=region)["KeyMetadata"]
        assert meta["KeyId"] == key_id
        assert meta["Arn"] == f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"
        assert meta["AWSAccountId"] == ACCOUNT_ID
        assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
        assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
        assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
        assert meta["KeyManager"] == "CUSTOMER"
        assert meta["Description"] == f"KMS key for S3 multi-region replication {role}"

        aliases = kms_json("list-aliases", region=region)["Aliases"]
        mine = [a for a in aliases if a["AliasName"] == alias]
        assert len(mine) == 1
        assert mine[0]["TargetKeyId"] == key_id
        assert mine[0]["AliasArn"] == f"arn:aws:kms:{region}:{ACCOUNT_ID}:{alias}"
        by_key = kms_json("list-aliases", "--key-id", key_id, region=region)["Aliases"]
        assert [a["AliasName"] for a in by_key] == [alias]

        listed = kms_json("list-keys", region=region)["Keys"]
        assert {"KeyId": key_id, "KeyArn": meta["Arn"]} in listed


def test_encrypt_decrypt_round_trip_with_fileb(cli, cli_ok, key, tmp_path):
    plain = tmp_path / "plain.bin"
    plain.write_bytes(bytes(range(256)) * 4)
    blob_b64 = cli_ok(
        "kms", "encrypt", "--key-id", key, "--plaintext", f"fileb://{plain}",
        "--encryption-context", "purpose=test,team=storage",
        "--query", "CiphertextBlob", "--output", "text",
    ).strip()
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(blob_b64))

    out = cli_ok(
        "kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}",
        "--encryption-context", "team=storage,purpose=test", "--output", "json",
    )
    body = json.loads(out)
    assert base64.b64decode(body["Plaintext"]) == plain.read_bytes()
    assert body["KeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}"
    assert body["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"

    # The encryption context is bound to the ciphertext.
    code, _, err = cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert code in SERVICE_ERROR_EXIT
    assert error_line("InvalidCiphertextException", "Decrypt") in err
    code, _, err = cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "purpose=other,team=storage")
    assert "(InvalidCiphertextException)" in err

    # A tampered blob does not decrypt.
    raw = bytearray(blob.read_bytes())
    raw[-1] ^= 1
    blob.write_bytes(bytes(raw))
    err = kms_error(cli, "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "purpose=test,team=storage")
    assert "(InvalidCiphertextException)" in err


def test_generate_data_key(cli_ok, kms_json, key, tmp_path):
    dk = kms_json("generate-data-key", "--key-id", key, "--key-spec", "AES_256")
    assert dk["KeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}"
    plaintext = base64.b64decode(dk["Plaintext"])
    assert len(plaintext) == 32
    blob = tmp_path / "dk.bin"
    blob.write_bytes(base64.b64decode(dk["CiphertextBlob"]))
    dec = kms_json("decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert base64.b64decode(dec["Plaintext"]) == plaintext

    assert len(base64.b64decode(kms_json("generate-data-key", "--key-id", key, "--number-of-bytes", "64")["Plaintext"])) == 64
    without = kms_json("generate-data-key-without-plaintext", "--key-id", key, "--key-spec", "AES_128")
    assert "Plaintext" not in without
    blob.write_bytes(base64.b64decode(without["CiphertextBlob"]))
    assert len(base64.b64decode(kms_json("decrypt", "--ciphertext-blob", f"fileb://{blob}")["Plaintext"])) == 16


def test_disabled_key_refuses_decrypt(cli, cli_ok, kms_json, key, tmp_path):
    plain = tmp_path / "p"
    plain.write_bytes(b"disabled soon")
    blob = tmp_path / "b"
    blob.write_bytes(base64.b64decode(cli_ok(
        "kms", "encrypt", "--key-id", key, "--plaintext", f"fileb://{plain}", "--query", "CiphertextBlob", "--output", "text",
    )))
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}"
    assert cli_ok("kms", "disable-key", "--key-id", key) == ""
    meta = kms_json("describe-key", "--key-id", key)["KeyMetadata"]
    assert meta["KeyState"] == "Disabled" and meta["Enabled"] is False

    err = kms_error(cli, "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert error_line("DisabledException", "Decrypt", f"{arn} is disabled.") in err
    err = kms_error(cli, "generate-data-key", "--key-id", key, "--key-spec", "AES_256")
    assert error_line("DisabledException", "GenerateDataKey", f"{arn} is disabled.") in err

    cli_ok("kms", "enable-key", "--key-id", key)
    dec = kms_json("decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert base64.b64decode(dec["Plaintext"]) == b"disabled soon"


def test_schedule_and_cancel_key_deletion(cli, cli_ok, kms_json, key):
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}"
    err = kms_error(cli, "schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "5")
    assert "(ValidationException)" in err

    before = time.time()
    out = kms_json("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7")
    assert out["KeyId"] == arn
    assert out["KeyState"] == "PendingDeletion"
    assert out["PendingWindowInDays"] == 7
    assert abs(out["DeletionDate"] - (before + 7 * 86400)) < 120

    meta = kms_json("describe-key", "--key-id", key)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert abs(meta["DeletionDate"] - out["DeletionDate"]) < 1
    err = kms_error(cli, "generate-data-key", "--key-id", key, "--key-spec", "AES_256")
    assert error_line("KMSInvalidStateException", "GenerateDataKey", f"{arn} is pending deletion.") in err
    err = kms_error(cli, "schedule-key-deletion", "--key-id", key)
    assert "(KMSInvalidStateException)" in err

    assert kms_json("cancel-key-deletion", "--key-id", key) == {"KeyId": arn}
    meta = kms_json("describe-key", "--key-id", key)["KeyMetadata"]
    assert meta["KeyState"] == "Disabled"
    assert "DeletionDate" not in meta
    err = kms_error(cli, "cancel-key-deletion", "--key-id", key)
    assert "(KMSInvalidStateException)" in err


def test_keys_are_invisible_in_other_regions(cli, key):
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}"
    err = kms_error(cli, "describe-key", "--key-id", key, region="us-west-2")
    assert error_line("NotFoundException", "DescribeKey", f"Key 'arn:aws:kms:us-west-2:{ACCOUNT_ID}:key/{key}' does not exist") in err
    err = kms_error(cli, "describe-key", "--key-id", arn, region="eu-west-1")
    assert error_line("NotFoundException", "DescribeKey", "Invalid arn us-east-1") in err
    err = kms_error(cli, "describe-key", "--key-id", "alias/does-not-exist-" + suffix(), region="us-west-2")
    assert "(NotFoundException)" in err and "is not found." in err


def test_get_and_put_key_policy(cli, cli_ok, kms_json, key):
    got = cli_ok("kms", "get-key-policy", "--key-id", key, "--policy-name", "default", "--query", "Policy", "--output", "text")
    assert json.loads(got) == json.loads(seed_policy())

    new_policy = json.dumps({
        "Version": "2012-10-17",
        "Id": "key-consolepolicy-3",
        "Statement": [{
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*",
        }],
    })
    assert cli_ok("kms", "put-key-policy", "--key-id", key, "--policy-name", "default", "--policy", new_policy) == ""
    assert kms_json("get-key-policy", "--key-id", key, "--policy-name", "default")["Policy"] == new_policy

    err = kms_error(cli, "put-key-policy", "--key-id", key, "--policy-name", "default", "--policy", "{not json")
    assert "(MalformedPolicyDocumentException)" in err

    # A policy that would leave nobody able to change it again: the lockout safety check.
    s3_only = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}],
    })
    err = kms_error(cli, "put-key-policy", "--key-id", key, "--policy-name", "default", "--policy", s3_only)
    assert error_line(
        "MalformedPolicyDocumentException", "PutKeyPolicy",
        "The new key policy will not allow you to update the key policy in the future.",
    ) in err
    cli_ok("kms", "put-key-policy", "--key-id", key, "--policy-name", "default", "--policy", s3_only,
           "--bypass-policy-lockout-safety-check")
    # Locked out indeed: even the account root may no longer read it.
    err = kms_error(cli, "get-key-policy", "--key-id", key, "--policy-name", "default")
    assert "(AccessDeniedException)" in err
    assert f"is not authorized to perform: kms:GetKeyPolicy on resource: arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}" in err


def test_default_key_policy(kms_json):
    meta = kms_json("create-key", "--description", "no policy given")["KeyMetadata"]
    policy = json.loads(kms_json("get-key-policy", "--key-id", meta["KeyId"], "--policy-name", "default")["Policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*",
        }],
    }


def test_alias_rules(cli, cli_ok, kms_json, key):
    err = kms_error(cli, "create-alias", "--alias-name", "alias/aws/mine", "--target-key-id", key)
    assert "(NotAuthorizedException)" in err
    err = kms_error(cli, "create-alias", "--alias-name", "no-prefix", "--target-key-id", key)
    assert '(ValidationException)' in err and 'Alias must start with the prefix "alias/"' in err
    name = f"alias/dup-{suffix()}"
    cli_ok("kms", "create-alias", "--alias-name", name, "--target-key-id", key)
    err = kms_error(cli, "create-alias", "--alias-name", name, "--target-key-id", key)
    assert error_line("AlreadyExistsException", "CreateAlias", f"An alias with the name arn:aws:kms:us-east-1:{ACCOUNT_ID}:{name} already exists") in err
    # Alias names are per region: the same name is free in another region.
    other = cli_ok("kms", "create-key", "--region", "us-west-2", "--query", "KeyMetadata.KeyId", "--output", "text").strip()
    cli_ok("kms", "create-alias", "--region", "us-west-2", "--alias-name", name, "--target-key-id", other)

    second = kms_json("create-key")["KeyMetadata"]["KeyId"]
    cli_ok("kms", "update-alias", "--alias-name", name, "--target-key-id", second)
    assert kms_json("describe-key", "--key-id", name)["KeyMetadata"]["KeyId"] == second
    cli_ok("kms", "delete-alias", "--alias-name", name)
    err = kms_error(cli, "describe-key", "--key-id", name)
    assert error_line("NotFoundException", "DescribeKey", f"Alias arn:aws:kms:us-east-1:{ACCOUNT_ID}:{name} is not found.") in err


def test_aws_managed_s3_key(kms_json):
    meta = kms_json("describe-key", "--key-id", "alias/aws/s3", region="eu-west-1")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert meta["Arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/")
    again = kms_json("describe-key", "--key-id", "alias/aws/s3", region="eu-west-1")["KeyMetadata"]
    assert again["KeyId"] == meta["KeyId"]
    aliases = {a["AliasName"]: a for a in kms_json("list-aliases", region="eu-west-1")["Aliases"]}
    assert aliases["alias/aws/s3"]["TargetKeyId"] == meta["KeyId"]
    assert kms_json("get-key-rotation-status", "--key-id", meta["KeyId"], region="eu-west-1")["KeyRotationEnabled"] is True


def test_boto3_error_shapes(kms_client):
    kms = kms_client("us-west-2")
    key_id = kms.create_key(Description="boto3")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"abc", EncryptionContext={"k": "v"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"abc"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert e.value.response["Error"]["Code"] == "InvalidCiphertextException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(kms.exceptions.NotFoundException) as nf:
        kms.describe_key(KeyId="fake-key-id")
    assert nf.value.response["Error"]["Message"] == "Invalid keyId 'fake-key-id'"
    with pytest.raises(ClientError) as v:
        kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    assert v.value.response["Error"]["Code"] == "UnsupportedOperationException"
    re = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"k": "v"}, DestinationKeyId=key_id)
    assert kms.decrypt(CiphertextBlob=re["CiphertextBlob"])["Plaintext"] == b"abc"
    # Pagination through the SDK's paginator (Limit/Marker).
    for _ in range(3):
        kms.create_key()
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) >= 2
    ids = [k["KeyId"] for p in pages for k in p["Keys"]]
    assert key_id in ids and len(ids) == len(set(ids))


def _iam_user(server, name):
    """Creates an IAM user with an access key through the server's IAM; None if IAM is not served."""
    iam = boto3.session.Session().client(
        "iam", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )
    try:
        iam.create_user(UserName=name)
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] in (404, 501):
            return None, None
        raise
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return iam, k


def test_access_denied_for_user_without_permission(server, kms_client, key):
    name = f"kms-nobody-{suffix()}"
    iam, access_key = _iam_user(server, name)
    if iam is None:
        pytest.skip("IAM is not served by this build")
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key}"
    env = cli_env(server, "us-east-1")
    env.update(AWS_ACCESS_KEY_ID=access_key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=access_key["SecretAccessKey"])

    def as_user(*args):
        return subprocess.run(["aws", "kms", *args], env=env, capture_output=True, text=True, timeout=120)

    deadline = time.time() + 10
    r = as_user("describe-key", "--key-id", key)
    while "InvalidClientTokenId" in r.stderr or "UnrecognizedClient" in r.stderr:
        assert time.time() < deadline, r.stderr
        time.sleep(0.2)
        r = as_user("describe-key", "--key-id", key)
    assert r.returncode in SERVICE_ERROR_EXIT
    # The key policy delegates to the account; it is the user's IAM permissions that are missing.
    assert error_line(
        "AccessDeniedException", "DescribeKey",
        f"User: {user_arn} is not authorized to perform: kms:DescribeKey on resource: {key_arn} "
        f"because no identity-based policy allows the kms:DescribeKey action",
    ) in r.stderr
    r = as_user("create-key")
    assert "(AccessDeniedException)" in r.stderr and "kms:CreateKey" in r.stderr

    # An IAM policy allowing it is enough, since the key policy delegates to the account.
    iam.put_user_policy(UserName=name, PolicyName="kms-describe", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:DescribeKey"], "Resource": key_arn}],
    }))
    r = as_user("describe-key", "--key-id", key, "--output", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["KeyMetadata"]["KeyId"] == key
    r = as_user("disable-key", "--key-id", key)
    assert "(AccessDeniedException)" in r.stderr and "kms:DisableKey" in r.stderr

    # The same user through the key policy alone, with no IAM permission for it.
    user_policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "user", "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
        ],
    })
    kms_client().put_key_policy(KeyId=key, PolicyName="default", Policy=user_policy)
    user = kms_client(access_key=access_key["AccessKeyId"], secret_key=access_key["SecretAccessKey"])
    blob = user.encrypt(KeyId=key, Plaintext=b"mine")["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"mine"
    with pytest.raises(ClientError) as e:
        user.generate_data_key(KeyId=key, KeySpec="AES_256")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
