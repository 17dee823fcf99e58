import { describe, expect, it } from 'vitest';
import { BACKOFF } from '../../../functions/core/dispatch';
import {
  ambiguousPolicy,
  DONE,
  MAX_WAIT_SECONDS,
  NO_PROVIDER_RECHECK_MS,
  planOf,
  planOfConflict,
  retryDelaySeconds,
  waitFor,
} from '../../../functions/core/send-plan';

const NOW = 1_000_000;

describe('waitFor', () => {
  it('waits until the first provider has room, in whole seconds', () => {
    expect(waitFor([NOW + 20_000, NOW + 50_000], NOW)).toEqual({
      kind: 'wait',
      seconds: 20,
      reason: 'every provider is full, open or slowing us down',
    });
    expect(waitFor([NOW + 1_200], NOW).seconds).toBe(2);
  });

  it('waits at least a second, even for a provider that has room again already', () => {
    expect(waitFor([NOW - 5_000], NOW).seconds).toBe(1);
    expect(waitFor([NOW], NOW).seconds).toBe(1);
  });

  it('waits at most as long as SQS can delay a message', () => {
    expect(waitFor([NOW + 3_600_000], NOW).seconds).toBe(MAX_WAIT_SECONDS);
  });

  it('looks again later when no provider is enabled', () => {
    expect(waitFor([], NOW)).toEqual({
      kind: 'wait',
      seconds: NO_PROVIDER_RECHECK_MS / 1000,
      reason: 'no provider is enabled',
    });
  });
});

describe('retryDelaySeconds', () => {
  it('keeps the back-off when a provider has room sooner', () => {
    expect(retryDelaySeconds(10, [NOW + 2_000], NOW)).toBe(10);
  });

  it('retries no sooner than the first provider has room again', () => {
    expect(retryDelaySeconds(10, [NOW + 45_500, NOW + 60_000], NOW)).toBe(46);
  });

  it('never asks SQS for more than its longest delay', () => {
    expect(retryDelaySeconds(10, [NOW + 3_600_000], NOW)).toBe(MAX_WAIT_SECONDS);
    expect(retryDelaySeconds(5_000, [], NOW)).toBe(MAX_WAIT_SECONDS);
  });

  it('keeps the back-off when there is no provider to wait for', () => {
    expect(retryDelaySeconds(10, [], NOW)).toBe(10);
  });
});

describe('ambiguousPolicy', () => {
  const base = { reason: 'socket hang up', maxReceiveCount: 5, random: () => 0 };

  it('an idempotent provider: retried through it only, with back-off, while receives are left', () => {
    expect(ambiguousPolicy({ ...base, idempotent: true, receiveCount: 1 })).toEqual({
      kind: 'pinned-retry',
      seconds: BACKOFF.baseSeconds,
      reason: 'ambiguous: socket hang up',
    });
  });

  it('an idempotent provider on the last receive: ends ambiguous, retries exhausted', () => {
    expect(ambiguousPolicy({ ...base, idempotent: true, receiveCount: 5 })).toEqual({
      kind: 'ambiguous',
      reason: 'socket hang up (retries exhausted)',
    });
  });

  it('a provider without idempotency (SES): never sent again, whatever the receive count', () => {
    for (const receiveCount of [1, 5]) {
      expect(ambiguousPolicy({ ...base, idempotent: false, receiveCount })).toEqual({
        kind: 'ambiguous',
        reason: 'socket hang up',
      });
    }
  });
});

describe('planOf', () => {
  it('acknowledges a message whose record is final and not failed', () => {
    expect(planOf({ kind: 'sent', providerMessageId: 'p' })).toEqual(DONE);
    expect(planOf({ kind: 'rejected', reason: 'bad' })).toEqual(DONE);
    expect(planOf({ kind: 'ambiguous', reason: 'timeout' })).toEqual(DONE);
  });

  it('reports a failed message failed (to the DLQ) and a retry with its delay', () => {
    expect(planOf({ kind: 'failed', reason: 'retries exhausted' })).toEqual({
      kind: 'fail',
      reason: 'retries exhausted',
    });
    expect(planOf({ kind: 'retry', reason: 'down: 503', delaySeconds: 40 })).toEqual({
      kind: 'retry',
      seconds: 40,
      reason: 'down: 503',
    });
  });
});

describe('planOfConflict', () => {
  it("retries when another dispatcher's claim is live, else acknowledges", () => {
    expect(planOfConflict({ kind: 'in-flight', retryInSeconds: 50 })).toEqual({
      kind: 'retry',
      seconds: 50,
      reason: 'another dispatcher holds the claim',
    });
    expect(planOfConflict({ kind: 'duplicate', status: 'sent' })).toEqual(DONE);
    expect(planOfConflict({ kind: 'missing' })).toEqual(DONE);
    expect(planOfConflict({ kind: 'stale' })).toEqual(DONE);
  });
});
