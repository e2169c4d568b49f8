// Sign-In with Ethereum (EIP-4361): strict parser, canonical builder, verifier.
export { parseSiweMessage, checkAddress, siweTime, SiweParseError, SIWE_MAX_MESSAGE_CHARS, SIWE_MAX_RESOURCES } from './parse.ts';
export type { SiweMessage, SiweField } from './parse.ts';
export { buildSiweMessage, formatSiweMessage } from './message.ts';
export { verifySiwe, SiweVerifyError } from './verify.ts';
export type { SiweVerifyReason, SiweExpectations, SiweVerifyInput, SiweVerified } from './verify.ts';
export { EIP1271_MAGIC_VALUE, eip1271Abi, MAX_SIGNATURE_BYTES } from './signature.ts';
export type { ContractReader } from './signature.ts';
