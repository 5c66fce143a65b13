import { ofsError } from '../errors.js';
import type { V2InferInput, V2InferRequest, V2Parameters, V2RequestedOutput } from './v2-types.js';

/**
 * Structural check of a parsed infer request body, with the messages Triton's HTTP front end uses
 * ("Unable to parse 'inputs'", the one-of-data/binary/shm rule). Semantic checks against the model
 * (names, datatypes, shapes) belong to the data plane.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(what: string): Error {
  return ofsError('OFS_INFER_INPUT', `Unable to parse '${what}'`);
}

function parseParameters(v: unknown, where: string): V2Parameters | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(where);
  for (const [key, value] of Object.entries(v)) {
    // An int64 parameter beyond 2^53 arrives as bigint (parseJsonExact); parameters are numbers here.
    if (typeof value === 'bigint') v[key] = Number(value);
    else if (typeof value !== 'boolean' && typeof value !== 'number' && typeof value !== 'string') throw bad(where);
  }
  return v as V2Parameters;
}

function parseShape(v: unknown, input: string): number[] {
  if (!Array.isArray(v)) throw bad('shape');
  for (const d of v) {
    // A dimension beyond 2^53 arrives as bigint from the exact JSON parser: no tensor can be that big.
    if (typeof d === 'bigint') {
      throw ofsError('OFS_INFER_INPUT', `Unable to parse 'shape' of input '${input}': dimension ${d} is too large`);
    }
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw bad('shape');
  }
  return v as number[];
}

function checkOneDataSource(input: Record<string, unknown>, params: V2Parameters | undefined): void {
  const hasData = input.data !== undefined;
  const hasBinary = params?.binary_data_size !== undefined;
  const hasShm = params?.shared_memory_region !== undefined;
  const set = Number(hasData) + Number(hasBinary) + Number(hasShm);
  if (set === 1) return;
  let msg =
    "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', " +
    "'shared_memory_region' in 'parameters'. But";
  if (set === 0) msg += ' no field is set';
  else {
    msg += ' set';
    if (hasData) msg += " 'data'";
    if (hasBinary) msg += " 'binary_data_size'";
    if (hasShm) msg += " 'shared_memory_region'";
  }
  throw ofsError('OFS_INFER_INPUT', msg);
}

function parseInput(v: unknown): V2InferInput {
  if (!isObject(v)) throw bad('inputs');
  const parameters = parseParameters(v.parameters, 'parameters');
  checkOneDataSource(v, parameters);
  if (typeof v.name !== 'string') throw bad('name');
  if (typeof v.datatype !== 'string') throw bad('datatype');
  const shape = parseShape(v.shape, v.name);
  if (parameters?.shared_memory_region !== undefined) {
    throw ofsError('OFS_PROTOCOL_UNSUPPORTED', 'shared memory inputs are not supported by this server');
  }
  const size = parameters?.binary_data_size;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 0)) {
    throw bad('binary_data_size');
  }
  if (v.data !== undefined && !Array.isArray(v.data)) throw bad('data');
  const input: V2InferInput = { name: v.name, shape, datatype: v.datatype };
  if (parameters) input.parameters = parameters;
  if (v.data !== undefined) input.data = v.data as V2InferInput['data'];
  return input;
}

function parseOutput(v: unknown): V2RequestedOutput {
  if (!isObject(v)) throw bad('outputs');
  const parameters = parseParameters(v.parameters, 'parameters');
  if (parameters?.shared_memory_region !== undefined) {
    if (parameters.classification !== undefined) {
      throw ofsError('OFS_INFER_OUTPUT', 'Output can\'t set both \'shared_memory_region\' and \'classification\'');
    }
    throw ofsError('OFS_PROTOCOL_UNSUPPORTED', 'shared memory outputs are not supported by this server');
  }
  if (typeof v.name !== 'string') throw bad('name');
  const k = parameters?.classification;
  if (k !== undefined && (typeof k !== 'number' || !Number.isInteger(k) || k < 0)) {
    throw ofsError('OFS_INFER_OUTPUT', "Unable to set 'classification'");
  }
  const bin = parameters?.binary_data;
  if (bin !== undefined && typeof bin !== 'boolean') throw ofsError('OFS_INFER_OUTPUT', "Unable to parse 'binary_data'");
  const output: V2RequestedOutput = { name: v.name };
  if (parameters) output.parameters = parameters;
  return output;
}

/** Validates the shape of a parsed request body; throws OFS_INFER_* with Triton's wording. */
export function parseInferRequest(json: unknown): V2InferRequest {
  if (!isObject(json)) throw bad('inputs');
  const request: V2InferRequest = { inputs: [] };
  if (json.id !== undefined) {
    if (typeof json.id !== 'string') throw bad('id');
    request.id = json.id;
  }
  const parameters = parseParameters(json.parameters, 'parameters');
  if (parameters) {
    const bdo = parameters.binary_data_output;
    if (bdo !== undefined && typeof bdo !== 'boolean') throw bad('binary_data_output');
    request.parameters = parameters;
  }
  if (!Array.isArray(json.inputs)) throw bad('inputs');
  request.inputs = json.inputs.map(parseInput);
  if (json.outputs !== undefined) {
    if (!Array.isArray(json.outputs)) throw bad('outputs');
    request.outputs = json.outputs.map(parseOutput);
  }
  return request;
}
