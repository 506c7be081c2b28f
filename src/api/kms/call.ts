/**
 * What a KMS operation handler gets: the service call, this region's KMS, the request's members
 * and the caller's account; it returns the response members, or nothing for operations whose
 * response is empty.
 */
import type { RegionKms } from '../../crypto/kms.js';
import type { ServiceCall } from '../service/call.js';
import type { JsonObject, Params } from './wire.js';

export interface KmsCall {
  call: ServiceCall;
  kms: RegionKms;
  p: Params;
  /** The caller's account: where key ids and alias names resolve. */
  account: string;
}

export type KmsHandler = (c: KmsCall) => JsonObject | undefined;
