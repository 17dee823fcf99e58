/** The dispatcher's queues, found by a record's source ARN from the queue URLs the config knows. */
import { describe, expect, it } from 'vitest';
import type { QueueRoute } from '../../../functions/app/dispatch';
import { queuesByName } from '../../../functions/handlers/wiring';
import { MemoryQueue, MemoryVisibility } from '../../support/fakes';

const route = (): QueueRoute => ({ queue: new MemoryQueue(), visibility: new MemoryVisibility() });

describe('queuesByName', () => {
  it('matches the last segment of the ARN with the last path segment of the URL (AWS)', () => {
    const routes = new Map<string, QueueRoute>();
    const queues = queuesByName(
      [
        'https://sqs.eu-west-1.amazonaws.com/123456789012/Mailroute-SendQueue-AbC123',
        'https://sqs.eu-west-1.amazonaws.com/123456789012/Mailroute-BulkQueue-XyZ789',
      ],
      (url) => {
        const r = route();
        routes.set(url, r);
        return r;
      },
    );
    expect(queues.of('arn:aws:sqs:eu-west-1:123456789012:Mailroute-SendQueue-AbC123')).toBe(
      routes.get('https://sqs.eu-west-1.amazonaws.com/123456789012/Mailroute-SendQueue-AbC123'),
    );
    expect(queues.of('arn:aws:sqs:eu-west-1:123456789012:Mailroute-BulkQueue-XyZ789')).toBe(
      routes.get('https://sqs.eu-west-1.amazonaws.com/123456789012/Mailroute-BulkQueue-XyZ789'),
    );
  });

  it('matches the local emulator (fauxqs) URLs and ARNs too', () => {
    const r = route();
    const queues = queuesByName(['http://sqs.us-east-1.127.0.0.1:44889/000000000000/mailroute-send'], () => r);
    expect(queues.of('arn:aws:sqs:us-east-1:000000000000:mailroute-send')).toBe(r);
  });

  it('knows no other source', () => {
    const queues = queuesByName(['https://sqs.eu-west-1.amazonaws.com/123456789012/send'], route);
    expect(queues.of('arn:aws:sqs:eu-west-1:123456789012:send-dlq')).toBeUndefined();
    expect(queues.of('arn:aws:sqs:eu-west-1:123456789012:other')).toBeUndefined();
  });
});
