import type { PlanStep, TensorDecl } from './plan-format.js';

/** A plan step while the compiler still rewrites it (fields mutable, ids not yet compacted). */
export type DraftStep = PlanStep extends infer S ? (S extends PlanStep ? { -readonly [K in keyof S]: S[K] } : never) : never;

export interface FusedSteps {
  readonly steps: PlanStep[];
  readonly tensors: TensorDecl[];
  readonly input: number;
  readonly output: number;
}

/** Tensors a step reads. */
function reads(step: DraftStep): number[] {
  switch (step.op) {
    case 'add': return [step.a, step.b];
    case 'conv': return step.residual === undefined ? [step.x] : [step.x, step.residual];
    default: return [step.x];
  }
}

/**
 * Fuses, in this order (a residual is added before the activation, so the add must join the conv first):
 * 1. Add(conv(…), r) → conv with `residual: r`, when the conv's output feeds only that Add and r already
 *    exists when the conv runs (produced by an earlier step, or the input): ResNet's shortcut.
 * 2. Relu(t) → `relu: true` on the conv, add or gemm producing t, when t feeds only that Relu.
 * Then drops the steps whose results nothing needs, and numbers the remaining tensors densely in order
 * of first use.
 */
export function fusePlanSteps(drafts: readonly DraftStep[], shapes: readonly (readonly number[])[], input: number, output: number): FusedSteps {
  const steps: (DraftStep | undefined)[] = drafts.map((s) => ({ ...s }));

  const analyse = () => {
    const producer = new Map<number, number>();
    const uses = new Map<number, number>([[output, 1]]);
    steps.forEach((s, i) => {
      if (!s) return;
      producer.set(s.y, i);
      for (const t of reads(s)) uses.set(t, (uses.get(t) ?? 0) + 1);
    });
    return { producer, uses };
  };

  let { producer, uses } = analyse();
  steps.forEach((add, i) => {
    if (add?.op !== 'add' || add.relu) return;
    // Try the operand computed last first: only that conv can see the other operand already computed.
    const operands = [add.a, add.b].sort((p, q) => (producer.get(q) ?? -1) - (producer.get(p) ?? -1));
    for (const [t, other] of [operands, [...operands].reverse()] as [number, number][]) {
      const at = producer.get(t);
      const conv = at === undefined ? undefined : steps[at];
      if (conv?.op !== 'conv' || conv.residual !== undefined || conv.relu || uses.get(t) !== 1) continue;
      const otherAt = producer.get(other);
      if (t === other || (otherAt !== undefined && otherAt >= (at as number))) continue;
      conv.residual = other;
      conv.y = add.y;
      producer.set(add.y, at as number);
      steps[i] = undefined;
      return;
    }
  });

  ({ producer, uses } = analyse());
  steps.forEach((relu, i) => {
    if (relu?.op !== 'relu') return;
    const at = producer.get(relu.x);
    const target = at === undefined ? undefined : steps[at];
    if (!target || (target.op !== 'conv' && target.op !== 'add' && target.op !== 'gemm') || target.relu || uses.get(relu.x) !== 1) return;
    target.relu = true;
    target.y = relu.y;
    producer.set(relu.y, at as number);
    steps[i] = undefined;
  });

  // A step whose result nothing reads (a dead branch of the graph) would only cost GPU time.
  const needed = new Set([output]);
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (!s) continue;
    if (needed.has(s.y)) reads(s).forEach((t) => needed.add(t));
    else steps[i] = undefined;
  }
  const kept = steps.filter((s): s is DraftStep => s !== undefined);
  const ids = new Map<number, number>();
  const id = (t: number): number => {
    let n = ids.get(t);
    if (n === undefined) ids.set(t, (n = ids.size));
    return n;
  };
  id(input);
  const renumbered: PlanStep[] = kept.map((s) => {
    switch (s.op) {
      case 'add': return { ...s, a: id(s.a), b: id(s.b), y: id(s.y) };
      case 'conv': return { ...s, x: id(s.x), ...(s.residual === undefined ? {} : { residual: id(s.residual) }), y: id(s.y) };
      default: return { ...s, x: id(s.x), y: id(s.y) };
    }
  });
  const tensors = [...ids].map(([old, n]) => ({ id: n, shape: [...(shapes[old] as readonly number[])] }));
  return { steps: renumbered, tensors, input: id(input), output: id(output) };
}
