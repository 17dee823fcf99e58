import { createDispatchHandler } from '../app/dispatch';
import { dispatchConfig } from '../config';
import { awsDispatchDeps } from './wiring';

/** SQS event source (send queue) → suppression check, claim, send, record. */
export const handler = createDispatchHandler(awsDispatchDeps(dispatchConfig()));
