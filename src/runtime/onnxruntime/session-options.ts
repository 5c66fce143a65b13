import type { InferenceSession } from 'onnxruntime-node';
import type { WorkerConfig } from './protocol.js';

/**
 * The onnxruntime session options a worker builds its session with; apart from the worker so the
 * spinning settings can be checked without a session.
 *
 * onnxruntime's pool threads spin between operators by default. In a server they would spin on the
 * cores the event loop, the other instances and the clients need, so they do not here unless the model
 * asks (parameters["session.intra_op.allow_spinning"]). Then force_spinning_stop parks them as soon as
 * a run returns, so only the run itself spins: 0.4–1.2 ms less at concurrency 1, and a quarter of the
 * throughput lost once two models' threads share the cores (bench/README.md, spinning).
 */
export function sessionOptionsOf(config: WorkerConfig): InferenceSession.SessionOptions {
  const spinning = config.spinning === true;
  return {
    intraOpNumThreads: config.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    extra: {
      session: {
        intra_op: { allow_spinning: spinning ? '1' : '0' },
        // Runs are sequential (one inter-op thread): nothing there to spin.
        inter_op: { allow_spinning: '0' },
        ...(spinning ? { force_spinning_stop: '1' } : {}),
      },
    },
  };
}
