import { describe, expect, it } from 'vitest';
import { decodeInferResponse } from '../../../src/client/infer-result.js';
import { bytesTensor } from './fake-triton.js';

function binaryBody(json: unknown, blocks: Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const header = Buffer.from(JSON.stringify(json));
  return { body: Buffer.concat([header, ...blocks]), headerLength: header.length };
}

describe('decodeInferResponse', () => {
  it('splits binary outputs by binary_data_size in order, skipping JSON outputs', () => {
    const probs = Buffer.from(Float32Array.of(0.25, 0.75, 1, -1).buffer);
    const classes = bytesTensor(['0.750000:1:tabby, tabby cat', '0.250000:0:a:b:c']);
    const { body, headerLength } = binaryBody(
      {
        model_name: 'm',
        model_version: '1',
        outputs: [
          { name: 'PROB', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } },
          { name: 'IDS', datatype: 'INT64', shape: [2], data: [7, 9] },
          { name: 'CLS', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: classes.length } },
        ],
      },
      [probs, classes],
    );
    const r = decodeInferResponse(body, headerLength, 'u');
    expect(r.modelName).toBe('m');
    expect(r.modelVersion).toBe('1');
    expect(Array.from(r.asFloat32('PROB'))).toEqual([0.25, 0.75, 1, -1]);
    expect(r.asStrings('CLS')).toEqual(['0.750000:1:tabby, tabby cat', '0.250000:0:a:b:c']);
    expect(Array.from(r.asFloat32('IDS'))).toEqual([7, 9]);
    const ids = r.asTensor('IDS');
    expect(ids.datatype).toBe('INT64');
    expect(Array.from(new BigInt64Array(ids.data.slice().buffer))).toEqual([7n, 9n]);
    expect(r.asTensor('PROB').shape).toEqual([2, 2]);
    expect(r.json.outputs[1].data).toEqual([7, 9]);
  });

  it('reads an all-JSON response, nested data included', () => {
    const body = Buffer.from(
      JSON.stringify({
        model_name: 'm',
        outputs: [
          { name: 'P', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4]] },
          { name: 'C', datatype: 'BYTES', shape: [1], data: ['3.300000:1'] },
        ],
      }),
    );
    const r = decodeInferResponse(body, undefined, 'u');
    expect(Array.from(r.asFloat32('P'))).toEqual([1, 2, 3, 4]);
    expect(r.asStrings('C')).toEqual(['3.300000:1']);
    expect(Array.from(r.asTensor('C').data)).toEqual([10, 0, 0, 0, ...Buffer.from('3.300000:1')]);
  });

  it('reports truncated bodies, size/shape mismatches and missing outputs as OFS_BAD_RESPONSE', () => {
    const { body, headerLength } = binaryBody(
      { model_name: 'm', outputs: [{ name: 'P', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 8 } }] },
      [Buffer.alloc(8)],
    );
    const r = decodeInferResponse(body, headerLength, 'u');
    expect(() => r.asFloat32('P')).toThrow(expect.objectContaining({ code: 'OFS_BAD_RESPONSE' }));
    expect(() => r.asTensor('Q')).toThrow(/no output named 'Q'/);
    expect(() => decodeInferResponse(body.subarray(0, body.length - 1), headerLength, 'u')).toThrow(/claims 8 bytes/);
    expect(() => decodeInferResponse(body, undefined, 'u')).toThrow(expect.objectContaining({ code: 'OFS_BAD_RESPONSE' }));
  });
});
