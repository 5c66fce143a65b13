/**
 * The TypeScript shape of the native addon (native/ofserve_native.node), after onnxruntime-node's
 * binding.ts: declared once, next to the only place that loads it (loader.ts). Every method is
 * documented [sync] or [async]; errors are thrown (sync) or rejected (async) as Error with a message
 * starting with the CUDA/cuDNN/cuBLAS call that failed.
 */
export interface NativeDeviceInfo {
  readonly ordinal: number;
  readonly name: string;
  readonly totalMemoryBytes: number;
  readonly computeCapability: string;
}

export interface NativeBinding {
  /** [sync] Loads CUDA runtime, cuDNN and cuBLAS (dlopen) and lists the devices. Throws when unusable. */
  init(): { readonly devices: readonly NativeDeviceInfo[]; readonly cudnnVersion: number; readonly cublasVersion: number };
  /**
   * [sync] Uploads the weights and prepares descriptors for batches up to `maxBatch` on `device`.
   * @param planJson JSON.stringify(NativePlan)
   * @param weights float32 blob of NativePlan.weightCount elements
   * @returns an opaque session handle
   */
  createSession(planJson: string, weights: Float32Array, device: number, maxBatch: number): NativeSessionHandle;
  /**
   * [async] Runs the plan on `batch` samples (input: batch × input tensor size float32, NCHW).
   * Resolves with the output tensor (batch × output size float32). Runs on a worker thread of the
   * addon; calls on one session are serialized by the addon.
   */
  run(session: NativeSessionHandle, input: Float32Array, batch: number): Promise<Float32Array>;
  /** [sync] Frees the session's GPU memory. Idempotent. */
  releaseSession(session: NativeSessionHandle): void;
}

/** Opaque handle owned by the addon (a napi external). */
export interface NativeSessionHandle {
  readonly __nativeSession: unique symbol;
}
