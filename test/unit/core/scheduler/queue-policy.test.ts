import { describe, expect, it } from 'vitest';
import {
  PriorityQueues,
  priorityLevel,
  queueSettings,
  timeoutUsFor,
  type QueuePolicy,
} from '../../../../src/core/scheduler/queue-policy.js';

const US = 1000n;

describe('queueSettings', () => {
  it("takes proto3's zero defaults: one unbounded level 0, REJECT, no timeout", () => {
    const s = queueSettings({});
    expect(s.priorityLevels).toBe(0);
    expect(s.defaultPriorityLevel).toBe(0);
    expect(s.defaultPolicy).toEqual({ timeoutAction: 'REJECT', defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 0 });
  });

  it('reads the default policy and the per-level policies', () => {
    const s = queueSettings({
      priority_levels: 3,
      default_priority_level: 2,
      default_queue_policy: { max_queue_size: 4, timeout_action: 'DELAY', default_timeout_microseconds: 500, allow_timeout_override: true },
      priority_queue_policy: { '1': { max_queue_size: 1 } },
    });
    expect(s.defaultPriorityLevel).toBe(2);
    expect(s.defaultPolicy).toEqual({ timeoutAction: 'DELAY', defaultTimeoutUs: 500, allowTimeoutOverride: true, maxQueueSize: 4 });
    expect(s.levelPolicies.get(1)).toEqual({ timeoutAction: 'REJECT', defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 1 });
  });
});

describe('priorityLevel (Triton SetPriority)', () => {
  const s = queueSettings({ priority_levels: 3, default_priority_level: 2 });
  it('keeps a level in range and maps 0, absent and out-of-range levels to the default', () => {
    expect(priorityLevel(s, 1)).toBe(1);
    expect(priorityLevel(s, 3)).toBe(3);
    expect(priorityLevel(s, 0)).toBe(2);
    expect(priorityLevel(s, undefined)).toBe(2);
    expect(priorityLevel(s, 9)).toBe(2);
  });
  it('puts everything on level 0 when priorities are off', () => {
    expect(priorityLevel(queueSettings({}), 5)).toBe(0);
  });
});

describe('timeoutUsFor', () => {
  const policy = (p: Partial<QueuePolicy>): QueuePolicy => ({ timeoutAction: 'REJECT', defaultTimeoutUs: 1000, allowTimeoutOverride: true, maxQueueSize: 0, ...p });
  it('lets a request shorten the timeout only when overrides are allowed', () => {
    expect(timeoutUsFor(policy({}), 200)).toBe(200);
    expect(timeoutUsFor(policy({ allowTimeoutOverride: false }), 200)).toBe(1000);
  });
  it('never lengthens it, and a 0 or absent request timeout keeps the default', () => {
    expect(timeoutUsFor(policy({}), 5000)).toBe(1000);
    expect(timeoutUsFor(policy({}), 0)).toBe(1000);
    expect(timeoutUsFor(policy({}), undefined)).toBe(1000);
    // No default timeout: there is nothing to shorten (Triton's PolicyQueue::Enqueue).
    expect(timeoutUsFor(policy({ defaultTimeoutUs: 0 }), 200)).toBe(0);
  });
});

describe('PriorityQueues', () => {
  it('refuses a request once its level holds max_queue_size, leaving other levels alone', () => {
    const q = new PriorityQueues<string>(queueSettings({ priority_levels: 2, default_priority_level: 2, priority_queue_policy: { '1': { max_queue_size: 1 } } }));
    expect(q.enqueue('a', 1, undefined, 0n)).toBe('queued');
    expect(q.enqueue('b', 1, undefined, 0n)).toBe('full');
    expect(q.enqueue('c', 2, undefined, 0n)).toBe('queued');
    expect(q.size).toBe(2);
    q.take(1);
    expect(q.enqueue('d', 1, undefined, 0n)).toBe('queued');
  });

  it('serves levels in order (1 first), FIFO within a level', () => {
    const q = new PriorityQueues<string>(queueSettings({ priority_levels: 3, default_priority_level: 3 }));
    q.enqueue('low1', 3, undefined, 0n);
    q.enqueue('high1', 1, undefined, 0n);
    q.enqueue('mid', 2, undefined, 0n);
    q.enqueue('high2', 1, undefined, 0n);
    expect(q.ordered()).toEqual(['high1', 'high2', 'mid', 'low1']);
    expect(q.take(3)).toEqual(['high1', 'high2', 'mid']);
    expect(q.ordered()).toEqual(['low1']);
    expect(q.size).toBe(1);
  });

  it('rejects timed-out requests under REJECT and reports the next deadline', () => {
    const q = new PriorityQueues<string>(queueSettings({ default_queue_policy: { default_timeout_microseconds: 100, allow_timeout_override: true } }));
    q.enqueue('a', 0, undefined, 0n);
    q.enqueue('b', 0, 50, 0n);
    q.enqueue('c', 0, undefined, 20n * US);
    expect(q.nextDeadlineNs()).toBe(50n * US);
    expect(q.expire(49n * US)).toEqual([]);
    expect(q.expire(50n * US)).toEqual(['b']);
    expect(q.nextDeadlineNs()).toBe(100n * US);
    expect(q.expire(110n * US)).toEqual(['a']);
    expect(q.ordered()).toEqual(['c']);
    expect(q.size).toBe(1);
  });

  it('moves timed-out requests behind the on-time ones under DELAY, and still serves them', () => {
    const q = new PriorityQueues<string>(queueSettings({ default_queue_policy: { default_timeout_microseconds: 100, timeout_action: 'DELAY' } }));
    q.enqueue('old', 0, undefined, 0n);
    q.enqueue('new', 0, undefined, 90n * US);
    expect(q.expire(150n * US)).toEqual([]);
    expect(q.ordered()).toEqual(['new', 'old']);
    expect(q.nextDeadlineNs()).toBe(190n * US);
    expect(q.size).toBe(2);
    expect(q.take(2)).toEqual(['new', 'old']);
    expect(q.nextDeadlineNs()).toBeUndefined();
  });

  it('counts delayed requests towards max_queue_size', () => {
    const q = new PriorityQueues<string>(queueSettings({ default_queue_policy: { default_timeout_microseconds: 1, timeout_action: 'DELAY', max_queue_size: 1 } }));
    q.enqueue('a', 0, undefined, 0n);
    q.expire(10n * US);
    expect(q.enqueue('b', 0, undefined, 10n * US)).toBe('full');
  });

  it('removes one queued request', () => {
    const q = new PriorityQueues<string>(queueSettings({}));
    q.enqueue('a', 0, undefined, 0n);
    q.enqueue('b', 0, undefined, 0n);
    expect(q.remove('a')).toBe(true);
    expect(q.remove('a')).toBe(false);
    expect(q.ordered()).toEqual(['b']);
    expect(q.size).toBe(1);
  });
});
