"""Server-side encryption at rest, driven by boto3 and the aws CLI as against AWS: SSE-S3 (the
default of every bucket), SSE-KMS (with keys of the server's own KMS, BucketKeyEnabled, bucket
default encryption with an alias as in seed 000 step 2), DSSE-KMS, SSE-C (over TLS only, and only
where the bucket does not block it, as on AWS since April 2026), copies that change encryption,
ranged and partNumber reads over cipher-chunk boundaries, multipart uploads (the aws CLI's 20 MiB
`cp --sse aws:kms`), and replication of encrypted objects, within one process and between sites.

Two tests look at the bytes on disk: no 32-byte window of a plaintext may appear in any file of the
data directory (blobs, metadata.db and its WAL), and a flipped byte in a stored blob must fail the
read (a 500 before any byte, or a cut connection), never return other bytes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY, MiB, new_bucket_name
from replication_util import (
    ServerProc,
    cleanup_base_dir,
    config,
    create_bucket,
    new_base_dir,
    repl_status,
    stays,
    v2_rule,
    wait_status,
    wait_until,
)

KiB = 1024
CHUNK = 65536  # crypto/object-cipher.ts CIPHER_CHUNK: ranges are tested across its boundaries


def err(e: ClientError) -> tuple[int, str, str]:
    return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code", ""), e.response["Error"].get("Message", "")


def kms_client(url: str, region: str = "us-east-1", verify=None):
    return boto3.session.Session().client(
        "kms", endpoint_url=url, region_name=region, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        verify=verify, config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def s3_client(url: str, region: str = "us-east-1", verify=None):
    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name=region, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        verify=verify,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"}),
    )


def make_key(kms, alias: str | None = None) -> dict:
    meta = kms.create_key(Description="sse test key")["KeyMetadata"]
    if alias:
        kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    return meta


@pytest.fixture(scope="module")
def kms(server):
    return kms_client(server.url)


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("sse")
    s3.create_bucket(Bucket=name)
    return name


def customer_key() -> str:
    """A 256-bit SSE-C key botocore accepts everywhere (it takes a str for GetObject's key)."""
    return os.urandom(16).hex()


def key_md5(key: str) -> str:
    return base64.b64encode(hashlib.md5(key.encode()).digest()).decode()


def sse_of(r: dict) -> tuple:
    return r.get("ServerSideEncryption"), r.get("SSEKMSKeyId"), r.get("BucketKeyEnabled")


# ----------------------------------------------------------------------------------------------
# SSE-S3


def test_every_object_is_sse_s3_by_default(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == '"%s"' % hashlib.md5(b"hello").hexdigest()
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"hello"
    assert sse_of(got) == ("AES256", None, None)
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"


def test_get_bucket_encryption_without_configuration_is_sse_s3(s3, bucket):
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rules[0]["BucketKeyEnabled"] is False
    # AWS since April 2026: new buckets refuse SSE-C writes until their owner unblocks it.
    assert rules[0]["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}


def test_explicit_sse_s3(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in r


def test_sizes_are_the_plaintext_sizes(s3, bucket):
    body = os.urandom(200 * KiB + 7)
    s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == len(body)
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Size"] == len(body)
    attrs = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize", "ETag", "Checksum"])
    assert attrs["ObjectSize"] == len(body)
    assert attrs["ETag"] == hashlib.md5(body).hexdigest()
    assert attrs["Checksum"]["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()


# ----------------------------------------------------------------------------------------------
# SSE-KMS


def test_sse_kms_with_the_aws_managed_key(s3, kms, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"secret", ServerSideEncryption="aws:kms")
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert r["ServerSideEncryption"] == "aws:kms"
    assert r["SSEKMSKeyId"] == managed["Arn"]
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"secret"
    assert sse_of(got) == ("aws:kms", managed["Arn"], None)


@pytest.mark.parametrize("ref", ["alias", "alias-arn", "key-id", "key-arn"])
def test_sse_kms_with_a_customer_key(s3, kms, bucket, ref):
    alias = f"alias/{new_bucket_name('k')}"
    key = make_key(kms, alias)
    key_ref = {"alias": alias, "alias-arn": key["Arn"].split(":key/")[0] + ":" + alias, "key-id": key["KeyId"], "key-arn": key["Arn"]}[ref]
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"payload", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_ref)
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    h = s3.head_object(Bucket=bucket, Key="k")
    assert sse_of(h) == ("aws:kms", key["Arn"], None)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"payload"


def test_bucket_key_enabled_on_put(s3, kms, bucket):
    key = make_key(kms)
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"b", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"], BucketKeyEnabled=True)
    assert r["BucketKeyEnabled"] is True
    assert s3.head_object(Bucket=bucket, Key="k")["BucketKeyEnabled"] is True
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"b"


def test_dsse_kms(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"d", ServerSideEncryption="aws:kms:dsse")
    assert r["ServerSideEncryption"] == "aws:kms:dsse"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"d"


def test_encryption_context_header(s3, bucket):
    ctx = base64.b64encode(json.dumps({"project": "x"}).encode()).decode()
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"c", ServerSideEncryption="aws:kms", SSEKMSEncryptionContext=ctx)
    used = json.loads(base64.b64decode(r["SSEKMSEncryptionContext"]))
    assert used == {"project": "x", "aws:s3:arn": f"arn:aws:s3:::{bucket}/k"}
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"c"


def test_write_errors(s3, bucket):
    cases = [
        (dict(ServerSideEncryption="AES128"), (400, "InvalidArgument", "The encryption method specified is not supported")),
        (dict(SSEKMSKeyId="alias/whatever"), (400, "InvalidArgument", "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")),
        (dict(ServerSideEncryption="AES256", SSEKMSKeyId="alias/whatever"), (400, "InvalidArgument", "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")),
        (dict(ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/does-not-exist"), (400, "KMS.NotFoundException", None)),
        (dict(ServerSideEncryption="aws:kms", SSEKMSKeyId="arn:aws:kms:us-east-1:000000000000:key/0b7c4d2e-8a4f-4a57-9d7e-3c2a1b0f9e8d"), (400, "KMS.NotFoundException", None)),
        (dict(ServerSideEncryption="aws:kms", SSEKMSKeyId="arn:aws:kms:us-west-2:000000000000:alias/aws/s3"), (400, "KMS.NotFoundException", None)),
    ]
    for kw, (status, code, message) in cases:
        with pytest.raises(ClientError) as ei:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", **kw)
        got = err(ei.value)
        assert got[:2] == (status, code), (kw, got)
        if message:
            assert got[2] == message, (kw, got)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_disabled_key_refuses_writes_and_reads_but_not_heads(s3, kms, bucket):
    key = make_key(kms)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    kms.disable_key(KeyId=key["KeyId"])
    try:
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=bucket, Key="k")
        assert err(ei.value)[:2] == (400, "KMS.DisabledException")
        # HEAD does not decrypt: no KMS call, as on AWS.
        assert s3.head_object(Bucket=bucket, Key="k")["SSEKMSKeyId"] == key["Arn"]
        with pytest.raises(ClientError) as ei:
            s3.put_object(Bucket=bucket, Key="k2", Body=b"v", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
        assert err(ei.value)[:2] == (400, "KMS.DisabledException")
    finally:
        kms.enable_key(KeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_read_with_sse_header_is_refused(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    # boto3 has no such GetObject parameter: add the header the way a hand-written client would.
    def add(request, **_):
        request.headers["x-amz-server-side-encryption"] = "AES256"
    s3.meta.events.register("before-sign.s3.GetObject", add)
    try:
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=bucket, Key="k")
        assert err(ei.value)[:2] == (400, "InvalidArgument")
    finally:
        s3.meta.events.unregister("before-sign.s3.GetObject", add)


# ----------------------------------------------------------------------------------------------
# bucket default encryption


def test_bucket_default_kms_alias_seed_000_step_2(s3, kms, cli_ok, bucket, tmp_path):
    alias = f"alias/{new_bucket_name('seed')}"
    key = make_key(kms, alias)
    cfg = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}, "BucketKeyEnabled": True}]}
    cli_ok("s3api", "put-bucket-encryption", "--bucket", bucket, "--server-side-encryption-configuration", json.dumps(cfg))
    got = json.loads(cli_ok("s3api", "get-bucket-encryption", "--bucket", bucket))["ServerSideEncryptionConfiguration"]["Rules"][0]
    # AWS keeps the key as given (here the alias).
    assert got["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": alias}
    assert got["BucketKeyEnabled"] is True
    f = tmp_path / "f.txt"
    f.write_bytes(b"default-encrypted")
    cli_ok("s3", "cp", str(f), f"s3://{bucket}/f.txt")
    h = json.loads(cli_ok("s3api", "head-object", "--bucket", bucket, "--key", "f.txt"))
    assert (h["ServerSideEncryption"], h["SSEKMSKeyId"], h["BucketKeyEnabled"]) == ("aws:kms", key["Arn"], True)
    # A request's own choice wins over the default.
    assert s3.put_object(Bucket=bucket, Key="s3", Body=b"x", ServerSideEncryption="AES256")["ServerSideEncryption"] == "AES256"
    # DeleteBucketEncryption: back to SSE-S3.
    cli_ok("s3api", "delete-bucket-encryption", "--bucket", bucket)
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert s3.put_object(Bucket=bucket, Key="after", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="f.txt")["Body"].read() == b"default-encrypted"


def test_bucket_default_kms_with_a_missing_key_fails_writes(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/not-there"}}]})
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert err(ei.value)[:2] == (400, "KMS.NotFoundException")


def test_put_bucket_encryption_validation(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "alias/x"}}]})
    assert err(ei.value) == (400, "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES128"}}]})
    assert err(ei.value)[:2] == (400, "MalformedXML")
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": []})
    assert err(ei.value)[:2] == (400, "MalformedXML")
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_encryption(Bucket=new_bucket_name("missing"))
    assert err(ei.value)[:2] == (404, "NoSuchBucket")


def test_put_bucket_encryption_requires_an_integrity_header(s3, bucket):
    """Like the other bucket configuration PUTs: Content-MD5 (or a checksum) is required."""
    def strip(request, **_):
        for h in list(request.headers.keys()):
            if h.lower() == "content-md5" or h.lower().startswith("x-amz-checksum-") or h.lower() == "x-amz-sdk-checksum-algorithm":
                del request.headers[h]
    s3.meta.events.register("before-sign.s3.PutBucketEncryption", strip)
    try:
        with pytest.raises(ClientError) as ei:
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        assert err(ei.value)[:2] == (400, "InvalidRequest")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutBucketEncryption", strip)


# ----------------------------------------------------------------------------------------------
# ranges, multipart, copies


RANGES = [
    (0, 0), (CHUNK - 1, CHUNK), (CHUNK - 10, 2 * CHUNK + 10), (CHUNK, 2 * CHUNK - 1), (5, 3 * CHUNK + 17),
]


@pytest.mark.parametrize("sse", [{}, {"ServerSideEncryption": "aws:kms"}])
def test_ranged_gets_across_cipher_chunks(s3, bucket, sse):
    body = os.urandom(3 * CHUNK + 1000)
    s3.put_object(Bucket=bucket, Key="k", Body=body, **sse)
    for a, b in RANGES:
        got = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={a}-{b}")
        assert got["ContentRange"] == f"bytes {a}-{b}/{len(body)}"
        assert got["Body"].read() == body[a:b + 1], (a, b)
    assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=-1500")["Body"].read() == body[-1500:]
    assert s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={len(body) - 1}-")["Body"].read() == body[-1:]
    # Inline-sized bodies decrypt whole but answer only the range.
    small = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="small", Body=small, **sse)
    assert s3.get_object(Bucket=bucket, Key="small", Range="bytes=100-199")["Body"].read() == small[100:200]


def test_multipart_sse_kms_ranges_and_part_numbers(s3, kms, bucket):
    key = make_key(kms)
    parts = [os.urandom(5 * MiB + 123), os.urandom(5 * MiB), os.urandom(70 * KiB)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    assert (up["ServerSideEncryption"], up["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=i, Body=p)
        assert r["ETag"] == '"%s"' % hashlib.md5(p).hexdigest()
        assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    c = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": done})
    assert (c["ServerSideEncryption"], c["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    body = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == body
    edge = len(parts[0])
    for a, b in [(edge - 5, edge + 5), (edge - CHUNK, edge + CHUNK), (0, len(body) - 1), (edge + len(parts[1]) - 1, len(body) - 1)]:
        assert s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={a}-{b}")["Body"].read() == body[a:b + 1], (a, b)
    for n, p in enumerate(parts, 1):
        got = s3.get_object(Bucket=bucket, Key="mp", PartNumber=n)
        assert got["Body"].read() == p and got["PartsCount"] == 3
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == len(body)


def test_aws_cli_cp_20_mib_with_sse_kms(cli_ok, s3, kms, bucket, tmp_path):
    key = make_key(kms, f"alias/{new_bucket_name('cp')}")
    src = tmp_path / "big.bin"
    data = os.urandom(20 * MiB)
    src.write_bytes(data)
    cli_ok("s3", "cp", str(src), f"s3://{bucket}/big.bin", "--sse", "aws:kms", "--sse-kms-key-id", key["Arn"])
    h = s3.head_object(Bucket=bucket, Key="big.bin")
    assert (h["ServerSideEncryption"], h["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    assert h["ContentLength"] == len(data) and h["ETag"].endswith('-3"')
    out = tmp_path / "back.bin"
    cli_ok("s3", "cp", f"s3://{bucket}/big.bin", str(out))
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_copy_changes_encryption(s3, kms, bucket):
    key = make_key(kms)
    body = os.urandom(150 * KiB)
    s3.put_object(Bucket=bucket, Key="src", Body=body)
    r = s3.copy_object(Bucket=bucket, Key="kms", CopySource={"Bucket": bucket, "Key": "src"}, ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert s3.get_object(Bucket=bucket, Key="kms")["Body"].read() == body
    # Back to SSE-S3 without saying so: the copy takes the bucket's default, not the source's.
    r = s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "kms"})
    assert r["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in r
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == body
    # In place: changing the encryption is a change.
    r = s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}, ServerSideEncryption="aws:kms")
    assert r["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == body
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert err(ei.value)[:2] == (400, "InvalidRequest")


def test_upload_part_copy_from_encrypted_sources(s3, kms, bucket):
    key = make_key(kms)
    a = os.urandom(5 * MiB + 10)
    b = os.urandom(3 * CHUNK + 5)
    s3.put_object(Bucket=bucket, Key="a", Body=a, ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    s3.put_object(Bucket=bucket, Key="b", Body=b)
    up = s3.create_multipart_upload(Bucket=bucket, Key="joined")
    p1 = s3.upload_part_copy(Bucket=bucket, Key="joined", UploadId=up["UploadId"], PartNumber=1, CopySource={"Bucket": bucket, "Key": "a"})
    p2 = s3.upload_part_copy(Bucket=bucket, Key="joined", UploadId=up["UploadId"], PartNumber=2, CopySource={"Bucket": bucket, "Key": "b"},
                             CopySourceRange=f"bytes={CHUNK - 3}-{2 * CHUNK + 3}")
    s3.complete_multipart_upload(Bucket=bucket, Key="joined", UploadId=up["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="joined")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == a + b[CHUNK - 3:2 * CHUNK + 4]


# ----------------------------------------------------------------------------------------------
# SSE-C


def test_sse_c_over_plain_http_is_refused(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=customer_key())
    assert err(ei.value) == (400, "InvalidRequest", "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")


@pytest.fixture(scope="module")
def tls_server():
    """A server of its own with `serve --tls` (SSE-C travels only over TLS); clients trust its CA."""
    from conftest import _build

    _build()
    base = new_base_dir("xregion-sse-tls-")
    proc = ServerProc(base, "tls", args=["--tls"], ensure_roles=False)
    try:
        proc.start()
        ca = str(proc.data_dir / "tls" / "ca.pem")
        yield proc, s3_client(proc.url, verify=ca)
    finally:
        proc.stop()
        cleanup_base_dir(base)


def allow_sse_c(s3c, bucket):
    s3c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"BlockedEncryptionTypes": {"EncryptionType": ["NONE"]}}]})


def test_sse_c_blocked_until_the_bucket_allows_it(tls_server):
    _, s3c = tls_server
    b = new_bucket_name("ssec")
    s3c.create_bucket(Bucket=b)
    with pytest.raises(ClientError) as ei:
        s3c.put_object(Bucket=b, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=customer_key())
    assert err(ei.value)[:2] == (403, "AccessDenied")
    assert "blocked upload requests that specify Server Side Encryption with Customer provided keys" in err(ei.value)[2]
    allow_sse_c(s3c, b)
    rule = s3c.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["NONE"]}
    # The default encryption is left as it was.
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    s3c.put_object(Bucket=b, Key="k", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=customer_key())


def test_sse_c_round_trip(tls_server):
    _, s3c = tls_server
    b = new_bucket_name("ssec")
    s3c.create_bucket(Bucket=b)
    allow_sse_c(s3c, b)
    key, other = customer_key(), customer_key()
    md5 = key_md5(key)
    body = os.urandom(2 * CHUNK + 99)
    put = s3c.put_object(Bucket=b, Key="k", Body=body, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", md5)
    assert "ServerSideEncryption" not in put
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3c.get_object(Bucket=b, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == body and got["SSECustomerKeyMD5"] == md5
    r = s3c.get_object(Bucket=b, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=key, Range=f"bytes={CHUNK - 1}-{CHUNK + 1}")
    assert r["Body"].read() == body[CHUNK - 1:CHUNK + 2]
    h = s3c.head_object(Bucket=b, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert h["ContentLength"] == len(body) and h["SSECustomerAlgorithm"] == "AES256"

    with pytest.raises(ClientError) as ei:
        s3c.get_object(Bucket=b, Key="k")
    assert err(ei.value) == (400, "InvalidRequest", "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
    with pytest.raises(ClientError) as ei:
        s3c.head_object(Bucket=b, Key="k")
    assert err(ei.value)[0] == 400
    with pytest.raises(ClientError) as ei:
        s3c.get_object(Bucket=b, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=other)
    assert err(ei.value)[:2] == (403, "AccessDenied")
    with pytest.raises(ClientError) as ei:
        s3c.head_object(Bucket=b, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=other)
    assert err(ei.value)[0] == 403
    with pytest.raises(ClientError) as ei:
        s3c.get_object(Bucket=b, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=key, SSECustomerKeyMD5=key_md5(other))
    assert err(ei.value) == (400, "InvalidArgument", "The calculated MD5 hash of the key did not match the hash that was provided.")
    with pytest.raises(ClientError) as ei:
        s3c.put_object(Bucket=b, Key="short", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(8).hex())
    assert err(ei.value) == (400, "InvalidArgument", "The secret key was invalid for the specified algorithm.")
    with pytest.raises(ClientError) as ei:
        s3c.put_object(Bucket=b, Key="both", Body=b"x", ServerSideEncryption="AES256", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert err(ei.value)[:2] == (400, "InvalidArgument")
    # Other objects take no SSE-C key.
    s3c.put_object(Bucket=b, Key="plain", Body=b"p")
    with pytest.raises(ClientError) as ei:
        s3c.get_object(Bucket=b, Key="plain", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert err(ei.value)[:2] == (400, "InvalidRequest")

    # Copies: the source's key in the copy-source headers; the copy encrypted as asked.
    with pytest.raises(ClientError) as ei:
        s3c.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k"})
    assert err(ei.value)[:2] == (400, "InvalidRequest")
    r = s3c.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k"},
                        CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key)
    assert r["ServerSideEncryption"] == "AES256"
    assert s3c.get_object(Bucket=b, Key="copy")["Body"].read() == body
    r = s3c.copy_object(Bucket=b, Key="rekeyed", CopySource={"Bucket": b, "Key": "k"},
                        CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key,
                        SSECustomerAlgorithm="AES256", SSECustomerKey=other)
    assert r["SSECustomerKeyMD5"] == key_md5(other)
    assert s3c.get_object(Bucket=b, Key="rekeyed", SSECustomerAlgorithm="AES256", SSECustomerKey=other)["Body"].read() == body


def test_sse_c_multipart(tls_server):
    _, s3c = tls_server
    b = new_bucket_name("ssec")
    s3c.create_bucket(Bucket=b)
    allow_sse_c(s3c, b)
    key = customer_key()
    sse = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    up = s3c.create_multipart_upload(Bucket=b, Key="mp", **sse)
    with pytest.raises(ClientError) as ei:
        s3c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=parts[0])
    assert err(ei.value)[:2] == (400, "InvalidRequest")
    with pytest.raises(ClientError) as ei:
        s3c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=parts[0], SSECustomerAlgorithm="AES256", SSECustomerKey=customer_key())
    assert err(ei.value) == (400, "InvalidRequest", "The provided encryption parameters did not match the ones used originally.")
    etags = [s3c.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=i, Body=p, **sse)["ETag"] for i, p in enumerate(parts, 1)]
    s3c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})
    assert s3c.get_object(Bucket=b, Key="mp", **sse)["Body"].read() == b"".join(parts)
    assert s3c.get_object(Bucket=b, Key="mp", PartNumber=2, **sse)["Body"].read() == parts[1]


# ----------------------------------------------------------------------------------------------
# the bytes on disk


@pytest.fixture(scope="module")
def own_server():
    """A server with a data directory of its own: the disk tests read every file of it."""
    from conftest import _build

    _build()
    base = new_base_dir("xregion-sse-disk-")
    proc = ServerProc(base, "disk", ensure_roles=False)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        cleanup_base_dir(base)


def windows(data: bytes, n: int = 32) -> set[bytes]:
    return {data[i:i + n] for i in range(0, len(data) - n + 1)}


def leaks(root: Path, plain: set[bytes], n: int = 32) -> list[str]:
    found = []
    for f in sorted(root.rglob("*")):
        if not f.is_file():
            continue
        data = f.read_bytes()
        for i in range(0, len(data) - n + 1):
            if data[i:i + n] in plain:
                found.append(f"{f.relative_to(root)} at {i}")
                break
    return found


def test_no_plaintext_on_disk(own_server):
    s3c = s3_client(own_server.url)
    b = new_bucket_name("disk")
    s3c.create_bucket(Bucket=b)
    # Distinctive random plaintexts: inline-sized (< 64 KiB stored) and blob-sized, SSE-S3 and SSE-KMS.
    bodies = {
        "inline-s3": (os.urandom(20 * KiB), {}),
        "inline-kms": (os.urandom(20 * KiB), {"ServerSideEncryption": "aws:kms"}),
        "blob-s3": (os.urandom(300 * KiB), {}),
        "blob-kms": (os.urandom(300 * KiB), {"ServerSideEncryption": "aws:kms"}),
    }
    for k, (body, sse) in bodies.items():
        s3c.put_object(Bucket=b, Key=k, Body=body, **sse)
        assert s3c.get_object(Bucket=b, Key=k)["Body"].read() == body
    plain: set[bytes] = set()
    for body, _ in bodies.values():
        plain |= windows(body)
    # Every file: blobs, metadata.db and its WAL, kms.db ...
    assert leaks(own_server.data_dir, plain) == []
    # ... and after a clean stop has checkpointed the WAL into the database file.
    own_server.stop()
    try:
        assert leaks(own_server.data_dir, plain) == []
    finally:
        own_server.start()


def newest_blob(root: Path) -> Path:
    blobs = [p for p in (root / "us-east-1" / "blobs").rglob("*") if p.is_file() and len(p.name) == 32]
    return max(blobs, key=lambda p: p.stat().st_mtime_ns)


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        c = f.read(1)
        f.seek(offset)
        f.write(bytes([c[0] ^ 0x01]))


def test_tampered_blob_never_reads_back_as_data(own_server):
    s3c = s3_client(own_server.url)
    b = new_bucket_name("tamper")
    s3c.create_bucket(Bucket=b)
    body = os.urandom(4 * CHUNK)

    # A damaged first chunk: detected before any byte is sent, an InternalError.
    s3c.put_object(Bucket=b, Key="first", Body=body)
    flip(newest_blob(own_server.data_dir), 100)
    with pytest.raises(ClientError) as ei:
        s3c.get_object(Bucket=b, Key="first")["Body"].read()
    assert err(ei.value)[:2] == (500, "InternalError")

    # A damaged later chunk: the answer has started, the connection is cut; never the full length.
    s3c.put_object(Bucket=b, Key="later", Body=body)
    flip(newest_blob(own_server.data_dir), 2 * (CHUNK + 16) + 5)
    with pytest.raises(Exception) as ei:
        r = s3c.get_object(Bucket=b, Key="later")
        data = r["Body"].read()
        assert len(data) == len(body), "short body passed off as complete"
        raise AssertionError("a tampered object read back in full")
    assert "tampered object read back" not in str(ei.value)
    # Chunks before the damage still authenticate: a range that does not touch it reads fine.
    assert s3c.get_object(Bucket=b, Key="later", Range=f"bytes=0-{CHUNK - 1}")["Body"].read() == body[:CHUNK]
    # The server survives and serves other objects.
    s3c.put_object(Bucket=b, Key="ok", Body=b"fine")
    assert s3c.get_object(Bucket=b, Key="ok")["Body"].read() == b"fine"


# ----------------------------------------------------------------------------------------------
# replication of encrypted objects (spec §2.3 "Encryption")


@pytest.fixture(scope="module")
def repl(server, client_for):
    e, w = client_for("us-east-1"), client_for("us-west-2")
    src_key = make_key(kms_client(server.url, "us-east-1"))
    dst_key = make_key(kms_client(server.url, "us-west-2"))
    return e, w, src_key, dst_key


def kms_rule(dst: str, replica_key: str | None, opt_in: bool = True, **kw) -> dict:
    rule = v2_rule(dst, "enc", 1, **kw)
    if opt_in:
        rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    if replica_key is not None:
        rule["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": replica_key}
    return rule


def test_replication_re_encrypts_per_source_encryption(repl):
    e, w, src_key, dst_key = repl
    src = create_bucket(e, new_bucket_name("encsrc"), "us-east-1")
    dst = create_bucket(w, new_bucket_name("encdst"), "us-west-2")
    e.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(kms_rule(dst, dst_key["Arn"])))
    kms_body, s3_body = os.urandom(100 * KiB), os.urandom(10 * KiB)
    vk = e.put_object(Bucket=src, Key="kms", Body=kms_body, ServerSideEncryption="aws:kms", SSEKMSKeyId=src_key["Arn"])["VersionId"]
    vs = e.put_object(Bucket=src, Key="s3", Body=s3_body)["VersionId"]
    wait_status(e, src, "kms", vk, "COMPLETED", timeout=15)
    wait_status(e, src, "s3", vs, "COMPLETED", timeout=15)
    r = w.get_object(Bucket=dst, Key="kms", VersionId=vk)
    assert r["Body"].read() == kms_body
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"], r["ReplicationStatus"]) == ("aws:kms", dst_key["Arn"], "REPLICA")
    assert r["ETag"] == '"%s"' % hashlib.md5(kms_body).hexdigest()
    r = w.get_object(Bucket=dst, Key="s3", VersionId=vs)
    assert r["Body"].read() == s3_body and r["ServerSideEncryption"] == "AES256"


def test_replication_unencrypted_rules_follow_destination_default(repl, server):
    """SSE-S3 stays SSE-S3 even when the destination's default is SSE-KMS (the default is ignored)."""
    e, w, _, dst_key = repl
    src = create_bucket(e, new_bucket_name("encsrc"), "us-east-1")
    dst = create_bucket(w, new_bucket_name("encdst"), "us-west-2")
    w.put_bucket_encryption(Bucket=dst, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": dst_key["Arn"]}}]})
    e.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(kms_rule(dst, dst_key["Arn"])))
    v = e.put_object(Bucket=src, Key="s3", Body=b"stays sse-s3")["VersionId"]
    wait_status(e, src, "s3", v, "COMPLETED", timeout=15)
    assert w.head_object(Bucket=dst, Key="s3", VersionId=v)["ServerSideEncryption"] == "AES256"


def test_sse_kms_objects_need_the_rule_to_opt_in(repl, server):
    from replication_util import Admin

    e, w, src_key, dst_key = repl
    src = create_bucket(e, new_bucket_name("encsrc"), "us-east-1")
    dst = create_bucket(w, new_bucket_name("encdst"), "us-west-2")
    e.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(kms_rule(dst, None, opt_in=False)))
    vk = e.put_object(Bucket=src, Key="kms", Body=b"k", ServerSideEncryption="aws:kms", SSEKMSKeyId=src_key["Arn"])["VersionId"]
    vs = e.put_object(Bucket=src, Key="s3", Body=b"s")["VersionId"]
    wait_status(e, src, "s3", vs, "COMPLETED", timeout=15)
    stays(lambda: repl_status(e, src, "kms", vk) is None, 1.0, desc="SSE-KMS object not selected")
    st, doc, _ = Admin(server.url).get("explain", bucket=src, key="kms")
    if st == 200 and doc:
        assert doc["replicates"] is False
        assert "SSE-KMS encrypted and the rule does not opt in (SourceSelectionCriteria.SseKmsEncryptedObjects)" in json.dumps(doc)


def test_missing_or_disabled_replica_key_fails(repl, server):
    from replication_util import Admin

    e, w, src_key, _ = repl
    src = create_bucket(e, new_bucket_name("encsrc"), "us-east-1")
    dst = create_bucket(w, new_bucket_name("encdst"), "us-west-2")
    missing = "arn:aws:kms:us-west-2:000000000000:key/3f1d2c4b-5a69-4e7d-8c0b-1a2b3c4d5e6f"
    e.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(kms_rule(dst, missing)))
    v = e.put_object(Bucket=src, Key="kms", Body=b"k", ServerSideEncryption="aws:kms", SSEKMSKeyId=src_key["Arn"])["VersionId"]
    wait_status(e, src, "kms", v, "FAILED", timeout=15)
    st, doc, _ = Admin(server.url).get("status", bucket=src)
    if st == 200 and doc:
        reasons = [f["reason"] for f in doc.get("failed", []) if f.get("versionId") == v]
        assert reasons == ["DstKmsKeyNotFound"], doc

    kms_w = kms_client(server.url, "us-west-2")
    disabled = make_key(kms_w)
    kms_w.disable_key(KeyId=disabled["KeyId"])
    src2 = create_bucket(e, new_bucket_name("encsrc"), "us-east-1")
    e.put_bucket_replication(Bucket=src2, ReplicationConfiguration=config(kms_rule(dst, disabled["Arn"])))
    v2 = e.put_object(Bucket=src2, Key="kms", Body=b"k", ServerSideEncryption="aws:kms", SSEKMSKeyId=src_key["Arn"])["VersionId"]
    wait_status(e, src2, "kms", v2, "FAILED", timeout=15)
    st, doc, _ = Admin(server.url).get("status", bucket=src2)
    if st == 200 and doc:
        assert [f["reason"] for f in doc.get("failed", []) if f.get("versionId") == v2] == ["DstKmsKeyInvalidState"], doc


@pytest.fixture(scope="module")
def sites():
    """Site A (us-east-1) replicates to site B (eu-west-1). Both serve TLS (SSE-C travels only over
    TLS: A to write the objects, B to read the replicas back); A trusts B's development CA."""
    from conftest import _build
    from replication_util import ensure_replication_roles

    _build()
    base = new_base_dir("xregion-sse-sites-")
    b = ServerProc(base, "b", regions=["eu-west-1"], args=["--tls"], ensure_roles=False)
    a = ServerProc(base, "a", regions=["us-east-1"], args=["--tls"], ensure_roles=False,
                   sites=[{"name": "eu", "endpoint": "", "accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY}])
    saved = {k: os.environ.get(k) for k in ("NODE_EXTRA_CA_CERTS", "AWS_CA_BUNDLE")}
    try:
        b.start()
        a.sites[0]["endpoint"] = b.url
        os.environ["NODE_EXTRA_CA_CERTS"] = str(b.data_dir / "tls" / "ca.pem")
        a.start()
        bundle = base / "cas.pem"
        bundle.write_bytes((a.data_dir / "tls" / "ca.pem").read_bytes() + (b.data_dir / "tls" / "ca.pem").read_bytes())
        os.environ["AWS_CA_BUNDLE"] = str(bundle)
        ensure_replication_roles(a.url)
        ensure_replication_roles(b.url)
        for k, val in saved.items():
            if val is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = val
        ca = str(bundle)
        yield (s3_client(a.url, "us-east-1", verify=ca), s3_client(b.url, "eu-west-1", verify=ca),
               kms_client(b.url, "eu-west-1", verify=ca), kms_client(a.url, "us-east-1", verify=ca))
    finally:
        for k, val in saved.items():
            if val is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = val
        a.stop()
        b.stop()
        cleanup_base_dir(base)


def test_remote_replication_of_encrypted_objects(sites):
    a, b, kms_b, kms_a = sites
    dst_key = make_key(kms_b)
    src_key = make_key(kms_a)
    src = create_bucket(a, new_bucket_name("rsrc"), "us-east-1")
    dst = create_bucket(b, new_bucket_name("rdst"), "eu-west-1")
    allow_sse_c(a, src)
    allow_sse_c(b, dst)
    a.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(kms_rule(dst, dst_key["Arn"])))
    ckey = customer_key()
    sse_c = dict(SSECustomerAlgorithm="AES256", SSECustomerKey=ckey)
    small, big = os.urandom(3 * KiB), os.urandom(300 * KiB)
    mp_parts = [os.urandom(5 * MiB), os.urandom(2 * CHUNK + 1)]
    v = {
        "kms": a.put_object(Bucket=src, Key="kms", Body=big, ServerSideEncryption="aws:kms", SSEKMSKeyId=src_key["Arn"])["VersionId"],
        "s3": a.put_object(Bucket=src, Key="s3", Body=small)["VersionId"],
        "c-small": a.put_object(Bucket=src, Key="c-small", Body=small, **sse_c)["VersionId"],
        "c-big": a.put_object(Bucket=src, Key="c-big", Body=big, **sse_c)["VersionId"],
    }
    up = a.create_multipart_upload(Bucket=src, Key="c-mp", **sse_c)
    etags = [a.upload_part(Bucket=src, Key="c-mp", UploadId=up["UploadId"], PartNumber=i, Body=p, **sse_c)["ETag"] for i, p in enumerate(mp_parts, 1)]
    v["c-mp"] = a.complete_multipart_upload(Bucket=src, Key="c-mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})["VersionId"]
    for k, vid in v.items():
        extra = sse_c if k.startswith("c-") else {}
        status = lambda: a.head_object(Bucket=src, Key=k, VersionId=vid, **extra).get("ReplicationStatus")  # noqa: E731
        assert wait_until(lambda: status() in ("COMPLETED", "FAILED") and status(), 30, desc=f"{k} replicated") == "COMPLETED", k
    r = b.get_object(Bucket=dst, Key="kms", VersionId=v["kms"])
    assert r["Body"].read() == big and (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", dst_key["Arn"])
    r = b.get_object(Bucket=dst, Key="s3", VersionId=v["s3"])
    assert r["Body"].read() == small and r["ServerSideEncryption"] == "AES256"
    # SSE-C replicas keep their ciphertext and key: the customer's key reads them at B.
    md5 = key_md5(ckey)
    for k, body in (("c-small", small), ("c-big", big), ("c-mp", b"".join(mp_parts))):
        with pytest.raises(ClientError) as ei:
            b.head_object(Bucket=dst, Key=k, VersionId=v[k])
        assert err(ei.value)[0] == 400
        r = b.get_object(Bucket=dst, Key=k, VersionId=v[k], **sse_c)
        assert r["Body"].read() == body and r["SSECustomerKeyMD5"] == md5 and r["ReplicationStatus"] == "REPLICA"
        assert r["ETag"] == a.head_object(Bucket=src, Key=k, **sse_c)["ETag"]
    assert b.get_object(Bucket=dst, Key="c-mp", PartNumber=2, **sse_c)["Body"].read() == mp_parts[1]
