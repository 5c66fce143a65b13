// Plain-Node smoke test of a built addon (no node_modules, no TypeScript): init(), then the hand-worked
// conv 1x1 + relu + gemm plan of test/fixtures/native-plans.ts (tinyPlan), checked against its hand values.
//   node native/test/smoke.mjs [path/to/ofserve_native.node]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const addonPath = process.argv[2] ?? fileURLToPath(new URL('../build/Release/ofserve_native.node', import.meta.url));
const addon = createRequire(import.meta.url)(addonPath);
console.log(`smoke: loaded ${addonPath}: exports ${Object.keys(addon).sort().join(', ')}`);

const info = addon.init();
console.log(`smoke: init ${JSON.stringify(info)}`);

const plan = {
  version: 1,
  input: { name: 'INPUT_0', tensor: 0 },
  output: { name: 'OUTPUT_0', tensor: 2 },
  tensors: [
    { id: 0, shape: [2, 1, 2] },
    { id: 1, shape: [2, 1, 2] },
    { id: 2, shape: [2] },
  ],
  steps: [
    {
      op: 'conv', x: 0, y: 1, weight: { offset: 0, length: 4, shape: [2, 2, 1, 1] }, bias: { offset: 4, length: 2 },
      strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1, relu: true,
    },
    { op: 'gemm', x: 1, y: 2, weight: { offset: 6, length: 8, shape: [2, 4] }, bias: { offset: 14, length: 2 }, relu: false },
  ],
  weightCount: 16,
};
const weights = new Float32Array([1, 1, -1, 1, 0, 0.5, 1, 2, 3, 4, -1, 0, 1, 0, 0.5, -0.25]);
const input = new Float32Array([1, -2, 3, 0.5, -1, 2, -3, -0.5]);
const expected = [24, -1.75, 3.5, -0.25];

const session = addon.createSession(JSON.stringify(plan), weights, 0, 4);
try {
  const out = await addon.run(session, input, 2);
  console.log(`smoke: tiny plan -> [${Array.from(out).join(', ')}], expected [${expected.join(', ')}]`);
  if (!(out instanceof Float32Array) || out.length !== 4 || expected.some((v, i) => Math.abs(out[i] - v) > 1e-5)) {
    console.error('smoke: FAILED: wrong result');
    process.exit(1);
  }
  let rejected = '';
  await addon.run(session, new Float32Array(3), 1).catch((e) => { rejected = e.message; });
  if (!/input has 3 floats/.test(rejected)) {
    console.error(`smoke: FAILED: a bad input was not rejected with a message (got '${rejected}')`);
    process.exit(1);
  }
} finally {
  addon.releaseSession(session);
}
console.log('smoke: OK');
