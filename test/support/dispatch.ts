/**
 * The dispatcher's test set-up, shared by its unit tests: in-memory stores and queue, queued emails
 * with their records, a dispatch handler over a chain of scripted providers, and SQS batches.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import {
  createDispatchHandler,
  type DispatchDeps,
  type QueueRoute,
  type QueueRoutes,
} from '../../functions/app/dispatch';
import { SendEmailBody, toQueuedEmail } from '../../functions/core/email';
import type { CircuitPolicy } from '../../functions/core/health';
import { newRecord } from '../../functions/core/message';
import type { QueuedEmail } from '../../functions/core/queued-email';
import type { RateWindow } from '../../functions/core/rate-window';
import type { WarmUp } from '../../functions/core/warm-up';
import type { EmailProvider, SigningKeys } from '../../functions/ports';
import { StaticSigningKeys } from '../../functions/store/secrets';
import { lambdaContext, sqsEvent, sqsRecord } from './events';
import {
  MemoryMessageStore,
  type MemoryProviderSettings,
  MemoryQueue,
  type MemoryRateWindows,
  MemorySuppression,
  MemoryVisibility,
  memoryChain,
} from './fakes';

export const NOW = Date.parse('2026-11-22T10:00:00Z');
export const KEYRING = { current: 'k1', keys: { k1: 'test-signing-key-0123456789abcdef0123' } };
export const BASE_URL = 'https://mail.example.com';
/** The name of the queue `sqsRecord` (support/events.ts) says its records come from. */
export const SEND_QUEUE = 'send';

/** Queue routes by queue name (the last segment of a record's source ARN), as the wiring matches them. */
export function queuesByName(routes: Readonly<Record<string, QueueRoute>>): QueueRoutes {
  return { of: (arn) => routes[arn.slice(arn.lastIndexOf(':') + 1)] };
}

/** A record of `email` from the queue named `queue` (another source than the default one). */
export function recordFrom(queue: string, email: QueuedEmail | string, opts: Parameters<typeof sqsRecord>[1] = {}) {
  const rec = sqsRecord(email, opts);
  return { ...rec, eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}` } satisfies SQSRecord;
}

/** The stores and the send queue one test works with. */
export class DispatchWorld {
  readonly messages = new MemoryMessageStore();
  readonly suppression = new MemorySuppression();
  readonly queue = new MemoryQueue();
  readonly visibility = new MemoryVisibility();

  /** The send queue's route (delayed copies, visibility changes). */
  get route(): QueueRoute {
    return { queue: this.queue, visibility: this.visibility };
  }

  /**
   * A queued email (the API's defaults over `input`) and its `queued` record, accepted at `at`;
   * `pin` as left by an earlier ambiguous send through that provider.
   */
  queued(id: string, input: Record<string, unknown> = {}, options: { pin?: string; at?: number } = {}): QueuedEmail {
    const q = toQueuedEmail(
      id,
      SendEmailBody.parse({ from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'x', ...input }),
    );
    const record = newRecord({ ...q, apiKey: 'app' }, new Date(options.at ?? NOW), 30);
    this.messages.items.set(id, { ...record, ...(options.pin ? { pin: options.pin } : {}) });
    return q;
  }
}

export interface DispatcherOptions {
  readonly now?: () => number;
  readonly random?: () => number;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  readonly limits?: Record<string, RateWindow[]>;
  readonly settings?: MemoryProviderSettings;
  readonly windows?: MemoryRateWindows;
  readonly cacheMs?: number;
  readonly circuit?: Partial<CircuitPolicy>;
  /** Share of each window held back from bulk mail. @default 0 */
  readonly bulkReserve?: number;
  /** Warm-up ramps by provider id. */
  readonly warmUp?: Record<string, WarmUp>;
  /** In-function waits for room (a fake that moves the clock); none by default. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default opens and clicks tracked */
  readonly trackDefaults?: DispatchDeps['trackDefaults'];
  /** @default StaticSigningKeys(KEYRING) */
  readonly keys?: SigningKeys;
  /** @default the world's send queue, by SEND_QUEUE */
  readonly queues?: QueueRoutes;
  /** The reputation guard's gate. @default none */
  readonly streams?: DispatchDeps['streams'];
  /** The content store (attachments, large bodies). @default none */
  readonly content?: DispatchDeps['content'];
  /** The largest message of each provider, by id (bytes). */
  readonly maxMessageBytes?: Record<string, number>;
  /** The cooldown store. @default none: cooldowns are not checked */
  readonly cooldowns?: DispatchDeps['cooldowns'];
}

/** A dispatch handler over `providers` (in chain order) and the world's stores. */
export function dispatcher(
  world: DispatchWorld,
  providers: EmailProvider | EmailProvider[],
  options: DispatcherOptions = {},
) {
  const now = options.now ?? (() => NOW);
  const wiring = memoryChain(Array.isArray(providers) ? providers : [providers], {
    now,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.windows ? { windows: options.windows } : {}),
    ...(options.cacheMs !== undefined ? { cacheMs: options.cacheMs } : {}),
    ...(options.circuit ? { circuit: options.circuit } : {}),
    ...(options.bulkReserve !== undefined ? { bulkReserve: options.bulkReserve } : {}),
    ...(options.warmUp ? { warmUp: options.warmUp } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
  });
  const handler = createDispatchHandler({
    messages: world.messages,
    suppression: world.suppression,
    chain: wiring.chain,
    queues: options.queues ?? queuesByName({ [SEND_QUEUE]: world.route }),
    links: { baseUrl: BASE_URL, keys: options.keys ?? new StaticSigningKeys(KEYRING) },
    trackDefaults: options.trackDefaults ?? { opens: true, clicks: true },
    maxReceiveCount: 5,
    timeoutSeconds: 30,
    now,
    random: options.random ?? (() => 0),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.streams ? { streams: options.streams } : {}),
    ...(options.content ? { content: options.content } : {}),
    ...(options.cooldowns ? { cooldowns: options.cooldowns } : {}),
  });
  return { handler, ...wiring };
}

export type DispatchHandler = ReturnType<typeof dispatcher>['handler'];

/** Dispatches `emails` as one SQS batch (message ids `m-<id>-<index>`). */
export const run = (handler: DispatchHandler, ...emails: QueuedEmail[]) =>
  handler(sqsEvent(...emails.map((e, i) => sqsRecord(e, { messageId: `m-${e.id}-${i}` }))), lambdaContext());

/** Dispatches the given records as one SQS batch. */
export const runRecords = (handler: DispatchHandler, ...records: SQSRecord[]) =>
  handler(sqsEvent(...records), lambdaContext());
