// Contract wallets (EIP-1271) are verified on chain through an enabled RPC_PROVIDER service row
// whose config_json.chain_id matches the message's chain. No row, no on-chain check: the
// sign-in then fails with a hint to add one.
import { createPublicClient, http } from 'viem';
import type { DbPool } from '../db/types.ts';
import type { ContractReader } from './siwe/signature.ts';

export async function rpcClientFor(pool: DbPool, chainId: number): Promise<ContractReader | null> {
  const r = await pool.query(`SELECT base_url, coalesce((config_json->>'timeout_ms')::int, timeout_ms, 10000) AS timeout
    FROM meta.services WHERE service_type = 'RPC_PROVIDER' AND is_enabled AND (config_json->>'chain_id')::bigint = $1
    ORDER BY service_name LIMIT 1`, [chainId]).catch(() => ({ rows: [] as { base_url: string; timeout: number }[] }));
  const row = r.rows[0];
  if (!row?.base_url) return null;
  const client = createPublicClient({ transport: http(row.base_url, { timeout: Number(row.timeout) || 10000, retryCount: 1 }) });
  return client as unknown as ContractReader;
}
