import { createSesEventsHandler } from '../app/ses-events';
import { sesEventsConfig } from '../config';
import { awsSesEventsDeps } from './wiring';

/** SQS (SES events topic, raw delivery) → message status, timeline, suppression list. */
export const handler = createSesEventsHandler(awsSesEventsDeps(sesEventsConfig()));
