/**
 * Attachments (claim-check): what a file costs per email, and what a large message costs the dispatcher.
 *
 * - Requests and cost per email with one 200 KB PDF, counted on the local stack as bench/requests.ts
 *   counts them (every request of the service's clients, S3 included, priced with S3 Standard's
 *   published prices and the content store's lifecycle): single sends, each with its own file as
 *   base64 (an invoice), and a batch of 100 emails naming one file uploaded through POST /v1/attachments
 *   and its presigned PUT (a newsletter's PDF).
 * - Dispatch of one message with a 10 MB attachment: the real dispatcher in process (send step,
 *   content store read-back, the SES adapter building its request with the SDK) against in-memory
 *   stores and content store, SES answered by a local HTTP endpoint that reads the whole request.
 *   Time per message (median) and memory growth at its peak: V8 heap, buffers outside it, RSS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSEvent } from 'aws-lambda';
import type { LocalStack } from '../bin/local-stack';
import { uploadOf } from '../functions/app/attachments';
import { createDispatchHandler } from '../functions/app/dispatch';
import { messageBytes } from '../functions/core/attachment';
import { contentKey } from '../functions/core/content-keys';
import { SendEmailBody, toQueuedEmail } from '../functions/core/email';
import { newRecord } from '../functions/core/message';
import { toQueueBody } from '../functions/core/queued-email';
import { SES_CLIENT_OPTIONS } from '../functions/handlers/wiring';
import { SesProvider } from '../functions/providers/ses';
import { StaticSigningKeys } from '../functions/store/secrets';
import { QUEUES } from '../lib/resources';
import { FUNCTIONS } from '../lib/spec';
import { MemoryContentStore } from '../test/support/content-store';
import { lambdaContext } from '../test/support/events';
import { MemoryMessageStore, MemoryRateWindows, MemorySuppression, memoryChain } from '../test/support/fakes';
import { ASSUMPTIONS, measureRequests, type RequestFigures } from './requests';

/** A PDF of `bytes` bytes (file-type recognises it; its content is random, so no two are alike). */
const pdf = (bytes: number) => {
  const head = Buffer.from('%PDF-1.4\n');
  const tail = Buffer.from('\n%%EOF\n');
  return Buffer.concat([head, randomBytes(bytes - head.length - tail.length), tail]);
};

const ATTACHMENT_BYTES = 200 * 1024;

/**
 * What the local run cannot observe, stated rather than hidden: the extra Lambda time a file costs.
 * A single send decodes ~270 KB of base64, hashes and sniffs it, and PUTs it (~30 ms in-region); the
 * batch request reads the uploaded file back once per email naming it, one after another (~15 ms each).
 * A dispatch batch reads its files concurrently (~30 ms).
 */
export const ATTACHMENT_ASSUMPTIONS = {
  singleIngestSeconds: ASSUMPTIONS.ingestSecondsPerSingleRequest + 0.03,
  sharedBatchIngestSeconds: ASSUMPTIONS.ingestSecondsPerRequest + ASSUMPTIONS.batchApiEmailsPerRequest * 0.015,
  dispatchSecondsPerBatch: ASSUMPTIONS.dispatchSecondsPerBatch + 0.03,
} as const;

/** A path's figures, and the part of its cost per 1M the files add: S3 requests and storage. */
export type AttachmentPathFigures = RequestFigures & { readonly attachmentCostUSD: number };

const attachmentShare = (f: RequestFigures) =>
  Number(((f.costBreakdownUSD.s3Requests ?? 0) + (f.costBreakdownUSD.s3Storage ?? 0)).toFixed(2));

export interface AttachmentRequestFigures {
  readonly attachmentKB: number;
  /** Single sends, each with its own 200 KB file as base64. */
  readonly ownFile: AttachmentPathFigures;
  /** A batch of 100 emails naming one uploaded file. */
  readonly sharedUpload: AttachmentPathFigures;
}

/**
 * The SES emulator keeps every email of the process and sends them all on each read of its inbox:
 * emptied before each run, and read less often, so the reads do not starve the stack they watch.
 */
const INBOX_POLL_MS = 500;
const clearInbox = async (stack: LocalStack) => {
  await fetch(`${stack.sesUrl}/clear-store`, { method: 'POST' });
  return {};
};

/**
 * `ownFiles` single sends (50 keep the run short: their S3 requests are one PUT and one GET each at
 * any volume) and one batch of 100 naming the same upload.
 */
export async function measureAttachmentRequests(ownFiles = 50): Promise<AttachmentRequestFigures> {
  const ownFile = await measureRequests(ownFiles, 'single', {
    ingestSeconds: ATTACHMENT_ASSUMPTIONS.singleIngestSeconds,
    dispatchSecondsPerBatch: ATTACHMENT_ASSUMPTIONS.dispatchSecondsPerBatch,
    inboxPollMs: INBOX_POLL_MS,
    // Fewer in flight than the receipts' 10: each carries ~270 KB through the emulators of one process.
    concurrency: 4,
    setup: async (stack) => ({
      ...(await clearInbox(stack)),
      email: (n) => ({
        from: 'Acme <billing@example.com>',
        to: `user${n}@example.org`,
        subject: `Your invoice #${n}`,
        html: `<p>Your invoice #${n} is attached.</p>`,
        attachments: [{ filename: `invoice-${n}.pdf`, content: pdf(ATTACHMENT_BYTES).toString('base64') }],
      }),
    }),
  });
  const sharedUpload = await measureRequests(ASSUMPTIONS.batchApiEmailsPerRequest, 'batch', {
    ingestSeconds: ATTACHMENT_ASSUMPTIONS.sharedBatchIngestSeconds,
    dispatchSecondsPerBatch: ATTACHMENT_ASSUMPTIONS.dispatchSecondsPerBatch,
    inboxPollMs: INBOX_POLL_MS,
    setup: async (stack) => {
      await clearInbox(stack);
      const file = pdf(ATTACHMENT_BYTES);
      const res = await fetch(`${stack.apiUrl}/v1/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'catalogue.pdf', contentType: 'application/pdf', size: file.length }),
      });
      if (res.status !== 201) throw new Error(`POST /v1/attachments answered ${res.status}: ${await res.text()}`);
      const up = (await res.json()) as { id: string; uploadUrl: string; headers: Record<string, string> };
      const put = await fetch(up.uploadUrl, { method: 'PUT', headers: up.headers, body: file });
      if (put.status !== 200) throw new Error(`the presigned PUT answered ${put.status}`);
      return {
        email: (n) => ({
          from: 'Acme <news@example.com>',
          to: `reader${n}@example.org`,
          subject: 'Our new catalogue',
          html: '<p>The catalogue is attached.</p>',
          attachments: [{ filename: 'catalogue.pdf', attachmentId: up.id }],
        }),
        // The client's PUT to the presigned URL: billed to the bucket's owner, once per batch of 100.
        outside: [{ op: 's3:PutObject (presigned upload)', key: uploadOf(up.id).key, bytes: file.length }],
      };
    },
  });
  return {
    attachmentKB: ATTACHMENT_BYTES / 1024,
    ownFile: { ...ownFile, attachmentCostUSD: attachmentShare(ownFile) },
    sharedUpload: { ...sharedUpload, attachmentCostUSD: attachmentShare(sharedUpload) },
  };
}

export interface LargeDispatchFigures {
  readonly attachmentMB: number;
  /** The message's size as providers count it (base64 and MIME), in MB. */
  readonly messageMB: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly maxMs: number;
  /** Growth over the idle dispatcher at the peak of the worst run, in MB (heap and buffers sampled every ms). */
  readonly heapGrowthMB: number;
  readonly buffersGrowthMB: number;
  readonly rssGrowthMB: number;
  /** The dispatcher's configured memory (lib/spec.ts). */
  readonly functionMemoryMB: number;
}

const MB = 1024 * 1024;

/** A collection, when the process can be asked for one (flags set at run time reach a new context's gc). */
const collect: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

export async function measureLargeDispatch(runs = 5, attachmentBytes = 10 * MB): Promise<LargeDispatchFigures> {
  // SES, played by an endpoint that reads the whole request before answering, as SES does.
  let onRequest = () => {};
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      onRequest();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ MessageId: `ses-${Date.now()}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const ses = new SESv2Client({
      ...SES_CLIENT_OPTIONS,
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const { chain } = memoryChain([new SesProvider(ses)], {
      windows: new MemoryRateWindows(),
      maxMessageBytes: { ses: 40 * MB },
    });
    const messages = new MemoryMessageStore();
    const content = new MemoryContentStore();
    const noQueue = { send: async () => [], delay: async () => {} };
    const handler = createDispatchHandler({
      messages,
      suppression: new MemorySuppression(),
      chain,
      content,
      queues: { of: () => ({ queue: noQueue, visibility: noQueue }) },
      links: {
        baseUrl: 'https://mail.example.com',
        keys: new StaticSigningKeys({ current: 'k1', keys: { k1: 'bench-signing-key-0123456789abcdef0123' } }),
      },
      trackDefaults: { opens: false, clicks: false },
      maxReceiveCount: QUEUES.send.maxReceiveCount,
      timeoutSeconds: 30,
    });

    /** Stores a file of `bytes`, records and queues one email naming it; its SQS event. */
    const queued = async (n: number, bytes: number): Promise<SQSEvent> => {
      const file = pdf(bytes);
      const key = contentKey('attachments', createHash('sha256').update(file).digest('hex'));
      await content.put(key, file, 'application/pdf');
      const id = `large-${n}`;
      const q = toQueuedEmail(
        id,
        SendEmailBody.parse({
          from: 'reports@example.com',
          to: 'user@example.org',
          subject: 'Report',
          text: 'Attached.',
        }),
      );
      const attachments = [
        {
          filename: 'report.pdf',
          contentType: 'application/pdf',
          disposition: 'attachment' as const,
          key,
          size: bytes,
        },
      ];
      const email = { ...q, attachments, size: messageBytes({ ...q, attachments }) };
      messages.items.set(id, newRecord({ ...email, apiKey: 'bench' }, new Date(), 30));
      return {
        Records: [
          {
            messageId: id,
            receiptHandle: `r-${id}`,
            body: toQueueBody(email),
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: String(Date.now()),
              SenderId: 'bench',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${QUEUES.send.id}`,
            awsRegion: 'us-east-1',
          },
        ],
      };
    };
    const dispatch = async (event: SQSEvent) => {
      const out = await handler(event, lambdaContext('dispatch'));
      if (out.batchItemFailures.length > 0) throw new Error('the large message was not sent');
    };

    // Warm: the SDK, the chain and the handler's first-use work are not the message's cost.
    await dispatch(await queued(0, 64 * 1024));

    const times: number[] = [];
    let heap = 0;
    let buffers = 0;
    let rss = 0;
    let size = 0;
    for (let n = 1; n <= runs; n++) {
      const event = await queued(n, attachmentBytes);
      size = JSON.parse(event.Records[0]?.body ?? '{}').size;
      collect();
      const base = process.memoryUsage();
      const peak = { heap: 0, buffers: 0, rss: 0 };
      const sample = () => {
        const m = process.memoryUsage();
        peak.heap = Math.max(peak.heap, m.heapUsed - base.heapUsed);
        peak.buffers = Math.max(peak.buffers, m.external + m.arrayBuffers - (base.external + base.arrayBuffers));
        peak.rss = Math.max(peak.rss, m.rss - base.rss);
      };
      // Sampled while the event loop turns, and when SES has read the whole request (the request built).
      const timer = setInterval(sample, 1);
      onRequest = sample;
      const maxRssBefore = process.resourceUsage().maxRSS;
      const started = performance.now();
      await dispatch(event);
      times.push(performance.now() - started);
      clearInterval(timer);
      sample();
      // A new high-water mark of the process was set by this message: its true peak, not a sample.
      const maxRssAfter = process.resourceUsage().maxRSS;
      if (maxRssAfter > maxRssBefore) peak.rss = Math.max(peak.rss, maxRssAfter * 1024 - base.rss);
      heap = Math.max(heap, peak.heap);
      buffers = Math.max(buffers, peak.buffers);
      rss = Math.max(rss, peak.rss);
      // The file's own copy in the in-memory content store is not the dispatcher's: drop it.
      content.objects.clear();
    }
    const sorted = [...times].sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      attachmentMB: attachmentBytes / MB,
      messageMB: round(size / MB),
      runs,
      medianMs: round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      maxMs: round(sorted[sorted.length - 1] ?? 0),
      heapGrowthMB: round(heap / MB),
      buffersGrowthMB: round(buffers / MB),
      rssGrowthMB: round(rss / MB),
      functionMemoryMB: FUNCTIONS.dispatch.memorySize,
    };
  } finally {
    await new Promise((r) => server.close(r));
  }
}
