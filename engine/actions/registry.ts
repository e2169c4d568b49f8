// Named building blocks that action rows call (kind = plugin). Plugins register them by name;
// the engine never knows which rows use which block.
import type { DbClient } from '../db/types.ts';
import type { Logger } from 'pino';
import type { Model } from '../model/types.ts';

export interface BlockContext {
  /** the transaction the action runs in */
  client: DbClient;
  model: Model;
  log: Logger;
  user: { id: string | null; role: string };
}

export type BuildingBlock = (args: Record<string, unknown>, ctx: BlockContext) => Promise<unknown> | unknown;

export interface BlockInfo { name: string; description: string; fn: BuildingBlock }

export class BlockRegistry {
  private blocks = new Map<string, BlockInfo>();
  register(name: string, description: string, fn: BuildingBlock): void {
    if (this.blocks.has(name)) throw new Error(`building block "${name}" is registered twice`);
    this.blocks.set(name, { name, description, fn });
  }
  get(name: string): BlockInfo | undefined { return this.blocks.get(name); }
  names(): string[] { return [...this.blocks.keys()].sort(); }
}

/** A plugin module exports `register(registry)`. */
export interface PluginModule { register(r: BlockRegistry): void }
