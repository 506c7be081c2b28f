/**
 * `xregion replication batch create | describe | list | confirm | cancel | wait`: S3 Batch
 * Replication jobs from the command line, through the server's S3 Control API (the same
 * CreateJob / DescribeJob / ListJobs / UpdateJobStatus requests the aws CLI sends, signed with
 * SigV4). registerBatchCommands attaches the group under `replication` (creating that command
 * when the program has none yet).
 */
import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { XMLParser } from 'fast-xml-parser';
import { S3CONTROL_NS } from '../api/s3control/jobs-xml.js';
import { uriEncode } from '../http/sigv4/canonical.js';
import { el, xmlDocument } from '../http/xml.js';
import { bucketFromArn } from '../objects/arn.js';
import { FILTER_REPLICATION_STATUSES, FILTER_STORAGE_CLASSES, TERMINAL_STATUSES } from '../replication/batch-model.js';
import { answerError, signedRequest, type AdminTarget, type Query, type SignedAnswer } from './admin-client.js';

/** S3 Control requests name the account of the jobs (x-amz-account-id). */
interface Target extends AdminTarget {
  accountId: string;
}

interface CommonOptions {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  region?: string;
  accountId?: string;
  json?: boolean;
}

class CliError extends Error {}

function target(o: CommonOptions): Target {
  return {
    endpoint: o.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:9000',
    accessKeyId: o.accessKey ?? process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: o.secretKey ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    region: o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    accountId: o.accountId ?? process.env.XREGION_ACCOUNT_ID ?? '000000000000',
  };
}

function common(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'server endpoint (default $AWS_ENDPOINT_URL or http://127.0.0.1:9000)')
    .option('--access-key <id>', 'access key (default $AWS_ACCESS_KEY_ID or test)')
    .option('--secret-key <secret>', 'secret key (default $AWS_SECRET_ACCESS_KEY or test)')
    .option('--region <region>', 'region of the job: requests are signed for it (default $AWS_REGION or us-east-1)')
    .option('--account-id <id>', 'account of the jobs, x-amz-account-id (default $XREGION_ACCOUNT_ID or 000000000000)')
    .option('--json', 'print the answer as JSON');
}

/** One SigV4-signed request (service s3, as S3 Control is signed) for the target's account. */
async function request(t: Target, method: string, rawPath: string, query: Query, body = ''): Promise<SignedAnswer> {
  const headers: Record<string, string> = { 'x-amz-account-id': t.accountId };
  if (body) headers['content-type'] = 'application/xml';
  try {
    return await signedRequest(t, method, rawPath, query, body, headers);
  } catch (e) {
    throw new CliError(`cannot reach ${t.endpoint}: ${(e as Error).message}`);
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => name === 'member',
});

/** The document's root content; a non-2xx answer throws its error code and message. */
function parse(a: SignedAnswer): Record<string, any> {
  if (a.status >= 300) throw answerError(a);
  const doc = a.body ? (parser.parse(a.body) as Record<string, any>) : {};
  const root = Object.keys(doc).find((k) => k !== '?xml');
  return root ? (doc[root] as Record<string, any>) : {};
}

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function intArg(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a non-negative integer');
  return Number(v);
}

function oneOfList(allowed: readonly string[]) {
  return (v: string) => {
    const items = list(v);
    for (const i of items) if (!allowed.includes(i)) throw new InvalidArgumentError(`each of ${allowed.join(', ')}`);
    return items;
  };
}

function timeArg(v: string): string {
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('an ISO 8601 time, e.g. 2024-01-31T00:00:00Z');
  return new Date(ms).toISOString();
}

const members = (name: string, items: string[] | undefined) =>
  items?.length ? `<${name}>${items.map((i) => el('member', i)).join('')}</${name}>` : '';

interface CreateOptions extends CommonOptions {
  bucket?: string;
  manifest?: string;
  manifestFields: string[];
  manifestVersionId?: string;
  manifestEtag?: string;
  statuses?: string[];
  eligibleOnly?: boolean;
  createdAfter?: string;
  createdBefore?: string;
  prefix?: string[];
  suffix?: string[];
  substring?: string[];
  minSize?: number;
  maxSize?: number;
  storageClasses?: string[];
  manifestOutput?: string;
  reportBucket?: string;
  reportPrefix?: string;
  reportScope: string;
  priority: number;
  roleArn?: string;
  description?: string;
  token?: string;
  confirmationRequired?: boolean;
  wait?: boolean;
}

/** "bucket/key/with/slashes" → [bucket, key]. */
function splitObject(v: string): [string, string] {
  const i = v.indexOf('/');
  if (i <= 0 || i === v.length - 1) throw new CliError(`--manifest must be bucket/key, not "${v}"`);
  return [v.slice(0, i), v.slice(i + 1)];
}

async function manifestEtag(t: Target, bucket: string, key: string, versionId?: string): Promise<string> {
  const a = await request(t, 'HEAD', `/${uriEncode(bucket)}/${uriEncode(key, true)}`, { versionId });
  const etag = a.headers.etag;
  if (a.status !== 200 || typeof etag !== 'string') throw new CliError(`cannot read the manifest s3://${bucket}/${key} (HTTP ${a.status})`);
  return etag.replace(/"/g, '');
}

/** The CreateJobRequest document for the flags. */
function createJobXml(o: CreateOptions, accountId: string, etag?: string): string {
  let source: string;
  if (o.manifest) {
    const [bucket, key] = splitObject(o.manifest);
    source =
      '<Manifest><Spec><Format>S3BatchOperations_CSV_20180820</Format>' +
      members('Fields', o.manifestFields) +
      '</Spec><Location>' +
      el('ObjectArn', `arn:aws:s3:::${bucket}/${key}`) +
      el('ObjectVersionId', o.manifestVersionId) +
      el('ETag', etag ?? o.manifestEtag) +
      '</Location></Manifest>';
  } else {
    const keys = o.prefix || o.suffix || o.substring;
    const filter =
      el('EligibleForReplication', o.eligibleOnly ? true : undefined) +
      el('CreatedAfter', o.createdAfter) +
      el('CreatedBefore', o.createdBefore) +
      members('ObjectReplicationStatuses', o.statuses) +
      (keys
        ? '<KeyNameConstraint>' +
          members('MatchAnyPrefix', o.prefix) +
          members('MatchAnySuffix', o.suffix) +
          members('MatchAnySubstring', o.substring) +
          '</KeyNameConstraint>'
        : '') +
      el('ObjectSizeGreaterThanBytes', o.minSize) +
      el('ObjectSizeLessThanBytes', o.maxSize) +
      members('MatchAnyStorageClass', o.storageClasses);
    let output = '';
    if (o.manifestOutput) {
      const i = o.manifestOutput.indexOf('/');
      const bucket = i < 0 ? o.manifestOutput : o.manifestOutput.slice(0, i);
      const prefix = i < 0 ? undefined : o.manifestOutput.slice(i + 1) || undefined;
      output =
        '<ManifestOutputLocation>' +
        el('Bucket', `arn:aws:s3:::${bucket}`) +
        el('ManifestPrefix', prefix) +
        '<ManifestFormat>S3InventoryReport_CSV_20211130</ManifestFormat></ManifestOutputLocation>';
    }
    source =
      '<ManifestGenerator><S3JobManifestGenerator>' +
      el('SourceBucket', `arn:aws:s3:::${o.bucket}`) +
      output +
      (filter ? `<Filter>${filter}</Filter>` : '') +
      el('EnableManifestOutput', Boolean(o.manifestOutput)) +
      '</S3JobManifestGenerator></ManifestGenerator>';
  }
  const report = o.reportBucket
    ? '<Report>' +
      el('Bucket', `arn:aws:s3:::${o.reportBucket}`) +
      '<Format>Report_CSV_20180820</Format><Enabled>true</Enabled>' +
      el('Prefix', o.reportPrefix) +
      el('ReportScope', o.reportScope) +
      '</Report>'
    : '<Report><Enabled>false</Enabled></Report>';
  return xmlDocument(
    'CreateJobRequest',
    el('ConfirmationRequired', o.confirmationRequired ? true : false) +
    '<Operation><S3ReplicateObject/></Operation>' +
    report +
    el('ClientRequestToken', o.token ?? randomUUID()) +
    source +
    el('Description', o.description) +
    el('Priority', o.priority) +
    el('RoleArn', o.roleArn ?? `arn:aws:iam::${accountId}:role/batch-replication`),
    S3CONTROL_NS,
  );
}

async function describe(t: Target, id: string): Promise<Record<string, any>> {
  return parse(await request(t, 'GET', `/v20180820/jobs/${encodeURIComponent(id)}`, {})).Job ?? {};
}

function printJob(j: Record<string, any>): void {
  const p = j.ProgressSummary ?? {};
  const out = [
    `job ${j.JobId}: ${j.Status}${j.Description ? ` — ${j.Description}` : ''}`,
    `  priority ${j.Priority}, created ${j.CreationTime}${j.TerminationDate ? `, ended ${j.TerminationDate}` : ''}`,
    `  tasks: ${p.TotalNumberOfTasks ?? 0} total, ${p.NumberOfTasksSucceeded ?? 0} succeeded, ${p.NumberOfTasksFailed ?? 0} failed; ${p.Timers?.ElapsedTimeInActiveSeconds ?? 0} s active`,
  ];
  if (j.StatusUpdateReason) out.push(`  status update reason: ${j.StatusUpdateReason}`);
  if (j.SuspendedCause) out.push(`  suspended: ${j.SuspendedCause}`);
  for (const f of j.FailureReasons?.member ?? []) out.push(`  FAILED ${f.FailureCode}: ${f.FailureReason}`);
  const r = j.Report;
  if (r?.Enabled === 'true') out.push(`  report: s3://${bucketFromArn(String(r.Bucket)) ?? r.Bucket}/${r.Prefix ? `${r.Prefix}/` : ''}job-${j.JobId}/ (${r.ReportScope ?? 'AllTasks'})`);
  const g = j.GeneratedManifestDescriptor?.Location;
  if (g) out.push(`  generated manifest: ${g.ObjectArn}`);
  process.stdout.write(out.join('\n') + '\n');
}

/** Polls until the job ends; exit code 0 when it completed with no failed task. */
async function waitFor(t: Target, id: string, timeoutSeconds: number, json: boolean | undefined): Promise<number> {
  const until = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const j = await describe(t, id);
    if (TERMINAL_STATUSES.has(j.Status)) {
      if (json) process.stdout.write(JSON.stringify(j, null, 2) + '\n');
      else printJob(j);
      return j.Status === 'Complete' && Number(j.ProgressSummary?.NumberOfTasksFailed ?? 0) === 0 ? 0 : 1;
    }
    if (Date.now() > until) throw new CliError(`job ${id} is still ${j.Status} after ${timeoutSeconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (e) {
    process.stderr.write(`xregion: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}

/**
 * Adds `batch` under the program's `replication` command (or under `program` itself when it
 * is the `replication` command).
 */
export function registerBatchCommands(program: Command): Command {
  const replication =
    program.name() === 'replication'
      ? program
      : (program.commands.find((c) => c.name() === 'replication') ?? program.command('replication').description('Replication tools'));
  const batch = replication.command('batch').description('S3 Batch Replication jobs (S3 Control CreateJob / DescribeJob / ListJobs / UpdateJobStatus)');

  common(batch.command('create'))
    .description('Create a Batch Replication job over a source bucket (generated manifest) or a CSV manifest; prints the job id')
    .option('--bucket <name>', 'source bucket: the manifest is generated from its versions (with the filter flags)')
    .option('--manifest <bucket/key>', 'CSV manifest object instead of --bucket (rows: Bucket,Key,VersionId; keys URL-encoded)')
    .option('--manifest-fields <list>', 'columns of the CSV manifest', oneOfList(['Ignore', 'Bucket', 'Key', 'VersionId']), ['Bucket', 'Key', 'VersionId'])
    .option('--manifest-version-id <id>', 'version of the manifest object')
    .option('--manifest-etag <etag>', 'ETag of the manifest object (default: read with HEAD)')
    .option('--statuses <list>', `ObjectReplicationStatuses filter: ${FILTER_REPLICATION_STATUSES.join(', ')}`, oneOfList(FILTER_REPLICATION_STATUSES))
    .option('--eligible-only', 'EligibleForReplication: only versions a rule of the configuration selects')
    .option('--created-after <time>', 'CreatedAfter filter (ISO 8601)', timeArg)
    .option('--created-before <time>', 'CreatedBefore filter (ISO 8601)', timeArg)
    .option('--prefix <list>', 'KeyNameConstraint MatchAnyPrefix (comma-separated)', list)
    .option('--suffix <list>', 'KeyNameConstraint MatchAnySuffix (comma-separated)', list)
    .option('--substring <list>', 'KeyNameConstraint MatchAnySubstring (comma-separated)', list)
    .option('--min-size <bytes>', 'ObjectSizeGreaterThanBytes', intArg)
    .option('--max-size <bytes>', 'ObjectSizeLessThanBytes', intArg)
    .option('--storage-classes <list>', `MatchAnyStorageClass: ${FILTER_STORAGE_CLASSES.join(', ')}`, oneOfList(FILTER_STORAGE_CLASSES))
    .option('--manifest-output <bucket[/prefix]>', 'also write the generated manifest there (EnableManifestOutput)')
    .option('--report-bucket <name>', 'write the completion report to this bucket (default: no report)')
    .option('--report-prefix <prefix>', 'prefix of the report keys')
    .option('--report-scope <scope>', 'AllTasks or FailedTasksOnly', 'AllTasks')
    .option('--priority <n>', 'job priority', intArg, 10)
    .option('--role-arn <arn>', 'RoleArn (default arn:aws:iam::<account>:role/batch-replication)')
    .option('--description <text>', 'job description')
    .option('--token <token>', 'ClientRequestToken (default: random); the same token and flags give the same job')
    .option('--confirmation-required', 'the job waits (Suspended) until `batch confirm`')
    .option('--wait', 'wait for the job to end and print it; exit 1 unless it completed with no failed task')
    .action((o: CreateOptions) =>
      run(async () => {
        if (!o.bucket === !o.manifest) throw new CliError('give exactly one of --bucket and --manifest');
        if (o.reportScope !== 'AllTasks' && o.reportScope !== 'FailedTasksOnly') throw new CliError('--report-scope is AllTasks or FailedTasksOnly');
        const t = target(o);
        let etag = o.manifestEtag;
        if (o.manifest && !etag) {
          const [b, k] = splitObject(o.manifest);
          etag = await manifestEtag(t, b, k, o.manifestVersionId);
        }
        const a = parse(await request(t, 'POST', '/v20180820/jobs', {}, createJobXml(o, t.accountId, etag)));
        const id = String(a.JobId);
        if (o.wait) return waitFor(t, id, 3600, o.json);
        process.stdout.write(o.json ? JSON.stringify({ JobId: id }) + '\n' : `${id}\n`);
        return 0;
      }),
    );

  common(batch.command('describe'))
    .description('Status, progress, failures, report and generated manifest of a job')
    .argument('<job-id>')
    .action((id: string, o: CommonOptions) =>
      run(async () => {
        const j = await describe(target(o), id);
        if (o.json) process.stdout.write(JSON.stringify(j, null, 2) + '\n');
        else printJob(j);
        return 0;
      }),
    );

  common(batch.command('list'))
    .description('Jobs of the account in the region, newest first')
    .option('--status <list>', 'only jobs in these statuses (comma-separated)', list)
    .action((o: CommonOptions & { status?: string[] }) =>
      run(async () => {
        const t = target(o);
        const jobs: Array<Record<string, any>> = [];
        let token: string | undefined;
        do {
          const a = parse(await request(t, 'GET', '/v20180820/jobs', { jobStatuses: o.status, nextToken: token }));
          jobs.push(...(a.Jobs?.member ?? []));
          token = a.NextToken;
        } while (token);
        if (o.json) process.stdout.write(JSON.stringify(jobs, null, 2) + '\n');
        else {
          for (const j of jobs) {
            const p = j.ProgressSummary ?? {};
            process.stdout.write(
              `${j.JobId}  ${String(j.Status).padEnd(10)}  ${j.CreationTime}  ${p.NumberOfTasksSucceeded ?? 0}/${p.TotalNumberOfTasks ?? 0} succeeded, ${p.NumberOfTasksFailed ?? 0} failed${j.Description ? `  ${j.Description}` : ''}\n`,
            );
          }
        }
        return 0;
      }),
    );

  for (const [name, status, what] of [
    ['confirm', 'Ready', 'Run a job that waits for confirmation (UpdateJobStatus Ready)'],
    ['cancel', 'Cancelled', 'Cancel a job (UpdateJobStatus Cancelled); tasks already started finish'],
  ] as const) {
    common(batch.command(name))
      .description(what)
      .argument('<job-id>')
      .option('--reason <text>', 'StatusUpdateReason')
      .action((id: string, o: CommonOptions & { reason?: string }) =>
        run(async () => {
          const a = parse(
            await request(target(o), 'POST', `/v20180820/jobs/${encodeURIComponent(id)}/status`, {
              requestedJobStatus: status,
              statusUpdateReason: o.reason,
            }),
          );
          process.stdout.write(o.json ? JSON.stringify(a) + '\n' : `job ${a.JobId}: ${a.Status}\n`);
          return 0;
        }),
      );
  }

  common(batch.command('wait'))
    .description('Wait for a job to end and print it; exit 1 unless it completed with no failed task')
    .argument('<job-id>')
    .option('--timeout <seconds>', 'give up after this long (exit 2)', intArg, 3600)
    .action((id: string, o: CommonOptions & { timeout: number }) => run(() => waitFor(target(o), id, o.timeout, o.json)));

  return batch;
}
