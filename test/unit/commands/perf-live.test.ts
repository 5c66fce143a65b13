import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { formatPerfLevel, isStable, perf, type PerfEvent, type PerfWindow } from '../../../src/commands/perf.js';
import { fakeClassifier, startFakeServer, type FakeServer } from '../client/fake-triton.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const win = (throughput: number, latencyUs: number, requestCount = 10): PerfWindow => ({ requestCount, elapsedMs: 100, throughput, latencyUs });

describe('isStable (perf_analyzer: throughput and latency within the % of their mean)', () => {
  it('accepts windows within the bound and refuses one outside it', () => {
    expect(isStable([win(100, 1000), win(105, 1040), win(96, 980)], 10)).toBe(true);
    expect(isStable([win(100, 1000), win(130, 1000), win(100, 1000)], 10)).toBe(false);
    expect(isStable([win(100, 1000), win(100, 1400), win(100, 1000)], 10)).toBe(false);
    // A window in which nothing completed says nothing about stability.
    expect(isStable([win(0, 0, 0), win(0, 0, 0), win(0, 0, 0)], 10)).toBe(false);
  });
});

describe('perf stabilization and live events', () => {
  it('measures windows until stable, at most --max-trials, and says when it did not stabilize', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 0, labels: ['a'] }));
    const events: PerfEvent[] = [];
    // Count windows of 5 requests with a 0.0001 % bound: never stable on a real machine.
    const result = await perf({
      model: 'fake',
      url: server.url,
      measurementMode: 'count_windows',
      measurementRequestCount: 5,
      maxTrials: 4,
      stabilityPercentage: 0.0001,
      percentile: 95,
      onEvent: (e) => events.push(e),
    });
    const level = result.levels[0];
    expect(level).toMatchObject({ trials: 4, stable: false, requestCount: 15 }); // the last 3 windows of 5
    expect(level.latencyUs.percentiles?.[95]).toBeGreaterThan(0);
    expect(result.stabilization).toEqual({ mode: 'count_windows', stabilityPercentage: 0.0001, maxTrials: 4, windowRequests: 5 });
    expect(events.map((e) => e.type)).toEqual(['start', ...Array(4).fill(['window-start', 'window']).flat(), 'level']);
    expect(formatPerfLevel(level, 95)).toMatch(/WARNING: no stable measurement within 4 windows for concurrency 1/);
    expect(formatPerfLevel(level, 95)).toMatch(/ {4}p95 latency: \d+ usec/);
  });

  it('refuses bad stabilization flags before any request', async () => {
    await expect(perf({ model: 'm', maxTrials: 2 })).rejects.toThrow(/--max-trials must be at least 3/);
    await expect(perf({ model: 'm', percentile: 100 })).rejects.toThrow(/--percentile must be an integer from 1 to 99/);
    await expect(perf({ model: 'm', stabilityPercentage: Number.NaN })).rejects.toThrow(/--stability-percentage/);
    await expect(perf({ model: 'm', measurementMode: 'windows' })).rejects.toThrow(/--measurement-mode must be time_windows or count_windows/);
  });
});

describe('ofserve perf on a non-TTY', () => {
  it('prints the settings first and each level block as that level ends, not all at the end', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 0, labels: ['a'] }));
    const s = server;
    const out: { text: string; infersSoFar: number }[] = [];
    const infers = () => s.requests.filter((r) => r.url.endsWith('/infer')).length;
    await main(['node', 'ofserve', 'perf', '-m', 'fake', '-u', s.url, '--concurrency-range', '1:2', '--request-count', '6'], {
      stdout: (text) => out.push({ text, infersSoFar: infers() }),
      stderr: () => undefined,
    });
    expect(out).toHaveLength(4);
    expect(out[0].text).toMatch(/^\*\*\* Measurement Settings \*\*\*/);
    expect(out[0].infersSoFar).toBeLessThanOrEqual(1); // only the unmeasured check request before it
    expect(out[1].text).toMatch(/^Request concurrency: 1\n/);
    expect(out[1].infersSoFar).toBe(1 + 6); // printed before concurrency 2 sent anything
    expect(out[2].text).toMatch(/^Request concurrency: 2\n/);
    expect(out[3].text).toMatch(/^Inferences\/Second vs\. Client Average Batch Latency\nConcurrency: 1, /);
  });
});

describe('perf -f CSV and --plot SVG', () => {
  it('writes perf_analyzer\'s CSV columns, an SVG curve, and the curve in --json', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'ofserve-perf-files-'));
    try {
      server = await startFakeServer(fakeClassifier({ maxBatchSize: 2, labels: ['a'], statistics: true }));
      const out: string[] = [];
      const csv = join(dir, 'perf.csv');
      const svg = join(dir, 'perf.svg');
      await main(['node', 'ofserve', 'perf', '-m', 'fake', '-u', server.url, '--concurrency-range', '1:2', '--request-count', '4', '-f', csv, '--plot', svg, '--json'], {
        stdout: (t) => out.push(t),
        stderr: () => undefined,
      });
      const lines = (await readFile(csv, 'utf8')).trim().split('\n');
      expect(lines[0]).toBe(
        'Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency',
      );
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['1', '2']);
      expect(lines[1].split(',')[4]).toBe('1'); // the fake's 1 µs of queue per execution
      const json = JSON.parse(out.join('')) as { curve: { concurrency: number; p99Us: number }[]; levels: { latencyUs: { p99: number } }[] };
      expect(json.curve.map((p) => p.concurrency)).toEqual([1, 2]);
      expect(json.curve[1].p99Us).toBe(json.levels[1].latencyUs.p99);
      const plot = await readFile(svg, 'utf8');
      expect(plot).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      for (const name of ['p50', 'p90', 'p99']) expect(plot).toMatch(new RegExp(`<polyline class="${name}"[^>]* points="[\\d.]+,[\\d.]+ [\\d.]+,[\\d.]+"`));
      await expect(
        main(['node', 'ofserve', 'perf', '-m', 'fake', '-u', server.url, '--request-count', '1', '--plot', join(dir, 'no', 'such', 'dir.svg')], {
          stdout: () => undefined,
          stderr: (t) => out.push(t),
        }),
      ).resolves.toBeUndefined();
      expect(out.join('')).toMatch(/--plot .*dir\.svg: cannot write the file \(ENOENT\)/);
      expect(process.exitCode).not.toBe(0);
      process.exitCode = undefined; // main() sets it as the CLI would; vitest must not exit with it
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('perf --input-data', () => {
  const floats = (buf: Buffer | undefined) => Array.from(new Float32Array(new Uint8Array(buf ?? Buffer.alloc(0)).slice().buffer));

  it('sends zeros with zero, and cycles through the steps of a perf_analyzer JSON file, b steps per batch', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { parseInferRequest } = await import('../client/fake-triton.js');
    const dir = await mkdtemp(join(tmpdir(), 'ofserve-perf-data-'));
    try {
      server = await startFakeServer(fakeClassifier({ maxBatchSize: 4, labels: ['a'], dims: [3, 1, 1] }));
      await perf({ model: 'fake', url: server.url, requestCount: 2, inputData: 'zero' });
      const zero = server.requests.filter((r) => r.url.endsWith('/infer')).map(parseInferRequest);
      expect(floats(zero[1].blocks.get('INPUT_0'))).toEqual([0, 0, 0]);

      const file = join(dir, 'data.json');
      // Three steps: a plain array, content+shape, and a nested array (flattened as perf_analyzer does).
      await writeFile(file, JSON.stringify({ data: [{ INPUT_0: [1, 2, 3] }, { INPUT_0: { content: [4, 5, 6], shape: [3, 1, 1] } }, { INPUT_0: [[[7]], [[8]], [[9]]] }] }));
      await server.close();
      server = await startFakeServer(fakeClassifier({ maxBatchSize: 4, labels: ['a'], dims: [3, 1, 1] }));
      await perf({ model: 'fake', url: server.url, requestCount: 3, batchSize: 2, inputData: file });
      const sent = server.requests.filter((r) => r.url.endsWith('/infer')).map(parseInferRequest);
      expect(sent[0].json.inputs[0].shape).toEqual([2, 3, 1, 1]);
      // Requests go round the steps: 0+1, 1+2, 2+0, 0+1 (the first is perf's unmeasured check).
      expect(sent.map((r) => floats(r.blocks.get('INPUT_0')))).toEqual([
        [1, 2, 3, 4, 5, 6],
        [4, 5, 6, 7, 8, 9],
        [7, 8, 9, 1, 2, 3],
        [1, 2, 3, 4, 5, 6],
      ]);

      // Bad files name the file, the step and the input.
      await writeFile(file, JSON.stringify({ data: [{ INPUT_0: [1, 2] }] }));
      await expect(perf({ model: 'fake', url: server.url, requestCount: 1, inputData: file })).rejects.toThrow(/data\[0\]: input 'INPUT_0' has 2 values, its shape \[3,1,1\] needs 3/);
      await writeFile(file, JSON.stringify({ data: [{ OTHER: [1, 2, 3] }] }));
      await expect(perf({ model: 'fake', url: server.url, requestCount: 1, inputData: file })).rejects.toThrow(/data\[0\]: no values for input 'INPUT_0'/);
      await writeFile(file, JSON.stringify({ data: [{ INPUT_0: ['x', 2, 3] }] }));
      await expect(perf({ model: 'fake', url: server.url, requestCount: 1, inputData: file })).rejects.toThrow(/data\[0\]: input 'INPUT_0' \(FP32\)/);
      await writeFile(file, '{"data": 3}');
      await expect(perf({ model: 'fake', url: server.url, requestCount: 1, inputData: file })).rejects.toThrow(/expected \{"data": \[/);
      await expect(perf({ model: 'fake', url: server.url, requestCount: 1, inputData: join(dir, 'none.json') })).rejects.toThrow(/--input-data .*none\.json: no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('perf --request-rate-range (open loop)', () => {
  it('starts requests on schedule without waiting for answers, and caps what is in flight', async () => {
    const { runOpenLoop } = await import('../../../src/client/load-generator.js');
    let inFlight = 0;
    let most = 0;
    const slow = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 300));
      inFlight--;
    };
    const m = await runOpenLoop(slow, { rate: 200, distribution: 'constant', random: Math.random, requestCount: 5 });
    expect(m.latenciesUs).toHaveLength(5);
    expect(most).toBe(5); // a closed loop of one client would never have two outstanding
    most = 0;
    const capped = await runOpenLoop(slow, { rate: 1000, distribution: 'poisson', random: () => 0.5, requestCount: 4, maxInFlight: 2 });
    expect(most).toBe(2);
    expect(capped.delayed).toBe(2);
  });

  it('measures each rate level and reports it perf_analyzer\'s way', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 0, labels: ['a'] }));
    const { formatPerfReport } = await import('../../../src/commands/perf.js');
    const result = await perf({ model: 'fake', url: server.url, requestRateRange: '40:80:40', requestDistribution: 'poisson', requestCount: 8 });
    expect(result.requestRate).toEqual({ start: 40, end: 80, step: 40, distribution: 'poisson' });
    expect(result.levels.map((l) => [l.requestRate, l.requestCount])).toEqual([
      [40, 8],
      [80, 8],
    ]);
    const text = formatPerfReport(result);
    expect(text).toContain('Request Rate range: 40:80:40 (poisson distribution)');
    expect(text).toContain('Using asynchronous calls for inference');
    expect(text).toMatch(/^Request Rate: 80, throughput: \d+\.\d\d infer\/sec/m);
    await expect(perf({ model: 'fake', url: server.url, requestRateRange: '0:5' })).rejects.toThrow(/--request-rate-range '0:5'/);
    await expect(perf({ model: 'fake', url: server.url, requestRateRange: '5', requestDistribution: 'uniform' })).rejects.toThrow(/--request-distribution/);
    await expect(perf({ model: 'fake', url: server.url, requestRateRange: '5', concurrencyRange: '1:4' })).rejects.toThrow(/not both/);
  });
});
