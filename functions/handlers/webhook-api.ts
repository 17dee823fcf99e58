import { createWebhookApiHandler } from '../app/webhook-api';
import { webhookApiConfig } from '../config';
import { awsWebhookApiDeps } from './webhook-wiring';

/** API Gateway (HTTP API, payload 2.0) → the /v1/webhooks routes. */
export const handler = createWebhookApiHandler(awsWebhookApiDeps(webhookApiConfig()));
