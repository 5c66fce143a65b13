import type { MessageShape } from './pbtxt-schema.js';

/**
 * The message for a field name the schema does not have: Triton fields ofserve leaves out are named
 * as such (so a Triton config fails with a clear reason), and near-misses get a suggestion.
 */

const TRITON_ONLY: Readonly<Record<string, readonly string[]>> = {
  ModelConfig: [
    'sequence_batching', 'model_operations', 'batch_input', 'batch_output',
    'model_repository_agents', 'model_metrics',
  ],
  ModelInstanceGroup: ['secondary_devices'],
  'ModelOptimizationPolicy.Cuda': ['graph_spec'],
};

export function unknownFieldMessage(name: string, shape: MessageShape): string {
  if (TRITON_ONLY[shape.label]?.includes(name)) {
    return `field \`${name}\` of Triton's ${shape.label} is not supported by ofserve; remove it`;
  }
  const close = nearest(name, shape.slots.map((s) => s.name));
  return `unknown field \`${name}\` in ${shape.label}${close ? `; did you mean \`${close}\`?` : ''}`;
}

function nearest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
