/**
 * The S3 Control API (`/v20180820/...`, the account in `x-amz-account-id`), as far as Batch
 * Replication needs it: CreateJob, DescribeJob, ListJobs, UpdateJobStatus, UpdateJobPriority.
 * Requests are signed for service "s3" like S3's; the job lives in the region the request was
 * signed for. Errors are rendered the way S3 Control renders them (<ErrorResponse><Error>…).
 * Any other S3 Control operation answers 501 NotImplemented.
 */
import { Errors, S3Error } from '../../errors.js';
import type { S3Response } from '../../http/respond.js';
import { parseQuery } from '../../http/sigv4/canonical.js';
import { el, parseXmlBody, xmlDocument } from '../../http/xml.js';
import { newHostId } from '../../objects/ids.js';
import { createJob, describeJob, listJobs, updateJobPriority, updateJobStatus } from '../../replication/batch-jobs.js';
import { JOB_STATUSES } from '../../replication/batch-model.js';
import { documentBody, header, type S3Call } from '../s3/call.js';
import { deniedMessage } from '../../http/authorizer.js';
import type { PublicAccessBlock } from '../../objects/bucket-access.js';
import { noPublicAccessBlock, parsePublicAccessBlock, publicAccessBlockXml } from '../s3/public-access-block.js';
import { controlErrorXml, jobDescriptorXml, jobListItemXml, parseCreateJob, S3CONTROL_NS } from './jobs-xml.js';

/** The name S3 would give a path-style request for `/v20180820/...`: the rest is call.key. */
const CONTROL_SEGMENT = 'v20180820';
const S3CONTROL_PATH_PREFIX = `/${CONTROL_SEGMENT}/`;

/**
 * Whether a request is for S3 Control rather than S3: a path under /v20180820/ that is not
 * addressed to a bucket by its Host, and either carries x-amz-account-id (every S3 Control
 * operation does) or names no existing bucket "v20180820".
 */
export function isS3ControlCall(call: S3Call): boolean {
  if (call.virtualHost || call.bucketName !== CONTROL_SEGMENT) return false;
  const url = call.req.url ?? '';
  if (!url.startsWith(S3CONTROL_PATH_PREFIX)) return false;
  return header(call, 'x-amz-account-id') !== undefined || call.app.buckets.get(CONTROL_SEGMENT) === undefined;
}

function xmlResponse(root: string, inner: string): S3Response {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: xmlDocument(root, inner, S3CONTROL_NS) };
}

/**
 * All values of a query parameter (ListJobs repeats jobStatuses). call.query keeps the first
 * value of each name only, so the raw query is read again.
 */
function queryAll(call: S3Call, name: string): string[] {
  const url = call.req.url ?? '';
  const qi = url.indexOf('?');
  return qi < 0 ? [] : parseQuery(url.slice(qi + 1)).filter((p) => p.name === name).map((p) => p.value);
}

function accountOf(call: S3Call): string {
  const a = header(call, 'x-amz-account-id');
  if (a === undefined || a === '') throw Errors.invalidRequest('The x-amz-account-id header is required');
  if (!/^\d{12}$/.test(a)) throw Errors.invalidRequest('The x-amz-account-id header must be a 12-digit account id');
  if (call.principal.kind === 'anonymous' || a !== call.accountId) throw Errors.accessDenied();
  return a;
}

/** S3 Control actions are authorized by the caller's identity policies (resource: the job or '*'). */
function requireAction(call: S3Call, action: string, resource: string): void {
  const d = call.authorize(action, resource);
  if (!d.allowed) throw Errors.accessDenied(deniedMessage(call.principal, action, resource, d, false));
}

function jobArn(call: S3Call, id: string): string {
  return `arn:aws:s3:${call.auth.region}:${call.accountId}:job/${id}`;
}

const JOB_ID = /^[a-zA-Z0-9\-_]{5,36}$/;

/** The job id of the path (call.key is already percent-decoded). */
function jobIdOf(id: string): string {
  if (!JOB_ID.test(id)) throw Errors.invalidRequest('The job id is not valid');
  return id;
}

export async function dispatchS3Control(call: S3Call): Promise<S3Response> {
  try {
    return await route(call);
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
    const body = call.method === 'HEAD' ? '' : controlErrorXml(e, call.requestId, newHostId());
    return { status: e.status, headers: { 'content-type': 'application/xml', ...e.headers }, body };
  }
}

async function route(call: S3Call): Promise<S3Response> {
  const path = call.key ?? '';
  const parts = path.split('/');
  const m = call.method;
  if (parts[0] === 'jobs') {
    accountOf(call);
    if (parts.length === 1) {
      if (m === 'POST') return requireAction(call, 's3:CreateJob', '*'), createJobHandler(call);
      if (m === 'GET') return requireAction(call, 's3:ListJobs', '*'), listJobsHandler(call);
    } else if (parts.length === 2 && parts[1] !== '') {
      const id = jobIdOf(parts[1]!);
      if (m === 'GET') return requireAction(call, 's3:DescribeJob', jobArn(call, id)), describeJobHandler(call, id);
    } else if (parts.length === 3 && parts[2] === 'status' && m === 'POST') {
      const id = jobIdOf(parts[1]!);
      return requireAction(call, 's3:UpdateJobStatus', jobArn(call, id)), updateStatusHandler(call, id);
    } else if (parts.length === 3 && parts[2] === 'priority' && m === 'POST') {
      const id = jobIdOf(parts[1]!);
      return requireAction(call, 's3:UpdateJobPriority', jobArn(call, id)), updatePriorityHandler(call, id);
    }
  }
  if (path === 'configuration/publicAccessBlock') {
    const account = accountOf(call);
    if (m === 'GET') {
      requireAction(call, 's3:GetAccountPublicAccessBlock', '*');
      const pab = await call.app.buckets.accountConfig<PublicAccessBlock>(account, 'public-access-block');
      if (!pab) throw noPublicAccessBlock();
      return { status: 200, headers: { 'content-type': 'application/xml' }, body: publicAccessBlockXml(pab) };
    }
    if (m === 'PUT') {
      requireAction(call, 's3:PutAccountPublicAccessBlock', '*');
      const pab = parsePublicAccessBlock(await documentBody(call, {}));
      await call.app.buckets.setAccountConfig(account, 'public-access-block', pab);
      return { status: 200, headers: {} };
    }
    if (m === 'DELETE') {
      requireAction(call, 's3:PutAccountPublicAccessBlock', '*');
      await call.app.buckets.setAccountConfig(account, 'public-access-block', undefined);
      return { status: 204, headers: {} };
    }
  }
  throw new S3Error(
    'NotImplemented',
    501,
    `xregion serves the S3 Control operations of Batch Replication jobs only (CreateJob, DescribeJob, ListJobs, UpdateJobStatus, UpdateJobPriority); ${m} ${S3CONTROL_PATH_PREFIX}${path} is not implemented.`,
  );
}

async function createJobHandler(call: S3Call): Promise<S3Response> {
  const account = accountOf(call);
  const body = await documentBody(call, {});
  const spec = parseCreateJob(parseXmlBody(body, 'CreateJobRequest'), account, call.auth.region);
  const id = await createJob(call.app, spec);
  return xmlResponse('CreateJobResult', el('JobId', id));
}

async function describeJobHandler(call: S3Call, id: string): Promise<S3Response> {
  const job = await describeJob(call.app, call.auth.region, accountOf(call), id);
  return xmlResponse('DescribeJobResult', jobDescriptorXml(job));
}

async function listJobsHandler(call: S3Call): Promise<S3Response> {
  const account = accountOf(call);
  const statuses = queryAll(call, 'jobStatuses');
  for (const s of statuses) {
    if (!(JOB_STATUSES as readonly string[]).includes(s)) {
      throw new S3Error('InvalidRequestException', 400, `jobStatuses must be among ${JOB_STATUSES.join(', ')}`);
    }
  }
  const maxRaw = call.query.get('maxResults');
  let max = 1000;
  if (maxRaw !== undefined) {
    if (!/^\d+$/.test(maxRaw) || Number(maxRaw) > 1000) throw new S3Error('InvalidRequestException', 400, 'maxResults must be 0 to 1000');
    max = Number(maxRaw) === 0 ? 1000 : Number(maxRaw);
  }
  const token = call.query.get('nextToken');
  const { jobs, nextToken } = await listJobs(call.app, call.auth.region, account, statuses, token === '' ? undefined : token, max);
  return xmlResponse('ListJobsResult', el('NextToken', nextToken) + `<Jobs>${jobs.map(jobListItemXml).join('')}</Jobs>`);
}

async function updateStatusHandler(call: S3Call, id: string): Promise<S3Response> {
  const account = accountOf(call);
  const requested = call.query.get('requestedJobStatus');
  if (requested !== 'Ready' && requested !== 'Cancelled') {
    throw new S3Error('BadRequestException', 400, 'requestedJobStatus must be Ready or Cancelled');
  }
  const reason = call.query.get('statusUpdateReason');
  if (reason !== undefined && (reason.length < 1 || reason.length > 256)) {
    throw new S3Error('BadRequestException', 400, 'statusUpdateReason must be 1 to 256 characters long');
  }
  const job = await updateJobStatus(call.app, call.auth.region, account, id, requested, reason);
  return xmlResponse(
    'UpdateJobStatusResult',
    el('JobId', job.record.id) + el('Status', job.record.status) + el('StatusUpdateReason', job.state.statusUpdateReason),
  );
}

async function updatePriorityHandler(call: S3Call, id: string): Promise<S3Response> {
  const account = accountOf(call);
  const raw = call.query.get('priority');
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) > 2147483647) {
    throw new S3Error('BadRequestException', 400, 'priority must be an integer from 0 to 2147483647');
  }
  await updateJobPriority(call.app, call.auth.region, account, id, Number(raw));
  return xmlResponse('UpdateJobPriorityResult', el('JobId', id) + el('Priority', Number(raw)));
}
