/**
 * A replication failure that retrying cannot fix: the task turns FAILED with an AWS failure
 * reason (spec §4.4). Anything else thrown while replicating is transient: the task stays
 * PENDING and is retried with backoff.
 */
import { UnreadableData } from '../objects/data.js';

export class ReplicationFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The permanent failure an error stands for, or undefined when it is transient. The source's
 * own bytes missing or damaged will not mend by retrying: the version FAILED, reason
 * SrcVersionNotFound (its data is not found as recorded), with what was found in the message.
 */
export function asPermanent(e: unknown): ReplicationFailure | undefined {
  if (e instanceof ReplicationFailure) return e;
  if (e instanceof UnreadableData) return new ReplicationFailure('SrcVersionNotFound', e.message);
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return new ReplicationFailure('SrcVersionNotFound', `the source's data file is missing (${err.message})`);
  return undefined;
}

/** Retry delays: 200 ms doubling per attempt, at most 30 s, with jitter so retries spread out. */
export function retryDelay(attempts: number): number {
  const base = Math.min(30_000, 200 * 2 ** Math.min(attempts, 10));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
