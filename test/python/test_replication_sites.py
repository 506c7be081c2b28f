"""Replication between two xregion processes (sites): site A serves us-east-1 and names site B
(eu-west-1) in its config; buckets of A replicate to buckets of B over B's S3 API.

Covers small objects, large and multipart objects, delete markers and tag changes (same version
ids), statuses, the aws CLI flow of seed 001, and a destination site that goes down and comes
back (spec §3 rule 3: temporary failures stay PENDING, then replication resumes).
The module starts its own two processes and stops them (by PID) at the end.
"""
from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

from replication_util import (
    ACCESS_KEY,
    SECRET_KEY,
    Admin,
    MiB,
    ServerProc,
    aws,
    aws_ok,
    cleanup_base_dir,
    client,
    config,
    create_bucket,
    find_version,
    head,
    list_versions,
    new_base_dir,
    repl_status,
    tags_of,
    unique,
    v2_rule,
    wait_status,
    wait_until,
    wait_version,
)
from s3util import checksum, multipart_etag


class Sites:
    def __init__(self, a: ServerProc, b: ServerProc):
        self.a_proc, self.b_proc = a, b
        self.a = client(a.url, "us-east-1")
        self.b = client(b.url, "eu-west-1")

    def pair(self, **rule_kw) -> tuple[str, str]:
        src = create_bucket(self.a, unique("sta"), "us-east-1")
        dst = create_bucket(self.b, unique("stb"), "eu-west-1")
        rule_kw.setdefault("rule_id", "to-site-b")
        self.a.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(v2_rule(dst, **rule_kw)))
        return src, dst


@pytest.fixture(scope="module")
def sites():
    from conftest import _build

    _build()
    base = new_base_dir("xregion-sites-")
    b = ServerProc(base, "b", regions=["eu-west-1"])
    a = ServerProc(base, "a", regions=["us-east-1"], sites=[
        {"name": "eu", "endpoint": "", "accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY}])
    try:
        b.start()
        a.sites[0]["endpoint"] = b.url
        a.start()
        yield Sites(a, b)
    finally:
        a.stop()
        b.stop()
        cleanup_base_dir(base)


def test_bucket_on_site_b_is_a_valid_destination(sites):
    src, dst = sites.pair()
    got = sites.a.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
    assert got["Rules"][0]["Destination"]["Bucket"] == f"arn:aws:s3:::{dst}"


def test_unversioned_bucket_on_site_b_is_rejected(sites):
    src = create_bucket(sites.a, unique("sta"), "us-east-1")
    dst = create_bucket(sites.b, unique("stb"), "eu-west-1", None)
    from replication_util import MSG_DST_VERSIONING, expect_error

    expect_error(sites.a.put_bucket_replication, 400, "InvalidRequest", message=MSG_DST_VERSIONING,
                 Bucket=src, ReplicationConfiguration=config(v2_rule(dst)))


def test_small_object_replicates_to_other_site(sites):
    a, b = sites.a, sites.b
    src, dst = sites.pair(dmr="Enabled")
    body = b"hello from site A " * 100
    put = a.put_object(Bucket=src, Key="greeting.txt", Body=body, ContentType="text/plain",
                       Metadata={"from": "a"}, Tagging="site=a&n=1", ChecksumAlgorithm="SHA256")
    vid = put["VersionId"]
    assert repl_status(a, src, "greeting.txt", vid) in ("PENDING", "COMPLETED")
    h = wait_status(a, src, "greeting.txt", vid, "COMPLETED")
    r = b.head_object(Bucket=dst, Key="greeting.txt", VersionId=vid, ChecksumMode="ENABLED")
    assert r["ReplicationStatus"] == "REPLICA"
    assert r["VersionId"] == vid
    assert r["ETag"] == h["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert r["LastModified"] == h["LastModified"]
    assert r["ContentType"] == "text/plain" and r["Metadata"] == {"from": "a"}
    assert r["ChecksumSHA256"] == checksum("SHA256", body)
    assert tags_of(b, dst, "greeting.txt", vid) == {"site": "a", "n": "1"}
    assert b.get_object(Bucket=dst, Key="greeting.txt")["Body"].read() == body
    sv = find_version(a, src, "greeting.txt", vid)
    dv = find_version(b, dst, "greeting.txt", vid)
    assert dv["LastModified"] == sv["LastModified"]


def test_large_single_put_and_multipart_replicate(sites):
    a, b = sites.a, sites.b
    src, dst = sites.pair(storage_class="STANDARD_IA")
    big = os.urandom(6 * MiB + 123)
    v_big = a.put_object(Bucket=src, Key="single-6mib", Body=big)["VersionId"]
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(MiB // 2)]
    up = a.create_multipart_upload(Bucket=src, Key="mpu", Metadata={"k": "v"})
    done = [{"PartNumber": i, "ETag": a.upload_part(Bucket=src, Key="mpu", UploadId=up["UploadId"], PartNumber=i,
                                                  Body=p)["ETag"]} for i, p in enumerate(parts, 1)]
    v_mpu = a.complete_multipart_upload(Bucket=src, Key="mpu", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": done})["VersionId"]
    wait_status(a, src, "single-6mib", v_big, "COMPLETED", timeout=30)
    h = wait_status(a, src, "mpu", v_mpu, "COMPLETED", timeout=30)

    r = b.head_object(Bucket=dst, Key="single-6mib", VersionId=v_big)
    assert r["ETag"] == f'"{hashlib.md5(big).hexdigest()}"' and r["ContentLength"] == len(big)
    assert r["StorageClass"] == "STANDARD_IA" and r["ReplicationStatus"] == "REPLICA"
    assert hashlib.sha256(b.get_object(Bucket=dst, Key="single-6mib")["Body"].read()).digest() == hashlib.sha256(big).digest()

    r = b.head_object(Bucket=dst, Key="mpu", VersionId=v_mpu)
    assert r["ETag"] == h["ETag"] == multipart_etag(parts)
    assert r["LastModified"] == h["LastModified"] and r["Metadata"] == {"k": "v"}
    assert r["StorageClass"] == "STANDARD_IA"
    assert b.head_object(Bucket=dst, Key="mpu", VersionId=v_mpu, PartNumber=1)["PartsCount"] == 3
    data = b.get_object(Bucket=dst, Key="mpu", VersionId=v_mpu)["Body"].read()
    assert hashlib.sha256(data).digest() == hashlib.sha256(b"".join(parts)).digest()


def test_delete_markers_and_tag_changes_replicate_to_other_site(sites):
    a, b = sites.a, sites.b
    src, dst = sites.pair(dmr="Enabled")
    v1 = a.put_object(Bucket=src, Key="k", Body=b"one", Tagging="t=1")["VersionId"]
    wait_status(a, src, "k", v1, "COMPLETED")
    a.put_object_tagging(Bucket=src, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "t", "Value": "2"}]})
    wait_until(lambda: tags_of(b, dst, "k", v1) == {"t": "2"}, 10, desc="tag change at site B")
    dm = a.delete_object(Bucket=src, Key="k")["VersionId"]
    e = wait_version(b, dst, "k", dm)
    assert e["IsDeleteMarker"] is True and e["IsLatest"] is True
    assert head(b, dst, "k") is None
    # deleting the marker by version id at A is not propagated
    a.delete_object(Bucket=src, Key="k", VersionId=dm)
    v3 = a.put_object(Bucket=src, Key="k", Body=b"three")["VersionId"]
    wait_version(b, dst, "k", v3)
    assert {(x["VersionId"], x["IsDeleteMarker"]) for x in list_versions(b, dst, "k")} == {(v1, False), (dm, True), (v3, False)}


ODD_KEYS = ["ünïcode/ファイル.txt", "with space  two", "plus+and&eq=.txt", "a//b", "trailing/", "pct%20literal",
            "tilde~*'()!$,;:@", "q?mark#hash"]


def test_odd_keys_empty_object_and_headers_to_other_site(sites):
    a, b = sites.a, sites.b
    src, dst = sites.pair()
    vids = {}
    for k in ODD_KEYS:
        vids[k] = a.put_object(Bucket=src, Key=k, Body=k.encode(),
                               Tagging="k%20y=v%2Ba%26l%3Due&%C3%BC=%2F")["VersionId"]
    vids["empty"] = a.put_object(Bucket=src, Key="empty", Body=b"", ContentEncoding="identity",
                                 Expires="Wed, 21 Oct 2037 07:28:00 GMT", WebsiteRedirectLocation="/elsewhere",
                                 Metadata={"x-y": "z  w"})["VersionId"]
    for k, v in vids.items():
        wait_status(a, src, k, v, "COMPLETED", timeout=15)
    for k in ODD_KEYS:
        r = b.get_object(Bucket=dst, Key=k, VersionId=vids[k])
        assert r["Body"].read() == k.encode(), k
        assert tags_of(b, dst, k, vids[k]) == {"k y": "v+a&l=ue", "ü": "/"}, k
    r = b.head_object(Bucket=dst, Key="empty", VersionId=vids["empty"])
    s = a.head_object(Bucket=src, Key="empty", VersionId=vids["empty"])
    assert r["ContentLength"] == 0 and r["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    for f in ("ContentEncoding", "ExpiresString", "WebsiteRedirectLocation", "Metadata", "ContentType", "LastModified"):
        assert r.get(f) == s.get(f), f
    assert sorted(x["Key"] for x in list_versions(b, dst)) == sorted(vids)


@pytest.mark.parametrize("ctype", ["COMPOSITE", "FULL_OBJECT"])
def test_multipart_checksums_to_other_site(sites, ctype):
    a, b = sites.a, sites.b
    src, dst = sites.pair()
    parts = [os.urandom(5 * MiB), os.urandom(777)]
    up = a.create_multipart_upload(Bucket=src, Key="ck", ChecksumAlgorithm="CRC32", ChecksumType=ctype)
    done = []
    for n, p in enumerate(parts, 1):
        r = a.upload_part(Bucket=src, Key="ck", UploadId=up["UploadId"], PartNumber=n, Body=p,
                          ChecksumCRC32=checksum("CRC32", p))
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    fin = a.complete_multipart_upload(Bucket=src, Key="ck", UploadId=up["UploadId"], MultipartUpload={"Parts": done})
    vid = fin["VersionId"]
    wait_status(a, src, "ck", vid, "COMPLETED", timeout=20)
    s = a.head_object(Bucket=src, Key="ck", VersionId=vid, ChecksumMode="ENABLED")
    r = b.head_object(Bucket=dst, Key="ck", VersionId=vid, ChecksumMode="ENABLED")
    assert s["ChecksumType"] == ctype
    assert r.get("ChecksumCRC32") == s["ChecksumCRC32"]
    assert r.get("ChecksumType") == ctype
    assert r["ETag"] == s["ETag"] == multipart_etag(parts)
    p1 = b.head_object(Bucket=dst, Key="ck", VersionId=vid, PartNumber=1, ChecksumMode="ENABLED")
    assert p1["PartsCount"] == 2 and p1["ContentLength"] == 5 * MiB


def test_versions_of_one_key_arrive_in_order_at_other_site(sites):
    a, b = sites.a, sites.b
    src, dst = sites.pair(dmr="Enabled")
    vids = []
    for i in range(8):
        if i == 3:
            vids.append(a.delete_object(Bucket=src, Key="k")["VersionId"])
        else:
            vids.append(a.put_object(Bucket=src, Key="k", Body=f"v{i}".encode())["VersionId"])
    wait_status(a, src, "k", vids[-1], "COMPLETED", timeout=15)
    wait_until(lambda: len(list_versions(b, dst, "k")) == 8, 10, desc="8 versions at site B")
    strip = lambda vs: [(v["VersionId"], v["IsDeleteMarker"], v["IsLatest"]) for v in vs]  # noqa: E731
    assert strip(list_versions(b, dst, "k")) == strip(list_versions(a, src, "k"))


def test_seed001_cli_flow_between_sites(sites, tmp_path):
    """Seed 001 with the aws CLI: versioning on both buckets, put-bucket-replication from a JSON
    file, `aws s3 cp`, `aws s3api head-object --query ReplicationStatus`. The seed's JSON lacks
    Priority, which AWS requires with a Filter: the CLI shows the error, then the fixed file works."""
    A, B = sites.a_proc.url, sites.b_proc.url
    src, dst = unique("my-source-bucket-use1"), unique("my-destination-bucket-euw1")
    aws_ok(A, "s3", "mb", f"s3://{src}", "--region", "us-east-1")
    aws_ok(B, "s3api", "create-bucket", "--bucket", dst, "--create-bucket-configuration",
           "LocationConstraint=eu-west-1", region="eu-west-1")
    aws_ok(A, "s3api", "put-bucket-versioning", "--bucket", src, "--versioning-configuration", "Status=Enabled",
           "--region", "us-east-1")
    aws_ok(B, "s3api", "put-bucket-versioning", "--bucket", dst, "--versioning-configuration", "Status=Enabled",
           "--region", "eu-west-1", region="eu-west-1")
    rule = {
        "ID": "DR-Replication-Rule", "Status": "Enabled", "Filter": {"Prefix": ""},
        "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "StorageClass": "STANDARD_IA"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
    }
    doc = {"Role": "arn:aws:iam::000000000000:role/S3ReplicationRole", "Rules": [rule]}
    cfg = tmp_path / "replication-config.json"
    cfg.write_text(json.dumps(doc, indent=2))
    rc, out, err = aws(A, "s3api", "put-bucket-replication", "--bucket", src, "--replication-configuration",
                       f"file://{cfg}", "--region", "us-east-1")
    assert rc != 0 and "(InvalidRequest)" in err and "Priority" in err, (rc, out, err)
    rule["Priority"] = 1
    cfg.write_text(json.dumps(doc, indent=2))
    aws_ok(A, "s3api", "put-bucket-replication", "--bucket", src, "--replication-configuration", f"file://{cfg}",
           "--region", "us-east-1")

    (tmp_path / "test-file.txt").write_text("disaster recovery test\n")
    aws_ok(A, "s3", "cp", "test-file.txt", f"s3://{src}/test-file.txt", cwd=tmp_path)

    def status_via_cli(url, bucket, region):
        out = aws_ok(url, "s3api", "head-object", "--bucket", bucket, "--key", "test-file.txt",
                     "--query", "ReplicationStatus", region=region)
        return json.loads(out)

    seen = []

    def completed():
        s = status_via_cli(A, src, "us-east-1")
        seen.append(s)
        assert s in ("PENDING", "COMPLETED"), seen
        return s == "COMPLETED"

    wait_until(completed, 20, interval=0.2, desc="CLI head-object ReplicationStatus COMPLETED")
    assert status_via_cli(B, dst, "eu-west-1") == "REPLICA"
    out = aws_ok(B, "s3api", "head-object", "--bucket", dst, "--key", "test-file.txt", region="eu-west-1")
    assert json.loads(out)["StorageClass"] == "STANDARD_IA"
    out = aws_ok(B, "s3", "cp", f"s3://{dst}/test-file.txt", "-", region="eu-west-1")
    assert out == "disaster recovery test\n"
    src_vid = json.loads(aws_ok(A, "s3api", "head-object", "--bucket", src, "--key", "test-file.txt"))["VersionId"]
    dst_vid = json.loads(aws_ok(B, "s3api", "head-object", "--bucket", dst, "--key", "test-file.txt",
                                region="eu-west-1"))["VersionId"]
    assert src_vid == dst_vid


def test_zz_destination_site_down_stays_pending_then_completes(sites):
    """Runs last in this module: stops site B (SIGTERM), writes at A, restarts B on the same port
    and data dir. Spec §3 rule 3: an unavailable destination keeps PENDING (never FAILED), and
    replication resumes when it is back. A second rule replicates to a bucket of A itself (SRR):
    that copy arrives at once, and the source still says PENDING until B has its copy too
    (§3 rule 5)."""
    a, b = sites.a, sites.b
    src = create_bucket(a, unique("sta"), "us-east-1")
    dst = create_bucket(b, unique("stb"), "eu-west-1")
    local = create_bucket(a, unique("stl"), "us-east-1")
    a.put_bucket_replication(Bucket=src, ReplicationConfiguration=config(
        v2_rule(dst, "to-b", 1, dmr="Enabled"), v2_rule(local, "to-local", 2, dmr="Enabled")))
    v0 = a.put_object(Bucket=src, Key="before", Body=b"0", Tagging="t=0")["VersionId"]
    wait_status(a, src, "before", v0, "COMPLETED")

    port = sites.b_proc.port
    sites.b_proc.stop()
    try:
        small = a.put_object(Bucket=src, Key="small", Body=b"written while B is down")["VersionId"]
        parts = [os.urandom(5 * MiB), os.urandom(MiB)]
        up = a.create_multipart_upload(Bucket=src, Key="mpu")
        done = [{"PartNumber": i, "ETag": a.upload_part(Bucket=src, Key="mpu", UploadId=up["UploadId"],
                                                      PartNumber=i, Body=p)["ETag"]} for i, p in enumerate(parts, 1)]
        mpu = a.complete_multipart_upload(Bucket=src, Key="mpu", UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": done})["VersionId"]
        dm = a.delete_object(Bucket=src, Key="before")["VersionId"]
        a.put_object_tagging(Bucket=src, Key="before", VersionId=v0, Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
        # a version deleted (by version id) before it could replicate never reaches B
        doomed = a.put_object(Bucket=src, Key="doomed", Body=b"x")["VersionId"]

        # the local (SRR) copies arrive while B is down
        wait_until(lambda: head(a, local, "small", small), 10, desc="local copy of small")
        wait_until(lambda: head(a, local, "mpu", mpu), 20, desc="local copy of mpu")
        wait_until(lambda: head(a, local, "doomed", doomed), 10, desc="local copy of doomed")
        a.delete_object(Bucket=src, Key="doomed", VersionId=doomed)

        # PENDING, not FAILED and not COMPLETED, for well beyond 3 s
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            assert repl_status(a, src, "small", small) == "PENDING"
            assert repl_status(a, src, "mpu", mpu) == "PENDING"
            time.sleep(0.25)

        st, doc, _ = Admin(sites.a_proc.url).get("status", bucket=src)
        if st == 200 and doc is not None:
            assert doc["bucket"] == src
            assert doc["pending"]["operations"] >= 3, doc  # small, mpu, delete marker (+ tags)
            assert doc["pending"]["bytes"] >= len(b"written while B is down") + 6 * MiB, doc
            assert doc["pending"]["oldestAgeSeconds"] >= 3, doc
            assert doc["failed"] == [], doc
    finally:
        sites.b_proc.start(port=port)
    assert sites.b_proc.port == port

    wait_status(a, src, "small", small, "COMPLETED", timeout=40)
    wait_status(a, src, "mpu", mpu, "COMPLETED", timeout=40)
    assert b.get_object(Bucket=dst, Key="small", VersionId=small)["Body"].read() == b"written while B is down"
    r = b.head_object(Bucket=dst, Key="mpu", VersionId=mpu)
    assert r["ETag"] == multipart_etag(parts) and r["ReplicationStatus"] == "REPLICA"
    assert wait_version(b, dst, "before", dm, timeout=20)["IsDeleteMarker"] is True
    wait_until(lambda: tags_of(b, dst, "before", v0) == {"t": "1"}, 20, desc="tag change after B came back")
    assert tags_of(a, local, "before", v0) == {"t": "1"}

    admin = Admin(sites.a_proc.url)
    st, doc, _ = admin.get("status", bucket=src)
    if st == 200 and doc is not None:
        wait_until(lambda: admin.get("status", bucket=src)[1]["pending"]["operations"] == 0, 20,
                   desc="status endpoint: nothing pending")
        assert admin.get("status", bucket=src)[1]["failed"] == []
    assert head(b, dst, "doomed") is None
    assert find_version(b, dst, "doomed", doomed) is None


def test_zzz_pending_work_survives_a_source_restart(sites):
    """The backlog is durable: with site B down, objects written at A stay PENDING across a restart
    of A itself (SIGTERM, same port and data dir), and replicate once B is back."""
    a, b = sites.a, sites.b
    src, dst = sites.pair(dmr="Enabled")
    b_port, a_port = sites.b_proc.port, sites.a_proc.port
    sites.b_proc.stop()
    try:
        vids = {f"k{i}": a.put_object(Bucket=src, Key=f"k{i}", Body=f"body {i}".encode())["VersionId"] for i in range(5)}
        assert all(repl_status(a, src, k, v) == "PENDING" for k, v in vids.items())
        sites.a_proc.stop()
        sites.a_proc.start(port=a_port)
        assert sites.a_proc.port == a_port
        for k, v in vids.items():
            assert repl_status(a, src, k, v) == "PENDING", k
    finally:
        if sites.b_proc.proc is None:
            sites.b_proc.start(port=b_port)
    for k, v in vids.items():
        wait_status(a, src, k, v, "COMPLETED", timeout=40)
        assert b.get_object(Bucket=dst, Key=k, VersionId=v)["Body"].read() == f"body {k[1:]}".encode()
