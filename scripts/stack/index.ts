/** The local stack: `startStack` and the pieces it is built from. */
export { spawnPart, runToCompletion, type ChildExit, type LogSink, type ManagedChild, type SpawnPartOptions } from './child.js';
export { DEMO_MODEL_ID, ensureDemoModel } from './demo-model.js';
export { freePort, isPortFree, assertPortsFree } from './ports.js';
export { S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from './s3.js';
export { DEFAULT_DEV_API_KEY, DEV_ACCOUNT_ID, devAccountSql, readBalance, topUpTo } from './seed.js';
export { readBackendHealth, type BackendPart } from './backend-part.js';
export { localWorkerId, startBackendFleet, type BackendFleet } from './backend-fleet.js';
export type { EdgePart } from './edge-part.js';
export { DEFAULT_PORTS, REPO_ROOT, randomStackPorts, startStack, type Stack, type StackOptions, type StackPorts } from './start-stack.js';
