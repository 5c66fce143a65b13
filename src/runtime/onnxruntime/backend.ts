import { ofsError } from '../../errors.js';
import type { Backend, DeviceKind, ModelSource, Session, SessionOptions } from '../../core/backend.js';
import { writeOnnxModel } from '../../core/graph/onnx-writer.js';
import { OrtSession } from './session.js';
import { startWorker } from './spawn.js';

/** onnxruntime-node on CPU, one worker thread per session. */
export class OrtBackend implements Backend {
  readonly name = 'onnxruntime';

  async devices(): Promise<readonly DeviceKind[]> {
    return ['cpu'];
  }

  async createSession(source: ModelSource, options: SessionOptions): Promise<Session> {
    const model = source.onnx ?? writeOnnxModel(source.graph);
    const started = await startWorker({ intraOpThreads: options.threads || 1, spinning: options.spinning === true }, model);
    if (!started.ok) throw ofsError('OFS_SESSION_CREATE_FAILED', source.model, source.version, this.name, started.message);
    return new OrtSession(started.worker, source.graph.inputs, source.graph.outputs);
  }
}
