// What the benchmarks print about the machine: machines differ from session to session, and a speed
// figure means little without the CPU and the vector/matrix extensions onnxruntime can use on it.
import { readFileSync } from 'node:fs';
import os from 'node:os';

const EXTENSIONS = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16'];

export function cpuSummary() {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: the model name from os.cpus() still says something
  }
  const flags = new Set((text.match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
  return {
    model: text.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model,
    cores: os.availableParallelism(),
    extensions: EXTENSIONS.filter((f) => flags.has(f)),
    loadavg: os.loadavg().map((l) => Number(l.toFixed(1))),
  };
}
