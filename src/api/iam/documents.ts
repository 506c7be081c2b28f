/** Validation of policy documents sent to IAM, with IAM's MalformedPolicyDocument wording. */
import { parsePolicyDocument } from '../../policy/parse.js';
import { PolicyDocumentError, type PolicyKind } from '../../policy/types.js';
import { IamErrors } from '../../iam/errors.js';

/** Throws MalformedPolicyDocument unless `text` is a valid policy of `kind`. */
export function checkPolicyDocument(text: string, kind: PolicyKind): void {
  try {
    parsePolicyDocument(text, kind);
  } catch (e) {
    if (e instanceof PolicyDocumentError) throw IamErrors.malformedPolicyDocument(e.message);
    throw e;
  }
}
