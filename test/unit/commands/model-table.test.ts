import { describe, expect, it } from 'vitest';
import { formatModelTable } from '../../../src/commands/model-table.js';

describe('formatModelTable', () => {
  it("draws tritonserver's model table, with the reason of a model that did not load", () => {
    expect(
      formatModelTable([
        { name: 'resnet50_oneflow', version: '1', state: 'READY' },
        { name: 'broken', state: 'UNAVAILABLE', reason: 'bad config' },
      ]),
    ).toBe(
      [
        '+------------------+---------+-------------------------+',
        '| Model            | Version | Status                  |',
        '+------------------+---------+-------------------------+',
        '| resnet50_oneflow | 1       | READY                   |',
        '| broken           | -       | UNAVAILABLE: bad config |',
        '+------------------+---------+-------------------------+',
      ].join('\n'),
    );
  });
});
