/**
 * Latency samples: every request's latency is kept (a growable Float64Array, 8 bytes a request),
 * and percentiles are exact (nearest rank over the sorted samples), not interpolated from buckets.
 */

export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  summary(): LatencySummary {
    const s = this.data.slice(0, this.length).sort();
    const n = s.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += s[i]!;
    return {
      count: n,
      mean: n ? sum / n : NaN,
      min: n ? s[0]! : NaN,
      p50: rank(s, 0.5),
      p90: rank(s, 0.9),
      p99: rank(s, 0.99),
      p999: rank(s, 0.999),
      max: n ? s[n - 1]! : NaN,
    };
  }
}

/** Nearest-rank percentile of sorted values: the smallest value with at least q of the samples at or below it. */
export function rank(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const i = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sorted[i]!;
}

/** Milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}
