/**
 * Settings shared by the test configuration (Node), the loopback servers and the tests (workerd).
 * @module
 */

/** Origin the worker under test believes it has (PUBLIC_BASE_URL). */
export const TEST_ORIGIN = 'http://edge.test';
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';
export const TEST_INTERNAL_SECRET = 'test-internal-secret-0123456789';
export const TEST_FLEET_METRICS_TOKEN = 'test-fleet-metrics-token-0123456789';
/** s3rver's default credentials. */
export const TEST_S3_KEY = 'S3RVER';
export const TEST_S3_SECRET = 'S3RVER';
export const TEST_BUCKET = 'images';
export const TEST_PREFIX = 'predictions';
