// Just enough of autocannon's shape for the benchmark (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  interface Histogram { average: number; mean: number; stddev: number; min: number; max: number; total: number; p50: number; p90: number; p99: number; p99_9: number }
  interface Request { method?: string; path?: string; headers?: Record<string, string>; setupRequest?: (req: Request, ctx: object) => Request }
  interface Client extends EventEmitter { setRequests(reqs: Request[]): void }
  interface Options {
    url: string; connections?: number; duration?: number; amount?: number; pipelining?: number; timeout?: number;
    requests?: Request[]; setupClient?: (client: Client) => void; headers?: Record<string, string>;
  }
  interface Result {
    duration: number; errors: number; timeouts: number; non2xx: number; mismatches: number;
    '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number;
    requests: Histogram; latency: Histogram; throughput: Histogram;
  }
  interface Instance extends EventEmitter, PromiseLike<Result> { stop(): void }
  function autocannon(opts: Options): Instance;
  export default autocannon;
  export type { Options, Result, Instance, Client, Request };
}
