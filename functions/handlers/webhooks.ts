import { createWebhooksHandler } from '../app/webhooks';
import { webhooksConfig } from '../config';
import { awsWebhooksDeps } from './webhook-wiring';

/** SQS event sources (webhook events, webhook retries) → signed deliveries to endpoints. */
export const handler = createWebhooksHandler(awsWebhooksDeps(webhooksConfig()));
