import { ofsError } from '../../errors.js';
import type { Backend, DeviceKind, ModelSource, Session, SessionOptions } from '../../core/backend.js';
import { BACKEND_IMAGE } from '../../core/config/constants.js';
import { readImagePreprocess } from '../../core/config/image-preprocess.js';
import { formatProblem } from '../../core/problem.js';
import { ImageSession } from './session.js';

/**
 * The built-in `image_preprocess` backend: encoded images (BYTES) in, a tensor out, settings from the
 * config's parameters. Registered by name: only a config with `backend: "image_preprocess"` runs here.
 */
export class ImagePreprocessBackend implements Backend {
  readonly name = BACKEND_IMAGE;

  async devices(): Promise<readonly DeviceKind[]> {
    return ['cpu'];
  }

  async createSession(source: ModelSource, _options: SessionOptions): Promise<Session> {
    if (!source.config) throw ofsError('OFS_SESSION_CREATE_FAILED', source.model, source.version, this.name, 'the image backend needs the model config');
    const { settings, problems } = readImagePreprocess(source.config, `${source.model}/config.pbtxt`);
    if (!settings) {
      const why = problems.filter((p) => p.severity === 'error').map(formatProblem).join('; ');
      throw ofsError('OFS_SESSION_CREATE_FAILED', source.model, source.version, this.name, why);
    }
    return new ImageSession(source.model, settings, source.graph.inputs, source.graph.outputs);
  }
}
