import fs from 'node:fs';
import path from 'node:path';
import { defaultCipherThreads } from '../crypto/cipher-pool.js';

export interface CredentialConfig {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}

/** Another xregion process (site) that buckets of this one may replicate to. */
export interface SiteConfig {
  name: string;
  /** S3 endpoint of the site, e.g. http://10.0.0.2:9000. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  regions: string[];
  credentials: CredentialConfig[];
  /** Host names under which buckets are addressed virtual-host style (`bucket.<domain>`). */
  domains: string[];
  tls?: { cert: string; key: string };
  /**
   * Serve HTTPS with a certificate from a development CA kept under `<dataDir>/tls` (made on first
   * use). An explicit `tls` wins over it.
   */
  tlsGenerate: boolean;
  /** File holding the KMS master key that wraps per-object data keys. */
  masterKeyFile?: string;
  /** Objects up to this many bytes are kept inside the metadata database (one fsync, no file). */
  inlineThreshold: number;
  logLevel: string;
  /** Other sites replication may write to; a destination bucket not found here is looked up there. */
  sites: SiteConfig[];
  /**
   * Replication copies in flight at once, per region. A copy of a small object mostly waits (for
   * the event loop, the destination, the commit's fsync), so throughput is this divided by a
   * copy's latency: at 16, a loaded server fell behind 300 PUT/s for seconds after starting
   * (docs/benchmarks.md). Each copy of a large object holds up to ~2 MiB of buffers.
   */
  replicationConcurrency: number;
  /**
   * Worker threads that seal and open object data (crypto/cipher-pool.ts); 0 keeps it on the
   * event loop. Process-wide.
   */
  cipherThreads: number;
}

export const DEFAULT_CONFIG: Config = {
  host: '127.0.0.1',
  port: 9000,
  dataDir: './data',
  regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
  // The LocalStack development identity, so that tools and scripts written for it work unchanged.
  credentials: [{ accessKeyId: 'test', secretAccessKey: 'test', accountId: '000000000000' }],
  domains: ['localhost'],
  tlsGenerate: false,
  inlineThreshold: 64 * 1024,
  logLevel: 'info',
  sites: [],
  replicationConcurrency: 32,
  cipherThreads: defaultCipherThreads(),
};

const REGION_RE = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT_RE = /^\d{12}$/;

export class ConfigError extends Error {}

/** The keys a config file may carry: the same names as Config. Anything else is a typo. */
const FILE_KEYS = new Set(Object.keys(DEFAULT_CONFIG).concat(['tls', 'masterKeyFile']));

export function readConfigFile(file: string): Partial<Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  for (const k of Object.keys(raw)) {
    if (!FILE_KEYS.has(k)) throw new ConfigError(`config file ${file}: unknown setting "${k}"`);
  }
  return raw as Partial<Config>;
}

/** Layers defaults, then the file, then flags, and checks the result. */
export function resolveConfig(file: Partial<Config>, flags: Partial<Config>): Config {
  const merged: Config = { ...DEFAULT_CONFIG, ...file, ...stripUndefined(flags) };
  return validateConfig(merged);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateConfig(c: Config): Config {
  if (typeof c.host !== 'string' || c.host === '') throw new ConfigError('host must be a non-empty string');
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new ConfigError(`port must be 0-65535, got ${c.port}`);
  if (!Array.isArray(c.regions) || c.regions.length === 0) throw new ConfigError('at least one region is required');
  for (const r of c.regions) {
    if (!REGION_RE.test(r)) throw new ConfigError(`"${r}" is not a region name (like us-east-1)`);
  }
  if (new Set(c.regions).size !== c.regions.length) throw new ConfigError('regions must be distinct');
  if (!Array.isArray(c.credentials) || c.credentials.length === 0) throw new ConfigError('at least one credential is required');
  const ids = new Set<string>();
  for (const cred of c.credentials) {
    if (!cred.accessKeyId || !cred.secretAccessKey) throw new ConfigError('each credential needs accessKeyId and secretAccessKey');
    if (!ACCOUNT_RE.test(cred.accountId)) throw new ConfigError(`account id "${cred.accountId}" must be 12 digits`);
    if (ids.has(cred.accessKeyId)) throw new ConfigError(`access key ${cred.accessKeyId} is listed twice`);
    ids.add(cred.accessKeyId);
  }
  if (c.tls && (!c.tls.cert || !c.tls.key)) throw new ConfigError('TLS needs both a certificate and a key file');
  if (typeof c.tlsGenerate !== 'boolean') throw new ConfigError('tlsGenerate must be true or false');
  if (c.masterKeyFile !== undefined && (typeof c.masterKeyFile !== 'string' || c.masterKeyFile === '')) {
    throw new ConfigError('masterKeyFile must be a file path');
  }
  if (!Number.isInteger(c.inlineThreshold) || c.inlineThreshold < 0 || c.inlineThreshold > 1024 * 1024) {
    throw new ConfigError('inlineThreshold must be 0 to 1048576 bytes');
  }
  if (!Number.isInteger(c.replicationConcurrency) || c.replicationConcurrency < 1 || c.replicationConcurrency > 1024) {
    throw new ConfigError('replicationConcurrency must be 1 to 1024');
  }
  if (!Number.isInteger(c.cipherThreads) || c.cipherThreads < 0 || c.cipherThreads > 64) {
    throw new ConfigError('cipherThreads must be 0 to 64');
  }
  if (!Array.isArray(c.sites)) throw new ConfigError('sites must be a list');
  const siteNames = new Set<string>();
  for (const s of c.sites) {
    if (!s.name || !s.endpoint || !s.accessKeyId || !s.secretAccessKey) {
      throw new ConfigError('each site needs name, endpoint, accessKeyId and secretAccessKey');
    }
    if (!/^https?:\/\/[^/]+\/?$/.test(s.endpoint)) throw new ConfigError(`site ${s.name}: endpoint must be http(s)://host:port`);
    if (siteNames.has(s.name)) throw new ConfigError(`site ${s.name} is listed twice`);
    siteNames.add(s.name);
  }
  const resolved: Config = { ...c, dataDir: path.resolve(c.dataDir) };
  // Absolute, like dataDir, so that what the server reads never depends on a later chdir.
  if (c.masterKeyFile !== undefined) resolved.masterKeyFile = path.resolve(c.masterKeyFile);
  return resolved;
}
