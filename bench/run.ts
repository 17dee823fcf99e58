/**
 * `npm run bench`: prints every figure against its target and writes bench/results.json.
 * Timings are medians on a shared machine: compare ratios, not absolute milliseconds.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACHMENT_ASSUMPTIONS, measureAttachmentRequests, measureLargeDispatch } from './attachments';
import { BROADCAST_TARGETS, broadcastLines, measureEndToEnd, measureFanout } from './broadcasts';
import { measureFunctions } from './bundles';
import { measureLimiter, measureShares } from './limiter';
import { LATENCY_MS, measurePriority } from './priority';
import { ASSUMPTIONS, measureRequests, PRICES } from './requests';
import { measureScheduling, schedulingLines } from './scheduling';
import { measureEngineInit, measureTemplateRender } from './templates';
import { measureThroughput, PROVIDER_LATENCY_MS } from './throughput';
import { measureWebhooks, WEBHOOK_ASSUMPTIONS } from './webhooks';

export const TARGETS = {
  initRatio: 1.2,
  dynamodbPerEmail: 3.5,
  sqsPerEmail: 0.3,
  costPerMillionUSD: 2.5,
  /** Single sends, each with an Idempotency-Key: the path most applications use. */
  singleCostPerMillionUSD: 4.0,
  limiterOverAdmissions: 0,
  limiterUtilization: 0.9,
  /** Emails per second per invocation, as a share of batch size / provider latency. */
  throughputRatio: 0.8,
  /** Priority under load: accept-to-provider p99 of transactional mail behind a bulk backlog. */
  priorityP99Ms: 2000,
  /** Priority under load: bulk throughput while the transactional mail passes, as a share of the limit. */
  priorityBulkShare: 0.6,
  /** Rendering a 50 KB template with 20 variables and a layout at accept time, compiled version cached. */
  templateRenderP99Ms: 2,
  /** Added by webhooks per 1M emails, one endpoint subscribed to every event, five events per email. */
  webhookCostPerMillionEmailsUSD: 1.5,
  /** Request cost of one million scheduled emails (DynamoDB, S3, Scheduler, SQS), provider excluded. */
  scheduledCostPerMillionUSD: 5,
  /** An email with one 200 KB attachment, everything but the provider (S3 put/get and storage, SQS, DynamoDB, ...). */
  attachmentCostPerMillionUSD: 4.0,
} as const;

/** Figures are compared at the precision their target is stated in, plus one digit. */
const met = (value: number, target: number, digits = 2) => Number(value.toFixed(digits)) <= target;
const mark = (ok: boolean) => (ok ? 'met' : 'NOT MET');

/** Broadcasts (bench/broadcasts.ts): the fan-out of a large list, and the end-to-end cost per 1M. */
async function measureBroadcasts() {
  const fanout = await measureFanout(Number(process.env.BENCH_BROADCAST_CONTACTS ?? 20_000));
  const endToEnd = await measureEndToEnd(Number(process.env.BENCH_BROADCAST_E2E ?? 1000));
  return {
    fanout,
    endToEnd,
    targets: BROADCAST_TARGETS,
    met: {
      dynamodbReadsPerContact: fanout.dynamodbReadUnitsPerContact <= BROADCAST_TARGETS.dynamodbReadsPerContact,
      sqsPerContact: fanout.sqsPerContact <= BROADCAST_TARGETS.sqsPerContact,
    },
  };
}

const RESULTS = join(import.meta.dirname, 'results.json');

// `npx tsx bench/run.ts broadcasts`: that part alone, its figures written into results.json beside the others.
if (process.argv[2] === 'broadcasts') {
  const broadcasts = await measureBroadcasts();
  process.stdout.write(`${broadcastLines(broadcasts.fanout, broadcasts.endToEnd).join('\n')}\n`);
  const previous = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(RESULTS, `${JSON.stringify({ ...previous, broadcasts }, null, 2)}\n`);
  process.stdout.write('wrote bench/results.json (broadcasts)\n');
  process.exit(0);
}

const functions = await measureFunctions(25);
const perEmail = await measureRequests(1000, 'batch');
const single = await measureRequests(1000, 'single');
const limiter = await measureLimiter();
const shares = await measureShares();
const throughput = [];
for (const storeLatencyMs of [0, 5])
  for (const n of [10, 100]) throughput.push(await measureThroughput(n, storeLatencyMs));
// BENCH_PRIORITY_BULK scales the backlog down for a quicker run (the figures say which was used).
const priority = await measurePriority({ bulk: Number(process.env.BENCH_PRIORITY_BULK ?? 5000) });
// The same at half the transactional pace (10 a second, 20 % of the limit).
const priorityModerate = await measurePriority({
  bulk: Number(process.env.BENCH_PRIORITY_BULK ?? 5000),
  spreadMs: 10_000,
});
const templates = await measureTemplateRender();
const engineInit = await measureEngineInit();
const webhooks = await measureWebhooks(Number(process.env.BENCH_WEBHOOK_EMAILS ?? 200));
const scheduling = await measureScheduling(200);
const attachments = await measureAttachmentRequests();
const largeDispatch = await measureLargeDispatch();
const broadcasts = await measureBroadcasts();

const lines: string[] = [
  '',
  'mailroute bench',
  '',
  'Lambda bundles (median of 25 fresh Node processes; the floor holds only the SDK clients the function uses)',
  '  init: importing the bundle. init + first: then one typical invocation (ingest: POST /v1/emails with an',
  '  Idempotency-Key; dispatch: a batch of one; sesEvents: a delivery; tracking: an open pixel), every AWS call',
  '  answered locally; the floor then makes one call on each of its clients. Work deferred from init shows there.',
];
lines.push(
  '  function   bundle KB  floor KB  init ms  floor ms  ratio  target ≤ 1.2×   init+first ms  floor ms  ratio  target ≤ 1.2×  first answered',
);
for (const [name, f] of Object.entries(functions)) {
  lines.push(
    `  ${name.padEnd(9)}  ${String(f.bundleKB).padStart(9)}  ${String(f.floorBundleKB).padStart(8)}  ${f.initMs.toFixed(1).padStart(7)}  ${f.floorInitMs.toFixed(1).padStart(8)}  ${f.initRatio.toFixed(2).padStart(5)}  ${mark(f.initRatio <= TARGETS.initRatio).padEnd(13)}  ${f.firstMs.toFixed(1).padStart(13)}  ${f.floorFirstMs.toFixed(1).padStart(8)}  ${f.firstRatio.toFixed(2).padStart(5)}  ${mark(f.firstRatio <= TARGETS.initRatio).padEnd(13)}  ${Object.entries(
      f.firstStatus,
    )
      .map(([status, n]) => `${status} ×${n}`)
      .join(', ')}`,
  );
}
lines.push('', 'Largest parts of each bundle (KB, esbuild metafile)');
for (const [name, f] of Object.entries(functions)) {
  lines.push(`  ${name.padEnd(9)}  ${f.topInputs.map((t) => `${t.name} ${t.kb}`).join(', ')}`);
}
lines.push(
  '',
  `AWS requests per email (${perEmail.emails} emails through the batch API on the local stack, ${perEmail.seconds} s)`,
);
for (const [op, n] of Object.entries(perEmail.byOperation)) lines.push(`  ${op.padEnd(26)} ${n.toFixed(3)}`);
lines.push(
  `  DynamoDB  ${perEmail.dynamodb.toFixed(3)} requests/email (${perEmail.dynamodbWRU} WRU, ${perEmail.dynamodbRRU} RRU; item ${perEmail.itemBytes} B)  target ≤ ${TARGETS.dynamodbPerEmail}: ${mark(met(perEmail.dynamodb, TARGETS.dynamodbPerEmail))}`,
  `  search index (GET /v1/emails): ${perEmail.searchIndexWRU} WRU/email, ${perEmail.searchIndexBytes} B/email stored (one entry per key timeline, all-keys timeline and recipient)`,
  `  SQS       ${perEmail.sqs.toFixed(3)} requests/email (floor 0.300: send, receive, delete per 10; the rest is idle long polls)  target ≤ ${TARGETS.sqsPerEmail}: ${mark(met(perEmail.sqs, TARGETS.sqsPerEmail))}`,
  `            (apart: ${perEmail.idleSesEventsPolls} idle long polls of the SES-events queue and ${perEmail.idlePriorityPolls} of the critical and bulk queues during the run, a fixed cost per poller)`,
  '',
  'Infrastructure cost per 1M emails (on-demand, us-east-1; provider price excluded)',
);
for (const [k, v] of Object.entries(perEmail.costBreakdownUSD)) lines.push(`  ${k.padEnd(24)} $${v.toFixed(3)}`);
lines.push(
  `  total                    $${perEmail.costPerMillionUSD.toFixed(2)}  target ≤ $${TARGETS.costPerMillionUSD}: ${mark(met(perEmail.costPerMillionUSD, TARGETS.costPerMillionUSD))}`,
  '',
  `Single sends with an Idempotency-Key (${single.emails} requests of one email, 10 at a time, ${single.seconds} s)`,
);
for (const [op, n] of Object.entries(single.byOperation)) lines.push(`  ${op.padEnd(26)} ${n.toFixed(3)}`);
lines.push(
  `  DynamoDB  ${single.dynamodb.toFixed(3)} requests/email (${single.dynamodbWRU} WRU, ${single.dynamodbRRU} RRU)   SQS ${single.sqs.toFixed(3)} requests/email`,
);
for (const [k, v] of Object.entries(single.costBreakdownUSD)) lines.push(`  ${k.padEnd(24)} $${v.toFixed(3)}`);
lines.push(
  `  total                    $${single.costPerMillionUSD.toFixed(2)}  target ≤ $${TARGETS.singleCostPerMillionUSD.toFixed(2)}: ${mark(met(single.costPerMillionUSD, TARGETS.singleCostPerMillionUSD))}`,
  '',
);
lines.push(
  `Rate-window limiter (${limiter.dispatchers} racing dispatchers, ${limiter.limit} per ${limiter.windowSeconds} s, ${limiter.windows} windows of backlog)`,
  `  most admissions in any ${limiter.windowSeconds} s: ${limiter.maxInAnyWindow}  over-admissions ${limiter.overAdmissions}  target ${TARGETS.limiterOverAdmissions}: ${mark(limiter.overAdmissions === 0)}`,
  `  utilization of the limit: ${(limiter.utilization * 100).toFixed(1)}%  target ≥ ${TARGETS.limiterUtilization * 100}%: ${mark(limiter.utilization >= TARGETS.limiterUtilization)}`,
  '',
  `Rate-window shares (${shares.dispatchers} racing dispatchers, ${shares.limit} per ${shares.windowSeconds} s, bulk reserve ${shares.bulkReservePercent}%, ${shares.windows} windows)`,
  `  only bulk waiting: most in any ${shares.windowSeconds} s ${shares.onlyBulk.maxInAnyWindow}  over-admissions ${shares.onlyBulk.overAdmissions}  target ${TARGETS.limiterOverAdmissions}: ${mark(shares.onlyBulk.overAdmissions === 0)}`,
  `    utilization of the limit: ${(shares.onlyBulk.utilization * 100).toFixed(1)}%  target ≥ ${TARGETS.limiterUtilization * 100}%: ${mark(shares.onlyBulk.utilization >= TARGETS.limiterUtilization)}`,
  `  bulk backlog + ${shares.mixed.transactionalDispatchers} dispatchers of transactional mail (1 per 200 ms each): most in any ${shares.windowSeconds} s ${shares.mixed.maxInAnyWindow}  over-admissions ${shares.mixed.overAdmissions}  target ${TARGETS.limiterOverAdmissions}: ${mark(shares.mixed.overAdmissions === 0)}`,
  `    transactional admitted ${shares.mixed.transactionalAdmitted} of ${shares.mixed.transactionalAsked}, longest wait ${shares.mixed.transactionalMaxWaitMs} ms; bulk got ${(shares.mixed.bulkShareOfLimit * 100).toFixed(1)}% of the limit, all mail ${(shares.mixed.utilization * 100).toFixed(1)}% (informational)`,
  '',
);
lines.push(
  `Dispatch throughput per invocation (provider answers in ${PROVIDER_LATENCY_MS} ms; median of 15 batches)`,
  '  batch  store ms  batch ms  emails/s  ideal/s  ratio  target ≥ 0.8',
);
for (const t of throughput) {
  const target = t.storeLatencyMs === 0 ? mark(t.ratio >= TARGETS.throughputRatio) : '(informational)';
  lines.push(
    `  ${String(t.batchSize).padStart(5)}  ${String(t.storeLatencyMs).padStart(8)}  ${t.medianMs.toFixed(1).padStart(8)}  ${String(t.emailsPerSecond).padStart(8)}  ${String(t.idealPerSecond).padStart(7)}  ${t.ratio.toFixed(2).padStart(5)}  ${target}`,
  );
}
lines.push(
  '  (store ms 0: the stores in memory, the dispatcher alone; 5: each store request takes 5 ms, about DynamoDB in-region)',
  '',
);
const priorityLines = (p: typeof priority) => [
  `  ${p.transactional} transactional over ${p.spreadSeconds} s (${p.transactional / p.spreadSeconds}/s) once ${p.bulkSentBefore} of ${p.bulkBacklog} bulk were out (${p.seconds} s):`,
  `    transactional accept-to-provider: p50 ${p.acceptToProviderMs.p50} ms  p99 ${p.acceptToProviderMs.p99} ms  max ${p.acceptToProviderMs.max} ms  target p99 ≤ ${TARGETS.priorityP99Ms} ms: ${mark(p.acceptToProviderMs.p99 <= TARGETS.priorityP99Ms)}`,
  `    bulk while they passed (${p.windowSeconds} s): ${p.bulkPerSecondWhilePassing}/s = ${(p.bulkShareOfLimit * 100).toFixed(1)}% of the limit  target ≥ ${TARGETS.priorityBulkShare * 100}%: ${mark(p.bulkShareOfLimit >= TARGETS.priorityBulkShare)}`,
];
lines.push(
  `Priority under load (the dispatcher in process, a queue per priority, pollers ${Object.entries(priority.pollers)
    .map(([p, n]) => `${p} ${n}`)
    .join(
      ' / ',
    )}; store ${LATENCY_MS.store} ms, SQS ${LATENCY_MS.sqs} ms, provider ${LATENCY_MS.provider} ms; one provider limited to ${priority.limitPerSecond}/s)`,
  ...priorityLines(priority),
  ...priorityLines(priorityModerate),
  `Templates: render at accept time (${templates.templateKB} KB of html, ${templates.variables} variables, a layout and a slot; ${templates.renders} renders, the compiled version cached)`,
  `  p50 ${templates.p50Ms} ms  p99 ${templates.p99Ms} ms  target ≤ ${TARGETS.templateRenderP99Ms} ms: ${mark(templates.p99Ms <= TARGETS.templateRenderP99Ms)}`,
  `  compile: first in a process ${templates.coldCompileMs} ms (engine set up), then ${templates.compileMs} ms (median)`,
  `  ingest cold init (median, fresh processes): ${engineInit.initMs} ms as deployed (${engineInit.bundleKB} KB; the engine evaluated on the first templated send, ${engineInit.engineLoadMs} ms on its own),`,
  `  ${engineInit.eagerInitMs} ms with the engine evaluated at import (${engineInit.eagerBundleKB} KB)`,
  '',
);
lines.push(...schedulingLines(scheduling, TARGETS.scheduledCostPerMillionUSD), '');
const attachmentLines = (title: string, f: typeof attachments.ownFile) => [
  `  ${title} (${f.emails} emails, ${f.seconds} s)`,
  ...Object.entries(f.byOperation).map(([op, n]) => `    ${op.padEnd(34)} ${n.toFixed(3)}`),
  `    ${Object.entries(f.costBreakdownUSD)
    .map(([k, v]) => `${k} $${v.toFixed(3)}`)
    .join(', ')}`,
  `    total $${f.costPerMillionUSD.toFixed(2)} per 1M (of which the file: $${f.attachmentCostUSD.toFixed(2)} in S3 requests and storage)  target ≤ $${TARGETS.attachmentCostPerMillionUSD.toFixed(2)}: ${mark(met(f.costPerMillionUSD, TARGETS.attachmentCostPerMillionUSD))}`,
];
lines.push(
  `Attachments: one ${attachments.attachmentKB} KB PDF per email, requests per email on the local stack and cost per 1M (S3 Standard; files kept as their prefix's lifecycle keeps them)`,
  ...attachmentLines('each email its own file, single sends with an Idempotency-Key', attachments.ownFile),
  ...attachmentLines('a batch of 100 naming one file uploaded through its presigned URL', attachments.sharedUpload),
  `Dispatch of one message with a ${largeDispatch.attachmentMB} MB attachment (${largeDispatch.messageMB} MB encoded; the dispatcher in process, SES adapter and SDK, content store in memory; ${largeDispatch.runs} runs)`,
  `  median ${largeDispatch.medianMs} ms, max ${largeDispatch.maxMs} ms; growth at the peak: heap ${largeDispatch.heapGrowthMB} MB, buffers ${largeDispatch.buffersGrowthMB} MB, RSS ${largeDispatch.rssGrowthMB} MB (the dispatcher has ${largeDispatch.functionMemoryMB} MB) (informational)`,
  '',
);
process.stdout.write(`${lines.join('\n')}\n`);

process.stdout.write(
  [
    `Webhooks (${webhooks.emails} emails to the success simulator, ${webhooks.events} events, one endpoint subscribed to all, a receiver on this machine)`,
    ...Object.entries(webhooks.byOperation).map(([op, n]) => `  ${op.padEnd(26)} ${n.toFixed(3)} per event`),
    `  SQS ${webhooks.sqsPerEvent.toFixed(3)}  DynamoDB ${webhooks.dynamodbPerEvent.toFixed(3)} requests/event (the local stack reads the endpoint list per event; in AWS it is cached ${5} s)`,
    ...Object.entries(webhooks.costPerMillionEventsUSD).map(
      ([k, v]) => `  ${k.padEnd(24)} $${v.toFixed(3)} per 1M events`,
    ),
    `  added per 1M emails at ${WEBHOOK_ASSUMPTIONS.eventsPerEmail} events each: $${webhooks.addedCostPerMillionEmailsUSD.toFixed(2)}  target ≤ $${TARGETS.webhookCostPerMillionEmailsUSD.toFixed(2)}: ${mark(met(webhooks.addedCostPerMillionEmailsUSD, TARGETS.webhookCostPerMillionEmailsUSD))}`,
    `  state change to receiver on the local stack: p50 ${webhooks.latencyMs.p50} ms, p99 ${webhooks.latencyMs.p99} ms (one poller per queue locally; informational)`,
    '',
    ...broadcastLines(broadcasts.fanout, broadcasts.endToEnd),
    '',
  ].join('\n'),
);

const results = {
  generatedAt: new Date().toISOString(),
  node: process.version,
  functions: Object.fromEntries(
    Object.entries(functions).map(([k, f]) => [
      k,
      {
        bundleKB: f.bundleKB,
        initMs: f.initMs,
        floorInitMs: f.floorInitMs,
        floorBundleKB: f.floorBundleKB,
        initRatio: f.initRatio,
        firstMs: f.firstMs,
        floorFirstMs: f.floorFirstMs,
        firstRatio: f.firstRatio,
        firstStatus: f.firstStatus,
        topInputs: f.topInputs,
      },
    ]),
  ),
  perEmail: {
    dynamodb: perEmail.dynamodb,
    sqs: perEmail.sqs,
    costPerMillionUSD: perEmail.costPerMillionUSD,
    byOperation: perEmail.byOperation,
    dynamodbWRU: perEmail.dynamodbWRU,
    dynamodbRRU: perEmail.dynamodbRRU,
    itemBytes: perEmail.itemBytes,
    idleSesEventsPolls: perEmail.idleSesEventsPolls,
    idlePriorityPolls: perEmail.idlePriorityPolls,
    costBreakdownUSD: perEmail.costBreakdownUSD,
  },
  singleSend: single,
  targets: TARGETS,
  met: {
    initRatio: Object.fromEntries(Object.entries(functions).map(([k, f]) => [k, f.initRatio <= TARGETS.initRatio])),
    firstRatio: Object.fromEntries(Object.entries(functions).map(([k, f]) => [k, f.firstRatio <= TARGETS.initRatio])),
    dynamodb: met(perEmail.dynamodb, TARGETS.dynamodbPerEmail),
    sqs: met(perEmail.sqs, TARGETS.sqsPerEmail),
    cost: met(perEmail.costPerMillionUSD, TARGETS.costPerMillionUSD),
    singleCost: met(single.costPerMillionUSD, TARGETS.singleCostPerMillionUSD),
    limiterOverAdmissions: limiter.overAdmissions === 0,
    limiterUtilization: limiter.utilization >= TARGETS.limiterUtilization,
    sharesOverAdmissions: shares.onlyBulk.overAdmissions === 0 && shares.mixed.overAdmissions === 0,
    sharesUtilizationOnlyBulk: shares.onlyBulk.utilization >= TARGETS.limiterUtilization,
    throughput: Object.fromEntries(
      throughput.filter((t) => t.storeLatencyMs === 0).map((t) => [t.batchSize, t.ratio >= TARGETS.throughputRatio]),
    ),
    priorityP99: priority.acceptToProviderMs.p99 <= TARGETS.priorityP99Ms,
    priorityBulkShare: priority.bulkShareOfLimit >= TARGETS.priorityBulkShare,
    priorityModerateP99: priorityModerate.acceptToProviderMs.p99 <= TARGETS.priorityP99Ms,
    priorityModerateBulkShare: priorityModerate.bulkShareOfLimit >= TARGETS.priorityBulkShare,
    templateRender: templates.p99Ms <= TARGETS.templateRenderP99Ms,
    attachmentOwnFileCost: met(attachments.ownFile.costPerMillionUSD, TARGETS.attachmentCostPerMillionUSD),
    attachmentSharedUploadCost: met(attachments.sharedUpload.costPerMillionUSD, TARGETS.attachmentCostPerMillionUSD),
  },
  priority,
  priorityModerate,
  limiter,
  shares,
  throughput,
  templates,
  engineInit,
  webhooks,
  scheduling,
  attachments,
  largeDispatch,
  broadcasts,
  prices: PRICES,
  assumptions: { ...ASSUMPTIONS, attachments: ATTACHMENT_ASSUMPTIONS },
};
writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write('wrote bench/results.json\n');
