/**
 * `serve --tls`: HTTPS for development without handing anyone a self-signed server certificate.
 *
 * A private CA is made once per data directory and kept; the server certificate is issued by it.
 * Clients trust the CA (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, an https.Agent's `ca`), so the
 * server certificate can be re-issued — when the host or domains change, or it nears expiry —
 * without anyone having to trust anything new.
 *
 * Node can parse and verify certificates but cannot build one, hence @peculiar/x509 (on Node's
 * WebCrypto). It is loaded only when a certificate must be made, because it needs the global
 * `reflect-metadata` polyfill, which an ordinary start should not install.
 */
import crypto, { webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface DevTls {
  /** `<dataDir>/tls`. */
  dir: string;
  /** The CA certificate clients must trust. */
  caCert: string;
  /** Server certificate and its key, for `config.tls`. */
  cert: string;
  key: string;
  /** What this call had to make: nothing (all reused), the server certificate, or the CA and the certificate. */
  created: 'none' | 'server' | 'ca';
}

/** Names the server certificate must cover. */
export interface DevTlsNames {
  dns: string[];
  ips: string[];
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const CA_DAYS = 3650;
// Apple clients refuse TLS server certificates valid for longer than 825 days.
const SERVER_DAYS = 825;
// Renew ahead of expiry so that a long-running development server never starts with days left.
const RENEW_BEFORE = 30 * DAY;

/**
 * The names a development certificate covers: loopback in both families and `localhost`, every
 * virtual-host domain with its wildcards, and the listening host unless it is a wildcard address,
 * for which the machine's host name stands in.
 *
 * `*.<domain>` alone is not enough: OpenSSL, curl and Node all refuse a wildcard with a single
 * label after it (`*.localhost`), so `bucket.localhost` never verifies. `bucket.s3.<domain>` and
 * `bucket.s3.<region>.<domain>` are also virtual-host addresses (see addressing.ts), and their
 * wildcards are ones every client honours.
 */
export function devTlsNames(host: string, domains: string[], regions: string[]): DevTlsNames {
  const dns = new Set<string>(['localhost', '*.localhost']);
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const d of domains) {
    const name = d.toLowerCase();
    if (net.isIP(name)) {
      ips.add(name);
      continue;
    }
    dns.add(name);
    dns.add(`*.${name}`);
    dns.add(`s3.${name}`);
    dns.add(`*.s3.${name}`);
    for (const r of regions) {
      dns.add(`s3.${r}.${name}`);
      dns.add(`*.s3.${r}.${name}`);
    }
  }
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === '0.0.0.0' || h === '::') dns.add(os.hostname().toLowerCase());
  else if (net.isIP(h)) ips.add(h);
  else dns.add(h);
  return { dns: [...dns], ips: [...ips] };
}

/**
 * Makes or reuses `<dataDir>/tls/{ca.pem, ca-key.pem, server.pem, server-key.pem}`. The CA key
 * is kept (0600, like the server key) so that the certificate can be re-issued under the same CA.
 */
export async function ensureDevTls(dataDir: string, names: DevTlsNames): Promise<DevTls> {
  const dir = path.join(dataDir, 'tls');
  const files = {
    caCert: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca-key.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server-key.pem'),
  };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();

  let ca = loadCa(files.caCert, files.caKey, now);
  let created: DevTls['created'] = 'none';
  if (!ca) {
    ca = await makeCa(files.caCert, files.caKey);
    created = 'ca';
  }
  if (created === 'ca' || !serverCertUsable(files.cert, files.key, ca.cert, names, now)) {
    await makeServerCert(files.cert, files.key, ca, names);
    if (created === 'none') created = 'server';
  }
  for (const k of [files.caKey, files.key]) tightenMode(k);
  return { dir, caCert: files.caCert, cert: files.cert, key: files.key, created };
}

interface Ca {
  cert: X509Certificate;
  keyPem: string;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function expiresSoon(cert: X509Certificate, now: number): boolean {
  return new Date(cert.validTo).getTime() - now < RENEW_BEFORE || new Date(cert.validFrom).getTime() > now + DAY;
}

function loadCa(certFile: string, keyFile: string, now: number): Ca | undefined {
  const certPem = readIfExists(certFile);
  const keyPem = readIfExists(keyFile);
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.ca || expiresSoon(cert, now) || !cert.checkPrivateKey(crypto.createPrivateKey(keyPem))) return undefined;
    return { cert, keyPem };
  } catch {
    // Unparseable leftovers (a half-written file, a foreign format) are replaced, not fatal.
    return undefined;
  }
}

function serverCertUsable(certFile: string, keyFile: string, ca: X509Certificate, names: DevTlsNames, now: number): boolean {
  const certPem = readIfExists(certFile);
  const keyPem = readIfExists(keyFile);
  if (!certPem || !keyPem) return false;
  try {
    const cert = new X509Certificate(certPem);
    if (expiresSoon(cert, now) || !cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (!cert.checkPrivateKey(crypto.createPrivateKey(keyPem))) return false;
    const sans = new Set((cert.subjectAltName ?? '').split(', '));
    return names.dns.every((d) => sans.has(`DNS:${d}`)) && names.ips.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

function tightenMode(file: string): void {
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) fs.chmodSync(file, 0o600);
}

/** Write-then-rename, so that a crash or a concurrent start never leaves half a PEM behind. */
function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** A positive 128-bit serial: the top bit cleared so DER does not read it as negative. */
function serialNumber(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

async function loadX509() {
  await import('reflect-metadata');
  return import('@peculiar/x509');
}

async function makeCa(certFile: string, keyFile: string): Promise<Ca> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const id = crypto.randomBytes(4).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      // A distinct name per CA, so that two data directories' CAs are never confused in a trust store.
      name: `CN=xregion development CA ${id}, O=xregion (development only)`,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + CA_DAYS * DAY),
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const keyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const certPem = cert.toString('pem');
  // Key first: a CA certificate on disk without its key would be unusable for re-issuing.
  writeAtomic(keyFile, keyPem, 0o600);
  writeAtomic(certFile, certPem.endsWith('\n') ? certPem : `${certPem}\n`, 0o644);
  return { cert: new X509Certificate(certPem), keyPem };
}

async function makeServerCert(certFile: string, keyFile: string, ca: Ca, names: DevTlsNames): Promise<void> {
  const x509 = await loadX509();
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    crypto.createPrivateKey(ca.keyPem).export({ format: 'der', type: 'pkcs8' }),
    EC,
    false,
    ['sign'],
  );
  const caCert = new x509.X509Certificate(ca.cert.raw);
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const cn = names.dns.find((d) => !d.startsWith('*.')) ?? 'localhost';
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: `CN=${cn}, O=xregion (development only)`,
      issuer: caCert.subject,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + SERVER_DAYS * DAY),
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.ips.map((value) => ({ type: 'ip' as const, value }))],
          false,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        // Required by strict verifiers (Python 3.13's default VERIFY_X509_STRICT among them).
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const certPem = cert.toString('pem');
  writeAtomic(keyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), 0o600);
  writeAtomic(certFile, certPem.endsWith('\n') ? certPem : `${certPem}\n`, 0o644);
}
