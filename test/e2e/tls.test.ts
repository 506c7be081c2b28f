/**
 * `serve --tls`: a development CA and a server certificate made under <dataDir>/tls, trusted by
 * the SDK (an https.Agent with the CA), by the aws CLI (AWS_CA_BUNDLE from the banner), refused
 * by clients that do not trust it; reused across restarts, re-issued under the same CA when the
 * names change, and overridden by an explicit --tls-cert/--tls-key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { devTlsNames, ensureDevTls } from '../../src/http/dev-tls.js';
import { bucketName, run, startServer, tempDir, type TestServer } from '../helpers/server.js';

/** The banner is one write, but a pipe may split it: wait for the line rather than assume it. */
async function bannerLine(server: TestServer, re: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 100; i++) {
    const m = re.exec(server.stdout());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`banner has no ${re}:\n${server.stdout()}`);
}

function agentTrusting(ca: string | undefined): https.Agent {
  return new https.Agent({
    ...(ca !== undefined ? { ca } : {}),
    // *.localhost need not resolve on this machine; the certificate is what is under test.
    lookup: (host, opts, cb) => (host.endsWith('localhost') ? dns.lookup('127.0.0.1', opts, cb) : dns.lookup(host, opts, cb)),
  });
}

/** The certificate a TLS server presents, without verifying it. */
function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      resolve(new X509Certificate(raw));
    });
    s.once('error', reject);
  });
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

describe('serve --tls (development CA)', () => {
  let server: TestServer;
  let caPath: string;
  let ca: string;
  const bucket = bucketName('tls');

  before(async () => {
    server = await startServer({ args: ['--tls'] });
    caPath = (await bannerLine(server, /^export AWS_CA_BUNDLE=(\S+)$/m))[1]!;
    ca = fs.readFileSync(caPath, 'utf8');
  });
  after(async () => {
    await server?.stop();
  });

  it('serves https and prints the CA to trust', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(caPath, path.join(server.dataDir, 'tls', 'ca.pem'));
    assert.match(server.stdout(), /AWS_CA_BUNDLE=\S+ AWS_ACCESS_KEY_ID=test .* aws s3 ls/);
  });

  it('keeps the keys private and issues the server certificate from the CA for loopback names', () => {
    const dir = path.join(server.dataDir, 'tls');
    assert.equal(mode(path.join(dir, 'server-key.pem')), 0o600);
    assert.equal(mode(path.join(dir, 'ca-key.pem')), 0o600);
    const caCert = new X509Certificate(ca);
    const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'server.pem')));
    assert.ok(caCert.ca);
    assert.ok(!cert.ca);
    assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
    for (const name of ['DNS:localhost', 'DNS:*.localhost', 'DNS:*.s3.localhost', 'DNS:*.s3.us-west-2.localhost', 'IP Address:127.0.0.1']) {
      assert.ok(cert.subjectAltName!.split(', ').includes(name), `${name} in ${cert.subjectAltName}`);
    }
    assert.equal(cert.checkIP('::1'), '::1');
  });

  it('an SDK client that trusts the CA can PUT and GET, path style and virtual-host style', async () => {
    const handler = new NodeHttpHandler({ httpsAgent: agentTrusting(ca) });
    const s3 = server.client({ requestHandler: handler });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello over tls' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal(await got.Body!.transformToString(), 'hello over tls');

    for (const endpoint of [`https://localhost:${server.port}`, `https://[::1]:${server.port}`]) {
      const other = server.client({ endpoint, requestHandler: new NodeHttpHandler({ httpsAgent: agentTrusting(ca) }) });
      try {
        const r = await other.send(new ListBucketsCommand({}));
        assert.ok(r.Buckets?.some((b) => b.Name === bucket), endpoint);
      } catch (e) {
        // A machine without IPv6 loopback cannot test ::1; the certificate name is checked above.
        if (endpoint.includes('[::1]') && /EADDRNOTAVAIL|ECONNREFUSED|EAFNOSUPPORT/.test(String((e as Error).message ?? e))) continue;
        throw e;
      }
      other.destroy();
    }

    // bucket.s3.localhost: the wildcard every TLS client honours (*.localhost alone is refused).
    const vhost = server.client({
      endpoint: `https://s3.localhost:${server.port}`,
      forcePathStyle: false,
      requestHandler: new NodeHttpHandler({ httpsAgent: agentTrusting(ca) }),
    });
    const v = await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal(await v.Body!.transformToString(), 'hello over tls');
    vhost.destroy();
    s3.destroy();
  });

  it('a client that does not trust the CA is refused with a certificate error', async () => {
    const s3 = server.client({ requestHandler: new NodeHttpHandler({ httpsAgent: agentTrusting(undefined) }), maxAttempts: 1 });
    await assert.rejects(s3.send(new ListBucketsCommand({})), (e: NodeJS.ErrnoException) => {
      assert.match(`${e.code} ${e.message}`, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|local issuer certificate/i);
      return true;
    });
    s3.destroy();
  });

  it('the aws CLI works with AWS_CA_BUNDLE set to the printed path, and fails without it', async () => {
    const ok = await run('aws', ['s3', 'ls'], { env: { ...server.env(), AWS_CA_BUNDLE: caPath } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`\\b${bucket}\\b`));
    // Unset, not empty: botocore takes an empty AWS_CA_BUNDLE as "do not verify".
    const env = server.env();
    delete env.AWS_CA_BUNDLE;
    delete env.REQUESTS_CA_BUNDLE;
    const refused = await run('aws', ['s3', 'ls'], { env });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /CERTIFICATE_VERIFY_FAILED|SSL validation failed/);
  });

  it('a restart reuses the CA and the certificate; new names re-issue the certificate under the same CA', async () => {
    const dir = path.join(server.dataDir, 'tls');
    const certBefore = fs.readFileSync(path.join(dir, 'server.pem'), 'utf8');
    await server.stop();
    server = await startServer({ dataDir: server.dataDir, args: ['--tls'] });
    assert.equal((await bannerLine(server, /^export AWS_CA_BUNDLE=(\S+)$/m))[1], caPath);
    assert.doesNotMatch(server.stdout(), /new: trust it once/);
    assert.equal(fs.readFileSync(caPath, 'utf8'), ca);
    assert.equal(fs.readFileSync(path.join(dir, 'server.pem'), 'utf8'), certBefore);

    await server.stop();
    server = await startServer({ dataDir: server.dataDir, args: ['--tls', '--domain', 'localhost,xr.test'] });
    await bannerLine(server, /^export AWS_CA_BUNDLE=/m);
    assert.equal(fs.readFileSync(caPath, 'utf8'), ca, 'the CA clients trust is kept');
    const reissued = fs.readFileSync(path.join(dir, 'server.pem'), 'utf8');
    assert.notEqual(reissued, certBefore);
    assert.ok(new X509Certificate(reissued).subjectAltName!.includes('DNS:*.s3.xr.test'));
    assert.equal((await servedCertificate(server.port)).fingerprint256, new X509Certificate(reissued).fingerprint256);
    const s3 = server.client({ requestHandler: new NodeHttpHandler({ httpsAgent: agentTrusting(ca) }) });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal(await got.Body!.transformToString(), 'hello over tls');
    s3.destroy();
  });

  it('an explicit --tls-cert/--tls-key wins over --tls', async () => {
    const own = tempDir('xr-own-cert-');
    const cert = path.join(own, 'cert.pem');
    const key = path.join(own, 'key.pem');
    fs.copyFileSync(path.join(server.dataDir, 'tls', 'server.pem'), cert);
    fs.copyFileSync(path.join(server.dataDir, 'tls', 'server-key.pem'), key);
    const other = await startServer({ args: ['--tls', '--tls-cert', cert, '--tls-key', key] });
    try {
      assert.match(other.url, /^https:/);
      assert.equal((await servedCertificate(other.port)).fingerprint256, new X509Certificate(fs.readFileSync(cert)).fingerprint256);
      assert.ok(!fs.existsSync(path.join(other.dataDir, 'tls')), 'no development CA is made');
      assert.doesNotMatch(other.stdout(), /AWS_CA_BUNDLE/);
    } finally {
      await other.stop();
      fs.rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('ensureDevTls', () => {
  const names = devTlsNames('127.0.0.1', ['localhost'], ['us-east-1']);

  it('replaces a damaged certificate, tightens loose key modes, and keeps the CA', async () => {
    const dataDir = tempDir('xr-devtls-');
    try {
      const first = await ensureDevTls(dataDir, names);
      assert.equal(first.created, 'ca');
      const ca = fs.readFileSync(first.caCert, 'utf8');
      assert.equal((await ensureDevTls(dataDir, names)).created, 'none');

      fs.writeFileSync(first.cert, '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
      fs.chmodSync(first.key, 0o644);
      const again = await ensureDevTls(dataDir, names);
      assert.equal(again.created, 'server');
      assert.equal(fs.readFileSync(first.caCert, 'utf8'), ca);
      assert.equal(mode(first.key), 0o600);
      const cert = new X509Certificate(fs.readFileSync(again.cert));
      assert.ok(cert.verify(new X509Certificate(ca).publicKey));

      // A server key that no longer matches its certificate is a re-issue too.
      fs.copyFileSync(path.join(first.dir, 'ca-key.pem'), first.key);
      assert.equal((await ensureDevTls(dataDir, names)).created, 'server');

      // Losing the CA key means a new CA: the old one could not sign anything more.
      fs.rmSync(path.join(first.dir, 'ca-key.pem'));
      assert.equal((await ensureDevTls(dataDir, names)).created, 'ca');
      assert.notEqual(fs.readFileSync(first.caCert, 'utf8'), ca);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names: a wildcard listen address stands for the host name, an IP host is an IP name', () => {
    const any = devTlsNames('0.0.0.0', ['localhost'], ['us-east-1']);
    assert.ok(!any.ips.includes('0.0.0.0'));
    assert.ok(any.dns.includes(os.hostname().toLowerCase()));
    const lan = devTlsNames('192.168.1.20', ['localhost', 'minio.lan'], ['eu-west-1']);
    assert.ok(lan.ips.includes('192.168.1.20'));
    assert.ok(lan.dns.includes('*.s3.eu-west-1.minio.lan'));
    assert.ok(lan.dns.includes('minio.lan'));
  });
});
