/**
 * Wires the backend together from a validated config: metrics, logger, S3 output store, callback dispatcher,
 * prediction service, the work puller that leases jobs from the edge, and the HTTP server (probes, metrics,
 * health); plus listening on a port and draining on shutdown.
 * @module
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createS3OutputStore, type OutputStore } from '../storage/s3-output-store.js';
import { createApp } from './app.js';
import { CallbackDispatcher } from './callbacks.js';
import type { Config } from './config.js';
import { FleetClient } from './fleet-client.js';
import { createLogger, type Logger } from './logger.js';
import { BackendMetricsRegistry } from './metrics.js';
import type { EncodeImage, LoadPipeline } from './pipeline-port.js';
import { PredictionService } from './prediction-service.js';
import { WorkPuller } from './work-puller.js';

export interface BackendDeps {
  loadPipeline: LoadPipeline;
  encode: EncodeImage;
  logger?: Logger;
  /** Defaults to an S3 store built from `config.s3`. */
  store?: OutputStore;
}

export interface Backend {
  readonly app: ReturnType<typeof createApp>;
  readonly service: PredictionService;
  readonly puller: WorkPuller;
  readonly metrics: BackendMetricsRegistry;
  readonly logger: Logger;
  /** Starts listening (port 0 = any free port), loading models in the background, then pulling work. */
  listen(): Promise<{ port: number; url: string }>;
  /**
   * Drains: stops polling for work, hands back what has not started, lets the running batch finish (within
   * `DRAIN_TIMEOUT_MS`), keeps its leases alive with heartbeats meanwhile, flushes callbacks, closes the server.
   */
  shutdown(): Promise<{ flushed: boolean }>;
}

export function createBackend(config: Config, deps: BackendDeps): Backend {
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  let service: PredictionService | undefined;
  const metrics = new BackendMetricsRegistry({
    queueDepth: () => service?.queueDepth ?? 0,
    running: () => service?.runningCount ?? 0,
    status: () => service?.health().status ?? 'STARTING',
    leasesHeld: () => service?.heldCount ?? 0,
    leaseCapacity: () => service?.leaseCapacity ?? 0,
  });
  const store = deps.store ?? createS3OutputStore(config.s3);
  const callbacks = new CallbackDispatcher({ secret: config.internalSecret, ...config.callbacks, logger, metrics });
  const predictions = new PredictionService({
    models: config.models,
    providers: config.providers,
    deepcacheBranches: config.deepcacheBranches,
    deepcacheCacheDir: config.deepcacheCacheDir,
    intraOpThreads: config.intraOpThreads,
    queueCapacity: config.queueCapacity,
    maxBatchSize: config.maxBatchSize,
    maxBatchWaitMs: config.maxBatchWaitMs,
    outputPrefix: config.outputPrefix,
    progressIntervalMs: config.callbacks.progressIntervalMs,
    finishedRetention: config.finishedRetention,
    loadPipeline: deps.loadPipeline,
    outputs: { store, encode: deps.encode },
    callbacks,
    metrics,
    logger,
  });
  service = predictions;
  const puller = new WorkPuller({
    client: new FleetClient({ edgeUrl: config.fleet.edgeUrl, secret: config.internalSecret, timeoutMs: config.fleet.timeoutMs }),
    service: predictions,
    workerId: config.fleet.workerId,
    models: config.models.map((m) => m.id),
    leaseWaitMs: config.fleet.leaseWaitMs,
    backoff: config.fleet.backoff,
    metrics,
    logger: logger.child({ worker_id: config.fleet.workerId }),
  });
  predictions.connectHandBack((leases, reason) => puller.release(leases, reason));
  const app = createApp({
    service: predictions,
    secret: config.internalSecret,
    ...(config.internalSecretPrevious === undefined ? {} : { previousSecret: config.internalSecretPrevious }),
    metricsToken: config.metricsToken,
    logger,
    metrics,
  });
  let server: ReturnType<typeof serve> | undefined;
  let started: Promise<void> | undefined;

  return {
    app,
    service: predictions,
    puller,
    metrics,
    logger,
    async listen() {
      const info = await new Promise<AddressInfo>((resolve, reject) => {
        server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, resolve);
        server.once('error', reject);
      });
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      logger.info('listening', { port: info.port, host: info.address, worker_id: config.fleet.workerId });
      // The puller's loops wait until the models are loaded; they end at once when loading failed.
      started = predictions.start();
      puller.start();
      return { port: info.port, url: `http://${host}:${info.port}` };
    },
    async shutdown() {
      const polling = puller.stopPolling(config.drainTimeoutMs);
      const result = await predictions.shutdown(config.drainTimeoutMs);
      await polling;
      await puller.stop();
      await started;
      store.close();
      await new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      return result;
    },
  };
}
