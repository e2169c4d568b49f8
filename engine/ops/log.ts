// pino loggers per module; levels come from system_configuration `log.levels` and are applied
// live when the model reloads.
import pino, { type Logger } from 'pino';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export class Logs {
  readonly root: Logger;
  private modules = new Map<string, Logger>();
  private levels: Record<string, string> = {};

  private forced: string | null;

  /** `force` pins every module to `level` (tests, LOG_LEVEL), ignoring system_configuration. */
  constructor(opts: { level?: string; force?: boolean; destination?: pino.DestinationStream } = {}) {
    const env = process.env.LOG_LEVEL && LEVELS.has(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : null;
    this.forced = opts.force && opts.level ? opts.level : env;
    this.root = pino({
      level: this.forced ?? opts.level ?? 'info',
      base: { service: 'carry' },
      redact: { paths: ['req.headers.cookie', 'req.headers.authorization', '*.password', '*.secret', '*.private_key'], censor: '[redacted]' },
    }, opts.destination);
  }

  module(name: string): Logger {
    let l = this.modules.get(name);
    if (!l) {
      l = this.root.child({ module: name });
      const lvl = this.levels[name] ?? this.levels.default;
      if (lvl) l.level = lvl;
      this.modules.set(name, l);
    }
    return l;
  }

  /** Apply {"default":"info","api":"debug"}; unknown level names are ignored with a warning. */
  apply(levels: unknown): void {
    if (!levels || typeof levels !== 'object') return;
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(levels as Record<string, unknown>)) {
      if (typeof v === 'string' && LEVELS.has(v)) next[k] = v;
      else this.root.warn({ module: k, level: v }, 'ignoring unknown log level in system_configuration log.levels');
    }
    this.levels = next;
    if (this.forced) { this.levels = { default: this.forced }; return; }
    if (next.default) this.root.level = next.default;
    for (const [name, l] of this.modules) l.level = next[name] ?? next.default ?? this.root.level;
  }
}
