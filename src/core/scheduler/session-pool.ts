import { ofsError } from '../../errors.js';
import type { Session } from '../backend.js';

/** The model instances (one Session per instance_group count) and FIFO waiters for a free one. */
export class SessionPool {
  readonly #free: Session[];
  readonly #waiters: ((s: Session) => void)[] = [];

  constructor(sessions: readonly Session[]) {
    if (sessions.length === 0) throw ofsError('OFS_INTERNAL', 'a scheduler needs at least one session');
    this.#free = [...sessions];
  }

  hasFree(): boolean {
    return this.#free.length > 0;
  }

  tryAcquire(): Session | undefined {
    return this.#free.shift();
  }

  /** Resolves with a free session; waiters are served in arrival order. */
  acquire(): Promise<Session> {
    const s = this.#free.shift();
    if (s) return Promise.resolve(s);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(session: Session): void {
    const next = this.#waiters.shift();
    if (next) next(session);
    else this.#free.push(session);
  }
}
