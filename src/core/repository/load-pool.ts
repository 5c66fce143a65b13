/**
 * Triton's model load thread pool (`--model-load-thread-count`, default 4): at most `size` model loads
 * run at once, the others wait their turn in the order they asked. Loads of different models overlap
 * their file reads, imports and session creation; the size bounds the memory a burst of loads takes.
 */
export class LoadPool {
  readonly size: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`load pool size must be a positive integer, got ${size}`);
    this.size = size;
  }

  /** Loads running now. */
  get running(): number {
    return this.#running;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so `running` never dips while others wait.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
