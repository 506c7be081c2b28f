/**
 * Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey and
 * GenerateDataKeyWithoutPlaintext. They accept a key of another account by key or alias ARN
 * (its key policy decides), and the encryption context becomes kms:EncryptionContext:* condition
 * values for the policies.
 */
import { KmsError, KmsErrors } from '../../crypto/kms-errors.js';
import { encryptionContextConditions, type KeyInfo } from '../../crypto/kms.js';
import { authorizeKey } from './access.js';
import type { KmsCall, KmsHandler } from './call.js';
import { KEY_ID_RULE, b64 } from './wire.js';

const ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
const DATA_KEY_SPECS = ['AES_256', 'AES_128'] as const;

function checkAlgorithm(key: KeyInfo, algorithm: string | undefined): void {
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError('InvalidKeyUsageException', `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
}

function dryRun(): KmsError {
  return new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}

/** Recipient (Nitro Enclaves attestation) cannot be honoured here: refuse rather than ignore it. */
function refuseRecipient(c: KmsCall): void {
  if (c.p.has('Recipient')) throw KmsErrors.unsupported('Recipient (attested enclave requests) is not supported by this KMS.');
}

export const encrypt: KmsHandler = (c) => {
  const { p } = c;
  const keyId = p.string('KeyId', KEY_ID_RULE);
  const plaintext = p.blob('Plaintext', { required: true, min: 1, max: 4096 });
  const ctx = p.stringMap('EncryptionContext');
  const algorithm = p.string('EncryptionAlgorithm', { enum: ALGORITHMS });
  const isDryRun = p.boolean('DryRun') ?? false;
  p.stringList('GrantTokens', { min: 1, max: 8192 });
  p.done();
  const key = c.kms.resolveKey(keyId, c.account);
  authorizeKey(c.call, 'kms:Encrypt', key, encryptionContextConditions(ctx));
  const usable = c.kms.usable(key);
  checkAlgorithm(usable, algorithm);
  if (isDryRun) throw dryRun();
  const blob = c.kms.encrypt(usable, plaintext!, ctx);
  return { CiphertextBlob: b64(blob), KeyId: usable.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
};

/** The blob's key, checked against the KeyId the request names, if it names one. */
function sourceKey(c: KmsCall, blob: Buffer, hint: string | undefined): KeyInfo {
  const key = c.kms.ciphertextKey(blob);
  if (hint !== undefined && c.kms.resolveKey(hint, c.account).keyId !== key.keyId) throw KmsErrors.incorrectKey();
  return key;
}

export const decrypt: KmsHandler = (c) => {
  const { p } = c;
  const blob = p.blob('CiphertextBlob', { required: true, min: 1, max: 6144 });
  const ctx = p.stringMap('EncryptionContext');
  const keyId = p.string('KeyId', { min: 1, max: 2048 });
  const algorithm = p.string('EncryptionAlgorithm', { enum: ALGORITHMS });
  const isDryRun = p.boolean('DryRun') ?? false;
  p.stringList('GrantTokens', { min: 1, max: 8192 });
  p.done();
  refuseRecipient(c);
  const key = sourceKey(c, blob!, keyId);
  authorizeKey(c.call, 'kms:Decrypt', key, encryptionContextConditions(ctx));
  checkAlgorithm(c.kms.usable(key), algorithm);
  if (isDryRun) throw dryRun();
  const { key: used, plaintext } = c.kms.decrypt(blob!, ctx);
  return { KeyId: used.arn, Plaintext: b64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
};

export const reEncrypt: KmsHandler = (c) => {
  const { p } = c;
  const blob = p.blob('CiphertextBlob', { required: true, min: 1, max: 6144 });
  const sourceCtx = p.stringMap('SourceEncryptionContext');
  const sourceKeyId = p.string('SourceKeyId', { min: 1, max: 2048 });
  const destinationKeyId = p.string('DestinationKeyId', KEY_ID_RULE);
  const destinationCtx = p.stringMap('DestinationEncryptionContext');
  const sourceAlgorithm = p.string('SourceEncryptionAlgorithm', { enum: ALGORITHMS });
  const destinationAlgorithm = p.string('DestinationEncryptionAlgorithm', { enum: ALGORITHMS });
  const isDryRun = p.boolean('DryRun') ?? false;
  p.stringList('GrantTokens', { min: 1, max: 8192 });
  p.done();
  const source = sourceKey(c, blob!, sourceKeyId);
  const destination = c.kms.resolveKey(destinationKeyId, c.account);
  authorizeKey(c.call, 'kms:ReEncryptFrom', source, encryptionContextConditions(sourceCtx));
  authorizeKey(c.call, 'kms:ReEncryptTo', destination, encryptionContextConditions(destinationCtx));
  checkAlgorithm(c.kms.usable(source), sourceAlgorithm);
  checkAlgorithm(c.kms.usable(destination), destinationAlgorithm);
  if (isDryRun) throw dryRun();
  const r = c.kms.reEncrypt(blob!, sourceCtx, destination, destinationCtx);
  return {
    CiphertextBlob: b64(r.ciphertextBlob),
    SourceKeyId: r.sourceKey.arn,
    KeyId: r.destinationKey.arn,
    SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  };
};

function dataKey(c: KmsCall, action: string) {
  const { p } = c;
  const keyId = p.string('KeyId', KEY_ID_RULE);
  const ctx = p.stringMap('EncryptionContext');
  const bytes = p.integer('NumberOfBytes', { min: 1, max: 1024 });
  const spec = p.string('KeySpec', { enum: DATA_KEY_SPECS });
  const isDryRun = p.boolean('DryRun') ?? false;
  p.stringList('GrantTokens', { min: 1, max: 8192 });
  p.done();
  refuseRecipient(c);
  if ((bytes === undefined) === (spec === undefined)) throw KmsErrors.validation('Please specify either number of bytes or key spec.');
  const key = c.kms.resolveKey(keyId, c.account);
  authorizeKey(c.call, action, key, encryptionContextConditions(ctx));
  const usable = c.kms.usable(key);
  if (isDryRun) throw dryRun();
  return { key: usable, ...c.kms.generateDataKey(usable, ctx, bytes ?? (spec === 'AES_128' ? 16 : 32)) };
}

export const generateDataKey: KmsHandler = (c) => {
  const r = dataKey(c, 'kms:GenerateDataKey');
  return { CiphertextBlob: b64(r.ciphertextBlob), Plaintext: b64(r.plaintext), KeyId: r.key.arn };
};

export const generateDataKeyWithoutPlaintext: KmsHandler = (c) => {
  const r = dataKey(c, 'kms:GenerateDataKeyWithoutPlaintext');
  r.plaintext.fill(0);
  return { CiphertextBlob: b64(r.ciphertextBlob), KeyId: r.key.arn };
};
