/**
 * The identities of every account: root credentials (from the configuration), IAM users with
 * their access keys, groups, roles, inline and managed policies, and the temporary credentials
 * STS issued. Durable in <dataDir>/iam.db.
 *
 * Durability: WAL with synchronous=FULL, so every commit is fsynced before the call returns. IAM
 * writes are rare and an acknowledged CreateAccessKey or AssumeRole must survive kill -9 (the
 * caller already holds the secret).
 *
 * Reads never touch SQLite: the whole state is held in memory. It is loaded at open and reloaded
 * after every IAM write (writes are rare; reloading keeps a single code path for the state).
 * STS sessions, which are written on every AssumeRole, are added to memory incrementally instead.
 *
 * Secrets (user access keys, session secrets and tokens) are stored in iam.db in the clear:
 * SigV4 verification needs the secret itself. They are never logged.
 *
 * Methods that change state take the caller's account and throw IamError with AWS's code and
 * wording for missing entities, conflicts and quotas; the api layer validates parameters and
 * authorizes before it calls them.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CredentialConfig } from '../config/config.js';
import type { SigningIdentity } from '../http/sigv4/verify.js';
import type { ConditionValues, PolicyDocument, PolicyKind, Principal } from '../policy/types.js';
import { parsePolicyDocument } from '../policy/parse.js';
import { authorize } from '../policy/authorize.js';
import { AWS_MANAGED_POLICIES } from './aws-managed.js';
import { assumedRoleArn, iamArn, parseIamArn, rootArn } from './arns.js';
import { IamErrors } from './errors.js';
import { newAccessKeyId, newSecretAccessKey, newSessionToken, newUniqueId } from './ids.js';
import { IAM_MIGRATIONS } from './schema.js';

type Row = Record<string, any>;

export type EntityKind = 'user' | 'role' | 'group';

export interface Tag {
  key: string;
  value: string;
}

/** A user, role or group. */
export interface Entity {
  kind: EntityKind;
  /** AIDA... / AROA... / AGPA... */
  id: string;
  accountId: string;
  name: string;
  path: string;
  arn: string;
  createdAt: number;
  tags: Tag[];
  /** Roles only: the trust policy as written, its description and maximum session length. */
  trustPolicy?: string;
  description?: string;
  maxSessionDuration?: number;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userId: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
}

export interface PolicyVersion {
  versionId: string;
  document: string;
  createdAt: number;
}

export interface ManagedPolicy {
  id: string;
  /** 12 digits, or 'aws' for AWS managed policies. */
  accountId: string;
  name: string;
  path: string;
  arn: string;
  description?: string;
  createdAt: number;
  updatedAt: number;
  defaultVersionId: string;
  /** Oldest first. */
  versions: PolicyVersion[];
  tags: Tag[];
  awsManaged: boolean;
}

/** Temporary credentials issued by STS. */
export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  accountId: string;
  /** 'role': AssumeRole; 'user' / 'root': GetSessionToken of an IAM user / of the account. */
  kind: 'role' | 'user' | 'root';
  /** The role id ('role'), the user id ('user') or the account id ('root'). */
  subjectId: string;
  /** The session's principal as issued (role sessions only: users are read at each use). */
  principal?: Principal;
  sourceIdentity?: string;
  /** Issued to a role session (role chaining). */
  chained: boolean;
  createdAt: number;
  expiresAt: number;
}

export interface LookupResult {
  identity: SigningIdentity & { expiresAt?: number };
  principal: Principal;
}

export interface RoleInfo {
  arn: string;
  name: string;
  path: string;
  accountId: string;
  roleId: string;
  trustPolicy: PolicyDocument;
  maxSessionDuration: number;
}

export type PolicyScope = 'All' | 'AWS' | 'Local';

// AWS's default quotas (IAM and STS quotas page) and the wording of their LimitExceeded errors.
const ACCESS_KEYS_PER_USER = 2;
const MANAGED_POLICIES_PER_ENTITY = 10;
const GROUPS_PER_USER = 10;
const POLICY_VERSIONS = 5;
const TAGS_PER_ENTITY = 50;
const MANAGED_POLICY_SIZE = 6144;
const TRUST_POLICY_SIZE = 2048;
const INLINE_SIZE: Record<EntityKind, number> = { user: 2048, role: 10240, group: 5120 };
const PER_ACCOUNT: Record<EntityKind, [string, number]> = {
  user: ['UsersPerAccount', 5000],
  role: ['RolesPerAccount', 1000],
  group: ['GroupsPerAccount', 300],
};
const POLICIES_PER_ACCOUNT = 1500;
const KIND_TITLE: Record<EntityKind, string> = { user: 'User', role: 'Role', group: 'Group' };

export const DEFAULT_MAX_SESSION_DURATION = 3600;

/** Expired sessions are kept this long so that their use still answers ExpiredToken. */
const EXPIRED_SESSION_RETENTION_MS = 24 * 3600 * 1000;
const PURGE_EVERY_SESSIONS = 1000;

/** What a stored document that no longer parses stands for: nothing allowed, everything denied. */
const DENY_ALL: PolicyDocument = {
  version: '2012-10-17',
  statements: [{ effect: 'Deny', action: ['*'], resource: ['*'] }],
};

const AWS_MANAGED: ManagedPolicy[] = AWS_MANAGED_POLICIES.map((p) => ({
  id: p.id,
  accountId: 'aws',
  name: p.name,
  path: p.path,
  arn: iamArn('policy', 'aws', p.path, p.name),
  description: p.description,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
  defaultVersionId: p.defaultVersionId,
  versions: [{ versionId: p.defaultVersionId, document: p.document, createdAt: p.updatedAt }],
  tags: [],
  awsManaged: true,
}));

/** Policy size as IAM counts it against its quotas: white space does not count. */
function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

function nameKey(accountId: string, kind: string, name: string): string {
  return `${accountId}\0${kind}\0${name.toLowerCase()}`;
}

function byName<T extends { name: string }>(a: T, b: T): number {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function versionNumber(versionId: string): number {
  return Number(versionId.slice(1));
}

function userPrincipal(user: Entity): Principal {
  return {
    kind: 'user',
    accountId: user.accountId,
    arn: user.arn,
    principalArn: user.arn,
    userId: user.id,
    username: user.name,
  };
}

function rootPrincipal(accountId: string): Principal {
  const arn = rootArn(accountId);
  return { kind: 'root', accountId, arn, principalArn: arn, userId: accountId };
}

/** The principal of a session of `role` named `sessionName`. */
export function roleSessionPrincipal(role: { accountId: string; name: string; arn: string; id: string }, sessionName: string): Principal {
  return {
    kind: 'assumed-role',
    accountId: role.accountId,
    arn: assumedRoleArn(role.accountId, role.name, sessionName),
    principalArn: role.arn,
    userId: `${role.id}:${sessionName}`,
  };
}

export class IdentityStore {
  private readonly db: Database.Database;
  private readonly st: ReturnType<IdentityStore['prepare']>;

  private readonly roots = new Map<string, LookupResult>();
  private readonly rootKeys = new Map<string, string[]>();
  private readonly accountCreated = new Map<string, number>();

  // The IAM state, rebuilt by load() after every write.
  private entities = new Map<string, Entity>();
  private names = new Map<string, string>();
  private keys = new Map<string, AccessKey>();
  private keysOfUser = new Map<string, AccessKey[]>();
  private keyLookups = new Map<string, LookupResult>();
  private members = new Map<string, string[]>();
  private groupsOfUser = new Map<string, string[]>();
  private inline = new Map<string, Map<string, string>>();
  private attached = new Map<string, string[]>();
  private policies = new Map<string, ManagedPolicy>();
  private policyNames = new Map<string, string>();
  private attachmentCounts = new Map<string, number>();
  private policyCache = new Map<string, PolicyDocument[]>();
  private sessionLookups = new Map<string, LookupResult>();

  /** Parsed documents by kind and text: a reload does not parse what did not change. */
  private readonly parsed = new Map<string, PolicyDocument>();

  private readonly sessions = new Map<string, Session>();
  private sessionsSincePurge = 0;

  private constructor(
    file: string,
    roots: CredentialConfig[],
    private readonly clock: () => number,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.migrate();
    this.st = this.prepare();

    const now = clock();
    this.db.transaction(() => {
      for (const r of roots) this.st.insertAccount.run(r.accountId, now);
    })();
    for (const row of this.st.accounts.all() as Row[]) this.accountCreated.set(row.account_id, row.created_at);
    for (const r of roots) {
      this.roots.set(r.accessKeyId, {
        identity: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, accountId: r.accountId },
        principal: rootPrincipal(r.accountId),
      });
      const list = this.rootKeys.get(r.accountId) ?? [];
      list.push(r.accessKeyId);
      this.rootKeys.set(r.accountId, list);
    }

    this.purgeSessions();
    for (const row of this.st.sessions.all() as Row[]) {
      const s = sessionFromRow(row);
      this.sessions.set(s.accessKeyId, s);
    }
    this.load();
  }

  static open(dataDir: string, roots: CredentialConfig[], clock: () => number): IdentityStore {
    return new IdentityStore(path.join(dataDir, 'iam.db'), roots, clock);
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < IAM_MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(IAM_MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  private prepare() {
    const d = this.db;
    return {
      insertAccount: d.prepare('INSERT OR IGNORE INTO accounts (account_id, created_at) VALUES (?, ?)'),
      accounts: d.prepare('SELECT * FROM accounts'),
      entities: d.prepare('SELECT * FROM entities'),
      accessKeys: d.prepare('SELECT * FROM access_keys ORDER BY created_at, access_key_id'),
      groupMembers: d.prepare('SELECT * FROM group_members'),
      inlinePolicies: d.prepare('SELECT * FROM inline_policies ORDER BY owner_id, name'),
      managedPolicies: d.prepare('SELECT * FROM managed_policies'),
      policyVersions: d.prepare('SELECT * FROM policy_versions'),
      attachments: d.prepare('SELECT * FROM attachments ORDER BY seq'),
      sessions: d.prepare('SELECT * FROM sessions'),

      insertEntity: d.prepare(
        `INSERT INTO entities (id, kind, account_id, name, path, created_at, tags, trust_policy, description, max_session_duration)
         VALUES (@id, @kind, @accountId, @name, @path, @createdAt, @tags, @trustPolicy, @description, @maxSessionDuration)`,
      ),
      updateEntity: d.prepare(
        `UPDATE entities SET name = @name, path = @path, tags = @tags, trust_policy = @trustPolicy,
           description = @description, max_session_duration = @maxSessionDuration WHERE id = @id`,
      ),
      deleteEntity: d.prepare('DELETE FROM entities WHERE id = ?'),
      insertKey: d.prepare(
        'INSERT INTO access_keys (access_key_id, user_id, secret, status, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      updateKeyStatus: d.prepare('UPDATE access_keys SET status = ? WHERE access_key_id = ?'),
      deleteKey: d.prepare('DELETE FROM access_keys WHERE access_key_id = ?'),
      addMember: d.prepare('INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)'),
      removeMember: d.prepare('DELETE FROM group_members WHERE group_id = ? AND user_id = ?'),
      putInline: d.prepare('INSERT OR REPLACE INTO inline_policies (owner_id, name, document) VALUES (?, ?, ?)'),
      deleteInline: d.prepare('DELETE FROM inline_policies WHERE owner_id = ? AND name = ?'),
      insertPolicy: d.prepare(
        `INSERT INTO managed_policies (id, account_id, name, path, description, created_at, updated_at, default_version, next_version, tags)
         VALUES (@id, @accountId, @name, @path, @description, @createdAt, @updatedAt, @defaultVersionId, @nextVersion, @tags)`,
      ),
      updatePolicy: d.prepare(
        'UPDATE managed_policies SET updated_at = ?, default_version = ?, next_version = ?, tags = ? WHERE id = ?',
      ),
      nextVersion: d.prepare('SELECT next_version FROM managed_policies WHERE id = ?').pluck(),
      deletePolicy: d.prepare('DELETE FROM managed_policies WHERE id = ?'),
      insertVersion: d.prepare('INSERT INTO policy_versions (policy_id, version_id, document, created_at) VALUES (?, ?, ?, ?)'),
      deleteVersion: d.prepare('DELETE FROM policy_versions WHERE policy_id = ? AND version_id = ?'),
      deleteVersions: d.prepare('DELETE FROM policy_versions WHERE policy_id = ?'),
      attach: d.prepare('INSERT OR IGNORE INTO attachments (owner_id, policy_arn) VALUES (?, ?)'),
      detach: d.prepare('DELETE FROM attachments WHERE owner_id = ? AND policy_arn = ?'),
      insertSession: d.prepare(
        `INSERT INTO sessions (access_key_id, secret, token, account_id, kind, subject_id, principal, source_identity, chained, created_at, expires_at)
         VALUES (@accessKeyId, @secretAccessKey, @sessionToken, @accountId, @kind, @subjectId, @principal, @sourceIdentity, @chained, @createdAt, @expiresAt)`,
      ),
      purgeSessions: d.prepare('DELETE FROM sessions WHERE expires_at < ?'),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Loading
  // -------------------------------------------------------------------------------------------

  /** Rebuilds the in-memory state from the database. */
  private load(): void {
    const entities = new Map<string, Entity>();
    const names = new Map<string, string>();
    for (const row of this.st.entities.all() as Row[]) {
      const e: Entity = {
        kind: row.kind,
        id: row.id,
        accountId: row.account_id,
        name: row.name,
        path: row.path,
        arn: iamArn(row.kind, row.account_id, row.path, row.name),
        createdAt: row.created_at,
        tags: JSON.parse(row.tags) as Tag[],
      };
      if (row.kind === 'role') {
        e.trustPolicy = row.trust_policy;
        if (row.description !== null) e.description = row.description;
        e.maxSessionDuration = row.max_session_duration;
      }
      entities.set(e.id, e);
      names.set(nameKey(e.accountId, e.kind, e.name), e.id);
    }

    const keys = new Map<string, AccessKey>();
    const keysOfUser = new Map<string, AccessKey[]>();
    const keyLookups = new Map<string, LookupResult>();
    for (const row of this.st.accessKeys.all() as Row[]) {
      const k: AccessKey = {
        accessKeyId: row.access_key_id,
        secretAccessKey: row.secret,
        userId: row.user_id,
        status: row.status,
        createdAt: row.created_at,
      };
      keys.set(k.accessKeyId, k);
      const list = keysOfUser.get(k.userId) ?? [];
      list.push(k);
      keysOfUser.set(k.userId, list);
      const user = entities.get(k.userId);
      if (user && k.status === 'Active') {
        keyLookups.set(k.accessKeyId, {
          identity: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, accountId: user.accountId },
          principal: userPrincipal(user),
        });
      }
    }

    const members = new Map<string, string[]>();
    const groupsOfUser = new Map<string, string[]>();
    for (const row of this.st.groupMembers.all() as Row[]) {
      push(members, row.group_id, row.user_id);
      push(groupsOfUser, row.user_id, row.group_id);
    }

    const inline = new Map<string, Map<string, string>>();
    for (const row of this.st.inlinePolicies.all() as Row[]) {
      let m = inline.get(row.owner_id);
      if (!m) inline.set(row.owner_id, (m = new Map()));
      m.set(row.name, row.document);
    }

    const versions = new Map<string, PolicyVersion[]>();
    for (const row of this.st.policyVersions.all() as Row[]) {
      push(versions, row.policy_id, { versionId: row.version_id, document: row.document, createdAt: row.created_at });
    }
    const policies = new Map<string, ManagedPolicy>();
    const policyNames = new Map<string, string>();
    for (const p of AWS_MANAGED) {
      policies.set(p.arn, p);
      policyNames.set(nameKey('aws', 'policy', p.name), p.arn);
    }
    for (const row of this.st.managedPolicies.all() as Row[]) {
      const p: ManagedPolicy = {
        id: row.id,
        accountId: row.account_id,
        name: row.name,
        path: row.path,
        arn: iamArn('policy', row.account_id, row.path, row.name),
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        defaultVersionId: row.default_version,
        versions: (versions.get(row.id) ?? []).sort((a, b) => versionNumber(a.versionId) - versionNumber(b.versionId)),
        tags: JSON.parse(row.tags) as Tag[],
        awsManaged: false,
      };
      if (row.description !== null) p.description = row.description;
      policies.set(p.arn, p);
      policyNames.set(nameKey(p.accountId, 'policy', p.name), p.arn);
    }

    const attached = new Map<string, string[]>();
    const attachmentCounts = new Map<string, number>();
    for (const row of this.st.attachments.all() as Row[]) {
      push(attached, row.owner_id, row.policy_arn);
      const owner = entities.get(row.owner_id);
      if (owner) {
        const k = `${owner.accountId}\0${row.policy_arn}`;
        attachmentCounts.set(k, (attachmentCounts.get(k) ?? 0) + 1);
      }
    }

    this.entities = entities;
    this.names = names;
    this.keys = keys;
    this.keysOfUser = keysOfUser;
    this.keyLookups = keyLookups;
    this.members = members;
    this.groupsOfUser = groupsOfUser;
    this.inline = inline;
    this.attached = attached;
    this.policies = policies;
    this.policyNames = policyNames;
    this.attachmentCounts = attachmentCounts;
    this.policyCache = new Map();
    this.sessionLookups = new Map();
    if (this.parsed.size > 10000) this.parsed.clear();
  }

  /** Runs `fn` in one transaction (committed and fsynced on return), then reloads the state. */
  private write<T>(fn: () => T): T {
    const result = this.db.transaction(fn)();
    this.load();
    return result;
  }

  // -------------------------------------------------------------------------------------------
  // Authentication and authorization (the hot path: memory only)
  // -------------------------------------------------------------------------------------------

  /**
   * The identity and principal behind an access key: a root key of the configuration, an
   * Active access key of an IAM user, or STS credentials (with their session token and expiry;
   * expired ones are returned too so that the caller can answer ExpiredToken).
   */
  lookup(accessKeyId: string): LookupResult | undefined {
    const found = this.roots.get(accessKeyId) ?? this.keyLookups.get(accessKeyId);
    if (found) return found;
    const s = this.sessions.get(accessKeyId);
    if (!s) return undefined;
    const hit = this.sessionLookups.get(accessKeyId);
    if (hit) return hit;
    const principal = this.sessionPrincipal(s);
    if (!principal) return undefined;
    const result: LookupResult = {
      identity: {
        accessKeyId: s.accessKeyId,
        secretAccessKey: s.secretAccessKey,
        accountId: s.accountId,
        sessionToken: s.sessionToken,
        expiresAt: s.expiresAt,
      },
      principal,
    };
    this.sessionLookups.set(accessKeyId, result);
    return result;
  }

  /**
   * Who a session acts as. A role session keeps the principal it was issued with (deleting the
   * role takes its permissions away, not the session's identity, as in AWS). A user's session
   * ends with the user: AWS rejects GetSessionToken credentials of a deleted user.
   */
  private sessionPrincipal(s: Session): Principal | undefined {
    if (s.kind === 'role') return s.principal;
    if (s.kind === 'root') return this.accountExists(s.subjectId) ? rootPrincipal(s.subjectId) : undefined;
    const user = this.entities.get(s.subjectId);
    return user ? userPrincipal(user) : undefined;
  }

  /** The STS session behind an access key, if it is one. */
  sessionOf(accessKeyId: string): Session | undefined {
    return this.sessions.get(accessKeyId);
  }

  /**
   * The identity policies of a principal: a user's inline and attached policies and those of
   * its groups; a role session's role's. Root, anonymous and service principals have none.
   */
  policiesOf(principal: Principal): PolicyDocument[] {
    let subject: string;
    if (principal.kind === 'user') subject = principal.userId;
    else if (principal.kind === 'assumed-role') subject = principal.userId.split(':')[0]!;
    else return [];
    const hit = this.policyCache.get(subject);
    if (hit) return hit;
    const entity = this.entities.get(subject);
    if (!entity || entity.accountId !== principal.accountId) return [];
    const docs = this.documentsOf(entity.id);
    if (entity.kind === 'user') {
      for (const g of this.groupsOfUser.get(entity.id) ?? []) docs.push(...this.documentsOf(g));
    }
    this.policyCache.set(subject, docs);
    return docs;
  }

  private documentsOf(ownerId: string): PolicyDocument[] {
    const docs: PolicyDocument[] = [];
    for (const text of this.inline.get(ownerId)?.values() ?? []) docs.push(this.parseStored(text, 'identity'));
    for (const arn of this.attached.get(ownerId) ?? []) {
      const p = this.policies.get(arn);
      const v = p?.versions.find((x) => x.versionId === p.defaultVersionId);
      if (v) docs.push(this.parseStored(v.document, 'identity'));
    }
    return docs;
  }

  /**
   * Every stored document was validated when it was written. One that no longer parses (a
   * stricter validator after an upgrade) must not silently drop its Deny statements: it denies
   * everything until it is rewritten.
   */
  private parseStored(text: string, kind: PolicyKind): PolicyDocument {
    const key = `${kind}\n${text}`;
    let doc = this.parsed.get(key);
    if (!doc) {
      try {
        doc = parsePolicyDocument(text, kind);
      } catch {
        doc = DENY_ALL;
      }
      this.parsed.set(key, doc);
    }
    return doc;
  }

  accountExists(accountId: string): boolean {
    return this.rootKeys.has(accountId);
  }

  /** When the account was first configured here (its root's CreateDate). */
  accountCreatedAt(accountId: string): number | undefined {
    return this.accountCreated.get(accountId);
  }

  /** The configured root access keys of an account. */
  rootAccessKeys(accountId: string): string[] {
    return this.rootKeys.get(accountId) ?? [];
  }

  getRole(roleArn: string): RoleInfo | undefined {
    const a = parseIamArn(roleArn);
    if (!a || a.type !== 'role' || a.accountId === 'aws') return undefined;
    const role = this.getEntity('role', a.accountId, a.name);
    if (!role || role.path !== a.path) return undefined;
    return {
      arn: role.arn,
      name: role.name,
      path: role.path,
      accountId: role.accountId,
      roleId: role.id,
      trustPolicy: this.parseStored(role.trustPolicy!, 'trust'),
      maxSessionDuration: role.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION,
    };
  }

  /**
   * A service (S3 replication: 's3.amazonaws.com') assuming a role on its own behalf: the role
   * must exist and its trust policy allow sts:AssumeRole to {"Service": service}. `conditions`
   * are the request's condition keys (aws:SourceAccount, aws:SourceArn) for trust policies that
   * restrict them.
   */
  assumeRoleAsService(roleArn: string, service: string, conditions: ConditionValues = {}): Principal | undefined {
    const role = this.getRole(roleArn);
    if (!role) return undefined;
    const servicePrincipal: Principal = { kind: 'service', accountId: '', arn: service, principalArn: service, userId: service };
    const decision = authorize({
      ctx: { principal: servicePrincipal, action: 'sts:AssumeRole', resource: role.arn, conditions },
      identityPolicies: [],
      resourcePolicy: role.trustPolicy,
      resourceAccount: role.accountId,
      mode: 'trust',
    });
    if (!decision.allowed) return undefined;
    const sessionName = service === 's3.amazonaws.com' ? 's3-replication' : service.split('.')[0]!;
    return roleSessionPrincipal({ accountId: role.accountId, name: role.name, arn: role.arn, id: role.roleId }, sessionName);
  }

  // -------------------------------------------------------------------------------------------
  // Users, roles, groups
  // -------------------------------------------------------------------------------------------

  getEntity(kind: EntityKind, accountId: string, name: string): Entity | undefined {
    const id = this.names.get(nameKey(accountId, kind, name));
    return id === undefined ? undefined : this.entities.get(id);
  }

  getEntityById(id: string): Entity | undefined {
    return this.entities.get(id);
  }

  /** The account's users, roles or groups whose path starts with `pathPrefix`, by name. */
  listEntities(kind: EntityKind, accountId: string, pathPrefix = '/'): Entity[] {
    const out: Entity[] = [];
    for (const e of this.entities.values()) {
      if (e.kind === kind && e.accountId === accountId && e.path.startsWith(pathPrefix)) out.push(e);
    }
    return out.sort(byName);
  }

  private mustGet(kind: EntityKind, accountId: string, name: string): Entity {
    const e = this.getEntity(kind, accountId, name);
    if (!e) throw IamErrors.noSuchEntity(`The ${kind} with name ${name} cannot be found.`);
    return e;
  }

  private checkNewName(kind: EntityKind, accountId: string, name: string): void {
    if (this.getEntity(kind, accountId, name)) {
      throw IamErrors.entityAlreadyExists(`${KIND_TITLE[kind]} with name ${name} already exists.`);
    }
  }

  createEntity(
    kind: EntityKind,
    accountId: string,
    init: { name: string; path: string; tags?: Tag[]; trustPolicy?: string; description?: string; maxSessionDuration?: number },
  ): Entity {
    this.checkNewName(kind, accountId, init.name);
    const [quota, max] = PER_ACCOUNT[kind];
    if (this.listEntities(kind, accountId).length >= max) throw IamErrors.limitExceeded(`Cannot exceed quota for ${quota}: ${max}`);
    const tags = init.tags ?? [];
    checkTags(tags);
    if (kind === 'role') checkTrustSize(init.trustPolicy!);
    const id = newUniqueId(kind === 'user' ? 'AIDA' : kind === 'role' ? 'AROA' : 'AGPA');
    this.write(() => {
      this.st.insertEntity.run({
        id,
        kind,
        accountId,
        name: init.name,
        path: init.path,
        createdAt: this.clock(),
        tags: JSON.stringify(tags),
        trustPolicy: kind === 'role' ? init.trustPolicy : null,
        description: kind === 'role' ? (init.description ?? null) : null,
        maxSessionDuration: kind === 'role' ? (init.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION) : null,
      });
    });
    return this.entities.get(id)!;
  }

  /** Renames or moves a user or group (UpdateUser / UpdateGroup). */
  renameEntity(kind: 'user' | 'group', accountId: string, name: string, change: { newName?: string; newPath?: string }): Entity {
    const e = this.mustGet(kind, accountId, name);
    if (change.newName !== undefined && change.newName.toLowerCase() !== e.name.toLowerCase()) {
      this.checkNewName(kind, accountId, change.newName);
    }
    return this.updateEntity(e, { name: change.newName ?? e.name, path: change.newPath ?? e.path });
  }

  /** Changes a role's description, maximum session duration or trust policy. */
  updateRole(accountId: string, name: string, change: { description?: string; maxSessionDuration?: number; trustPolicy?: string }): Entity {
    const role = this.mustGet('role', accountId, name);
    if (change.trustPolicy !== undefined) checkTrustSize(change.trustPolicy);
    return this.updateEntity(role, change);
  }

  private updateEntity(e: Entity, change: Partial<Pick<Entity, 'name' | 'path' | 'tags' | 'trustPolicy' | 'description' | 'maxSessionDuration'>>): Entity {
    const next: Entity = { ...e };
    for (const [k, v] of Object.entries(change)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    this.write(() => {
      this.st.updateEntity.run({
        id: e.id,
        name: next.name,
        path: next.path,
        tags: JSON.stringify(next.tags),
        trustPolicy: next.trustPolicy ?? null,
        description: next.description ?? null,
        maxSessionDuration: next.maxSessionDuration ?? null,
      });
    });
    return this.entities.get(e.id)!;
  }

  /**
   * Deletes a user, role or group that nothing hangs on any more, else DeleteConflict with
   * AWS's wording for the first thing in the way.
   */
  deleteEntity(kind: EntityKind, accountId: string, name: string): void {
    const e = this.mustGet(kind, accountId, name);
    if (kind === 'group' && (this.members.get(e.id)?.length ?? 0) > 0) {
      throw IamErrors.deleteConflict('Cannot delete entity, must remove users from group first.');
    }
    if ((this.inline.get(e.id)?.size ?? 0) > 0) {
      throw IamErrors.deleteConflict('Cannot delete entity, must delete policies first.');
    }
    if ((this.attached.get(e.id)?.length ?? 0) > 0) {
      throw IamErrors.deleteConflict('Cannot delete entity, must detach all policies first.');
    }
    if (kind === 'user') {
      if ((this.keysOfUser.get(e.id)?.length ?? 0) > 0) {
        throw IamErrors.deleteConflict('Cannot delete entity, must delete access keys first.');
      }
      if ((this.groupsOfUser.get(e.id)?.length ?? 0) > 0) {
        throw IamErrors.deleteConflict('Cannot delete entity, must remove user from all groups first.');
      }
    }
    this.write(() => {
      this.st.deleteEntity.run(e.id);
    });
  }

  /** Adds or replaces tags (keys match regardless of case, as IAM's do). */
  tagEntity(kind: EntityKind, accountId: string, name: string, tags: Tag[]): void {
    const e = this.mustGet(kind, accountId, name);
    this.updateEntity(e, { tags: mergeTags(e.tags, tags) });
  }

  untagEntity(kind: EntityKind, accountId: string, name: string, keys: string[]): void {
    const e = this.mustGet(kind, accountId, name);
    this.updateEntity(e, { tags: removeTags(e.tags, keys) });
  }

  // -------------------------------------------------------------------------------------------
  // Access keys
  // -------------------------------------------------------------------------------------------

  createAccessKey(accountId: string, userName: string): AccessKey {
    const user = this.mustGet('user', accountId, userName);
    if ((this.keysOfUser.get(user.id)?.length ?? 0) >= ACCESS_KEYS_PER_USER) {
      throw IamErrors.limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`);
    }
    const accessKeyId = newAccessKeyId('AKIA', accountId);
    this.write(() => {
      this.st.insertKey.run(accessKeyId, user.id, newSecretAccessKey(), 'Active', this.clock());
    });
    return this.keys.get(accessKeyId)!;
  }

  /** A user's access keys, oldest first. */
  accessKeysOf(userId: string): AccessKey[] {
    return this.keysOfUser.get(userId) ?? [];
  }

  getAccessKey(accessKeyId: string): AccessKey | undefined {
    return this.keys.get(accessKeyId);
  }

  private mustGetKey(user: Entity, accessKeyId: string): AccessKey {
    const k = this.keys.get(accessKeyId);
    if (!k || k.userId !== user.id) throw IamErrors.noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found.`);
    return k;
  }

  updateAccessKey(accountId: string, userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): void {
    const k = this.mustGetKey(this.mustGet('user', accountId, userName), accessKeyId);
    if (k.status === status) return;
    this.write(() => {
      this.st.updateKeyStatus.run(status, accessKeyId);
    });
  }

  deleteAccessKey(accountId: string, userName: string, accessKeyId: string): void {
    this.mustGetKey(this.mustGet('user', accountId, userName), accessKeyId);
    this.write(() => {
      this.st.deleteKey.run(accessKeyId);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Groups
  // -------------------------------------------------------------------------------------------

  addUserToGroup(accountId: string, groupName: string, userName: string): void {
    const group = this.mustGet('group', accountId, groupName);
    const user = this.mustGet('user', accountId, userName);
    const groups = this.groupsOfUser.get(user.id) ?? [];
    if (groups.includes(group.id)) return;
    if (groups.length >= GROUPS_PER_USER) throw IamErrors.limitExceeded(`Cannot exceed quota for GroupsPerUser: ${GROUPS_PER_USER}`);
    this.write(() => {
      this.st.addMember.run(group.id, user.id);
    });
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): void {
    const group = this.mustGet('group', accountId, groupName);
    const user = this.mustGet('user', accountId, userName);
    if (!(this.groupsOfUser.get(user.id) ?? []).includes(group.id)) {
      throw IamErrors.noSuchEntity(`User ${user.name} is not in group ${group.name}.`);
    }
    this.write(() => {
      this.st.removeMember.run(group.id, user.id);
    });
  }

  /** A group's users, by name. */
  membersOf(groupId: string): Entity[] {
    return (this.members.get(groupId) ?? []).map((id) => this.entities.get(id)!).filter(Boolean).sort(byName);
  }

  /** A user's groups, by name. */
  groupsOf(userId: string): Entity[] {
    return (this.groupsOfUser.get(userId) ?? []).map((id) => this.entities.get(id)!).filter(Boolean).sort(byName);
  }

  // -------------------------------------------------------------------------------------------
  // Inline policies
  // -------------------------------------------------------------------------------------------

  /** Adds or replaces an inline policy; `document` has been validated by the caller. */
  putInlinePolicy(kind: EntityKind, accountId: string, name: string, policyName: string, document: string): void {
    const e = this.mustGet(kind, accountId, name);
    const others = [...(this.inline.get(e.id) ?? new Map<string, string>())].filter(([n]) => n !== policyName);
    const total = others.reduce((sum, [, text]) => sum + policySize(text), policySize(document));
    if (total > INLINE_SIZE[kind]) {
      throw IamErrors.limitExceeded(`Maximum policy size of ${INLINE_SIZE[kind]} bytes exceeded for ${kind} ${e.name}`);
    }
    this.write(() => {
      this.st.putInline.run(e.id, policyName, document);
    });
  }

  getInlinePolicy(ownerId: string, policyName: string): string | undefined {
    return this.inline.get(ownerId)?.get(policyName);
  }

  /** The names of an entity's inline policies, sorted. */
  inlinePolicyNames(ownerId: string): string[] {
    return [...(this.inline.get(ownerId)?.keys() ?? [])].sort();
  }

  deleteInlinePolicy(kind: EntityKind, accountId: string, name: string, policyName: string): void {
    const e = this.mustGet(kind, accountId, name);
    if (this.getInlinePolicy(e.id, policyName) === undefined) {
      throw IamErrors.noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
    }
    this.write(() => {
      this.st.deleteInline.run(e.id, policyName);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Managed policies
  // -------------------------------------------------------------------------------------------

  /**
   * A managed policy by ARN as `accountId` sees it: its own customer managed policies and the
   * AWS managed ones. Names match regardless of case; the path must match exactly.
   */
  getManagedPolicy(accountId: string, arn: string): ManagedPolicy | undefined {
    const a = parseIamArn(arn);
    if (!a || a.type !== 'policy' || (a.accountId !== accountId && a.accountId !== 'aws')) return undefined;
    const canonical = this.policyNames.get(nameKey(a.accountId, 'policy', a.name));
    const p = canonical === undefined ? undefined : this.policies.get(canonical);
    return p && p.path === a.path ? p : undefined;
  }

  /** Managed policies visible to the account, by name. */
  listManagedPolicies(accountId: string, scope: PolicyScope, pathPrefix = '/', onlyAttached = false): ManagedPolicy[] {
    const out: ManagedPolicy[] = [];
    for (const p of this.policies.values()) {
      const local = p.accountId === accountId;
      if (!local && !p.awsManaged) continue;
      if ((scope === 'Local' && !local) || (scope === 'AWS' && !p.awsManaged)) continue;
      if (!p.path.startsWith(pathPrefix)) continue;
      if (onlyAttached && this.attachmentCount(accountId, p) === 0) continue;
      out.push(p);
    }
    return out.sort(byName);
  }

  /** How many of the account's users, groups and roles have the policy attached. */
  attachmentCount(accountId: string, policy: ManagedPolicy): number {
    return this.attachmentCounts.get(`${accountId}\0${policy.arn}`) ?? 0;
  }

  /** The account's users, groups and roles that have the policy attached. */
  entitiesWithPolicy(accountId: string, policy: ManagedPolicy): Entity[] {
    const out: Entity[] = [];
    for (const [owner, arns] of this.attached) {
      const e = this.entities.get(owner);
      if (e && e.accountId === accountId && arns.includes(policy.arn)) out.push(e);
    }
    return out.sort(byName);
  }

  private mustGetPolicy(accountId: string, arn: string): ManagedPolicy {
    const p = this.getManagedPolicy(accountId, arn);
    if (!p) throw IamErrors.noSuchEntity(`Policy ${arn} was not found.`);
    return p;
  }

  /** AWS managed policies are AWS's: customers cannot change or delete them. */
  private mustGetLocalPolicy(accountId: string, arn: string, action: string, caller: string): ManagedPolicy {
    const p = this.mustGetPolicy(accountId, arn);
    if (p.awsManaged) {
      throw IamErrors.accessDenied(`User: ${caller} is not authorized to perform: ${action} on resource: ${p.arn}`);
    }
    return p;
  }

  createPolicy(accountId: string, init: { name: string; path: string; document: string; description?: string; tags?: Tag[] }): ManagedPolicy {
    if (this.policyNames.has(nameKey(accountId, 'policy', init.name))) {
      throw IamErrors.entityAlreadyExists(`A policy called ${init.name} already exists. Duplicate names are not allowed.`);
    }
    if (this.listManagedPolicies(accountId, 'Local').length >= POLICIES_PER_ACCOUNT) {
      throw IamErrors.limitExceeded(`Cannot exceed quota for PoliciesPerAccount: ${POLICIES_PER_ACCOUNT}`);
    }
    checkManagedSize(init.document);
    const tags = init.tags ?? [];
    checkTags(tags);
    const id = newUniqueId('ANPA');
    const now = this.clock();
    this.write(() => {
      this.st.insertPolicy.run({
        id,
        accountId,
        name: init.name,
        path: init.path,
        description: init.description ?? null,
        createdAt: now,
        updatedAt: now,
        defaultVersionId: 'v1',
        nextVersion: 2,
        tags: JSON.stringify(tags),
      });
      this.st.insertVersion.run(id, 'v1', init.document, now);
    });
    return this.getManagedPolicy(accountId, iamArn('policy', accountId, init.path, init.name))!;
  }

  createPolicyVersion(accountId: string, arn: string, document: string, setAsDefault: boolean, caller: string): PolicyVersion {
    const p = this.mustGetLocalPolicy(accountId, arn, 'iam:CreatePolicyVersion', caller);
    if (p.versions.length >= POLICY_VERSIONS) {
      throw IamErrors.limitExceeded(
        `A managed policy can have up to ${POLICY_VERSIONS} versions. Before you create a new version, you must delete an existing version.`,
      );
    }
    checkManagedSize(document);
    const now = this.clock();
    const versionId = this.write(() => {
      const next = this.st.nextVersion.get(p.id) as number;
      const v = `v${next}`;
      this.st.insertVersion.run(p.id, v, document, now);
      this.st.updatePolicy.run(now, setAsDefault ? v : p.defaultVersionId, next + 1, JSON.stringify(p.tags), p.id);
      return v;
    });
    return this.policies.get(p.arn)!.versions.find((v) => v.versionId === versionId)!;
  }

  private mustGetVersion(p: ManagedPolicy, versionId: string): PolicyVersion {
    const v = p.versions.find((x) => x.versionId === versionId);
    if (!v) throw IamErrors.noSuchEntity(`Policy ${p.arn} version ${versionId} does not exist or is not attachable.`);
    return v;
  }

  getPolicyVersion(accountId: string, arn: string, versionId: string): { policy: ManagedPolicy; version: PolicyVersion } {
    const policy = this.mustGetPolicy(accountId, arn);
    return { policy, version: this.mustGetVersion(policy, versionId) };
  }

  deletePolicyVersion(accountId: string, arn: string, versionId: string, caller: string): void {
    const p = this.mustGetLocalPolicy(accountId, arn, 'iam:DeletePolicyVersion', caller);
    this.mustGetVersion(p, versionId);
    if (versionId === p.defaultVersionId) throw IamErrors.deleteConflict('Cannot delete the default version of a policy.');
    this.write(() => {
      this.st.deleteVersion.run(p.id, versionId);
    });
  }

  setDefaultPolicyVersion(accountId: string, arn: string, versionId: string, caller: string): void {
    const p = this.mustGetLocalPolicy(accountId, arn, 'iam:SetDefaultPolicyVersion', caller);
    this.mustGetVersion(p, versionId);
    if (versionId === p.defaultVersionId) return;
    this.write(() => {
      this.st.updatePolicy.run(this.clock(), versionId, this.st.nextVersion.get(p.id) as number, JSON.stringify(p.tags), p.id);
    });
  }

  deletePolicy(accountId: string, arn: string, caller: string): void {
    const p = this.mustGetLocalPolicy(accountId, arn, 'iam:DeletePolicy', caller);
    if (this.attachmentCount(accountId, p) > 0) throw IamErrors.deleteConflict('Cannot delete a policy attached to entities.');
    if (p.versions.length > 1) {
      throw IamErrors.deleteConflict(
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
      );
    }
    this.write(() => {
      this.st.deleteVersions.run(p.id);
      this.st.deletePolicy.run(p.id);
    });
  }

  tagPolicy(accountId: string, arn: string, tags: Tag[], caller: string): void {
    const p = this.mustGetLocalPolicy(accountId, arn, 'iam:TagPolicy', caller);
    this.setPolicyTags(p, mergeTags(p.tags, tags));
  }

  untagPolicy(accountId: string, arn: string, keys: string[], caller: string): void {
    const p = this.mustGetLocalPolicy(accountId, arn, 'iam:UntagPolicy', caller);
    this.setPolicyTags(p, removeTags(p.tags, keys));
  }

  private setPolicyTags(p: ManagedPolicy, tags: Tag[]): void {
    this.write(() => {
      this.st.updatePolicy.run(p.updatedAt, p.defaultVersionId, this.st.nextVersion.get(p.id) as number, JSON.stringify(tags), p.id);
    });
  }

  attachPolicy(kind: EntityKind, accountId: string, name: string, policyArn: string): void {
    const e = this.mustGet(kind, accountId, name);
    const p = this.getManagedPolicy(accountId, policyArn);
    if (!p) throw IamErrors.noSuchEntity(`Policy ${policyArn} does not exist or is not attachable.`);
    const current = this.attached.get(e.id) ?? [];
    if (current.includes(p.arn)) return;
    if (current.length >= MANAGED_POLICIES_PER_ENTITY) {
      throw IamErrors.limitExceeded(`Cannot exceed quota for PoliciesPer${KIND_TITLE[kind]}: ${MANAGED_POLICIES_PER_ENTITY}`);
    }
    this.write(() => {
      this.st.attach.run(e.id, p.arn);
    });
  }

  detachPolicy(kind: EntityKind, accountId: string, name: string, policyArn: string): void {
    const e = this.mustGet(kind, accountId, name);
    const p = this.getManagedPolicy(accountId, policyArn);
    if (!p || !(this.attached.get(e.id) ?? []).includes(p.arn)) {
      throw IamErrors.noSuchEntity(`Policy ${policyArn} was not found.`);
    }
    this.write(() => {
      this.st.detach.run(e.id, p.arn);
    });
  }

  /** The managed policies attached to an entity, in the order they were attached. */
  attachedPolicies(ownerId: string): ManagedPolicy[] {
    return (this.attached.get(ownerId) ?? []).map((arn) => this.policies.get(arn)).filter((p): p is ManagedPolicy => !!p);
  }

  // -------------------------------------------------------------------------------------------
  // STS sessions
  // -------------------------------------------------------------------------------------------

  /**
   * Issues temporary credentials valid for `durationSeconds` from now (the expiry is whole
   * seconds, as STS reports it). Durable before it returns.
   */
  createSession(init: {
    accountId: string;
    kind: Session['kind'];
    subjectId: string;
    principal?: Principal;
    sourceIdentity?: string;
    chained: boolean;
    durationSeconds: number;
  }): Session {
    const now = this.clock();
    const s: Session = {
      accessKeyId: newAccessKeyId('ASIA', init.accountId),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(),
      accountId: init.accountId,
      kind: init.kind,
      subjectId: init.subjectId,
      chained: init.chained,
      createdAt: now,
      expiresAt: Math.floor((now + init.durationSeconds * 1000) / 1000) * 1000,
    };
    if (init.principal) s.principal = init.principal;
    if (init.sourceIdentity !== undefined) s.sourceIdentity = init.sourceIdentity;
    if (++this.sessionsSincePurge >= PURGE_EVERY_SESSIONS) this.purgeSessions();
    this.st.insertSession.run({
      ...s,
      principal: s.principal ? JSON.stringify(s.principal) : null,
      sourceIdentity: s.sourceIdentity ?? null,
      chained: s.chained ? 1 : 0,
    });
    this.sessions.set(s.accessKeyId, s);
    return s;
  }

  /** Forgets sessions that expired long enough ago that nobody will present them any more. */
  private purgeSessions(): void {
    this.sessionsSincePurge = 0;
    const before = this.clock() - EXPIRED_SESSION_RETENTION_MS;
    this.st.purgeSessions.run(before);
    for (const [id, s] of this.sessions) {
      if (s.expiresAt < before) {
        this.sessions.delete(id);
        this.sessionLookups.delete(id);
      }
    }
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function sessionFromRow(row: Row): Session {
  const s: Session = {
    accessKeyId: row.access_key_id,
    secretAccessKey: row.secret,
    sessionToken: row.token,
    accountId: row.account_id,
    kind: row.kind,
    subjectId: row.subject_id,
    chained: row.chained === 1,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
  if (row.principal !== null) s.principal = JSON.parse(row.principal) as Principal;
  if (row.source_identity !== null) s.sourceIdentity = row.source_identity;
  return s;
}

function checkTags(tags: Tag[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    const k = t.key.toLowerCase();
    if (seen.has(k)) throw IamErrors.invalidInput('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(k);
  }
  if (tags.length > TAGS_PER_ENTITY) {
    throw IamErrors.limitExceeded(`The number of tags has reached the maximum limit of ${TAGS_PER_ENTITY}.`);
  }
}

function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  checkTags(added);
  const out = current.filter((t) => !added.some((a) => a.key.toLowerCase() === t.key.toLowerCase()));
  out.push(...added);
  checkTags(out);
  return out;
}

function removeTags(current: Tag[], keys: string[]): Tag[] {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return current.filter((t) => !drop.has(t.key.toLowerCase()));
}

function checkManagedSize(document: string): void {
  if (policySize(document) > MANAGED_POLICY_SIZE) {
    throw IamErrors.limitExceeded(`Cannot exceed quota for PolicySize: ${MANAGED_POLICY_SIZE}`);
  }
}

function checkTrustSize(document: string): void {
  if (policySize(document) > TRUST_POLICY_SIZE) {
    throw IamErrors.limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_SIZE}`);
  }
}
