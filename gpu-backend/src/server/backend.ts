/**
 * Wires the backend together from a validated config: metrics, logger, S3 output store, callback dispatcher,
 * prediction service and HTTP app, plus listening on a port and draining on shutdown.
 * @module
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createS3OutputStore, type OutputStore } from '../storage/s3-output-store.js';
import { createApp } from './app.js';
import { CallbackDispatcher } from './callbacks.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { BackendMetricsRegistry } from './metrics.js';
import type { EncodeImage, LoadPipeline } from './pipeline-port.js';
import { PredictionService } from './prediction-service.js';

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
  readonly metrics: BackendMetricsRegistry;
  readonly logger: Logger;
  /** Starts listening (port 0 = any free port) and loading models in the background. */
  listen(): Promise<{ port: number; url: string }>;
  /** Drains (see `PredictionService.shutdown`) and closes the HTTP server. */
  shutdown(): Promise<{ flushed: boolean }>;
}

export function createBackend(config: Config, deps: BackendDeps): Backend {
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  let service: PredictionService | undefined;
  const metrics = new BackendMetricsRegistry({ queueDepth: () => service?.queueDepth ?? 0, running: () => service?.runningCount ?? 0, status: () => service?.health().status ?? 'STARTING' });
  const store = deps.store ?? createS3OutputStore(config.s3);
  const callbacks = new CallbackDispatcher({ secret: config.internalSecret, ...config.callbacks, logger, metrics });
  service = new PredictionService({
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
  const app = createApp({ service, secret: config.internalSecret, ...(config.internalSecretPrevious === undefined ? {} : { previousSecret: config.internalSecretPrevious }), metricsToken: config.metricsToken, retryAfterS: config.retryAfterS, logger, metrics });
  let server: ReturnType<typeof serve> | undefined;
  const svc = service;

  return {
    app,
    service: svc,
    metrics,
    logger,
    async listen() {
      const info = await new Promise<AddressInfo>((resolve, reject) => {
        server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, resolve);
        server.once('error', reject);
      });
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      logger.info('listening', { port: info.port, host: info.address });
      void svc.start();
      return { port: info.port, url: `http://${host}:${info.port}` };
    },
    async shutdown() {
      const result = await svc.shutdown(config.drainTimeoutMs);
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
