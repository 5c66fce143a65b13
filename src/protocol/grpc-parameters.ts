import type { V2ParameterValue, V2Parameters } from './v2-types.js';

/**
 * KServe's InferParameter oneof and its conversion to the JSON parameter values both protocols share;
 * used by the gRPC server and the gRPC client alike.
 */

/** A 64-bit integer: decoded as a decimal string, written as a number or string. */
export type Int64 = string | number;

export type InferParameterChoice = 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';

export interface GrpcInferParameter {
  /** Set by decoders that report oneofs; absent on hand-built objects (then the set member decides). */
  parameter_choice?: InferParameterChoice;
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
  double_param?: number;
  uint64_param?: Int64;
}

export type GrpcParameters = Record<string, GrpcInferParameter>;

const CHOICES: readonly InferParameterChoice[] = ['bool_param', 'int64_param', 'uint64_param', 'double_param', 'string_param'];

/** defineProperty, not assignment: a key such as "__proto__" must become a plain entry. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The set member of an InferParameter oneof; undefined when none is set. */
export function parameterFromGrpc(p: GrpcInferParameter): V2ParameterValue | undefined {
  const choice = p.parameter_choice ?? CHOICES.find((k) => p[k] !== undefined && p[k] !== null);
  switch (choice) {
    case 'bool_param': return p.bool_param ?? false;
    case 'int64_param': return Number(p.int64_param ?? 0);
    case 'uint64_param': return Number(p.uint64_param ?? 0);
    case 'double_param': return p.double_param ?? 0;
    case 'string_param': return p.string_param ?? '';
    default: return undefined;
  }
}

/** As tritonclient.grpc writes a JSON value: bool, string, int64 for integers, else double. */
export function parameterToGrpc(value: V2ParameterValue): GrpcInferParameter {
  if (typeof value === 'boolean') return { bool_param: value };
  if (typeof value === 'string') return { string_param: value };
  return Number.isInteger(value) ? { int64_param: value } : { double_param: value };
}

export function parametersFromGrpc(map: GrpcParameters | undefined): V2Parameters | undefined {
  const out: V2Parameters = {};
  for (const [key, p] of Object.entries(map ?? {})) {
    const value = parameterFromGrpc(p);
    if (value !== undefined) setOwn(out, key, value);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function parametersToGrpc(params: V2Parameters | undefined): GrpcParameters {
  const out: GrpcParameters = {};
  for (const [key, value] of Object.entries(params ?? {})) setOwn(out, key, parameterToGrpc(value));
  return out;
}
