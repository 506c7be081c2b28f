/**
 * `xregion replication explain | status | verify`: the admin endpoints for people.
 */
import { Command } from 'commander';
import type { Explanation } from '../replication/explain.js';
import type { StatusReport, VerifyReport } from '../replication/report.js';
import { AdminError, adminGet, type AdminTarget } from './admin-client.js';

interface CommonOptions {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  region?: string;
  json?: boolean;
}

function target(o: CommonOptions): AdminTarget {
  return {
    endpoint: o.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:9000',
    accessKeyId: o.accessKey ?? process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: o.secretKey ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    region: o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
}

function common(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'server endpoint (default $AWS_ENDPOINT_URL or http://127.0.0.1:9000)')
    .option('--access-key <id>', 'access key (default $AWS_ACCESS_KEY_ID or test)')
    .option('--secret-key <secret>', 'secret key (default $AWS_SECRET_ACCESS_KEY or test)')
    .option('--region <region>', 'region to sign for (default $AWS_REGION or us-east-1)')
    .option('--json', 'print the JSON answer as it is');
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (e) {
    const msg = e instanceof AdminError ? e.message : (e as Error).message;
    process.stderr.write(`xregion: ${msg}\n`);
    process.exitCode = 2;
  }
}

function printExplanation(x: Explanation): void {
  const out: string[] = [`${x.bucket}/${x.key}: ${x.subject}${x.status ? ` (x-amz-replication-status ${x.status})` : ''}`];
  for (const f of x.failures ?? []) out.push(`  FAILED to ${f.destination}: ${f.reason}${f.error ? ` — ${f.error}` : ''}`);
  if (!x.replicates) out.push(`does not replicate: ${x.reason ?? 'no rule selects it'}`);
  else out.push(`replicates to ${x.destinations.length} destination${x.destinations.length === 1 ? '' : 's'}:`);
  for (const d of x.destinations) {
    out.push(`  ${d.destination}: rule "${d.rule}"${d.outranked.length ? ` (outranks ${d.outranked.map((r) => `"${r}"`).join(', ')})` : ''}`);
    out.push(`    target:        ${d.target}`);
    out.push(`    storage class: ${d.storageClass}`);
    out.push(`    delete markers: ${d.deleteMarkers}`);
    out.push(`    encryption:    ${d.encryption}`);
    out.push(`    RTC:           ${d.replicationTime ? 'on (15-minute threshold)' : 'off'}`);
  }
  if (x.rules.length) out.push('rules:');
  for (const r of x.rules) {
    const prio = r.priority !== undefined ? `priority ${r.priority}, ` : '';
    out.push(`  "${r.id}" (${prio}${r.status}) → ${r.destination}: ${r.selects ? 'selects it' : `does not select it — ${r.reason}`}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

function printStatus(s: StatusReport): void {
  const out = [
    `${s.bucket}: ${s.configured ? '' : '(no replication configuration) '}${s.pending.operations} operation(s) pending (${s.pending.bytes} bytes), oldest ${s.pending.oldestAgeSeconds} s`,
  ];
  for (const d of s.destinations) {
    out.push(`  → ${d.destination} (rule "${d.ruleId}"): ${d.pendingOperations} pending, lag ${d.lagSeconds.toFixed(1)} s, ${d.failed} failed`);
  }
  if (s.retrying.length) out.push('retrying:');
  for (const r of s.retrying) out.push(`  ${r.key} → ${r.destination}: ${r.attempts} attempt(s), last error: ${r.error ?? 'none'}`);
  if (s.failed.length) out.push(`failed (${s.failedTotal}${s.failedTotal > s.failed.length ? `, the oldest ${s.failed.length} listed` : ''}):`);
  for (const f of s.failed) out.push(`  ${f.key} version ${f.versionId} → ${f.destination}: ${f.reason}${f.error ? ` — ${f.error}` : ''}`);
  process.stdout.write(out.join('\n') + '\n');
}

function printVerify(v: VerifyReport): void {
  const out = [`${v.bucket}: ${v.checked} replicated version(s) checked, ${v.pending} pending, ${v.failed} failed, ${v.differences.length} difference(s)`];
  for (const d of v.differences) out.push(`  ${d.key}${d.versionId ? ` version ${d.versionId}` : ''} at ${d.destination}: ${d.problem}`);
  process.stdout.write(out.join('\n') + '\n');
}

export function registerReplicationCommands(program: Command): Command {
  const replication = program.command('replication').description('Inspect replication: explain rules, show the backlog and failures, verify destinations');

  common(replication.command('explain'))
    .description('Why a key replicates (or does not): rules, winners per destination, storage class, delete markers, encryption')
    .requiredOption('--bucket <name>', 'source bucket')
    .requiredOption('--key <key>', 'object key')
    .option('--version-id <id>', 'a stored version (default: the latest, or a new object when --tags is given)')
    .option('--tags <k=v,...>', 'explain a new object with these tags instead of a stored version')
    .option('--delete-marker', 'explain a new delete marker')
    .action((o: CommonOptions & { bucket: string; key: string; versionId?: string; tags?: string; deleteMarker?: boolean }) =>
      run(async () => {
        const x = (await adminGet(target(o), 'replication/explain', {
          bucket: o.bucket,
          key: o.key,
          versionId: o.versionId,
          tags: o.tags,
          deleteMarker: o.deleteMarker ? 'true' : undefined,
        })) as Explanation;
        if (o.json) process.stdout.write(JSON.stringify(x, null, 2) + '\n');
        else printExplanation(x);
        return 0;
      }),
    );

  common(replication.command('status'))
    .description('Pending operations and lag per destination, and every failed version with its reason')
    .requiredOption('--bucket <name>', 'source bucket')
    .action((o: CommonOptions & { bucket: string }) =>
      run(async () => {
        const s = (await adminGet(target(o), 'replication/status', { bucket: o.bucket })) as StatusReport;
        if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else printStatus(s);
        return 0;
      }),
    );

  common(replication.command('verify'))
    .description('Compare the source with its destinations version by version; exit 1 on any difference')
    .requiredOption('--bucket <name>', 'source bucket')
    .action((o: CommonOptions & { bucket: string }) =>
      run(async () => {
        const v = (await adminGet(target(o), 'replication/verify', { bucket: o.bucket })) as VerifyReport;
        if (o.json) process.stdout.write(JSON.stringify(v, null, 2) + '\n');
        else printVerify(v);
        return v.differences.length ? 1 : 0;
      }),
    );
  return replication;
}
