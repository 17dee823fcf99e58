import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createAudienceJobsHandler, type JobHandler, jobBody } from '../../../functions/app/audience-jobs';

const record = (id: string, body: string, receiveCount = '1') => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body,
  attributes: { ApproximateReceiveCount: receiveCount },
  eventSource: 'aws:sqs',
});
const event = (...records: ReturnType<typeof record>[]) => ({ Records: records }) as unknown as SQSEvent;
const context = { functionName: 'audience', awsRequestId: 'r1' } as unknown as Context;

describe('audience jobs', () => {
  it('gives each job to the handler of its kind, with its receive count', async () => {
    const seen: unknown[] = [];
    const fanout: JobHandler = async (job, ctx) => {
      seen.push({ job, ctx });
    };
    const handler = createAudienceJobsHandler({ kinds: { fanout } });
    const out = await handler(event(record('m1', jobBody('fanout', { broadcastId: 'b1', page: 3 }), '2')), context);
    expect(out).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ job: { kind: 'fanout', broadcastId: 'b1', page: 3 }, ctx: { receiveCount: 2 } }]);
  });

  it('fails a job of a kind nobody handles, or one that is not JSON, and only that job', async () => {
    let done = 0;
    const handler = createAudienceJobsHandler({
      kinds: {
        import: async () => {
          done++;
        },
      },
    });
    const out = await handler(
      event(
        record('m1', jobBody('mystery', {})),
        record('m2', 'not json'),
        record('m3', jobBody('import', { importId: 'i1' })),
        record('m4', JSON.stringify({ kind: 'toString' })),
      ),
      context,
    );
    expect(out).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }, { itemIdentifier: 'm4' }],
    });
    expect(done).toBe(1);
  });
});
