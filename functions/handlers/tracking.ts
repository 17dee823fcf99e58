import { createTrackingHandler } from '../app/tracking';
import { trackingConfig } from '../config';
import { awsTrackingDeps } from './wiring';

/** API Gateway (public routes) → one-click unsubscribe. */
export const handler = createTrackingHandler(awsTrackingDeps(trackingConfig()));
