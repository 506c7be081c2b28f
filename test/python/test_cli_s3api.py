"""The aws CLI's low-level `aws s3api` commands against a real xregion server."""
from __future__ import annotations

import json
import os

import pytest

from conftest import MiB, new_bucket_name
from s3util import checksum, composite_checksum, md5_etag, multipart_etag

# AWS CLI v1 exits 255 on a service error; v2 exits 254.
SERVICE_ERROR_EXIT = (254, 255)


@pytest.fixture
def api(cli):
    """api(op, *args) -> parsed JSON output of `aws s3api op ...` (asserting exit 0)."""

    def run(op, *args, region="us-east-1", **kw):
        code, out, err = cli("s3api", op, *args, "--output", "json", region=region, **kw)
        assert code == 0, f"aws s3api {op} {args} exited {code}: {err}"
        return json.loads(out) if out.strip() else {}

    return run


def api_error(cli, op, *args, region="us-east-1"):
    code, out, err = cli("s3api", op, *args, region=region)
    assert code in SERVICE_ERROR_EXIT, f"expected a service error, got exit {code}: {out} {err}"
    return err


def test_create_bucket_with_location_constraint(api, bucket_name):
    # Sent from a us-east-1 CLI: the body's LocationConstraint decides the region.
    out = api("create-bucket", "--bucket", bucket_name, "--create-bucket-configuration", "LocationConstraint=us-west-2")
    assert out["Location"]
    assert api("get-bucket-location", "--bucket", bucket_name) == {"LocationConstraint": "us-west-2"}


def test_create_bucket_with_region_flag(api, bucket_name):
    api(
        "create-bucket", "--bucket", bucket_name, "--region", "us-west-2",
        "--create-bucket-configuration", "LocationConstraint=us-west-2",
    )
    assert api("get-bucket-location", "--bucket", bucket_name)["LocationConstraint"] == "us-west-2"
    # head-bucket from a CLI whose region is wrong is redirected and reports the bucket's region.
    out = api("head-bucket", "--bucket", bucket_name, region="eu-west-1")
    assert out.get("BucketRegion") == "us-west-2"


def test_get_bucket_location_us_east_1_is_null(api, bucket_name):
    api("create-bucket", "--bucket", bucket_name)
    assert api("get-bucket-location", "--bucket", bucket_name) == {"LocationConstraint": None}


def test_bucket_versioning_put_get(api, bucket_name):
    api("create-bucket", "--bucket", bucket_name)
    assert "Status" not in api("get-bucket-versioning", "--bucket", bucket_name)
    api("put-bucket-versioning", "--bucket", bucket_name, "--versioning-configuration", "Status=Enabled")
    assert api("get-bucket-versioning", "--bucket", bucket_name)["Status"] == "Enabled"
    api("put-bucket-versioning", "--bucket", bucket_name, "--versioning-configuration", "Status=Suspended")
    assert api("get-bucket-versioning", "--bucket", bucket_name)["Status"] == "Suspended"


def test_put_object_with_metadata_type_tagging_storage_class(api, bucket, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b'{"hello": "world"}')
    put = api(
        "put-object", "--bucket", bucket, "--key", "doc.json", "--body", body,
        "--metadata", "color=blue,Owner-Name=alice", "--content-type", "application/json",
        "--tagging", "project=x&env=test", "--storage-class", "STANDARD_IA",
    )
    assert put["ETag"] == md5_etag(body.read_bytes())

    head = api("head-object", "--bucket", bucket, "--key", "doc.json")
    assert head["ContentType"] == "application/json"
    assert head["ContentLength"] == len(body.read_bytes())
    assert head["Metadata"] == {"color": "blue", "owner-name": "alice"}
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ETag"] == put["ETag"]

    tags = api("get-object-tagging", "--bucket", bucket, "--key", "doc.json")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "test"), ("project", "x")]

    out = tmp_path / "out.json"
    got = api("get-object", "--bucket", bucket, "--key", "doc.json", out)
    assert out.read_bytes() == body.read_bytes()
    assert got["TagCount"] == 2
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["Metadata"] == {"color": "blue", "owner-name": "alice"}

    listed = api("list-objects-v2", "--bucket", bucket)["Contents"]
    assert [(o["Key"], o["StorageClass"], o["Size"]) for o in listed] == [("doc.json", "STANDARD_IA", len(body.read_bytes()))]


def test_object_versions_delete_markers_and_version_ops(api, cli, bucket_name, tmp_path):
    api("create-bucket", "--bucket", bucket_name)
    api("put-bucket-versioning", "--bucket", bucket_name, "--versioning-configuration", "Status=Enabled")
    ids = []
    for i in range(3):
        f = tmp_path / f"v{i}"
        f.write_bytes(f"version {i}".encode())
        ids.append(api("put-object", "--bucket", bucket_name, "--key", "doc", "--body", f)["VersionId"])
    assert len(set(ids)) == 3
    marker = api("delete-object", "--bucket", bucket_name, "--key", "doc")
    assert marker["DeleteMarker"] is True
    marker_id = marker["VersionId"]
    assert marker_id not in ids

    lv = api("list-object-versions", "--bucket", bucket_name)
    versions = lv["Versions"]
    assert [v["VersionId"] for v in versions] == ids[::-1]  # newest first
    assert all(v["Key"] == "doc" and v["IsLatest"] is False for v in versions)
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in lv["DeleteMarkers"]] == [("doc", marker_id, True)]

    # GET of the current (deleted) object: 404 NoSuchKey; of the marker by id: 405 MethodNotAllowed.
    err = api_error(cli, "get-object", "--bucket", bucket_name, "--key", "doc", tmp_path / "x")
    assert "(NoSuchKey)" in err, err
    err = api_error(cli, "get-object", "--bucket", bucket_name, "--key", "doc", f"--version-id={marker_id}", tmp_path / "x")
    assert "(MethodNotAllowed)" in err, err

    # An old version by id.
    out = tmp_path / "old"
    got = api("get-object", "--bucket", bucket_name, "--key", "doc", f"--version-id={ids[0]}", out)
    assert out.read_bytes() == b"version 0"
    assert got["VersionId"] == ids[0]

    # Delete a version by id: gone for good.
    d = api("delete-object", "--bucket", bucket_name, "--key", "doc", f"--version-id={ids[1]}")
    assert d["VersionId"] == ids[1]
    # Remove the delete marker: the newest remaining version is current again.
    d = api("delete-object", "--bucket", bucket_name, "--key", "doc", f"--version-id={marker_id}")
    assert d["VersionId"] == marker_id and d.get("DeleteMarker") is True
    got = api("get-object", "--bucket", bucket_name, "--key", "doc", out)
    assert out.read_bytes() == b"version 2"
    assert got["VersionId"] == ids[2]
    lv = api("list-object-versions", "--bucket", bucket_name)
    assert [v["VersionId"] for v in lv["Versions"]] == [ids[2], ids[0]]
    assert [v["IsLatest"] for v in lv["Versions"]] == [True, False]
    assert "DeleteMarkers" not in lv or lv["DeleteMarkers"] == []


def test_get_object_range(api, bucket, tmp_path):
    f = tmp_path / "src"
    data = os.urandom(10_000)
    f.write_bytes(data)
    api("put-object", "--bucket", bucket, "--key", "rg", "--body", f)
    out = tmp_path / "part"
    r = api("get-object", "--bucket", bucket, "--key", "rg", "--range", "bytes=100-199", out)
    assert out.read_bytes() == data[100:200]
    assert r["ContentRange"] == "bytes 100-199/10000"
    assert r["ContentLength"] == 100


def test_list_objects_v2_cli_pagination(api, bucket, tmp_path):
    (tmp_path / "x").write_bytes(b"x")
    keys = [f"p/{i:02d}" for i in range(7)]
    for k in keys:
        api("put-object", "--bucket", bucket, "--key", k, "--body", tmp_path / "x")
    # --page-size makes the CLI follow NextContinuationToken itself.
    out = api("list-objects-v2", "--bucket", bucket, "--page-size", "3")
    assert [o["Key"] for o in out["Contents"]] == keys
    out = api("list-objects-v2", "--bucket", bucket, "--max-items", "4", "--page-size", "3")
    assert [o["Key"] for o in out["Contents"]] == keys[:4]
    assert out.get("NextToken")
    out = api("list-objects-v2", "--bucket", bucket, "--starting-token", out["NextToken"], "--page-size", "3")
    assert [o["Key"] for o in out["Contents"]] == keys[4:]


def test_get_object_attributes(api, bucket, tmp_path):
    f = tmp_path / "a"
    data = os.urandom(12345)
    f.write_bytes(data)
    put = api("put-object", "--bucket", bucket, "--key", "attr", "--body", f, "--checksum-algorithm", "SHA256")
    assert put["ChecksumSHA256"] == checksum("SHA256", data)
    attrs = api(
        "get-object-attributes", "--bucket", bucket, "--key", "attr",
        "--object-attributes", "ETag", "ObjectSize", "StorageClass", "Checksum", "ObjectParts",
    )
    assert attrs["ETag"] == put["ETag"].strip('"')  # GetObjectAttributes returns the ETag unquoted
    assert attrs["ObjectSize"] == 12345
    assert attrs["Checksum"]["ChecksumSHA256"] == checksum("SHA256", data)
    assert "ObjectParts" not in attrs
    assert "LastModified" in attrs


def test_bucket_tagging(api, cli, bucket):
    err = api_error(cli, "get-bucket-tagging", "--bucket", bucket)
    assert "(NoSuchTagSet)" in err, err
    api("put-bucket-tagging", "--bucket", bucket, "--tagging", "TagSet=[{Key=team,Value=storage},{Key=cost,Value=42}]")
    tags = api("get-bucket-tagging", "--bucket", bucket)["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("cost", "42"), ("team", "storage")]
    api("delete-bucket-tagging", "--bucket", bucket)
    err = api_error(cli, "get-bucket-tagging", "--bucket", bucket)
    assert "(NoSuchTagSet)" in err, err


def test_multipart_upload_by_hand(api, bucket, tmp_path):
    part1 = os.urandom(5 * MiB)
    part2 = os.urandom(1234)
    (tmp_path / "p1").write_bytes(part1)
    (tmp_path / "p2").write_bytes(part2)
    up = api("create-multipart-upload", "--bucket", bucket, "--key", "mp/obj", "--checksum-algorithm", "CRC32",
             "--content-type", "video/mp4", "--metadata", "k=v")
    upload_id = up["UploadId"]
    assert up["Key"] == "mp/obj" and up["Bucket"] == bucket

    listed = api("list-multipart-uploads", "--bucket", bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("mp/obj", upload_id)]

    etags = []
    for n, name, data in [(1, "p1", part1), (2, "p2", part2)]:
        r = api("upload-part", "--bucket", bucket, "--key", "mp/obj", f"--upload-id={upload_id}",
                "--part-number", str(n), "--body", tmp_path / name)
        assert r["ETag"] == md5_etag(data)
        assert r["ChecksumCRC32"] == checksum("CRC32", data)
        etags.append(r["ETag"])

    parts = api("list-parts", "--bucket", bucket, "--key", "mp/obj", f"--upload-id={upload_id}")["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etags[0], len(part1)), (2, etags[1], len(part2))]
    assert [p.get("ChecksumCRC32") for p in parts] == [checksum("CRC32", part1), checksum("CRC32", part2)]

    spec = tmp_path / "parts.json"
    spec.write_text(json.dumps({"Parts": [
        {"PartNumber": 1, "ETag": etags[0], "ChecksumCRC32": checksum("CRC32", part1)},
        {"PartNumber": 2, "ETag": etags[1], "ChecksumCRC32": checksum("CRC32", part2)},
    ]}))
    done = api("complete-multipart-upload", "--bucket", bucket, "--key", "mp/obj", f"--upload-id={upload_id}",
               "--multipart-upload", f"file://{spec}")
    assert done["ETag"] == multipart_etag([part1, part2])
    assert done["Key"] == "mp/obj"
    assert done.get("ChecksumCRC32") == composite_checksum("CRC32", [part1, part2])

    head = api("head-object", "--bucket", bucket, "--key", "mp/obj", "--checksum-mode", "ENABLED")
    assert head["ContentLength"] == len(part1) + len(part2)
    assert head["ETag"] == multipart_etag([part1, part2])
    assert head["ContentType"] == "video/mp4"
    assert head["Metadata"] == {"k": "v"}
    assert head["ChecksumCRC32"] == composite_checksum("CRC32", [part1, part2])
    assert "Uploads" not in api("list-multipart-uploads", "--bucket", bucket)

    attrs = api("get-object-attributes", "--bucket", bucket, "--key", "mp/obj", "--object-attributes", "ObjectParts", "ETag")
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2
    assert attrs["ETag"] == multipart_etag([part1, part2]).strip('"')


def test_abort_multipart_upload(api, cli, bucket, tmp_path):
    ids = [api("create-multipart-upload", "--bucket", bucket, "--key", f"ab/{i}")["UploadId"] for i in range(3)]
    listed = api("list-multipart-uploads", "--bucket", bucket)["Uploads"]
    assert sorted(u["UploadId"] for u in listed) == sorted(ids)
    api("abort-multipart-upload", "--bucket", bucket, "--key", "ab/1", f"--upload-id={ids[1]}")
    listed = api("list-multipart-uploads", "--bucket", bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("ab/0", ids[0]), ("ab/2", ids[2])]
    err = api_error(cli, "list-parts", "--bucket", bucket, "--key", "ab/1", f"--upload-id={ids[1]}")
    assert "(NoSuchUpload)" in err, err
    (tmp_path / "p").write_bytes(b"late part")
    err = api_error(cli, "upload-part", "--bucket", bucket, "--key", "ab/1", f"--upload-id={ids[1]}",
                    "--part-number", "1", "--body", tmp_path / "p")
    assert "(NoSuchUpload)" in err, err
    assert "Contents" not in api("list-objects-v2", "--bucket", bucket)


def test_delete_objects_from_file(api, bucket, tmp_path):
    for k in ["a", "b", "c", "keep"]:
        (tmp_path / "x").write_bytes(k.encode())
        api("put-object", "--bucket", bucket, "--key", k, "--body", tmp_path / "x")
    spec = tmp_path / "del.json"
    spec.write_text(json.dumps({"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c"}, {"Key": "never-existed"}]}))
    out = api("delete-objects", "--bucket", bucket, "--delete", f"file://{spec}")
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "b", "c", "never-existed"]
    assert "Errors" not in out
    assert [o["Key"] for o in api("list-objects-v2", "--bucket", bucket)["Contents"]] == ["keep"]


def test_error_no_such_bucket(cli, tmp_path):
    missing = new_bucket_name("missing")
    err = api_error(cli, "list-objects-v2", "--bucket", missing)
    assert "An error occurred (NoSuchBucket)" in err, err
    err = api_error(cli, "get-object", "--bucket", missing, "--key", "k", tmp_path / "x")
    assert "An error occurred (NoSuchBucket)" in err, err
    err = api_error(cli, "head-bucket", "--bucket", missing)
    assert "An error occurred (404)" in err, err


def test_error_no_such_key(cli, bucket, tmp_path):
    err = api_error(cli, "get-object", "--bucket", bucket, "--key", "nope", tmp_path / "x")
    assert "An error occurred (NoSuchKey) when calling the GetObject operation" in err, err
    err = api_error(cli, "head-object", "--bucket", bucket, "--key", "nope")
    assert "An error occurred (404)" in err, err


def test_error_bucket_not_empty(api, cli, bucket, tmp_path):
    (tmp_path / "x").write_bytes(b"x")
    api("put-object", "--bucket", bucket, "--key", "x", "--body", tmp_path / "x")
    err = api_error(cli, "delete-bucket", "--bucket", bucket)
    assert "An error occurred (BucketNotEmpty)" in err, err
    api("delete-object", "--bucket", bucket, "--key", "x")
    api("delete-bucket", "--bucket", bucket)
    err = api_error(cli, "head-bucket", "--bucket", bucket)
    assert "(404)" in err, err


@pytest.mark.parametrize("name", ["ab", "Upper-Case-Bucket", "under_score", "-starts-with-dash", "double..dot", "192.168.5.4"])
def test_error_invalid_bucket_name(cli, name):
    err = api_error(cli, "create-bucket", f"--bucket={name}")
    assert "An error occurred (InvalidBucketName)" in err, err
