import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../src/errors.js';
import { parseJsonBounded, scanJson, scanJsonSync, type DataSpan } from '../../../src/protocol/json-scan.js';
import { dataSpanToBytes, jsonNumberAt } from '../../../src/protocol/json-span.js';
import { jsonDataToBytes } from '../../../src/protocol/json-tensor.js';
import { prng } from '../../fixtures/hostile.js';

const LIMITS = { maxDepth: 16, maxValues: 1000 };
const bytes = (text: string) => Buffer.from(text, 'utf8');
const spanText = (text: string, span: DataSpan | undefined) => (span ? text.slice(span.start, span.end) : undefined);

function limitError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isOfsError(e) && e.code === 'OFS_REQUEST_TOO_LARGE') return e.message;
    throw e;
  }
  throw new Error('no limit error');
}

describe('scanJsonSync limits', () => {
  it('refuses nesting deeper than maxDepth, naming the flag', () => {
    expect(limitError(() => scanJsonSync(bytes('['.repeat(17) + ']'.repeat(17)), LIMITS))).toBe(
      'the nesting depth of the request JSON is over the server limit of 16 (--http-max-json-depth)',
    );
    expect(() => scanJsonSync(bytes('['.repeat(16) + ']'.repeat(16)), LIMITS)).not.toThrow();
    expect(limitError(() => scanJsonSync(bytes('{"a":'.repeat(100_000)), LIMITS))).toMatch(/nesting depth/);
  });

  it('refuses more values than maxValues, counting every token, even in JSON that is invalid later', () => {
    const many = `[${'{},'.repeat(1000)}{}]`;
    expect(limitError(() => scanJsonSync(bytes(many), LIMITS))).toBe(
      'the number of values in the request JSON is over the server limit of 1000 (--http-max-json-values)',
    );
    // Unterminated: JSON.parse would build every object before failing at the end.
    expect(limitError(() => scanJsonSync(bytes(`[${'{},'.repeat(5000)}`), LIMITS))).toMatch(/number of values/);
    expect(limitError(() => scanJsonSync(bytes(`{${'"k":1,'.repeat(600)}"z":1}`), LIMITS))).toMatch(/number of values/);
    expect(() => scanJsonSync(bytes(`[${'1,'.repeat(998)}1]`), LIMITS)).not.toThrow();
  });

  it('parses what passes, and reports syntax errors as OFS_INFER_JSON', () => {
    expect(parseJsonBounded(bytes('{"ready":true,"x":["a\\"]",{"b":[1,2]}]}'), LIMITS)).toEqual({ ready: true, x: ['a"]', { b: [1, 2] }] });
    for (const bad of ['{"ready":', '[}', '"unterminated', ']]]', '{"a" "b"}', '\u0000']) {
      expect(() => parseJsonBounded(bytes(bad), LIMITS), bad).toThrow(/failed to parse the request JSON buffer/);
    }
  });
});

describe('scanJsonSync data spans', () => {
  const scan = (text: string) => scanJsonSync(bytes(text), LIMITS, { dataSpans: true });

  it('leaves numeric inputs[i].data in the bytes and cuts it to [] in the text', () => {
    const text = '{"id":"a","inputs":[{"name":"A","data":[1,-2.5e3,[3, 4]]},{"name":"B","data":["s"]},{"data":[true,false]}]}';
    const s = scan(text);
    expect(spanText(text, s.spans.get(0))).toBe('[1,-2.5e3,[3, 4]]');
    expect(s.spans.get(0)?.count).toBe(4);
    expect(s.spans.has(1)).toBe(false);
    expect(spanText(text, s.spans.get(2))).toBe('[true,false]');
    expect(JSON.parse(s.text)).toEqual({ id: 'a', inputs: [{ name: 'A', data: [] }, { name: 'B', data: ['s'] }, { data: [] }] });
  });

  it('exempts a numeric span from the depth limit but not anything else', () => {
    const deep = `{"inputs":[{"data":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]}`;
    expect(scan(deep).spans.get(0)?.count).toBe(1);
    const deepStrings = `{"inputs":[{"data":${'['.repeat(100)}"s"${']'.repeat(100)}}]}`;
    expect(limitError(() => scan(deepStrings))).toMatch(/nesting depth/);
  });

  it('counts only the span, not its numbers, against maxValues', () => {
    const text = `{"inputs":[{"data":[${'1,'.repeat(100_000)}1]}]}`;
    expect(scan(text).spans.get(0)?.count).toBe(100_001);
    expect(limitError(() => scanJsonSync(bytes(text), LIMITS))).toMatch(/number of values/);
  });

  it('gives up on a span that is not strictly JSON numbers and lets JSON.parse judge it', () => {
    for (const data of ['[01]', '[1.]', '[.5]', '[+1]', '[NaN]', '[1,,2]', '[1,]', '[1 2]', '[tru]', '[1e]', '[-]', '[1', '[[1]']) {
      const text = `{"inputs":[{"data":${data}}]}`;
      const s = scan(text);
      expect(s.spans.size, data).toBe(0);
      expect(() => JSON.parse(s.text), data).toThrow();
    }
    // Valid JSON that is not all numbers: parsed as usual.
    expect(JSON.parse(scan('{"inputs":[{"data":[1,null]}]}').text)).toEqual({ inputs: [{ data: [1, null] }] });
    expect(scan('{"inputs":[{"data":[]}]}').spans.get(0)?.count).toBe(0);
    expect(scan('{"inputs":[{"data":[[],[]]}]}').spans.get(0)?.count).toBe(0);
  });

  it('follows JSON.parse on repeated and escaped keys', () => {
    const twice = '{"inputs":[{"data":[1,2,3],"data":["x"]}]}';
    const s = scan(twice);
    expect(s.spans.size).toBe(0);
    // The replaced span is still cut, so its numbers are never parsed.
    expect(JSON.parse(s.text)).toEqual({ inputs: [{ data: ['x'] }] });
    const later = scan('{"inputs":[{"data":["x"],"data":[5]}]}');
    expect(later.spans.get(0)?.count).toBe(1);
    const inputsTwice = scan('{"inputs":[{"data":[1]}],"inputs":[{"name":"n"},{"data":[2,3]}]}');
    expect([...inputsTwice.spans.keys()]).toEqual([1]);
    const escaped = '{"\\u0069nputs":[{"d\\u0061ta":[7]}]}';
    expect(spanText(escaped, scan(escaped).spans.get(0))).toBe('[7]');
    // Not the root inputs: ordinary arrays.
    expect(scan('{"outputs":[{"data":[1]}]}').spans.size).toBe(0);
    expect(scan('[{"inputs":[{"data":[1]}]}]').spans.size).toBe(0);
    expect(scan('{"inputs":[{"x":{"data":[1]}}]}').spans.size).toBe(0);
  });

  it('scans the same in slices as in one go', async () => {
    const rnd = prng(7);
    const text = JSON.stringify({
      inputs: Array.from({ length: 5 }, (_, i) => ({
        name: `I${i}`,
        data: i === 3 ? ['a', 'b'] : Array.from({ length: 300 }, () => Math.round((rnd() - 0.5) * 1e6) / 1e3),
      })),
    });
    const whole = scanJsonSync(bytes(text), { maxDepth: 16, maxValues: 1e6 }, { dataSpans: true });
    const sliced = await scanJson(bytes(text), { maxDepth: 16, maxValues: 1e6 }, { dataSpans: true, sliceBytes: 7 });
    expect(sliced.text).toBe(whole.text);
    expect([...sliced.spans.entries()]).toEqual([...whole.spans.entries()]);
    expect(whole.spans.size).toBe(4);
  });
});

describe('jsonNumberAt', () => {
  it('reads numbers exactly as JSON.parse does', () => {
    const rnd = prng(99);
    const samples = ['0', '-0', '1', '-1', '0.1', '1e22', '1e23', '1.7976931348623157e308', '5e-324', '1e400', '-1e400', '123456789012345678901234567890',
      '0.30000000000000004', '9007199254740993', '2.5E-3', '1E+2', '0.000001234', '4.35', '3.14159265358979323846'];
    for (let i = 0; i < 3000; i++) {
      const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      samples.push(String(v), v.toFixed(Math.floor(rnd() * 10)), v.toExponential(Math.floor(rnd() * 16)), String(Math.fround(v)));
    }
    for (const text of samples) {
      const b = Buffer.from(text);
      expect(Object.is(jsonNumberAt(b, 0, b.length), JSON.parse(text)), text).toBe(true);
    }
  });
});

describe('dataSpanToBytes', () => {
  const decode = async (datatype: string, shape: number[], data: string, slice?: number) => {
    const text = `{"inputs":[{"data":${data}}]}`;
    const s = scanJsonSync(bytes(text), LIMITS, { dataSpans: true });
    const span = s.spans.get(0);
    if (!span) throw new Error(`no span in ${data}`);
    return dataSpanToBytes('X', datatype, shape, bytes(text), span, slice);
  };
  const same = async (datatype: string, values: unknown[]) => {
    const expected = jsonDataToBytes('X', datatype, [values.length], values);
    const got = await decode(datatype, [values.length], JSON.stringify(values), 3);
    expect(Buffer.from(got).equals(Buffer.from(expected)), `${datatype} ${JSON.stringify(values)}`).toBe(true);
  };

  it('gives the bytes jsonDataToBytes gives, for every JSON datatype', async () => {
    await same('FP32', [0.1, -2.5, 1e-40, 3.4e38, 0]);
    const negativeZero = await decode('FP64', [1], '[-0]');
    expect(Object.is(new Float64Array(negativeZero.buffer)[0], -0)).toBe(true);
    await same('FP64', [0.1, -2.5, 1e-300, 5e-324, 1.7976931348623157e308]);
    await same('INT8', [-128, 127, 0]);
    await same('UINT8', [0, 255]);
    await same('INT16', [-32768, 32767]);
    await same('UINT16', [65535]);
    await same('INT32', [-(2 ** 31), 2 ** 31 - 1]);
    await same('UINT32', [2 ** 32 - 1]);
    await same('INT64', [-(2 ** 53) + 1, 2 ** 53 - 1, -1, -(2 ** 32), 2 ** 32 + 5, 0]);
    await same('UINT64', [2 ** 53 - 1, 2 ** 32, 7]);
    await same('BOOL', [true, false, true]);
    const nested = await decode('INT32', [2, 2], '[[1,2],[3,4]]');
    expect(Array.from(new Int32Array(nested.buffer))).toEqual([1, 2, 3, 4]);
  });

  it('throws the messages jsonDataToBytes throws', async () => {
    const message = async (datatype: string, shape: number[], data: string) => {
      let viaSpan = '';
      let viaParse = '';
      try {
        await decode(datatype, shape, data);
      } catch (e) {
        viaSpan = (e as Error).message;
      }
      try {
        jsonDataToBytes('X', datatype, shape, JSON.parse(data));
      } catch (e) {
        viaParse = (e as Error).message;
      }
      expect(viaSpan, `${datatype} ${data}`).not.toBe('');
      expect(viaSpan, `${datatype} ${data}`).toBe(viaParse);
    };
    await message('FP32', [3], '[1,2]');
    await message('UINT8', [1], '[256]');
    await message('INT32', [1], '[1.5]');
    await message('INT64', [1], '[1e19]');
    await message('UINT64', [1], '[-1]');
    await message('BOOL', [1], '[1]');
    await message('FP32', [1], '[true]');
    await message('BYTES', [1], '[5]');
    await message('FP16', [1], '[1]');
    await message('FP33', [1], '[1]');
  });
});
