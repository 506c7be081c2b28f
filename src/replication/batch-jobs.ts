/**
 * Batch Replication jobs as S3 Control sees them: create (ClientRequestToken idempotency),
 * describe, list, and the two updates (status: confirm or cancel; priority). A job lives in the
 * metadata store of the region it was created in; the runner (batch-runner.ts) moves it along.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { App } from '../app.js';
import { Errors, S3Error } from '../errors.js';
import type { Region } from '../region.js';
import type { JobRecord, JobTaskCounts } from '../storage/types.js';
import { jobArn, newJobState, TERMINAL_STATUSES, type JobSpec, type JobState } from './batch-model.js';
import { wakeBatchJobs } from './batch-runner.js';

/** A job with its parsed definition and state, and its progress now. */
export interface JobView {
  record: JobRecord;
  spec: JobSpec;
  state: JobState;
  counts: JobTaskCounts;
  arn: string;
  /** Time spent Active, up to now. */
  activeMs: number;
}

function notFound(id: string): S3Error {
  return new S3Error('NotFoundException', 404, `The job ${id} does not exist.`);
}

function jobStatusError(message: string): S3Error {
  return new S3Error('JobStatusException', 400, message);
}

function regionOf(app: App, name: string): Region {
  const r = app.regions.get(name);
  if (!r) {
    throw Errors.invalidRequest(`xregion does not serve region ${name}: S3 Control requests must be signed for one of ${[...app.regions.keys()].join(', ')}.`);
  }
  return r;
}

function requestHash(spec: JobSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

/**
 * Records a new job (status New) and wakes the runner. The same ClientRequestToken with the
 * same request answers the job it created; with a different request, IdempotencyException.
 */
export async function createJob(app: App, spec: JobSpec): Promise<string> {
  const region = regionOf(app, spec.region);
  const record: JobRecord = {
    id: randomUUID(),
    account: spec.accountId,
    status: 'New',
    priority: spec.priority,
    createdAt: app.clock(),
    clientToken: spec.clientRequestToken,
    requestHash: requestHash(spec),
    spec: JSON.stringify(spec),
    state: JSON.stringify(newJobState()),
  };
  const stored = await region.meta.putNewJob(record);
  if (stored.id !== record.id && stored.requestHash !== record.requestHash) {
    throw new S3Error(
      'IdempotencyException',
      400,
      'The ClientRequestToken was already used for a different CreateJob request; use a new token for a new job.',
    );
  }
  wakeBatchJobs(app);
  return stored.id;
}

async function viewOf(app: App, region: Region, record: JobRecord): Promise<JobView> {
  const spec = JSON.parse(record.spec) as JobSpec;
  const state = JSON.parse(record.state) as JobState;
  const counts = await region.meta.jobTaskCounts(record.id);
  const running = record.status === 'Active' && state.activeSince !== undefined ? Math.max(0, app.clock() - state.activeSince) : 0;
  return { record, spec, state, counts, arn: jobArn(region.name, record.account, record.id), activeMs: state.activeMs + running };
}

export async function describeJob(app: App, regionName: string, account: string, id: string): Promise<JobView> {
  const region = regionOf(app, regionName);
  const record = await region.meta.getJob(id);
  if (!record || record.account !== account) throw notFound(id);
  return viewOf(app, region, record);
}

/** ListJobs paging: the token is the (creation time, id) of the last job of the page. */
function encodeToken(r: JobRecord): string {
  return Buffer.from(JSON.stringify([r.createdAt, r.id])).toString('base64url');
}

function decodeToken(t: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as [number, string];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new S3Error('InvalidNextTokenException', 400, 'The NextToken is not valid.');
}

export async function listJobs(
  app: App,
  regionName: string,
  account: string,
  statuses: string[],
  nextToken: string | undefined,
  maxResults: number,
): Promise<{ jobs: JobView[]; nextToken?: string }> {
  const region = regionOf(app, regionName);
  const after = nextToken !== undefined ? decodeToken(nextToken) : undefined;
  const rows = await region.meta.listJobs({ account, statuses, after, limit: maxResults + 1 });
  const page = rows.slice(0, maxResults);
  const jobs: JobView[] = [];
  for (const r of page) jobs.push(await viewOf(app, region, r));
  return rows.length > maxResults && page.length > 0 ? { jobs, nextToken: encodeToken(page[page.length - 1]!) } : { jobs };
}

/**
 * UpdateJobStatus: Ready confirms a Suspended job (ConfirmationRequired); Cancelled cancels a
 * job that has not ended (the runner finishes it: Cancelling → Cancelled, with its report).
 */
export async function updateJobStatus(
  app: App,
  regionName: string,
  account: string,
  id: string,
  requested: string,
  reason: string | undefined,
): Promise<JobView> {
  const region = regionOf(app, regionName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const record = await region.meta.getJob(id);
    if (!record || record.account !== account) throw notFound(id);
    const state = JSON.parse(record.state) as JobState;
    let next: string;
    if (requested === 'Ready') {
      if (record.status !== 'Suspended') {
        throw jobStatusError(`The job can be confirmed (Ready) only while it is Suspended awaiting confirmation; it is ${record.status}.`);
      }
      next = 'Ready';
      delete state.suspendedCause;
    } else {
      if (TERMINAL_STATUSES.has(record.status)) throw jobStatusError(`The job has already ended (${record.status}).`);
      if (record.status === 'Cancelling') return viewOf(app, region, record);
      next = 'Cancelling';
    }
    if (reason !== undefined) state.statusUpdateReason = reason;
    if (await region.meta.updateJob(id, record.status, next, JSON.stringify(state))) {
      wakeBatchJobs(app);
      return viewOf(app, region, { ...record, status: next, state: JSON.stringify(state) });
    }
  }
  throw new S3Error('TooManyRequestsException', 400, 'The job changed while it was being updated; try again.');
}

export async function updateJobPriority(app: App, regionName: string, account: string, id: string, priority: number): Promise<void> {
  const region = regionOf(app, regionName);
  const record = await region.meta.getJob(id);
  if (!record || record.account !== account) throw notFound(id);
  await region.meta.setJobPriority(id, priority);
}
