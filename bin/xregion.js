#!/usr/bin/env node
// Blob fsyncs, directory fsyncs and file reads all go through libuv's thread pool; the
// default of 4 threads serialises them under load. It must be sized before first use.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('../dist/src/cli/main.js');
