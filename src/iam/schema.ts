/**
 * The SQLite schema of iam.db (identities of every account) and its migrations; user_version
 * records how many have run. Root credentials are not here: they come from the configuration at
 * every start.
 */
export const IAM_MIGRATIONS: string[] = [
  `
  -- When each configured account was first seen: the CreateDate GetUser shows for its root.
  CREATE TABLE accounts (
    account_id  TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Users, roles and groups. Names are unique per account and kind regardless of case, as IAM's
  -- are. The role-only columns are NULL for the other kinds.
  CREATE TABLE entities (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL,
    account_id            TEXT NOT NULL,
    name                  TEXT NOT NULL COLLATE NOCASE,
    path                  TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    tags                  TEXT NOT NULL DEFAULT '[]',
    trust_policy          TEXT,
    description           TEXT,
    max_session_duration  INTEGER
  );
  CREATE UNIQUE INDEX entities_by_name ON entities (account_id, kind, name);

  -- Long-term access keys of users. The secret is stored because SigV4 verification needs it.
  CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    secret         TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX access_keys_by_user ON access_keys (user_id);

  CREATE TABLE group_members (
    group_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX group_members_by_user ON group_members (user_id);

  -- Inline policies of users, roles and groups, as the caller wrote them.
  CREATE TABLE inline_policies (
    owner_id  TEXT NOT NULL,
    name      TEXT NOT NULL,
    document  TEXT NOT NULL,
    PRIMARY KEY (owner_id, name)
  ) WITHOUT ROWID;

  -- Customer managed policies; AWS managed ones are built in (aws-managed.ts).
  CREATE TABLE managed_policies (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL,
    name             TEXT NOT NULL COLLATE NOCASE,
    path             TEXT NOT NULL,
    description      TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    default_version  TEXT NOT NULL,
    next_version     INTEGER NOT NULL,
    tags             TEXT NOT NULL DEFAULT '[]'
  );
  CREATE UNIQUE INDEX managed_policies_by_name ON managed_policies (account_id, name);

  CREATE TABLE policy_versions (
    policy_id   TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version_id)
  ) WITHOUT ROWID;

  -- Managed policies attached to users, roles and groups; seq keeps the order of attachment.
  CREATE TABLE attachments (
    seq         INTEGER PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    policy_arn  TEXT NOT NULL
  );
  CREATE UNIQUE INDEX attachments_by_owner ON attachments (owner_id, policy_arn);
  CREATE INDEX attachments_by_policy ON attachments (policy_arn);

  -- Temporary credentials issued by STS. kind: 'role' (AssumeRole: subject_id is the role id,
  -- principal the session's Principal as issued) or 'user' / 'root' (GetSessionToken: subject_id
  -- is the user id or the account id). They outlive restarts until they expire.
  CREATE TABLE sessions (
    access_key_id    TEXT PRIMARY KEY,
    secret           TEXT NOT NULL,
    token            TEXT NOT NULL,
    account_id       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    principal        TEXT,
    source_identity  TEXT,
    chained          INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sessions_by_expiry ON sessions (expires_at);
  `,
];
