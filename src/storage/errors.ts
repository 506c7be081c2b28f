/**
 * Storage failures callers must tell apart from ordinary errors.
 */

/**
 * The fsync of a commit failed: the transaction is visible but may not be on disk, and the OS
 * may already have dropped the dirty pages (fsync errors are not retryable on Linux). Nothing
 * can be promised about any later write either, so the store refuses them and the process
 * stops (as PostgreSQL does); callers must not free the data such a commit refers to.
 */
export class DurabilityLost extends Error {
  constructor(cause: Error) {
    super(`metadata fsync failed, durability can no longer be guaranteed: ${cause.message}`);
  }
}
