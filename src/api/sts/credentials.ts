/** The <Credentials> element STS returns for AssumeRole and GetSessionToken. */
import type { Session } from '../../iam/identity-store.js';
import { el, isoSeconds } from '../iam/xml.js';

export function credentialsXml(s: Session): string {
  return (
    '<Credentials>' +
    el('AccessKeyId', s.accessKeyId) +
    el('SecretAccessKey', s.secretAccessKey) +
    el('SessionToken', s.sessionToken) +
    el('Expiration', isoSeconds(s.expiresAt)) +
    '</Credentials>'
  );
}

/** AWS's answer to an MFA device it cannot match: there are no MFA devices here. */
export const MFA_FAILED =
  'MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.';
