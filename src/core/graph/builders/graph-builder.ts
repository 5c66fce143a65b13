import type { Attr, Graph, Initializer, Node, ValueInfo } from '../ir.js';
import { IR_OPSET } from '../ir.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a Float32Array; a view (no copy) on little-endian hosts. */
export function float32Bytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}

/** Little-endian INT64 bytes of small integers (shape constants and the like). */
export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

/**
 * Accumulates nodes and initializers in the order they are added, so a builder that adds each layer
 * after the ones it consumes gets a topologically sorted graph for free.
 */
export class GraphBuilder {
  readonly #nodes: Node[] = [];
  readonly #initializers: Initializer[] = [];
  readonly #names = new Set<string>();

  /** Adds an FP32 constant and returns its name, for use as a node input. */
  float32(name: string, shape: readonly number[], values: Float32Array): string {
    const expected = shape.reduce((a, b) => a * b, 1);
    if (values.length !== expected) throw new Error(`initializer ${name}: ${values.length} values for shape [${shape.join(',')}]`);
    return this.#addInitializer({ name, dtype: 'FP32', shape: [...shape], data: float32Bytes(values) });
  }

  int64(name: string, values: readonly number[]): string {
    return this.#addInitializer({ name, dtype: 'INT64', shape: [values.length], data: int64Bytes(values) });
  }

  /** Adds a node whose single output value is named after the node; returns that value name. */
  node(op: string, name: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, output = name): string {
    this.#nodes.push({ op, name, inputs: [...inputs], outputs: [output], attrs });
    return output;
  }

  build(name: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], opset = IR_OPSET): Graph {
    return { name, inputs, outputs, nodes: [...this.#nodes], initializers: [...this.#initializers], opset };
  }

  #addInitializer(init: Initializer): string {
    // Builders are code, so a duplicate name is a programming error, not bad input.
    if (this.#names.has(init.name)) throw new Error(`duplicate initializer ${init.name}`);
    this.#names.add(init.name);
    this.#initializers.push(init);
    return init.name;
  }
}
