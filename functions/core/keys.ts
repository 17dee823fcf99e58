/**
 * The formats of the keys mailroute writes into DynamoDB, built in one place. The store adapters
 * (functions/store/) read and write items under these keys, and the CDK constructs build the IAM
 * `dynamodb:LeadingKeys` conditions from the same functions, so a policy cannot drift from the data.
 *
 * The strings are stored data: changing one orphans the items written under the old format.
 * Pure: no AWS SDK, no environment.
 */

// Settings table (partition key `pk`).

/** The live provider settings: chain order, enabled flags and limits, with a version. */
export const LIVE_SETTINGS_KEY = 'settings#providers';

/** One provider's health: its circuit and outcome counts. */
export const providerHealthKey = (providerId: string): string => `health#${providerId}`;

/** What every API key item's partition key starts with (the key tooling scans for it). */
export const API_KEY_PREFIX = 'apikey#';

/** One API key, by the hash of its secret (the secret itself is never stored). */
export const apiKeyKey = (hash: string): string => `${API_KEY_PREFIX}${hash}`;

// Rate-windows table (partition key `pk`).

/** One provider's rate-window counters (every window of that provider in one item). */
export const providerWindowKey = (providerId: string): string => `provider#${providerId}`;

/** What every request counter's partition key starts with. */
export const REQUEST_COUNTER_PREFIX = 'api#';

/** One API key's request counter for one second (epoch seconds). */
export const requestCounterKey = (keyName: string, epochSecond: number): string =>
  `${REQUEST_COUNTER_PREFIX}${keyName}#${epochSecond}`;

// Suppression table (partition key `address`, sort key `scope`).

/** What the scope of every soft-bounce item starts with; no suppression scope does. */
export const SOFT_BOUNCE_SCOPE_PREFIX = '#soft#';

/** The scope of one transient bounce of an address, by the SES feedback id (one item per bounce). */
export const softBounceScope = (feedbackId: string): string => `${SOFT_BOUNCE_SCOPE_PREFIX}${feedbackId}`;

// Reputation table (partition key `pk`).

/** One priority's stream: its state (active, paused), warning and timeline. */
export const streamStateKey = (priority: string): string => `stream#${priority}`;

/** One priority's reputation counters for one hour bucket (hours since the epoch). */
export const reputationCountsKey = (priority: string, hourBucket: number): string => `counts#${priority}#${hourBucket}`;

/** Every counter item of one priority, as an IAM `StringLike` pattern (`*`: any hour bucket). */
export const reputationCountsPattern = (priority: string): string => `counts#${priority}#*`;

// Templates table (partition key `slug`, sort key `sk`).

/** A template's head: kind, name, draft, latest and active version, canary. */
export const TEMPLATE_HEAD_KEY = 'head';

const pad = (version: number): string => String(version).padStart(10, '0');

/** What the sort key of every published version starts with. */
export const TEMPLATE_VERSION_PREFIX = 'v#';

/** One published (immutable) version of a template. */
export const templateVersionKey = (version: number): string => `${TEMPLATE_VERSION_PREFIX}${pad(version)}`;

/** What the sort key of every version's counters starts with. */
export const TEMPLATE_STATS_PREFIX = 'stats#';

/** The counters of one version: sends, render failures, rejections, bounces, complaints. */
export const templateStatsKey = (version: number): string => `${TEMPLATE_STATS_PREFIX}${pad(version)}`;

// Email index table (partition key `pk`, sort key `sk`): the search index of GET /v1/emails.

/** The shards every timeline partition is split into, so one key's or the whole API's writes spread over several partitions. */
export const EMAIL_INDEX_SHARDS = 8;

/** One shard of an API key's timeline: every email the key sent. */
export const keyTimelineKey = (keyName: string, shard: number): string => `key#${keyName}#${shard}`;

/** One shard of every key's timeline (what an admin key searches). */
export const allTimelineKey = (shard: number): string => `all#${shard}`;

/** One recipient's timeline (normalised address): every email sent to it, by any key. */
export const recipientTimelineKey = (address: string): string => `to#${address}`;

/** The sort key of an email in every timeline: newest first is descending order. */
export const timelineSortKey = (createdAt: string, id: string): string => `${createdAt}#${id}`;
