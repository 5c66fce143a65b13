import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';
import { isOfsError } from '../../../../src/errors.js';
import type { FromWorker, ToWorker } from '../../../../src/runtime/onnxruntime/protocol.js';
import { OrtSession, type WorkerLike } from '../../../../src/runtime/onnxruntime/session.js';

/** Stands in for the worker thread so a test can crash it, answer out of order, or watch transfers. */
class FakeWorker extends EventEmitter implements WorkerLike {
  readonly posted: { msg: ToWorker; transfer: readonly ArrayBuffer[] }[] = [];
  terminated = false;
  postMessage(msg: ToWorker, transfer: readonly ArrayBuffer[] = []): void {
    this.posted.push({ msg, transfer });
    if (msg.type === 'close') queueMicrotask(() => this.emit('exit', 0));
  }
  reply(msg: FromWorker): void {
    this.emit('message', msg);
  }
  async terminate(): Promise<number> {
    this.terminated = true;
    return 1;
  }
}

const input: Tensor = { name: 'x', datatype: 'FP32', shape: [1], data: new Uint8Array(4) };

function runIds(w: FakeWorker): number[] {
  return w.posted.flatMap(({ msg }) => (msg.type === 'run' ? [msg.id] : []));
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: Error) => e,
  );
}

describe('OrtSession', () => {
  it('matches replies to runs by id, whatever order they come back in', async () => {
    const w = new FakeWorker();
    const s = new OrtSession(w, [], []);
    const a = s.run([input]);
    const b = s.run([input], ['y']);
    const [idA, idB] = runIds(w) as [number, number];
    const out = (name: string): Tensor => ({ name, datatype: 'FP32', shape: [1], data: new Uint8Array(4) });
    w.reply({ type: 'result', id: idB, outputs: [out('from-b')], inputs: [] });
    w.reply({ type: 'run-failed', id: idA, message: 'boom', inputs: [] });
    expect((await b)[0]!.name).toBe('from-b');
    const e = await failure(a);
    expect(isOfsError(e) && e.code).toBe('OFS_BACKEND_FAILED');
    expect(e.message).toBe('inference failed: boom');
    expect(w.posted[1]!.msg).toMatchObject({ type: 'run', outputNames: ['y'] });
  });

  it('transfers a private copy of each input, never the caller’s buffer', () => {
    const w = new FakeWorker();
    const s = new OrtSession(w, [], []);
    const big = new Uint8Array(16);
    void s.run([{ ...input, data: big.subarray(4, 8) }]);
    const { msg, transfer } = w.posted[0]!;
    const sent = (msg as Extract<ToWorker, { type: 'run' }>).inputs[0]!.data;
    expect(transfer).toEqual([sent.buffer]);
    expect(sent.buffer).not.toBe(big.buffer);
    expect(sent.byteOffset).toBe(0);
    expect(sent.byteLength).toBe(4);
  });

  it('stages the next run in the buffer the worker handed back, and copies the new values into it', async () => {
    const w = new FakeWorker();
    const s = new OrtSession(w, [], []);
    const sent = (i: number) => (w.posted[i]!.msg as Extract<ToWorker, { type: 'run' }>).inputs[0]!.data;
    const first = s.run([{ ...input, data: new Uint8Array([1, 2, 3, 4]) }]);
    const staged = sent(0).buffer as ArrayBuffer;
    w.reply({ type: 'result', id: runIds(w)[0]!, outputs: [], inputs: [staged] });
    await first;
    void s.run([{ ...input, data: new Uint8Array([5, 6, 7, 8]) }]);
    expect(sent(1).buffer).toBe(staged);
    expect(Array.from(sent(1))).toEqual([5, 6, 7, 8]);
    // Two runs in flight never share a staging buffer.
    void s.run([{ ...input, data: new Uint8Array([9, 9, 9, 9]) }]);
    expect(sent(2).buffer).not.toBe(staged);
  });

  it('rejects every pending run and every later run when the worker crashes', async () => {
    const w = new FakeWorker();
    const s = new OrtSession(w, [], []);
    const pending = [s.run([input]), s.run([input])];
    const settled = Promise.allSettled(pending);
    w.emit('error', new Error('segfault-ish'));
    for (const r of await settled) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason as Error;
      expect(isOfsError(e) && e.code).toBe('OFS_BACKEND_FAILED');
      expect(e.message).toMatch(/worker crashed: segfault-ish/);
    }
    expect((await failure(s.run([input]))).message).toMatch(/worker crashed/);
    // A result arriving after the crash is ignored rather than resolving a rejected run.
    w.reply({ type: 'result', id: 1, outputs: [], inputs: [] });
  });

  it('treats an unexpected worker exit as a crash', async () => {
    const w = new FakeWorker();
    const s = new OrtSession(w, [], []);
    const p = failure(s.run([input]));
    w.emit('exit', 7);
    expect((await p).message).toMatch(/exited with code 7/);
    expect((await failure(s.run([input]))).message).toMatch(/exited with code 7/);
  });

  it('dispose asks the worker to close and waits for it to exit', async () => {
    const w = new FakeWorker();
    const s = new OrtSession(w, [{ name: 'x', dtype: 'FP32', shape: [-1] }], []);
    expect(s.inputs[0]!.name).toBe('x');
    await s.dispose();
    expect(w.posted.map((p) => p.msg.type)).toEqual(['close']);
    expect(w.terminated).toBe(false);
    expect((await failure(s.run([input]))).message).toMatch(/unloaded/);
  });
});
