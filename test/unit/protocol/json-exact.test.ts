import { describe, expect, it } from 'vitest';
import { parseJsonExact, stringifyJsonExact } from '../../../src/protocol/json-exact.js';

describe('parseJsonExact', () => {
  it('is JSON.parse for ordinary text', () => {
    const text = '{"a":[1,2.5,-3e2,"x"],"b":{"c":null,"d":true}}';
    expect(parseJsonExact(text)).toEqual(JSON.parse(text));
  });

  it('keeps integers beyond 2^53 exact as bigint, and leaves safe ones as numbers', () => {
    const text = '{"data":[9007199254740993,-9223372036854775808,18446744073709551615,9007199254740991,1]}';
    expect(parseJsonExact(text)).toEqual({
      data: [9007199254740993n, -9223372036854775808n, 18446744073709551615n, 9007199254740991, 1],
    });
  });

  it('leaves digits inside strings, long fractions and exponents alone', () => {
    const text = '{"id":"12345678901234567890","f":[0.12345678901234567891,1.5e300,12345678901234567890.5]}';
    expect(parseJsonExact(text)).toEqual({ id: '12345678901234567890', f: [0.12345678901234567891, 1.5e300, 12345678901234567890.5] });
  });

  it("does not turn a sender's own marker-like strings into numbers", () => {
    const text = '{"s":"\\u0000int:000000000000:5","n":12345678901234567890}';
    const v = parseJsonExact(text) as { s: string; n: bigint };
    expect(v.s).toBe('\u0000int:000000000000:5');
    expect(v.n).toBe(12345678901234567890n);
  });

  it('still rejects malformed JSON', () => {
    expect(() => parseJsonExact('{"a":12345678901234567890')).toThrow(SyntaxError);
  });
});

describe('stringifyJsonExact', () => {
  it('writes bigints as bare integer literals, the rest as JSON.stringify', () => {
    expect(stringifyJsonExact({ a: [1, 'x'], b: -9223372036854775808n, c: [18446744073709551615n] })).toBe(
      '{"a":[1,"x"],"b":-9223372036854775808,"c":[18446744073709551615]}',
    );
    expect(stringifyJsonExact({ s: 'no bigint here' })).toBe('{"s":"no bigint here"}');
  });

  it('round-trips with parseJsonExact', () => {
    const value = { data: [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 7], s: '99999999999999999999' };
    expect(parseJsonExact(stringifyJsonExact(value))).toEqual(value);
  });
});
