import { createAudienceJobsHandler } from '../app/audience-jobs';
import { audienceConfig } from '../config';
import { awsAudienceDeps } from './audience-wiring';

/** SQS event source (audience jobs) → broadcast fan-out pages and contact imports. */
export const handler = createAudienceJobsHandler(awsAudienceDeps(audienceConfig()));
