/**
 * A write that must not be lost to one failed call (a settle, the result of a send, the clean-up of
 * a request that failed) is tried a few times in the invocation, with a short doubling pause, before
 * its error is left to the caller. The SDK retries too, but not every failure it sees is retryable
 * to it (a timeout after the request left), and these writes are safe to repeat: each is conditional.
 */
export interface RetryOptions {
  /** @default 3 */
  readonly attempts?: number;
  /** The pause before the second attempt, doubled after. @default 50 */
  readonly pauseMs?: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function retrying<T>(op: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 3;
  const pauseMs = options.pauseMs ?? 50;
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (e) {
      if (i >= attempts) throw e;
      await pause(pauseMs * 2 ** (i - 1));
    }
  }
}
