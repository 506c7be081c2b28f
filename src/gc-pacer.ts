/**
 * Young-generation collections paced by bytes of short-lived buffers.
 *
 * Why: some buffers cannot come from a pool because node allocates them: the HTTP parser hands
 * every request-body chunk over in a fresh buffer (~64 KiB), and node's crypto API returns each
 * output in one. They die at once, but V8 counts their memory as external and, when its
 * young-generation collections are rarer than the buffers pile up, answers with full
 * mark-compact collections instead, which cost far more. A young collection every few MiB of
 * such buffers frees them while they are young. Measured on 1 MiB uploads (docs/benchmarks.md):
 * 11-93 full collections per run without, 5-10 with one every 4 MiB, and 185-196 instead of
 * 163-178 uploads/s.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export type MinorCollector = () => void;

let collector: MinorCollector | null | undefined;

/**
 * V8's young-generation collection, or null where the runtime offers none. `gc` exists only in
 * contexts made after --expose-gc is set, so a fresh one provides it; the process's own global
 * scope gets no `gc`.
 */
export function minorCollector(): MinorCollector | null {
  if (collector === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as unknown;
      collector = typeof gc === 'function' ? () => (gc as (o: { type: 'minor' }) => void)({ type: 'minor' }) : null;
    } catch {
      collector = null;
    }
  }
  return collector;
}

/** A function to report bytes of short-lived buffers to: it collects once per `everyBytes` of them. */
export function minorGcPacer(everyBytes: number, collect: MinorCollector | null = minorCollector()): (bytes: number) => void {
  if (!(everyBytes > 0)) throw new RangeError(`pace of ${everyBytes} bytes`);
  let since = 0;
  return (bytes: number) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    collect?.();
  };
}
