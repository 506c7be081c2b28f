/**
 * The latest version of recently read keys, kept in memory: a GET of a hot small object is then
 * answered without touching SQLite (a point read with an inline body costs more than all the
 * rest of the request). It is coherent because every change of a key goes through the
 * metadata store, which drops the key's entry inside the same write. Bounded by bytes; entries
 * not read since they were inserted or last given a second chance go first (CLOCK).
 */
import type { VersionRecord } from '../types.js';

/** What an entry costs beyond its inline bytes (record, strings, map slot), roughly. */
const ENTRY_OVERHEAD = 512;

export class VersionCache {
  /** Insertion order, oldest first; `used` marks a hit since the entry last reached the front. */
  private readonly entries = new Map<string, { v: VersionRecord; bytes: number; used: boolean }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  private static id(bucket: string, key: string): string {
    return `${bucket}\u0000${key}`;
  }

  get(bucket: string, key: string): VersionRecord | undefined {
    const id = VersionCache.id(bucket, key);
    const e = this.entries.get(id);
    if (!e) return undefined;
    // Second chance (CLOCK) instead of moving the entry on every hit: a flag costs nothing,
    // a Map delete + set per GET was 4% of a 4 KiB GET. Eviction moves flagged entries back.
    e.used = true;
    return e.v;
  }

  set(v: VersionRecord): void {
    if (this.maxBytes <= 0) return;
    const bytes = ENTRY_OVERHEAD + (v.data.kind === 'inline' ? v.data.bytes.length : 0);
    if (bytes > this.maxBytes / 16) return;
    const id = VersionCache.id(v.bucket, v.key);
    this.drop(id);
    // Shared between requests: nothing may change it.
    Object.freeze(v);
    // Room first, then the new entry: a sweep must not push older entries behind it.
    while (this.bytes + bytes > this.maxBytes && this.entries.size > 0) {
      const [oldest, e] = this.entries.entries().next().value as [string, { v: VersionRecord; bytes: number; used: boolean }];
      if (e.used) {
        // Read since it was last here: it goes to the back, unflagged.
        e.used = false;
        this.entries.delete(oldest);
        this.entries.set(oldest, e);
      } else {
        this.drop(oldest);
      }
    }
    this.entries.set(id, { v, bytes, used: false });
    this.bytes += bytes;
  }

  invalidate(bucket: string, key: string): void {
    this.drop(VersionCache.id(bucket, key));
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private drop(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }
}
