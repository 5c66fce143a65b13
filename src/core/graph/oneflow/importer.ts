import { type OfsError, ofsError, toOfsError } from '../../../errors.js';
import { IR_OPSET, type Graph, type Initializer, type Node, type ValueInfo } from '../ir.js';
import { CONVERTERS } from './import-ops.js';
import { ImportState, OpScope } from './import-scope.js';
import type { MlirAttr, MlirJob, MlirModule, MlirOp, MlirTensorType } from './mlir-ast.js';
import { OpAttrs, asTensorType, elemToWire, wireToElem } from './mlir-attrs.js';
import { jobVariables, usedVariableNames } from './variables.js';

/**
 * MLIR job → IR graph. Graph inputs are the `oneflow.input` ops (in job-argument order) named
 * INPUT_<i>; outputs are the `oneflow.output` ops in `oneflow.return` order, named OUTPUT_<i>; the
 * leading (batch) dimension of both becomes dynamic. Variables become initializers named by op_name.
 */
export interface ImportOptions {
  /** model.mlir as named in messages. */
  readonly file: string;
  /** Initializers by variable op_name: at least every variable the graph reads. */
  readonly variables: ReadonlyMap<string, Initializer>;
}

export interface ImportResult {
  readonly graph: Graph;
  readonly warnings: string[];
}

/** Ops that carry data in and out of the job rather than computing. */
const IO_OPS = new Set(['oneflow.input', 'oneflow.output', 'oneflow.variable']);

export function firstJob(module: MlirModule, file: string): MlirJob {
  const job = module.jobs[0];
  if (!job) throw ofsError('OFS_MLIR_SYNTAX', file, 1, 1, 'no oneflow.job in the module');
  return job;
}

/**
 * `oneflow.user` is the catch-all form of a user op (`op_type_name` says which); rewrite it to the
 * concrete form so converters see one shape: data operands and results only, segment sizes from
 * `input_sizes` / `output_sizes`.
 */
export function concreteOp(op: MlirOp, file: string): MlirOp {
  if (op.name !== 'oneflow.user') return op;
  const a = new OpAttrs(op, file);
  const type = a.string('op_type_name');
  const operandSeg = a.intsOrUndefined('operand_segment_sizes');
  const resultSeg = a.intsOrUndefined('result_segment_sizes');
  const nIn = operandSeg?.[0] ?? op.operands.length;
  const nOut = resultSeg?.[0] ?? op.results.length;
  const attrs = new Map<string, MlirAttr>(op.attrs);
  attrs.delete('operand_segment_sizes');
  attrs.delete('result_segment_sizes');
  const inputSizes = a.intsOrUndefined('input_sizes');
  const outputSizes = a.intsOrUndefined('output_sizes');
  if (inputSizes && inputSizes.length > 1) attrs.set('operand_segment_sizes', { kind: 'dense_array', elem: 'i32', value: inputSizes });
  if (outputSizes && outputSizes.length > 1) attrs.set('result_segment_sizes', { kind: 'dense_array', elem: 'i32', value: outputSizes });
  return {
    ...op,
    name: `oneflow.${type}`,
    operands: op.operands.slice(0, nIn),
    operandTypes: op.operandTypes.slice(0, nIn),
    results: op.results.slice(0, nOut),
    resultTypes: op.resultTypes.slice(0, nOut),
    attrs,
  };
}

function opType(op: MlirOp): string {
  if (op.name === 'oneflow.add_n2') return 'add_n2';
  return op.name.startsWith('oneflow.') ? op.name.slice('oneflow.'.length) : op.name;
}

function unsupportedError(op: MlirOp, file: string): OfsError {
  const a = new OpAttrs(op, file);
  return ofsError('OFS_UNSUPPORTED_OP', op.name, a.opName(), `${file}:${op.line}:${op.column}`);
}

/** Every op of the job ofserve has no converter for (for `validate`, which lists them all). */
export function unsupportedOps(job: MlirJob, file: string): OfsError[] {
  const errors: OfsError[] = [];
  for (const raw of job.ops) {
    if (IO_OPS.has(raw.name)) continue;
    try {
      const op = concreteOp(raw, file);
      if (!CONVERTERS[opType(op)]) errors.push(unsupportedError(op, file));
    } catch (e) {
      errors.push(toOfsError(e));
    }
  }
  return errors;
}

interface IoEnd {
  readonly ssa: string;
  readonly type: MlirTensorType;
}

function ioType(t: MlirTensorType | undefined, what: string, file: string, op: { line: number; column: number }): MlirTensorType {
  if (!t || t.shape === null) throw ofsError('OFS_MLIR_SYNTAX', file, op.line, op.column, `${what} needs a ranked tensor type`);
  return t;
}

/** Graph inputs: the input ops in job-argument order (or the job arguments when there are none). */
function jobInputs(job: MlirJob, file: string): IoEnd[] {
  const inputOps = job.ops.filter((op) => op.name === 'oneflow.input');
  if (inputOps.length === 0) {
    return job.args.map((a) => ({ ssa: a.name, type: ioType(asTensorType(a.type), `job argument ${a.name}`, file, job) }));
  }
  const argIndex = (op: MlirOp): number => {
    const i = job.args.findIndex((a) => a.name === op.operands[0]);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...inputOps]
    .map((op, order) => ({ op, order, arg: argIndex(op) }))
    .sort((a, b) => a.arg - b.arg || a.order - b.order)
    .map(({ op }) => ({ ssa: op.results[0] as string, type: ioType(asTensorType(op.resultTypes[0]), 'oneflow.input', file, op) }));
}

/** Graph outputs in return order: what each returned `oneflow.output` op forwards. */
function jobOutputs(job: MlirJob, file: string): IoEnd[] {
  const producer = new Map<string, { op: MlirOp; index: number }>();
  for (const op of job.ops) op.results.forEach((r, index) => producer.set(r, { op, index }));
  return job.returns.map((r, i) => {
    const p = producer.get(r);
    if (p?.op.name === 'oneflow.output') {
      return { ssa: p.op.operands[0] as string, type: ioType(asTensorType(p.op.operandTypes[0]), 'oneflow.output', file, p.op) };
    }
    const t = p ? asTensorType(p.op.resultTypes[p.index]) : asTensorType(job.args.find((a) => a.name === r)?.type);
    return { ssa: r, type: ioType(t ?? asTensorType(job.resultTypes[i]), `returned value ${r}`, file, job) };
  });
}

/**
 * OneFlow traces with a concrete batch, so a leading dimension that every input and output shares is
 * the batch dimension, and becomes -1. When they do not share one (an affine map fed x [1,3], W [3,2],
 * b [2]) there is no batch dimension and every shape stays as traced.
 */
function sharedBatchDim(ends: readonly IoEnd[]): boolean {
  const leads = ends.map((e) => (e.type.shape && e.type.shape.length > 0 ? e.type.shape[0] : undefined));
  return leads.length > 0 && leads[0] !== undefined && leads.every((d) => d === leads[0]);
}

function valueInfo(name: string, end: IoEnd, file: string, job: MlirJob, batched: boolean): ValueInfo {
  const dtype = elemToWire(end.type.elem);
  if (!dtype) throw ofsError('OFS_MLIR_SYNTAX', file, job.line, job.column, `${name} has element type ${end.type.elem}, which ofserve cannot serve`);
  const shape = [...(end.type.shape as readonly number[])];
  if (batched) shape[0] = -1;
  return { name, dtype, shape };
}

function ioInfos(inputs: readonly IoEnd[], outputs: readonly IoEnd[], file: string, job: MlirJob): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
  const batched = sharedBatchDim([...inputs, ...outputs]);
  return {
    inputs: inputs.map((e, i) => valueInfo(`INPUT_${i}`, e, file, job, batched)),
    outputs: outputs.map((e, i) => valueInfo(`OUTPUT_${i}`, e, file, job, batched)),
  };
}

/** Graph IO without converting ops or reading weights (config auto-fill, `validate`). */
export function jobIO(job: MlirJob, file: string): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
  return ioInfos(jobInputs(job, file), jobOutputs(job, file), file, job);
}

export function importOneflowJob(job: MlirJob, options: ImportOptions): ImportResult {
  const { file } = options;
  const st = new ImportState(file);
  const inputs = jobInputs(job, file);
  const outputs = jobOutputs(job, file);

  for (const [i, end] of inputs.entries()) {
    st.values.set(end.ssa, `INPUT_${i}`);
    st.types.set(end.ssa, end.type);
    st.reserveValue(`INPUT_${i}`);
  }
  // Inputs may also be read straight from job arguments by their input ops' operands.
  for (const op of job.ops.filter((o) => o.name === 'oneflow.input')) {
    const arg = op.operands[0];
    if (arg && !st.values.has(arg)) st.values.set(arg, st.values.get(op.results[0] as string) as string);
  }

  const decls = jobVariables(job, file);
  const used = usedVariableNames(job, decls);
  for (const d of decls) {
    if (!used.has(d.name)) {
      st.unavailable.set(d.ssa, `the unused variable '${d.name}'`);
      continue;
    }
    const init = options.variables.get(d.name);
    if (!init) throw ofsError('OFS_VARIABLE_INVALID', d.name, 'no data was loaded for it');
    st.addInitializer(init);
    st.values.set(d.ssa, d.name);
    st.types.set(d.ssa, { kind: 'tensor', shape: d.shape, elem: wireToElem(d.dtype) ?? '' });
    st.constants.add(d.ssa);
  }

  // A computed value becomes its first graph output directly; repeats and pass-throughs get Identity.
  const computed = new Set(job.ops.filter((op) => !IO_OPS.has(op.name)).flatMap((op) => concreteOp(op, file).results));
  const identities: { from: string; to: string }[] = [];
  outputs.forEach((end, i) => {
    const name = `OUTPUT_${i}`;
    if (computed.has(end.ssa) && !st.outputClaims.has(end.ssa)) st.outputClaims.set(end.ssa, name);
    else identities.push({ from: end.ssa, to: name });
  });

  for (const raw of job.ops) {
    if (IO_OPS.has(raw.name)) continue;
    const op = concreteOp(raw, file);
    const convert = CONVERTERS[opType(op)];
    if (!convert) throw unsupportedError(op, file);
    convert(new OpScope(st, op, opType(op)));
  }

  // A returned result the converters do not compute (a batch statistic, pooling indices) cannot be served.
  const notComputed = (ssa: string): OfsError => {
    const why = st.unavailable.get(ssa);
    return why !== undefined
      ? ofsError('OFS_UNSUPPORTED_OP', `oneflow.return (returns ${ssa}, ${why})`, '', `${file}:${job.line}:${job.column}`)
      : ofsError('OFS_MLIR_SYNTAX', file, job.line, job.column, `returned value ${ssa} is not defined`);
  };
  for (const ssa of st.outputClaims.keys()) if (!st.values.has(ssa)) throw notComputed(ssa);
  for (const { from, to } of identities) {
    const src = st.values.get(from);
    if (src === undefined) throw notComputed(from);
    st.nodes.push({ op: 'Identity', name: st.freshNode(`${to}/identity`), inputs: [src], outputs: [to], attrs: {} });
  }

  const warnings: string[] = [];
  if (st.trainingModeOps.length > 0) {
    const n = st.trainingModeOps.length;
    warnings.push(
      `${n} normalization op${n === 1 ? ' was' : 's were'} saved in training mode (training = true), e.g. '${st.trainingModeOps[0]}'; ` +
        'ofserve serves them with their moving statistics, as in eval mode (save the graph after model.eval() to silence this)',
    );
  }

  const { inputs: graphInputs, outputs: graphOutputs } = ioInfos(inputs, outputs, file, job);
  const nodes = fuseGemmBias(st.nodes, st.initializers, new Set(graphOutputs.map((o) => o.name)));
  const graph: Graph = { name: job.name, inputs: graphInputs, outputs: graphOutputs, nodes, initializers: st.initializers, opset: IR_OPSET };
  return { graph, warnings };
}

/**
 * `matmul` then `broadcast_add(bias)` is how OneFlow traces nn.Linear; folding the bias into Gemm's C
 * gives the graph ONNX exporters produce (one op, one kernel).
 */
function fuseGemmBias(nodes: readonly Node[], inits: readonly Initializer[], graphOutputs: ReadonlySet<string>): Node[] {
  const initByName = new Map(inits.map((i) => [i.name, i]));
  const consumers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const replaced = new Map<Node, Node>();
  const dropped = new Set<Node>();
  for (const n of nodes) {
    if (n.op !== 'Gemm' || n.inputs.length !== 2 || n.attrs.beta !== undefined) continue;
    const out = n.outputs[0] as string;
    const users = consumers.get(out) ?? [];
    const add = users[0];
    if (users.length !== 1 || !add || add.op !== 'Add' || graphOutputs.has(out)) continue;
    const other = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
    const bias = other === undefined ? undefined : initByName.get(other);
    if (!bias || bias.shape.length !== 1) continue;
    replaced.set(n, { ...n, inputs: [...n.inputs, bias.name], outputs: add.outputs });
    dropped.add(add);
  }
  return nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
}
