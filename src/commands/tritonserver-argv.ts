import path from 'node:path';
import { ofsError } from '../errors.js';

/**
 * Reads a `tritonserver …` command line as `ofserve serve …`, so images, scripts and orchestrators
 * written for Triton (KServe's runtime passes `tritonserver --model-store=/mnt/models --grpc-port=9000
 * --http-port=8080 --allow-grpc=true --allow-http=true`) start ofserve unchanged. Pure: no I/O.
 *
 * Every tritonserver flag lands in one of three buckets:
 * - one `serve` also has (same name, or a Triton alias of one): passed through as `--name=value`;
 * - one that only tunes Triton internals (thread counts, memory pools, log levels, keepalive, …): dropped
 *   with one warning naming them all;
 * - one that would change what the server does and that ofserve does not do: refused, naming the flag.
 * A flag tritonserver itself does not know is refused too, as tritonserver refuses it.
 */

/** argv[0] values that mean "read the rest as tritonserver's command line". */
export function isTritonserverInvocation(first: string | undefined): boolean {
  return first !== undefined && path.posix.basename(first) === 'tritonserver';
}

export interface TritonArgv {
  /** The equivalent ofserve argv, starting with `serve`. */
  readonly argv: string[];
  /** One line naming every ignored flag, when there are any. */
  readonly warning?: string;
}

/** tritonserver spellings that are another name for a serve flag. */
const ALIASES: Readonly<Record<string, string>> = {
  '--model-repository': '--model-store',
};

/** tritonserver flags with no effect on what ofserve serves or how it answers. */
const IGNORED = new Set([
  '--id',
  '--log-info',
  '--log-warning',
  '--log-error',
  '--log-format',
  '--backend-directory',
  '--repoagent-directory',
  '--cache-directory',
  '--backend-config',
  '--host-policy',
  '--http-thread-count',
  '--http-header-forward-pattern',
  '--reuse-http-port',
  '--reuse-grpc-port',
  '--grpc-header-forward-pattern',
  '--grpc-infer-allocation-pool-size',
  '--grpc-max-response-pool-size',
  '--grpc-infer-response-compression-level',
  '--grpc-keepalive-time',
  '--grpc-keepalive-timeout',
  '--grpc-keepalive-permit-without-calls',
  '--grpc-http2-max-pings-without-data',
  '--grpc-http2-min-recv-ping-interval-without-data',
  '--grpc-http2-max-ping-strikes',
  '--allow-gpu-metrics',
  '--allow-cpu-metrics',
  '--metrics-address',
  '--pinned-memory-pool-byte-size',
  '--cuda-memory-pool-byte-size',
  '--cuda-virtual-address-size',
  '--min-supported-compute-capability',
  '--buffer-manager-thread-count',
  '--model-load-thread-count',
  '--model-load-retry-count',
  '--strict-model-config',
  '--disable-auto-complete-config',
  '--exit-timeout-secs',
  '--sagemaker-port',
  '--sagemaker-safe-port-range',
  '--sagemaker-thread-count',
  '--vertex-ai-port',
  '--vertex-ai-thread-count',
  '--vertex-ai-default-model',
]);

/**
 * Flags that change behaviour, with the one value ofserve already behaves as (so passing Triton's
 * default is fine); any other value is refused. An empty list: refused whatever the value.
 */
const REFUSED: Readonly<Record<string, { readonly allowed: readonly string[]; readonly why: string }>> = {
  '--grpc-address': { allowed: ['0.0.0.0'], why: 'ofserve listens on one address for every endpoint: use --http-address' },
  '--allow-sagemaker': { allowed: ['false', 'off', '0'], why: 'ofserve has no SageMaker endpoint' },
  '--allow-vertex-ai': { allowed: ['false', 'off', '0'], why: 'ofserve has no Vertex AI endpoint' },
  '--model-namespacing': { allowed: ['false', 'off', '0'], why: 'ofserve keeps model names unique across repositories' },
  '--model-config-name': { allowed: [], why: 'ofserve reads config.pbtxt only' },
  '--rate-limit': { allowed: ['off'], why: 'ofserve has no rate limiter' },
  '--rate-limit-resource': { allowed: [], why: 'ofserve has no rate limiter' },
  '--response-cache-byte-size': { allowed: ['0'], why: 'ofserve has no response cache' },
  '--cache-config': { allowed: [], why: 'ofserve has no response cache' },
  '--trace-file': { allowed: [], why: 'ofserve does not write traces' },
  '--trace-level': { allowed: ['OFF', 'off'], why: 'ofserve does not write traces' },
  '--trace-rate': { allowed: [], why: 'ofserve does not write traces' },
  '--trace-count': { allowed: [], why: 'ofserve does not write traces' },
  '--trace-log-frequency': { allowed: [], why: 'ofserve does not write traces' },
  '--trace-config': { allowed: [], why: 'ofserve does not write traces' },
  '--log-file': { allowed: [], why: 'ofserve logs to stderr; redirect it instead' },
  '--grpc-restricted-protocol-file': { allowed: [], why: 'not a tritonserver flag' },
  '--load-model-config': { allowed: [], why: 'ofserve loads configuration from the repository only' },
  '--enable-peer-access': { allowed: ['true', 'on', '1'], why: 'ofserve does not manage CUDA peer access' },
};

/** tritonserver flags that take no value. */
const NO_VALUE = new Set(['--disable-auto-complete-config', '--help']);

/**
 * Translates the arguments after `tritonserver`. `serveFlags` is the set of long flags `ofserve serve`
 * accepts (from the CLI definition, so a flag added there passes through without touching this file).
 */
export function translateTritonserverArgv(args: readonly string[], serveFlags: ReadonlySet<string>): TritonArgv {
  const out: string[] = ['serve'];
  const ignored: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      throw ofsError('OFS_BAD_ARGUMENT', `tritonserver takes no positional argument, got '${arg}'; give every setting as --flag=value`);
    }
    const eq = arg.indexOf('=');
    const given = eq === -1 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (given === '--help') {
      out.push('--help');
      continue;
    }
    if (value === undefined && !NO_VALUE.has(given)) {
      const next = args[i + 1];
      if (next === undefined) throw ofsError('OFS_BAD_ARGUMENT', `tritonserver flag ${given} needs a value (${given}=VALUE)`);
      value = next;
      i++;
    }
    const name = ALIASES[given] ?? given;
    if (serveFlags.has(name)) {
      out.push(value === undefined ? name : `${name}=${value}`);
    } else if (IGNORED.has(given)) {
      ignored.push(given);
    } else if (given in REFUSED) {
      const rule = REFUSED[given] as (typeof REFUSED)[string];
      if (value === undefined || !rule.allowed.includes(value)) {
        throw ofsError('OFS_BAD_ARGUMENT', `tritonserver flag ${given}${value === undefined ? '' : `=${value}`} is not supported: ${rule.why}`);
      }
    } else {
      throw ofsError('OFS_BAD_ARGUMENT', `unknown tritonserver flag ${given}; run \`ofserve serve --help\` for the flags ofserve accepts`);
    }
  }
  const unique = [...new Set(ignored)];
  return {
    argv: out,
    warning: unique.length ? `ignoring tritonserver flags that do not apply to ofserve: ${unique.join(', ')}` : undefined,
  };
}
