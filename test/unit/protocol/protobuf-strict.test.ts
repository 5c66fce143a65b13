import { describe, expect, it } from 'vitest';
import { decodeMessage, decodeStrict, encodeMessage, MalformedMessage, rpcTypes } from '../../../src/protocol/grpc-schema.js';
import { wireProblem } from '../../../src/protocol/protobuf-strict.js';
import { handEncodedInferRequest } from '../server/grpc/wire.js';

const { request: InferRequest } = rpcTypes('inference.GRPCInferenceService', 'ModelInfer');
const { request: LoadRequest } = rpcTypes('inference.GRPCInferenceService', 'RepositoryModelLoad');
const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

const valid = handEncodedInferRequest({
  model: 'resnet',
  version: '1',
  id: 'req-1',
  input: 'INPUT_0',
  shape: [1, 3],
  fp32: [0.5, 1.5, -2],
  output: 'OUTPUT_0',
  classification: 2,
  boolParameter: 'flag',
});

describe('wireProblem', () => {
  it('accepts well-formed messages, packed and unpacked repeated scalars, unknown fields and maps', () => {
    expect(wireProblem(InferRequest, valid)).toBeUndefined();
    expect(wireProblem(InferRequest, new Uint8Array(0))).toBeUndefined();
    const encoded = encodeMessage(InferRequest, {
      model_name: 'm',
      inputs: [{ name: 'IN', datatype: 'INT64', shape: [1, 2], contents: { int64_contents: ['-1', '9223372036854775807'], bool_contents: [true] } }],
      raw_input_contents: [new Uint8Array(5)],
      parameters: { a: { string_param: 'é' }, b: { int64_param: -3 } },
    });
    expect(wireProblem(InferRequest, encoded)).toBeUndefined();
    // Unpacked shape (field 3 as separate varints, as proto2 writers do) and an unknown field 99.
    const unpacked = hex('2a 07 0a 01 49 18 01 18 02 9a 06 01 ff');
    expect(wireProblem(InferRequest, unpacked)).toBeUndefined();
    const decoded = decodeMessage<{ inputs: { name: string; shape: string[] }[] }>(InferRequest, unpacked);
    expect(decoded.inputs[0]).toMatchObject({ name: 'I', shape: ['1', '2'] });
  });

  it('refuses the truncated and mistyped messages protobufjs would accept', () => {
    // protobufjs decodes each of these without an error (the first as model_name 'a').
    const cases: [string, RegExp][] = [
      ['0a 50 61', /'model_name' \(1\) at offset 2 needs 80 bytes, 1 left/],
      ['0a 01', /'model_name'.*needs 1 bytes, 0 left/],
      ['08 01', /'model_name' \(1\) at offset 0 has wire type 0 \(varint\), expected 2/],
      ['0d 00 00 00 00', /wire type 5/],
      ['3a 05 61', /raw_input_contents/], // bytes field cut short
      ['2a 03 0a 05 61', /'name'.*needs 5 bytes/], // nested field longer than its parent
      ['2a 02 1a 05', /'shape'.*needs 5 bytes/], // packed field longer than its parent
      ['2a 03 1a 01 80', /packed field 'shape'.*truncated varint/], // packed varint cut in the middle
      ['2a 07 2a 05 32 03 00 00 00', /packed field 'fp32_contents'.*not a multiple of 4/],
      ['0a 02 c3 28', /not valid UTF-8/],
      ['0b', /wire type 3 \(start-group\)/],
      ['07', /field number out of range/],
      ['8a', /truncated varint/],
      ['0a ff ff ff ff ff ff ff ff ff ff 01', /longer than 10 bytes/],
      ['22 05 0a 01 61 12 05', /value of map field 'parameters'.*needs 5 bytes/],
      ['22 03 08 01 00', /key of map field 'parameters'.*wire type 0/],
    ];
    for (const [bytes, problem] of cases) expect(wireProblem(InferRequest, hex(bytes)), bytes).toMatch(problem);
  });

  it('refuses every cut inside a nested field of a valid message', () => {
    // The first top-level field ends after byte 8 ('0a 06 resnet'); any cut inside a field must fail.
    const boundaries = new Set<number>([0]);
    let pos = 0;
    while (pos < valid.length) {
      const length = valid[pos + 1]; // every top-level field here is length-delimited with a 1-byte length
      pos += 2 + length;
      boundaries.add(pos);
    }
    for (let cut = 1; cut < valid.length; cut++) {
      const problem = wireProblem(InferRequest, valid.subarray(0, cut));
      if (boundaries.has(cut)) expect(problem, `cut ${cut}`).toBeUndefined();
      else expect(problem, `cut ${cut}`).toBeTypeOf('string');
    }
  });

  it('checks oneof members in map values by their own wire types', () => {
    // RepositoryModelLoadRequest.parameters["config"] = {string_param = 3} sent as a varint.
    expect(wireProblem(LoadRequest, hex('1a 0c 0a 06 63 6f 6e 66 69 67 12 02 18 01'))).toMatch(/'string_param'.*wire type 0/);
    expect(wireProblem(LoadRequest, hex('1a 0d 0a 06 63 6f 6e 66 69 67 12 03 1a 01 78'))).toBeUndefined();
  });
});

describe('decodeStrict', () => {
  it('decodes valid bytes and names the type and the problem otherwise', () => {
    expect(decodeStrict<{ model_name: string }>(InferRequest, hex('0a 03 61 62 63'))).toMatchObject({ model_name: 'abc' });
    const bad = decodeStrict(InferRequest, hex('0a 50 61'));
    expect(bad).toBeInstanceOf(MalformedMessage);
    expect(bad).toMatchObject({ typeName: 'ModelInferRequest' });
  });
});
