/**
 * Identifiers. Version ids are random, URL-safe and unique across regions and sites, so that a
 * replica can keep its source's id without ever colliding with a local one.
 */
import { randomFromPool as random } from '../random-pool.js';

/**
 * 32 characters from [A-Za-z0-9._]: 192 random bits. Like AWS's, they never contain '-', so a
 * version id can never be mistaken for an option on a command line (`--version-id -abc`).
 */
export function newVersionId(): string {
  return random(24).toString('base64url').replace(/-/g, '.');
}

/** Multipart upload ids: longer and opaque, like AWS's. */
export function newUploadId(): string {
  return random(48).toString('base64url');
}

/** 16 upper-case hex characters, like AWS's x-amz-request-id. */
export function newRequestId(): string {
  return random(8).toString('hex').toUpperCase();
}

/** AWS's x-amz-id-2 is an opaque base64 string; ours encodes nothing. */
export function newHostId(): string {
  return random(32).toString('base64');
}
