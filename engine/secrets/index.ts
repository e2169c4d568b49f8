// The secrets library: envelope encryption of values marked secret, the master key, rotation.
export { SecretError, MasterKeyError, type SecretErrorCode, type MasterKeyErrorCode } from './errors.ts';
export { seal, open, openText, rewrap, isSealed, keyIdOf } from './envelope.ts';
export { loadMasterKey, generateMasterKey, masterKeyFromBytes, masterKeyId, writeKeyFile, MASTER_KEY_ENV, type MasterKey, type LoadMasterKeyOptions } from './master-key.ts';
export { aadFor, type SecretColumn, type KeyValue } from './columns.ts';
export { rotateMasterKey, type RotateOptions, type RotateProgress, type RotateResult } from './rotate.ts';
