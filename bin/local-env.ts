// Imported first by the local stack, before any function module creates its logger or metrics:
// locally, metrics are not printed (no CloudWatch to read them) and logs show warnings and errors.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';
process.env.POWERTOOLS_SERVICE_NAME ??= 'mailroute';
process.env.AWS_REGION ??= 'us-east-1';
