import { readFile, stat } from 'node:fs/promises';
import { isOfsError, ofsError } from '../errors.js';
import { elementCount, type WireDatatype } from '../core/tensor/dtype.js';
import { jsonDataToBytes } from '../protocol/json-tensor.js';
import type { InferInput } from '../client/infer-input.js';
import type { ModelMetadata } from '../client/v2-types.js';

/**
 * perf's --input-data: 'random' (seeded, the default), 'zero', or a JSON file in perf_analyzer's format,
 * `{"data": [ {"INPUT": [..] | {"content": [..], "shape": [..]} | {"b64": "…"}}, … ]}`, one object per
 * request step; requests cycle through the steps, and a batch of b takes b consecutive steps.
 */

/** A larger file is not an input set a person wrote: refuse it before reading it into memory. */
const MAX_INPUT_DATA_BYTES = 512 * 1024 * 1024;

export type InputDataSpec = { readonly kind: 'random' } | { readonly kind: 'zero' } | { readonly kind: 'file'; readonly path: string };

export function parseInputData(value: string | undefined): InputDataSpec {
  if (value === undefined || value === 'random') return { kind: 'random' };
  if (value === 'zero') return { kind: 'zero' };
  return { kind: 'file', path: value };
}

/** Reads and checks the file's shape: names and kinds of values, not yet their datatypes (that needs metadata). */
export async function readInputDataFile(path: string): Promise<unknown[]> {
  const fail = (why: string) => ofsError('OFS_BAD_ARGUMENT', `--input-data ${path}: ${why}`);
  const info = await stat(path).catch(() => undefined);
  if (!info || !info.isFile()) throw fail("no such file (give 'random', 'zero' or a JSON file in perf_analyzer's format)");
  if (info.size > MAX_INPUT_DATA_BYTES) throw fail(`the file is ${info.size} bytes, more than ${MAX_INPUT_DATA_BYTES}`);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw fail(`not JSON (${(e as Error).message})`);
  }
  const data = (doc as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length === 0) throw fail('expected {"data": [ {"INPUT_NAME": [values…]}, … ]} with at least one step');
  return data;
}

/**
 * The requests of a run, built from the file's steps: each input's values at its dims (declared, or the
 * step's "shape", or --shape), b consecutive steps per batch.
 */
export function requestsFromInputData(
  path: string,
  steps: readonly unknown[],
  metadata: ModelMetadata,
  maxBatchSize: number,
  batchSize: number,
  shapes: Readonly<Record<string, readonly number[]>>,
): InferInput[][] {
  const fail = (step: number, why: string) => ofsError('OFS_BAD_ARGUMENT', `--input-data ${path}: data[${step}]: ${why}`);
  const encoded = steps.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail(i, 'each step must be an object of input name → values');
    const step = raw as Record<string, unknown>;
    return metadata.inputs.map((input) => {
      if (!Object.hasOwn(step, input.name)) throw fail(i, `no values for input '${input.name}'`);
      const value = step[input.name];
      const declared = maxBatchSize > 0 ? input.shape.slice(1) : [...input.shape];
      let content: unknown = value;
      let dims = declared.map((d, k) => (d >= 0 ? d : shapes[input.name]?.[k] ?? -1));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const v = value as { content?: unknown; shape?: unknown; b64?: unknown };
        if (typeof v.b64 === 'string') {
          const bytes = Buffer.from(v.b64, 'base64');
          return { name: input.name, datatype: input.datatype as WireDatatype, dims, data: new Uint8Array(bytes) };
        }
        content = v.content;
        if (v.shape !== undefined) {
          if (!Array.isArray(v.shape) || v.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) throw fail(i, `input '${input.name}': "shape" must be non-negative integers`);
          dims = v.shape as number[];
        }
      }
      if (!Array.isArray(content)) throw fail(i, `input '${input.name}' must be an array, {"content": [..], "shape": [..]} or {"b64": "…"}`);
      if (dims.some((d) => d < 0)) throw fail(i, `input '${input.name}' has variable dims [${declared.join(',')}]; give "shape" in the step or --shape`);
      const flat = (content as unknown[]).flat(Infinity);
      // perf_analyzer accepts a flat list for any shape; the JSON codec wants the element count only.
      if (flat.length !== elementCount(dims)) throw fail(i, `input '${input.name}' has ${flat.length} values, its shape [${dims.join(',')}] needs ${elementCount(dims)}`);
      try {
        return { name: input.name, datatype: input.datatype as WireDatatype, dims, data: jsonDataToBytes(input.name, input.datatype, dims, flat) };
      } catch (e) {
        throw fail(i, `input '${input.name}' (${input.datatype}): ${isOfsError(e) ? e.message : String(e)}`);
      }
    });
  });

  const requests: InferInput[][] = [];
  const perRequest = maxBatchSize > 0 ? batchSize : 1;
  // One request per step (its batch starting there), so every step is sent.
  for (let start = 0; start < encoded.length; start++) {
    const batch = Array.from({ length: perRequest }, (_, k) => encoded[(start + k) % encoded.length]);
    requests.push(
      metadata.inputs.map((input, j) => {
        const parts = batch.map((s) => s[j]);
        if (parts.some((p) => p.dims.join(',') !== parts[0].dims.join(','))) throw fail(start, `input '${input.name}': the steps batched together have different shapes`);
        const data = new Uint8Array(parts.reduce((n, p) => n + p.data.byteLength, 0));
        let at = 0;
        for (const p of parts) {
          data.set(p.data, at);
          at += p.data.byteLength;
        }
        return { name: input.name, datatype: parts[0].datatype, shape: maxBatchSize > 0 ? [perRequest, ...parts[0].dims] : [...parts[0].dims], data };
      }),
    );
  }
  return requests;
}

/** --input-data zero: the random request with every byte 0 (for BYTES: empty strings, each a 0 length prefix). */
export function zeroed(inputs: readonly InferInput[]): InferInput[] {
  return inputs.map((i) => ({ ...i, data: new Uint8Array(i.datatype === 'BYTES' ? 4 * elementCount(i.shape) : i.data.byteLength) }));
}
