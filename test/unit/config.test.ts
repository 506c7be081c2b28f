import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, readConfigFile, resolveConfig } from '../../src/config/config.js';

describe('config', () => {
  it('defaults: loopback, port 9000, three regions, the development identity', () => {
    const c = resolveConfig({}, {});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 9000);
    assert.deepEqual(c.regions, ['us-east-1', 'us-west-2', 'eu-west-1']);
    assert.deepEqual(c.credentials, [{ accessKeyId: 'test', secretAccessKey: 'test', accountId: '000000000000' }]);
    assert.ok(path.isAbsolute(c.dataDir));
  });
  it('flags override the file, the file overrides defaults', () => {
    const c = resolveConfig({ port: 7000, regions: ['eu-west-1'] }, { port: 8000, host: undefined });
    assert.equal(c.port, 8000);
    assert.deepEqual(c.regions, ['eu-west-1']);
    assert.equal(c.host, DEFAULT_CONFIG.host);
  });
  it('rejects bad values with a clear message', () => {
    assert.throws(() => resolveConfig({ regions: ['mars-1'] }, {}), ConfigError);
    assert.throws(() => resolveConfig({ regions: [] }, {}), ConfigError);
    assert.throws(() => resolveConfig({ port: 70000 }, {}), ConfigError);
    assert.throws(() => resolveConfig({ credentials: [{ accessKeyId: 'a', secretAccessKey: 'b', accountId: '12' }] }, {}), ConfigError);
    assert.throws(() => resolveConfig({ cipherThreads: -1 }, {}), /cipherThreads must be 0 to 64/);
    assert.throws(() => resolveConfig({ cipherThreads: 1.5 }, {}), /cipherThreads/);
    assert.equal(resolveConfig({ cipherThreads: 3 }, { cipherThreads: 0 }).cipherThreads, 0);
    assert.ok(DEFAULT_CONFIG.cipherThreads >= 1 && DEFAULT_CONFIG.cipherThreads <= 4);
  });
  it('reads a JSON file and refuses unknown keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-cfg-'));
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(good, JSON.stringify({ port: 1234, regions: ['us-west-2'] }));
    assert.equal(resolveConfig(readConfigFile(good), {}).port, 1234);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ prot: 1 }));
    assert.throws(() => readConfigFile(bad), /unknown setting "prot"/);
  });
  it('tlsGenerate: off by default, on from the file or the flag, only a boolean', () => {
    assert.equal(resolveConfig({}, {}).tlsGenerate, false);
    assert.equal(resolveConfig({ tlsGenerate: true }, {}).tlsGenerate, true);
    assert.equal(resolveConfig({}, { tlsGenerate: true }).tlsGenerate, true);
    // An absent flag (undefined) leaves the file's choice alone.
    assert.equal(resolveConfig({ tlsGenerate: true }, { tlsGenerate: undefined }).tlsGenerate, true);
    assert.throws(() => resolveConfig({ tlsGenerate: 'yes' as unknown as boolean }, {}), /tlsGenerate must be true or false/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-cfg-'));
    const file = path.join(dir, 'tls.json');
    fs.writeFileSync(file, JSON.stringify({ tlsGenerate: true, tls: { cert: 'c.pem', key: 'k.pem' } }));
    const c = resolveConfig(readConfigFile(file), {});
    assert.equal(c.tlsGenerate, true);
    assert.deepEqual(c.tls, { cert: 'c.pem', key: 'k.pem' });
  });
  it('masterKeyFile: optional, from the file or the flag, made absolute, never empty', () => {
    assert.equal(resolveConfig({}, {}).masterKeyFile, undefined);
    assert.equal(resolveConfig({ masterKeyFile: 'keys/master.key' }, {}).masterKeyFile, path.resolve('keys/master.key'));
    assert.equal(resolveConfig({ masterKeyFile: '/a/file.key' }, { masterKeyFile: '/b/flag.key' }).masterKeyFile, '/b/flag.key');
    assert.throws(() => resolveConfig({ masterKeyFile: '' }, {}), /masterKeyFile must be a file path/);
    assert.throws(() => resolveConfig({ masterKeyFile: 7 as unknown as string }, {}), /masterKeyFile must be a file path/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xr-cfg-'));
    const file = path.join(dir, 'kms.json');
    fs.writeFileSync(file, JSON.stringify({ masterKeyFile: '/etc/xregion/master.key' }));
    assert.equal(resolveConfig(readConfigFile(file), {}).masterKeyFile, '/etc/xregion/master.key');
  });
});
