/**
 * The `xregion` command.
 */
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { closeApp, openApp } from '../app.js';
import { ConfigError, DEFAULT_CONFIG, readConfigFile, resolveConfig, type Config } from '../config/config.js';
import { cipherThreadCount, defaultCipherThreads, setCipherThreads } from '../crypto/cipher-pool.js';
import { usesNativeCipher } from '../crypto/object-cipher.js';
import { devTlsNames, ensureDevTls, type DevTls } from '../http/dev-tls.js';
import { startServer } from '../http/server.js';
import { registerReplicationCommands } from './replication-commands.js';
import { registerBatchCommands } from './batch-commands.js';
import { registerKmsCommands } from './kms-commands.js';

const VERSION = '0.1.0';

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('a port is 0-65535 (0: any free port)');
  return n;
}

function parseCount(v: string): number {
  if (!/^\d{1,2}$/.test(v) || Number(v) > 64) throw new InvalidArgumentError('a count is 0-64');
  return Number(v);
}

function parseList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

interface ServeOptions {
  config?: string;
  host?: string;
  port?: number;
  dataDir?: string;
  regions?: string[];
  domain?: string[];
  accessKey?: string;
  secretKey?: string;
  accountId?: string;
  tlsCert?: string;
  tlsKey?: string;
  tls?: boolean;
  masterKeyFile?: string;
  logLevel?: string;
  cipherThreads?: number;
}

function flagsToConfig(o: ServeOptions): Partial<Config> {
  const c: Partial<Config> = {
    host: o.host,
    port: o.port,
    dataDir: o.dataDir,
    regions: o.regions,
    domains: o.domain,
    logLevel: o.logLevel,
    cipherThreads: o.cipherThreads,
    tlsGenerate: o.tls,
    masterKeyFile: o.masterKeyFile,
  };
  if (o.accessKey !== undefined || o.secretKey !== undefined || o.accountId !== undefined) {
    if (!o.accessKey || !o.secretKey) throw new ConfigError('--access-key and --secret-key go together');
    c.credentials = [{ accessKeyId: o.accessKey, secretAccessKey: o.secretKey, accountId: o.accountId ?? '000000000000' }];
  }
  if (o.tlsCert !== undefined || o.tlsKey !== undefined) {
    if (!o.tlsCert || !o.tlsKey) throw new ConfigError('--tls-cert and --tls-key go together');
    c.tls = { cert: o.tlsCert, key: o.tlsKey };
  }
  return c;
}

function banner(config: Config, url: string, devTls?: DevTls): string {
  const isDefault = (c: Config['credentials'][number]) =>
    c.accessKeyId === 'test' && c.secretAccessKey === 'test' && c.accountId === '000000000000';
  const creds = config.credentials
    .map((c) =>
      // The development identity is printed whole so that it can be pasted; real secrets never are.
      isDefault(c)
        ? `access key "test", secret "test", account 000000000000 (development default)`
        : `access key "${c.accessKeyId}", account ${c.accountId}`,
    )
    .join('\n               ');
  const caBundle = devTls ? `AWS_CA_BUNDLE=${devTls.caCert} ` : '';
  const tlsLines = devTls
    ? [
        `  tls:         certificate from the development CA ${devTls.caCert}${devTls.created === 'ca' ? ' (new: trust it once)' : ''}`,
        // Alone on its line so that it can be pasted into a shell, or grepped by a script.
        `export AWS_CA_BUNDLE=${devTls.caCert}`,
      ]
    : [];
  return [
    `xregion ${VERSION} listening on ${url}`,
    `  regions:     ${config.regions.join(', ')}`,
    `  data dir:    ${config.dataDir}`,
    `  credentials: ${creds}`,
    `  encryption:  AES-256-GCM by ${usesNativeCipher() ? 'the native addon (OpenSSL, in place)' : "node's crypto module (native addon off or not built)"}, ${cipherThreadCount()} cipher thread(s)`,
    ...tlsLines,
    `  try:         ${caBundle}AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=${config.regions[0]} AWS_ENDPOINT_URL=${url} aws s3 ls`,
    '',
  ].join('\n');
}

async function serve(o: ServeOptions): Promise<void> {
  const config = resolveConfig(o.config ? readConfigFile(o.config) : {}, flagsToConfig(o));
  // Logs go to stderr; stdout carries the banner that scripts and tests read.
  const log = pino({ level: config.logLevel, base: undefined }, pino.destination(2));
  let devTls: DevTls | undefined;
  if (config.tlsGenerate && !config.tls) {
    devTls = await ensureDevTls(config.dataDir, devTlsNames(config.host, config.domains, config.regions));
    config.tls = { cert: devTls.cert, key: devTls.key };
    if (devTls.created !== 'none') log.info({ dir: devTls.dir, created: devTls.created }, 'development TLS certificate issued');
  } else if (config.tlsGenerate) {
    log.info('--tls ignored: an explicit certificate (--tls-cert/--tls-key or "tls") is configured');
  }
  setCipherThreads(config.cipherThreads);
  const app = await openApp(config, log);
  const server = await startServer(app);
  process.stdout.write(banner(config, server.url, devTls));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    app.closing = true;
    await server.close();
    await closeApp(app);
    process.exit(0);
  };
  const onSignal = (signal: string) =>
    stop(signal).catch((e: Error) => {
      log.error({ err: e.message }, 'stopping failed');
      process.exit(1);
    });
  process.on('SIGINT', () => void onSignal('SIGINT'));
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
}

const program = new Command();
program.name('xregion').description('S3-compatible multi-region object store with cross-region replication').version(VERSION);

program
  .command('serve')
  .description('Start the server: S3 API for every configured region, on one address')
  .option(
    '-c, --config <file>',
    'JSON config file (same keys as the flags: host, port, dataDir, regions, credentials, domains, tls, tlsGenerate, masterKeyFile, inlineThreshold, logLevel, cipherThreads)',
  )
  .option('--host <address>', `address to listen on (default ${DEFAULT_CONFIG.host}, loopback only)`)
  .option('-p, --port <port>', `port to listen on, 0 for any free port (default ${DEFAULT_CONFIG.port})`, parsePort)
  .option('-d, --data-dir <dir>', `where data lives, one folder per region (default ${DEFAULT_CONFIG.dataDir})`)
  .option('--regions <list>', `comma-separated regions this process serves (default ${DEFAULT_CONFIG.regions.join(',')})`, parseList)
  .option('--domain <names>', 'comma-separated domains for virtual-host-style buckets, bucket.<domain> (default localhost)', parseList)
  .option('--access-key <id>', 'access key id accepted (default "test")')
  .option('--secret-key <secret>', 'secret access key accepted (default "test")')
  .option('--account-id <id>', '12-digit account id of that key (default 000000000000)')
  .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (needs --tls-key)')
  .option('--tls-key <file>', 'PEM private key of --tls-cert')
  .option('--tls', 'serve HTTPS with a certificate from a development CA made once under <data-dir>/tls (trust it with AWS_CA_BUNDLE); --tls-cert/--tls-key win')
  .option('--master-key-file <path>', 'file holding the KMS master key (wraps the per-object data keys)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (default info)')
  .option(
    '--cipher-threads <n>',
    `worker threads that encrypt and decrypt object data beside the event loop (the native cipher decrypts blob reads in libuv's thread pool instead); 0 does all of it on the event loop (default: cores - 1, 1 to 4; here ${defaultCipherThreads()})`,
    parseCount,
  )
  .action(async (o: ServeOptions) => {
    try {
      await serve(o);
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`xregion: ${e.message}\n`);
        process.exit(2);
      }
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        process.stderr.write(`xregion: address already in use (${(e as Error).message})\n`);
        process.exit(1);
      }
      throw e;
    }
  });

registerReplicationCommands(program);
registerBatchCommands(program);
registerKmsCommands(program);

await program.parseAsync(process.argv);
