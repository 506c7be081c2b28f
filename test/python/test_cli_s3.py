"""The aws CLI's high-level `aws s3` commands against a real xregion server."""
from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import MiB, new_bucket_name
from s3util import composite_checksum, err, multipart_etag, random_file, sha256_file, split, tree

S3_QUIET = ("--no-progress", "--only-show-errors")


def ls_lines(out: str) -> list[str]:
    return [l for l in out.splitlines() if l.strip()]


def test_mb_then_ls_lists_the_bucket(cli, cli_ok, s3, bucket_name):
    out = cli_ok("s3", "mb", f"s3://{bucket_name}")
    assert out.strip() == f"make_bucket: {bucket_name}"
    s3.head_bucket(Bucket=bucket_name)
    out = cli_ok("s3", "ls")
    rows = [l for l in ls_lines(out) if l.split()[-1] == bucket_name]
    assert len(rows) == 1, out
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d " + re.escape(bucket_name), rows[0]), rows[0]


def test_mb_with_region_creates_bucket_in_that_region(cli_ok, s3, bucket_name):
    out = cli_ok("s3", "mb", f"s3://{bucket_name}", "--region", "eu-west-1")
    assert out.strip() == f"make_bucket: {bucket_name}"
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == "eu-west-1"


def test_mb_existing_bucket_in_us_west_2_fails(cli, cli_ok, bucket_name):
    cli_ok("s3", "mb", f"s3://{bucket_name}", region="us-west-2")
    code, out, errout = cli("s3", "mb", f"s3://{bucket_name}", region="us-west-2")
    assert code != 0
    assert "BucketAlreadyOwnedByYou" in errout, errout


def test_mb_invalid_name_fails(cli, bucket_name):
    code, out, errout = cli("s3", "mb", "s3://Invalid_Bucket_Name")
    assert code != 0
    assert "InvalidBucketName" in errout, errout


def test_ls_objects_prefixes_and_recursive(cli_ok, s3, bucket):
    keys = {"top.txt": b"1", "dir/a.txt": b"22", "dir/sub/b.txt": b"333", "dir/sub/c.bin": b"4444", "other/d": b"55555"}
    for k, v in keys.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)

    lines = ls_lines(cli_ok("s3", "ls", f"s3://{bucket}"))
    pres = sorted(l.split()[-1] for l in lines if l.split()[0] == "PRE")
    files = [l.split() for l in lines if l.split()[0] != "PRE"]
    assert pres == ["dir/", "other/"]
    assert [(f[2], f[3]) for f in files] == [("1", "top.txt")]
    assert all(re.fullmatch(r"\s+PRE \S+/", l) for l in lines if "PRE" in l)

    lines = ls_lines(cli_ok("s3", "ls", f"s3://{bucket}/dir/"))
    assert sorted(l.split()[-1] for l in lines if l.split()[0] == "PRE") == ["sub/"]
    assert [(l.split()[2], l.split()[3]) for l in lines if l.split()[0] != "PRE"] == [("2", "a.txt")]

    # A partial prefix lists the matching "directories" and files.
    lines = ls_lines(cli_ok("s3", "ls", f"s3://{bucket}/di"))
    assert [l.split() for l in lines] == [["PRE", "dir/"]]

    lines = ls_lines(cli_ok("s3", "ls", f"s3://{bucket}", "--recursive"))
    got = {l.split()[3]: int(l.split()[2]) for l in lines}
    assert got == {k: len(v) for k, v in keys.items()}

    out = cli_ok("s3", "ls", f"s3://{bucket}", "--recursive", "--summarize")
    assert "Total Objects: 5" in out
    assert "Total Size: 15" in out


def test_ls_missing_bucket_fails_with_nosuchbucket(cli):
    code, out, errout = cli("s3", "ls", f"s3://{new_bucket_name('missing')}")
    assert code != 0
    assert "NoSuchBucket" in errout, errout


def test_cp_small_file_up_and_down(cli_ok, s3, bucket, tmp_path):
    src = tmp_path / "hello.txt"
    src.write_bytes(b"hello, xregion\n" * 100)
    cli_ok("s3", "cp", src, f"s3://{bucket}/docs/hello.txt", *S3_QUIET)
    head = s3.head_object(Bucket=bucket, Key="docs/hello.txt")
    assert head["ContentLength"] == src.stat().st_size
    assert head["ContentType"] == "text/plain"  # the CLI guesses it from the extension
    dst = tmp_path / "down.txt"
    cli_ok("s3", "cp", f"s3://{bucket}/docs/hello.txt", dst, *S3_QUIET)
    assert dst.read_bytes() == src.read_bytes()


def test_cp_stdin_and_stdout(cli, cli_ok, bucket):
    data = os.urandom(300_000)
    cli_ok("s3", "cp", "-", f"s3://{bucket}/stream.bin", *S3_QUIET, input=data)
    code, out, errout = cli("s3", "cp", f"s3://{bucket}/stream.bin", "-", *S3_QUIET, binary=True)
    assert code == 0, errout
    assert out == data


def test_cp_stdin_large_stream_is_multipart(cli, cli_ok, s3, bucket):
    # `producer | aws s3 cp - s3://...`: size unknown, so the CLI streams it in 8 MiB parts.
    data = os.urandom(20 * MiB + 123)
    cli_ok("s3", "cp", "-", f"s3://{bucket}/stream-big", *S3_QUIET, input=data, timeout=300)
    head = s3.head_object(Bucket=bucket, Key="stream-big")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(split(data, 8 * MiB))
    code, out, errout = cli("s3", "cp", f"s3://{bucket}/stream-big", "-", *S3_QUIET, binary=True, timeout=300)
    assert code == 0, errout
    assert out == data


def test_cp_missing_key_fails(cli, bucket, tmp_path):
    code, out, errout = cli("s3", "cp", f"s3://{bucket}/nope", tmp_path / "x", *S3_QUIET)
    assert code != 0
    assert "404" in errout or "NoSuchKey" in errout, errout
    assert not (tmp_path / "x").exists()


def test_cp_100mib_file_multipart(cli_ok, s3, bucket, tmp_path):
    size = 100 * MiB
    src = tmp_path / "big.bin"
    digest = random_file(src, size)
    cli_ok("s3", "cp", src, f"s3://{bucket}/big.bin", *S3_QUIET, timeout=300)

    # The CLI uses 8 MiB parts: 13 parts; it asks for CRC32 checksums (a COMPOSITE checksum).
    data = src.read_bytes()
    parts = split(data, 8 * MiB)
    assert len(parts) == 13
    head = s3.head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == size
    assert head["ETag"] == multipart_etag(parts)
    assert re.fullmatch(r'"[0-9a-f]{32}-13"', head["ETag"])
    assert head.get("ChecksumCRC32") == composite_checksum("CRC32", parts)
    assert head.get("ChecksumType") == "COMPOSITE"
    del data, parts

    dst = tmp_path / "big.down"
    cli_ok("s3", "cp", f"s3://{bucket}/big.bin", dst, *S3_QUIET, timeout=300)
    assert dst.stat().st_size == size
    assert sha256_file(dst) == digest


def test_cp_download_of_large_single_put_object(cli_ok, s3, bucket, tmp_path):
    # Uploaded in one PUT (so it has a FULL_OBJECT CRC32); the CLI downloads it with ranged GETs.
    data = os.urandom(20 * MiB)
    s3.put_object(Bucket=bucket, Key="one-put.bin", Body=data)
    dst = tmp_path / "one-put.bin"
    cli_ok("s3", "cp", f"s3://{bucket}/one-put.bin", dst, *S3_QUIET)
    assert dst.read_bytes() == data


def test_cp_with_metadata_and_storage_class(cli_ok, s3, bucket, tmp_path):
    src = tmp_path / "report.csv"
    src.write_bytes(b"a,b\n1,2\n")
    cli_ok("s3", "cp", src, f"s3://{bucket}/r.csv", "--metadata", "origin=cli,rev=3", "--storage-class", "STANDARD_IA",
           "--content-type", "text/csv", "--cache-control", "max-age=5", *S3_QUIET)
    head = s3.head_object(Bucket=bucket, Key="r.csv")
    assert head["Metadata"] == {"origin": "cli", "rev": "3"}
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ContentType"] == "text/csv"
    assert head["CacheControl"] == "max-age=5"


def test_cp_recursive_with_filters(cli_ok, s3, bucket, tmp_path):
    root = tmp_path / "tree"
    for rel in ["a.txt", "b.log", "sub/c.txt", "sub/d.log", "sub/deep/e.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    cli_ok("s3", "cp", root, f"s3://{bucket}/t/", "--recursive", "--exclude", "*", "--include", "*.txt", *S3_QUIET)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["t/a.txt", "t/sub/c.txt", "t/sub/deep/e.txt"]
    down = tmp_path / "down"
    cli_ok("s3", "cp", f"s3://{bucket}/t/", down, "--recursive", *S3_QUIET)
    assert tree(down) == {"a.txt": b"a.txt", "sub/c.txt": b"sub/c.txt", "sub/deep/e.txt": b"sub/deep/e.txt"}


def test_cp_multipart_with_sha256_checksum(cli_ok, s3, bucket, tmp_path):
    src = tmp_path / "sha.bin"
    random_file(src, 10 * MiB)
    cli_ok("s3", "cp", src, f"s3://{bucket}/sha.bin", "--checksum-algorithm", "SHA256", *S3_QUIET)
    parts = split(src.read_bytes(), 8 * MiB)
    head = s3.head_object(Bucket=bucket, Key="sha.bin", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") == composite_checksum("SHA256", parts)
    assert head.get("ChecksumType") == "COMPOSITE"


def test_rm_recursive_and_rb_force_on_versioned_bucket(cli, cli_ok, s3, versioned_bucket):
    for i in range(3):
        s3.put_object(Bucket=versioned_bucket, Key=f"k{i}", Body=b"x")
    cli_ok("s3", "rm", f"s3://{versioned_bucket}", "--recursive", "--only-show-errors")
    assert s3.list_objects_v2(Bucket=versioned_bucket)["KeyCount"] == 0
    lv = s3.list_object_versions(Bucket=versioned_bucket)
    assert len(lv["Versions"]) == 3 and len(lv["DeleteMarkers"]) == 3
    # rb --force deletes current objects only; the versions keep the bucket non-empty.
    code, out, errout = cli("s3", "rb", f"s3://{versioned_bucket}", "--force")
    assert code != 0
    assert "BucketNotEmpty" in errout, errout


def _make_tree(root: Path, n_dirs: int = 6, per_dir: int = 5) -> None:
    old = time.time() - 3600  # clearly older than anything the server will stamp
    for d in range(n_dirs):
        sub = root / f"d{d}" / ("nested" if d % 2 else "") / ("deeper" if d % 3 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(per_dir):
            p = sub / f"file{i}.txt"
            p.write_bytes(os.urandom(100 + 37 * i + d))
            os.utime(p, (old, old))


def _dryrun_ops(out: str, op: str) -> set[str]:
    # "(dryrun) upload: <src> to s3://bucket/key"  /  "(dryrun) delete: s3://bucket/key"
    keys = set()
    for line in out.splitlines():
        if line.startswith(f"(dryrun) {op}: "):
            keys.add(line.rsplit(" ", 1)[-1])
    return keys


def test_sync_up_modify_delete_and_down(cli_ok, s3, bucket, tmp_path):
    local = tmp_path / "src"
    _make_tree(local)
    files = tree(local)
    assert len(files) == 30
    dest = f"s3://{bucket}/backup"

    cli_ok("s3", "sync", local, dest, *S3_QUIET)
    listed = {o["Key"]: o["Size"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])}
    assert listed == {f"backup/{k}": len(v) for k, v in files.items()}

    # Nothing changed: nothing to do.
    out = cli_ok("s3", "sync", local, dest, "--dryrun")
    assert _dryrun_ops(out, "upload") == set(), out

    # Change three files (sizes change too) and add one.
    changed = sorted(files)[:3]
    for rel in changed:
        (local / rel).write_bytes(b"changed " + os.urandom(50))
    (local / "d0" / "brand-new.txt").write_bytes(b"new file")
    expect_up = {f"{dest}/{rel}" for rel in changed} | {f"{dest}/d0/brand-new.txt"}
    out = cli_ok("s3", "sync", local, dest, "--dryrun")
    assert _dryrun_ops(out, "upload") == expect_up, out
    cli_ok("s3", "sync", local, dest, *S3_QUIET)
    for rel in changed:
        assert s3.get_object(Bucket=bucket, Key=f"backup/{rel}")["Body"].read() == (local / rel).read_bytes()
    out = cli_ok("s3", "sync", local, dest, "--dryrun")
    assert _dryrun_ops(out, "upload") == set(), out

    # Delete two local files: sync --delete removes them remotely.
    gone = sorted(files)[-2:]
    for rel in gone:
        (local / rel).unlink()
    out = cli_ok("s3", "sync", local, dest, "--delete", "--dryrun")
    assert _dryrun_ops(out, "delete") == {f"{dest}/{rel}" for rel in gone}, out
    cli_ok("s3", "sync", local, dest, "--delete", *S3_QUIET)
    for rel in gone:
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=bucket, Key=f"backup/{rel}")
        assert err(e.value) == ("404", 404)
    expected = tree(local)
    assert len(expected) == 29

    # Sync down into an empty directory: identical tree.
    down = tmp_path / "down"
    down.mkdir()
    cli_ok("s3", "sync", dest, down, *S3_QUIET)
    assert tree(down) == expected
    out = cli_ok("s3", "sync", dest, down, "--dryrun")
    assert _dryrun_ops(out, "download") == set(), out


def test_rm_recursive(cli_ok, s3, bucket):
    for k in ["keep.txt", "dir/a", "dir/b", "dir/sub/c", "dirx/d"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    cli_ok("s3", "rm", f"s3://{bucket}/dir/", "--recursive", "--only-show-errors")
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert left == ["dirx/d", "keep.txt"]
    cli_ok("s3", "rm", f"s3://{bucket}/keep.txt", "--only-show-errors")
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert left == ["dirx/d"]


def test_rb_refuses_non_empty_then_force(cli, cli_ok, s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    code, out, errout = cli("s3", "rb", f"s3://{bucket}")
    assert code != 0
    assert "BucketNotEmpty" in errout, errout
    out = cli_ok("s3", "rb", f"s3://{bucket}", "--force")
    assert f"remove_bucket: {bucket}" in out
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    assert err(e.value) == ("404", 404)


def test_mv_local_to_s3_to_s3_to_local(cli_ok, s3, bucket, tmp_path):
    src = tmp_path / "m.bin"
    data = os.urandom(4096)
    src.write_bytes(data)
    cli_ok("s3", "mv", src, f"s3://{bucket}/a/m.bin", *S3_QUIET)
    assert not src.exists()
    cli_ok("s3", "mv", f"s3://{bucket}/a/m.bin", f"s3://{bucket}/b/m.bin", *S3_QUIET)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["b/m.bin"]
    dst = tmp_path / "back.bin"
    cli_ok("s3", "mv", f"s3://{bucket}/b/m.bin", dst, *S3_QUIET)
    assert dst.read_bytes() == data
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_presign_then_fetch(cli_ok, s3, bucket, sigv4_cli_config):
    s3.put_object(Bucket=bucket, Key="shared/file.txt", Body=b"presigned content")
    url = cli_ok("s3", "presign", f"s3://{bucket}/shared/file.txt", config_file=sigv4_cli_config).strip()
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        assert r.read() == b"presigned content"


def test_presign_expired_is_403(cli_ok, s3, bucket, sigv4_cli_config):
    s3.put_object(Bucket=bucket, Key="soon-gone", Body=b"x")
    url = cli_ok("s3", "presign", f"s3://{bucket}/soon-gone", "--expires-in", "1", config_file=sigv4_cli_config).strip()
    assert "X-Amz-Expires=1&" in url or url.endswith("X-Amz-Expires=1")
    time.sleep(2.2)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url, timeout=30)
    assert e.value.code == 403
    body = e.value.read().decode()
    assert "<Code>AccessDenied</Code>" in body, body


def test_presign_for_bucket_in_other_region(cli_ok, client_for, bucket_name, sigv4_cli_config):
    west = client_for("us-west-2")
    west.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    west.put_object(Bucket=bucket_name, Key="k", Body=b"west data")
    url = cli_ok("s3", "presign", f"s3://{bucket_name}/k", region="us-west-2", config_file=sigv4_cli_config).strip()
    assert "%2Fus-west-2%2Fs3%2Faws4_request" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == b"west data"


@pytest.fixture
def two_region_buckets(client_for):
    east, west = new_bucket_name("east"), new_bucket_name("west")
    client_for("us-east-1").create_bucket(Bucket=east)
    client_for("us-west-2").create_bucket(Bucket=west, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    return east, west


def test_cp_between_buckets_in_different_regions(cli_ok, client_for, two_region_buckets):
    east, west = two_region_buckets
    data = os.urandom(20_000)
    client_for("us-east-1").put_object(Bucket=east, Key="src/obj", Body=data, Metadata={"origin": "east"})
    # CLI region = the source bucket's region; the destination is in us-west-2.
    cli_ok("s3", "cp", f"s3://{east}/src/obj", f"s3://{west}/dst/obj", *S3_QUIET, region="us-east-1")
    got = client_for("us-west-2").get_object(Bucket=west, Key="dst/obj")
    assert got["Body"].read() == data
    assert got["Metadata"] == {"origin": "east"}
    # And back, with the CLI's region right for the source (us-west-2) only.
    cli_ok("s3", "cp", f"s3://{west}/dst/obj", f"s3://{east}/back/obj", *S3_QUIET, region="us-west-2")
    assert client_for("us-east-1").get_object(Bucket=east, Key="back/obj")["Body"].read() == data


def test_cp_large_object_between_regions_multipart_copy(cli_ok, client_for, two_region_buckets):
    """Above 8 MiB the CLI copies with CreateMultipartUpload + UploadPartCopy (byte ranges)."""
    east, west = two_region_buckets
    data = os.urandom(20 * MiB)
    client_for("us-east-1").put_object(Bucket=east, Key="big", Body=data)
    cli_ok("s3", "cp", f"s3://{east}/big", f"s3://{west}/big", *S3_QUIET, region="us-east-1")
    w = client_for("us-west-2")
    head = w.head_object(Bucket=west, Key="big")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(split(data, 8 * MiB))
    assert w.get_object(Bucket=west, Key="big")["Body"].read() == data


def test_sync_bucket_to_bucket(cli_ok, client_for, two_region_buckets):
    east, west = two_region_buckets
    e = client_for("us-east-1")
    for i in range(6):
        e.put_object(Bucket=east, Key=f"s/{i % 2}/f{i}", Body=f"file {i}".encode())
    cli_ok("s3", "sync", f"s3://{east}/s", f"s3://{west}/mirror", *S3_QUIET, region="us-west-2")
    w = client_for("us-west-2")
    got = {o["Key"]: o["Size"] for o in w.list_objects_v2(Bucket=west)["Contents"]}
    assert got == {f"mirror/{i % 2}/f{i}": len(f"file {i}".encode()) for i in range(6)}
    out = cli_ok("s3", "sync", f"s3://{east}/s", f"s3://{west}/mirror", "--dryrun", region="us-west-2")
    assert "(dryrun)" not in out, out


def test_cli_region_wrong_for_every_bucket_still_works(cli_ok, client_for, two_region_buckets, tmp_path):
    east, west = two_region_buckets
    data = os.urandom(5000)
    src = tmp_path / "f.bin"
    src.write_bytes(data)
    # eu-west-1 is wrong for both buckets: each request is redirected to the bucket's region.
    cli_ok("s3", "cp", src, f"s3://{west}/f.bin", *S3_QUIET, region="eu-west-1")
    cli_ok("s3", "cp", f"s3://{west}/f.bin", f"s3://{east}/f.bin", *S3_QUIET, region="eu-west-1")
    lines = ls_lines(cli_ok("s3", "ls", f"s3://{east}", region="eu-west-1"))
    assert [l.split()[-1] for l in lines] == ["f.bin"]
    dst = tmp_path / "back.bin"
    cli_ok("s3", "cp", f"s3://{east}/f.bin", dst, *S3_QUIET, region="eu-west-1")
    assert dst.read_bytes() == data
    assert client_for("us-west-2").get_object(Bucket=west, Key="f.bin")["Body"].read() == data
