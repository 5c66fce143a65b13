import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../src/errors.js';
import {
  inferRequestFromGrpc,
  inferResponseToGrpc,
  repositoryIndexToGrpc,
  wantsFinalFlag,
} from '../../../../src/server/grpc/converters.js';
import type { GrpcModelInferRequest } from '../../../../src/server/grpc/messages.js';
import { parametersFromGrpc } from '../../../../src/protocol/grpc-parameters.js';
import { contentsToBytes } from '../../../../src/server/grpc/tensor-contents.js';

function thrown(f: () => unknown): { kind: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isOfsError(e)) return { kind: e.kind, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

const le = (...bytes: number[]) => Uint8Array.from(bytes);

describe('contentsToBytes', () => {
  it('reads the typed field that matches the datatype, little-endian', () => {
    expect(contentsToBytes('x', 'INT16', { int_contents: [1, -2] })).toEqual(le(1, 0, 0xfe, 0xff));
    expect(contentsToBytes('x', 'UINT8', { uint_contents: [7, 255] })).toEqual(le(7, 255));
    expect(contentsToBytes('x', 'BOOL', { bool_contents: [true, false, true] })).toEqual(le(1, 0, 1));
    expect(contentsToBytes('x', 'FP32', { fp32_contents: [1] })).toEqual(le(0, 0, 0x80, 0x3f));
    expect(contentsToBytes('x', 'FP64', { fp64_contents: [-2] })).toEqual(le(0, 0, 0, 0, 0, 0, 0, 0xc0));
  });

  it('keeps 64-bit integers exact (they arrive as decimal strings)', () => {
    // 2^53 + 1 is not a double; 0x0020000000000001 little-endian.
    expect(contentsToBytes('x', 'INT64', { int64_contents: ['9007199254740993'] })).toEqual(le(1, 0, 0, 0, 0, 0, 0x20, 0));
    expect(contentsToBytes('x', 'UINT64', { uint64_contents: ['18446744073709551615'] })).toEqual(le(255, 255, 255, 255, 255, 255, 255, 255));
  });

  it('serializes bytes_contents length-prefixed', () => {
    expect(contentsToBytes('x', 'BYTES', { bytes_contents: [le(0x61, 0x62), le()] })).toEqual(le(2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0));
  });

  it('refuses typed FP16, which has no field', () => {
    expect(thrown(() => contentsToBytes('half', 'FP16', {})).message).toMatch(/raw_input_contents/);
  });

  it('reads nothing from a field of another type', () => {
    expect(contentsToBytes('x', 'FP32', { int_contents: [1, 2] })).toHaveLength(0);
  });
});

describe('inferRequestFromGrpc', () => {
  const base: GrpcModelInferRequest = {
    model_name: 'm',
    model_version: '',
    id: '',
    inputs: [
      { name: 'A', datatype: 'UINT8', shape: ['1', '2'], contents: null },
      { name: 'B', datatype: 'UINT8', shape: ['1'], contents: null },
    ],
    raw_input_contents: [le(1, 2), le(3)],
  };

  it('takes raw_input_contents in input order, shapes as numbers, "" version and id as absent', () => {
    const r = inferRequestFromGrpc(base);
    expect(r.model).toBe('m');
    expect(r.version).toBeUndefined();
    expect(r.id).toBeUndefined();
    expect(r.outputs).toBeUndefined();
    expect(r.inputs.map((i) => [i.name, i.shape, [...i.data]])).toEqual([['A', [1, 2], [1, 2]], ['B', [1], [3]]]);
  });

  it('refuses typed contents next to raw_input_contents, missing data and surplus raw entries', () => {
    const mixed = { ...base, inputs: [{ ...base.inputs![0], contents: { uint_contents: [1, 2] } }, base.inputs![1]] };
    expect(thrown(() => inferRequestFromGrpc(mixed))).toEqual({
      kind: 'INVALID_ARG',
      message: "contents field must not be specified when using raw_input_contents for 'A' for model 'm'",
    });
    expect(thrown(() => inferRequestFromGrpc({ ...base, raw_input_contents: [le(1, 2)] })).message).toBe(
      "unable to find data for input tensor 'B' for model 'm' in request.",
    );
    expect(thrown(() => inferRequestFromGrpc({ ...base, raw_input_contents: [le(1, 2), le(3), le(4)] })).kind).toBe('INVALID_ARG');
  });

  it('reads classification from int64_param and refuses other types and values <= 0', () => {
    const withOutput = (p: NonNullable<GrpcModelInferRequest['outputs']>[number]['parameters']) =>
      inferRequestFromGrpc({ ...base, outputs: [{ name: 'Y', parameters: p }] });
    expect(withOutput({ classification: { parameter_choice: 'int64_param', int64_param: '3' } }).outputs).toEqual([{ name: 'Y', classification: 3 }]);
    expect(withOutput({}).outputs).toEqual([{ name: 'Y' }]);
    const zero = thrown(() => withOutput({ classification: { parameter_choice: 'int64_param', int64_param: '0' } }));
    expect(zero.kind).toBe('INVALID_ARG');
    expect(zero.message).toContain("invalid value for 'classification' parameter");
    const text = thrown(() => withOutput({ classification: { parameter_choice: 'string_param', string_param: '3' } }));
    expect(text).toEqual({ kind: 'INVALID_ARG', message: "invalid value type for 'classification' parameter, expected int64_param" });
  });

  it('refuses shared memory regions as unsupported', () => {
    const shm = { ...base, outputs: [{ name: 'Y', parameters: { shared_memory_region: { parameter_choice: 'string_param' as const, string_param: 'r' } } }] };
    expect(thrown(() => inferRequestFromGrpc(shm)).kind).toBe('UNSUPPORTED');
  });

  it('maps each InferParameter oneof member to its JSON value', () => {
    expect(
      parametersFromGrpc({
        b: { parameter_choice: 'bool_param', bool_param: true },
        i: { parameter_choice: 'int64_param', int64_param: '-5' },
        u: { parameter_choice: 'uint64_param', uint64_param: '7' },
        d: { parameter_choice: 'double_param', double_param: 0.5 },
        s: { parameter_choice: 'string_param', string_param: 'x' },
        none: {},
      }),
    ).toEqual({ b: true, i: -5, u: 7, d: 0.5, s: 'x' });
    expect(parametersFromGrpc({})).toBeUndefined();
  });

  it('sees the triton_enable_empty_final_response flag only when it is true', () => {
    const flag = (bool_param: boolean) => ({ triton_enable_empty_final_response: { parameter_choice: 'bool_param' as const, bool_param } });
    expect(wantsFinalFlag({ ...base, parameters: flag(true) })).toBe(true);
    expect(wantsFinalFlag({ ...base, parameters: flag(false) })).toBe(false);
    expect(wantsFinalFlag(base)).toBe(false);
  });
});

describe('inferResponseToGrpc', () => {
  it('puts every output in raw_output_contents in order, with the final flag when asked', () => {
    const r = inferResponseToGrpc(
      {
        model_name: 'm',
        model_version: '2',
        id: 'q',
        outputs: [
          { name: 'B', datatype: 'UINT8', shape: [1], data: le(9) },
          { name: 'A', datatype: 'INT8', shape: [2], data: le(1, 2) },
        ],
      },
      { triton_final_response: true },
    );
    expect(r.outputs).toEqual([{ name: 'B', datatype: 'UINT8', shape: [1] }, { name: 'A', datatype: 'INT8', shape: [2] }]);
    expect(r.raw_output_contents.map((b) => [...b])).toEqual([[9], [1, 2]]);
    expect(r.parameters).toEqual({ triton_final_response: { bool_param: true } });
    expect(r.id).toBe('q');
    expect(r.model_version).toBe('2');
  });
});

describe('repositoryIndexToGrpc', () => {
  it('fills absent version and reason with ""', () => {
    expect(repositoryIndexToGrpc([{ name: 'a', state: 'UNAVAILABLE', reason: 'bad' }, { name: 'b', version: '1', state: 'READY' }])).toEqual({
      models: [
        { name: 'a', version: '', state: 'UNAVAILABLE', reason: 'bad' },
        { name: 'b', version: '1', state: 'READY', reason: '' },
      ],
    });
  });
});
