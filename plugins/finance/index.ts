// Finance building blocks, callable from action rows by name.
import type { BlockRegistry } from '../../engine/actions/registry.ts';
import { annualise } from './annualise.ts';

export function register(r: BlockRegistry): void {
  r.register('finance.annualise', 'APR (fraction per year) of a funding rate given as a fraction per hour: rate_per_hour × 8760.', (args) => {
    const rate = Number(args.rate_per_hour);
    return { rate_per_hour: rate, apr: annualise(rate) };
  });
}
