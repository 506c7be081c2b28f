/**
 * IAM set-up for tests and benchmarks that replicate: replication runs as the role named in the
 * bucket's replication configuration, and that role must exist in the source bucket owner's
 * account with a trust policy letting s3.amazonaws.com assume it (else every version turns
 * FAILED with AssumeRoleNotPermitted, as on AWS).
 *
 * `ensureRole` creates the role (or fixes its trust policy when it exists) and gives it an inline
 * policy allowing s3:* and kms:* on everything. That is deliberately broad: these callers test
 * replication mechanics, not least privilege (test/python/test_seed_000_security.py does that).
 *
 * The IAM query API is called directly at the server's endpoint with a hand-made SigV4
 * signature (service "iam", region us-east-1), so this file needs nothing but node: it is
 * imported by the e2e tests and by bench/replication.ts alike.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export interface IamTarget {
  /** The server's endpoint, e.g. http://127.0.0.1:43567 */
  url: string;
}

export interface IamCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The default credential of a server started without --config: root of account 000000000000. */
export const DEFAULT_ROOT: IamCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };
export const DEFAULT_ACCOUNT = '000000000000';

/** Trusts S3 (replication) and S3 Batch Operations (Batch Replication), as AWS's docs advise. */
export const REPLICATION_TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: ['s3.amazonaws.com', 'batchoperations.s3.amazonaws.com'] },
      Action: 'sts:AssumeRole',
    },
  ],
};

export const ALLOW_ALL_S3_KMS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*'], Resource: '*' }],
};

export const INLINE_POLICY_NAME = 'test-replication-allow-all';

export class IamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${code ?? ''}\n${body.slice(0, 2000)}`);
  }
}

const sha256 = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex');
const hmac = (k: Buffer | string, s: string) => crypto.createHmac('sha256', k).update(s).digest();

/** RFC 3986 encoding as AWS query bodies and SigV4 want it. */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Sends one query-protocol call (IAM or STS): POST / with a form body, SigV4 over host,
 * content-type and x-amz-date. Resolves with the status and body text whatever the status.
 */
export async function queryCall(
  target: IamTarget,
  service: 'iam' | 'sts',
  params: Record<string, string>,
  creds: IamCredentials = DEFAULT_ROOT,
  region = 'us-east-1',
): Promise<{ status: number; body: string; code?: string }> {
  const url = new URL(target.url);
  const version = service === 'iam' ? '2010-05-08' : '2011-06-15';
  const body = Object.entries({ Version: version, ...params })
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join('&');
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    host: url.host,
    'x-amz-date': amzDate,
  };
  const signed = Object.keys(headers).sort();
  const canonicalHeaders = signed.map((h) => `${h}:${headers[h]}\n`).join('');
  const canonical = ['POST', '/', '', canonicalHeaders, signed.join(';'), sha256(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const kDate = hmac(`AWS4${creds.secretAccessKey}`, day);
  const kSigning = hmac(hmac(hmac(kDate, region), service), 'aws4_request');
  const signature = crypto.createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  headers['content-length'] = String(Buffer.byteLength(body));
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host: url.hostname, port: url.port, method: 'POST', path: '/', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
          resolve({ status: res.statusCode ?? 0, body: text, code });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${service} ${params.Action}: no answer in 30 s`)));
    req.end(body);
  });
}

async function iamOk(target: IamTarget, params: Record<string, string>, creds: IamCredentials): Promise<string> {
  const r = await queryCall(target, 'iam', params, creds);
  if (r.status !== 200) throw new IamError(r.status, r.code, r.body, `iam ${params.Action}`);
  return r.body;
}

export interface EnsureRoleOptions {
  /** Credentials of the account that must own the role (default: test/test, account 000000000000). */
  credentials?: IamCredentials;
  /** Account id of those credentials (for the returned ARN; default 000000000000). */
  accountId?: string;
  /** Inline permission policy (default: s3:* and kms:* on everything). */
  policy?: object;
  /** Trust policy (default: s3.amazonaws.com and batchoperations.s3.amazonaws.com). */
  trustPolicy?: object;
}

/**
 * Makes sure the role `roleName` exists on `server` with the replication trust policy and an
 * allow-all inline policy. Idempotent: safe to call after every (re)start of the same data dir.
 * Accepts a role name or a full role ARN (its last path segment is the name). Returns the ARN.
 */
export async function ensureRole(server: IamTarget, roleNameOrArn: string, opts: EnsureRoleOptions = {}): Promise<string> {
  const creds = opts.credentials ?? DEFAULT_ROOT;
  const accountId = opts.accountId ?? DEFAULT_ACCOUNT;
  const roleName = roleNameOrArn.startsWith('arn:') ? roleNameOrArn.slice(roleNameOrArn.lastIndexOf('/') + 1) : roleNameOrArn;
  const trust = JSON.stringify(opts.trustPolicy ?? REPLICATION_TRUST_POLICY);
  const created = await queryCall(server, 'iam', { Action: 'CreateRole', RoleName: roleName, AssumeRolePolicyDocument: trust }, creds);
  if (created.status === 409 || created.code === 'EntityAlreadyExists') {
    await iamOk(server, { Action: 'UpdateAssumeRolePolicy', RoleName: roleName, PolicyDocument: trust }, creds);
  } else if (created.status !== 200) {
    throw new IamError(created.status, created.code, created.body, `iam CreateRole ${roleName}`);
  }
  await iamOk(
    server,
    {
      Action: 'PutRolePolicy',
      RoleName: roleName,
      PolicyName: INLINE_POLICY_NAME,
      PolicyDocument: JSON.stringify(opts.policy ?? ALLOW_ALL_S3_KMS),
    },
    creds,
  );
  const arn = /<Arn>([^<]*)<\/Arn>/.exec(created.body)?.[1];
  return arn ?? `arn:aws:iam::${accountId}:role/${roleName}`;
}

/** ensureRole for several roles (e.g. every role ARN a test file names). */
export async function ensureRoles(server: IamTarget, roles: string[], opts: EnsureRoleOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (const r of roles) out.push(await ensureRole(server, r, opts));
  return out;
}
