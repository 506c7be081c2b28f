/**
 * The durable half of a region's KMS: <dataDir>/<region>/kms.db (SQLite, WAL, synchronous=FULL,
 * so every commit is fsynced before the call returns: a key whose CreateKey was acknowledged,
 * and the material that decrypts what it protected, survive any crash).
 *
 * It stores rows and nothing else: key material arrives here already wrapped under the master
 * key and leaves still wrapped. Policy, state rules and caching live in kms.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';
export type KeyManager = 'CUSTOMER' | 'AWS';

export interface KeyRow {
  keyId: string;
  accountId: string;
  arn: string;
  description: string;
  keyUsage: string;
  keySpec: string;
  origin: string;
  manager: KeyManager;
  state: KeyState;
  /** ms since epoch */
  createdAt: number;
  /** ms since epoch, while PendingDeletion */
  deletionDate: number | null;
  pendingWindowDays: number | null;
  /** The key policy exactly as set (GetKeyPolicy returns it verbatim). */
  policy: string;
  rotationEnabled: boolean;
  rotationPeriodDays: number | null;
  /** ms since epoch of the next automatic rotation, while rotation is enabled. */
  nextRotationAt: number | null;
  /** The material version new ciphertexts use; older versions stay for decryption. */
  currentVersion: number;
}

export interface AliasRow {
  accountId: string;
  /** 'alias/name' */
  name: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

export interface MaterialRow {
  keyId: string;
  arn: string;
  version: number;
  wrapped: Buffer;
  createdAt: number;
}

export interface Tag {
  key: string;
  value: string;
}

const MIGRATIONS = [
  `CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
   CREATE TABLE keys (
     key_id TEXT PRIMARY KEY,
     account TEXT NOT NULL,
     arn TEXT NOT NULL UNIQUE,
     description TEXT NOT NULL,
     key_usage TEXT NOT NULL,
     key_spec TEXT NOT NULL,
     origin TEXT NOT NULL,
     manager TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     deletion_date INTEGER,
     pending_window_days INTEGER,
     policy TEXT NOT NULL,
     rotation_enabled INTEGER NOT NULL DEFAULT 0,
     rotation_period_days INTEGER,
     next_rotation_at INTEGER,
     current_version INTEGER NOT NULL
   );
   CREATE INDEX keys_by_account ON keys (account, key_id);
   CREATE TABLE key_material (
     key_id TEXT NOT NULL,
     version INTEGER NOT NULL,
     wrapped BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (key_id, version)
   );
   CREATE TABLE aliases (
     account TEXT NOT NULL,
     name TEXT NOT NULL,
     key_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (account, name)
   );
   CREATE INDEX aliases_by_key ON aliases (key_id);
   CREATE TABLE key_tags (
     key_id TEXT NOT NULL,
     tag_key TEXT NOT NULL,
     tag_value TEXT NOT NULL,
     PRIMARY KEY (key_id, tag_key)
   );`,
];

type Row = Record<string, any>;

function toKey(r: Row): KeyRow {
  return {
    keyId: r.key_id,
    accountId: r.account,
    arn: r.arn,
    description: r.description,
    keyUsage: r.key_usage,
    keySpec: r.key_spec,
    origin: r.origin,
    manager: r.manager,
    state: r.state,
    createdAt: r.created_at,
    deletionDate: r.deletion_date,
    pendingWindowDays: r.pending_window_days,
    policy: r.policy,
    rotationEnabled: r.rotation_enabled === 1,
    rotationPeriodDays: r.rotation_period_days,
    nextRotationAt: r.next_rotation_at,
    currentVersion: r.current_version,
  };
}

function toAlias(r: Row): AliasRow {
  return { accountId: r.account, name: r.name, keyId: r.key_id, createdAt: r.created_at, updatedAt: r.updated_at };
}

export class KmsStore {
  private readonly st: ReturnType<KmsStore['prepare']>;

  private constructor(private readonly db: Database.Database) {
    this.st = this.prepare();
  }

  static open(file: string): KmsStore {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > MIGRATIONS.length) {
        throw new Error(`${file} was written by a newer version (schema ${current}, this one knows ${MIGRATIONS.length})`);
      }
      for (let v = current; v < MIGRATIONS.length; v++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[v]!);
          db.pragma(`user_version = ${v + 1}`);
        })();
      }
      return new KmsStore(db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private prepare() {
    const d = this.db;
    return {
      getMeta: d.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
      setMeta: d.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      getKey: d.prepare('SELECT * FROM keys WHERE key_id = ?'),
      listKeys: d.prepare('SELECT * FROM keys WHERE account = ? AND key_id > ? ORDER BY key_id LIMIT ?'),
      insertKey: d.prepare(
        `INSERT INTO keys (key_id, account, arn, description, key_usage, key_spec, origin, manager, state, created_at,
           deletion_date, pending_window_days, policy, rotation_enabled, rotation_period_days, next_rotation_at, current_version)
         VALUES (@keyId, @accountId, @arn, @description, @keyUsage, @keySpec, @origin, @manager, @state, @createdAt,
           @deletionDate, @pendingWindowDays, @policy, @rotationEnabled, @rotationPeriodDays, @nextRotationAt, @currentVersion)`,
      ),
      updateKey: d.prepare(
        `UPDATE keys SET description = @description, state = @state, deletion_date = @deletionDate,
           pending_window_days = @pendingWindowDays, policy = @policy, rotation_enabled = @rotationEnabled,
           rotation_period_days = @rotationPeriodDays, next_rotation_at = @nextRotationAt, current_version = @currentVersion
         WHERE key_id = @keyId`,
      ),
      deleteKey: d.prepare('DELETE FROM keys WHERE key_id = ?'),
      deleteMaterials: d.prepare('DELETE FROM key_material WHERE key_id = ?'),
      deleteKeyAliases: d.prepare('DELETE FROM aliases WHERE key_id = ?'),
      deleteKeyTags: d.prepare('DELETE FROM key_tags WHERE key_id = ?'),
      dueDeletions: d.prepare("SELECT key_id FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ?").pluck(),
      getMaterial: d.prepare('SELECT wrapped FROM key_material WHERE key_id = ? AND version = ?').pluck(),
      insertMaterial: d.prepare('INSERT INTO key_material (key_id, version, wrapped, created_at) VALUES (?, ?, ?, ?)'),
      replaceMaterial: d.prepare('UPDATE key_material SET wrapped = ? WHERE key_id = ? AND version = ?'),
      materialVersions: d.prepare('SELECT version, created_at FROM key_material WHERE key_id = ? ORDER BY version'),
      allMaterials: d.prepare(
        'SELECT m.key_id, k.arn, m.version, m.wrapped, m.created_at FROM key_material m JOIN keys k ON k.key_id = m.key_id',
      ),
      getAlias: d.prepare('SELECT * FROM aliases WHERE account = ? AND name = ?'),
      listAliases: d.prepare('SELECT * FROM aliases WHERE account = ? AND name > ? ORDER BY name LIMIT ?'),
      listKeyAliases: d.prepare('SELECT * FROM aliases WHERE account = ? AND key_id = ? AND name > ? ORDER BY name LIMIT ?'),
      insertAlias: d.prepare('INSERT INTO aliases (account, name, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      updateAlias: d.prepare('UPDATE aliases SET key_id = ?, updated_at = ? WHERE account = ? AND name = ?'),
      deleteAlias: d.prepare('DELETE FROM aliases WHERE account = ? AND name = ?'),
      listTags: d.prepare('SELECT tag_key, tag_value FROM key_tags WHERE key_id = ? ORDER BY tag_key'),
      putTag: d.prepare(
        'INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value',
      ),
      deleteTag: d.prepare('DELETE FROM key_tags WHERE key_id = ? AND tag_key = ?'),
    };
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(name: string): Buffer | undefined {
    const v = this.st.getMeta.get(name) as Buffer | undefined;
    return v === undefined ? undefined : Buffer.from(v);
  }

  setMeta(name: string, value: Buffer): void {
    this.st.setMeta.run(name, value);
  }

  getKey(keyId: string): KeyRow | undefined {
    const r = this.st.getKey.get(keyId) as Row | undefined;
    return r ? toKey(r) : undefined;
  }

  /** The account's keys in key id order, after `afterKeyId` ('' for the first page). */
  listKeys(accountId: string, afterKeyId: string, limit: number): KeyRow[] {
    return (this.st.listKeys.all(accountId, afterKeyId, limit) as Row[]).map(toKey);
  }

  /** A new key, its first material version, its tags and optionally an alias, in one commit. */
  insertKey(key: KeyRow, wrapped: Buffer, tags: readonly Tag[] = [], alias?: AliasRow): void {
    this.transaction(() => {
      this.st.insertKey.run({ ...key, rotationEnabled: key.rotationEnabled ? 1 : 0 });
      this.st.insertMaterial.run(key.keyId, key.currentVersion, wrapped, key.createdAt);
      for (const t of tags) this.st.putTag.run(key.keyId, t.key, t.value);
      if (alias) this.st.insertAlias.run(alias.accountId, alias.name, alias.keyId, alias.createdAt, alias.updatedAt);
    });
  }

  /** Writes the mutable columns of `key` (everything but identity, spec and creation). */
  updateKey(key: KeyRow): void {
    this.st.updateKey.run({ ...key, rotationEnabled: key.rotationEnabled ? 1 : 0 });
  }

  /** A new material version that becomes current, with the key's updated rotation columns. */
  addMaterial(key: KeyRow, wrapped: Buffer, createdAt: number): void {
    this.transaction(() => {
      this.st.insertMaterial.run(key.keyId, key.currentVersion, wrapped, createdAt);
      this.updateKey(key);
    });
  }

  /** Removes a key for good: its material (so nothing it encrypted can be decrypted), aliases and tags. */
  deleteKey(keyId: string): void {
    this.transaction(() => {
      this.st.deleteKey.run(keyId);
      this.st.deleteMaterials.run(keyId);
      this.st.deleteKeyAliases.run(keyId);
      this.st.deleteKeyTags.run(keyId);
    });
  }

  /** Keys whose waiting period ended at or before `now`. */
  dueDeletions(now: number): string[] {
    return this.st.dueDeletions.all(now) as string[];
  }

  getMaterial(keyId: string, version: number): Buffer | undefined {
    const v = this.st.getMaterial.get(keyId, version) as Buffer | undefined;
    return v === undefined ? undefined : Buffer.from(v);
  }

  materialVersions(keyId: string): { version: number; createdAt: number }[] {
    return (this.st.materialVersions.all(keyId) as Row[]).map((r) => ({ version: r.version, createdAt: r.created_at }));
  }

  allMaterials(): MaterialRow[] {
    return (this.st.allMaterials.all() as Row[]).map((r) => ({
      keyId: r.key_id,
      arn: r.arn,
      version: r.version,
      wrapped: Buffer.from(r.wrapped),
      createdAt: r.created_at,
    }));
  }

  replaceMaterial(keyId: string, version: number, wrapped: Buffer): void {
    this.st.replaceMaterial.run(wrapped, keyId, version);
  }

  getAlias(accountId: string, name: string): AliasRow | undefined {
    const r = this.st.getAlias.get(accountId, name) as Row | undefined;
    return r ? toAlias(r) : undefined;
  }

  /** The account's aliases in name order after `afterName`, optionally only those of one key. */
  listAliases(accountId: string, afterName: string, limit: number, keyId?: string): AliasRow[] {
    const rows = keyId === undefined
      ? this.st.listAliases.all(accountId, afterName, limit)
      : this.st.listKeyAliases.all(accountId, keyId, afterName, limit);
    return (rows as Row[]).map(toAlias);
  }

  insertAlias(a: AliasRow): void {
    this.st.insertAlias.run(a.accountId, a.name, a.keyId, a.createdAt, a.updatedAt);
  }

  updateAlias(accountId: string, name: string, keyId: string, updatedAt: number): void {
    this.st.updateAlias.run(keyId, updatedAt, accountId, name);
  }

  deleteAlias(accountId: string, name: string): void {
    this.st.deleteAlias.run(accountId, name);
  }

  listTags(keyId: string): Tag[] {
    return (this.st.listTags.all(keyId) as Row[]).map((r) => ({ key: r.tag_key, value: r.tag_value }));
  }

  putTags(keyId: string, tags: readonly Tag[]): void {
    this.transaction(() => {
      for (const t of tags) this.st.putTag.run(keyId, t.key, t.value);
    });
  }

  removeTags(keyId: string, keys: readonly string[]): void {
    this.transaction(() => {
      for (const k of keys) this.st.deleteTag.run(keyId, k);
    });
  }
}
