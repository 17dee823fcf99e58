/**
 * The operator's view of the queues (GET /v1/queues, GET /v1/queues/{queue}/dead-letters) and the
 * redrive of a send queue's dead letters (POST /v1/queues/{queue}/redrive, the same use case as
 * `npm run dlq:redrive`). Admin keys only.
 */
import * as z from 'zod/mini';
import { DomainError } from '../core/errors';
import type { Priority } from '../core/priority';
import type { MessageStore, QueueAdmin, QueueDepth } from '../ports';
import { emailIdOf, redriveQueue } from './dlq-redrive';
import type { RouteMap } from './http';

/** The queues the console shows, by the name the API uses: one per priority, and the SES events queue. */
export const QUEUE_NAMES = ['critical', 'transactional', 'bulk', 'ses-events'] as const;
export type ConsoleQueueName = (typeof QUEUE_NAMES)[number];

export interface QueueUrls {
  readonly url: string;
  readonly dlqUrl: string;
}

export interface QueuesDeps {
  readonly queues: QueueAdmin;
  readonly messages: MessageStore;
  readonly urls: { readonly [K in ConsoleQueueName]: QueueUrls };
  readonly now?: () => Date;
}

/** A message of a dead-letter queue, as the console shows it. */
export interface DeadLetterView {
  readonly messageId: string;
  /** The email it carries (none: not a mailroute email). */
  readonly emailId: string | null;
  readonly sentAt: string | null;
  readonly receiveCount: number | null;
  /** The email's status and reason now, if its record exists. */
  readonly status: string | null;
  readonly reason: string | null;
}

/** Messages peeked per dead-letter queue (one receive; they stay in the queue, visible at once). */
export const PEEK_MAX = 10;

const isSendQueue = (name: ConsoleQueueName): name is Priority => name !== 'ses-events';

/** Built on first use: few requests redrive. */
export const RedriveBody = /* @__PURE__ */ z.lazy(() =>
  z.optional(z.strictObject({ dryRun: z.optional(z.boolean()) })),
);

export function queueRoutes(deps: QueuesDeps) {
  const now = deps.now ?? (() => new Date());

  const queueOf = (raw: string | undefined): ConsoleQueueName => {
    const name = (QUEUE_NAMES as readonly string[]).includes(raw ?? '') ? (raw as ConsoleQueueName) : undefined;
    if (!name)
      throw new DomainError(
        'not_found',
        `No queue "${(raw ?? '').slice(0, 40)}"; the queues are ${QUEUE_NAMES.join(', ')}.`,
      );
    return name;
  };

  /** Reads without consuming: a receive that leaves each message visible again at once. */
  async function peek(name: ConsoleQueueName): Promise<DeadLetterView[]> {
    const held = await deps.queues.receive(deps.urls[name].dlqUrl, { max: PEEK_MAX, holdSeconds: 0, waitSeconds: 0 });
    return Promise.all(
      held.map(async (m): Promise<DeadLetterView> => {
        const emailId = emailIdOf(m.body) ?? null;
        const record = emailId ? await deps.messages.get(emailId) : undefined;
        return {
          messageId: m.messageId,
          emailId,
          sentAt: m.sentAt ?? null,
          receiveCount: m.receiveCount ?? null,
          status: record?.status ?? null,
          reason: record?.reason ?? null,
        };
      }),
    );
  }

  const ageSeconds = (sentAt: readonly (string | null)[]): number | null => {
    const times = sentAt.flatMap((s) => (s ? [Date.parse(s)] : []));
    return times.length === 0 ? null : Math.max(0, Math.round((now().getTime() - Math.min(...times)) / 1000));
  };

  async function overview(name: ConsoleQueueName) {
    const [depth, dlqDepth] = await Promise.all([
      deps.queues.depth(deps.urls[name].url),
      deps.queues.depth(deps.urls[name].dlqUrl),
    ]);
    const waiting = (d: QueueDepth) => d.visible + d.inFlight + d.delayed;
    // The oldest dead letter, among those one peek sees (SQS gives no oldest age through its API).
    const deadLetters = waiting(dlqDepth) > 0 ? await peek(name) : [];
    return {
      queue: name,
      depth,
      deadLetters: { depth: dlqDepth, oldestAgeSeconds: ageSeconds(deadLetters.map((d) => d.sentAt)) },
      redrive: isSendQueue(name),
    };
  }

  return {
    'GET /v1/queues': {
      auth: 'admin',
      handle: async () => ({ status: 200, body: { data: await Promise.all(QUEUE_NAMES.map(overview)) } }),
    },
    'GET /v1/queues/{queue}/dead-letters': {
      auth: 'admin',
      handle: async (req) => ({ status: 200, body: { data: await peek(queueOf(req.param('queue'))) } }),
    },
    'POST /v1/queues/{queue}/redrive': {
      auth: 'admin',
      maxBodyBytes: 1024,
      handle: async (req) => {
        const name = queueOf(req.param('queue'));
        const body = RedriveBody.safeParse(req.body);
        if (!body.success) {
          throw new DomainError(
            'validation_failed',
            'The redrive request is not valid.',
            body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
          );
        }
        if (!isSendQueue(name)) {
          throw new DomainError(
            'conflict',
            `The ${name} queue's dead letters are not emails; only send queues are redriven.`,
          );
        }
        const report = await redriveQueue(
          {
            queues: deps.queues,
            messages: deps.messages,
            queueUrl: deps.urls[name].url,
            dlqUrl: deps.urls[name].dlqUrl,
          },
          { dryRun: body.data?.dryRun ?? false, max: 1000, holdSeconds: 60, now },
        );
        return { status: 200, body: { queue: name, dryRun: body.data?.dryRun ?? false, ...report } };
      },
    },
  } satisfies RouteMap<'GET /v1/queues' | 'GET /v1/queues/{queue}/dead-letters' | 'POST /v1/queues/{queue}/redrive'>;
}
