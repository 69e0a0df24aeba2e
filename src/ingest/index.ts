export { BodyError, readBody } from './body.js';
export { FEATURE_EVENT_COLUMNS, type FeatureEvent, featureEventSchema } from './row-schema.js';
export { type ParsedRows, parseEventsBody } from './rows.js';
export { normalizeTimestamp } from './timestamp.js';
