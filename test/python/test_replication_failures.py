"""Replication failures (spec §3 rules 3-5, §4.4 reasons, §1.5) and the diagnostics a user has
for them: the signed admin endpoints /_xregion/replication/{status,explain} and their CLI twins
`xregion replication status|explain|verify`.

Admin assertions skip (pytest.skip) while the endpoints / subcommands do not exist yet.
"""
from __future__ import annotations

import json

import pytest

from replication_util import (
    Admin,
    config,
    create_bucket,
    empty_and_delete_bucket,
    find_version,
    head,
    list_versions,
    repl_status,
    require_xregion_cli,
    stays,
    unique,
    v2_rule,
    wait_status,
    wait_until,
)

GRACE = 1.5


class Env:
    def __init__(self, server, client_for):
        self.url = server.url
        self.c = {r: client_for(r) for r in ("us-east-1", "us-west-2", "eu-west-1")}
        self.e, self.w, self.eu = self.c["us-east-1"], self.c["us-west-2"], self.c["eu-west-1"]
        self.admin = Admin(server.url)

    def make(self, region: str, prefix: str = "fa", versioning: str | None = "Enabled") -> str:
        return create_bucket(self.c[region], unique(prefix), region, versioning)

    def configure(self, bucket: str, *rules, region: str = "us-east-1"):
        self.c[region].put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config(*rules))


@pytest.fixture
def env(server, client_for):
    return Env(server, client_for)


def failed_entry(doc: dict, key: str, version_id: str) -> dict | None:
    for f in doc.get("failed", []):
        if f.get("key") == key and f.get("versionId") == version_id:
            return f
    return None


# =============================================================================================
# DstBucketNotFound


def test_destination_bucket_deleted_then_recreated(env):
    e, w = env.e, env.w
    src = env.make("us-east-1", "fasrc")
    dst = env.make("us-west-2", "fadst")
    env.configure(src, v2_rule(dst, "to-dst", 1))
    ok = e.put_object(Bucket=src, Key="ok", Body=b"1")["VersionId"]
    wait_status(e, src, "ok", ok, "COMPLETED")

    empty_and_delete_bucket(w, dst)
    lost = e.put_object(Bucket=src, Key="lost", Body=b"2")["VersionId"]
    wait_status(e, src, "lost", lost, "FAILED")
    assert repl_status(e, src, "ok", ok) == "COMPLETED"

    st, doc, body = env.admin.get("status", bucket=src)
    admin_ok = st == 200 and doc is not None
    if admin_ok:
        f = failed_entry(doc, "lost", lost)
        assert f is not None, doc
        assert f["reason"] == "DstBucketNotFound", f
        assert dst in f["destination"], f
        assert f["ruleId"] == "to-dst", f
        assert f["attempts"] >= 1 and isinstance(f.get("error"), str), f
        assert failed_entry(doc, "ok", ok) is None

    # "Deleting and recreating the destination bucket will not initiate replication" (§1.5);
    # new versions replicate again, FAILED ones stay FAILED (§3 rule 4).
    create_bucket(w, dst, "us-west-2")
    after = e.put_object(Bucket=src, Key="after", Body=b"3")["VersionId"]
    wait_status(e, src, "after", after, "COMPLETED", timeout=15)
    assert w.head_object(Bucket=dst, Key="after", VersionId=after)["ReplicationStatus"] == "REPLICA"
    stays(lambda: repl_status(e, src, "lost", lost) == "FAILED" and head(w, dst, "lost") is None, GRACE,
          desc="old FAILED version stays FAILED and absent")
    assert head(w, dst, "ok") is None  # the earlier replica went with the deleted bucket; not re-sent
    # uploading the object again is the user's remedy
    again = e.put_object(Bucket=src, Key="lost", Body=b"2")["VersionId"]
    wait_status(e, src, "lost", again, "COMPLETED")
    assert repl_status(e, src, "lost", lost) == "FAILED"
    if admin_ok:
        doc = env.admin.status(src)
        assert failed_entry(doc, "lost", lost) is not None, "a FAILED version left the failure list"
        assert failed_entry(doc, "lost", again) is None and failed_entry(doc, "after", after) is None


def test_status_endpoint_lists_reason_destination_not_found(env):
    src = env.make("us-east-1", "fasrc")
    dst = env.make("us-west-2", "fadst")
    env.configure(src, v2_rule(dst, "r1", 1))
    empty_and_delete_bucket(env.w, dst)
    vids = [env.e.put_object(Bucket=src, Key=f"k{i}", Body=b"x" * (i + 1))["VersionId"] for i in range(3)]
    for i, v in enumerate(vids):
        wait_status(env.e, src, f"k{i}", v, "FAILED")
    doc = env.admin.status(src)
    assert doc["bucket"] == src
    assert doc["pending"]["operations"] == 0 and doc["pending"]["bytes"] == 0, doc
    reasons = {(f["key"], f["versionId"]): f["reason"] for f in doc["failed"]}
    assert reasons == {(f"k{i}", v): "DstBucketNotFound" for i, v in enumerate(vids)}


# =============================================================================================
# DstBucketUnversioned


def test_destination_versioning_suspended(env):
    e, w = env.e, env.w
    src = env.make("us-east-1", "fasrc")
    dst = env.make("us-west-2", "fadst")
    env.configure(src, v2_rule(dst, "to-dst", 1))
    w.put_bucket_versioning(Bucket=dst, VersioningConfiguration={"Status": "Suspended"})
    bad = e.put_object(Bucket=src, Key="k", Body=b"1")["VersionId"]
    wait_status(e, src, "k", bad, "FAILED")
    assert head(w, dst, "k") is None

    st, doc, _ = env.admin.get("status", bucket=src)
    if st == 200 and doc is not None:
        f = failed_entry(doc, "k", bad)
        assert f is not None and f["reason"] == "DstBucketUnversioned", doc

    w.put_bucket_versioning(Bucket=dst, VersioningConfiguration={"Status": "Enabled"})
    good = e.put_object(Bucket=src, Key="k", Body=b"2")["VersionId"]
    wait_status(e, src, "k", good, "COMPLETED")
    assert w.head_object(Bucket=dst, Key="k")["VersionId"] == good
    stays(lambda: repl_status(e, src, "k", bad) == "FAILED" and find_version(w, dst, "k", bad) is None, GRACE,
          desc="FAILED version not retried")
    assert [v["VersionId"] for v in list_versions(w, dst, "k")] == [good]


# =============================================================================================
# §3 rule 5: several destinations, one failing


def test_one_failed_destination_makes_source_failed(env):
    e = env.e
    src = env.make("us-east-1", "fasrc")
    good = env.make("us-west-2", "fadst")
    gone = env.make("eu-west-1", "fadst")
    env.configure(src, v2_rule(good, "good", 1), v2_rule(gone, "gone", 2))
    empty_and_delete_bucket(env.eu, gone)
    v = e.put_object(Bucket=src, Key="k", Body=b"x")["VersionId"]
    wait_status(e, src, "k", v, "FAILED")
    # the healthy destination still got its copy
    r = wait_until(lambda: head(env.w, good, "k", v), 10, desc="copy at the healthy destination")
    assert r["ReplicationStatus"] == "REPLICA"
    stays(lambda: repl_status(e, src, "k", v) == "FAILED", GRACE, desc="source stays FAILED")
    st, doc, _ = env.admin.get("status", bucket=src)
    if st == 200 and doc is not None:
        fs = [f for f in doc["failed"] if f["key"] == "k"]
        assert len(fs) == 1 and gone in fs[0]["destination"] and fs[0]["reason"] == "DstBucketNotFound", fs
        assert fs[0]["ruleId"] == "gone"


# =============================================================================================
# explain


@pytest.fixture
def explained(env):
    """A source with: a Disabled rule (prefix off/), a tag rule (docs/ + a=1,b=2), a prefix rule
    (logs/), and star/starship rules to one bucket."""
    src = env.make("us-east-1", "fxsrc")
    d1 = env.make("us-west-2", "fxdst")
    d2 = env.make("eu-west-1", "fxdst")
    env.configure(
        src,
        v2_rule(d1, "off", 1, prefix="off/", status="Disabled"),
        v2_rule(d1, "docs", 2, filter={"And": {"Prefix": "docs/", "Tags": [
            {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}),
        v2_rule(d2, "logs", 3, prefix="logs/", dmr="Enabled"),
        v2_rule(d2, "star", 4, prefix="star", storage_class="STANDARD_IA"),
        v2_rule(d2, "starship", 5, prefix="starship", storage_class="ONEZONE_IA"),
    )
    return src, d1, d2


def rule_of(doc: dict, rule_id: str) -> dict:
    for r in doc["rules"]:
        if r["id"] == rule_id:
            return r
    raise AssertionError(f"rule {rule_id} not in explain answer: {doc}")


def test_explain_disabled_rule(env, explained):
    src, d1, _ = explained
    doc = env.admin.explain(src, "off/x")
    assert doc["replicates"] is False
    assert doc.get("reason")
    r = rule_of(doc, "off")
    assert r["status"] == "Disabled" and r["selects"] is False and r.get("reason")
    assert d1 in r["destination"]
    assert doc["destinations"] == []


def test_explain_prefix_mismatch(env, explained):
    src, _, _ = explained
    doc = env.admin.explain(src, "elsewhere/x")
    assert doc["replicates"] is False and doc.get("reason")
    for rid in ("docs", "logs", "star", "starship"):
        r = rule_of(doc, rid)
        assert r["selects"] is False and r.get("reason"), r
    assert "prefix" in rule_of(doc, "logs")["reason"].lower()


def test_explain_tag_mismatch_and_match(env, explained):
    src, d1, _ = explained
    doc = env.admin.explain(src, "docs/report", tags={"a": "1"})
    assert doc["replicates"] is False
    r = rule_of(doc, "docs")
    assert r["selects"] is False and "tag" in r["reason"].lower(), r
    doc = env.admin.explain(src, "docs/report", tags={"a": "1", "b": "2", "c": "3"})
    assert doc["replicates"] is True
    assert rule_of(doc, "docs")["selects"] is True
    assert len(doc["destinations"]) == 1
    d = doc["destinations"][0]
    assert d1 in d["destination"] and d["rule"] == "docs" and d["outranked"] == []


def test_explain_priority_outranked(env, explained):
    src, _, d2 = explained
    doc = env.admin.explain(src, "starship-x")
    assert doc["replicates"] is True
    assert len(doc["destinations"]) == 1
    d = doc["destinations"][0]
    assert d2 in d["destination"]
    assert d["rule"] == "starship" and d["outranked"] == ["star"] and d["storageClass"] == "ONEZONE_IA", d


def test_explain_replica(env):
    e, w = env.e, env.w
    a = env.make("us-east-1", "fxa")
    b = env.make("us-west-2", "fxb")
    c = env.make("eu-west-1", "fxc")
    env.configure(a, v2_rule(b, "a-b", 1))
    env.configure(b, v2_rule(c, "b-c", 1), region="us-west-2")
    v = e.put_object(Bucket=a, Key="k", Body=b"1")["VersionId"]
    wait_status(e, a, "k", v, "COMPLETED")
    doc = env.admin.explain(b, "k")
    assert doc["replicates"] is False, doc
    assert "replica" in doc["reason"].lower(), doc
    assert doc["destinations"] == []
    # the same key written to b itself would replicate
    fresh = env.admin.explain(b, "other-key")
    assert fresh["replicates"] is True


def test_explain_delete_marker_under_tag_rule(env):
    e = env.e
    src = env.make("us-east-1", "fxsrc")
    dst = env.make("us-west-2", "fxdst")
    env.configure(src, v2_rule(dst, "tagged", 1, filter={"Tag": {"Key": "r", "Value": "1"}}))
    v = e.put_object(Bucket=src, Key="k", Body=b"1", Tagging="r=1")["VersionId"]
    wait_status(e, src, "k", v, "COMPLETED")
    e.delete_object(Bucket=src, Key="k")  # current version: a delete marker
    doc = env.admin.explain(src, "k")
    assert doc["replicates"] is False, doc
    r = rule_of(doc, "tagged")
    assert r["selects"] is False and r.get("reason"), r
    assert "delete marker" in (r["reason"] + " " + doc.get("reason", "")).lower(), doc


# =============================================================================================
# CLI twins


def test_cli_explain(env, explained):
    src, d1, _ = explained
    r = require_xregion_cli("replication", "explain", "--endpoint", env.url, "--bucket", src, "--key", "docs/x",
                            "--tags", "a=1,b=2")
    assert r.returncode == 0, r.stderr
    assert "docs" in r.stdout and d1 in r.stdout, r.stdout
    r = require_xregion_cli("replication", "explain", "--endpoint", env.url, "--bucket", src, "--key", "off/x")
    assert r.returncode == 0, r.stderr
    assert "off" in r.stdout and "disabled" in r.stdout.lower(), r.stdout


def test_cli_status_json_and_verify(env):
    e, w = env.e, env.w
    src = env.make("us-east-1", "fcsrc")
    dst = env.make("us-west-2", "fcdst")
    env.configure(src, v2_rule(dst, "r", 1))
    v = e.put_object(Bucket=src, Key="k", Body=b"1")["VersionId"]
    wait_status(e, src, "k", v, "COMPLETED")
    r = require_xregion_cli("replication", "status", "--endpoint", env.url, "--bucket", src, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["bucket"] == src and doc["pending"]["operations"] == 0 and doc["failed"] == []
    r = require_xregion_cli("replication", "verify", "--endpoint", env.url, "--bucket", src)
    assert r.returncode == 0, r.stdout + r.stderr

    # now make source and destination disagree: a FAILED version is missing at the destination
    w.put_bucket_versioning(Bucket=dst, VersioningConfiguration={"Status": "Suspended"})
    bad = e.put_object(Bucket=src, Key="k2", Body=b"2")["VersionId"]
    wait_status(e, src, "k2", bad, "FAILED")
    r = require_xregion_cli("replication", "status", "--endpoint", env.url, "--bucket", src, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [(f["key"], f["reason"]) for f in doc["failed"]] == [("k2", "DstBucketUnversioned")]
    r = require_xregion_cli("replication", "status", "--endpoint", env.url, "--bucket", src)
    assert "DstBucketUnversioned" in r.stdout, r.stdout
    r = require_xregion_cli("replication", "verify", "--endpoint", env.url, "--bucket", src)
    assert "failed" in r.stdout.lower(), r.stdout
    # A FAILED version is missing at its destination: source and destination disagree.
    assert r.returncode == 1, r.stdout
    assert "DstBucketUnversioned" in r.stdout, r.stdout

    # a replica removed at the destination (by version id) while the source says COMPLETED:
    # source and destination disagree
    w.put_bucket_versioning(Bucket=dst, VersioningConfiguration={"Status": "Enabled"})
    w.delete_object(Bucket=dst, Key="k", VersionId=v)
    assert repl_status(e, src, "k", v) == "COMPLETED"
    r = require_xregion_cli("replication", "verify", "--endpoint", env.url, "--bucket", src)
    assert r.returncode != 0, f"verify exited 0 although k is missing at the destination:\n{r.stdout}"
    assert "k" in r.stdout


# =============================================================================================
# admin endpoints: authentication and edge answers


def test_admin_endpoints_need_a_valid_signature(env):
    import urllib3

    src = env.make("us-east-1", "fauth")
    env.admin.status(src)  # skips while the endpoint does not exist
    http = urllib3.PoolManager()
    for what in ("status", "explain"):
        r = http.request("GET", f"{env.url}/_xregion/replication/{what}?bucket={src}&key=k", retries=False)
        assert r.status == 403, (what, r.status, r.data[:300])
        assert b'"pending"' not in r.data and b'"rules"' not in r.data
    from replication_util import signed_request
    import replication_util

    saved = replication_util.SECRET_KEY
    try:
        replication_util.SECRET_KEY = "wrong-secret"
        st, _, body = signed_request(env.url, "GET", "/_xregion/replication/status", {"bucket": src})
    finally:
        replication_util.SECRET_KEY = saved
    assert st == 403, (st, body[:300])


def test_admin_answers_for_unknown_bucket_and_unconfigured_bucket(env):
    plain = env.make("us-east-1", "fplain")
    doc = env.admin.explain(plain, "k")
    assert doc["replicates"] is False and doc.get("reason"), doc
    assert doc["rules"] == [] and doc["destinations"] == []
    st, _, _ = env.admin.get("status", bucket=unique("nosuch"))
    assert st == 404
