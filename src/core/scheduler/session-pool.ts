import { ofsError } from '../../errors.js';
import type { Session } from '../backend.js';

/**
 * The model instances (one Session per instance_group count) that are free. Schedulers keep their
 * own queue of waiting requests (so a cancelled one can leave it) and take an instance when one is free.
 */
export class SessionPool {
  readonly #free: Session[];

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

  release(session: Session): void {
    this.#free.push(session);
  }
}
