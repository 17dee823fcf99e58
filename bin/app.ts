#!/usr/bin/env node
/**
 * The CDK app: one environment-agnostic stack, `Mailroute`, configured by the `mailroute` object of
 * cdk.json's context (see lib/context.ts). Deploys to the account and region of the CLI's credentials.
 */
import { App } from 'aws-cdk-lib';
import { CONTEXT_KEY, type MailrouteContext, parseContext } from '../lib/context';
import { MailrouteStack, stackPropsFromContext } from '../lib/mailroute-stack';

const app = new App();

let context: MailrouteContext;
try {
  context = parseContext(app.node.tryGetContext(CONTEXT_KEY));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

new MailrouteStack(app, 'Mailroute', {
  description: 'mailroute: serverless transactional email (HTTP API, SQS, DynamoDB, SES)',
  ...stackPropsFromContext(context),
});
