/**
 * The contract between the TypeScript side of the native GPU backend (which compiles the graph IR into
 * this plan) and the C++/CUDA addon (which executes it). Plain JSON plus one float32 weights blob, so the
 * addon parses no ONNX and knows nothing of OneFlow: it runs a list of steps over activation buffers.
 *
 * Conventions:
 * - Activations are float32, NCHW, batch-major; `TensorDecl.shape` is per sample (batch excluded), e.g.
 *   [64, 112, 112] or [1000]. The addon allocates each tensor for the largest batch it is asked to run.
 * - Weights live in one Float32 blob; `WeightRef.offset` and `length` count float32 elements.
 * - Conv weights are [K, C/groups, R, S]; BatchNormalization is already folded into conv weight + bias.
 * - Gemm computes y = x · Wᵀ + bias with W row-major [N, K] (ONNX Gemm transB=1, i.e. nn.Linear).
 * - Pads are [top, left, bottom, right].
 * - Steps run in order; a step's `y` never aliases its inputs. Flatten/Reshape between NCHW [C,1,1] and
 *   [C] are aliases resolved by the compiler (same tensor id), never steps.
 */

export const PLAN_VERSION = 1;

export interface TensorDecl {
  readonly id: number;
  /** Per-sample shape (no batch dimension). */
  readonly shape: readonly number[];
}

export interface WeightRef {
  readonly offset: number;
  readonly length: number;
}

export type PlanStep =
  | {
      readonly op: 'conv';
      readonly x: number;
      readonly y: number;
      readonly weight: WeightRef & { readonly shape: readonly [number, number, number, number] };
      readonly bias: WeightRef;
      readonly strides: readonly [number, number];
      readonly pads: readonly [number, number, number, number];
      readonly dilations: readonly [number, number];
      readonly groups: number;
      /** Added to the conv output before the activation (a ResNet shortcut), same shape as y. */
      readonly residual?: number;
      readonly relu: boolean;
    }
  | {
      readonly op: 'maxpool' | 'avgpool';
      readonly x: number;
      readonly y: number;
      readonly kernel: readonly [number, number];
      readonly strides: readonly [number, number];
      readonly pads: readonly [number, number, number, number];
      /** avgpool only: whether padding counts in the divisor (ONNX count_include_pad). */
      readonly countIncludePad?: boolean;
    }
  | { readonly op: 'globalavgpool'; readonly x: number; readonly y: number }
  | { readonly op: 'add'; readonly a: number; readonly b: number; readonly y: number; readonly relu: boolean }
  | { readonly op: 'relu'; readonly x: number; readonly y: number }
  | {
      readonly op: 'gemm';
      readonly x: number;
      readonly y: number;
      readonly weight: WeightRef & { readonly shape: readonly [number, number] };
      readonly bias?: WeightRef;
      readonly relu: boolean;
    }
  | {
      /** Over each sample's whole tensor; the compiler emits it only on per-sample shape [C] (classes). */
      readonly op: 'softmax';
      readonly x: number;
      readonly y: number;
    };

export interface NativePlan {
  readonly version: typeof PLAN_VERSION;
  readonly input: { readonly name: string; readonly tensor: number };
  readonly output: { readonly name: string; readonly tensor: number };
  readonly tensors: readonly TensorDecl[];
  readonly steps: readonly PlanStep[];
  /** Float32 elements in the weights blob. */
  readonly weightCount: number;
}
