/**
 * `xregion kms rotate-master-key`: re-wraps every region's KMS key material and SSE-S3 root key
 * from the current master key to a new one. Offline (the server stopped): the data keys of
 * objects are wrapped by KMS keys, not by the master key, so no object is rewritten.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG } from '../config/config.js';
import { loadMasterKey, readKeyFile, rewrapAll } from '../crypto/master-key.js';

interface RotateOptions {
  dataDir?: string;
  regions?: string;
  masterKeyFile?: string;
  newKeyFile: string;
}

export function registerKmsCommands(program: Command): void {
  const kms = program.command('kms').description('KMS master key administration');
  kms
    .command('rotate-master-key')
    .description(
      'with the server stopped, re-wrap all KMS key material under a new master key; the current key comes from ' +
        'XREGION_MASTER_KEY, --master-key-file or <data-dir>/master.key, as for serve',
    )
    .requiredOption('--new-key-file <path>', 'the new master key: 32 bytes, raw or base64 (e.g. openssl rand -base64 32)')
    .option('-d, --data-dir <dir>', `data directory (default ${DEFAULT_CONFIG.dataDir})`)
    .option('--regions <list>', `comma-separated regions (default ${DEFAULT_CONFIG.regions.join(',')})`)
    .option('--master-key-file <path>', 'the current master key file')
    .action((o: RotateOptions) => {
      const dataDir = path.resolve(o.dataDir ?? DEFAULT_CONFIG.dataDir);
      const regions = o.regions ? o.regions.split(',').map((r) => r.trim()) : DEFAULT_CONFIG.regions;
      const oldKey = loadMasterKey({ dataDir, masterKeyFile: o.masterKeyFile }, () => undefined);
      const newKey = readKeyFile(o.newKeyFile, 'new master key file');
      for (const r of rewrapAll(dataDir, regions, oldKey, newKey)) {
        const what = r.alreadyRotated ? 'already under the new key' : `${r.rewrapped} wrapped key(s) re-wrapped`;
        process.stdout.write(`${r.region}: ${what}\n`);
      }
      process.stdout.write(
        'done: start the server with the new key (XREGION_MASTER_KEY or --master-key-file); keep the old key until you have checked reads.\n',
      );
    });
}
