/**
 * The latest version of recently read keys, kept in memory: a GET of a hot small object is then
 * answered without touching SQLite (a point read with an inline body costs more than all the
 * rest of the request). It is coherent because every change of a key goes through the
 * metadata store, which drops the key's entry inside the same write. Bounded by bytes; the
 * least recently used entries go first.
 */
import type { VersionRecord } from '../types.js';

/** What an entry costs beyond its inline bytes (record, strings, map slot), roughly. */
const ENTRY_OVERHEAD = 512;

export class VersionCache {
  private readonly entries = new Map<string, { v: VersionRecord; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  private static id(bucket: string, key: string): string {
    return `${bucket}\u0000${key}`;
  }

  get(bucket: string, key: string): VersionRecord | undefined {
    const id = VersionCache.id(bucket, key);
    const e = this.entries.get(id);
    if (!e) return undefined;
    // Re-insert: Map order is insertion order, so the oldest entry is always first.
    this.entries.delete(id);
    this.entries.set(id, e);
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
    this.entries.set(id, { v, bytes });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.drop(oldest);
    }
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
