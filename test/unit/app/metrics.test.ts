/**
 * The metrics each path emits, read back from the embedded-metric-format lines a real Powertools
 * Metrics prints: names come from functions/core/metric-names.ts (which the dashboard charts) and
 * carry the documented dimensions.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSesEventsHandler } from '../../../functions/app/ses-events';
import { DIMENSIONS, METRIC_NAMESPACE, METRICS, PROVIDER_METRICS } from '../../../functions/core/metric-names';
import type { EmailProvider } from '../../../functions/ports';
import { DispatchWorld, dispatcher as dispatchHandler } from '../../support/dispatch';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryMessageStore, MemorySuppression, ScriptedProvider } from '../../support/fakes';
import { sesFixture } from '../../support/fixtures';
import { record } from '../../support/records';

interface Emitted {
  name: string;
  value: unknown;
  dims: Record<string, string>;
}

let lines: string[];
beforeEach(() => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Every metric in the EMF lines printed so far, with its dimensions (service left out). */
function emitted(): Emitted[] {
  const out: Emitted[] = [];
  for (const chunk of lines)
    for (const line of chunk.split('\n')) {
      if (!line.includes('"_aws"')) continue;
      const emf = JSON.parse(line);
      const def = emf._aws.CloudWatchMetrics[0];
      expect(def.Namespace).toBe(METRIC_NAMESPACE);
      const dims = Object.fromEntries(
        (def.Dimensions[0] as string[]).filter((d) => d !== 'service').map((d) => [d, emf[d]]),
      );
      for (const m of def.Metrics) out.push({ name: m.Name, value: emf[m.Name], dims });
    }
  return out;
}

/** A dispatcher over `providers` that emits through a real Powertools Metrics. */
function dispatcher(providers: EmailProvider[], world: DispatchWorld) {
  return dispatchHandler(world, providers, {
    trackDefaults: { opens: false, clicks: false },
    metrics: new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' }),
  }).handler;
}

/** The SQS record of a queued email (message id = email id) whose record is in `world`. */
const queued = (world: DispatchWorld, id: string, to = 'user@example.org') =>
  sqsRecord(world.queued(id, { to }), { messageId: id });

describe('metrics on each path', () => {
  it('sent after a fail-over: per-provider attempts, errors by outcome, the fail-over, and the sent count', async () => {
    const world = new DispatchWorld();
    const down = new ScriptedProvider(() => ({ kind: 'down', reason: '503' }), 'relay', true);
    const ses = new ScriptedProvider(undefined, 'ses');
    await dispatcher([down, ses], world)(sqsEvent(queued(world, 'm1')), lambdaContext());
    const got = emitted();
    const relay = { [DIMENSIONS.provider]: 'relay' };
    expect(got).toEqual(
      expect.arrayContaining([
        { name: PROVIDER_METRICS.attempts, value: 1, dims: relay },
        { name: PROVIDER_METRICS.errors, value: 1, dims: { ...relay, [DIMENSIONS.outcome]: 'down' } },
        { name: PROVIDER_METRICS.failovers, value: 1, dims: relay },
        { name: PROVIDER_METRICS.circuitOpen, value: 0, dims: relay },
        { name: PROVIDER_METRICS.attempts, value: 1, dims: { provider: 'ses' } },
        { name: PROVIDER_METRICS.successes, value: 1, dims: { provider: 'ses' } },
        { name: METRICS.sent, value: 1, dims: {} },
      ]),
    );
    expect(got.find((m) => m.name === PROVIDER_METRICS.failovers && m.dims.provider === 'ses')).toBeUndefined();
    expect(got.find((m) => m.name === METRICS.acceptToSendMs)?.dims).toEqual({});
  });

  it('a throttle without Retry-After: the provider’s effective rate, in percent of its declared limits', async () => {
    const world = new DispatchWorld();
    const slow = new ScriptedProvider(() => ({ kind: 'throttled', reason: 'Maximum sending rate exceeded' }), 'ses');
    const relay = new ScriptedProvider(undefined, 'relay', true);
    const handler = dispatchHandler(world, [slow, relay], {
      trackDefaults: { opens: false, clicks: false },
      limits: { ses: [{ limit: 14, windowSeconds: 1 }] },
      metrics: new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' }),
    }).handler;
    await handler(sqsEvent(queued(world, 'm1')), lambdaContext());
    expect(emitted()).toContainEqual({ name: PROVIDER_METRICS.effectiveRate, value: 50, dims: { provider: 'ses' } });
  });

  it('suppressed: counted, and no provider is attempted', async () => {
    const world = new DispatchWorld();
    world.suppression.add('gone@example.org');
    const ses = new ScriptedProvider(undefined, 'ses');
    await dispatcher([ses], world)(sqsEvent(queued(world, 'm1', 'gone@example.org')), lambdaContext());
    const got = emitted();
    expect(got).toContainEqual({ name: METRICS.suppressed, value: 1, dims: {} });
    expect(got.filter((m) => m.name === PROVIDER_METRICS.attempts)).toEqual([]);
  });

  it('bounced: the bounce and the suppression it adds', async () => {
    const messages = new MemoryMessageStore();
    const r = record('msg-1');
    r.status = 'sent';
    messages.items.set('msg-1', r);
    const handler = createSesEventsHandler({
      messages,
      suppression: new MemorySuppression(),
      softBounce: { limit: 3, windowHours: 72 },
      now: () => Date.parse('2026-11-22T12:00:00Z'),
      metrics: new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' }),
    });
    await handler(sqsEvent(sqsRecord(sesFixture('event-bounce-permanent.json'))), lambdaContext());
    const got = emitted();
    expect(got).toContainEqual({ name: METRICS.bounced, value: 1, dims: {} });
    expect(got).toContainEqual({ name: METRICS.suppressionsAdded, value: 1, dims: {} });
  });
});
