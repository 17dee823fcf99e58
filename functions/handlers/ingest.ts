import { createIngestHandler } from '../app/ingest';
import { ingestConfig } from '../config';
import { awsIngestDeps } from './ingest-wiring';

/** API Gateway (HTTP API, payload 2.0) → the /v1 routes. */
export const handler = createIngestHandler(awsIngestDeps(ingestConfig()));
