import type { ComputeDurations } from '../stats/model-stats.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * One inference request as the scheduler sees it: already validated against the model's IO, inputs
 * with concrete shapes (batch dimension first when the model batches).
 */
export interface InferRequest {
  readonly inputs: readonly Tensor[];
  /** Output names to compute; undefined = all. */
  readonly outputs?: readonly string[];
  /** Batch size of this request (1 for models with max_batch_size 0). */
  readonly batchSize: number;
  /** When the request entered the server (process.hrtime.bigint() ns), for queue-time stats. */
  readonly receivedNs: bigint;
  /**
   * Aborts when the client has gone (closed HTTP connection, cancelled gRPC call). While the request
   * is still queued the scheduler drops it and rejects with OFS_REQUEST_CANCELLED (counted as a
   * CANCELED failure); once it is executing it runs to the end, as in Triton.
   */
  readonly signal?: AbortSignal;
  /** The request's `priority` parameter (0 or absent: the model's default level). */
  readonly priority?: number;
  /** The request's `timeout` parameter in microseconds (0 or absent: the queue policy's default). */
  readonly timeoutUs?: number;
}

/** Where a request's time went inside the server, summed over an ensemble's steps. */
export interface RequestTiming {
  readonly queueNs: number;
  readonly compute: ComputeDurations;
}

export interface InferResult {
  readonly outputs: Tensor[];
  /** Set by schedulers that executed it; an ensemble sums its steps' into its own statistics. */
  readonly timing?: RequestTiming;
}

/** After Triton's src/scheduler.h: enqueue work, report what is in flight, stop draining. */
export interface Scheduler {
  enqueue(request: InferRequest): Promise<InferResult>;
  inflight(): number;
  /** Stops taking new work and resolves once every accepted request has finished. */
  stop(): Promise<void>;
}
