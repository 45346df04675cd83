/**
 * Correlation: calls joined to replies, operations grouped by request id, the services behind
 * connections and topics, aliases (`server create`), replies that found no route.
 */
export { type AliasEntry, aliasFor, extendAliases } from './aliases.ts';
export { CallCorrelator, type CallCorrelatorOptions, type CallStats } from './calls.ts';
export { ReplyRouteTracker } from './no-route.ts';
export {
  type BackgroundNote,
  buildOperations,
  type Grouping,
  type GroupOptions,
  type Operation,
  type OperationStep,
  type ServiceRef,
  type ServiceResolver,
} from './operations.ts';
export {
  type ConnectionService,
  identifyServices,
  parseConnectionName,
  ServiceEvidence,
  serviceOfTopic,
} from './services.ts';
export { specResolver } from './spec-services.ts';
