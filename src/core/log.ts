/**
 * The server's log, in tritonserver's spirit: one line per event on stderr, verbose lines only at
 * `--log-verbose` ≥ 1. A plain interface so core code logs without knowing where lines go, and tests
 * capture them.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  verbose(level: number, message: string): void;
}

export function createLogger(opts: { verbose?: number; write?: (line: string) => void } = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const verbosity = opts.verbose ?? 0;
  const stamp = (tag: string, message: string) => `${tag}${new Date().toISOString()} ${message}`;
  return {
    info: (m) => write(stamp('I', m)),
    warn: (m) => write(stamp('W', m)),
    error: (m) => write(stamp('E', m)),
    verbose: (level, m) => {
      if (verbosity >= level) write(stamp('V', m));
    },
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, verbose() {} };
