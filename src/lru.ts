/**
 * A bounded map that forgets its least recently used entry first (a Map keeps insertion order:
 * a hit is moved to the end, the first entry is the oldest). For small caches of derived keys,
 * where recomputing costs more than a lookup.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`LRU size must be a positive integer, got ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }

  /** The cached value of `key`, made (and kept) on a miss; nothing is kept when `make` throws. */
  memo(key: K, make: () => V): V {
    let v = this.get(key);
    if (v === undefined) {
      v = make();
      this.set(key, v);
    }
    return v;
  }

  clear(): void {
    this.map.clear();
  }
}
