import { ofsError } from '../../errors.js';

/**
 * tritonserver's `--metrics-config <setting>=<value>` (repeatable) for the latency metrics:
 * counter_latencies (default true), summary_latencies (false), histogram_latencies (false) and
 * summary_quantiles (`<q>:<error>,…`, Triton's default 0.5:0.05,0.9:0.01,0.95:0.001,0.99:0.001).
 */

export interface Quantile {
  readonly quantile: number;
  /** Triton passes it to prometheus-cpp's CKMS; prom-client's t-digest has no per-quantile error. */
  readonly error: number;
}

export interface MetricsConfig {
  readonly counterLatencies: boolean;
  readonly summaryLatencies: boolean;
  readonly histogramLatencies: boolean;
  readonly summaryQuantiles: readonly Quantile[];
}

export const DEFAULT_METRICS_CONFIG: MetricsConfig = {
  counterLatencies: true,
  summaryLatencies: false,
  histogramLatencies: false,
  summaryQuantiles: [
    { quantile: 0.5, error: 0.05 },
    { quantile: 0.9, error: 0.01 },
    { quantile: 0.95, error: 0.001 },
    { quantile: 0.99, error: 0.001 },
  ],
};

const SETTINGS = ['counter_latencies', 'summary_latencies', 'histogram_latencies', 'summary_quantiles'];

function bool(setting: string, value: string): boolean {
  if (/^(true|1|on)$/i.test(value)) return true;
  if (/^(false|0|off)$/i.test(value)) return false;
  throw ofsError('OFS_BAD_ARGUMENT', `--metrics-config ${setting}=${value}: expected true or false`);
}

function quantiles(value: string): Quantile[] {
  const out = value.split(',').map((pair) => {
    const [q, e, extra] = pair.split(':');
    const quantile = Number(q);
    const error = Number(e);
    if (extra !== undefined || q === undefined || e === undefined || !(quantile > 0 && quantile < 1) || !(error >= 0 && error < 1)) {
      throw ofsError(
        'OFS_BAD_ARGUMENT',
        `--metrics-config summary_quantiles=${value}: '${pair}' is not <quantile>:<error> with both in [0, 1), e.g. 0.5:0.05,0.99:0.001`,
      );
    }
    return { quantile, error };
  });
  return out.sort((a, b) => a.quantile - b.quantile);
}

export function parseMetricsConfig(entries: readonly string[]): MetricsConfig {
  let config: MetricsConfig = DEFAULT_METRICS_CONFIG;
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const setting = eq === -1 ? entry : entry.slice(0, eq);
    const value = eq === -1 ? '' : entry.slice(eq + 1);
    if (eq === -1 || !SETTINGS.includes(setting)) {
      throw ofsError('OFS_BAD_ARGUMENT', `--metrics-config '${entry}': expected <setting>=<value> with a setting among ${SETTINGS.join(', ')}`);
    }
    if (setting === 'counter_latencies') config = { ...config, counterLatencies: bool(setting, value) };
    else if (setting === 'summary_latencies') config = { ...config, summaryLatencies: bool(setting, value) };
    else if (setting === 'histogram_latencies') config = { ...config, histogramLatencies: bool(setting, value) };
    else config = { ...config, summaryQuantiles: quantiles(value) };
  }
  return config;
}
