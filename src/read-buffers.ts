/**
 * Recycled buffers for blob reads (and for the sealed batches of encrypting uploads).
 *
 * Why: a 1 MiB GET used to read into a fresh 1 MiB buffer per read. V8 frees such buffers only
 * when it collects garbage, and starts a full collection for every ~64 MiB of them: at 1 GB/s
 * of reads the GC threads of the process used more CPU than the event loop. Buffers whose last
 * user is known (the response that wrote them) go back to a small pool instead.
 *
 * The rule that keeps this safe: a buffer is *recyclable* only while exactly one view of its
 * memory is in use, the one marked here. Whoever takes a recyclable view either releases it when
 * done with its memory or drops it (the GC reclaims it as before); whoever slices or copies it
 * produces unmarked views. Releasing a view whose memory is still referenced elsewhere would
 * hand that memory to another read, so only final consumers release: a response once the socket
 * has taken the bytes, a decipher once it has opened them into other buffers, a blob writer once
 * the bytes are in the file. A view that takes over the memory (a decipher's in-place output)
 * takes the mark with it (passRecyclable).
 */

/** Capacity of each pooled buffer: room for the largest read made (1 MiB, or 16 sealed cipher chunks). */
export const READ_BUFFER_BYTES = 1024 * 1024 + 4096;
/** Buffers kept for reuse at most (the rest are left to the GC): bounded memory when idle. */
const POOL_MAX = 32;

const pool: ArrayBuffer[] = [];
const recyclable = new WeakSet<Buffer>();

/** The ES2024 constructor form (lib ES2023 does not declare it); Node 20's V8 implements it. */
const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;

/**
 * A pool buffer's memory, page-aligned. Why: a plain ArrayBuffer this large comes from malloc,
 * behind glibc's 16-byte chunk header, and on this project's benchmark machine (AMD EPYC) the
 * kernel copies a file's cached pages into a destination 16 bytes past a 64-byte boundary at
 * about a third of the speed of an aligned one: a 1 MiB pread took 0.39-0.74 ms instead of
 * 0.10-0.15 ms, more CPU than decrypting the same MiB (docs/benchmarks.md). V8 allocates a
 * *resizable* ArrayBuffer from whole pages of its own instead; this one is never resized (its
 * maximum is its length), it moves to cipher threads and back like any other, and a runtime
 * without resizable buffers would ignore the option and hand out a plain one: the same bytes,
 * only slower reads.
 */
function newPoolBuffer(): ArrayBuffer {
  return new ResizableArrayBuffer(READ_BUFFER_BYTES, { maxByteLength: READ_BUFFER_BYTES });
}

/**
 * A recyclable buffer of `length` bytes (at most READ_BUFFER_BYTES), with whatever bytes it
 * held before: the caller overwrites the part it exposes.
 */
export function takeReadBuffer(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > READ_BUFFER_BYTES) throw new RangeError(`read buffer of ${length} bytes`);
  const ab = pool.pop() ?? newPoolBuffer();
  const view = Buffer.from(ab, 0, length);
  recyclable.add(view);
  return view;
}

/** Marks a view of a pool-sized ArrayBuffer that the caller alone uses (one that came back from a worker thread). */
export function markRecyclable(view: Buffer): Buffer {
  if (view.buffer instanceof ArrayBuffer && view.buffer.byteLength === READ_BUFFER_BYTES) recyclable.add(view);
  return view;
}

/**
 * Hands the memory of `from` over to `to`, a view of it that takes over as its one user (a
 * decipher's output written in place over its input): `from` loses its mark in any case; `to`
 * gets it when it starts at offset 0 of the same memory, else the memory is left to the GC.
 */
export function passRecyclable(from: Buffer, to: Buffer): Buffer {
  if (recyclable.delete(from) && to.buffer === from.buffer && to.byteOffset === 0) recyclable.add(to);
  return to;
}

export function isRecyclable(view: Buffer): boolean {
  return recyclable.has(view);
}

/**
 * Gives a recyclable view's memory back: the caller promises nothing reads or writes it any
 * more. Any other buffer is ignored, so consumers may call this on whatever they were given.
 */
export function releaseReadBuffer(view: Buffer): void {
  if (!recyclable.delete(view)) return;
  const ab = view.buffer;
  // A transferred (detached) buffer has length 0 and is not pool-sized.
  if (ab instanceof ArrayBuffer && ab.byteLength === READ_BUFFER_BYTES && pool.length < POOL_MAX) pool.push(ab);
}

/** Buffers in the pool now (tests). */
export function pooledReadBuffers(): number {
  return pool.length;
}
