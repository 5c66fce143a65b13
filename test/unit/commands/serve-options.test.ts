import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../src/errors.js';
import { serve } from '../../../src/commands/serve.js';

/** Bad serve options are refused by name before anything is loaded (the store here does not even exist). */
describe('serve option checks', () => {
  const refused = async (options: Record<string, number>, flag: string) => {
    const error = await serve({ cwd: '/nonexistent', modelStore: 'nowhere', quiet: true, installSignalHandlers: false, ...options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOfsError(error) && error.code, String(error)).toBe('OFS_BAD_ARGUMENT');
    expect((error as Error).message).toContain(flag);
  };

  it('refuses gRPC message limits gRPC cannot carry and negative exit timeouts', async () => {
    for (const bytes of [0, -1, 2 ** 31, 1.5]) await refused({ grpcMaxMessageBytes: bytes }, '--grpc-max-message-bytes');
    for (const secs of [-1, 0.5]) await refused({ exitTimeoutSecs: secs }, '--exit-timeout-secs');
  });
});
