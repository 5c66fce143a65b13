import type { Graph, Initializer, Node } from '../ir.js';
import { float32Initializer, float32Values } from './initializer-values.js';

const DEFAULT_EPSILON = 1e-5;

/**
 * Folds inference-mode BatchNormalization into the Conv that feeds it: per output channel k,
 * s = γ/√(var+ε), w' = w·s, b' = (b − mean)·s + β. Only when the Conv output feeds nothing but the BN
 * (not another node, not a graph output) and every parameter is a constant, so the graph computes the
 * same function with one node fewer. Returns a new graph; the input graph is not modified.
 *
 * The folded Conv takes the BN's output name, so consumers and graph outputs are untouched.
 */
export function foldBatchNorm(graph: Graph): Graph {
  const initializers = new Map(graph.initializers.map((i) => [i.name, i]));
  const uses = useCounts(graph);
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));

  const nodes: (Node | undefined)[] = [...graph.nodes];
  const replaced = new Map<string, Initializer>();
  const added: Initializer[] = [];
  const taken = new Set([...graph.initializers.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };

  graph.nodes.forEach((bn, bnIndex) => {
    if (bn.op !== 'BatchNormalization' || (bn.domain ?? '') !== '') return;
    const convIndex = producer.get(bn.inputs[0] ?? '');
    const conv = convIndex === undefined ? undefined : nodes[convIndex];
    if (!conv || conv.op !== 'Conv' || (conv.domain ?? '') !== '') return;
    if (uses.get(conv.outputs[0] ?? '') !== 1) return;
    if (bn.outputs.slice(1).some((o) => o !== '')) return; // training outputs (running stats) requested
    if (bn.attrs.training_mode?.kind === 'int' && bn.attrs.training_mode.value !== 0) return;

    const weightInit = initializers.get(conv.inputs[1] ?? '');
    const biasName = conv.inputs[2] ?? '';
    const biasInit = biasName === '' ? undefined : initializers.get(biasName);
    const params = bn.inputs.slice(1, 5).map((n) => initializers.get(n));
    if (!weightInit || weightInit.dtype !== 'FP32' || weightInit.shape.length < 3) return;
    if (biasName !== '' && (!biasInit || biasInit.dtype !== 'FP32')) return;
    const channels = weightInit.shape[0] as number;
    if (params.length !== 4 || params.some((p) => !p || p.dtype !== 'FP32' || count(p.shape) !== channels)) return;

    const [gamma, beta, mean, variance] = (params as Initializer[]).map(float32Values) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const epsilon = bn.attrs.epsilon?.kind === 'float' ? bn.attrs.epsilon.value : DEFAULT_EPSILON;
    const weight = float32Values(replaced.get(weightInit.name) ?? weightInit);
    const bias = biasInit ? float32Values(replaced.get(biasInit.name) ?? biasInit) : new Float32Array(channels);
    if (bias.length !== channels) return;

    const perChannel = weight.length / channels;
    const newWeight = new Float32Array(weight.length);
    const newBias = new Float32Array(channels);
    for (let k = 0; k < channels; k++) {
      // Float64 arithmetic, one rounding to float32 at the end.
      const scale = (gamma[k] as number) / Math.sqrt((variance[k] as number) + epsilon);
      for (let j = k * perChannel; j < (k + 1) * perChannel; j++) newWeight[j] = (weight[j] as number) * scale;
      newBias[k] = ((bias[k] as number) - (mean[k] as number)) * scale + (beta[k] as number);
    }

    // A weight shared with another node must keep its values there, so the folded copy gets a new name.
    const weightName = uses.get(weightInit.name) === 1 ? weightInit.name : fresh(`${weightInit.name}_bn_folded`);
    const outBiasName = biasInit && uses.get(biasInit.name) === 1 ? biasInit.name : fresh(`${conv.name}.bias_bn_folded`);
    const folded = [float32Initializer(weightName, weightInit.shape, newWeight), float32Initializer(outBiasName, [channels], newBias)];
    for (const init of folded) {
      if (initializers.has(init.name)) replaced.set(init.name, init);
      else added.push(init);
    }
    nodes[convIndex as number] = { ...conv, inputs: [conv.inputs[0] as string, weightName, outBiasName], outputs: [bn.outputs[0] as string] };
    nodes[bnIndex] = undefined;
  });

  const kept = nodes.filter((n): n is Node => n !== undefined);
  if (kept.length === graph.nodes.length) return graph;
  const referenced = new Set(kept.flatMap((n) => n.inputs));
  const wasReferenced = new Set(graph.nodes.flatMap((n) => n.inputs));
  // Drop only what folding orphaned; an initializer the original graph never used is not this pass's business.
  const keep = (i: Initializer): boolean => referenced.has(i.name) || !wasReferenced.has(i.name);
  return {
    ...graph,
    nodes: kept,
    initializers: [...graph.initializers.map((i) => replaced.get(i.name) ?? i), ...added].filter(keep),
  };
}

/** How many times each value is read: node inputs plus graph outputs. */
function useCounts(graph: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const use = (name: string): void => {
    if (name !== '') uses.set(name, (uses.get(name) ?? 0) + 1);
  };
  graph.nodes.forEach((n) => n.inputs.forEach(use));
  graph.outputs.forEach((o) => use(o.name));
  return uses;
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
