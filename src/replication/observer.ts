/**
 * Who learns of each settled replication task (metrics, RTC accounting).
 */
import type { ReplicationTask, TaskOutcome } from '../storage/types.js';

export interface ReplicationObserver {
  settled(task: ReplicationTask, outcome: TaskOutcome, startedAt: number, endedAt: number): void;
}
