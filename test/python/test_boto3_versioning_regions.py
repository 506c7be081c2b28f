"""Versioning semantics and multi-region behaviour through boto3."""
from __future__ import annotations

import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import MiB, headers, new_bucket_name, status
from s3util import err, md5_etag


def versions(s3, bucket, key=None):
    """[(key, version id, is latest, 'v' or 'dm')] in listing order."""
    r = s3.list_object_versions(Bucket=bucket, **({"Prefix": key} if key else {}))
    out = [(v["Key"], v["VersionId"], v["IsLatest"], "v") for v in r.get("Versions", [])]
    out += [(m["Key"], m["VersionId"], m["IsLatest"], "dm") for m in r.get("DeleteMarkers", [])]
    return r, out


# ---------------------------------------------------------------------------------------------
# Versioning


def test_versioning_status_transitions(s3, bucket):
    r = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in r
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Disabled"})
    # The code varies between S3 look-alikes (MalformedXML, IllegalVersioningConfigurationException);
    # only the status is certain.
    assert err(e.value)[1] == 400
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_unversioned_bucket_reports_no_version_ids(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "VersionId" not in put
    assert "VersionId" not in s3.get_object(Bucket=bucket, Key="k")
    r, vs = versions(s3, bucket)
    assert vs == [("k", "null", True, "v")]


def test_enabled_versions_are_kept_and_addressable(s3, versioned_bucket):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")
    id1, id2 = v1["VersionId"], v2["VersionId"]
    assert id1 != id2 and "null" not in (id1, id2)
    assert headers(v2)["x-amz-version-id"] == id2
    cur = s3.get_object(Bucket=b, Key="doc")
    assert cur["Body"].read() == b"two" and cur["VersionId"] == id2
    old = s3.get_object(Bucket=b, Key="doc", VersionId=id1)
    assert old["Body"].read() == b"one" and old["VersionId"] == id1
    assert s3.head_object(Bucket=b, Key="doc", VersionId=id1)["ETag"] == md5_etag(b"one")
    _, vs = versions(s3, b)
    assert vs == [("doc", id2, True, "v"), ("doc", id1, False, "v")]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="doc", VersionId="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
    assert err(e.value)[1] in (400, 404) and err(e.value)[0] in ("NoSuchVersion", "InvalidArgument")


def test_delete_marker_and_restore(s3, versioned_bucket):
    b = versioned_bucket
    id1 = s3.put_object(Bucket=b, Key="doc", Body=b"precious")["VersionId"]
    d = s3.delete_object(Bucket=b, Key="doc")
    assert status(d) == 204
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    assert marker != id1

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="doc")
    assert err(e.value) == ("NoSuchKey", 404)
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=b, Key="doc")
    assert err(e.value) == ("404", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="doc", VersionId=marker)
    assert err(e.value) == ("MethodNotAllowed", 405)
    h = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert h.get("x-amz-delete-marker") == "true" and h.get("x-amz-version-id") == marker
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=b, Key="doc", VersionId=marker)
    assert err(e.value) == ("405", 405)
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0

    _, vs = versions(s3, b)
    assert sorted(vs) == sorted([("doc", id1, False, "v"), ("doc", marker, True, "dm")])

    # Restore: delete the marker itself.
    r = s3.delete_object(Bucket=b, Key="doc", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    got = s3.get_object(Bucket=b, Key="doc")
    assert got["Body"].read() == b"precious" and got["VersionId"] == id1
    _, vs = versions(s3, b)
    assert vs == [("doc", id1, True, "v")]


def test_delete_by_version_id_is_permanent(s3, versioned_bucket):
    b = versioned_bucket
    ids = [s3.put_object(Bucket=b, Key="k", Body=str(i).encode())["VersionId"] for i in range(3)]
    r = s3.delete_object(Bucket=b, Key="k", VersionId=ids[2])  # the current one
    assert r["VersionId"] == ids[2] and "DeleteMarker" not in r
    # The previous version becomes current; no delete marker was created.
    got = s3.get_object(Bucket=b, Key="k")
    assert got["Body"].read() == b"1" and got["VersionId"] == ids[1]
    _, vs = versions(s3, b)
    assert vs == [("k", ids[1], True, "v"), ("k", ids[0], False, "v")]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="k", VersionId=ids[2])
    assert err(e.value) == ("NoSuchVersion", 404)
    # Delete the rest: the key disappears entirely.
    for v in ids[:2]:
        s3.delete_object(Bucket=b, Key="k", VersionId=v)
    r, vs = versions(s3, b)
    assert vs == []
    s3.delete_bucket(Bucket=b)


def test_null_version_from_before_versioning(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"pre-versioning")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"versioned")["VersionId"]
    _, vs = versions(s3, bucket)
    assert vs == [("k", vid, True, "v"), ("k", "null", False, "v")]
    old = s3.get_object(Bucket=bucket, Key="k", VersionId="null")
    assert old["Body"].read() == b"pre-versioning"
    assert old.get("VersionId", "null") == "null"


def test_suspended_versioning_null_version_semantics(s3, versioned_bucket):
    b = versioned_bucket
    kept = s3.put_object(Bucket=b, Key="k", Body=b"enabled-era")["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})

    s3.put_object(Bucket=b, Key="k", Body=b"suspended-1")
    _, vs = versions(s3, b)
    assert vs == [("k", "null", True, "v"), ("k", kept, False, "v")]

    # A second PUT replaces the null version rather than adding one.
    s3.put_object(Bucket=b, Key="k", Body=b"suspended-2")
    _, vs = versions(s3, b)
    assert vs == [("k", "null", True, "v"), ("k", kept, False, "v")]
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"suspended-2"
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"suspended-2"
    assert s3.get_object(Bucket=b, Key="k", VersionId=kept)["Body"].read() == b"enabled-era"

    # DELETE without a version id: the null version is replaced by a null delete marker.
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True
    assert d.get("VersionId") == "null"
    _, vs = versions(s3, b)
    assert sorted(vs) == sorted([("k", "null", True, "dm"), ("k", kept, False, "v")])

    # Removing the null delete marker makes the enabled-era version current again.
    s3.delete_object(Bucket=b, Key="k", VersionId="null")
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"enabled-era"

    # Versions written while enabled survive a re-enable; new ones get real ids.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    new = s3.put_object(Bucket=b, Key="k", Body=b"again")["VersionId"]
    assert new not in ("null", kept)


def test_copy_specific_version(s3, versioned_bucket):
    b = versioned_bucket
    id1 = s3.put_object(Bucket=b, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=b, Key="src", Body=b"second")
    r = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src", "VersionId": id1})
    assert r["CopySourceVersionId"] == id1
    assert r["VersionId"]
    assert s3.get_object(Bucket=b, Key="dst")["Body"].read() == b"first"


def test_delete_markers_and_copy_sources(s3, versioned_bucket):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"data")["VersionId"]
    marker = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    # The current version is a delete marker: nothing to copy.
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "k"})
    assert err(e.value) == ("NoSuchKey", 404)
    # A copy source may not name a delete marker.
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "k", "VersionId": marker})
    assert err(e.value) == ("InvalidRequest", 400)
    # An older version is still a fine copy source.
    s3.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "k", "VersionId": v1})
    assert s3.get_object(Bucket=b, Key="c")["Body"].read() == b"data"
    # DeleteObjects on the marker's version id removes the marker and says so.
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k", "VersionId": marker}]})
    (d,) = r["Deleted"]
    assert d["Key"] == "k" and d["VersionId"] == marker
    assert d.get("DeleteMarker") is True and d.get("DeleteMarkerVersionId") == marker
    assert s3.get_object(Bucket=b, Key="k")["VersionId"] == v1


def test_tagging_a_specific_version(s3, versioned_bucket):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"1", Tagging="gen=1")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"2", Tagging="gen=2")["VersionId"]
    r = s3.put_object_tagging(Bucket=b, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "gen", "Value": "one"}]})
    assert r["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=b, Key="k", VersionId=v1)["TagSet"] == [{"Key": "gen", "Value": "one"}]
    cur = s3.get_object_tagging(Bucket=b, Key="k")
    assert cur["TagSet"] == [{"Key": "gen", "Value": "2"}] and cur["VersionId"] == v2


def test_list_object_versions_with_delimiter_and_prefix(s3, versioned_bucket):
    b = versioned_bucket
    for k in ["top", "dir/a", "dir/b", "dir/sub/c", "other/d"]:
        s3.put_object(Bucket=b, Key=k, Body=b"1")
        s3.put_object(Bucket=b, Key=k, Body=b"2")
    s3.delete_object(Bucket=b, Key="dir/b")
    r = s3.list_object_versions(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/", "other/"]
    assert [v["Key"] for v in r["Versions"]] == ["top", "top"]
    r = s3.list_object_versions(Bucket=b, Prefix="dir/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub/"]
    assert [v["Key"] for v in r["Versions"]] == ["dir/a", "dir/a", "dir/b", "dir/b"]
    assert [(m["Key"], m["IsLatest"]) for m in r["DeleteMarkers"]] == [("dir/b", True)]


def test_delete_versioned_bucket_requires_all_versions_gone(s3, versioned_bucket):
    b = versioned_bucket
    vid = s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert err(e.value) == ("BucketNotEmpty", 409)
    s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k", "VersionId": vid}, {"Key": "k", "VersionId": marker}]})
    assert status(s3.delete_bucket(Bucket=b)) == 204


# ---------------------------------------------------------------------------------------------
# Regions


@pytest.mark.parametrize("region", ["us-west-2", "eu-west-1"])
def test_create_bucket_in_region_with_regional_client(client_for, s3, bucket_name, region):
    c = client_for(region)
    r = c.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": region})
    assert status(r) == 200
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == region
    assert c.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == region
    h = c.head_bucket(Bucket=bucket_name)
    assert h["BucketRegion"] == region
    assert headers(h)["x-amz-bucket-region"] == region
    c.put_object(Bucket=bucket_name, Key="k", Body=region.encode())
    assert c.get_object(Bucket=bucket_name, Key="k")["Body"].read() == region.encode()


def test_us_east_1_bucket_location_and_region_header(s3, bucket):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    assert headers(s3.head_bucket(Bucket=bucket))["x-amz-bucket-region"] == "us-east-1"


def test_us_east_1_client_on_us_west_2_bucket_is_redirected(client_for, bucket_name, tmp_path):
    west, east = client_for("us-west-2"), client_for("us-east-1")
    west.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    b = bucket_name
    # Every call below is first signed for us-east-1, refused with the bucket's region, re-signed.
    h = east.head_bucket(Bucket=b)
    assert status(h) == 200 and h["BucketRegion"] == "us-west-2"
    put = east.put_object(Bucket=b, Key="dir/k", Body=b"redirected", Metadata={"a": "b"})
    assert put["ETag"] == md5_etag(b"redirected")
    got = east.get_object(Bucket=b, Key="dir/k")
    assert got["Body"].read() == b"redirected" and got["Metadata"] == {"a": "b"}
    assert east.head_object(Bucket=b, Key="dir/k")["ContentLength"] == len(b"redirected")
    listed = east.list_objects_v2(Bucket=b)
    assert [o["Key"] for o in listed["Contents"]] == ["dir/k"]
    assert [p["Prefix"] for p in east.list_objects_v2(Bucket=b, Delimiter="/")["CommonPrefixes"]] == ["dir/"]
    east.copy_object(Bucket=b, Key="dir/copy", CopySource={"Bucket": b, "Key": "dir/k"})
    east.put_object_tagging(Bucket=b, Key="dir/k", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    assert east.get_object_tagging(Bucket=b, Key="dir/k")["TagSet"] == [{"Key": "t", "Value": "1"}]
    r = east.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "dir/copy"}]})
    assert [d["Key"] for d in r["Deleted"]] == ["dir/copy"]
    # s3transfer multipart through the redirect (streaming bodies get re-sent).
    src = tmp_path / "mp.bin"
    data = os.urandom(11 * MiB)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    east.upload_file(str(src), b, "mp.bin", Config=cfg)
    assert west.head_object(Bucket=b, Key="mp.bin")["ETag"].endswith('-3"')
    assert west.get_object(Bucket=b, Key="mp.bin")["Body"].read() == data
    east.delete_object(Bucket=b, Key="mp.bin")
    east.delete_object(Bucket=b, Key="dir/k")
    assert status(east.delete_bucket(Bucket=b)) == 204
    with pytest.raises(ClientError) as e:
        west.head_bucket(Bucket=b)
    assert err(e.value) == ("404", 404)


def test_eu_west_1_client_on_us_east_1_bucket_is_redirected(client_for, s3, bucket):
    eu = client_for("eu-west-1")
    eu.put_object(Bucket=bucket, Key="k", Body=b"east")
    assert eu.get_object(Bucket=bucket, Key="k")["Body"].read() == b"east"
    assert eu.head_bucket(Bucket=bucket)["BucketRegion"] == "us-east-1"


def test_wrong_region_answer_carries_the_bucket_region(server, client_for, bucket_name):
    """The raw first answer to a request signed for the wrong region, which botocore's redirector
    reads. For a path-style request AWS answers 301 PermanentRedirect; a request it reads as sent
    to the right endpoint but signed for the wrong region gets 400 AuthorizationHeaderMalformed
    with <Region>. Both carry x-amz-bucket-region, which is what the redirector needs."""
    from conftest import make_client

    client_for("us-west-2").create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    c = make_client(server, "eu-west-1")
    seen = []

    def record(response, **kw):
        if response is not None:
            http, parsed = response
            seen.append((http.status_code, dict(http.headers), parsed.get("Error", {})))

    c.meta.events.register_first("needs-retry.s3.ListObjectsV2", record)
    r = c.list_objects_v2(Bucket=bucket_name)
    assert status(r) == 200 and r["KeyCount"] == 0
    assert len(seen) == 2
    code, hdrs, error = seen[0]
    assert (code, error.get("Code")) in ((301, "PermanentRedirect"), (400, "AuthorizationHeaderMalformed"))
    if code == 400:
        assert error.get("Region") == "us-west-2"
    assert {k.lower(): v for k, v in hdrs.items()}.get("x-amz-bucket-region") == "us-west-2"
    assert seen[1][0] == 200


def test_list_buckets_shows_bucket_region(client_for):
    names = {r: new_bucket_name(r.replace("-", "")[:6]) for r in ("us-east-1", "us-west-2", "eu-west-1")}
    for region, name in names.items():
        cfg = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client_for(region).create_bucket(Bucket=name, **cfg)
    for client_region in ("us-east-1", "eu-west-1"):
        r = client_for(client_region).list_buckets()
        regions = {b["Name"]: b.get("BucketRegion") for b in r["Buckets"]}
        for region, name in names.items():
            assert regions.get(name) == region, (client_region, name)
        assert r["Owner"]["ID"]
        created = [b["CreationDate"] for b in r["Buckets"] if b["Name"] in names.values()]
        assert len(created) == 3
    # AWS's newer ListBuckets filters.
    r = client_for("us-east-1").list_buckets(BucketRegion="eu-west-1")
    assert names["eu-west-1"] in [b["Name"] for b in r["Buckets"]]
    assert all(b["BucketRegion"] == "eu-west-1" for b in r["Buckets"])
    r = client_for("us-east-1").list_buckets(Prefix=names["us-west-2"])
    assert [b["Name"] for b in r["Buckets"]] == [names["us-west-2"]]


def test_list_buckets_paginated(client_for):
    prefix = new_bucket_name("pg")
    made = sorted(f"{prefix}-{i}" for i in range(5))
    for n in made:
        client_for("us-east-1").create_bucket(Bucket=n)
    pages = list(client_for("us-east-1").get_paginator("list_buckets").paginate(Prefix=prefix, PaginationConfig={"PageSize": 2}))
    assert [[b["Name"] for b in p["Buckets"]] for p in pages] == [made[0:2], made[2:4], made[4:]]


def test_bucket_already_owned_by_you_in_us_west_2(client_for, bucket_name):
    west = client_for("us-west-2")
    west.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    with pytest.raises(ClientError) as e:
        west.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert err(e.value) == ("BucketAlreadyOwnedByYou", 409)


def test_recreate_own_bucket_in_us_east_1_is_ok(s3, bucket):
    # AWS's legacy us-east-1 behaviour: re-creating a bucket you own there answers 200.
    assert status(s3.create_bucket(Bucket=bucket)) == 200


def test_create_existing_bucket_in_another_region_conflicts(client_for, bucket_name):
    client_for("us-west-2").create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    with pytest.raises(ClientError) as e:
        client_for("eu-west-1").create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err(e.value)[1] == 409
    assert client_for("us-east-1").get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == "us-west-2"


def test_illegal_location_constraint(client_for, bucket_name):
    with pytest.raises(ClientError) as e:
        client_for("us-west-2").create_bucket(Bucket=bucket_name)
    assert err(e.value) == ("IllegalLocationConstraintException", 400)
    # A constraint that disagrees with the endpoint's region is refused too.
    with pytest.raises(ClientError) as e:
        client_for("us-west-2").create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err(e.value) == ("IllegalLocationConstraintException", 400)
    # us-east-1 may not be named explicitly.
    with pytest.raises(ClientError) as e:
        client_for("us-east-1").create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert err(e.value) == ("InvalidLocationConstraint", 400)
    with pytest.raises(ClientError) as e:
        client_for("us-east-1").head_bucket(Bucket=bucket_name)
    assert err(e.value) == ("404", 404)


def test_unknown_location_constraint(s3, bucket_name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "mars-north-1"})
    assert err(e.value) == ("InvalidLocationConstraint", 400)


def test_same_key_in_buckets_of_different_regions_is_independent(client_for):
    a, b = new_bucket_name("ra"), new_bucket_name("rb")
    client_for("us-west-2").create_bucket(Bucket=a, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    client_for("eu-west-1").create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    client_for("us-west-2").put_object(Bucket=a, Key="same", Body=b"west")
    client_for("eu-west-1").put_object(Bucket=b, Key="same", Body=b"eu")
    # Cross-region server-side copy, signed for the destination's region.
    client_for("eu-west-1").copy_object(Bucket=b, Key="from-west", CopySource={"Bucket": a, "Key": "same"})
    assert client_for("eu-west-1").get_object(Bucket=b, Key="from-west")["Body"].read() == b"west"
    assert client_for("us-west-2").get_object(Bucket=a, Key="same")["Body"].read() == b"west"
    assert client_for("eu-west-1").get_object(Bucket=b, Key="same")["Body"].read() == b"eu"
