/**
 * The SQLite schema of one region's metadata, and its migrations. user_version records the
 * schema version of a database file; each migration moves it one step.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE buckets (
    name        TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    owner       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    versioning  TEXT NOT NULL DEFAULT ''
  );

  -- Bucket sub-resources (tagging, and later replication, policy, encryption ...), one
  -- document per kind, stored as their canonical JSON.
  CREATE TABLE bucket_config (
    bucket  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    doc     TEXT NOT NULL,
    PRIMARY KEY (bucket, kind)
  ) WITHOUT ROWID;

  -- One row per object version or delete marker. seq (the rowid) orders the versions of a key:
  -- a newer version always has a larger seq than the versions it follows.
  CREATE TABLE versions (
    seq            INTEGER PRIMARY KEY,
    bucket         TEXT NOT NULL,
    key            TEXT NOT NULL,
    version_id     TEXT NOT NULL,
    is_latest      INTEGER NOT NULL,
    is_dm          INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    etag           TEXT NOT NULL,
    last_modified  INTEGER NOT NULL,
    storage_class  TEXT NOT NULL,
    owner          TEXT NOT NULL,
    meta           TEXT,
    tags           TEXT,
    checksum       TEXT,
    parts_count    INTEGER,
    repl_status    TEXT,
    blob_id        TEXT,
    inline_data    BLOB
  );
  CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id);
  CREATE INDEX versions_in_order ON versions (bucket, key, seq DESC);
  -- The current objects of a bucket in key order: what ListObjects walks. Partial, so that
  -- older versions and delete markers cost a listing nothing.
  CREATE INDEX versions_current ON versions (bucket, key) WHERE is_latest = 1 AND is_dm = 0;
  CREATE INDEX versions_blob ON versions (blob_id) WHERE blob_id IS NOT NULL;

  -- The parts of completed multipart objects, in order.
  CREATE TABLE object_parts (
    version_seq    INTEGER NOT NULL,
    part_number    INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    etag           TEXT NOT NULL,
    blob_id        TEXT NOT NULL,
    last_modified  INTEGER NOT NULL,
    checksum       TEXT,
    PRIMARY KEY (version_seq, part_number)
  ) WITHOUT ROWID;
  CREATE INDEX object_parts_blob ON object_parts (blob_id);

  CREATE TABLE uploads (
    upload_id      TEXT PRIMARY KEY,
    bucket         TEXT NOT NULL,
    key            TEXT NOT NULL,
    initiated      INTEGER NOT NULL,
    owner          TEXT NOT NULL,
    storage_class  TEXT NOT NULL,
    meta           TEXT,
    tags           TEXT,
    checksum_algorithm TEXT,
    checksum_type  TEXT
  );
  CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated, upload_id);

  CREATE TABLE upload_parts (
    upload_id      TEXT NOT NULL,
    part_number    INTEGER NOT NULL,
    size           INTEGER NOT NULL,
    etag           TEXT NOT NULL,
    blob_id        TEXT NOT NULL,
    last_modified  INTEGER NOT NULL,
    checksum       TEXT,
    PRIMARY KEY (upload_id, part_number)
  ) WITHOUT ROWID;
  CREATE INDEX upload_parts_blob ON upload_parts (blob_id);
  `,
  `
  -- Replication outbox: one row per (version, destination, operation) still to replicate or
  -- failed. A row is inserted in the same transaction as the version it replicates, and
  -- deleted in the same transaction that records its success on the version's status.
  CREATE TABLE repl_tasks (
    id               INTEGER PRIMARY KEY,
    bucket           TEXT NOT NULL,
    key              TEXT NOT NULL,
    version_id       TEXT NOT NULL,
    destination      TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    op               TEXT NOT NULL,
    status           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    size             INTEGER NOT NULL,
    storage_class    TEXT,
    rtc              INTEGER NOT NULL DEFAULT 0,
    metrics          INTEGER NOT NULL DEFAULT 0,
    batch_job        TEXT,
    last_error       TEXT,
    failure_reason   TEXT,
    progress         TEXT
  );
  CREATE INDEX repl_tasks_ready ON repl_tasks (status, next_attempt_at, id);
  -- Versions of one key reach a destination in order: the earliest pending task of a
  -- (bucket, key, destination) goes first.
  CREATE INDEX repl_tasks_by_key ON repl_tasks (bucket, key, destination, id);
  CREATE INDEX repl_tasks_by_version ON repl_tasks (bucket, key, version_id);

  -- Where each replicated version was sent (destination, rule): metadata changes follow it there.
  ALTER TABLE versions ADD COLUMN repl_destinations TEXT;
  -- Written by replication (x-amz-replication-status REPLICA, kept while its own metadata
  -- changes replicate back).
  ALTER TABLE versions ADD COLUMN is_replica INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- S3 Batch Replication jobs (S3 Control CreateJob), in the region they were created in: the
  -- job's definition (spec, the parsed request) and its progress (state) as JSON documents.
  CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    account       TEXT NOT NULL,
    status        TEXT NOT NULL,
    priority      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    client_token  TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    spec          TEXT NOT NULL,
    state         TEXT NOT NULL
  );
  -- ClientRequestToken idempotency is per account.
  CREATE UNIQUE INDEX jobs_by_token ON jobs (account, client_token);
  CREATE INDEX jobs_by_created ON jobs (created_at, id);

  -- One row per task of a job (an object version of its manifest): queued, running (its outbox
  -- rows carry batch_job = job_id), succeeded or failed (with the failure reason).
  CREATE TABLE job_tasks (
    job_id       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    bucket       TEXT NOT NULL,
    key          TEXT NOT NULL,
    version_id   TEXT,
    status       TEXT NOT NULL,
    error_code   TEXT,
    http_status  INTEGER,
    message      TEXT,
    PRIMARY KEY (job_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX job_tasks_by_status ON job_tasks (job_id, status, seq);
  `,
  `
  -- Claiming work reads pending tasks in id order and skips retries not yet due: an index in
  -- that order serves it without sorting the whole backlog on every claim.
  DROP INDEX repl_tasks_ready;
  CREATE INDEX repl_tasks_pending ON repl_tasks (status, id);
  `,
  `
  -- Only the earliest task of each (bucket, key, destination) is claimable ('pending'); the
  -- later ones wait ('waiting') and are promoted one at a time as the head settles. Claiming
  -- then never scans tasks that cannot run yet (a hot key behind a destination that is down).
  UPDATE repl_tasks SET status = 'waiting'
   WHERE status = 'pending' AND EXISTS (
     SELECT 1 FROM repl_tasks e
      WHERE e.bucket = repl_tasks.bucket AND e.key = repl_tasks.key AND e.destination = repl_tasks.destination
        AND e.status = 'pending' AND e.id < repl_tasks.id);
  `,
  `
  -- Encryption at rest: each part of an encrypted multipart object is its own cipher stream with
  -- its own salt (the data key is the upload's, kept in its meta). NULL for parts in the clear.
  ALTER TABLE object_parts ADD COLUMN salt TEXT;
  ALTER TABLE upload_parts ADD COLUMN salt TEXT;
  `,
];
