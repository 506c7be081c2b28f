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
});
