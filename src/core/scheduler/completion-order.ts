import type { Pending } from './execute.js';

/**
 * dynamic_batching's preserve_ordering, after Triton's DynamicBatchScheduler::DelegateResponse: each
 * request gets a slot when it leaves the queue for an execution, and answers leave in slot order, so
 * a batch that finishes early on one instance waits for the earlier batch still running on another.
 */
export class CompletionOrder {
  readonly #slots: { settle?: () => void }[] = [];

  /** `pending`, answering only once every request taken before it has been answered. */
  wrap(pending: Pending): Pending {
    const slot: { settle?: () => void } = {};
    this.#slots.push(slot);
    const done = (settle: () => void): void => {
      slot.settle = settle;
      while (this.#slots.length > 0 && this.#slots[0].settle) (this.#slots.shift() as { settle: () => void }).settle();
    };
    return { ...pending, resolve: (r) => done(() => pending.resolve(r)), reject: (e) => done(() => pending.reject(e)) };
  }
}
