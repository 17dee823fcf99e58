/**
 * `npm run ses:replay -- <file.json> [more.json…]`: publishes saved SES notifications (event
 * publishing or identity notification format, bare or inside their SNS envelope) to the local
 * stack's SES events topic, to reproduce a real notification on a laptop. Needs `npm start` running
 * (found through .local/state.json), or --endpoint and --topic-arn.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { interpret, SesNotification, unwrap } from '../functions/core/ses-events';

const USAGE = 'usage: npm run ses:replay -- <notification.json> [more.json …] [--endpoint <url> --topic-arn <arn>]';

function target(endpoint?: string, topicArn?: string): { endpoint: string; topicArn: string } {
  if (endpoint && topicArn) return { endpoint, topicArn };
  const file = join(process.cwd(), '.local', 'state.json');
  if (!existsSync(file))
    throw new Error('no local stack found: start it with `npm start` (or pass --endpoint and --topic-arn)');
  const state = JSON.parse(readFileSync(file, 'utf8')) as {
    pid: number;
    awsEndpoint: string;
    sesEventsTopicArn: string;
  };
  try {
    process.kill(state.pid, 0);
  } catch {
    throw new Error('the local stack in .local/state.json is not running: start it with `npm start`');
  }
  return { endpoint: state.awsEndpoint, topicArn: state.sesEventsTopicArn };
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { endpoint: { type: 'string' }, 'topic-arn': { type: 'string' } },
  });
  if (positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const { endpoint, topicArn } = target(values.endpoint, values['topic-arn']);
  const sns = new SNSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  for (const path of positionals) {
    const notification = unwrap(JSON.parse(readFileSync(path, 'utf8')));
    const parsed = SesNotification.safeParse(notification);
    if (!parsed.success)
      throw new Error(`${path} is not an SES notification: ${parsed.error.issues[0]?.message ?? ''}`);
    const meaning = interpret(parsed.data);
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(notification) }));
    process.stdout.write(
      `published ${path}: ${parsed.data.eventType ?? parsed.data.notificationType} for SES message ${parsed.data.mail.messageId}` +
        `${meaning?.messageId ? ` (mailroute ${meaning.messageId})` : ''}\n`,
    );
  }
  sns.destroy();
}

main().catch((e: unknown) => {
  process.stderr.write(`ses:replay failed: ${(e as Error).message}\n`);
  process.exit(1);
});
