// Contract wallets (EIP-1271): a signature the wallet contract approves is accepted through an
// RPC_PROVIDER service row. The chain is a small JSON-RPC server on loopback that answers
// eth_call for isValidSignature the way a deployed wallet contract does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashMessage } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { buildSiweMessage } from '../../engine/access/siwe/message.ts';
import { startTestServer, type TestServer } from '../helpers/engine.ts';
import { KEYS, verify } from '../helpers/auth.ts';

const WALLET = '0x5FbDB2315678afecb367f032d93F642f64180aa3'; // a contract address: no key signs for it
const MAGIC = '0x1626ba7e';
let approve = true;
const calls: { to: string; data: string }[] = [];
let rpc: http.Server;
let rpcUrl = '';
let s: TestServer;

beforeAll(async () => {
  rpc = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const msg = JSON.parse(body);
      const answer = (m: { id: number; method: string; params: { to: string; data: string }[] }) => {
        if (m.method === 'eth_chainId') return { jsonrpc: '2.0', id: m.id, result: '0x1' };
        if (m.method === 'eth_call') {
          calls.push({ to: m.params[0].to, data: m.params[0].data });
          const ok = approve && m.params[0].to.toLowerCase() === WALLET.toLowerCase() && m.params[0].data.startsWith(MAGIC);
          return { jsonrpc: '2.0', id: m.id, result: (ok ? MAGIC : '0xffffffff').padEnd(66, '0') };
        }
        return { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'method not found' } };
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(Array.isArray(msg) ? msg.map(answer) : answer(msg)));
    });
  });
  await new Promise<void>((r) => rpc.listen(0, '127.0.0.1', r));
  rpcUrl = `http://127.0.0.1:${(rpc.address() as AddressInfo).port}`;
  s = await startTestServer();
});
afterAll(async () => { await s?.close(); rpc?.close(); });

async function contractSignIn() {
  const n = await (await s.http('/auth/nonce')).json();
  const message = buildSiweMessage({ domain: n.domain, address: WALLET, uri: n.uri, version: '1', chainId: 1, nonce: n.nonce, issuedAt: new Date().toISOString() } as never);
  // an owner key's signature: not the contract address's, so only the contract can approve it
  const signature = await privateKeyToAccount(KEYS.other).signMessage({ message });
  return { message, signature, res: await verify(s, { message, signature }) };
}

describe('contract wallets', () => {
  it('are refused with a hint while no RPC service is configured for the chain', async () => {
    const { res } = await contractSignIn();
    expect(res.status).toBe(401);
    const err = (await res.json()).error;
    expect(err.details.reason).toBe('signature');
    expect(calls).toHaveLength(0);
  });

  it('sign in when the wallet contract approves the signature on the message\'s chain', async () => {
    await s.sql(`INSERT INTO meta.services (service_name, display_name, service_type, base_url, config_json, description)
      VALUES ('mainnet_rpc_test', 'Test chain', 'RPC_PROVIDER', $1, '{"chain_id": 1}', 'test chain on loopback')`, [rpcUrl]);
    const { message, res } = await contractSignIn();
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()).wallet_address.toLowerCase()).toBe(WALLET.toLowerCase());
    const call = calls.at(-1)!;
    expect(call.to.toLowerCase()).toBe(WALLET.toLowerCase());
    expect(call.data.slice(0, 10)).toBe(MAGIC);
    expect(call.data.slice(10, 74)).toBe(hashMessage(message).slice(2)); // isValidSignature(hash, signature)
  });

  it('are refused when the contract does not return the magic value', async () => {
    approve = false;
    const { res } = await contractSignIn();
    expect(res.status).toBe(401);
    expect((await res.json()).error.details.reason).toBe('contract_wallet_rejected');
  });
});
