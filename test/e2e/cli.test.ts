/**
 * The `xregion` command: help, configuration errors, a config file, and HTTPS with
 * --tls-cert/--tls-key driven by the aws CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, aws, run, startServer, tempDir, type TestServer } from '../helpers/server.js';

describe('xregion command line', () => {
  it('explains itself', async () => {
    const top = await run(process.execPath, [BIN, '--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /serve/);
    const serve = await run(process.execPath, [BIN, 'serve', '--help']);
    assert.equal(serve.code, 0);
    for (const flag of ['--host', '--port', '--data-dir', '--regions', '--config', '--tls-cert', '--tls-key', '--access-key', '--cipher-threads']) {
      assert.ok(serve.stdout.includes(flag), `serve --help mentions ${flag}`);
    }
  });

  it('refuses bad configuration with a clear message and exit code 2', async () => {
    const dir = tempDir();
    const bad = await run(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dir, '--regions', 'us-east-1,mars-north-9']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"mars-north-9" is not a region name/);
    const file = path.join(dir, 'x.json');
    fs.writeFileSync(file, JSON.stringify({ prot: 9000 }));
    const typo = await run(process.execPath, [BIN, 'serve', '--config', file]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown setting "prot"/);
    const threads = await run(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dir, '--cipher-threads', '65']);
    assert.notEqual(threads.code, 0);
    assert.match(threads.stderr, /a count is 0-64/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('a config file with its own regions and identity', () => {
    let server: TestServer;
    const dir = tempDir();
    before(async () => {
      const file = path.join(dir, 'xregion.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          regions: ['eu-west-1', 'ap-south-1'],
          credentials: [{ accessKeyId: 'AKIACONFIGFILE', secretAccessKey: 'configured-secret', accountId: '111122223333' }],
        }),
      );
      server = await startServer({ dataDir: path.join(dir, 'data'), args: ['--config', file] });
    });
    after(async () => {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('serves the configured regions to the configured identity only', async () => {
      const env = { ...server.env('ap-south-1'), AWS_ACCESS_KEY_ID: 'AKIACONFIGFILE', AWS_SECRET_ACCESS_KEY: 'configured-secret' };
      const mb = await run('aws', ['s3api', 'create-bucket', '--bucket', 'cfg-bucket', '--create-bucket-configuration', 'LocationConstraint=ap-south-1'], { env });
      assert.equal(mb.code, 0, mb.stderr);
      const loc = await run('aws', ['s3api', 'get-bucket-location', '--bucket', 'cfg-bucket'], { env });
      assert.equal(JSON.parse(loc.stdout).LocationConstraint, 'ap-south-1');
      // us-west-2 is not served by this process.
      const other = await run('aws', ['s3api', 'create-bucket', '--bucket', 'cfg-other', '--create-bucket-configuration', 'LocationConstraint=us-west-2'], {
        env: { ...env, AWS_DEFAULT_REGION: 'us-east-1' },
      });
      assert.notEqual(other.code, 0);
      assert.match(other.stderr, /InvalidLocationConstraint/);
      // The development identity is not accepted when credentials are configured.
      const dev = await aws(server, ['s3api', 'list-buckets'], { allowFailure: true });
      assert.notEqual(dev.code, 0);
      assert.match(dev.stderr, /InvalidAccessKeyId/);
    });
  });

  describe('HTTPS', () => {
    let server: TestServer;
    const dir = tempDir();
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    before(async () => {
      const gen = await run('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
      ]);
      assert.equal(gen.code, 0, gen.stderr);
      server = await startServer({ dataDir: path.join(dir, 'data'), args: ['--tls-cert', cert, '--tls-key', key] });
    });
    after(async () => {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('prints an https endpoint that the aws CLI uses with the certificate as CA bundle', async () => {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const env = { ...server.env(), AWS_CA_BUNDLE: cert };
      const src = path.join(dir, 'hello.txt');
      fs.writeFileSync(src, 'over TLS');
      for (const args of [
        ['s3', 'mb', 's3://tls-bucket'],
        ['s3', 'cp', '--only-show-errors', src, 's3://tls-bucket/hello.txt'],
      ]) {
        const r = await run('aws', args, { env });
        assert.equal(r.code, 0, r.stderr);
      }
      const got = await run('aws', ['s3', 'cp', 's3://tls-bucket/hello.txt', '-'], { env });
      assert.equal(got.stdout, 'over TLS');
      // Without the CA the client refuses the self-signed certificate: it really is TLS.
      const untrusted = await run('aws', ['s3', 'ls'], { env: server.env() });
      assert.notEqual(untrusted.code, 0);
      assert.match(untrusted.stderr, /SSL|certificate/i);
    });
  });
});
