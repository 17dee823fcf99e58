/**
 * SES's mailbox simulator, locally. In AWS, mail to success@, bounce@, ooto@, complaint@ and
 * suppressionlist@simulator.amazonses.com produces the matching SES event on the configuration
 * set's event destination. Locally this provider sends through the SES emulator, then publishes
 * those events (event-publishing format, with our message-id tag) to the local SNS topic.
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SendOutcome } from '../functions/core/dispatch';
import { MESSAGE_ID_TAG } from '../functions/core/message';
import { addressOf } from '../functions/core/queued-email';
import type { EmailProvider, OutboundEmail } from '../functions/ports';

export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';
type Scenario = 'success' | 'bounce' | 'ooto' | 'complaint' | 'suppressionlist';

/** The simulator scenario of an address ("bounce+label@simulator.amazonses.com" → bounce). */
export function scenarioOf(address: string): Scenario | undefined {
  const [local = '', domain = ''] = addressOf(address).toLowerCase().split('@');
  if (domain !== SIMULATOR_DOMAIN) return undefined;
  const name = local.split('+')[0];
  return (['success', 'bounce', 'ooto', 'complaint', 'suppressionlist'] as const).find((s) => s === name);
}

/** The SES events (event-publishing format) that SES would publish for one simulator recipient. */
export function simulatedEvents(email: OutboundEmail, sesMessageId: string, recipient: string, at: Date): object[] {
  const scenario = scenarioOf(recipient);
  if (!scenario) return [];
  const address = addressOf(recipient);
  const timestamp = at.toISOString();
  const mail = {
    timestamp,
    source: addressOf(email.from),
    sourceArn: `arn:aws:ses:us-east-1:000000000000:identity/${addressOf(email.from).split('@')[1] ?? ''}`,
    sendingAccountId: '000000000000',
    messageId: sesMessageId,
    destination: [...email.to, ...email.cc, ...email.bcc].map(addressOf),
    headersTruncated: false,
    tags: { 'ses:configuration-set': ['local'], [MESSAGE_ID_TAG]: [email.id] },
  };
  const delivery = {
    eventType: 'Delivery',
    mail,
    delivery: {
      timestamp,
      processingTimeMillis: 120,
      recipients: [address],
      smtpResponse: '250 2.6.0 Message received',
      reportingMTA: 'a8-50.smtp-out.amazonses.com',
    },
  };
  const bounce = (subType: string, diagnosticCode: string) => ({
    eventType: 'Bounce',
    mail,
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: subType,
      bouncedRecipients: [{ emailAddress: address, action: 'failed', status: '5.1.1', diagnosticCode }],
      timestamp,
      feedbackId: `${randomUUID()}-000000`,
      reportingMTA: 'dsn; a8-50.smtp-out.amazonses.com',
    },
  });
  switch (scenario) {
    case 'success':
    case 'ooto':
      return [delivery];
    case 'bounce':
      return [bounce('General', 'smtp; 550 5.1.1 user unknown')];
    case 'suppressionlist':
      return [
        bounce(
          'Suppressed',
          'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.',
        ),
      ];
    case 'complaint':
      return [
        delivery,
        {
          eventType: 'Complaint',
          mail,
          complaint: {
            complainedRecipients: [{ emailAddress: address }],
            timestamp,
            feedbackId: `${randomUUID()}-000000`,
            userAgent: 'Amazon SES Mailbox Simulator',
            complaintFeedbackType: 'abuse',
            arrivalDate: timestamp,
          },
        },
      ];
  }
}

/** Publishes of one event tried before it is given up (SES retries its event destinations too). */
const PUBLISH_ATTEMPTS = 8;

export class SimulatedSesProvider implements EmailProvider {
  readonly id: string;
  /** Publishes still under way (tests and shutdown can wait for them). */
  readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly ses: EmailProvider,
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    private readonly delayMs = 150,
  ) {
    this.id = ses.id;
  }

  async send(email: OutboundEmail): Promise<SendOutcome> {
    const outcome = await this.ses.send(email);
    if (outcome.kind !== 'accepted') return outcome;
    const events = [...email.to, ...email.cc, ...email.bcc].flatMap((r) =>
      simulatedEvents(email, outcome.providerMessageId, r, new Date()),
    );
    if (events.length > 0) {
      // Like SES, the events follow the send a little later, not inside it.
      const publish = new Promise((r) => setTimeout(r, this.delayMs)).then(async () => {
        for (const e of events) {
          // SES retries an event destination that fails; so does the simulator, a few times.
          for (let attempt = 1; ; attempt++) {
            try {
              await this.sns.send(new PublishCommand({ TopicArn: this.topicArn, Message: JSON.stringify(e) }));
              break;
            } catch (error) {
              if (attempt >= PUBLISH_ATTEMPTS) throw error;
              await new Promise((r) => setTimeout(r, 50 * attempt));
            }
          }
        }
      });
      const tracked = publish.catch(() => undefined).finally(() => this.pending.delete(tracked));
      this.pending.add(tracked);
    }
    return outcome;
  }
}
