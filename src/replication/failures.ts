/**
 * A replication failure that retrying cannot fix: the task turns FAILED with an AWS failure
 * reason (spec §4.4). Anything else thrown while replicating is transient: the task stays
 * PENDING and is retried with backoff.
 */
export class ReplicationFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Retry delays: 200 ms doubling per attempt, at most 30 s, with jitter so retries spread out. */
export function retryDelay(attempts: number): number {
  const base = Math.min(30_000, 200 * 2 ** Math.min(attempts, 10));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
